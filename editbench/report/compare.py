"""``editbench compare``: the same items, run against run, with paired statistics.

The first run is the baseline A; every other run B is compared with it item by item. Items are
matched by (category, external id). Only items scored in *both* runs are paired; the others are
counted (scored only in A, only in B, in neither), never imputed.

For each category: mean of A and B over the paired items, the mean paired difference B − A with a
95% paired bootstrap interval, a two-sided sign-flip permutation p-value, and that p-value
Holm-adjusted across the categories. A difference is marked *real* when the adjusted p-value is
below 0.05. Judge agreement is the Spearman rank correlation and Kendall's tau-b of the paired
scores; it is the headline when the two runs share their edited images (``shared_edits``: B
re-judged A with ``editbench judge``, so every paired item has byte-identical images) and
differ in judge.

This module computes (:func:`compare_runs` → :class:`~editbench.report.documents.CompareResult`),
builds the table rows both pages show (:func:`category_rows`, :func:`criterion_rows`,
:func:`agreement_rows`, :func:`run_row`) and writes the three files; ``compare_markdown`` and
``compare_html`` only lay the rows out and add their own emphasis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.report import stats
from editbench.report.data import RunData, SampleData, load_run
from editbench.report.documents import (
    COMPARE_FORMAT,
    CategoryComparison,
    CategoryHeadline,
    CompareMethod,
    CompareResult,
    CompareRun,
    Comparison,
    ComparisonKind,
    HashedModelRef,
    MacroDiff,
    PairedDifference,
)
from editbench.report.markdown import fmt, fmt_ci, fmt_p, fmt_pct, signed
from editbench.report.run_card import params_hash
from editbench.report.summary import score_sample, summarize

FORMAT = COMPARE_FORMAT
ALPHA = 0.05
KINDS: dict[ComparisonKind, str] = {
    "editors": "two editors under one judge: differences are the editors'",
    "judges": "one editor under two judges: read the agreement, differences are the judges' bias",
    "editors_and_judges": "editor and judge both differ: a difference mixes the two effects",
    "repeat": "same editor and judge configuration: differences are run-to-run variance",
}


SHARED_EDITS = "the same edited images under two judges (B re-judged A): differences are the judges' alone; read the agreement first"


@dataclass(frozen=True)
class ComparePaths:
    out_dir: Path
    compare_json: Path
    compare_md: Path
    compare_html: Path


def _same_model(a: Any, b: Any) -> bool:
    return (a.kind, a.path, dict(a.params)) == (b.kind, b.path, dict(b.params))


def _same_output(a: SampleData, b: SampleData) -> bool:
    """Both runs wrote byte-identical edited images (known by their recorded sha256)."""
    return bool(a.edit and b.edit and a.edit.output_sha256 and a.edit.output_sha256 == b.edit.output_sha256)


ItemScores = dict[tuple[str, str], tuple[SampleData, float | None, dict[str, float]]]


def item_scores(run: RunData) -> ItemScores:
    """(category, external id) → (sample, overall score or None, scored criteria)."""
    out = {}
    for s in run.samples:
        scored = score_sample(s, run.category(s.category), run.benchmark)
        out[s.key] = (s, scored.overall, dict(scored.scores))
    return out


def paired_statistics(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """The numbers of one paired comparison (before Holm): pairs, means, B − A, CI, p, Spearman, Kendall."""
    return {
        "n_pairs": len(a),
        "mean_a": stats.mean(a),
        "mean_b": stats.mean(b),
        "diff": stats.mean([y - x for x, y in zip(a, b, strict=True)]),
        "ci95": stats.paired_bootstrap_ci(a, b),
        "p_value": stats.paired_permutation_test(a, b),
        "spearman": stats.spearman(a, b),
        "kendall": stats.kendall(a, b),
    }


def paired_block(a: Sequence[float], b: Sequence[float]) -> PairedDifference:
    return PairedDifference(**paired_statistics(a, b))


Verdicted = PairedDifference | CategoryComparison


def _mark(blocks: Sequence[Verdicted]) -> None:
    """Holm-adjust the p-values of one family (a metric across categories) and mark verdicts."""
    adjusted = stats.holm([b.p_value for b in blocks])
    for block, p in zip(blocks, adjusted, strict=True):
        _verdict(block, p)


def _verdict(block: Verdicted, p_adjusted: float | None) -> None:
    block.p_holm = p_adjusted
    block.significant = p_adjusted is not None and p_adjusted < ALPHA
    if not block.significant:
        block.verdict = "no significant difference" if block.n_pairs else "no paired items"
    else:
        block.verdict = "B higher" if (block.diff or 0.0) > 0 else "A higher"


def compare_pair(a: RunData, b: RunData) -> Comparison:
    warnings = []
    same_editor, same_judge = _same_model(a.editor, b.editor), _same_model(a.judge, b.judge)
    kinds: dict[tuple[bool, bool], ComparisonKind] = {
        (False, True): "editors",
        (True, False): "judges",
        (False, False): "editors_and_judges",
        (True, True): "repeat",
    }
    kind = kinds[(same_editor, same_judge)]
    if (a.benchmark.name, a.benchmark.version) != (b.benchmark.name, b.benchmark.version):
        warnings.append(
            f"different benchmarks ({a.benchmark.name} v{a.benchmark.version} vs "
            f"{b.benchmark.name} v{b.benchmark.version}); items are matched by (category, id)"
        )
    elif a.benchmark.content_hash != b.benchmark.content_hash:
        warnings.append("the benchmark's content hash changed between the runs; items are matched by (category, id)")
    if kind == "editors_and_judges":
        warnings.append(KINDS[kind])
    if same_judge:
        for cat in a.categories:
            other = next((c for c in b.categories if c.name == cat.name), None)
            if other and cat.prompt_version and other.prompt_version and cat.prompt_version != other.prompt_version:
                warnings.append(f"category {cat.name}: judge prompt versions differ ({cat.prompt_version} vs {other.prompt_version})")
    for run in (a, b):
        if run.status != "done":
            warnings.append(f"{run.label} is still {run.status}; its numbers are partial")

    sa, sb = item_scores(a), item_scores(b)
    categories: dict[str, CategoryComparison] = {}
    pooled_a: list[float] = []
    pooled_b: list[float] = []
    criteria_names: list[str] = []
    names = [c.name for c in a.categories] + [c.name for c in b.categories if c.name not in {x.name for x in a.categories}]
    for name in names:
        keys_a = {k for k in sa if k[0] == name}
        keys_b = {k for k in sb if k[0] == name}
        common = sorted(keys_a & keys_b)
        xa: list[float] = []
        xb: list[float] = []
        for k in common:
            score_a, score_b = sa[k][1], sb[k][1]
            if score_a is not None and score_b is not None:
                xa.append(score_a)
                xb.append(score_b)
        pooled_a += xa
        pooled_b += xb
        criteria: dict[str, PairedDifference] = {}
        declared = [c for run in (a, b) for cat in run.categories if cat.name == name for c in cat.criteria]
        for criterion in dict.fromkeys(declared):
            both = [k for k in common if criterion in sa[k][2] and criterion in sb[k][2]]
            if criterion not in criteria_names:
                criteria_names.append(criterion)
            criteria[criterion] = paired_block([sa[k][2][criterion] for k in both], [sb[k][2][criterion] for k in both])
        scored = [(sa[k][1] is not None, sb[k][1] is not None) for k in common]
        categories[name] = CategoryComparison(
            **paired_statistics(xa, xb),
            n_only_in_a=len(keys_a - keys_b),
            n_only_in_b=len(keys_b - keys_a),
            n_scored_only_in_a=scored.count((True, False)),
            n_scored_only_in_b=scored.count((False, True)),
            n_scored_in_neither=scored.count((False, False)),
            n_identical_edits=sum(1 for k in common if _same_output(sa[k][0], sb[k][0])),
            criteria=criteria,
        )

    common_items = [k for k in sa if k in sb]
    shared_edits = bool(common_items) and all(_same_output(sa[k][0], sb[k][0]) for k in common_items)
    description = KINDS[kind]
    if shared_edits and not same_judge:
        description = SHARED_EDITS
    _mark(list(categories.values()))
    for criterion in criteria_names:
        _mark([c.criteria[criterion] for c in categories.values() if criterion in c.criteria])
    pooled = paired_block(pooled_a, pooled_b)
    _verdict(pooled, pooled.p_value)
    with_pairs = [c.diff for c in categories.values() if c.n_pairs and c.diff is not None]
    macro_diff = stats.mean(with_pairs) if with_pairs else None

    return Comparison(
        a=a.id,
        b=b.id,
        kind=kind,
        shared_edits=shared_edits,
        description=description,
        warnings=warnings,
        categories=categories,
        all_items=pooled,
        macro_diff=MacroDiff(
            value=macro_diff,
            definition="mean of the per-category paired differences (each category weighs the same)",
        ),
    )


METHOD = CompareMethod(
    pairing="items matched by (category, external id); only items scored in both runs are paired",
    diff="mean of B − A over paired items",
    ci95=f"paired percentile bootstrap, {stats.RESAMPLES} resamples, seed {stats.SEED}",
    test="two-sided sign-flip permutation test of the mean difference (exact for n ≤ 13)",
    multiple_comparisons="Holm across categories, per metric; 'significant' means p_holm < 0.05",
    agreement="Spearman rank correlation and Kendall's tau-b of the paired scores",
)


def _model_ref(model: Any) -> HashedModelRef:
    return HashedModelRef(kind=model.kind, path=model.path, params_hash=params_hash(model))


def compare_runs(runs: Sequence[RunData]) -> CompareResult:
    """Compare every run with the first one; also each run's own summary headline."""
    if len(runs) < 2:
        raise ValueError("compare needs at least two runs")
    summaries = [summarize(r) for r in runs]
    return CompareResult(
        alpha=ALPHA,
        method=METHOD,
        runs=[
            CompareRun(
                id=r.id,
                label=r.label,
                status=r.status,
                benchmark=f"{r.benchmark.name} v{r.benchmark.version}",
                editor=_model_ref(r.editor),
                judge=_model_ref(r.judge),
                macro_mean=s.overall.macro_mean.value,
                micro_mean=s.overall.micro_mean.value,
                coverage=s.overall.samples.coverage,
                categories={
                    n: CategoryHeadline(mean=c.overall.mean, count=c.overall.count, n_total=c.overall.n_total)
                    for n, c in s.categories.items()
                },
            )
            for r, s in zip(runs, summaries, strict=True)
        ],
        comparisons=[compare_pair(runs[0], b) for b in runs[1:]],
    )


