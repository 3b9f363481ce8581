"""summary.json against numbers worked out by hand, on SQLite and PostgreSQL."""

import json
import math

import pytest

from editbench.report import load_run, summarize, write_report
from editbench.report.summary import COUNT_KEYS
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC

SAMPLES = {"physics": ["p1", "p2", "p3", "p4"], "style": ["s1", "s2", "s3", "s4", "s5"]}
RESULTS = {
    "p1": {SC: 7, PQ: 8},
    "p2": {SC: 9, PQ: 9},
    "p3": {SC: ("failed", "judge_error"), PQ: 6},
    "p4": {SC: ("parse_error", "unparseable"), PQ: 5},
    "s1": {SC: 4, PQ: 6},
    "s2": {SC: ("missing", "edit_failed"), PQ: ("missing", "edit_failed")},
    "s3": {SC: ("refusal", "refused"), PQ: 8},
    "s4": {SC: 6, PQ: 6},
    "s5": {SC: 5, PQ: None},  # no judgment row at all for PQ
}


@pytest.fixture
def mixed_run(any_ledger):
    bench = any_ledger.benchmark({"physics": {"pass_rule": {"all_at_least": 8}}, "style": {}}, SAMPLES)
    run_id = any_ledger.run(bench, RESULTS, edits={"s2": ("failed", "oom")}, name="mixed")
    with session_scope(any_ledger.url) as session:
        return load_run(session, run_id)


def test_hand_computed_numbers(mixed_run):
    s = summarize(mixed_run)
    physics, style = s.categories["physics"], s.categories["style"]

    # per-sample overall = sqrt(SC·PQ); only fully scored samples have one
    p = physics.overall
    assert p.count == 2 and p.n_total == 4
    assert p.mean == pytest.approx((math.sqrt(56) + 9) / 2, rel=1e-15)
    assert p.std == pytest.approx((9 - math.sqrt(56)) / math.sqrt(2), rel=1e-14)
    assert (p.n_failed, p.n_parse_error, p.n_refusal, p.n_missing, p.n_pending) == (1, 1, 0, 0, 0)
    assert p.coverage == 0.5

    st = style.overall
    assert st.count == 2 and st.n_total == 5
    assert st.mean == pytest.approx((math.sqrt(24) + 6) / 2, rel=1e-15)
    # s2's edit ran out of memory: counted failed (its judgment rows say "missing"); s5 missing.
    assert (st.n_failed, st.n_parse_error, st.n_refusal, st.n_missing) == (1, 0, 1, 1)
    assert st.coverage == 0.4

    # per criterion
    assert physics.criteria_scores[SC].mean == 8.0
    assert physics.criteria_scores[SC].count == 2
    assert physics.criteria_scores[PQ].mean == 7.0
    assert physics.criteria_scores[PQ].std == pytest.approx(math.sqrt(10 / 3), rel=1e-15)
    assert style.criteria_scores[SC].mean == 5.0  # s1 4, s4 6, s5 5
    assert style.criteria_scores[PQ].mean == pytest.approx(20 / 3, rel=1e-15)  # s1 6, s3 8, s4 6
    assert style.criteria_scores[PQ].n_missing == 1  # s5 (no row)
    assert style.criteria_scores[PQ].n_failed == 1  # s2: its edit ran out of memory

    # pass rule all_at_least 8: p1 (7, 8) fails, p2 (9, 9) passes; unscored are not failures
    assert physics.pass_.n_passed == 1 and physics.pass_.n_evaluated == 2
    assert physics.pass_.pass_rate == 0.5
    assert style.pass_ is None

    # headline: macro = mean of category means, micro = mean over samples, both labelled
    macro = s.overall.macro_mean
    micro = s.overall.micro_mean
    assert macro.value == pytest.approx(((math.sqrt(56) + 9) / 2 + (math.sqrt(24) + 6) / 2) / 2, rel=1e-15)
    assert micro.value == pytest.approx((math.sqrt(56) + 9 + math.sqrt(24) + 6) / 4, rel=1e-15)
    assert micro.count == 4 and macro.n_categories == 2
    assert "GEdit" in macro.definition and "samples" in micro.definition
    assert s.overall.headline == "macro_mean"
    assert s.criteria[SC].macro_mean.value == 6.5
    assert s.criteria[SC].micro_mean.value == pytest.approx(31 / 5, rel=1e-15)

    assert s.edits.n_done == 8 and s.edits.n_failed == 1
    assert s.error_codes.edit == {"oom": 1}
    assert s.error_codes.judgment == {
        "edit_failed": 2,
        "judge_error": 1,
        "unparseable": 1,
        "refused": 1,
        "not_in_ledger": 1,
    }


