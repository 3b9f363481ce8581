"""Model adapters: editors and judges behind the protocols in :mod:`editbench.models.base`.

Importing this package is cheap (no torch); adapters are imported on first use of the registry.
"""

from editbench.models.base import (
    Criterion,
    CriterionScore,
    Editor,
    EditRequest,
    Judge,
    JudgePrompt,
    JudgeRequest,
    JudgeResult,
    Outcome,
    load_editor,
    load_judge,
    register_editor,
    register_judge,
)

__all__ = [
    "Criterion",
    "CriterionScore",
    "EditRequest",
    "Editor",
    "Judge",
    "JudgePrompt",
    "JudgeRequest",
    "JudgeResult",
    "Outcome",
    "load_editor",
    "load_judge",
    "register_editor",
    "register_judge",
]
