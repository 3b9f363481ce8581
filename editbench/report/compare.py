"""``editbench compare``: the same items, run against run, with paired statistics.

The first run is the baseline A; every other run B is compared with it item by item. Items are
matched by (category, external id). Only items scored in *both* runs are paired; the others are
counted (scored only in A, only in B, in neither), never imputed.

For each category: mean of A and B over the paired items, the mean paired difference B − A with a
95% paired bootstrap interval, a two-sided sign-flip permutation p-value, and that p-value
Holm-adjusted across the categories. A difference is marked *real* when the adjusted p-value is
below 0.05. Judge agreement is the Spearman rank correlation of the paired scores; it is the
headline when the two runs share an editor and differ in judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.report import stats
from editbench.report.data import RunData, SampleData, load_run
from editbench.report.html import PAGE_CSS, make_thumbnails
from editbench.report.markdown import fmt, fmt_ci, table
from editbench.report.run_card import params_hash
from editbench.report.summary import score_sample, summarize

FORMAT = "editbench.compare/1"
ALPHA = 0.05
KINDS = {
    "editors": "two editors under one judge: differences are the editors'",
    "judges": "one editor under two judges: read the agreement, differences are the judges' bias",
    "editors_and_judges": "editor and judge both differ: a difference mixes the two effects",
    "repeat": "same editor and judge configuration: differences are run-to-run variance",
}


@dataclass(frozen=True)
class ComparePaths:
    out_dir: Path
    compare_json: Path
    compare_md: Path
    compare_html: Path


def _same_model(a: Any, b: Any) -> bool:
    return (a.kind, a.path, dict(a.params)) == (b.kind, b.path, dict(b.params))


def _scores(run: RunData) -> dict[tuple[str, str], tuple[SampleData, float | None, dict[str, float]]]:
    out = {}
    for s in run.samples:
        scored = score_sample(s, run.category(s.category), run.benchmark)
        out[s.key] = (s, scored.overall, dict(scored.scores))
    return out


def paired_block(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    ci = stats.paired_bootstrap_ci(a, b)
    return {
        "n_pairs": len(a),
        "mean_a": stats.mean(a),
        "mean_b": stats.mean(b),
        "diff": stats.mean([y - x for x, y in zip(a, b, strict=True)]),
        "ci95": list(ci) if ci else None,
        "p_value": stats.paired_permutation_test(a, b),
        "spearman": stats.spearman(a, b),
    }


def _mark(blocks: Sequence[dict[str, Any]]) -> None:
    """Holm-adjust the p-values of one family (a metric across categories) and mark verdicts."""
    adjusted = stats.holm([b["p_value"] for b in blocks])
    for block, p in zip(blocks, adjusted, strict=True):
        _verdict(block, p)


def _verdict(block: dict[str, Any], p_adjusted: float | None) -> None:
    block["p_holm"] = p_adjusted
    block["significant"] = p_adjusted is not None and p_adjusted < ALPHA
    if not block["significant"]:
        block["verdict"] = "no significant difference" if block["n_pairs"] else "no paired items"
    else:
        block["verdict"] = "B higher" if block["diff"] > 0 else "A higher"


def compare_pair(a: RunData, b: RunData) -> dict[str, Any]:
    warnings = []
    same_editor, same_judge = _same_model(a.editor, b.editor), _same_model(a.judge, b.judge)
    kind = {
        (False, True): "editors",
        (True, False): "judges",
        (False, False): "editors_and_judges",
        (True, True): "repeat",
    }[(same_editor, same_judge)]
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

    sa, sb = _scores(a), _scores(b)
    categories: dict[str, Any] = {}
    pooled_a: list[float] = []
    pooled_b: list[float] = []
    criteria_names: list[str] = []
    names = [c.name for c in a.categories] + [c.name for c in b.categories if c.name not in {x.name for x in a.categories}]
    for name in names:
        keys_a = {k for k in sa if k[0] == name}
        keys_b = {k for k in sb if k[0] == name}
        common = sorted(keys_a & keys_b)
        pairs = [(sa[k][1], sb[k][1]) for k in common if sa[k][1] is not None and sb[k][1] is not None]
        xa, xb = [p[0] for p in pairs], [p[1] for p in pairs]
        pooled_a += xa
        pooled_b += xb
        block = paired_block(xa, xb)
        block.update(
            n_only_in_a=len(keys_a - keys_b),
            n_only_in_b=len(keys_b - keys_a),
            n_scored_only_in_a=sum(1 for k in common if sa[k][1] is not None and sb[k][1] is None),
            n_scored_only_in_b=sum(1 for k in common if sa[k][1] is None and sb[k][1] is not None),
            n_scored_in_neither=sum(1 for k in common if sa[k][1] is None and sb[k][1] is None),
            n_identical_edits=sum(
                1
                for k in common
                if sa[k][0].edit and sb[k][0].edit and sa[k][0].edit.output_sha256
                and sa[k][0].edit.output_sha256 == sb[k][0].edit.output_sha256
            ),
        )
        block["criteria"] = {}
        declared = [c for run in (a, b) for cat in run.categories if cat.name == name for c in cat.criteria]
        for criterion in dict.fromkeys(declared):
            both = [k for k in common if criterion in sa[k][2] and criterion in sb[k][2]]
            if criterion not in criteria_names:
                criteria_names.append(criterion)
            block["criteria"][criterion] = paired_block(
                [sa[k][2][criterion] for k in both], [sb[k][2][criterion] for k in both]
            )
        categories[name] = block

    _mark(list(categories.values()))
    for criterion in criteria_names:
        _mark([c["criteria"][criterion] for c in categories.values() if criterion in c["criteria"]])
    pooled = paired_block(pooled_a, pooled_b)
    _verdict(pooled, pooled["p_value"])
    with_pairs = [c for c in categories.values() if c["n_pairs"]]
    macro_diff = stats.mean([c["diff"] for c in with_pairs]) if with_pairs else None

    return {
        "a": a.id,
        "b": b.id,
        "kind": kind,
        "description": KINDS[kind],
        "warnings": warnings,
        "categories": categories,
        "all_items": pooled,
        "macro_diff": {
            "value": macro_diff,
            "definition": "mean of the per-category paired differences (each category weighs the same)",
        },
    }


def compare_runs(runs: Sequence[RunData]) -> dict[str, Any]:
    """Compare every run with the first one; also each run's own summary headline."""
    if len(runs) < 2:
        raise ValueError("compare needs at least two runs")
    summaries = [summarize(r) for r in runs]
    return {
        "format": FORMAT,
        "alpha": ALPHA,
        "method": {
            "pairing": "items matched by (category, external id); only items scored in both runs are paired",
            "diff": "mean of B − A over paired items",
            "ci95": f"paired percentile bootstrap, {stats.RESAMPLES} resamples, seed {stats.SEED}",
            "test": "two-sided sign-flip permutation test of the mean difference (exact for n ≤ 13)",
            "multiple_comparisons": "Holm across categories, per metric; 'significant' means p_holm < 0.05",
            "agreement": "Spearman rank correlation of the paired scores",
        },
        "runs": [
            {
                "id": r.id,
                "label": r.label,
                "status": r.status,
                "benchmark": f"{r.benchmark.name} v{r.benchmark.version}",
                "editor": {"kind": r.editor.kind, "path": r.editor.path, "params_hash": params_hash(r.editor)},
                "judge": {"kind": r.judge.kind, "path": r.judge.path, "params_hash": params_hash(r.judge)},
                "macro_mean": s["overall"]["macro_mean"]["value"],
                "micro_mean": s["overall"]["micro_mean"]["value"],
                "coverage": s["overall"]["samples"]["coverage"],
                "categories": {
                    n: {"mean": c["overall"]["mean"], "count": c["overall"]["count"], "n_total": c["overall"]["n_total"]}
                    for n, c in s["categories"].items()
                },
            }
            for r, s in zip(runs, summaries, strict=True)
        ],
        "comparisons": [compare_pair(runs[0], b) for b in runs[1:]],
    }


