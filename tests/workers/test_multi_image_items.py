"""Multi-image items end to end: imported KRIS-Bench composition and temporal items keep every input
image through ingest (ledger rows on SQLite and PostgreSQL), the edit task hands them, labelled,
to a multi-image editor (tiny ``qwen-image-edit-plus``, real weights-free model) and the judge task
shows them to the judge; a one-image editor records ``unsupported_input`` for that sample only.

The Celery task functions run in this process (``Task.apply``), as in test_tasks_in_process.py;
the same functions run in real worker processes in tests/integration.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from editbench.errors import FailureCode
from editbench.importers import run_import
from editbench.models.base import (
    CriterionScore,
    JudgeRequest,
    JudgeResult,
    Outcome,
    register_judge,
)
from editbench.producer.ingest import ingest
from editbench.producer.submit import ModelRef, RunRequest, create_run
from editbench.schema import queries
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Sample, Status
from tests.protocols.conftest import realdata_root

FAST = {"steps": "2", "working_area": "64*64"}
SEEN: list[JudgeRequest] = []


@register_judge("test-recording-judge")
class RecordingJudge:
    """A judge adapter that keeps every request it is given (this process only) and scores 3."""

    name = "test-recording-judge"

    def __init__(self, path: str | None = None, **params: object) -> None:
        pass

    def identity(self) -> dict[str, object]:
        return {"name": self.name}

    def score(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        SEEN.extend(requests)
        return [JudgeResult(r.key, [CriterionScore(c.name, Outcome.DONE, score=3.0) for c in r.criteria]) for r in requests]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def kris_multi(tmp_path: Path) -> Path:
    root = realdata_root()
    if root is None:
        pytest.skip("shared/realdata (real-format fixtures) is not present beside this checkout")
    source = tmp_path / "KRIS_Bench"
    for category in ("multi-element_composition", "temporal_prediction", "physics"):
        shutil.copytree(root / "kris" / "KRIS_Bench" / category, source / category)
    dest = tmp_path / "kris"
    report = run_import("kris", source, dest, on_skip=lambda *_: None)
    assert report.skipped == []
    return dest


def _samples() -> dict[str, Sample]:
    with session_scope() as s:
        return {sample.external_id: sample for sample in s.scalars(select(Sample))}


def test_ingest_keeps_extra_images_in_order_with_labels_and_hashes(db_url: str, kris_multi: Path) -> None:
    ingest(kris_multi)
    samples = _samples()
    temporal = queries.extra_images(samples["temporal_prediction_1"])
    assert [(e.label, Path(e.path).name) for e in temporal] == [("frame 3", "1-3.jpg"), ("frame 4", "1-4.jpg")]
    assert all(len(e.sha256) == 64 for e in temporal)
    assert samples["temporal_prediction_1"].reference_sha256  # gt_img stays the reference
    assert [e.label for e in queries.extra_images(samples["multi-element_composition_21"])] == [
        "image 2",
        "image 3",
        "image 4",
    ]
    assert queries.extra_images(samples["physics_1"]) == () and samples["physics_1"].extra_images is None


def _run(editor: ModelRef, monkeypatch: pytest.MonkeyPatch, category: str) -> int:
    monkeypatch.setenv("EDITBENCH_BROKER_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    return create_run(
        RunRequest(
            benchmark="kris-bench",
            categories=[category],
            editor=editor,
            judge=ModelRef("test-recording-judge", None, {}),
            judge_batch_size=8,
        )
    )


def _edit_all(run_id: int) -> dict[str, Edit]:
    from editbench.workers.tasks import edit_sample

    with session_scope() as s:
        pairs = [(e.sample_id, e.sample.external_id) for e in s.scalars(select(Edit).where(Edit.run_id == run_id))]
    for sample_id, _ in pairs:
        edit_sample.apply(args=(run_id, sample_id), task_id=f"edit-{sample_id}").get(
            propagate=False
        )  # a failed sample ends FAILURE, after recording
    with session_scope() as s:
        return {e.sample.external_id: e for e in s.scalars(select(Edit).where(Edit.run_id == run_id))}


def test_a_multi_image_editor_edits_with_every_input_and_the_judge_sees_them_labelled(
    sqlite_db: str, kris_multi: Path, tiny_models, monkeypatch: pytest.MonkeyPatch
) -> None:
    from editbench.queue.app import app
    from editbench.workers.tasks import score_category

    ingest(kris_multi)
    run_id = _run(ModelRef("qwen-image-edit-plus", str(tiny_models.editor), FAST), monkeypatch, "temporal_prediction")
    edits = _edit_all(run_id)
    assert {name: e.status for name, e in edits.items()} == {
        "temporal_prediction_1": Status.DONE,
        "temporal_prediction_16": Status.DONE,
    }
    SEEN.clear()
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    category_id = next(iter(edits.values())).category_id
    score_category.apply(args=(None, run_id, category_id), task_id="score-1").get()
    by_key = {r.key: r for r in SEEN}
    samples = _samples()
    request = by_key[str(samples["temporal_prediction_16"].id)]
    assert [e.label for e in request.extra_images] == ["frame 3", "frame 4"]
    assert request.extra_images[0].image.size == request.source_image.size  # decoded from the store
    assert request.reference_image is not None
    with session_scope() as s:
        judged = list(s.scalars(select(Judgment).where(Judgment.run_id == run_id)))
    assert judged and {j.status for j in judged} == {Status.DONE}


@pytest.mark.parametrize("editor", ["qwen-image-edit", "simulated"])
def test_a_one_image_editor_records_unsupported_input_for_multi_image_samples_only(
    sqlite_db: str, kris_multi: Path, tiny_models, monkeypatch: pytest.MonkeyPatch, editor: str
) -> None:
    ingest(kris_multi)
    ref = (
        ModelRef("qwen-image-edit", str(tiny_models.editor), FAST)
        if editor == "qwen-image-edit"
        else ModelRef("simulated", None, {"median_s": "0", "sigma": "0"})
    )
    run_id = _run(ref, monkeypatch, "multi-element_composition")
    edits = _edit_all(run_id)
    assert len(edits) == 4
    for edit in edits.values():
        assert (edit.status, edit.error_code) == (Status.FAILED, FailureCode.UNSUPPORTED_INPUT)
        assert "extra input image" in edit.error and "'image 2'" in edit.error
    with session_scope() as s:
        judged = {j.status for j in s.scalars(select(Judgment).where(Judgment.run_id == run_id))}
    assert judged == {Status.MISSING}
