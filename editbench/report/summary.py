"""summary.json: the numbers, with their counts, coverage and intervals, and nothing averaged
that was not scored.

A judgment that failed, could not be parsed, was refused, is missing or has not finished yet is
*counted* under its own status; it never enters a mean as a zero and is never dropped without a
count. Every metric block therefore satisfies::

    count + n_failed + n_parse_error + n_refusal + n_missing + n_pending + n_running == n_total

and ``coverage = count / n_total``.

A sample's *overall* score combines its criteria by the benchmark's rule (geometric mean — the
VIEScore ``sqrt(SC·PQ)`` for two criteria — weighted mean, or min). It exists only when every
criterion of the sample was scored; otherwise the sample takes the status of its worst
criterion (failed > parse_error > refusal > missing > running > pending).

Two headline means, always labelled: ``macro_mean`` is the mean of the category means (each
category weighs the same: GEdit-Bench's convention), ``micro_mean`` is the mean over samples
(big categories weigh more). They differ whenever categories differ in size or coverage.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from editbench.errors import UnsupportedPassRuleError
from editbench.records import Benchmark, Category
from editbench.report import stats
from editbench.report.data import RunData, SampleData
from editbench.report.documents import (
    SUMMARY_FORMAT,
    BenchmarkRef,
    CategorySummary,
    CriterionScores,
    EditCounts,
    ErrorCodes,
    MacroMean,
    MetricBlock,
    MicroMean,
    ModelRef,
    OverallRule,
    OverallScores,
    PassRate,
    ScoreScale,
    SliceGroup,
    SliceTable,
    StatisticsDefinitions,
    Summary,
    SummaryRun,
    UnsupportedPassRule,
)
from editbench.report.official import official_results
from editbench.report.slices import group_samples, slice_source

FORMAT = SUMMARY_FORMAT
DONE = "done"
# Worst first: the status a partly scored sample takes.
UNSCORED_STATES = ("failed", "parse_error", "refusal", "missing", "running", "pending")
COUNT_KEYS = tuple(f"n_{s}" for s in UNSCORED_STATES)

OVERALL_RULES = {
    "geometric_mean": "weighted geometric mean of the sample's criterion scores (VIEScore: sqrt(SC·PQ) for two equally weighted criteria)",
    "weighted_mean": "weighted arithmetic mean of the sample's criterion scores",
    "min": "lowest of the sample's criterion scores",
}
MACRO_DEFINITION = "mean of per-category means (each category weighs the same; GEdit-Bench convention)"
MICRO_DEFINITION = "mean over all scored samples (each sample weighs the same)"
STATISTICS = StatisticsDefinitions(
    mean="arithmetic mean over scored items only (unscored items are counted, not averaged)",
    std="sample standard deviation (divisor n-1); null when count < 2",
    ci95=f"95% percentile bootstrap interval of the mean, {stats.RESAMPLES} resamples, seed {stats.SEED}; "
    "macro means resample within each category; null when count < 2",
    coverage="count / n_total: the share of items that have a score",
)


@dataclass(frozen=True)
class SampleScore:
    """One sample's scoring outcome."""

    status: str  # "done" when every criterion has a score, else the worst criterion status
    overall: float | None
    scores: Mapping[str, float]  # criterion → score, scored criteria only
    passed: bool | None  # None: no pass rule, rule unsupported, or not fully scored


def combine(rule: str, scores: Mapping[str, float], weights: Mapping[str, float]) -> float | None:
    """A sample's overall score from its criterion scores (all of them scored)."""
    if not scores:
        return None
    w = {c: float(weights.get(c, 1.0)) for c in scores}
    total = sum(w.values())
    if rule == "min":
        return min(scores.values())
    if total <= 0:
        return None
    if rule == "weighted_mean":
        return sum(w[c] * s for c, s in scores.items()) / total
    if rule == "geometric_mean":
        if any(s < 0 for s in scores.values()):
            return None
        if len(set(w.values())) == 1:
            product = math.prod(scores.values())
            # sqrt for two criteria so the VIEScore overall is reproduced to the last bit
            return math.sqrt(product) if len(scores) == 2 else product ** (1.0 / len(scores))
        if any(s == 0 and w[c] > 0 for c, s in scores.items()):
            return 0.0
        return math.exp(sum(w[c] * math.log(s) for c, s in scores.items() if w[c] > 0) / total)
    raise ValueError(f"unknown overall rule {rule!r}; known: {', '.join(OVERALL_RULES)}")


