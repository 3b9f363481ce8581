"""Edit one sample: claim it in the ledger, run the editor, store the image, record the outcome.

Never raises into Celery for a bad sample: every failure becomes a ledger row with a reason code,
so the category's chord barrier always fires and the run goes on.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.errors import (
    FailureCode,
    MissingImageError,
    ModelLoadError,
    SampleError,
    UnsupportedInputError,
    adapter_failure_code,
)
from editbench.layout import image_store
from editbench.models.base import EditRequest, InputImage, accepts_extra_images
from editbench.models.seeding import derive_seed
from editbench.queue.claimcheck import (
    StagedEdit,
    cache_edited_image,
    publish_edited_image,
    stage_edited_image,
)
from editbench.schema import ledger, queries
from editbench.schema.db import transact
from editbench.schema.models import Edit, Run, Sample, Status
from editbench.storage.backend import StorageUnavailableError
from editbench.workers.api_usage import UsageMeter
from editbench.workers.runtime import MODELS, PhaseTimes, heartbeat, worker_identity

log = logging.getLogger("editbench.worker")


@dataclass(frozen=True)
class EditTaskResult:
    """What the task returns (small, JSON): the chord body only needs to know it finished."""

    run_id: int
    sample_id: int
    status: str
    error_code: str | None = None

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
            session,
            run_id,
            sample_id,
            task_id=task_id,
            worker=worker_identity(),
            lease_s=settings.lease_seconds,
            max_attempts=settings.max_attempts,
        )
        return taken, queries.get_run(session, run_id), queries.get_sample(session, sample_id)

    phases = PhaseTimes()  # issue 15: per-phase host time, logged below
    with phases("claim"):
        taken, run, sample = transact(claim)
    if taken is None or run is None or sample is None:
        return EditTaskResult(run_id, sample_id, "skipped")

    _crash_if_fault_injected(sample.external_id)
    started = time.perf_counter()
    seed = derive_seed(run.seed, sample.external_id)
    outcome: ledger.EditOutcome
    staged: StagedEdit | None = None
    usage: ledger.UsageRecord | None = None
    with heartbeat(task_id):
        try:
            editor = MODELS.editor(run.editor_kind, run.editor_path, run.editor_params)
        except ModelLoadError as exc:
            return _stop_run(run_id, sample_id, task_id, exc)
        try:
            with phases("source"):
                source = _load_source(sample)
            if not sample.instruction.strip():
                raise SampleError("the instruction is empty", code=FailureCode.EMPTY_INSTRUCTION)
            extras = _load_extra_images(sample, editor)
            meter = UsageMeter(editor)  # a served editor's requests/tokens/cost (workers/api_usage.py)
            try:
                with phases("edit"):
                    edited = editor.edit(
                        EditRequest(
                            sample_id=sample.external_id, image=source, instruction=sample.instruction, seed=seed, extra_images=extras
                        )
                    )
            finally:
                usage = meter.record(run_id=run_id, category_id=sample.category_id, task_id=task_id, worker=worker_identity())
            with phases("store"):
                staged = stage_edited_image(run_id, sample_id, edited)
            outcome = ledger.EditOutcome(Status.DONE, seed=seed, output_sha256=staged.sha256, output_path=staged.path)
        except StorageUnavailableError:
            # This host cannot reach the object store: not the sample's fault. Record nothing;
            # the claim's lease runs out and a host that can reach the store redoes the edit.
            return EditTaskResult(run_id, sample_id, "deferred")
        except Exception as exc:  # noqa: BLE001 - any model failure is this sample's failure
            code = adapter_failure_code(exc, default=FailureCode.EDITOR_ERROR)
            outcome = ledger.EditOutcome(Status.FAILED, seed=seed, error_code=code, error=_describe(exc))
    outcome = replace(outcome, duration_s=time.perf_counter() - started)

    def record(session: Session) -> bool:
        # The artifact is published only inside the transaction that proves (and locks) the
        # claim, so a worker that lost it (stopped past its lease) overwrites nothing.
        if staged is not None:
            if not ledger.holds_edit_claim(session, run_id, sample_id, task_id):
                return False
            publish_edited_image(staged)
        wrote = ledger.record_edit(session, run_id, sample_id, task_id, outcome)
        if wrote and usage is not None:
            ledger.record_api_usage(session, usage)
        return wrote

    try:
        with phases("record"):
            wrote = transact(record)
    except StorageUnavailableError:  # publishing failed: as above, the lease hands the edit on
        return EditTaskResult(run_id, sample_id, "deferred")
    if staged is not None and wrote:
        cache_edited_image(staged)
    if not wrote:
        log.warning("edit of sample %s (run %s) finished after its claim was lost; nothing written", sample_id, run_id)
        return EditTaskResult(run_id, sample_id, "fenced")
    log.info("edit %s of run %s %s: %s", sample.external_id, run_id, outcome.status.value, phases.describe())
    return EditTaskResult(run_id, sample_id, outcome.status.value, None if outcome.error_code is None else str(outcome.error_code))


def _stop_run(run_id: int, sample_id: int, task_id: str, exc: ModelLoadError) -> EditTaskResult:
    """The editor cannot be loaded here: stop the run with that one reason and hand the claim
    back unspent, instead of failing this sample and every other one the same way."""

    def stop(session: Session) -> None:
        ledger.release_claims(session, Edit, run_id, task_id)
        ledger.stop_run(session, run_id, str(exc))

    transact(stop)
    log.error("run %s stopped: %s", run_id, exc)
    return EditTaskResult(run_id, sample_id, "stopped")


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


def _load_extra_images(sample: Sample, editor: object) -> tuple[InputImage, ...]:
    """A multi-image sample's other inputs, labelled; refused up front for a one-image editor
    (recorded as ``unsupported_input``) so no editor ever edits the source alone in silence."""
    extras = queries.extra_images(sample)
    if not extras:
        return ()
    if not accepts_extra_images(editor):
        raise UnsupportedInputError(
            f"this sample has {len(extras)} extra input image(s) "
            f"({', '.join(repr(extra.label) for extra in extras)}) and editor "
            f"{getattr(editor, 'name', type(editor).__name__)!r} edits one image"
        )
    store = image_store()
    loaded = []
    for extra in extras:
        try:
            image = store.open(extra.sha256)
            image.load()
        except MissingImageError as exc:
            raise SampleError(str(exc), code=FailureCode.MISSING_FILE) from exc
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise SampleError(
                f"extra image {extra.label!r} ({extra.path}) cannot be decoded: {exc}", code=FailureCode.CORRUPT_IMAGE
            ) from exc
        loaded.append(InputImage(extra.label, image.convert("RGB")))
    return tuple(loaded)
