"""The report's inline SVG charts, as geometry: a chart is a list of shapes with their attributes.

This module only computes where things go. The markup is written by the ``svg`` macro in
``templates/_svg.html.j2`` with autoescaping on, so a category or criterion name that holds
``<`` or ``&`` lands in the page as text, never as markup. Numbers are formatted here (one
decimal for coordinates) so the SVG is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from editbench.report.documents import Comparison, Summary
from editbench.report.markdown import fmt_ci, fmt_p

PALETTE = ("#3b6fb6", "#d9822b", "#3a9a5b", "#b5485d", "#7a5cb3", "#6b7a8f")
SIGNIFICANT_COLOR = "#b5485d"
PLAIN_COLOR = "#666"


@dataclass(frozen=True)
class Shape:
    """One SVG element: tag, attributes in order, optional text content and hover title."""

    tag: str
    attrs: tuple[tuple[str, str], ...]
    text: str = ""
    title: str = ""


@dataclass
class Chart:
    width: float
    height: float
    css_class: str = ""
    shapes: list[Shape] = field(default_factory=list)

    def add(self, tag: str, *, text: str = "", title: str = "", **attrs: object) -> None:
        """Add a shape; ``attrs`` keys use ``_`` for ``-`` (text_anchor → text-anchor; class_ → class)."""
        self.shapes.append(Shape(tag, tuple((k.rstrip("_").replace("_", "-"), str(v)) for k, v in attrs.items()), text, title))


def _f(value: float) -> str:
    return f"{value:.1f}"


def _x(value: float, lo: float, hi: float, left: float, width: float) -> float:
    return left + (value - lo) / (hi - lo) * width if hi > lo else left


def histogram(values: Sequence[float], n_unscored: int, lo: float, hi: float, *, bins: int = 10) -> Chart:
    """Distribution of per-sample overall scores, with the unscored samples as a grey bar."""
    width, height, left, bottom, gap = 260, 120, 8, 22, 36
    plot_w = width - left - gap - 8
    plot_h = height - bottom - 10
    counts = [0] * bins
    for v in values:
        i = int((v - lo) / (hi - lo) * bins) if hi > lo else 0
        counts[min(max(i, 0), bins - 1)] += 1
    peak = max(counts + [n_unscored, 1])
    bar_w = plot_w / bins
    chart = Chart(width, height, "hist")
    for i, n in enumerate(counts):
        h = plot_h * n / peak
        a = lo + (hi - lo) * i / bins
        b = lo + (hi - lo) * (i + 1) / bins
        chart.add(
            "rect",
            x=_f(left + i * bar_w + 1),
            y=_f(10 + plot_h - h),
            width=_f(bar_w - 2),
            height=_f(h),
            fill=PALETTE[0],
            title=f"{a:g}–{b:g}: {n} samples",
        )
    if values:
        m = sum(values) / len(values)
        x = _f(_x(m, lo, hi, left, plot_w))
        chart.add("line", x1=x, x2=x, y1=6, y2=10 + plot_h, stroke="#222", stroke_dasharray="3 2", title=f"mean {m:.2f}")
    ux = width - gap + 4
    uh = plot_h * n_unscored / peak
    chart.add("rect", x=ux, y=_f(10 + plot_h - uh), width=22, height=_f(uh), fill="#aaa", title=f"unscored: {n_unscored}")
    axis_y = 10 + plot_h
    chart.add("line", x1=left, x2=left + plot_w, y1=axis_y, y2=axis_y, stroke="#888")
    chart.add("text", x=left, y=height - 6, class_="tick", text=f"{lo:g}")
    chart.add("text", x=left + plot_w, y=height - 6, class_="tick", text_anchor="end", text=f"{hi:g}")
    chart.add("text", x=ux + 11, y=height - 6, class_="tick", text_anchor="middle", text=f"n/a {n_unscored}")
    return chart


def criteria_chart(summary: Summary) -> Chart:
    """Per category, one bar per criterion (mean) with its 95% CI as a whisker."""
    lo, hi = summary.score_scale.min, summary.score_scale.max
    criteria = list(summary.criteria)
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(criteria)}
    label_w, plot_w, bar_h, pad = 170, 420, 12, 10
    rows = [(name, c.criteria_scores) for name, c in summary.categories.items()]
    group_h = bar_h * max(1, len(criteria)) + pad
    chart = Chart(label_w + plot_w + 60, 30 + group_h * len(rows) + 24, "criteria-chart")
    for i, c in enumerate(criteria):
        chart.add("rect", x=label_w + i * 170, y=4, width=10, height=10, fill=colors[c])
        chart.add("text", x=label_w + i * 170 + 14, y=13, class_="tick", text=c)
    bottom = 30 + group_h * len(rows)
    for k in range(6):  # grid first, so bars and whiskers stay on top
        v = lo + (hi - lo) * k / 5
        x = _f(_x(v, lo, hi, label_w, plot_w))
        chart.add("line", x1=x, x2=x, y1=26, y2=bottom, stroke="#e4e4e4")
        chart.add("text", x=x, y=bottom + 14, class_="tick", text_anchor="middle", text=f"{v:g}")
    y = 30
    for name, blocks in rows:
        chart.add("text", x=label_w - 6, y=_f(y + group_h / 2), class_="label", text_anchor="end", text=name)
        for j, criterion in enumerate(criteria):
            b = blocks.get(criterion)
            if not b or b.mean is None:
                continue
            top = y + j * bar_h
            title = f"{name} · {criterion}: {b.mean:.2f} (n={b.count}, CI {fmt_ci(b.ci95)})"
            chart.add(
                "rect",
                x=label_w,
                y=top,
                width=_f(_x(b.mean, lo, hi, 0, plot_w)),
                height=bar_h - 2,
                fill=colors[criterion],
                title=title,
            )
            if b.ci95:
                x1, x2 = (_f(_x(v, lo, hi, label_w, plot_w)) for v in b.ci95)
                mid = _f(top + (bar_h - 2) / 2)
                chart.add("line", x1=x1, x2=x2, y1=mid, y2=mid, stroke="#222")
        y += group_h
    return chart


def forest_plot(comp: Comparison, lo: float, hi: float) -> Chart:
    """Per category, B − A with its interval around a zero line."""
    rows = list(comp.categories.items())
    span = max([abs(v) for c in comp.categories.values() for v in (c.ci95 or [c.diff or 0])] + [0.5])
    span = min(span * 1.15, hi - lo)
    label_w, plot_w, row_h = 170, 380, 20
    height = row_h * len(rows) + 34
    chart = Chart(label_w + plot_w + 20, height)

    def x(v: float) -> str:
        return _f(label_w + (v + span) / (2 * span) * plot_w)

    chart.add("line", x1=x(0), x2=x(0), y1=4, y2=height - 24, stroke="#888")
    for i, (name, c) in enumerate(rows):
        y = 12 + i * row_h
        color = SIGNIFICANT_COLOR if c.significant else PLAIN_COLOR
        chart.add("text", x=label_w - 6, y=y + 4, text_anchor="end", class_="label", text=name)
        if c.ci95:
            chart.add("line", x1=x(c.ci95[0]), x2=x(c.ci95[1]), y1=y, y2=y, stroke=color, stroke_width=2)
        if c.diff is not None:
            title = f"{name}: {c.diff:+.2f} {fmt_ci(c.ci95)}, p(Holm) {fmt_p(c.p_holm)}"
            chart.add("circle", cx=x(c.diff), cy=y, r=4, fill=color, title=title)
    for v in (-span, -span / 2, 0, span / 2, span):
        chart.add("text", x=x(v), y=height - 8, text_anchor="middle", class_="tick", text=f"{v:+.2f}")
    return chart