# -- The tables both compare.md and compare.html show ---------------------------------------------
# Built once here so the two pages cannot drift apart: a renderer only lays the cells out and adds
# its own emphasis to rows that differ for real (bold cells in Markdown, a highlighted row in HTML).

RUN_HEADER = ["run", "editor", "judge", "benchmark", "macro mean", "micro mean", "coverage", "status"]
CATEGORY_HEADER = [
    "category",
    "pairs",
    "A",
    "B",
    "B − A",
    "95% CI",
    "p",
    "p (Holm)",
    "verdict",
    "Spearman ρ",
    "unpaired A/B/neither",
]
CRITERION_HEADER = ["category", "criterion", "pairs", "A", "B", "B − A", "95% CI", "p (Holm)", "verdict", "Spearman ρ"]
AGREEMENT_HEADER = ["category", "criterion", "pairs", "Spearman ρ", "Kendall τ", "A", "B", "B − A (bias)"]


@dataclass(frozen=True)
class TableRow:
    """One row's cells (already formatted) and whether it differs for real (Holm-adjusted), which
    each page shows its own way."""

    cells: list[object]
    real: bool = False


def run_row(r: CompareRun) -> list[str]:
    """One run's line in the run table."""
    return [
        r.label,
        f"{r.editor.kind} ({r.editor.params_hash[:8]})",
        f"{r.judge.kind} ({r.judge.params_hash[:8]})",
        r.benchmark,
        fmt(r.macro_mean),
        fmt(r.micro_mean),
        fmt_pct(r.coverage),
        r.status,
    ]