def passes(rule: Mapping[str, Any], scores: Mapping[str, float], overall: float | None) -> bool:
    """Evaluate a category's pass rule; every clause must hold.

    ``all_at_least: t`` (RISEBench style: every criterion ≥ t), ``overall_at_least: t``,
    ``at_least: {criterion: t, ...}``.
    """
    ok = True
    for key, value in rule.items():
        if key == "all_at_least":
            ok &= all(s >= float(value) for s in scores.values())
        elif key == "overall_at_least":
            ok &= overall is not None and overall >= float(value)
        elif key == "at_least":
            ok &= all(c in scores and scores[c] >= float(t) for c, t in dict(value).items())
        else:
            raise UnsupportedPassRuleError(f"unsupported pass rule clause {key!r}")
    return bool(ok)


def unscored_status(sample: SampleData, status: str) -> str:
    """What an unscored judgment of ``sample`` counts as. Its row says ``missing`` when the
    sample's *edit* failed (it could never be judged), but the work failed, so it counts as
    ``failed``: an edit that ran out of memory is a failure of the model, not a gap in the data."""
    if status == DONE:
        return "missing"  # done without a score
    if status == "missing" and sample.edit is not None and sample.edit.status == "failed":
        return "failed"
    return status


def score_sample(sample: SampleData, category: Category, benchmark: Benchmark) -> SampleScore:
    scores = {c: float(j.score) for c, j in sample.judgments.items() if j.status == DONE and j.score is not None}
    unscored = [unscored_status(sample, j.status) for c, j in sample.judgments.items() if c not in scores]
    if unscored or not scores:
        worst = min(unscored, key=_severity) if unscored else "missing"
        return SampleScore(worst, None, scores, None)
    overall = combine(benchmark.overall, scores, category.weights)
    passed = None
    if category.pass_rule:
        try:
            passed = passes(category.pass_rule.as_json(), scores, overall)
        except UnsupportedPassRuleError:
            passed = None
    return SampleScore(DONE if overall is not None else "missing", overall, scores, passed)


def _severity(status: str) -> int:
    return UNSCORED_STATES.index(status) if status in UNSCORED_STATES else 0


def metric_block(values: Sequence[float], statuses: Iterable[str]) -> MetricBlock:
    """mean/std/count/ci95 over ``values`` plus a count for every unscored status."""
    counts = Counter(statuses)
    n_total = len(values) + sum(counts[s] for s in UNSCORED_STATES)
    return MetricBlock(
        mean=stats.mean(values),
        std=stats.std(values),
        count=len(values),
        ci95=stats.bootstrap_ci(values),
        n_total=n_total,
        n_failed=counts["failed"],
        n_parse_error=counts["parse_error"],
        n_refusal=counts["refusal"],
        n_missing=counts["missing"],
        n_running=counts["running"],
        n_pending=counts["pending"],
        coverage=len(values) / n_total if n_total else None,
    )


def unscored_counts(block: MetricBlock | EditCounts) -> list[int]:
    """The block's count per unscored status, in :data:`UNSCORED_STATES` order (worst first)."""
    return [getattr(block, key) for key in COUNT_KEYS]


def _headline(per_category: Mapping[str, Sequence[float]]) -> tuple[MacroMean, MicroMean]:
    scored = {name: v for name, v in per_category.items() if len(v)}
    means = [stats.mean(v) for v in scored.values()]
    pooled = [x for v in scored.values() for x in v]
    # A category with a single score has no sampling spread of its own; a resampled macro mean
    # would then look more certain than it is, so no interval is given.
    thin = [name for name, v in scored.items() if len(v) < 2]
    macro_ci = None if thin else stats.stratified_bootstrap_ci(list(scored.values()))
    micro_ci = stats.bootstrap_ci(pooled)
    macro = MacroMean(
        value=stats.mean([m for m in means if m is not None]) if means else None,
        ci95=macro_ci,
        n_categories=len(scored),
        categories_without_scores=[n for n in per_category if n not in scored],
        categories_with_one_score=thin,
        definition=MACRO_DEFINITION,
    )
    micro = MicroMean(value=stats.mean(pooled), ci95=micro_ci, count=len(pooled), definition=MICRO_DEFINITION)
    return macro, micro


