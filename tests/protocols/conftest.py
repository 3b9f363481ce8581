"""Fixtures for the official-protocol tests: synthetic official checkouts and the shared real-format data.

A synthetic checkout has the official repository's file layout (the files and variable names the
loaders read) but our own placeholder texts, never the benchmarks' prompts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def realdata_root() -> Path | None:
    """shared/realdata: beside the repository (../shared/realdata) or inside it."""
    for candidate in (ROOT / "shared" / "realdata", ROOT.parent / "shared" / "realdata", ROOT.parents[1] / "shared" / "realdata"):
        if (candidate / "SOURCES.md").is_file():
            return candidate
    return None


@pytest.fixture
def realdata() -> Path:
    root = realdata_root()
    if root is None:
        pytest.skip("shared/realdata (real-format fixtures) is not present beside this checkout")
    return root


def _py(assignments: dict[str, str]) -> str:
    return "".join(f"{name} = {text!r}\n\n" for name, text in assignments.items())


GEDIT_FILES = {
    "GEdit-Bench/viescore/vie_prompts.py": _py(
        {
            "_context_no_delimit": 'PLACEHOLDER CONTEXT. Reply as\n{\n"score" : [...],\n"reasoning" : "..."\n}',
            "_prompts_0shot_two_image_edit_rule": "PLACEHOLDER TWO-IMAGE RULE.",
            "_prompts_0shot_tie_rule_SC": "PLACEHOLDER SC RULE, two scores.\nEditing instruction: <instruction>\n",
            "_prompts_0shot_rule_PQ": "PLACEHOLDER PQ RULE, two scores.",
            "_prompts_0shot_t2i_rule_SC": "UNUSED PLACEHOLDER <prompt>",
        }
    ),
    "GEdit-Bench/calculate_statistics.py": "# placeholder\n",
}
KRIS_FILES = {
    "metrics_common.py": "from utils.prompts import (\n    prompt_consist,\n)\n",
    "utils/prompts.py": _py(
        {
            "prompt_consist": 'PLACEHOLDER CONSISTENCY for "{instruct}". Output:\n{{\n  "consistency_score": X\n}}',
            "prompt_quality": 'PLACEHOLDER QUALITY. Output:\n{{\n  "quality_score": X\n}}',
            "prompt_instruction_following": 'PLACEHOLDER INSTRUCTION for "{instruct}".\n{{"instruction_score": X}}',
            "prompt_abnormal_instruction_following": "PLACEHOLDER ABNORMAL {instruct} {explanation}",
            "prompt_dual_evaluation": 'PLACEHOLDER DUAL for {instruct}; hint: {explanation}\n{{"instruction_score": X, "knowledge_score": X}}',
            "prompt_view_instruction_following": "PLACEHOLDER VIEW for {instruct} with a ground-truth view.",
        }
    ),
}
RISE_PROMPTS = {
    name: f"PLACEHOLDER {name}: instruction {{instruct}}"
    + (
        ", reference {reference}"
        if "ref" in name or name in ("prompt_reasoning", "prompt_reasoning_w_input", "prompt_logical_cons_ans", "prompt_logical_txt")
        else ""
    )
    + "\nFinal Score: <n>"
    for name in (
        "prompt_consist",
        "prompt_spatial_cons",
        "prompt_logical_cons_ans",
        "prompt_logical_cons",
        "prompt_reasoning",
        "prompt_reasoning_w_input",
        "prompt_spatial_ref",
        "prompt_spatial_ref_w_input",
        "prompt_logical_txt",
        "prompt_logical_img",
        "prompt_spatial_ref_img",
    )
}
RISE_PROMPTS["prompt_spatial_ref_img"] = "PLACEHOLDER prompt_spatial_ref_img: instruction {instruct}\nFinal Score: <n>"
for unformatted in ("prompt_generation", "prompt_spatial_qual", "prompt_logical_img_wo_q"):
    RISE_PROMPTS[unformatted] = f"PLACEHOLDER {unformatted}, sent as written: {{literal braces}}\nFinal Score: <n>"
RISE_FILES = {"gpt_eval.py": "# placeholder\n", "utils.py": "import json\n\n" + _py(RISE_PROMPTS)}
IMGEDIT_FILES = {
    "Benchmark/Basic/prompts.json": json.dumps(
        {
            edit_type: (
                f"PLACEHOLDER RUBRIC for {edit_type} edits; JSON braces {{kept}}.\n"
                "Example Response Format:\nBrief reasoning: short.\n"
                + "".join(f"{name}: A number from 1 to 5.\n" for name in names)
                + "editing instruction is : <edit_prompt>.\n"
            )
            for edit_type, names in {
                "replace": ("Prompt Compliance", "Visual Naturalness", "Physical & Detail Integrity"),
                "add": ("Prompt Compliance", "Visual Naturalness", "Physical & Detail Coherence"),
                "adjust": ("Prompt Compliance", "Visual Seamlessness", "Physical & Detail Fidelity"),
                "remove": ("Prompt Compliance", "Visual Naturalness", "Physical & Detail Integrity"),
                "style": ("Style Fidelity", "Content Preservation", "Rendering Quality"),
                "action": ("Action Fidelity", "Identity Preservation", "Visual & Anatomical Coherence"),
                "extract": ("Object Identity", "Mask Precision", "Visual Quality"),
                "background": ("Instruction Compliance", "Visual Seamlessness", "Physical Consistency"),
                "compose": ("Instruction Compliance", "Visual Naturalness", "Physical Consistency & Fine Detail"),
            }.items()
        },
        indent=1,
    ),
}
CHECKOUTS = {"gedit": GEDIT_FILES, "kris": KRIS_FILES, "rise": RISE_FILES, "imgedit": IMGEDIT_FILES}


@pytest.fixture
def official_checkout(tmp_path: Path) -> Callable[..., Path]:
    """``official_checkout(kind, without=())``: a synthetic checkout, optionally missing some files."""

    def build(kind: str, without: tuple[str, ...] = ()) -> Path:
        root = tmp_path / f"checkout-{kind}"
        root.mkdir(parents=True, exist_ok=True)
        for relative, text in CHECKOUTS[kind].items():
            if relative in without:
                continue
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    return build