def category_rows(comp: Comparison) -> list[TableRow]:
    """The differences table: one row per category, then all items (micro; never marked real,
    its p-value is not Holm-adjusted)."""
    rows = [
        TableRow(
            [
                name,
                c.n_pairs,
                fmt(c.mean_a),
                fmt(c.mean_b),
                signed(c.diff),
                fmt_ci(c.ci95),
                fmt_p(c.p_value),
                fmt_p(c.p_holm),
                c.verdict,
                fmt(c.spearman),
                f"{c.n_scored_only_in_a}/{c.n_scored_only_in_b}/{c.n_scored_in_neither}",
            ],
            c.significant,
        )
        for name, c in comp.categories.items()
    ]
    p = comp.all_items
    all_items = [
        "all items (micro)",
        p.n_pairs,
        fmt(p.mean_a),
        fmt(p.mean_b),
        signed(p.diff),
        fmt_ci(p.ci95),
        fmt_p(p.p_value),
        "",
        p.verdict,
        fmt(p.spearman),
        "",
    ]
    return rows + [TableRow(all_items)]


def criterion_rows(comp: Comparison) -> list[TableRow]:
    """The per-criterion differences, category by category."""
    return [
        TableRow(
            [
                name,
                criterion,
                k.n_pairs,
                fmt(k.mean_a),
                fmt(k.mean_b),
                signed(k.diff),
                fmt_ci(k.ci95),
                fmt_p(k.p_holm),
                k.verdict,
                fmt(k.spearman),
            ],
            k.significant,
        )
        for name, c in comp.categories.items()
        for criterion, k in c.criteria.items()
    ]


