"""report.html: one static file (no server, no CDN) to read a run sample by sample.

Thumbnails go to ``thumbs/`` beside the page, named by the image's sha256 and hard-linked from a
cache under EDITBENCH_HOME, so a report written again (say, while the run is still going), another
run of the same benchmark or a comparison only makes the thumbnails it has never made. Every
row is rendered here, in Python, so the page reads without JavaScript; a few lines of vanilla JS
add the filters. Their state lives in the URL hash (``report.html#category=physics&failures=1
&sort=lowest``), so a filtered view is a link you can send.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from html import escape
from pathlib import Path
from typing import Any

from editbench.report.data import RunData, SampleData, resolve_image
from editbench.report.markdown import (
    STATUS_LABELS,
    failure_reason,
    fmt,
    fmt_ci,
    fmt_pass,
    fmt_pct,
)
from editbench.report.summary import UNSCORED_STATES, SampleScore, score_sample
from editbench.thumbnails import fetch_shared_thumbnail, make_thumbnail, thumbnail_cache

FAILURE_STATES = ("failed", "parse_error", "refusal", "missing")
PALETTE = ("#3b6fb6", "#d9822b", "#3a9a5b", "#b5485d", "#7a5cb3", "#6b7a8f")


# --------------------------------------------------------------------------- thumbnails


def _thumb_name(path: Path, sha256: str | None) -> str:
    digest = sha256 or hashlib.sha256(str(path).encode()).hexdigest()
    return f"{digest}.jpg"


def _place_thumb(source: Path, target: Path, cached: Path | None) -> bool:
    """Make the thumbnail (in the shared cache when the image has a known hash) and put it at
    ``target``: a hard link to the cached copy, or a copy where links are not possible."""
    if target.exists():
        return True
    if cached is not None and not cached.exists():
        fetch_shared_thumbnail(cached)  # made by a worker and kept in the object store, if any
    if cached is None or not make_thumbnail(source, cached):
        return make_thumbnail(source, target)
    try:
        os.link(cached, target)
    except FileExistsError:
        pass
    except OSError:
        try:
            shutil.copyfile(cached, target)
        except OSError:
            return make_thumbnail(source, target)
    return True


Thumbs = Mapping[tuple[int, str], tuple[str | None, Path | None]]


def make_thumbnails(
    run: RunData, thumbs_dir: Path, home: Path, *, cache_dir: Path | None = None
) -> dict[tuple[int, str], tuple[str | None, Path | None]]:
    """(sample id, 'source'|'edited'|'reference') → (thumbnail path relative to the page, the
    original image); either is None when the image is not on this machine or cannot be decoded."""
    thumbs_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir or thumbnail_cache(home)
    jobs: dict[tuple[int, str], tuple[Path, Path] | None] = {}
    cached: dict[Path, Path | None] = {}
    for s in run.samples:
        wanted = [("source", s.source_path, s.source_sha256)]
        if s.reference_path or s.reference_sha256:
            wanted.append(("reference", s.reference_path, s.reference_sha256))
        if s.edit is not None and s.edit.status == "done":
            wanted.append(("edited", s.edit.output_path, s.edit.output_sha256))
        for role, path, sha in wanted:
            found = resolve_image(path, sha, home)
            if found is None:
                jobs[(s.id, role)] = None
                continue
            target = thumbs_dir / _thumb_name(found, sha)
            jobs[(s.id, role)] = (found, target)
            # only content-named thumbnails may be shared: a path can hold other bytes tomorrow
            cached[target] = cache / target.name if sha else None
    unique = {target: source for pair in jobs.values() if pair for source, target in [pair]}
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # Pillow decodes without the GIL
        made = dict(
            zip(unique, pool.map(_place_thumb, unique.values(), unique.keys(), [cached[t] for t in unique]), strict=True)
        )
    return {
        key: (f"{thumbs_dir.name}/{pair[1].name}", pair[0]) if pair and made[pair[1]] else (None, pair[0] if pair else None)
        for key, pair in jobs.items()
    }


# --------------------------------------------------------------------------- SVG charts


def _x(value: float, lo: float, hi: float, left: float, width: float) -> float:
    return left + (value - lo) / (hi - lo) * width if hi > lo else left


def histogram_svg(values: Sequence[float], n_unscored: int, lo: float, hi: float, *, bins: int = 10) -> str:
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
    parts = [f'<svg class="hist" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">']
    for i, n in enumerate(counts):
        h = plot_h * n / peak
        a = lo + (hi - lo) * i / bins
        b = lo + (hi - lo) * (i + 1) / bins
        parts.append(
            f'<rect x="{left + i * bar_w + 1:.1f}" y="{10 + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{a:g}–{b:g}: {n} samples</title></rect>'
        )
    if values:
        m = sum(values) / len(values)
        x = _x(m, lo, hi, left, plot_w)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="6" y2="{10 + plot_h}" stroke="#222" stroke-dasharray="3 2">'
            f"<title>mean {m:.2f}</title></line>"
        )
    ux = width - gap + 4
    uh = plot_h * n_unscored / peak
    parts.append(
        f'<rect x="{ux}" y="{10 + plot_h - uh:.1f}" width="22" height="{uh:.1f}" fill="#aaa">'
        f"<title>unscored: {n_unscored}</title></rect>"
    )
    axis_y = 10 + plot_h
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{axis_y}" y2="{axis_y}" stroke="#888"/>')
    parts.append(f'<text x="{left}" y="{height - 6}" class="tick">{lo:g}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{height - 6}" class="tick" text-anchor="end">{hi:g}</text>')
    parts.append(f'<text x="{ux + 11}" y="{height - 6}" class="tick" text-anchor="middle">n/a {n_unscored}</text>')
    parts.append("</svg>")
    return "".join(parts)


def criteria_chart_svg(summary: Mapping[str, Any]) -> str:
    """Per category, one bar per criterion (mean) with its 95% CI as a whisker."""
    lo, hi = summary["score_scale"]["min"], summary["score_scale"]["max"]
    criteria = list(summary["criteria"])
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(criteria)}
    label_w, plot_w, bar_h, pad = 170, 420, 12, 10
    rows = [(name, c["criteria_scores"]) for name, c in summary["categories"].items()]
    group_h = bar_h * max(1, len(criteria)) + pad
    height = 30 + group_h * len(rows) + 24
    width = label_w + plot_w + 60
    parts = [f'<svg class="criteria-chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">']
    for i, c in enumerate(criteria):
        parts.append(
            f'<rect x="{label_w + i * 170}" y="4" width="10" height="10" fill="{colors[c]}"/>'
            f'<text x="{label_w + i * 170 + 14}" y="13" class="tick">{escape(c)}</text>'
        )
    bottom = 30 + group_h * len(rows)
    for k in range(0, 6):  # grid first, so bars and whiskers stay on top
        v = lo + (hi - lo) * k / 5
        x = _x(v, lo, hi, label_w, plot_w)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="26" y2="{bottom}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 14}" class="tick" text-anchor="middle">{v:g}</text>')
    y = 30
    for name, blocks in rows:
        parts.append(f'<text x="{label_w - 6}" y="{y + group_h / 2:.1f}" class="label" text-anchor="end">{escape(name)}</text>')
        for j, criterion in enumerate(criteria):
            b = blocks.get(criterion)
            if not b or b["mean"] is None:
                continue
            top = y + j * bar_h
            w = _x(b["mean"], lo, hi, 0, plot_w)
            title = f"{name} · {criterion}: {b['mean']:.2f} (n={b['count']}, CI {fmt_ci(b['ci95'])})"
            parts.append(
                f'<rect x="{label_w}" y="{top}" width="{w:.1f}" height="{bar_h - 2}" fill="{colors[criterion]}">'
                f"<title>{escape(title)}</title></rect>"
            )
            if b["ci95"]:
                x1, x2 = (_x(v, lo, hi, label_w, plot_w) for v in b["ci95"])
                mid = top + (bar_h - 2) / 2
                parts.append(f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{mid:.1f}" y2="{mid:.1f}" stroke="#222"/>')
        y += group_h
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- page


def _thumb(entry: tuple[str | None, Path | None] | None, label: str) -> str:
    src, original = entry or (None, None)
    if src is None:
        return f'<figure><div class="noimg">{escape(label)}: not available</div><figcaption>{escape(label)}</figcaption></figure>'
    img = f'<img loading="lazy" src="{escape(src)}" alt="{escape(label)}">'
    if original is not None:
        img = f'<a href="{escape(original.as_uri())}">{img}</a>'
    return f"<figure>{img}<figcaption>{escape(label)}</figcaption></figure>"


def _sample_html(s: SampleData, score: SampleScore, order: int, thumbs: Thumbs) -> str:
    failure = score.status in FAILURE_STATES or any(j.status in FAILURE_STATES for j in s.judgments.values())
    status_badge = (
        f'<span class="score">{score.overall:.2f}</span>'
        if score.overall is not None
        else f'<span class="badge st-{score.status}">{escape(STATUS_LABELS.get(score.status, score.status))}</span>'
    )
    passed = ""
    if score.passed is not None:
        passed = '<span class="badge pass">pass</span>' if score.passed else '<span class="badge nopass">no pass</span>'
    figures = [_thumb(thumbs.get((s.id, "source")), "source")]
    if s.edit is not None and s.edit.status == "done":
        figures.append(_thumb(thumbs.get((s.id, "edited")), "edited"))
    else:
        what = s.edit.status if s.edit else "no edit row"
        figures.append(f'<figure><div class="noimg">edit {escape(what)}</div><figcaption>edited</figcaption></figure>')
    if s.reference_path or s.reference_sha256:
        figures.append(_thumb(thumbs.get((s.id, "reference")), "reference"))

    rows = []
    for criterion, j in s.judgments.items():
        score_cell = fmt(j.score, 1) if j.status == "done" else f'<span class="badge st-{j.status}">{escape(STATUS_LABELS.get(j.status, j.status))}</span>'
        detail = escape(j.reasoning or "")
        if j.status != "done" and (j.error_code or j.error):
            detail = f'<span class="err">{escape(" ".join(x for x in (j.error_code, j.error) if x))}</span> {detail}'
        raw = f"<details><summary>raw judge output</summary><pre>{escape(j.raw_output)}</pre></details>" if j.raw_output else ""
        conf = fmt(j.confidence, 2) if j.confidence is not None else ""
        rows.append(
            f"<tr><td>{escape(criterion)}</td><td class='num'>{score_cell}</td><td class='num'>{conf}</td><td>{detail}{raw}</td></tr>"
        )
    reason = failure_reason(s) if score.overall is None else ""
    ref_text = f'<p class="ref"><b>Reference:</b> {escape(s.reference_text)}</p>' if s.reference_text else ""
    data_score = f"{score.overall:.6f}" if score.overall is not None else ""
    return (
        f'<article class="sample" id="s-{s.id}" data-category="{escape(s.category)}" data-failure="{int(failure)}" '
        f'data-status="{escape(score.status)}" data-score="{data_score}" data-order="{order}">'
        f'<header><span class="cat">{escape(s.category)}</span> <code>{escape(s.external_id)}</code> '
        f"{status_badge} {passed}</header>"
        f'<div class="figs">{"".join(figures)}</div>'
        f'<div class="body"><p class="instr">{escape(s.instruction)}'
        f' <span class="lang">{escape(s.instruction_language)}</span></p>{ref_text}'
        + (f'<p class="err">Why no score: {escape(reason)}</p>' if reason else "")
        + "<table class='crit'><thead><tr><th>criterion</th><th>score</th><th>conf.</th><th>judge reasoning</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></article>"
    )


def _category_table(summary: Mapping[str, Any]) -> str:
    has_pass = any(c["pass"] for c in summary["categories"].values())
    head = ["category", "n", "scored", "mean", "std", "95% CI"] + (["pass rate"] if has_pass else [])
    head += [STATUS_LABELS[s] for s in UNSCORED_STATES]
    rows = []
    for name, c in summary["categories"].items():
        o = c["overall"]
        cells = [
            f'<a href="#category={escape(name)}">{escape(name)}</a>',
            c["n_samples"],
            o["count"],
            fmt(o["mean"]),
            fmt(o["std"]),
            fmt_ci(o["ci95"]),
        ]
        if has_pass:
            cells.append(fmt_pass(c["pass"]))
        cells += [o[f"n_{s}"] or "" for s in UNSCORED_STATES]
        rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    return (
        "<table class='summary'><thead><tr>"
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def render_html(run: RunData, summary: Mapping[str, Any], card: Mapping[str, Any], out_dir: Path, home: Path) -> str:
    thumbs = make_thumbnails(run, out_dir / "thumbs", home)
    scores = {s.id: score_sample(s, run.category(s.category), run.benchmark) for s in run.samples}
    lo, hi = summary["score_scale"]["min"], summary["score_scale"]["max"]
    overall = summary["overall"]
    macro, micro, block = overall["macro_mean"], overall["micro_mean"], overall["samples"]

    warnings = "".join(f"<li>{escape(w)}</li>" for w in summary["warnings"])
    warnings_html = f'<div class="warn"><b>Read before citing:</b><ul>{warnings}</ul></div>' if warnings else ""
    hists = []
    for name, c in summary["categories"].items():
        values = [scores[s.id].overall for s in run.samples_in(name) if scores[s.id].overall is not None]
        o = c["overall"]
        hists.append(
            f"<figure class='dist'>{histogram_svg(values, o['n_total'] - o['count'], lo, hi)}"
            f"<figcaption>{escape(name)}: mean {fmt(o['mean'])}, n={o['count']}</figcaption></figure>"
        )
    options = "".join(f'<option value="{escape(c.name)}">{escape(c.name)}</option>' for c in run.categories)
    samples_html = "".join(_sample_html(s, scores[s.id], i, thumbs) for i, s in enumerate(run.samples))
    bench = summary["benchmark"]
    title = f"editbench report: {run.label}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{PAGE_CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">Benchmark <code>{escape(bench['name'])}</code> v{escape(bench['version'])}
(content {escape(bench['content_hash'][:12])}) · editor <code>{escape(run.editor.kind)}</code>
· judge <code>{escape(run.judge.kind)}</code> · seed {run.seed} · run status <b>{escape(run.status)}</b></p>
{warnings_html}
<section class="headline">
<div class="big"><span class="label">macro mean</span><span class="value">{fmt(macro['value'])}</span>
<span class="ci">95% CI {fmt_ci(macro['ci95'])} · {macro['n_categories']} categories</span>
<span class="def">{escape(macro['definition'])}</span></div>
<div class="big"><span class="label">micro mean</span><span class="value">{fmt(micro['value'])}</span>
<span class="ci">95% CI {fmt_ci(micro['ci95'])} · {micro['count']} samples</span>
<span class="def">{escape(micro['definition'])}</span></div>
<div class="big"><span class="label">coverage</span><span class="value">{fmt_pct(block['coverage'])}</span>
<span class="ci">{block['count']} of {block['n_total']} samples scored</span>
<span class="def">unscored samples are counted, never averaged as zero</span></div>
</section>
<p class="note">Per-sample overall score: {escape(summary['overall_rule']['definition'])}; scale {lo:g}–{hi:g}.
std is the sample standard deviation (n−1); intervals are 95% percentile bootstrap.</p>
<h2>Per category</h2>
{_category_table(summary)}
<h2>Score distributions</h2>
<div class="dists">{''.join(hists)}</div>
<h2>Criteria</h2>
{criteria_chart_svg(summary)}
<h2>Samples</h2>
<form class="filters" onsubmit="return false">
<label>category <select id="f-category"><option value="">all</option>{options}</select></label>
<label><input type="checkbox" id="f-failures"> failures only (failed, parse error, refusal, missing)</label>
<label>order <select id="f-sort"><option value="order">benchmark order</option>
<option value="lowest">lowest scores first (unscored last)</option></select></label>
<span id="f-count" aria-live="polite"></span>
</form>
<div id="samples">{samples_html}</div>
<h2>Run card</h2>
<details><summary>run_card.json</summary><pre>{escape(json.dumps(card, indent=2, sort_keys=False, default=str))}</pre></details>
<script>{_JS}</script>
</body></html>
"""


