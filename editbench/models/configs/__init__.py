"""Public architecture configs of the models editbench benchmarks, as package data.

Used by :mod:`editbench.models.capacity` to build full-size models with random weights
(capacity planning and GPU benchmarks) without downloading any weights. Keys starting with
``_`` (``_note``) are documentation and are dropped when a config is loaded.
"""
