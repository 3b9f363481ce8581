"""ImgEdit's official protocol: ``Benchmark/Basic/prompts.json`` (PKU-YuanGroup/ImgEdit) and its two steps.

Prompts: one per edit type, asking three 1-5 scores at once (source and edited image);
``<edit_prompt>`` is the instruction. The three criteria are read from the prompt's own
``Example Response Format`` lines (``Prompt Compliance: A number from 1 to 5.``), so they always
match what the judge is asked.

Table: ``step1_get_avgscore.py`` averages, per item, every line of the answer of the form
``<name>: <digits>`` (rounded to 2 decimals); ``step2_typescore.py`` averages those per edit type
(rounded to 2 decimals). editbench adds an ``Overall`` row (the mean of the edit-type scores,
which the paper reports and the scripts do not compute).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from editbench.protocols.base import (
    OfficialPrompt,
    OfficialRepoError,
    OfficialScoring,
    OfficialTable,
    Protocol,
    TableRow,
    checkout_commit,
    from_marker_template,
    require_file,
    slug,
)
from editbench.records import Criterion

REPOSITORY = "PKU-YuanGroup/ImgEdit"
PROMPTS_FILE = "Benchmark/Basic/prompts.json"
SCRIPTS = ("Benchmark/Basic/basic_bench.py", "Benchmark/Basic/step1_get_avgscore.py", "Benchmark/Basic/step2_typescore.py")
_FORMAT_HEAD = re.compile(r"Example Response Format:?", re.IGNORECASE)
_SCORE_LINE = re.compile(r"^\s*([^:\n]+?):\s*A number from (\d+) to (\d+)", re.IGNORECASE)


def response_criteria(prompt: str, edit_type: str) -> tuple[str, ...]:
    """The criteria a prompt asks for, from its ``Example Response Format`` section."""
    head = _FORMAT_HEAD.search(prompt)
    lines = prompt[head.end() :].splitlines() if head else prompt.splitlines()
    names = tuple(slug(m.group(1)) for m in (_SCORE_LINE.match(line) for line in lines) if m)
    if not names:
        raise OfficialRepoError(f"{PROMPTS_FILE}: the {edit_type!r} prompt lists no '<criterion>: A number from 1 to 5' lines")
    return names


def load(checkout: Path) -> OfficialScoring:
    checkout = Path(checkout)
    path = require_file(checkout, PROMPTS_FILE, "ImgEdit", REPOSITORY)
    try:
        prompts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OfficialRepoError(f"cannot read {path}: {exc}") from exc
    if not isinstance(prompts, dict) or not all(isinstance(v, str) for v in prompts.values()):
        raise OfficialRepoError(f"{path}: expected an object mapping each edit type to its prompt text")
    official: dict[str, tuple[OfficialPrompt, ...]] = {}
    category_criteria: dict[str, tuple[str, ...]] = {}
    criteria: dict[str, str] = {}
    for edit_type, text in prompts.items():
        names = response_criteria(text, edit_type)
        category_criteria[edit_type] = names
        for name in names:
            criteria.setdefault(name, f"ImgEdit criterion {name!r} (1-5), as named in prompts.json.")
        official[edit_type] = (
            OfficialPrompt(
                edit_type,
                names,
                from_marker_template(text, {"<edit_prompt>": "instruction"}),
                ("source", "edited"),
                f"{PROMPTS_FILE}: {edit_type!r}",
            ),
        )
    if "adjust" in official and "alter" not in official:
        official["alter"] = official["adjust"]  # older copies of basic_edit.json say "alter"
        category_criteria["alter"] = category_criteria["adjust"]
    return OfficialScoring(
        benchmark="ImgEdit",
        repository=REPOSITORY,
        checkout=checkout,
        commit=checkout_commit(checkout),
        criteria=tuple(Criterion(name, text) for name, text in criteria.items()),
        score_min=1,
        score_max=5,
        overall="weighted_mean",
        prompts=official,
        category_criteria=category_criteria,
    )


# --- answers -------------------------------------------------------------------------------


def parse_answer(answer: str) -> float | None:
    """The item score: the mean of every ``<name>: <digits>`` line, rounded to 2 decimals
    (``step1_get_avgscore.extract_scores_and_average``); None when there is none."""
    scores = []
    for line in answer.splitlines():
        parts = line.strip().split(": ")
        if len(parts) == 2 and parts[1].isdigit():
            scores.append(int(parts[1]))
    return round(sum(scores) / len(scores), 2) if scores else None


@dataclass(frozen=True)
class ImgEditSample:
    key: str
    edit_type: str
    answer: str


def aggregate(samples: Iterable[ImgEditSample]) -> OfficialTable:
    """One row per edit type (first-seen order), the rounded mean of rounded item scores, then ``Overall``."""
    by_type: dict[str, list[float]] = {}
    for sample in samples:
        score = parse_answer(sample.answer)
        if score is not None:
            by_type.setdefault(sample.edit_type, []).append(score)
    rows = [TableRow(t, {"score": round(sum(v) / len(v), 2)}, len(v)) for t, v in by_type.items() if v]
    overall = sum(r.values["score"] for r in rows) / len(rows) if rows else None  # type: ignore[misc]
    rows.append(TableRow("Overall", {"score": overall}, sum(r.count for r in rows)))
    return OfficialTable(
        "ImgEdit",
        ("score",),
        {"edit_types": tuple(rows)},
        notes=("Overall is editbench's mean of the edit-type scores; step2_typescore.py writes only the per-type scores.",),
    )


def samples_from_result(result: Mapping[str, str], meta: Mapping[str, Mapping[str, object]]) -> list[ImgEditSample]:
    """Samples from ``result.json`` (key -> answer) and ``basic_edit.json`` (key -> {edit_type, ...}),
    as the two steps join them: keys without an edit type are left out, as step 2 does."""
    samples = []
    for key, answer in result.items():
        edit_type = (meta.get(key) or {}).get("edit_type")
        if isinstance(edit_type, str) and isinstance(answer, str):
            samples.append(ImgEditSample(key, edit_type, answer))
    return samples


PROTOCOL = Protocol(
    kind="imgedit",
    benchmark="ImgEdit",
    repository=REPOSITORY,
    files=(PROMPTS_FILE,),
    load=load,
    aggregate=aggregate,
    scripts=SCRIPTS,
)
