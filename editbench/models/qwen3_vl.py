"""Qwen3-VL as a judge (``qwen3-vl``): batched, left-padded, with OOM back-off. Two modes.

``generate``: one conversation per request asks for every criterion as one JSON object; the text
is parsed by :mod:`judge_output`; an unusable answer is re-asked (``max_reasks`` times, with the
reason) and then recorded as PARSE_ERROR with the raw text; refusals are recorded as REFUSAL and
not re-asked (asking again rarely changes a refusal and costs a full generation).

``logits``: one prefill per (request, criterion), no decoding; the next-token probabilities of
the digits 0–9 at the answer position become an expected score and a confidence
(:mod:`digit_scale`). Deterministic, cheap, and batched results equal one-by-one results.

Provenance: ``identity()`` carries the model path, config hash, every setting, the decoding
settings and the adapter's prompt-format version; every :class:`CriterionScore` carries the
rubric's version in ``extra["prompt_version"]`` (rubrics differ per category, so that one cannot
live in ``identity()``), plus the mode and, for ``logits``, the digit distribution (also stored
as JSON in ``raw_output`` so a ledger that keeps only text keeps it).

Capacity planning (``capacity="full"``/``"tiny"``): the model is built by
:func:`editbench.models.capacity.build_judge` with random weights directly on the device, and the
folder supplies only the processor (tokenizer, chat template, image processor). Timings and
memory are real, scores are noise; ``identity()`` says ``"capacity"`` so run cards and reports
mark it.

Speedups (default off, applied at load; :mod:`qwen3_vl_speedups`): ``compile_layers`` compiles
the text decoder layers (regional ``torch.compile``, ``dynamic=True``); ``static_cache`` makes
generate mode use a static KV cache, whose decode step transformers compiles on CUDA. Neither
changes what is computed; both cost compile time (``static_cache``: per batch shape, CUDA only).
``identity()`` records both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch

from editbench.errors import FailureCode
from editbench.models import capacity as capacity_models
from editbench.models.base import (
    Criterion,
    CriterionScore,
    JudgeRequest,
    JudgeResult,
    Outcome,
    register_judge,
)
from editbench.models.digit_scale import DIGITS, score_from_digit_probabilities
from editbench.models.fingerprint import config_hash, library_versions
from editbench.models.judge_output import ParsedScores, parse_judge_output
from editbench.models.judge_prompt import (
    PROMPT_FORMAT_VERSION,
    Conversation,
    ImageBudget,
    PromptTemplateError,
    check_mode,
    generate_conversation,
    logits_conversation,
    protocol_conversation,
    protocol_result,
    reask_conversation,
)
from editbench.models.load_times import LoadTimes
from editbench.models.offline import ensure_offline, local_model_dir
from editbench.models.oom import map_with_backoff, simulated_oom
from editbench.models.params import ParamError, build_params, parse_area, settings_dict
from editbench.models.placement import dtype_name, resolve_device, resolve_dtype
from editbench.models.qwen3_vl_speedups import (
    STATIC_CACHE_GENERATION,
    compile_decoder_layers,
)
from editbench.models.shared_prefix import SharedPrefixError, split_shared_prefixes

CAPACITY_SIZES = ("full", "tiny")
# Capacity mode's random weights are seeded, so two loads build the same model.
CAPACITY_SEED = 0


@dataclass(frozen=True)
class Qwen3VLSettings:
    """Every setting that changes a judgment or its cost; all are recorded by ``identity()``."""

    mode: str = "generate"
    batch_size: int = 8
    max_new_tokens: int = 512
    max_reasks: int = 1
    # Pixels each image is resized to before the processor; None keeps the processor's limits.
    image_area: int | None = field(default=None, metadata={"parse": parse_area})
    dtype: str = "auto"
    device: str = "auto"
    attn_implementation: str = "sdpa"
    # Fault injection for tests and drills: any batch larger than this raises a real
    # torch.OutOfMemoryError before running, as a too-large batch on a full card would.
    simulate_oom_above: int | None = None
    # Capacity planning: "full" (public Qwen3-VL-8B config) or "tiny" builds the model with random
    # weights on the device; the folder supplies only the processor. Timings real, scores noise.
    capacity: str | None = None
    # Regional torch.compile of the text decoder layers (dynamic=True), applied at load; compiles
    # once on the first forward (35-47 s for the 8B model on an H100), then every shape reuses it.
    compile_layers: bool = False
    # Generate mode: static KV cache (cache_implementation="static"); on CUDA transformers then
    # compiles the decode step, once per batch shape. No effect in logits mode.
    static_cache: bool = False
    # Logits mode: prefill the images (the part a request's criteria share) once per request and
    # continue each criterion's rubric from that cache (shared_prefix.py): 2-3x less prefill work
    # for 2-3 criteria; same tokens and positions, so equal results up to kernel rounding.
    shared_prefix: bool = True
    # Resize/normalise/patchify the images on the model's device (CUDA) instead of the host CPU:
    # the processor's float32 patches are ~50 MB per 1024x1024 image; on the GPU they take ms.
    preprocess_on_device: bool = True
    # Real weights on CUDA: read the safetensors straight into GPU memory (from_pretrained's
    # device_map) instead of loading on the host and copying (~9 s of a 17.5 GB judge's load).
    load_on_device: bool = False

    def __post_init__(self) -> None:
        check_mode(self.mode)
        if self.capacity not in (None, *CAPACITY_SIZES):
            raise ParamError(f"capacity must be one of none, {', '.join(CAPACITY_SIZES)}; got {self.capacity!r}")
        if self.batch_size < 1 or self.max_new_tokens < 1 or self.max_reasks < 0:
            raise ParamError("batch_size and max_new_tokens must be >= 1, max_reasks >= 0")


@dataclass(frozen=True)
class GeneratedText:
    """What the test hook sees for each generated answer."""

    key: str
    attempt: int
    text: str


# A test-only hook: receives the model's real decoded answers for a batch and returns the texts
# to use instead. Exists because a random tiny model cannot be made to write a given answer.
GeneratedTextHook = Callable[[list[GeneratedText]], list[str]]


@dataclass
class _Pending:
    """A request still waiting for a usable generated answer."""

    index: int
    request: JudgeRequest
    conversation: Conversation
    outputs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _OOM:
    message: str


@register_judge("qwen3-vl")
class Qwen3VLJudge:
    """``Qwen3VLForConditionalGeneration`` + ``AutoProcessor`` from a local folder."""

    name = "qwen3-vl"

    @classmethod
    def validate(cls, path: str | None, **params: Any) -> None:
        """Submit-time check, no weights loaded: the folder exists and every parameter name and
        value is one this adapter accepts."""
        build_params(Qwen3VLSettings, params, what=cls.name)
        local_model_dir(path, cls.name)

    def __init__(self, path: str | None, *, generated_text_hook: GeneratedTextHook | None = None, **params: Any) -> None:
        ensure_offline()
        self.folder = local_model_dir(path, self.name)
        self.settings = build_params(Qwen3VLSettings, params, what=self.name)
        self.device = resolve_device(self.settings.device)
        try:
            self.dtype = resolve_dtype(self.settings.dtype, self.device)
        except ValueError as exc:
            raise ParamError(f"{self.name}: {exc}") from None
        self.capacity_info: dict[str, Any] | None = None
        if self.settings.capacity:
            self.config_hash = capacity_models.configs_hash(capacity_models.judge_config(self.settings.capacity))
        else:
            self.config_hash = config_hash(self.folder)
        self.generated_text_hook = generated_text_hook
        self.last_batch_sizes: list[int] = []
        self.load_times = LoadTimes()
        self._load()

    def _load(self) -> None:
        times = self.load_times
        with times("imports"):
            from transformers import (
                AutoProcessor,
                GenerationConfig,
                Qwen3VLForConditionalGeneration,
            )

        with times("build"):
            self.processor = AutoProcessor.from_pretrained(self.folder, local_files_only=True)
            # Left padding puts every row's answer position at the last index, for both reading
            # next-token logits and appending generated tokens.
            self.processor.tokenizer.padding_side = "left"
            if self.settings.capacity:
                self.model = self._build_capacity_model()  # random weights built on the device
            else:
                on_device = self.settings.load_on_device and self.device.type == "cuda"
                self.model = Qwen3VLForConditionalGeneration.from_pretrained(
                    self.folder,
                    dtype=self.dtype,
                    attn_implementation=self.settings.attn_implementation,
                    local_files_only=True,
                    device_map=self.device if on_device else None,
                )
        if not self.settings.capacity:
            with times("to_device"):
                self.model = self.model.to(self.device)
        self.model.eval()
        with times("setup"):
            if self.settings.compile_layers:
                compile_decoder_layers(self.model)
        tokenizer = self.processor.tokenizer
        self.digit_ids = self._digit_token_ids(tokenizer)
        image_processor = self.processor.image_processor
        self.budget = ImageBudget(self.settings.image_area, image_processor.patch_size * image_processor.merge_size)
        eos = self.model.generation_config.eos_token_id
        # Greedy decoding, stated in full so a model folder's sampling defaults never apply.
        self.generation_config = GenerationConfig(
            max_new_tokens=self.settings.max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=eos if eos is not None else tokenizer.convert_tokens_to_ids("<|im_end|>"),
            pad_token_id=tokenizer.pad_token_id,
            **(STATIC_CACHE_GENERATION if self.settings.static_cache else {}),
        )

    def _build_capacity_model(self) -> Any:
        """Random-weight Qwen3-VL on the device, its special ids taken from the folder's tokenizer."""
        size = self.settings.capacity
        assert size, "only built when settings.capacity names a size"
        tokenizer = self.processor.tokenizer
        token_ids = capacity_models.tokenizer_token_ids(tokenizer)
        # Checked before building: a full-size build takes 16 GiB and seconds.
        config = capacity_models.judge_config(size)
        capacity_models.check_tokenizer_fits(tokenizer, config)
        capacity_models.check_processor_matches(self.processor.image_processor, config["vision_config"])
        pixels = None
        if size == "full":
            pixels = dict(capacity_models.JUDGE_PROCESSOR_PIXELS)
            capacity_models.set_processor_pixels(self.processor.image_processor, pixels)
        model = capacity_models.build_judge(
            self.device,
            self.dtype,
            size,
            token_ids=token_ids,
            seed=CAPACITY_SEED,
            attn_implementation=self.settings.attn_implementation,
        )
        self.capacity_info = capacity_models.capacity_record("judge", size, self.folder, token_ids, pixels, seed=CAPACITY_SEED)
        return model

    @staticmethod
    def _digit_token_ids(tokenizer: Any) -> list[int]:
        ids = []
        for digit in DIGITS:
            encoded = tokenizer.encode(digit, add_special_tokens=False)
            if len(encoded) != 1:
                raise ValueError(f"digit {digit!r} is not a single token in this tokenizer: {encoded}")
            ids.append(encoded[0])
        return ids

    # -- public protocol -----------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        generation = self.generation_config
        identity = {
            "name": self.name,
            "path": str(self.folder),
            # With capacity: the hash of the packaged config the random-weight model was built from.
            "config_hash": self.config_hash,
            "capacity": self.settings.capacity,
            "params": settings_dict(self.settings),
            "resolved": {"device": str(self.device), "dtype": dtype_name(self.dtype)},
            "decoding": {
                "mode": self.settings.mode,
                "greedy": True,
                "max_new_tokens": generation.max_new_tokens,
                "max_reasks": self.settings.max_reasks,
                "eos_token_id": generation.eos_token_id,
                "logits_answer_scale": "digits 0-9, mapped linearly onto the rubric scale",
                "cache_implementation": generation.cache_implementation or "dynamic",
            },
            # Speed settings: they change cost, not what is computed (up to kernel rounding).
            "speedups": {
                "compile_layers": self.settings.compile_layers,
                "static_cache": self.settings.static_cache,
                # transformers auto-compiles a static-cache decode step on CUDA only.
                "compiled_decode": self.settings.static_cache and self.device.type == "cuda",
                "shared_prefix": self.settings.shared_prefix and self.settings.mode == "logits",
                "preprocess_on_device": self._preprocess_device() is not None,
            },
            "prompt_format_version": PROMPT_FORMAT_VERSION,
            "versions": library_versions(),
        }
        if self.capacity_info is not None:
            identity["capacity_planning"] = self.capacity_info
        return identity

    def score(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        """One result per request, in order, one score per requested criterion."""
        self.last_batch_sizes = []
        official = [r for r in requests if r.protocol is not None]
        if official:
            # Protocol mode: the benchmark's official questions, answered freely (both modes).
            done = dict(zip((r.key for r in official), self._score_protocol(official)))
            rest = [r for r in requests if r.protocol is None]
            others = dict(zip((r.key for r in rest), self.score(rest) if rest else []))
            return [done.get(r.key) or others[r.key] for r in requests]
        if self.settings.mode == "logits":
            return self._score_logits(list(requests))
        return self._score_generate(list(requests))

    def _score_protocol(self, requests: list[JudgeRequest]) -> list[JudgeResult]:
        """Each official question of each request is one generation; the answers are read by
        the official parser (:func:`judge_prompt.protocol_result`)."""
        pending: list[_Pending] = []
        names: list[str] = []
        failed: dict[int, JudgeResult] = {}
        for index, request in enumerate(requests):
            assert request.protocol is not None
            try:
                for question in request.protocol.questions:
                    pending.append(_Pending(index, request, protocol_conversation(request, question, self.budget)))
                    names.append(question.name)
            except PromptTemplateError as exc:
                failed[index] = _all_failed(request, FailureCode.BAD_PROMPT, str(exc))
        pending_names = [(item, name) for item, name in zip(pending, names) if item.index not in failed]
        answers = map_with_backoff(
            [item for item, _ in pending_names],
            self.settings.batch_size,
            lambda batch: self._generate(batch, 0),
            lambda item, message: _OOM(message),
            self.last_batch_sizes,
        )
        by_request: dict[int, dict[str, Any]] = {}
        for (item, name), answer in zip(pending_names, answers):
            if isinstance(answer, _OOM):
                answer = CriterionScore(name, Outcome.FAILED, error_code=FailureCode.OOM.value, error=answer.message)
            by_request.setdefault(item.index, {})[name] = answer
        return [
            failed.get(index) or protocol_result(request, by_request.get(index, {}), self._base_extra(request))
            for index, request in enumerate(requests)
        ]

    # -- shared model plumbing -----------------------------------------------------------------

    def _inputs(self, conversations: list[Conversation]) -> Any:
        options: dict[str, Any] = {"padding": True}
        if (device := self._preprocess_device()) is not None:
            options["device"] = device
        batch = self.processor.apply_chat_template(
            conversations,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs=options,
            # Instructions are benchmark data: control tokens in them stay plain text.
            sanitize_control_tokens=True,
        )
        return batch.to(self.device)

    def _preprocess_device(self) -> torch.device | None:
        """Where the image processor runs: the model's GPU when ``preprocess_on_device`` (on the
        CPU the processor already runs there)."""
        return self.device if self.settings.preprocess_on_device and self.device.type == "cuda" else None

    def _check_simulated_oom(self, size: int) -> None:
        limit = self.settings.simulate_oom_above
        if limit is not None and size > limit:
            raise simulated_oom(f"judge batch of {size} > simulate_oom_above={limit}")

    def _base_extra(self, request: JudgeRequest) -> dict[str, Any]:
        return {
            "prompt_version": request.prompt.version,
            "prompt_format_version": PROMPT_FORMAT_VERSION,
            "mode": self.settings.mode,
        }

    # -- logits mode ---------------------------------------------------------------------------

    def _score_logits(self, requests: list[JudgeRequest]) -> list[JudgeResult]:
        results = [JudgeResult(key=r.key) for r in requests]
        groups: list[tuple[int, list[tuple[Criterion, Conversation]]]] = []
        for index, request in enumerate(requests):
            asked = []
            for criterion in request.criteria:
                try:
                    asked.append((criterion, logits_conversation(request, criterion, self.budget)))
                except PromptTemplateError as exc:
                    results[index].scores.append(_failed(criterion.name, FailureCode.BAD_PROMPT, str(exc)))
            if asked:
                groups.append((index, asked))
        if self.settings.shared_prefix:
            # One prefill row per request (its criteria continue from the shared cache).
            def run_groups(batch: Sequence[tuple[int, list[tuple[Criterion, Conversation]]]]) -> list[list[tuple[int, CriterionScore]]]:
                answers = self._shared_prefix_probabilities([[c for _, c in asked] for _, asked in batch])
                return [
                    [
                        (index, self._digit_score(requests[index], criterion, probs, mass))
                        for (criterion, _), (probs, mass) in zip(asked, got)
                    ]
                    for (index, asked), got in zip(batch, answers)
                ]

            def group_oom(group: tuple[int, list[tuple[Criterion, Conversation]]], message: str) -> list[tuple[int, CriterionScore]]:
                return [(group[0], _failed(criterion.name, FailureCode.OOM, message)) for criterion, _ in group[1]]

            for scores in map_with_backoff(groups, self.settings.batch_size, run_groups, group_oom, self.last_batch_sizes):
                for index, score in scores:
                    results[index].scores.append(score)
            return [self._in_criterion_order(result, request) for result, request in zip(results, requests)]

        items = [(index, criterion, conversation) for index, asked in groups for criterion, conversation in asked]

        def run(batch: Sequence[tuple[int, Criterion, Conversation]]) -> list[tuple[int, CriterionScore]]:
            return [
                (index, self._digit_score(requests[index], criterion, probs, mass))
                for (index, criterion, _), (probs, mass) in zip(batch, self._digit_probabilities([c for *_, c in batch]))
            ]

        def on_oom(item: tuple[int, Criterion, Conversation], message: str) -> tuple[int, CriterionScore]:
            return item[0], _failed(item[1].name, FailureCode.OOM, message)

        for index, score in map_with_backoff(items, self.settings.batch_size, run, on_oom, self.last_batch_sizes):
            results[index].scores.append(score)
        return [self._in_criterion_order(result, request) for result, request in zip(results, requests)]

    def _shared_prefix_probabilities(self, groups: list[list[Conversation]]) -> list[list[tuple[list[float], float]]]:
        """Per request, per conversation: digit probabilities and mass, one prefill of each
        request's shared prefix (see :mod:`shared_prefix`)."""
        self._check_simulated_oom(len(groups))
        flat = [conversation for group in groups for conversation in group]
        inputs = self._inputs(flat)
        positions, _ = self.model.model.get_rope_index(
            inputs["input_ids"],
            inputs["mm_token_type_ids"],
            image_grid_thw=inputs.get("image_grid_thw"),
            attention_mask=inputs["attention_mask"],
        )
        try:
            split = split_shared_prefixes(
                inputs,
                [len(group) for group in groups],
                [_image_count(conversation) for conversation in flat],
                positions,
                self.processor.tokenizer.pad_token_id,
            )
        except SharedPrefixError:
            every = self.digit_probabilities(inputs)
            return [every[sum(map(len, groups[:g])) : sum(map(len, groups[: g + 1]))] for g in range(len(groups))]
        answers: dict[int, tuple[list[float], float]] = {}
        with torch.inference_mode():
            cache = self.model(**split.prefix, use_cache=True, logits_to_keep=1).past_key_values
            for slot in split.slots:
                logits = self.model(**slot.inputs, past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :]
                for row, answer in zip(slot.rows, self._digit_rows(logits)):
                    if row is not None:
                        answers[row] = answer
                cache.crop(-int(slot.inputs["input_ids"].shape[1]))  # back to the prefix alone
        rows = iter(range(len(flat)))
        return [[answers[next(rows)] for _ in group] for group in groups]

    def _digit_probabilities(self, conversations: list[Conversation]) -> list[tuple[list[float], float]]:
        """Per conversation: digit probabilities (renormalised) and total probability on digits."""
        self._check_simulated_oom(len(conversations))
        return self.digit_probabilities(self._inputs(conversations))

    def digit_probabilities(self, inputs: Any) -> list[tuple[list[float], float]]:
        """The logits-mode model step on processor output (one row per conversation, left-padded).

        Public so that ``bench/judge.py`` times this exact scoring path on synthetic processor
        output (no images to preprocess) instead of a copy of it.
        """
        with torch.inference_mode():
            logits = self.model(**inputs, logits_to_keep=1).logits[:, -1, :]
        return self._digit_rows(logits)

    def _digit_rows(self, logits: torch.Tensor) -> list[tuple[list[float], float]]:
        """Next-token logits [rows, vocab] -> per row: digit probabilities (renormalised over
        the ten digits) and the total probability the model put on digits."""
        log_probs = logits.float().log_softmax(dim=-1)[:, self.digit_ids]
        mass = log_probs.exp().sum(dim=-1)
        digit_probs = log_probs.softmax(dim=-1)
        return [(row.tolist(), float(m)) for row, m in zip(digit_probs, mass)]

    def _digit_score(self, request: JudgeRequest, criterion: Criterion, probs: list[float], mass: float) -> CriterionScore:
        digit = score_from_digit_probabilities(probs, request.scale_min, request.scale_max)
        extra = self._base_extra(request) | {
            "expected_digit": digit.expected_digit,
            "digit_probabilities": list(digit.digit_probabilities),
            "digit_mass": mass,
            "max_probability": digit.max_probability,
        }
        raw = json.dumps({"digit_probabilities": extra["digit_probabilities"], "digit_mass": mass})
        return CriterionScore(
            criterion=criterion.name,
            outcome=Outcome.DONE,
            score=digit.score,
            confidence=digit.confidence,
            raw_output=raw,
            extra=extra,
        )

    @staticmethod
    def _in_criterion_order(result: JudgeResult, request: JudgeRequest) -> JudgeResult:
        order = {c.name: i for i, c in enumerate(request.criteria)}
        result.scores.sort(key=lambda s: order.get(s.criterion, len(order)))
        return result

    # -- generate mode -------------------------------------------------------------------------

    def _score_generate(self, requests: list[JudgeRequest]) -> list[JudgeResult]:
        results: list[JudgeResult | None] = [None] * len(requests)
        pending: list[_Pending] = []
        for index, request in enumerate(requests):
            try:
                pending.append(_Pending(index, request, generate_conversation(request, self.budget)))
            except PromptTemplateError as exc:
                results[index] = _all_failed(request, FailureCode.BAD_PROMPT, str(exc))
        for attempt in range(self.settings.max_reasks + 1):
            answers: list[str | _OOM] = map_with_backoff(
                pending,
                self.settings.batch_size,
                partial(self._generate, attempt=attempt),
                lambda item, message: _OOM(message),
                self.last_batch_sizes,
            )
            still_pending = []
            for item, answer in zip(pending, answers):
                if isinstance(answer, _OOM):
                    results[item.index] = _all_failed(item.request, FailureCode.OOM, answer.message)
                    continue
                item.outputs.append(answer)
                parsed = parse_judge_output(
                    answer,
                    [c.name for c in item.request.criteria],
                    item.request.scale_min,
                    item.request.scale_max,
                )
                if isinstance(parsed, ParsedScores) or parsed.outcome is Outcome.REFUSAL or attempt == self.settings.max_reasks:
                    results[item.index] = self._generated_result(item, parsed)
                else:
                    item.conversation = reask_conversation(item.conversation, answer, parsed.reason, item.request)
                    still_pending.append(item)
            pending = still_pending
            if not pending:
                break
        missing = [requests[i].key for i, result in enumerate(results) if result is None]
        if missing:
            raise RuntimeError(f"internal error: no judgment recorded for {missing}")
        return results  # type: ignore[return-value]

    def _generate(self, batch: Sequence[_Pending], attempt: int) -> list[str]:
        self._check_simulated_oom(len(batch))
        inputs = self._inputs([item.conversation for item in batch])
        with torch.inference_mode():
            sequences = self.model.generate(**inputs, generation_config=self.generation_config)
        texts = self.processor.batch_decode(sequences[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        if self.generated_text_hook is not None:
            texts = self.generated_text_hook([GeneratedText(item.request.key, attempt, text) for item, text in zip(batch, texts)])
        return list(texts)

    def _generated_result(self, item: _Pending, parsed: Any) -> JudgeResult:
        raw = item.outputs[-1]
        extra = self._base_extra(item.request) | {
            "attempts": len(item.outputs),
            "outputs": list(item.outputs),
        }
        result = JudgeResult(key=item.request.key)
        for criterion in item.request.criteria:
            if isinstance(parsed, ParsedScores):
                score = CriterionScore(
                    criterion=criterion.name,
                    outcome=Outcome.DONE,
                    score=parsed.scores[criterion.name],
                    reasoning=parsed.reasoning,
                    raw_output=raw,
                    extra=dict(extra),
                )
            else:
                score = CriterionScore(
                    criterion=criterion.name,
                    outcome=parsed.outcome,
                    raw_output=raw,
                    error_code=parsed.outcome.value,
                    error=parsed.reason,
                    extra=dict(extra),
                )
            result.scores.append(score)
        return result


def _image_count(conversation: Conversation) -> int:
    return sum(1 for turn in conversation for part in turn["content"] if isinstance(part, dict) and part.get("type") == "image")


def _failed(criterion: str, code: str, message: str) -> CriterionScore:
    return CriterionScore(criterion=criterion, outcome=Outcome.FAILED, error_code=code, error=message)


def _all_failed(request: JudgeRequest, code: str, message: str) -> JudgeResult:
    return JudgeResult(key=request.key, scores=[_failed(c.name, code, message) for c in request.criteria])
