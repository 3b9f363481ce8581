"""Submit-time model preparation: what PATH means, where the judge runs, and whether a served
model can serve the run — decided before anything is recorded.

Three things an adapter may declare (see :func:`editbench.models.base.adapter_trait`):

- ``path_is_model_name``: ``openai:gpt-4.1`` names a model on a server; PATH is passed verbatim.
  Every other PATH is a local folder and is resolved to an absolute path (workers run elsewhere).
- ``runs_on = "cpu"``: the adapter needs no accelerator. Its judge batches are routed to the CPU
  judge queue (recorded with the run as its ``judge_placement``), and it is built here — cheap,
  no weights — so its construction refuses a missing key or a bad parameter, and its ``check()``
  probes the server (reachable, key accepted, model known, logprobs in logits mode).
- parameters are recorded in the ledger and the run card, so a parameter whose value carries
  credentials (``user:password@`` or ``?key=`` in a URL) is refused: such a URL belongs in the
  workers' environment (``EDITBENCH_OPENAI_BASE_URL``), where it is never recorded.

Every refusal is a :class:`RunConfigError` with one line naming the option.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from editbench.config import redact
from editbench.errors import (
    ConfigurationError,
    PluginLoadError,
    RunConfigError,
    UnknownModelError,
)
from editbench.models.base import adapter_factory, adapter_trait

if TYPE_CHECKING:
    from editbench.producer.submit import ModelRef, RunRequest

GPU, CPU = "gpu", "cpu"
JUDGE_PLACEMENTS = (GPU, CPU)


@dataclass(frozen=True)
class ModelPlan:
    """What the producer records beside the run: where its judge batches are routed."""

    judge_placement: str = GPU


def prepare_models(request: RunRequest) -> ModelPlan:
    """Resolve PATHs, refuse credentials in parameters, build and check served models.
    Raises :class:`RunConfigError` (one line) before anything is recorded."""
    placement = GPU
    for role, ref in (("editor", request.editor), ("judge", request.judge)):
        _refuse_credentials(role, ref)
        try:
            names_a_model = bool(adapter_trait(role, ref.kind, "path_is_model_name", False))
            runs_on = adapter_trait(role, ref.kind, "runs_on", GPU)
        except (UnknownModelError, PluginLoadError):
            continue  # the registry's own message comes from validation, next
        if ref.path and not names_a_model:
            ref.path = str(Path(ref.path).expanduser().resolve())
        ref.path_is_model_name = names_a_model
        if runs_on == CPU:
            _check_served_model(role, ref)
            if role == "judge":
                placement = CPU
    return ModelPlan(judge_placement=placement)


def _refuse_credentials(role: str, ref: ModelRef) -> None:
    for name, value in ref.params.items():
        if isinstance(value, str) and redact(value) != value:
            raise RunConfigError(
                f"--{role}-param {name}={redact(value)}: the value carries credentials, and parameters are "
                "recorded in the ledger and the run card; set that URL in EDITBENCH_OPENAI_BASE_URL (and the key "
                "in EDITBENCH_OPENAI_API_KEY) on the workers instead".replace("--editor-param", "--param")
            )


def _check_served_model(role: str, ref: ModelRef) -> None:
    """Build the adapter as a worker would and call its ``check()`` if it has one."""
    option = f"--{role} {ref.kind}:"
    try:
        model: Any = adapter_factory(role, ref.kind)(ref.path, device="cpu", **ref.params)
    except (ConfigurationError, ValueError, TypeError) as exc:
        raise RunConfigError(f"{option} {_without_prefix(str(exc), ref.kind)}") from None
    try:
        check = getattr(model, "check", None)
        if callable(check):
            check()
    except (ConfigurationError, ValueError, RuntimeError, OSError) as exc:
        raise RunConfigError(f"{option} {_without_prefix(str(exc), ref.kind)}") from None
    finally:
        close = getattr(model, "close", None)
        if callable(close):
            close()


def _without_prefix(message: str, kind: str) -> str:
    """Adapters start their messages with their kind; the option already names it."""
    return message.removeprefix(f"{kind}: ")