def summarize(run: RunData) -> Summary:
    """Build the summary.json document for one run."""
    bench = run.benchmark
    sample_scores = {s.id: score_sample(s, run.category(s.category), bench) for s in run.samples}
    warnings: list[str] = []

    categories: dict[str, CategorySummary] = {}
    overall_by_cat: dict[str, list[float]] = {}
    criterion_by_cat: dict[str, dict[str, list[float]]] = {}
    all_overall_status: list[str] = []
    all_criterion_status: dict[str, list[str]] = {}
    for cat in run.categories:
        samples = run.samples_in(cat.name)
        scored = [sample_scores[s.id] for s in samples]
        overall_values = [x.overall for x in scored if x.overall is not None]
        overall_status = [x.status for x in scored if x.overall is None]
        overall_by_cat[cat.name] = overall_values
        all_overall_status += overall_status

        criteria_blocks = {}
        for criterion in cat.criteria:
            values, statuses = [], []
            for s in samples:
                j = s.judgments[criterion]
                if j.status == DONE and j.score is not None:
                    values.append(float(j.score))
                else:
                    statuses.append(unscored_status(s, j.status))
            criterion_by_cat.setdefault(criterion, {})[cat.name] = values
            all_criterion_status.setdefault(criterion, []).extend(statuses)
            criteria_blocks[criterion] = metric_block(values, statuses)

        categories[cat.name] = CategorySummary(
            description=cat.description,
            criteria=list(cat.criteria),
            weights={c: cat.weights.get(c, 1.0) for c in cat.criteria},
            prompt_version=cat.prompt_version,
            n_samples=len(samples),
            overall=metric_block(overall_values, overall_status),
            criteria_scores=criteria_blocks,
            pass_=_pass_block(cat, scored, warnings),
            edits=_edit_counts(samples),
        )

    macro, micro = _headline(overall_by_cat)
    overall = OverallScores(
        macro_mean=macro,
        micro_mean=micro,
        samples=metric_block([v for vs in overall_by_cat.values() for v in vs], all_overall_status),
    )
    criteria = {}
    for name, by_cat in criterion_by_cat.items():
        c_macro, c_micro = _headline(by_cat)
        criteria[name] = CriterionScores(
            macro_mean=c_macro,
            micro_mean=c_micro,
            samples=metric_block([v for vs in by_cat.values() for v in vs], all_criterion_status[name]),
        )
    warnings = _warnings(run, overall, categories) + warnings

    return Summary(
        run=SummaryRun(
            id=run.id,
            name=run.name,
            status=run.status,
            editor=ModelRef(kind=run.editor.kind, path=run.editor.path),
            judge=ModelRef(kind=run.judge.kind, path=run.judge.path),
            seed=run.seed,
        ),
        benchmark=BenchmarkRef(name=bench.name, version=bench.version, content_hash=bench.content_hash),
        score_scale=ScoreScale(min=bench.score_min, max=bench.score_max),
        overall_rule=OverallRule(name=bench.overall, definition=OVERALL_RULES.get(bench.overall, "unknown")),
        statistics=STATISTICS,
        overall=overall,
        criteria=criteria,
        categories=categories,
        edits=_edit_counts(run.samples),
        error_codes=_error_codes(run.samples),
        warnings=warnings,
        slices=_slice_tables(run, sample_scores),
        official=official_results(run),
    )


def _slice_tables(run: RunData, sample_scores: Mapping[int, SampleScore]) -> dict[str, SliceTable]:
    """One table per slice key the benchmark declares, one group per value."""
    return {
        key: SliceTable(
            key=key,
            source=slice_source(key),
            groups={value: _slice_group(run, samples, sample_scores) for value, samples in group_samples(run.samples, key).items()},
        )
        for key in run.benchmark.slices
    }


def _slice_group(run: RunData, samples: Sequence[SampleData], sample_scores: Mapping[int, SampleScore]) -> SliceGroup:
    """The headline numbers over ``samples`` only, computed exactly as for the whole run; a
    category without items in the group is left out (it is not "unscored" there)."""
    overall_by_cat: dict[str, list[float]] = {}
    overall_status: list[str] = []
    categories: dict[str, MetricBlock] = {}
    criterion_by_cat: dict[str, dict[str, list[float]]] = {}
    criterion_status: dict[str, list[str]] = {}
    for cat in run.categories:
        in_cat = [s for s in samples if s.category == cat.name]
        if not in_cat:
            continue
        scored = [sample_scores[s.id] for s in in_cat]
        values = [x.overall for x in scored if x.overall is not None]
        statuses = [x.status for x in scored if x.overall is None]
        overall_by_cat[cat.name] = values
        overall_status += statuses
        categories[cat.name] = metric_block(values, statuses)
        for criterion in cat.criteria:
            judged = [s.judgments[criterion] for s in in_cat]
            criterion_by_cat.setdefault(criterion, {})[cat.name] = [
                float(j.score) for j in judged if j.status == DONE and j.score is not None
            ]
            criterion_status.setdefault(criterion, []).extend(
                j.status if j.status != DONE else "missing" for j in judged if not (j.status == DONE and j.score is not None)
            )
    macro, micro = _headline(overall_by_cat)
    criteria = {}
    for name, by_cat in criterion_by_cat.items():
        c_macro, c_micro = _headline(by_cat)
        criteria[name] = CriterionScores(
            macro_mean=c_macro,
            micro_mean=c_micro,
            samples=metric_block([v for vs in by_cat.values() for v in vs], criterion_status[name]),
        )
    return SliceGroup(
        n_samples=len(samples),
        overall=OverallScores(
            macro_mean=macro,
            micro_mean=micro,
            samples=metric_block([v for vs in overall_by_cat.values() for v in vs], overall_status),
        ),
        criteria=criteria,
        categories=categories,
    )


