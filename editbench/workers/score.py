"""Score a category: plan judge batches once its edits are final, then judge each batch.

Edited images are read back from Redis (claim check); results go through the ledger. Judge
outcomes map one to one onto ledger states, so a parse error or refusal is recorded as such and
never turned into a number.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.errors import FailureCode, ModelLoadError
from editbench.layout import image_store
from editbench.models.base import (
    Criterion,
    InputImage,
    JudgePrompt,
    JudgeRequest,
    Outcome,
    ProtocolQuestion,
    ProtocolQuestions,
)
from editbench.protocols import judging
from editbench.queue.claimcheck import load_edited_image
from editbench.schema import ledger, queries
from editbench.schema.db import transact
from editbench.schema.models import Judgment, RunStatus, Status
from editbench.storage.backend import StorageUnavailableError
from editbench.workers.api_usage import ScoredBatch, score_batch
from editbench.workers.runtime import (
    MODELS,
    heartbeat,
    one_model_at_a_time,
    worker_identity,
)

log = logging.getLogger("editbench.worker")

_OUTCOME_STATUS = {
    Outcome.DONE: Status.DONE,
    Outcome.FAILED: Status.FAILED,
    Outcome.PARSE_ERROR: Status.PARSE_ERROR,
    Outcome.REFUSAL: Status.REFUSAL,
}


@dataclass(frozen=True)
class JudgePlan:
    """``batches`` is None while the barrier is not met: some edit of the category is open or,
    with one model resident at a time, some edit of the run (judging then waits for the whole
    edit phase, so each worker switches from editor to judge once, never per batch)."""

    batches: list[list[int]] | None


def plan_category_scoring(run_id: int, category_id: int) -> JudgePlan:
    # Through ``transact``: this runs as the chord body, and a body that raised on a database
    # blip would be lost (the category left unscored until a sweeper noticed).
    def plan(session: Session) -> JudgePlan:
        run = queries.get_run(session, run_id)
        if run is None or run.status == RunStatus.STOPPED:
            return JudgePlan([])  # ``resume`` sends a new chord (and body) when it restarts the run
        everything = queries.run_progress(session, run_id)
        progress = next((p for p in everything if p.category_id == category_id), None)
        if progress is None:
            return JudgePlan([])
        if not progress.edits_finished:
            return JudgePlan(None)
        run = queries.get_run(session, run_id)
        # (a judge served over HTTP shares no card with the editor: no reason to wait for all edits)
        served_judge = run is not None and run.judge_placement == "cpu"
        if one_model_at_a_time() and not served_judge and not all(p.edits_finished for p in everything):
            return JudgePlan(None)
        pending = queries.pending_judgment_samples(session, run_id, category_id)
        ledger.finish_run_if_complete(session, run_id)
        size = max(1, run.judge_batch_size if run else 8)
        return JudgePlan([pending[i : i + size] for i in range(0, len(pending), size)])

    return transact(plan)


@dataclass(frozen=True)
class JudgeBatchResult:
    run_id: int
    category_id: int
    judged: int
    failed: int = 0  # judgments of the batch recorded ``failed`` (judge crash, OOM, unreadable image)

    def as_dict(self) -> dict[str, int]:
        return {"run_id": self.run_id, "category_id": self.category_id, "judged": self.judged}


@dataclass(frozen=True)
class _BatchContext:
    """Everything about a claimed batch that is read from the ledger once."""

    requests: list[JudgeRequest]
    failures: dict[int, tuple[FailureCode, str]]  # sample id -> (error code, message)
    criteria: tuple[Criterion, ...]
    prompt: JudgePrompt
    judge_spec: tuple[str, str | None, dict]


def judge_samples(run_id: int, category_id: int, sample_ids: Sequence[int], task_id: str) -> JudgeBatchResult:
    settings = load_settings()
    claimed = transact(
        lambda session: ledger.claim_judgments(
            session,
            run_id,
            sample_ids,
            task_id=task_id,
            worker=worker_identity(),
            lease_s=settings.lease_seconds,
            max_attempts=settings.max_attempts,
        )
    )
    if not claimed:
        return JudgeBatchResult(run_id, category_id, 0)

    with heartbeat(task_id):
        try:
            batch = _prepare_batch(run_id, category_id, claimed)
        except StorageUnavailableError:
            # As for edits: leave the claims to their lease; a host that reaches the store judges them.
            return JudgeBatchResult(run_id, category_id, 0)
        results: list = []
        identity = None
        scored = ScoredBatch([])
        started = time.perf_counter()
        if batch.requests:
            try:
                judge = MODELS.judge(*batch.judge_spec)
            except ModelLoadError as exc:
                return _stop_run(run_id, category_id, task_id, exc)
            try:
                # Usage and the run's budget for served judges: workers/api_usage.py
                scored = score_batch(
                    judge, batch.requests, run_id=run_id, category_id=category_id, task_id=task_id, worker=worker_identity()
                )
                results = scored.results
                identity = _identity_hash(judge.identity())
            except Exception as exc:  # noqa: BLE001 - a judge crash fails the batch, visibly
                batch.failures.update({int(r.key): (FailureCode.JUDGE_ERROR, f"{type(exc).__name__}: {exc}") for r in batch.requests})
                results = []
        per_sample = (time.perf_counter() - started) / max(len(batch.requests), 1)

    def record(session: Session) -> None:
        for result in results:
            outcomes = [
                ledger.JudgmentOutcome(
                    criterion=s.criterion,
                    status=_OUTCOME_STATUS[s.outcome],
                    score=s.score,
                    confidence=s.confidence,
                    reasoning=s.reasoning,
                    raw_output=s.raw_output,
                    error_code=s.error_code,
                    error=s.error,
                    judge_identity=identity,
                    prompt_version=batch.prompt.version,
                    duration_s=per_sample,
                )
                for s in result.scores
            ]
            ledger.record_judgments(session, run_id, int(result.key), task_id, outcomes)
        for sample_id, (code, error) in batch.failures.items():
            failed = [ledger.JudgmentOutcome(c.name, Status.FAILED, error_code=code, error=error) for c in batch.criteria]
            ledger.record_judgments(session, run_id, sample_id, task_id, failed)
        if scored.usage is not None:
            ledger.record_api_usage(session, scored.usage)
        ledger.release_unstarted_judgments(  # budget reached: back to pending for `resume`
            session,
            run_id,
            scored.unjudged,
            task_id,
            code=FailureCode.BUDGET_EXHAUSTED.value,
            reason=f"judging stopped: {scored.stopped}",
        )
        ledger.fail_unanswered_judgments(session, run_id, task_id)
        ledger.finish_run_if_complete(session, run_id)

    transact(record)
    failed = sum(1 for result in results for s in result.scores if _OUTCOME_STATUS[s.outcome] == Status.FAILED)
    failed += len(batch.failures) * len(batch.criteria)
    return JudgeBatchResult(run_id, category_id, len(results), failed)


def _stop_run(run_id: int, category_id: int, task_id: str, exc: ModelLoadError) -> JudgeBatchResult:
    """The judge cannot be loaded here: stop the run with that one reason and hand the batch's
    claims back unspent, instead of failing every judgment of the run with it."""

    def stop(session: Session) -> None:
        ledger.release_claims(session, Judgment, run_id, task_id)
        ledger.stop_run(session, run_id, str(exc))

    transact(stop)
    log.error("run %s stopped: %s", run_id, exc)
    return JudgeBatchResult(run_id, category_id, 0)


def _prepare_batch(run_id: int, category_id: int, sample_ids: list[int]) -> _BatchContext:
    """Read the rubric and images of the claimed samples; an unreadable image fails its sample."""

    # Through ``transact``: a database blip here must delay the batch, not fail its claim.
    inputs = transact(lambda session: queries.judge_inputs(session, run_id, category_id, sample_ids))
    criteria, scale = inputs.criteria, inputs.scale
    prompt = JudgePrompt(inputs.prompt_text, inputs.prompt_version)
    judge_spec = (inputs.judge_kind, inputs.judge_path, inputs.judge_params)
    store = image_store()
    requests, failures = [], {}
    for sample, edit in inputs.pairs:
        try:
            reference = store.open(sample.reference_sha256).convert("RGB") if sample.reference_sha256 else None
            requests.append(
                JudgeRequest(
                    key=str(sample.id),
                    source_image=store.open(sample.source_sha256).convert("RGB"),
                    edited_image=load_edited_image(run_id, sample.id, edit.output_path, edit.output_sha256),
                    instruction=sample.instruction,
                    prompt=prompt,
                    criteria=criteria,
                    scale_min=scale[0],
                    scale_max=scale[1],
                    reference_text=sample.reference_text,
                    reference_image=reference,
                    extra_images=tuple(
                        InputImage(extra.label, store.open(extra.sha256).convert("RGB")) for extra in queries.extra_images(sample)
                    ),
                    protocol=_official_questions(inputs, sample.external_id, criteria),
                )
            )
        except StorageUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - an unreadable image fails this sample only
            failures[sample.id] = (FailureCode.IMAGE_UNREADABLE, f"{type(exc).__name__}: {exc}")
    return _BatchContext(requests, failures, criteria, prompt, judge_spec)


def _official_questions(inputs: queries.JudgeInputs, item_id: str, criteria: tuple[Criterion, ...]) -> ProtocolQuestions | None:
    """Protocol mode, for a benchmark imported with its official protocol: the official
    questions this item is asked, with the benchmark's own parser for their answers."""
    if not inputs.protocol:
        return None
    kind, category = str(inputs.protocol["kind"]), inputs.category_name
    asked, not_asked = judging.item_questions(inputs.protocol, category, item_id, tuple(c.name for c in criteria))
    return ProtocolQuestions(
        kind=kind,
        questions=tuple(ProtocolQuestion(q.name, JudgePrompt(q.text, q.version), q.criteria, q.images) for q in asked),
        parse=judging.answer_parser(kind, category, asked),
        simulate=judging.answer_writer(kind, category),
        not_asked=not_asked,
    )


def _identity_hash(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
