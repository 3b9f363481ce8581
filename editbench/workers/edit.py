"""Edit one sample: claim it in the ledger, run the editor, store the image, record the outcome.

Never raises into Celery for a bad sample: every failure becomes a ledger row with a reason code,
so the category's chord barrier always fires and the run goes on.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.errors import FailureCode, MissingImageError, SampleError, adapter_failure_code
from editbench.models.base import EditRequest
from editbench.models.seeding import derive_seed
from editbench.queue.claimcheck import store_edited_image
from editbench.schema import ledger, queries
from editbench.schema.db import transact
from editbench.schema.models import Run, Sample, Status
from editbench.storage.backend import StorageUnavailableError
from editbench.layout import image_store
from editbench.workers.api_usage import UsageMeter
from editbench.workers.runtime import MODELS, heartbeat, worker_identity


@dataclass(frozen=True)
class EditTaskResult:
    """What the task returns (small, JSON): the chord body only needs to know it finished."""

    run_id: int
    sample_id: int
    status: str

    def as_dict(self) -> dict[str, object]:
        return {"run_id": self.run_id, "sample_id": self.sample_id, "status": self.status}


# Fault injection, for tests and drills only: a comma-separated list of sample external ids whose
# edit kills its own worker process (``os._exit(1)``, as a segfault or the kernel's OOM killer
# would) right after claiming it, every time it is delivered. Proves that a poison sample ends
# ``failed``/``attempts_exhausted`` after EDITBENCH_MAX_ATTEMPTS instead of looping forever.
# (An editor out-of-memory is injected through the editor's own ``simulate_oom_for`` parameter.)
def _crash_if_fault_injected(external_id: str) -> None:
    if external_id in load_settings().fault_crash_on:
        os._exit(1)


def edit_sample(run_id: int, sample_id: int, task_id: str) -> EditTaskResult:
    settings = load_settings()

    def claim(session: Session) -> tuple[ledger.Claim | None, Run | None, Sample | None]:
        taken = ledger.claim_edit(
            session, run_id, sample_id, task_id=task_id, worker=worker_identity(),
            lease_s=settings.lease_seconds, max_attempts=settings.max_attempts,
        )
        return taken, queries.get_run(session, run_id), queries.get_sample(session, sample_id)

    taken, run, sample = transact(claim)
    if taken is None or run is None or sample is None:
        return EditTaskResult(run_id, sample_id, "skipped")

    _crash_if_fault_injected(sample.external_id)
    started = time.perf_counter()
    seed = derive_seed(run.seed, sample.external_id)
    outcome: ledger.EditOutcome
    usage: ledger.UsageRecord | None = None
    with heartbeat(task_id):
        try:
            source = _load_source(sample)
            if not sample.instruction.strip():
                raise SampleError("the instruction is empty", code=FailureCode.EMPTY_INSTRUCTION)
            editor = MODELS.editor(run.editor_kind, run.editor_path, run.editor_params)
            meter = UsageMeter(editor)  # a served editor's requests/tokens/cost (workers/api_usage.py)
            try:
                edited = editor.edit(EditRequest(sample_id=sample.external_id, image=source, instruction=sample.instruction, seed=seed))
            finally:
                usage = meter.record(run_id=run_id, category_id=sample.category_id, task_id=task_id, worker=worker_identity())
            stored = store_edited_image(run_id, sample_id, edited)
            outcome = ledger.EditOutcome(Status.DONE, seed=seed, output_sha256=stored.sha256, output_path=stored.path)
        except StorageUnavailableError:
            # This host cannot reach the object store: not the sample's fault. Record nothing;
            # the claim's lease runs out and a host that can reach the store redoes the edit.
            return EditTaskResult(run_id, sample_id, "deferred")
        except Exception as exc:  # noqa: BLE001 - any model failure is this sample's failure
            code = adapter_failure_code(exc, default=FailureCode.EDITOR_ERROR)
            outcome = ledger.EditOutcome(Status.FAILED, seed=seed, error_code=code, error=_describe(exc))
    outcome = replace(outcome, duration_s=time.perf_counter() - started)

    def record(session: Session) -> None:
        ledger.record_edit(session, run_id, sample_id, task_id, outcome)
        if usage is not None:
            ledger.record_api_usage(session, usage)

    transact(record)
    return EditTaskResult(run_id, sample_id, outcome.status.value)


def _describe(exc: BaseException) -> str:
    """What the ledger says about a failure: our own per-sample errors speak for themselves; a
    foreign exception keeps its type name (``OutOfMemoryError: ...``) for whoever debugs it."""
    return str(exc) if type(exc) is SampleError else f"{type(exc).__name__}: {exc}"


def _load_source(sample: Sample) -> Image.Image:
    try:
        image = image_store().open(sample.source_sha256)
        image.load()
        return image.convert("RGB")
    except MissingImageError as exc:
        raise SampleError(str(exc), code=FailureCode.MISSING_FILE) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise SampleError(f"source image {sample.source_path} cannot be decoded: {exc}", code=FailureCode.CORRUPT_IMAGE) from exc