# --------------------------------------------------------------------------- rendering


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def render_compare_markdown(result: Mapping[str, Any]) -> str:
    runs = {r["id"]: r for r in result["runs"]}
    out = ["# editbench comparison", ""]
    out += table(
        ["run", "editor", "judge", "benchmark", "macro mean", "micro mean", "coverage", "status"],
        [
            [
                r["label"],
                f"{r['editor']['kind']} ({r['editor']['params_hash'][:8]})",
                f"{r['judge']['kind']} ({r['judge']['params_hash'][:8]})",
                r["benchmark"],
                fmt(r["macro_mean"]),
                fmt(r["micro_mean"]),
                "—" if r["coverage"] is None else f"{100 * r['coverage']:.1f}%",
                r["status"],
            ]
            for r in result["runs"]
        ],
        "llllrrrl",
    )
    out += [
        "",
        "Differences are B − A over items scored in both runs; 95% CI by paired bootstrap; p by a paired "
        "sign-flip permutation test, Holm-adjusted across categories. **Bold** rows differ for real "
        f"(adjusted p < {result['alpha']}).",
        "",
    ]
    for comp in result["comparisons"]:
        a, b = runs[comp["a"]], runs[comp["b"]]
        out += [f"## A = {a['label']} vs B = {b['label']}", "", f"*{comp['description']}.*", ""]
        out += [f"> - {w}" for w in comp["warnings"]] + ([""] if comp["warnings"] else [])
        rows = []
        for name, c in comp["categories"].items():
            bold = "**" if c["significant"] else ""
            rows.append(
                [
                    f"{bold}{name}{bold}",
                    c["n_pairs"],
                    fmt(c["mean_a"]),
                    fmt(c["mean_b"]),
                    f"{bold}{_signed(c['diff'])}{bold}",
                    fmt_ci(c["ci95"]),
                    _p(c["p_value"]),
                    _p(c["p_holm"]),
                    c["verdict"],
                    fmt(c["spearman"]),
                    f"{c['n_scored_only_in_a']}/{c['n_scored_only_in_b']}/{c['n_scored_in_neither']}",
                ]
            )
        p = comp["all_items"]
        rows.append(
            [
                "all items (micro)",
                p["n_pairs"],
                fmt(p["mean_a"]),
                fmt(p["mean_b"]),
                _signed(p["diff"]),
                fmt_ci(p["ci95"]),
                _p(p["p_value"]),
                "",
                p["verdict"],
                fmt(p["spearman"]),
                "",
            ]
        )
        out += table(
            ["category", "pairs", "A", "B", "B − A", "95% CI", "p", "p (Holm)", "verdict", "Spearman ρ", "unpaired A/B/neither"],
            rows,
            "lrrrrrrrlrr",
        )
        out += ["", f"Macro difference (mean of category differences): {_signed(comp['macro_diff']['value'])}.", ""]
        crit_rows = []
        for name, c in comp["categories"].items():
            for criterion, k in c["criteria"].items():
                crit_rows.append(
                    [name, criterion, k["n_pairs"], fmt(k["mean_a"]), fmt(k["mean_b"]), _signed(k["diff"]),
                     fmt_ci(k["ci95"]), _p(k["p_holm"]), k["verdict"], fmt(k["spearman"])]
                )
        if crit_rows:
            title = "### Judge agreement and per-criterion differences" if comp["kind"] == "judges" else "### Per criterion"
            out += [title, ""]
            out += table(
                ["category", "criterion", "pairs", "A", "B", "B − A", "95% CI", "p (Holm)", "verdict", "Spearman ρ"],
                crit_rows,
                "llrrrrrrlr",
            )
            out.append("")
    return "\n".join(out)


