"""Slices: a benchmark that declares ``language`` (and a source key) gets one table per group,
checked against numbers worked out by hand."""

import json

import jsonschema
import pytest

from editbench.report import load_run, summarize, write_report, write_report_for
from editbench.report.json_schema import load_schema
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC

SAMPLES = {"physics": ["a1", "a2", "a3"], "style": ["b1", "b2", "b3"]}
LANGUAGES = {"a2": "zh", "b2": "zh", "b3": "zh"}
RESULTS = {
    "a1": {SC: 8, PQ: 2},  # overall sqrt(16) = 4
    "a2": {SC: 9, PQ: 9},  # 9
    "a3": {SC: 6, PQ: 6},  # 6
    "b1": {SC: 4, PQ: 4},  # 4
    "b2": {SC: 1, PQ: 1},  # 1
    "b3": {SC: 5, PQ: ("failed", "judge_error")},  # unscored
}


@pytest.fixture
def sliced_run(any_ledger):
    bench = any_ledger.benchmark(
        {"physics": {}, "style": {}},
        SAMPLES,
        languages=LANGUAGES,
        provenance={"a1": {"intersection_exist": True}, "a2": {"intersection_exist": False}},
        slices=["language", "intersection_exist"],
    )
    run_id = any_ledger.run(bench, RESULTS, name="sliced")
    with session_scope(any_ledger.url) as session:
        return load_run(session, run_id)


def test_a_language_slice_gets_per_language_tables_with_hand_computed_numbers(sliced_run):
    table = summarize(sliced_run).slices["language"]
    assert table.source == "item field instruction_language"
    assert list(table.groups) == ["en", "zh"]

    en, zh = table.groups["en"], table.groups["zh"]
    assert en.n_samples == 3 and zh.n_samples == 3
    assert en.categories["physics"].mean == pytest.approx(5.0)  # (4 + 6) / 2
    assert en.categories["style"].mean == pytest.approx(4.0)
    assert en.overall.macro_mean.value == pytest.approx(4.5)  # (5 + 4) / 2
    assert en.overall.micro_mean.value == pytest.approx(14 / 3)  # (4 + 6 + 4) / 3
    assert en.overall.macro_mean.ci95 is None  # style has one score in this group
    assert en.categories["physics"].ci95 is not None
    assert en.criteria[SC].macro_mean.value == pytest.approx((7 + 4) / 2)  # physics (8+6)/2, style 4
    assert en.criteria[PQ].micro_mean.value == pytest.approx((2 + 6 + 4) / 3)

    assert zh.categories["physics"].mean == pytest.approx(9.0)
    assert zh.categories["style"].mean == pytest.approx(1.0)
    assert zh.categories["style"].n_total == 2 and zh.categories["style"].n_failed == 1
    assert zh.overall.macro_mean.value == pytest.approx(5.0)
    assert zh.overall.micro_mean.value == pytest.approx(5.0)
    assert zh.overall.samples.count == 2 and zh.overall.samples.n_failed == 1
    assert zh.criteria[SC].micro_mean.value == pytest.approx((9 + 1 + 5) / 3)  # b3's SC was scored


def test_a_source_key_slice_groups_items_without_the_key_as_not_set(sliced_run):
    table = summarize(sliced_run).slices["intersection_exist"]
    assert table.source == "item source.intersection_exist"
    assert list(table.groups) == ["false", "true", "(not set)"]
    assert table.groups["true"].overall.micro_mean.value == pytest.approx(4.0)
    assert table.groups["false"].overall.micro_mean.value == pytest.approx(9.0)
    assert table.groups["(not set)"].n_samples == 4
    assert list(table.groups["true"].categories) == ["physics"]  # style has no item in this group


def test_slices_reach_summary_json_report_md_and_html(sliced_run, tmp_path):
    paths = write_report_for(sliced_run, tmp_path / "out", home=tmp_path)
    summary = json.loads(paths.summary_json.read_text())
    jsonschema.validate(summary, load_schema("summary"), cls=jsonschema.Draft202012Validator)
    assert summary["slices"]["language"]["groups"]["en"]["overall"]["macro_mean"]["value"] == pytest.approx(4.5)
    md = paths.report_md.read_text()
    assert "## By language" in md and "| category | en | zh |" in md
    assert "| physics | 5.00 [4.00, 6.00] (n=2) | 9.00 — (n=1) |" in md
    html = paths.report_html.read_text()
    assert "By language" in html and "By intersection_exist" in html


def test_a_benchmark_without_slices_writes_no_slices_key(ledger, tmp_path):
    bench = ledger.benchmark({"physics": {}}, {"physics": ["p1"]})
    run_id = ledger.run(bench, {"p1": {SC: 5, PQ: 5}})
    with session_scope(ledger.url) as session:
        paths = write_report(session, run_id, tmp_path / "out", home=tmp_path)
    assert "slices" not in json.loads(paths.summary_json.read_text())