def agreement_rows(comp: Comparison) -> list[list[object]]:
    """Judge-vs-judge agreement per category (overall score, then each criterion) and over all
    items: the headline of a comparison whose runs share their edited images."""
    rows: list[list[object]] = []
    for name, c in comp.categories.items():
        rows.append([name, "overall", c.n_pairs, fmt(c.spearman), fmt(c.kendall), fmt(c.mean_a), fmt(c.mean_b), signed(c.diff)])
        for criterion, k in c.criteria.items():
            rows.append(["", criterion, k.n_pairs, fmt(k.spearman), fmt(k.kendall), fmt(k.mean_a), fmt(k.mean_b), signed(k.diff)])
    p = comp.all_items
    rows.append(["all items", "overall", p.n_pairs, fmt(p.spearman), fmt(p.kendall), fmt(p.mean_a), fmt(p.mean_b), signed(p.diff)])
    return rows


def shows_agreement(comp: Comparison) -> bool:
    """Two judges looked at the same edits (shared images, or one editor configuration)."""
    return comp.shared_edits or comp.kind == "judges"


def write_comparison(session: Session, run_ids: Sequence[int], out_dir: Path | str, *, home: Path | None = None) -> ComparePaths:
    """Write compare.json, compare.md and compare.html (+ thumbs/) for runs A, B[, C ...]."""
    return write_comparison_for([load_run(session, run_id) for run_id in run_ids], Path(out_dir), home=home)


def write_comparison_for(runs: Sequence[RunData], out_dir: Path, *, home: Path | None = None) -> ComparePaths:
    """The same from runs already loaded (so a caller can close its transaction first)."""
    from editbench.report import write_json, write_text
    from editbench.report.compare_html import render_compare_html
    from editbench.report.compare_markdown import render_compare_markdown

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    home = home or load_settings().home
    paths = ComparePaths(out_dir, out_dir / "compare.json", out_dir / "compare.md", out_dir / "compare.html")
    result = compare_runs(runs)
    write_json(paths.compare_json, result)
    write_text(paths.compare_md, render_compare_markdown(result))
    write_text(paths.compare_html, render_compare_html(result, runs, out_dir, home))
    return paths
