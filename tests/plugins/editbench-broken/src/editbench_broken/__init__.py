"""Fails on import, as a plugin with a missing dependency would."""

import editbench_missing_dependency  # noqa: F401  (does not exist)
