"""compare.md: a comparison's paired differences as Markdown tables (rows come from ``compare``)."""

from __future__ import annotations

from editbench.report.compare import (
    AGREEMENT_HEADER,
    CATEGORY_HEADER,
    CRITERION_HEADER,
    RUN_HEADER,
    TableRow,
    agreement_rows,
    category_rows,
    criterion_rows,
    run_row,
    shows_agreement,
)
from editbench.report.documents import CompareResult
from editbench.report.markdown import signed, table

# Markdown emphasis for a row that differs for real: its category and its B − A in bold.
BOLD_CELLS = (0, 4)


def emphasised(row: TableRow) -> list[object]:
    """The row's cells, with :data:`BOLD_CELLS` in bold when the row differs for real."""
    if not row.real:
        return row.cells
    return [f"**{cell}**" if i in BOLD_CELLS else cell for i, cell in enumerate(row.cells)]


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
        rows = [emphasised(row) for row in category_rows(comp)]
        out += table(CATEGORY_HEADER, rows, "lrrrrrrrlrr")
        out += ["", f"Macro difference (mean of category differences): {signed(comp.macro_diff.value)}.", ""]
        if shows_agreement(comp) and not comp.shared_edits:
            out += agreement
        crit_rows = [row.cells for row in criterion_rows(comp)]
        if crit_rows:
            title = "### Per criterion"  # the judges' agreement per criterion has its own table
            out += [title, ""]
            out += table(CRITERION_HEADER, crit_rows, "llrrrrrrlr")
            out.append("")
    return "\n".join(out)
