"""report.html: one static file (no server, no CDN) to read a run sample by sample.

This module gathers what the page shows (figures, judgment rows, charts) into plain values and
hands them to ``templates/report.html.j2``; thumbnails come from :mod:`editbench.report.thumbs`,
full-size images from :mod:`editbench.report.images` (inside the report folder, linked relatively,
so the folder can be zipped and shared), chart geometry from :mod:`editbench.report.charts`.
Every row is rendered on the server side, so the page reads without JavaScript;
``static/report.js`` adds the sample browser: search, filters (category, status, score range,
slices), and a viewer showing one sample's images full size, side by side, with zoom, next to
every criterion's score and reasoning. Its whole state lives in the URL hash
(``report.html#q=cat&status=done&min=5&open=12&zoom=2``), so any view is a link you can send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from editbench.report.charts import criteria_chart, histogram
from editbench.report.data import RunData, SampleData
from editbench.report.documents import RunCard, Summary
from editbench.report.images import ImageKey
from editbench.report.markdown import failure_reason, fmt
from editbench.report.official import official_layout, protocol_line
from editbench.report.slices import group_samples, slice_value
from editbench.report.summary import SampleScore, score_sample
from editbench.report.templating import render
from editbench.report.thumbs import Thumb, Thumbs, make_thumbnails

FAILURE_STATES = ("failed", "parse_error", "refusal", "missing")


@dataclass(frozen=True)
class Figure:
    """One image cell: a thumbnail (linked to the original when it is on this machine) or a
    placeholder saying why there is none."""

    label: str
    src: str | None = None
    href: str | None = None
    placeholder: str = ""


@dataclass(frozen=True)
class SampleView:
    sample: SampleData
    score: SampleScore
    order: int
    failure: bool  # the sample, or one of its judgments, ended failed/parse error/refusal/missing
    figures: list[Figure]
    reason: str  # why there is no overall score ("" when there is one)
    data_score: str  # the sort key the filters read; "" for unscored
    data_slices: str = "{}"  # JSON {slice key: value} for the slice filters


def _figure(entry: Thumb | None, label: str, full: str | None = None) -> Figure:
    """``full``: the full-size copy inside the report folder; without one, the original's URI."""
    src, original = entry or (None, None)
    if src is None:
        return Figure(label, placeholder=f"{label}: not available")
    return Figure(label, src, full or (original.as_uri() if original is not None else None))


def sample_view(
    s: SampleData,
    score: SampleScore,
    order: int,
    thumbs: Thumbs,
    images: Mapping[ImageKey, str] | None = None,
    slices: tuple[str, ...] = (),
) -> SampleView:
    images = images or {}
    figures = [_figure(thumbs.get((s.id, "source")), "source", images.get((s.id, "source")))]
    if s.edit is not None and s.edit.status == "done":
        figures.append(_figure(thumbs.get((s.id, "edited")), "edited", images.get((s.id, "edited"))))
    else:
        figures.append(Figure("edited", placeholder=f"edit {s.edit.status if s.edit else 'no edit row'}"))
    if s.reference_path or s.reference_sha256:
        figures.append(_figure(thumbs.get((s.id, "reference")), "reference", images.get((s.id, "reference"))))
    return SampleView(
        sample=s,
        score=score,
        order=order,
        failure=score.status in FAILURE_STATES or any(j.status in FAILURE_STATES for j in s.judgments.values()),
        figures=figures,
        reason=failure_reason(s) if score.overall is None else "",
        data_score=f"{score.overall:.6f}" if score.overall is not None else "",
        data_slices=json.dumps({key: slice_value(s, key) for key in slices}, ensure_ascii=False),
    )


def render_html(
    run: RunData,
    summary: Summary,
    card: RunCard,
    out_dir: Path,
    home: Path,
    *,
    images: Mapping[ImageKey, str] | None = None,
) -> str:
    """``images``: (sample id, role) → full-size image relative to ``out_dir`` (see
    :func:`~editbench.report.images.place_images`); without it, links point at the originals."""
    thumbs = make_thumbnails(run, out_dir / "thumbs", home)
    scores = {s.id: score_sample(s, run.category(s.category), run.benchmark) for s in run.samples}
    lo, hi = summary.score_scale.min, summary.score_scale.max
    histograms = []
    for name, c in summary.categories.items():
        values = [v for s in run.samples_in(name) if (v := scores[s.id].overall) is not None]
        o = c.overall
        histograms.append((histogram(values, o.n_total - o.count, lo, hi), f"{name}: mean {fmt(o.mean)}, n={o.count}"))
    return render(
        "report.html.j2",
        title=f"editbench report: {run.label}",
        run=run,
        summary=summary,
        has_pass=any(c.pass_ for c in summary.categories.values()),
        histograms=histograms,
        criteria_chart=criteria_chart(summary),
        category_names=[c.name for c in run.categories],
        samples=[sample_view(s, scores[s.id], i, thumbs, images, run.benchmark.slices) for i, s in enumerate(run.samples)],
        slice_filters={key: list(group_samples(run.samples, key)) for key in run.benchmark.slices},
        statuses=sorted({v.status for v in scores.values()}, key=lambda st: (st != "done", st)),
        card_json=json.dumps(card.to_json_dict(), indent=2, sort_keys=False, default=str),
        protocol=protocol_line(summary.official),
        official=official_layout(summary.official) if summary.official is not None else None,
    )
