"""compare on runs with a known difference, and one editor under two judges."""

import json
import re

import pytest

from editbench.report.compare import compare_runs, write_comparison
from editbench.report.data import load_run
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC

PHYSICS = [f"p{i:02d}" for i in range(16)]
STYLE = [f"s{i:02d}" for i in range(16)]


def _base(i: int) -> dict:
    return {SC: 3 + i % 5, PQ: 4 + (i * 3) % 5}


@pytest.fixture
def two_editors(any_ledger):
    # weighted_mean makes the per-sample overall (SC + PQ) / 2, so +2 on SC is exactly +1 overall
    bench = any_ledger.benchmark({"physics": {}, "style": {}}, {"physics": PHYSICS, "style": STYLE}, overall="weighted_mean")
    a = {k: _base(i) for i, k in enumerate(PHYSICS + STYLE)}
    b = {k: ({SC: v[SC] + 2, PQ: v[PQ]} if k.startswith("p") else dict(v)) for k, v in a.items()}
    b["s05"] = {SC: ("parse_error", "unparseable"), PQ: 5}
    ra = any_ledger.run(bench, a, name="baseline", editor=("editor-a", "/models/a"))
    rb = any_ledger.run(bench, b, name="candidate", editor=("editor-b", "/models/b"))
    return any_ledger, ra, rb


def test_known_difference_is_found_and_only_there(two_editors, tmp_path):
    ledger, ra, rb = two_editors
    with session_scope(ledger.url) as session:
        result = compare_runs([load_run(session, ra), load_run(session, rb)])
    comp = result.comparisons[0]
    assert comp.kind == "editors"
    physics, style = comp.categories["physics"], comp.categories["style"]

    assert physics.n_pairs == 16
    assert physics.diff == 1.0
    assert physics.ci95 == (1.0, 1.0)
    assert physics.p_value == pytest.approx(1 / 10_001)
    assert physics.significant and physics.verdict == "B higher"
    assert physics.criteria[SC].diff == 2.0 and physics.criteria[SC].significant
    assert physics.criteria[PQ].diff == 0.0 and not physics.criteria[PQ].significant

    # the parse error in B is counted, not paired and not imputed
    assert style.n_pairs == 15
    assert style.n_scored_only_in_a == 1
    assert style.diff == 0.0 and style.p_value == 1.0
    assert not style.significant and style.verdict == "no significant difference"
    assert style.spearman == 1.0

    assert comp.all_items.n_pairs == 31
    assert comp.all_items.diff == pytest.approx(16 / 31)
    assert comp.macro_diff.value == 0.5
    assert [r.label for r in result.runs] == [f"run {ra} (baseline)", f"run {rb} (candidate)"]


def test_outputs_written(two_editors, tmp_path):
    ledger, ra, rb = two_editors
    with session_scope(ledger.url) as session:
        paths = write_comparison(session, [ra, rb], tmp_path / "cmp", home=tmp_path)
    md = paths.compare_md.read_text()
    assert "| **physics** | 16 |" in md and "**+1.00**" in md
    assert "| style | 15 |" in md
    html = paths.compare_html.read_text()
    assert html.count('<article class="sample"') == 32
    assert "<script" in html and not re.search(r'(src|href)="(https?:)?//', html)
    assert json.loads(paths.compare_json.read_text())["format"] == "editbench.compare/1"


def test_one_editor_two_judges_reports_agreement(ledger):
    bench = ledger.benchmark({"physics": {}}, {"physics": PHYSICS})
    a = {k: _base(i) for i, k in enumerate(PHYSICS)}
    # a harsher judge that ranks every item the same way
    b = {k: {SC: v[SC] - 1, PQ: v[PQ] - 1} for k, v in a.items()}
    ra = ledger.run(bench, a, judge=("qwen3-vl", "/models/Qwen3-VL-8B"))
    rb = ledger.run(bench, b, judge=("qwen3-vl", "/models/Qwen3-VL-32B"))
    with session_scope(ledger.url) as session:
        comp = compare_runs([load_run(session, ra), load_run(session, rb)]).comparisons[0]
    assert comp.kind == "judges"
    physics = comp.categories["physics"]
    assert physics.spearman == 1.0
    assert physics.criteria[SC].spearman == 1.0
    assert physics.diff < 0 and physics.significant


def test_mixed_configuration_is_flagged(ledger):
    bench = ledger.benchmark({"physics": {}}, {"physics": PHYSICS[:4]})
    a = {k: _base(i) for i, k in enumerate(PHYSICS[:4])}
    ra = ledger.run(bench, a, editor=("e1", None), judge=("j1", None))
    rb = ledger.run(bench, a, editor=("e2", None), judge=("j2", None), status="running")
    with session_scope(ledger.url) as session:
        comp = compare_runs([load_run(session, ra), load_run(session, rb)]).comparisons[0]
    assert comp.kind == "editors_and_judges"
    assert any("mixes" in w for w in comp.warnings)
    assert any("partial" in w for w in comp.warnings)
