"""Edit one sample: claim it in the ledger, run the editor, store the image, record the outcome.

Never raises into Celery for a bad sample: every failure becomes a ledger row with a reason code,
so the category's chord barrier always fires and the run goes on.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from editbench.benchmark.store import MissingImageError
from editbench.config import load_settings
from editbench.models.base import EditRequest
from editbench.models.seeding import derive_seed
from editbench.schema import ledger
from editbench.schema.db import transact
from editbench.schema.models import Run, Sample, Status
from editbench.storage.backend import StorageUnavailableError
from editbench.storage.images import image_store
from editbench.workers.imagecache import store_edited_image
from editbench.workers.runtime import MODELS, heartbeat, worker_identity


@dataclass(frozen=True)
class EditTaskResult:
    """What the task returns (small, JSON): the chord body only needs to know it finished."""

    run_id: int
    sample_id: int
    status: str

    def as_dict(self) -> dict[str, object]:
        return {"run_id": self.run_id, "sample_id": self.sample_id, "status": self.status}


class SampleError(Exception):
    """A per-sample problem with a reason code (recorded, never retried)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Fault injection, for tests and drills only: a comma-separated list of sample external ids whose
# edit kills its own worker process (``os._exit(1)``, as a segfault or the kernel's OOM killer
# would) right after claiming it, every time it is delivered. Proves that a poison sample ends
# ``failed``/``attempts_exhausted`` after EDITBENCH_MAX_ATTEMPTS instead of looping forever.
# (An editor out-of-memory is injected through the editor's own ``simulate_oom_for`` parameter.)
FAULT_CRASH_ON_ENV = "EDITBENCH_FAULT_CRASH_ON"


def _crash_if_fault_injected(external_id: str) -> None:
    targets = {s.strip() for s in os.environ.get(FAULT_CRASH_ON_ENV, "").split(",") if s.strip()}
    if external_id in targets:
        os._exit(1)


def _is_oom(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name in ("OutOfMemoryError", "EditOOMError") or "out of memory" in str(exc).lower()


def _error_code(exc: BaseException) -> str:
    if _is_oom(exc):
        return "oom"
    # The precomputed editor refusing a file that would lead outside its folder: a security
    # event, so it gets its own reason code rather than the generic one.
    if type(exc).__name__ == "UnsafeSampleIdError":
        return "unsafe_path"
    return "editor_error"


def edit_sample(run_id: int, sample_id: int, task_id: str) -> EditTaskResult:
    settings = load_settings()

    def claim(session: Session) -> tuple[ledger.Claim | None, Run | None, Sample | None]:
        taken = ledger.claim_edit(
            session, run_id, sample_id, task_id=task_id, worker=worker_identity(),
            lease_s=settings.lease_seconds, max_attempts=settings.max_attempts,
        )
        return taken, session.get(Run, run_id), session.get(Sample, sample_id)

    taken, run, sample = transact(claim)
    if taken is None or run is None or sample is None:
        return EditTaskResult(run_id, sample_id, "skipped")

    _crash_if_fault_injected(sample.external_id)
    started = time.perf_counter()
    seed = derive_seed(run.seed, sample.external_id)
    outcome: ledger.EditOutcome
    with heartbeat(task_id):
        try:
            source = _load_source(sample)
            if not sample.instruction.strip():
                raise SampleError("empty_instruction", "the instruction is empty")
            editor = MODELS.editor(run.editor_kind, run.editor_path, run.editor_params)
            edited = editor.edit(EditRequest(sample_id=sample.external_id, image=source, instruction=sample.instruction, seed=seed))
            stored = store_edited_image(run_id, sample_id, edited)
            outcome = ledger.EditOutcome(Status.DONE, seed=seed, output_sha256=stored.sha256, output_path=stored.path)
        except StorageUnavailableError:
            # This host cannot reach the object store: not the sample's fault. Record nothing;
            # the claim's lease runs out and a host that can reach the store redoes the edit.
            return EditTaskResult(run_id, sample_id, "deferred")
        except SampleError as exc:
            outcome = ledger.EditOutcome(Status.FAILED, seed=seed, error_code=exc.code, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - any model failure is this sample's failure
            code = _error_code(exc)
            outcome = ledger.EditOutcome(Status.FAILED, seed=seed, error_code=code, error=f"{type(exc).__name__}: {exc}")
    outcome = ledger.EditOutcome(**{**outcome.__dict__, "duration_s": time.perf_counter() - started})
    transact(lambda session: ledger.record_edit(session, run_id, sample_id, task_id, outcome))
    return EditTaskResult(run_id, sample_id, outcome.status.value)


def _load_source(sample: Sample) -> Image.Image:
    try:
        image = image_store().open(sample.source_sha256)
        image.load()
        return image.convert("RGB")
    except MissingImageError as exc:
        raise SampleError("missing_file", str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise SampleError("corrupt_image", f"source image {sample.source_path} cannot be decoded: {exc}") from exc
