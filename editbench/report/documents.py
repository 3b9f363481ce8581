"""The typed shape of every JSON document a report writes: summary.json, run_card.json, compare.json,
and one row of samples.jsonl / samples.parquet.

These pydantic models *are* the formats. ``summary``, ``run_card`` and ``compare`` build them,
``markdown`` and the HTML templates read them by attribute, and the JSON Schema files shipped in
``editbench/report/schemas/`` are generated from them (``python -m editbench.report.schemas``;
a test fails when a checked-in schema and its model disagree). Field order is the key order of
the written file, so declaration order matters here.

Dynamic keys (category, criterion and error-code names) stay mappings; everything with a fixed
set of keys is a model. Values copied verbatim from the ledger (pass rules, model parameters,
what a run recorded at submission) are ``Any``: their shape belongs to whoever wrote them.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

SUMMARY_FORMAT: Final = "editbench.summary/1"
RUN_CARD_FORMAT: Final = "editbench.run_card/1"
COMPARE_FORMAT: Final = "editbench.compare/1"
LABELS_FORMAT: Final = "editbench.labels/1"

Interval = tuple[float, float]
ComparisonKind = Literal["editors", "judges", "editors_and_judges", "repeat"]


class Document(BaseModel):
    """Base of every report model: unknown keys are refused, so a typo is an error, not a new key."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        # every key is always written, so the schema lists every key as required
        json_schema_serialization_defaults_required=True,
        use_attribute_docstrings=True,  # the docstring under a field is its schema description
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The document as it is written (aliases such as ``pass``, tuples as lists)."""
        return self.model_dump(mode="json", by_alias=True)


# --------------------------------------------------------------------------- summary.json


class MetricBlock(Document):
    """Mean, spread and interval over the scored items, and a count for every unscored status.

    ``count + n_failed + n_parse_error + n_refusal + n_missing + n_running + n_pending == n_total``.
    """

    mean: float | None
    """Arithmetic mean over the scored items only; null when none is scored."""
    std: float | None
    """Sample standard deviation (divisor n − 1); null when count < 2."""
    count: int
    """Items with a score."""
    ci95: Interval | None
    """95% percentile bootstrap interval of the mean (10,000 resamples, seed 0); null when count < 2."""
    n_total: int
    """All items: count plus every n_<status>."""
    n_failed: int
    n_parse_error: int
    n_refusal: int
    n_missing: int
    n_running: int
    n_pending: int
    coverage: float | None
    """count / n_total; null when n_total is 0."""


class MacroMean(Document):
    """Mean of the category means: each category weighs the same (GEdit-Bench's headline)."""

    value: float | None
    ci95: Interval | None
    """Stratified bootstrap (each category resampled within itself); null when a category has one score."""
    n_categories: int
    """Categories with at least one score (the others are left out and listed)."""
    categories_without_scores: list[str]
    categories_with_one_score: list[str]
    definition: str


class MicroMean(Document):
    """Mean over all scored samples: each sample weighs the same."""

    value: float | None
    ci95: Interval | None
    count: int
    definition: str


class OverallScores(Document):
    macro_mean: MacroMean
    micro_mean: MicroMean
    headline: Literal["macro_mean"] = "macro_mean"
    """Which of the two means is the run's headline number."""
    samples: MetricBlock


class CriterionScores(Document):
    macro_mean: MacroMean
    micro_mean: MicroMean
    samples: MetricBlock


class PassRate(Document):
    """A category's pass rate under a pass rule editbench can evaluate."""

    rule: dict[str, Any]
    """The category's pass rule as ingested (all_at_least, overall_at_least, at_least)."""
    supported: Literal[True] = True
    n_passed: int
    n_evaluated: int
    """Fully scored samples: the denominator. Unscored samples are not failures."""
    n_total: int
    pass_rate: float | None
    ci95: Interval | None
    definition: str


class UnsupportedPassRule(Document):
    """A pass rule with a clause editbench does not know: kept, not evaluated (and warned about)."""

    rule: dict[str, Any]
    supported: Literal[False] = False


class EditCounts(Document):
    """Edit rows by status (a sample without an edit row counts as missing)."""

    n_total: int
    n_done: int
    n_failed: int
    n_parse_error: int
    n_refusal: int
    n_missing: int
    n_running: int
    n_pending: int


class CategorySummary(Document):
    description: str
    criteria: list[str]
    weights: dict[str, float]
    """Criterion → weight in the overall rule (1.0 unless the category says otherwise)."""
    prompt_version: str
    """The category's current judge prompt version."""
    n_samples: int
    overall: MetricBlock
    criteria_scores: dict[str, MetricBlock]
    """Criterion → its block over this category's samples."""
    # "pass" is a Python keyword: the attribute is pass_, the key in the file is "pass"
    pass_: PassRate | UnsupportedPassRule | None = Field(validation_alias=AliasChoices("pass", "pass_"), serialization_alias="pass")
    """Pass rate under the category's pass rule; null when the category has none."""
    edits: EditCounts


class ModelRef(Document):
    kind: str
    path: str | None


class SummaryRun(Document):
    id: int
    name: str
    status: str
    editor: ModelRef
    judge: ModelRef
    seed: int


class BenchmarkRef(Document):
    name: str
    version: str
    content_hash: str


class ScoreScale(Document):
    min: float
    max: float


class OverallRule(Document):
    name: str
    definition: str


class StatisticsDefinitions(Document):
    mean: str
    std: str
    ci95: str
    coverage: str


class ErrorCodes(Document):
    """Error code → count, most frequent first; "(status, no error code)" where none was recorded."""

    edit: dict[str, int]
    judgment: dict[str, int]


class SliceGroup(Document):
    """One value of a slice key (e.g. language ``zh``): the run's tables over its items only."""

    n_samples: int
    overall: OverallScores
    criteria: dict[str, CriterionScores]
    categories: dict[str, MetricBlock]
    """Category → overall-score block over this group's items of the category."""


class SliceTable(Document):
    """A grouping key the benchmark declares (benchmark.yaml ``slices``) and its groups."""

    key: str
    source: str
    """Where each item's value comes from (an item field or a key of the item's ``source``)."""
    groups: dict[str, SliceGroup]
    """Value → its tables, values in sorted order; items without the key are under "(not set)"."""


def _slices_optional(schema: dict[str, Any]) -> None:
    # slices is left out of the file when the benchmark declares none (older readers, goldens)
    schema["required"] = [key for key in schema.get("required", []) if key != "slices"]


class OfficialRow(Document):
    """One row of an official table: a group (task type, category, dimension...) and its values."""

    group: str
    count: int
    """Samples the row is computed from."""
    values: dict[str, float | None]
    """Column → value, as the benchmark's own script computes it; null where it prints nan."""


class OfficialResults(Document):
    """The benchmark's published table, computed from the raw judge answers by the official rules
    (only for a benchmark imported with ``--protocol official``)."""

    kind: str
    benchmark: str
    repository: str
    commit: str | None
    """The official checkout's commit the judge prompts were read from; null when unknown."""
    columns: list[str]
    sections: dict[str, list[OfficialRow]]
    """Sub-table → rows, in the paper's order (GEdit: en/fullset, en/intersection, cn/...)."""
    n_samples: int
    """Samples with every official answer recorded (the others are left out of the table)."""
    notes: list[str]


class Summary(Document):
    """summary.json: every number of one run, with counts, coverage and intervals."""

    model_config = ConfigDict(json_schema_extra=_slices_optional)

    format: Literal["editbench.summary/1"] = SUMMARY_FORMAT
    """Name and major version of this format; a breaking change gets a new number."""
    run: SummaryRun
    benchmark: BenchmarkRef
    score_scale: ScoreScale
    overall_rule: OverallRule
    statistics: StatisticsDefinitions
    overall: OverallScores
    """Per-sample overall scores (the benchmark's overall rule), macro and micro."""
    criteria: dict[str, CriterionScores]
    """Criterion → the same headline numbers for that criterion alone."""
    categories: dict[str, CategorySummary]
    """Category → its numbers, in the benchmark's order."""
    edits: EditCounts
    error_codes: ErrorCodes
    warnings: list[str]
    """What to read before citing a number (partial run, unscored samples, drift, ...)."""
    slices: dict[str, SliceTable] = Field(default_factory=dict)
    """Slice key → per-group tables; absent when the benchmark declares no slices."""

    def to_json_dict(self) -> dict[str, Any]:
        document = super().to_json_dict()
        if not self.slices:
            del document["slices"]
        return document

    official: OfficialResults | None = Field(default=None, exclude_if=lambda value: value is None)
    """The official table; written only for a benchmark imported with its official protocol."""


# --------------------------------------------------------------------------- run_card.json


class Subset(Document):
    """A run over a slice of the benchmark (never to be read as the whole benchmark's numbers)."""

    limit: int | None
    """At most this many items per category, the first in ingest order; null: no limit."""
    where: dict[str, list[str]]
    """Metadata key → accepted values (keys AND, values of one key OR)."""
    description: str
    """The same in one line, as report headers print it."""


class RunSettings(Document):
    id: int
    name: str
    status: str
    routing: str
    gpus: int
    judge_batch_size: int
    follow: bool
    categories: list[str] | None
    subset: Subset | None = None
    """``--limit``/``--where``: the run covers only these items; null: every item of its categories."""


class ParentRunCard(Document):
    """The run whose edited images a re-judging run (``editbench judge``) scored again."""

    id: int
    name: str


class BenchmarkCard(Document):
    name: str
    version: str
    content_hash: str
    source_path: str
    overall: str
    score_scale: Interval


class ModelCard(Document):
    """An editor or judge: as configured (kind, path, params) and as it identified itself."""

    kind: str
    path: str | None
    params: dict[str, Any]
    config_hash: Any
    """Hash of the model folder's config files, as the worker recorded it; null if not recorded."""
    params_hash: str
    """sha256 of the canonical JSON of (kind, path, params): equal hashes, equal configuration."""
    identity: dict[str, Any] | None
    """What the run recorded about this model at submission, verbatim."""


class JudgeCard(ModelCard):
    identities_used: dict[str, int]
    """Judge identity → number of scored judgments it wrote (more than one: a mixed run)."""


class EditSeeds(Document):
    n: int
    distinct: int
    min: int | None
    max: int | None


class Seeds(Document):
    run: int
    edits: EditSeeds


class PromptUse(Document):
    prompt_path: str
    prompt_version: str
    versions_used: dict[str, int]


class Times(Document):
    """ISO 8601 timestamps in UTC; null when the ledger has none yet."""

    created_at: str | None
    first_work_started_at: str | None
    last_work_finished_at: str | None
    finished_at: str | None


class Compute(Document):
    """Recorded work time; time lost to crashed attempts is not in it."""

    gpu_seconds: float
    edit_seconds: float
    judge_seconds: float
    n_edits_timed: int
    n_samples_judge_timed: int
    definition: str


class UsageTotals(Document):
    """What a model served over HTTP spent on this run, summed over its judge batches or edits."""

    batches: int
    """Judge batches (or edits) that recorded usage; one redone after a crash counts again: it was sent again."""
    requests: int
    """HTTP requests sent, retries included."""
    retries: int
    rate_limited: int
    server_errors: int
    timeouts: int
    failed: int
    """Requests given up on after their retries."""
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    images: int
    cost_usd: float | None
    """From the prices given as judge parameters; null when none was given."""
    stopped: str | None
    """Why judging stopped early (the budget), or null."""
    held: int
    """Judgments left pending by the budget (``resume`` continues them); 0 for edits."""


class ApiUsage(Document):
    """Usage of served models; present only for runs that recorded some, and each key only for a
    served model (``openai-images`` editor, ``openai`` judge)."""

    editor: UsageTotals | None = Field(default=None, exclude_if=lambda value: value is None)
    judge: UsageTotals | None = Field(default=None, exclude_if=lambda value: value is None)


class LibraryVersions(Document):
    recorded: dict[str, Any] | None
    """What the producer recorded at submission; null when the run recorded nothing."""
    at_report: dict[str, str | None]
    """Versions in the process that wrote this report: NOT necessarily what the run used."""


class GitRevision(Document):
    commit: str
    dirty: bool


class GitRevisions(Document):
    recorded: Any
    """As recorded at submission (a commit string or {commit, dirty}); null when not recorded."""
    at_report: GitRevision | None
    """The checkout writing this report; null outside a git checkout."""


class ReportInfo(Document):
    generated_at: str


class RunCard(Document):
    """run_card.json: what it takes to reproduce (or distrust) a run's numbers."""

    format: Literal["editbench.run_card/1"] = RUN_CARD_FORMAT
    run: RunSettings
    parent_run: ParentRunCard | None = None
    """Set for a re-judging run: its edits (images, seeds, editor) are this run's, not re-made."""
    benchmark: BenchmarkCard
    editor: ModelCard
    judge: JudgeCard
    seeds: Seeds
    prompts: dict[str, PromptUse]
    times: Times
    compute: Compute
    api_usage: ApiUsage | None = Field(default=None, exclude_if=lambda value: value is None)
    """Requests, tokens and cost of a judge served over HTTP; the key is absent for other runs."""
    library_versions: LibraryVersions
    git_revision: GitRevisions
    recorded: dict[str, Any]
    """The run card the producer stored with the run, verbatim."""
    report: ReportInfo


# --------------------------------------------------------------------------- compare.json


class CompareMethod(Document):
    pairing: str
    diff: str
    ci95: str
    test: str
    multiple_comparisons: str
    agreement: str


class HashedModelRef(Document):
    kind: str
    path: str | None
    params_hash: str


class CategoryHeadline(Document):
    mean: float | None
    count: int
    n_total: int


class CompareRun(Document):
    """One run's own headline numbers, as its summary.json has them."""

    id: int
    label: str
    status: str
    benchmark: str
    editor: HashedModelRef
    judge: HashedModelRef
    macro_mean: float | None
    micro_mean: float | None
    coverage: float | None
    categories: dict[str, CategoryHeadline]


class PairedDifference(Document):
    """B − A over the items scored in both runs, with its interval, tests and verdict."""

    n_pairs: int
    mean_a: float | None
    mean_b: float | None
    diff: float | None
    ci95: Interval | None
    p_value: float | None
    spearman: float | None
    kendall: float | None
    """Kendall's tau-b of the paired scores (ties corrected); null when n < 2 or a side is constant."""
    p_holm: float | None = None
    """p_value Holm-adjusted across the categories (per metric); for all_items, p_value itself."""
    significant: bool = False
    """p_holm < alpha."""
    verdict: str = ""
    """"B higher", "A higher", "no significant difference" or "no paired items"."""


class CategoryComparison(Document):
    """A category's paired difference, what could not be paired, and the same per criterion."""

    n_pairs: int
    mean_a: float | None
    mean_b: float | None
    diff: float | None
    ci95: Interval | None
    p_value: float | None
    spearman: float | None
    kendall: float | None
    n_only_in_a: int
    """Items of this category that only run A has."""
    n_only_in_b: int
    n_scored_only_in_a: int
    """Items in both runs with an overall score in A only (counted, never imputed)."""
    n_scored_only_in_b: int
    n_scored_in_neither: int
    n_identical_edits: int
    """Items whose edited images are byte-identical in both runs (same recorded sha256)."""
    criteria: dict[str, PairedDifference]
    p_holm: float | None = None
    significant: bool = False
    verdict: str = ""


class MacroDiff(Document):
    value: float | None
    definition: str


class Comparison(Document):
    a: int
    """Run id of the baseline A."""
    b: int
    kind: ComparisonKind
    """What differs between the runs, and so what a difference means."""
    shared_edits: bool
    """Every paired item has byte-identical edited images in both runs (e.g. B re-judged A with
    ``editbench judge``): differences are the judges' alone, and agreement is the headline."""
    description: str
    warnings: list[str]
    categories: dict[str, CategoryComparison]
    all_items: PairedDifference
    macro_diff: MacroDiff


class CompareResult(Document):
    """compare.json: every run against the first (the baseline A), item by item."""

    format: Literal["editbench.compare/1"] = COMPARE_FORMAT
    alpha: float
    method: CompareMethod
    runs: list[CompareRun]
    comparisons: list[Comparison]


# --------------------------------------------------------------------------- samples.jsonl / .parquet


class SampleRow(Document):
    """One line of samples.jsonl and one row of samples.parquet: a (sample, criterion) pair.

    Every sample of the run has one row per criterion of its category, scored or not: an
    unscored row has ``score`` null and says why in ``status``, ``error_code`` and ``error``.
    The sample-level columns (item metadata, edit, overall score) repeat on each of its rows.
    """

    run_id: int
    run_name: str
    benchmark: str
    benchmark_version: str
    sample_id: int
    """The ledger's sample id."""
    item_id: str
    """The item's id in the benchmark (``id`` in items.jsonl)."""
    category: str
    subcategory: str | None
    instruction: str
    instruction_language: str
    tags: list[str]
    source: str
    """The item's ``source`` object (provenance, e.g. GEdit's key and intersection flag) as
    canonical JSON text, so every metadata field is kept and the column has one type."""
    reference_text: str | None
    criterion: str
    status: str
    """done, failed, parse_error, refusal, missing, running or pending."""
    score: float | None
    confidence: float | None
    error_code: str | None
    error: str | None
    """The error message recorded with error_code."""
    reasoning: str | None
    """The judge's reasoning, as parsed from its answer."""
    raw_output: str | None
    """The judge's raw answer, verbatim."""
    judge_identity: str | None
    prompt_version: str | None
    judge_attempts: int
    judge_duration_s: float | None
    sample_status: str
    """done when every criterion is scored, else the status of the worst criterion."""
    overall: float | None
    """The sample's overall score under the benchmark's rule; null unless sample_status is done."""
    passed: bool | None
    """The category's pass rule on this sample; null without a rule or a full score."""
    edit_status: str
    """The edit's status; missing when the ledger has no edit row."""
    edit_error_code: str | None
    edit_error: str | None
    seed: int | None
    """The seed the edit ran with."""
    edit_attempts: int
    edit_duration_s: float | None
    source_image: str | None
    """The source image relative to the report folder (images/<sha256>.<ext>); null if not found."""
    edited_image: str | None
    reference_image: str | None
    source_path: str
    """Where the ledger records the source image (may be absolute, on the machine that ran)."""
    source_sha256: str
    edited_path: str | None
    edited_sha256: str | None
    reference_path: str | None
    reference_sha256: str | None


# --------------------------------------------------------------------------- labels.json (export --layout folder)


class LabeledSample(Document):
    """One sample of a folder export: its image files (relative to the export folder) and labels."""

    filepath: str | None
    """The edited image (what a viewer such as FiftyOne shows); null when the edit did not succeed."""
    source_filepath: str | None
    reference_filepath: str | None
    sample_id: int
    item_id: str
    category: str
    instruction: str
    instruction_language: str
    tags: list[str]
    status: str
    """The sample's status: done when every criterion is scored, else its worst criterion status."""
    overall: float | None
    passed: bool | None
    scores: dict[str, float | None]
    """Criterion → score (null when not scored)."""
    reasoning: dict[str, str | None]
    """Criterion → the judge's reasoning."""
    edit_status: str
    error_code: str | None
    """The edit's error code, else the first judgment error code; null when scored."""


class LabelsFile(Document):
    """labels.json of ``editbench export --layout folder``: every sample with its files and labels."""

    format: Literal["editbench.labels/1"] = LABELS_FORMAT
    run_id: int
    run_name: str
    benchmark: str
    score_scale: ScoreScale
    samples: list[LabeledSample]