def _forest_svg(comp: Mapping[str, Any], lo: float, hi: float) -> str:
    """Per category, B − A with its interval around a zero line."""
    rows = list(comp["categories"].items())
    span = max(
        [abs(v) for c in comp["categories"].values() for v in (c["ci95"] or [c["diff"] or 0])] + [0.5]
    )
    span = min(span * 1.15, hi - lo)
    label_w, plot_w, row_h = 170, 380, 20
    height = row_h * len(rows) + 34
    width = label_w + plot_w + 20
    x = lambda v: label_w + (v + span) / (2 * span) * plot_w  # noqa: E731
    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">']
    parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="4" y2="{height - 24}" stroke="#888"/>')
    for i, (name, c) in enumerate(rows):
        y = 12 + i * row_h
        color = "#b5485d" if c["significant"] else "#666"
        parts.append(f'<text x="{label_w - 6}" y="{y + 4}" text-anchor="end" class="label">{escape(name)}</text>')
        if c["ci95"]:
            parts.append(f'<line x1="{x(c["ci95"][0]):.1f}" x2="{x(c["ci95"][1]):.1f}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="2"/>')
        if c["diff"] is not None:
            parts.append(
                f'<circle cx="{x(c["diff"]):.1f}" cy="{y}" r="4" fill="{color}"><title>{escape(name)}: '
                f'{c["diff"]:+.2f} {fmt_ci(c["ci95"])}, p(Holm) {_p(c["p_holm"])}</title></circle>'
            )
    for v in (-span, -span / 2, 0, span / 2, span):
        parts.append(f'<text x="{x(v):.1f}" y="{height - 8}" text-anchor="middle" class="tick">{v:+.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[Any]], strong: Sequence[bool] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="real"' if i < len(strong) and strong[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>")
    return f"<table class='summary'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _comparison_html(comp: Mapping[str, Any], runs: Mapping[int, Mapping[str, Any]], lo: float, hi: float) -> str:
    a, b = runs[comp["a"]], runs[comp["b"]]
    parts = [f"<h2>A = {escape(a['label'])} vs B = {escape(b['label'])}</h2>", f"<p class='note'>{escape(comp['description'])}.</p>"]
    if comp["warnings"]:
        parts.append("<div class='warn'><ul>" + "".join(f"<li>{escape(w)}</li>" for w in comp["warnings"]) + "</ul></div>")
    parts.append(_forest_svg(comp, lo, hi))
    rows, strong = [], []
    for name, c in comp["categories"].items():
        rows.append([name, c["n_pairs"], fmt(c["mean_a"]), fmt(c["mean_b"]), _signed(c["diff"]), fmt_ci(c["ci95"]),
                     _p(c["p_value"]), _p(c["p_holm"]), c["verdict"], fmt(c["spearman"]),
                     f"{c['n_scored_only_in_a']}/{c['n_scored_only_in_b']}/{c['n_scored_in_neither']}"])
        strong.append(c["significant"])
    p = comp["all_items"]
    rows.append(["all items (micro)", p["n_pairs"], fmt(p["mean_a"]), fmt(p["mean_b"]), _signed(p["diff"]),
                 fmt_ci(p["ci95"]), _p(p["p_value"]), "", p["verdict"], fmt(p["spearman"]), ""])
    parts.append(_html_table(["category", "pairs", "A", "B", "B − A", "95% CI", "p", "p (Holm)", "verdict", "Spearman ρ",
                              "unpaired A/B/neither"], rows, strong))
    parts.append(f"<p class='note'>Macro difference (mean of category differences): {_signed(comp['macro_diff']['value'])}.</p>")
    crit_rows, crit_strong = [], []
    for name, c in comp["categories"].items():
        for criterion, k in c["criteria"].items():
            crit_rows.append([name, criterion, k["n_pairs"], fmt(k["mean_a"]), fmt(k["mean_b"]), _signed(k["diff"]),
                              fmt_ci(k["ci95"]), _p(k["p_holm"]), k["verdict"], fmt(k["spearman"])])
            crit_strong.append(k["significant"])
    if crit_rows:
        title = "Judge agreement and per-criterion differences" if comp["kind"] == "judges" else "Per criterion"
        parts.append(f"<h3>{title}</h3>")
        parts.append(_html_table(["category", "criterion", "pairs", "A", "B", "B − A", "95% CI", "p (Holm)", "verdict",
                                  "Spearman ρ"], crit_rows, crit_strong))
    return "".join(parts)


def _items_html(runs: Sequence[RunData], out_dir: Path, home: Path) -> tuple[str, list[str]]:
    thumbs = {r.id: make_thumbnails(r, out_dir / "thumbs", home) for r in runs}
    scores = [_scores(r) for r in runs]
    keys = list(dict.fromkeys(k for sc in scores for k in sc))
    categories = list(dict.fromkeys(k[0] for k in keys))
    items = []
    for order, key in enumerate(keys):
        first = next(sc[key][0] for sc in scores if key in sc)
        src_thumb = next((thumbs[r.id].get((sc[key][0].id, "source")) for r, sc in zip(runs, scores) if key in sc), None)
        figs = [_figure(src_thumb, "source", "")]
        values = []
        for r, sc in zip(runs, scores, strict=True):
            if key not in sc:
                figs.append(_figure(None, r.label, "not in this run"))
                values.append(None)
                continue
            sample, overall, per = sc[key]
            values.append(overall)
            detail = " · ".join(f"{c} {v:g}" for c, v in per.items())
            status = fmt(overall) if overall is not None else score_sample(sample, r.category(sample.category), r.benchmark).status
            edited = thumbs[r.id].get((sample.id, "edited")) if sample.edit and sample.edit.status == "done" else None
            figs.append(_figure(edited, r.label, f"{status}" + (f" ({detail})" if detail else "")))
        diff = values[1] - values[0] if len(values) > 1 and None not in values[:2] else None
        items.append(
            f'<article class="sample" data-category="{escape(key[0])}" data-order="{order}" '
            f'data-absdiff="{abs(diff) if diff is not None else ""}">'
            f'<header><span class="cat">{escape(key[0])}</span> <code>{escape(key[1])}</code>'
            f'<span class="score">{"B − A " + _signed(diff) if diff is not None else ""}</span></header>'
            f'<div class="figs">{"".join(figs)}</div>'
            f'<div class="body"><p class="instr">{escape(first.instruction)}</p></div></article>'
        )
    return "".join(items), categories


def _figure(entry: tuple[str | None, Path | None] | None, label: str, caption: str) -> str:
    src = entry[0] if entry else None
    img = f'<img loading="lazy" src="{escape(src)}" alt="{escape(label)}">' if src else f'<div class="noimg">{escape(caption or "not available")}</div>'
    cap = escape(label) + (f"<br><span class='cap'>{escape(caption)}</span>" if caption and src else "")
    return f"<figure>{img}<figcaption>{cap}</figcaption></figure>"


def render_compare_html(result: Mapping[str, Any], runs: Sequence[RunData], out_dir: Path, home: Path) -> str:
    """A self-contained comparison page: run table, per comparison a forest plot and the paired
    tables, then every item with each run's edited image and score side by side."""
    by_id = {r["id"]: r for r in result["runs"]}
    lo, hi = runs[0].benchmark.score_min, runs[0].benchmark.score_max
    run_rows = [
        [r["label"], f"{r['editor']['kind']} ({r['editor']['params_hash'][:8]})", f"{r['judge']['kind']} ({r['judge']['params_hash'][:8]})",
         r["benchmark"], fmt(r["macro_mean"]), fmt(r["micro_mean"]),
         "—" if r["coverage"] is None else f"{100 * r['coverage']:.1f}%", r["status"]]
        for r in result["runs"]
    ]
    items, categories = _items_html(runs, out_dir, home)
    options = "".join(f'<option value="{escape(c)}">{escape(c)}</option>' for c in categories)
    method = "".join(f"<li><b>{escape(k)}</b>: {escape(v)}</li>" for k, v in result["method"].items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>editbench comparison</title><style>{PAGE_CSS}
tr.real td{{font-weight:600;background:#fbeff1}} .cap{{color:#333}} h3{{font-size:15px}}</style></head><body>
<h1>editbench comparison</h1>
{_html_table(["run", "editor", "judge", "benchmark", "macro mean", "micro mean", "coverage", "status"], run_rows)}
<ul class="note">{method}</ul>
<p class="note">Highlighted rows differ for real (Holm-adjusted p &lt; {result['alpha']}); the dot is B − A, the bar its 95% CI.</p>
{''.join(_comparison_html(c, by_id, lo, hi) for c in result["comparisons"])}
<h2>Items side by side</h2>
<form class="filters" onsubmit="return false">
<label>category <select id="f-category"><option value="">all</option>{options}</select></label>
<label>order <select id="f-sort"><option value="order">benchmark order</option>
<option value="diff">largest |B − A| first (first comparison)</option></select></label>
<span id="f-count"></span></form>
<div id="samples">{items}</div>
<script>{_JS}</script></body></html>
"""


_JS = """
(function () {
  var list = document.getElementById('samples');
  var items = Array.prototype.slice.call(list.children);
  var cat = document.getElementById('f-category'), sort = document.getElementById('f-sort');
  var count = document.getElementById('f-count');
  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ''));
    var c = p.get('category') || '';
    cat.value = Array.prototype.some.call(cat.options, function (o) { return o.value === c; }) ? c : '';
    sort.value = p.get('sort') === 'diff' ? 'diff' : 'order';
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (cat.value) p.set('category', cat.value);
    if (sort.value === 'diff') p.set('sort', 'diff');
    var h = p.toString();
    try { history.replaceState(null, '', h ? '#' + h : location.pathname + location.search); }
    catch (e) { location.hash = h; }
  }
  function key(el) { return el.dataset.absdiff === '' ? -1 : parseFloat(el.dataset.absdiff); }
  function apply() {
    var shown = 0;
    items.forEach(function (el) { el.hidden = !!cat.value && el.dataset.category !== cat.value; if (!el.hidden) shown++; });
    var ordered = items.slice().sort(function (a, b) {
      var d = sort.value === 'diff' ? key(b) - key(a) : 0;
      return d !== 0 ? d : a.dataset.order - b.dataset.order;
    });
    ordered.forEach(function (el) { list.appendChild(el); });
    count.textContent = shown + ' of ' + items.length + ' items shown';
  }
  [cat, sort].forEach(function (el) { el.addEventListener('change', function () { writeHash(); apply(); }); });
  window.addEventListener('hashchange', function () { readHash(); apply(); });
  readHash(); apply();
})();
"""


def write_comparison(session: Session, run_ids: Sequence[int], out_dir: Path | str, *, home: Path | None = None) -> ComparePaths:
    """Write compare.json, compare.md and compare.html (+ thumbs/) for runs A, B[, C ...]."""
    return write_comparison_for([load_run(session, run_id) for run_id in run_ids], Path(out_dir), home=home)


def write_comparison_for(runs: Sequence[RunData], out_dir: Path, *, home: Path | None = None) -> ComparePaths:
    """The same from runs already loaded (so a caller can close its transaction first)."""
    from editbench.report import write_json, write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    home = home or load_settings().home
    paths = ComparePaths(out_dir, out_dir / "compare.json", out_dir / "compare.md", out_dir / "compare.html")
    result = compare_runs(runs)
    write_json(paths.compare_json, result)
    write_text(paths.compare_md, render_compare_markdown(result))
    write_text(paths.compare_html, render_compare_html(result, runs, out_dir, home))
    return paths