def _pass_block(cat: Category, scored: Sequence[SampleScore], warnings: list[str]) -> PassRate | UnsupportedPassRule | None:
    if not cat.pass_rule:
        return None
    try:
        passes(cat.pass_rule.as_json(), {}, None)
    except UnsupportedPassRuleError as exc:
        warnings.append(f"category {cat.name}: {exc}; pass rate not computed")
        return UnsupportedPassRule(rule=cat.pass_rule.as_json())
    outcomes = [1.0 if x.passed else 0.0 for x in scored if x.passed is not None]
    return PassRate(
        rule=cat.pass_rule.as_json(),
        n_passed=int(sum(outcomes)),
        n_evaluated=len(outcomes),
        n_total=len(scored),
        pass_rate=stats.mean(outcomes),
        ci95=stats.bootstrap_ci(outcomes),
        definition="passed / fully scored samples; unscored samples are counted in 'overall', not treated as failures",
    )


def _edit_counts(samples: Iterable[SampleData]) -> EditCounts:
    counts = Counter(s.edit.status if s.edit else "missing" for s in samples)
    return EditCounts(n_total=sum(counts.values()), **{f"n_{k}": counts[k] for k in (DONE, *UNSCORED_STATES)})


def _error_codes(samples: Iterable[SampleData]) -> ErrorCodes:
    edit_codes: Counter[str] = Counter()
    judge_codes: Counter[str] = Counter()
    for s in samples:
        if s.edit and s.edit.status != DONE and s.edit.status in UNSCORED_STATES[:4]:
            edit_codes[s.edit.error_code or f"({s.edit.status}, no error code)"] += 1
        for j in s.judgments.values():
            if j.status in UNSCORED_STATES[:4]:
                judge_codes[j.error_code or f"({j.status}, no error code)"] += 1
    return ErrorCodes(edit=dict(edit_codes.most_common()), judgment=dict(judge_codes.most_common()))


def _warnings(run: RunData, overall: OverallScores, categories: Mapping[str, CategorySummary]) -> list[str]:
    out = []
    if run.run_card.get("capacity_planning"):
        out.append(
            "capacity-planning run: the models are full-size architectures with random weights "
            "(capacity mode), so timings and memory are real and every score is noise"
        )
    if run.sample_filter is not None and run.sample_filter.active:
        out.append(f"subset of the benchmark ({run.sample_filter.describe()}): not comparable with a full-benchmark score")
    block = overall.samples
    if run.status != DONE:
        unfinished = block.n_pending + block.n_running
        out.append(
            f"{run.label} is still {run.status}: {unfinished} of {block.n_total} samples are not finished, so every number here is partial"
        )
    unscored = block.n_total - block.count
    if unscored:
        out.append(
            f"{unscored} of {block.n_total} samples have no overall score (see the counts per status); "
            "they are excluded from means, not scored as zero"
        )
    empty = overall.macro_mean.categories_without_scores
    if empty:
        out.append(f"categories without any scored sample are left out of the macro mean: {', '.join(empty)}")
    thin = overall.macro_mean.categories_with_one_score
    if thin:
        out.append(f"no interval for the macro mean: only one scored sample in {', '.join(thin)}")

    lo, hi = run.benchmark.score_min, run.benchmark.score_max
    out_of_range = 0
    identities: Counter[str] = Counter()
    drift: Counter[str] = Counter()
    for s in run.samples:
        declared = run.category(s.category).prompt_version
        for j in s.judgments.values():
            if j.score is not None and not lo <= j.score <= hi:
                out_of_range += 1
            if j.status == DONE:
                if j.judge_identity:
                    identities[j.judge_identity] += 1
                if declared and j.prompt_version and j.prompt_version != declared:
                    drift[s.category] += 1
    if out_of_range:
        out.append(f"{out_of_range} scores lie outside the benchmark's scale [{lo:g}, {hi:g}]")
    if len(identities) > 1:
        listed = ", ".join(f"{k} ({n})" for k, n in identities.most_common())
        out.append(f"judgments come from {len(identities)} different judge identities: {listed}")
    for name, n in drift.items():
        out.append(
            f"category {name}: {n} judgments used a prompt version other than the category's current {categories[name].prompt_version}"
        )
    return out