PAGE_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1d1d1f}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e3e3;padding-bottom:4px}
code{font:12px ui-monospace,Menlo,monospace;background:#f3f3f3;padding:1px 4px;border-radius:3px}
.meta,.note{color:#555}.warn{background:#fff6e5;border:1px solid #f0c36d;padding:8px 12px;border-radius:6px;margin:12px 0}
.warn ul{margin:4px 0 0;padding-left:20px}
.headline{display:flex;gap:16px;flex-wrap:wrap;margin:12px 0}
.big{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:220px;display:flex;flex-direction:column}
.big .label{font-size:12px;text-transform:uppercase;color:#666;letter-spacing:.04em}.big .value{font-size:30px;font-weight:600}
.big .ci{color:#333}.big .def{font-size:12px;color:#777;max-width:260px}
table{border-collapse:collapse}th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
table.summary td:not(:first-child),table.summary th:not(:first-child){text-align:right}
.dists{display:flex;flex-wrap:wrap;gap:8px}.dist{margin:0}.dist figcaption{font-size:12px;color:#444}
svg text.tick{font-size:10px;fill:#555}svg text.label{font-size:12px;fill:#222}
.filters{display:flex;gap:16px;align-items:center;flex-wrap:wrap;position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #ddd;z-index:1}
#f-count{color:#666}
.sample{border:1px solid #e2e2e2;border-radius:8px;margin:10px 0;padding:10px;display:grid;grid-template-columns:auto 1fr;gap:12px}
.sample header{grid-column:1/-1;display:flex;gap:8px;align-items:center}.sample .cat{font-weight:600}
.sample .score{font-weight:600;font-size:16px;margin-left:auto}
.figs{display:flex;gap:6px}.figs figure{margin:0;text-align:center;max-width:170px}.figs img{max-width:160px;max-height:160px;display:block;border-radius:4px}
.figs figcaption{font-size:11px;color:#666}.noimg{width:160px;height:110px;display:flex;align-items:center;justify-content:center;background:#f4f4f4;color:#888;font-size:12px;border-radius:4px}
.instr{margin:0 0 6px;font-size:15px}.lang{font-size:11px;color:#888;border:1px solid #ccc;border-radius:3px;padding:0 3px}
.ref{margin:0 0 6px;color:#444}.err{color:#a1261e}
.crit{width:100%;font-size:13px}.crit td.num{text-align:right;white-space:nowrap}
.crit pre,details pre{white-space:pre-wrap;font-size:12px;background:#f7f7f7;padding:6px;max-height:300px;overflow:auto}
.badge{font-size:11px;padding:1px 6px;border-radius:10px;background:#eee;white-space:nowrap}
.sample header .badge:first-of-type{margin-left:auto}
.st-failed,.st-refusal{background:#f8d7d4;color:#8a1c14}.st-parse_error{background:#fde8c8;color:#7a4a00}
.st-missing{background:#e6e6e6;color:#444}.st-pending,.st-running{background:#e4ecf7;color:#23466e}
.pass{background:#d8f0dd;color:#1d5e2c}.nopass{background:#eee;color:#555}
[hidden]{display:none!important}
@media print{.filters{display:none}.sample{break-inside:avoid}}
"""

_JS = """
(function () {
  var list = document.getElementById('samples');
  var items = Array.prototype.slice.call(list.children);
  var cat = document.getElementById('f-category');
  var fail = document.getElementById('f-failures');
  var sort = document.getElementById('f-sort');
  var count = document.getElementById('f-count');
  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ''));
    var c = p.get('category') || '';
    cat.value = Array.prototype.some.call(cat.options, function (o) { return o.value === c; }) ? c : '';
    fail.checked = p.get('failures') === '1';
    sort.value = p.get('sort') === 'lowest' ? 'lowest' : 'order';
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (cat.value) p.set('category', cat.value);
    if (fail.checked) p.set('failures', '1');
    if (sort.value === 'lowest') p.set('sort', 'lowest');
    var h = p.toString();
    try { history.replaceState(null, '', h ? '#' + h : location.pathname + location.search); }
    catch (e) { location.hash = h; }
  }
  function score(el) { return el.dataset.score === '' ? Infinity : parseFloat(el.dataset.score); }
  function apply() {
    var shown = 0;
    items.forEach(function (el) {
      var ok = (!cat.value || el.dataset.category === cat.value) && (!fail.checked || el.dataset.failure === '1');
      el.hidden = !ok;
      if (ok) shown++;
    });
    var ordered = items.slice();
    ordered.sort(function (a, b) {
      var d = sort.value === 'lowest' ? score(a) - score(b) : 0;
      return (d === d && d !== 0) ? d : a.dataset.order - b.dataset.order;
    });
    ordered.forEach(function (el) { list.appendChild(el); });
    count.textContent = shown + ' of ' + items.length + ' samples shown';
    document.body.setAttribute('data-filter', location.hash.replace(/^#/, ''));
  }
  [cat, fail, sort].forEach(function (el) { el.addEventListener('change', function () { writeHash(); apply(); }); });
  window.addEventListener('hashchange', function () { readHash(); apply(); });
  readHash();
  apply();
})();
"""
