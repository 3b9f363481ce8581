"""report.md: the run's numbers as tables a person can read in a terminal or paste in a paper."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from editbench.report.data import RunData, SampleData
from editbench.report.documents import (
    GitRevision,
    OfficialResults,
    PassRate,
    RunCard,
    Summary,
    UnsupportedPassRule,
)
from editbench.report.official import official_layout, protocol_line
from editbench.report.summary import UNSCORED_STATES, unscored_counts

FAILURE_LIST_LIMIT = 50
STATUS_LABELS = {
    "failed": "failed",
    "parse_error": "parse error",
    "refusal": "refusal",
    "missing": "missing",
    "running": "running",
    "pending": "pending",
}


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_ci(ci: Sequence[float] | None, digits: int = 2) -> str:
    return "—" if not ci else f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def fmt_p(value: float | None) -> str:
    if value is None:
        return "—"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def fmt_pass(block: PassRate | UnsupportedPassRule | None) -> str:
    """'50.0% (1/2)', or '—' without a (supported) rule or without a fully scored sample."""
    if not isinstance(block, PassRate) or not block.n_evaluated:
        return "—"
    return f"{fmt_pct(block.pass_rate)} ({block.n_passed}/{block.n_evaluated})"


def cell(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> list[str]:
    """A GitHub-flavoured Markdown table; ``align`` holds 'l' or 'r' per column (default: first
    column left, the rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def failure_reason(sample: SampleData) -> str:
    """One line saying why a sample has no score."""
    if sample.edit is not None and sample.edit.status in ("failed", "refusal", "missing"):
        return f"edit {sample.edit.status}: {sample.edit.error_code or ''} {sample.edit.error or ''}".strip()
    parts = []
    for criterion, j in sample.judgments.items():
        if j.status != "done":
            detail = j.error_code or ""
            if j.error and j.error_code != "edit_failed":
                detail = f"{detail} ({j.error})" if detail else j.error
            parts.append(f"{criterion}: {j.status}" + (f" {detail}" if detail else ""))
    return "; ".join(parts)


status_counts = unscored_counts


def render_markdown(run: RunData, summary: Summary, card: RunCard) -> str:
    bench = summary.benchmark
    scale = summary.score_scale
    overall = summary.overall
    block = overall.samples
    out: list[str] = [f"# editbench report: {run.label}", ""]
    out.append(
        f"Benchmark `{bench.name}` v{bench.version} (content {bench.content_hash[:12]}) · "
        f"editor `{run.editor.kind}` · judge `{run.judge.kind}` · seed {run.seed} · run status **{run.status}**"
    )
    if run.sample_filter is not None and run.sample_filter.active:
        out += ["", f"**Subset:** {run.sample_filter.describe()} (not the whole benchmark)"]
    if run.parent is not None:
        out += ["", f"**Re-judged:** the edited images of {run.parent.label}, scored again by this run's judge"]
    out += ["", protocol_line(summary.official)]
    out.append("")
    if summary.warnings:
        out += ["> **Read before citing:**"] + [f"> - {w}" for w in summary.warnings] + [""]

    macro, micro = overall.macro_mean, overall.micro_mean
    out += ["## Headline", ""]
    out += table(
        ["score", "value", "95% CI", "over"],
        [
            [
                "**macro mean** (mean of category means; GEdit convention)",
                f"**{fmt(macro.value)}**",
                fmt_ci(macro.ci95),
                f"{macro.n_categories} categories",
            ],
            ["micro mean (mean over samples)", fmt(micro.value), fmt_ci(micro.ci95), f"{micro.count} samples"],
        ],
        "lrrr",
    )
    out += [
        "",
        f"Per-sample overall score: {summary.overall_rule.definition}; scale {scale.min:g}–{scale.max:g}. "
        f"Coverage: {block.count} of {block.n_total} samples scored ({fmt_pct(block.coverage)}); "
        "unscored samples are counted below, never averaged as zero.",
        "",
    ]

    if summary.official is not None:
        out += official_tables(summary.official)
    out += ["## Per category (overall score)", ""]
    rows = []
    has_pass = any(c.pass_ for c in summary.categories.values())
    for name, c in summary.categories.items():
        o = c.overall
        row = [name, c.n_samples, o.count, fmt(o.mean), fmt(o.std), fmt_ci(o.ci95)]
        if has_pass:
            row.append(fmt_pass(c.pass_))
        rows.append(row + status_counts(o))
    header = ["category", "n", "scored", "mean", "std", "95% CI"] + (["pass rate"] if has_pass else [])
    out += table(header + [STATUS_LABELS[s] for s in UNSCORED_STATES], rows)
    out += ["", "`std` is the sample standard deviation (n−1); 95% CI is a percentile bootstrap of the mean.", ""]

    out += ["## Per criterion", ""]
    rows = []
    for name, c in summary.categories.items():
        for criterion, m in c.criteria_scores.items():
            rows.append([name, criterion, m.count, fmt(m.mean), fmt(m.std), fmt_ci(m.ci95), *status_counts(m)])
    for criterion, b in summary.criteria.items():
        s = b.samples
        rows.append(["**all (macro)**", criterion, s.count, fmt(b.macro_mean.value), "", fmt_ci(b.macro_mean.ci95), *status_counts(s)])
        rows.append(["**all (micro)**", criterion, s.count, fmt(s.mean), fmt(s.std), fmt_ci(s.ci95), *status_counts(s)])
    out += table(
        ["category", "criterion", "scored", "mean", "std", "95% CI"] + [STATUS_LABELS[s] for s in UNSCORED_STATES], rows, "ll" + "r" * 10
    )
    out.append("")

    out += _slices(summary)

    out += _failures(run, summary)
    out += _run_card(card)
    out += ["", "How to read this report: see `docs/reports.md` in the editbench repository.", ""]
    return "\n".join(out)


def _slices(summary: Summary) -> list[str]:
    """One section per slice key: overall and per-criterion headline per group, then the
    category means with intervals, one column per group (GEdit-Bench's EN | CN layout)."""
    out: list[str] = []
    for key, table_ in summary.slices.items():
        groups = table_.groups
        out += [f"## By {key}", "", f"Groups by {table_.source}.", ""]
        rows = []
        for value, g in groups.items():
            o = g.overall
            row_: list[Any] = [value, g.n_samples, o.samples.count, fmt(o.macro_mean.value), fmt_ci(o.macro_mean.ci95)]
            row_ += [fmt(o.micro_mean.value), fmt_ci(o.micro_mean.ci95)]
            row_ += [fmt(c.macro_mean.value) for c in g.criteria.values()]
            rows.append(row_)
        criteria = list(next(iter(groups.values())).criteria) if groups else []
        out += table([key, "n", "scored", "macro mean", "95% CI", "micro mean", "95% CI"] + [f"{c} (macro)" for c in criteria], rows)
        out.append("")
        names = list(summary.categories)
        rows = []
        for name in names:
            row: list[Any] = [name]
            for g in groups.values():
                block = g.categories.get(name)
                row.append(f"{fmt(block.mean)} {fmt_ci(block.ci95)} (n={block.count})" if block else "")
            rows.append(row)
        out += table(["category", *groups], rows)
        out.append("")
    return out


def official_tables(official: OfficialResults) -> list[str]:
    """The official table in the paper's layout (:func:`editbench.report.official.official_layout`)."""
    layout = official_layout(official)
    out = [f"## Official table: {layout.title}", "", layout.caption, ""]
    for block in layout.blocks:
        out += ([f"### {block.title}", ""] if block.title else []) + table(block.header, block.rows) + [""]
    out += [f"> {note}" for note in official.notes] + ([""] if official.notes else [])
    return out


def _failures(run: RunData, summary: Summary) -> list[str]:
    out = ["## Failures", ""]
    edits = summary.edits
    out.append(
        f"Edits: {edits.n_done} done, {edits.n_failed} failed, {edits.n_refusal} refused, "
        f"{edits.n_missing} missing, {edits.n_pending + edits.n_running} unfinished (of {edits.n_total})."
    )
    out.append("")
    codes = [("edit", k, n) for k, n in summary.error_codes.edit.items()]
    codes += [("judgment", k, n) for k, n in summary.error_codes.judgment.items()]
    if not codes:
        return out + ["No failed, unparseable, refused or missing work.", ""]
    out += table(["stage", "error code", "count"], codes, "llr") + [""]
    unscored = [s for s in run.samples if any(j.status not in ("done", "pending", "running") for j in s.judgments.values())]
    shown = unscored[:FAILURE_LIST_LIMIT]
    out += table(
        ["category", "sample", "reason"],
        [[s.category, s.external_id, failure_reason(s)] for s in shown],
        "lll",
    )
    if len(unscored) > len(shown):
        out.append(f"\n… and {len(unscored) - len(shown)} more (all of them are listed in report.html).")
    return out + [""]


def _run_card(card: RunCard) -> list[str]:
    out = ["## Run card", ""]
    for role, m in (("editor", card.editor), ("judge", card.judge)):
        out.append(
            f"- **{role}**: `{m.kind}` at `{m.path}`; config hash {m.config_hash or 'not recorded'}; "
            f"params {json.dumps(m.params, sort_keys=True, default=str)} (params hash {m.params_hash[:12]})"
        )
    identities = card.judge.identities_used
    if identities:
        out.append("- **judge identities used**: " + ", ".join(f"`{k}` ({n})" for k, n in identities.items()))
    seeds = card.seeds
    out.append(
        f"- **seeds**: run {seeds.run}; {seeds.edits.n} edit seeds, {seeds.edits.distinct} distinct "
        f"(min {seeds.edits.min}, max {seeds.edits.max})"
    )
    for name, p in card.prompts.items():
        used = ", ".join(f"{v} ({n})" for v, n in p.versions_used.items()) or "none yet"
        out.append(f"- **prompt {name}**: `{p.prompt_path}` version {p.prompt_version or '—'}; used: {used}")
    times = card.times
    out.append(
        f"- **times**: created {times.created_at}, first work {times.first_work_started_at}, "
        f"last work {times.last_work_finished_at}, finished {times.finished_at}"
    )
    c = card.compute
    out.append(
        f"- **GPU-seconds**: {c.gpu_seconds:.1f} (edits {c.edit_seconds:.1f} over {c.n_edits_timed} edits, "
        f"judge {c.judge_seconds:.1f} over {c.n_samples_judge_timed} judged samples)"
    )
    for role, u in ((r, getattr(card.api_usage, r)) for r in ("editor", "judge") if card.api_usage is not None):
        if u is None:
            continue
        cost = f", ${u.cost_usd:.4f}" if u.cost_usd is not None else ""
        unit = "batches" if role == "judge" else "edits"
        out.append(
            f"- **{role} API usage**: {u.requests} requests ({u.retries} retries, {u.rate_limited} rate-limited, "
            f"{u.failed} failed) over {u.batches} {unit}; {u.prompt_tokens} prompt + {u.completion_tokens} "
            f"completion tokens, {u.images} images{cost}"
            + (f"; stopped: {u.stopped} ({u.held} judgments pending for `editbench resume`)" if u.stopped else "")
        )
    git = card.git_revision
    out.append(f"- **git revision**: recorded {_git(git.recorded)}; at report {_git(git.at_report)}")
    libs = card.library_versions
    recorded = libs.recorded
    out.append(
        "- **library versions**: "
        + (
            "recorded " + ", ".join(f"{k} {v}" for k, v in recorded.items())
            if recorded
            else "not recorded by the run; at report " + ", ".join(f"{k} {v}" for k, v in libs.at_report.items() if v)
        )
    )
    return out


def _git(value: Any) -> str:
    if not value:
        return "—"
    if isinstance(value, GitRevision):
        value = value.model_dump()
    if isinstance(value, dict):
        return f"`{str(value.get('commit', ''))[:12]}`" + (" (dirty)" if value.get("dirty") else "")
    return f"`{str(value)[:12]}`"
