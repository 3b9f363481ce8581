"""compare.md: a comparison's paired differences as Markdown tables (numbers come from ``compare``)."""

from __future__ import annotations

from editbench.report.documents import CompareResult, CompareRun, Comparison
from editbench.report.markdown import fmt, fmt_ci, fmt_p, fmt_pct, signed, table

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


def run_row(r: CompareRun) -> list[str]:
    """One run's line in the run table (markdown and HTML show the same cells)."""
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


def render_compare_markdown(result: CompareResult) -> str:
    runs = {r.id: r for r in result.runs}
    out = ["# editbench comparison", ""]
    out += table(RUN_HEADER, [run_row(r) for r in result.runs], "llllrrrl")
    out += [
        "",
        "Differences are B − A over items scored in both runs; 95% CI by paired bootstrap; p by a paired "
        "sign-flip permutation test, Holm-adjusted across categories. **Bold** rows differ for real "
        f"(adjusted p < {result.alpha}).",
        "",
    ]
    for comp in result.comparisons:
        a, b = runs[comp.a], runs[comp.b]
        out += [f"## A = {a.label} vs B = {b.label}", "", f"*{comp.description}.*", ""]
        out += [f"> - {w}" for w in comp.warnings] + ([""] if comp.warnings else [])
        agreement = ["### Judge agreement" + (" (same edited images)" if comp.shared_edits else ""), ""]
        agreement += table(AGREEMENT_HEADER, agreement_rows(comp), "llrrrrrr") + [""]
        if comp.shared_edits:  # the headline: how far the two judges agree on identical images
            out += agreement + ["### Differences (B − A)", ""]
        rows: list[list[object]] = []
        for name, c in comp.categories.items():
            bold = "**" if c.significant else ""
            rows.append(
                [
                    f"{bold}{name}{bold}",
                    c.n_pairs,
                    fmt(c.mean_a),
                    fmt(c.mean_b),
                    f"{bold}{signed(c.diff)}{bold}",
                    fmt_ci(c.ci95),
                    fmt_p(c.p_value),
                    fmt_p(c.p_holm),
                    c.verdict,
                    fmt(c.spearman),
                    f"{c.n_scored_only_in_a}/{c.n_scored_only_in_b}/{c.n_scored_in_neither}",
                ]
            )
        p = comp.all_items
        rows.append(
            [
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
        )
        out += table(CATEGORY_HEADER, rows, "lrrrrrrrlrr")
        out += ["", f"Macro difference (mean of category differences): {signed(comp.macro_diff.value)}.", ""]
        if shows_agreement(comp) and not comp.shared_edits:
            out += agreement
        crit_rows = []
        for name, c in comp.categories.items():
            for criterion, k in c.criteria.items():
                crit_rows.append(
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
                    ]
                )
        if crit_rows:
            title = "### Per criterion"  # the judges' agreement per criterion has its own table
            out += [title, ""]
            out += table(CRITERION_HEADER, crit_rows, "llrrrrrrlr")
            out.append("")
    return "\n".join(out)