def test_failures_are_counted_not_averaged(mixed_run):
    s = summarize(mixed_run)
    micro = s.overall.micro_mean.value
    scored = [math.sqrt(56), 9, math.sqrt(24), 6]
    as_zero = sum(scored) / 9  # what imputing 0 for the five unscored samples would give
    assert micro == pytest.approx(sum(scored) / 4)
    assert micro != pytest.approx(as_zero)
    for block in _blocks(s):
        assert block.count + sum(getattr(block, k) for k in COUNT_KEYS) == block.n_total
    assert any("not scored as zero" in w for w in s.warnings)


def _blocks(summary):
    yield summary.overall.samples
    for c in summary.categories.values():
        yield c.overall
        yield from c.criteria_scores.values()
    for c in summary.criteria.values():
        yield c.samples


def test_summary_json_is_strict_json_and_deterministic(ledger, tmp_path):
    bench = ledger.benchmark({"physics": {}, "style": {}}, SAMPLES)
    run_id = ledger.run(bench, RESULTS, edits={"s2": ("failed", "oom")})
    with session_scope(ledger.url) as session:
        first = write_report(session, run_id, tmp_path / "a", home=tmp_path)
        second = write_report(session, run_id, tmp_path / "b", home=tmp_path)
    text = first.summary_json.read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert text == second.summary_json.read_text()


def test_running_run_is_marked_partial(ledger):
    bench = ledger.benchmark({"physics": {}}, {"physics": ["p1", "p2", "p3"]})
    run_id = ledger.run(
        bench,
        {"p1": {SC: 8, PQ: 8}, "p2": {SC: "pending", PQ: "pending"}, "p3": {SC: 6, PQ: "running"}},
        edits={"p2": "pending"},
        status="running",
    )
    with session_scope(ledger.url) as session:
        s = summarize(load_run(session, run_id))
    o = s.categories["physics"].overall
    assert (o.count, o.n_pending, o.n_running) == (1, 1, 1)
    assert s.overall.macro_mean.value == 8.0
    assert any("still running" in w and "partial" in w for w in s.warnings)


def test_drift_and_range_warnings(ledger):
    bench = ledger.benchmark({"physics": {"prompt_version": "v2"}}, {"physics": ["p1", "p2"]})
    run_id = ledger.run(bench, {"p1": {SC: 8, PQ: 12}, "p2": {SC: 6, PQ: 6}}, prompt_versions={"physics": "v1"})
    with session_scope(ledger.url) as session:
        s = summarize(load_run(session, run_id))
    assert any("outside the benchmark's scale" in w for w in s.warnings)
    assert any("prompt version other than" in w for w in s.warnings)


def test_report_files_and_run_card(ledger, tmp_path):
    bench = ledger.benchmark({"physics": {"pass_rule": {"all_at_least": 8}}, "style": {}}, SAMPLES)
    run_id = ledger.run(bench, RESULTS, edits={"s2": ("failed", "oom")}, edit_seconds=2.0, judge_seconds=0.5)
    with session_scope(ledger.url) as session:
        paths = write_report(session, run_id, tmp_path / "out", home=tmp_path)
    md = paths.report_md.read_text()
    assert "| physics | 4 | 2 | 8.24 | 1.07 |" in md  # category, n, scored, mean, std
    assert "macro mean" in md and "micro mean" in md
    assert "| edit | oom | 1 |" in md

    card = json.loads(paths.run_card_json.read_text())
    # 9 edits × 2 s; judge time once per judged sample: 8 samples have a timed judgment row
    assert card["compute"]["edit_seconds"] == 18.0
    assert card["compute"]["judge_seconds"] == 4.0
    assert card["compute"]["gpu_seconds"] == 22.0
    assert card["editor"]["params"] == {"steps": 50, "true_cfg_scale": 4.0}
    assert len(card["editor"]["params_hash"]) == 64
    assert card["seeds"]["run"] == 7 and card["seeds"]["edits"]["distinct"] == 9
    assert set(card["prompts"]) == {"physics", "style"}
    assert card["git_revision"]["recorded"] == "abc123def456"
    assert card["library_versions"]["recorded"] == {"torch": "2.14.1"}
    assert card["library_versions"]["at_report"]["numpy"]
    assert card["times"]["created_at"].startswith("2025-01-01T12:00:00")


def test_capacity_planning_runs_are_flagged_before_citing(ledger):
    """A run made with random full-size weights must say so where a reader looks first."""
    bench = ledger.benchmark({"physics": {}}, {"physics": ["p1"]})
    capacity = ledger.run(bench, {"p1": {SC: 7, PQ: 8}}, run_card={"capacity_planning": True}, name="capacity")
    normal = ledger.run(bench, {"p1": {SC: 7, PQ: 8}}, name="normal")
    with session_scope(ledger.url) as session:
        flagged, plain = summarize(load_run(session, capacity)), summarize(load_run(session, normal))
    assert any("capacity-planning run" in w for w in flagged.warnings)
    assert not any("capacity-planning" in w for w in plain.warnings)
