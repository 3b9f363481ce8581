"""compare.html: the comparison as one self-contained page (``templates/compare.html.j2``).

The run table, per comparison a forest plot (:func:`editbench.report.charts.forest_plot`) and the
paired tables, then every item with each run's edited image and score side by side. The numbers
and table rows are ``compare``'s; this module only arranges them and the figures for the template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from editbench.report.charts import Chart, forest_plot
from editbench.report.compare import (
    AGREEMENT_HEADER,
    CATEGORY_HEADER,
    CRITERION_HEADER,
    RUN_HEADER,
    agreement_rows,
    category_rows,
    criterion_rows,
    item_scores,
    run_row,
    shows_agreement,
)
from editbench.report.data import RunData
from editbench.report.documents import CompareResult, CompareRun, Comparison
from editbench.report.markdown import fmt
from editbench.report.summary import score_sample
from editbench.report.templating import render
from editbench.report.thumbs import Thumb, make_thumbnails


@dataclass(frozen=True)
class ComparisonView:
    a_label: str
    b_label: str
    description: str
    warnings: list[str]
    forest: Chart
    rows: list[list[object]]
    strong: list[bool]
    macro_diff: float | None
    criterion_title: str
    criterion_rows: list[list[object]]
    criterion_strong: list[bool]
    agreement_rows: list[list[object]]
    """Judge agreement per category; empty unless two judges saw the same edits."""
    agreement_first: bool
    """The runs share their edited images: agreement is the headline, shown before differences."""


@dataclass(frozen=True)
class ItemFigure:
    label: str
    src: str | None
    caption: str


@dataclass(frozen=True)
class ItemView:
    category: str
    external_id: str
    order: int
    diff: float | None  # B − A of the first comparison
    absdiff: str  # the sort key the filters read; "" when either side is unscored
    figures: list[ItemFigure]
    instruction: str


def comparison_view(comp: Comparison, runs: Mapping[int, CompareRun], lo: float, hi: float) -> ComparisonView:
    rows = category_rows(comp)
    criteria = criterion_rows(comp)
    return ComparisonView(
        a_label=runs[comp.a].label,
        b_label=runs[comp.b].label,
        description=comp.description,
        warnings=comp.warnings,
        forest=forest_plot(comp, lo, hi),
        rows=[row.cells for row in rows],
        strong=[row.real for row in rows],
        macro_diff=comp.macro_diff.value,
        criterion_title="Per criterion",  # the judges' agreement per criterion has its own table
        criterion_rows=[row.cells for row in criteria],
        criterion_strong=[row.real for row in criteria],
        agreement_rows=agreement_rows(comp) if shows_agreement(comp) else [],
        agreement_first=comp.shared_edits,
    )


def item_views(runs: Sequence[RunData], out_dir: Path, home: Path) -> tuple[list[ItemView], list[str]]:
    """Every item of any run, in first-seen order, with each run's edited thumbnail and score."""
    thumbs = {r.id: make_thumbnails(r, out_dir / "thumbs", home) for r in runs}
    scores = [item_scores(r) for r in runs]
    keys = list(dict.fromkeys(k for sc in scores for k in sc))
    categories = list(dict.fromkeys(k[0] for k in keys))
    items = []
    for order, key in enumerate(keys):
        first = next(sc[key][0] for sc in scores if key in sc)
        source: Thumb | None = next(
            (thumbs[r.id].get((sc[key][0].id, "source")) for r, sc in zip(runs, scores, strict=True) if key in sc), None
        )
        figures = [ItemFigure("source", source[0] if source else None, "")]
        values: list[float | None] = []
        for r, sc in zip(runs, scores, strict=True):
            if key not in sc:
                figures.append(ItemFigure(r.label, None, "not in this run"))
                values.append(None)
                continue
            sample, overall, per = sc[key]
            values.append(overall)
            detail = " · ".join(f"{c} {v:g}" for c, v in per.items())
            status = fmt(overall) if overall is not None else score_sample(sample, r.category(sample.category), r.benchmark).status
            edited = thumbs[r.id].get((sample.id, "edited")) if sample.edit and sample.edit.status == "done" else None
            figures.append(ItemFigure(r.label, edited[0] if edited else None, status + (f" ({detail})" if detail else "")))
        a, b = (values + [None, None])[:2]
        diff = b - a if len(values) > 1 and a is not None and b is not None else None
        items.append(
            ItemView(
                category=key[0],
                external_id=key[1],
                order=order,
                diff=diff,
                absdiff=str(abs(diff)) if diff is not None else "",
                figures=figures,
                instruction=first.instruction,
            )
        )
    return items, categories


def render_compare_html(result: CompareResult, runs: Sequence[RunData], out_dir: Path, home: Path) -> str:
    by_id = {r.id: r for r in result.runs}
    lo, hi = runs[0].benchmark.score_min, runs[0].benchmark.score_max
    items, categories = item_views(runs, out_dir, home)
    return render(
        "compare.html.j2",
        result=result,
        run_header=RUN_HEADER,
        run_rows=[run_row(r) for r in result.runs],
        method=list(result.method.model_dump().items()),
        comparisons=[comparison_view(c, by_id, lo, hi) for c in result.comparisons],
        category_header=CATEGORY_HEADER,
        criterion_header=CRITERION_HEADER,
        agreement_header=AGREEMENT_HEADER,
        category_names=categories,
        items=items,
    )
