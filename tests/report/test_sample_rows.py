"""samples.jsonl and samples.parquet: one row per (sample, criterion), every row valid against
the shipped JSON Schema, the Parquet rows read back and validated too."""

import json

import jsonschema
import pyarrow.parquet as pq
import pytest

from editbench.report import write_report
from editbench.report.documents import SampleRow
from editbench.report.json_schema import load_schema
from editbench.report.sample_rows import arrow_schema
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC


@pytest.fixture
def paths(ledger, tmp_path):
    bench = ledger.benchmark(
        {"physics": {"pass_rule": {"all_at_least": 8}}, "style": {}},
        {"physics": ["p1", "p2"], "style": ["s1"]},
        languages={"s1": "zh"},
        provenance={"p1": {"dataset": "mine", "intersection_exist": True, "row": 17}},
    )
    run_id = ledger.run(
        bench,
        {
            "p1": {SC: 9, PQ: 8},
            "p2": {SC: ("parse_error", "unparseable"), PQ: 7},
            "s1": {SC: ("missing", "edit_failed"), PQ: ("missing", "edit_failed")},
        },
        edits={"s1": ("failed", "oom")},
        name="rows",
    )
    with session_scope(ledger.url) as session:
        return write_report(session, run_id, tmp_path / "report", home=tmp_path)


def _validate(rows):
    validator = jsonschema.Draft202012Validator(load_schema("samples"))
    for row in rows:
        validator.validate(row)


def test_jsonl_has_one_valid_row_per_sample_and_criterion(paths):
    rows = [json.loads(line) for line in paths.samples_jsonl.read_text(encoding="utf-8").splitlines()]
    _validate(rows)
    assert [(r["item_id"], r["criterion"]) for r in rows] == [("p1", SC), ("p1", PQ), ("p2", SC), ("p2", PQ), ("s1", SC), ("s1", PQ)]
    p1 = rows[0]
    assert (p1["status"], p1["score"], p1["sample_status"], p1["passed"]) == ("done", 9.0, "done", True)
    assert p1["overall"] == pytest.approx((9 * 8) ** 0.5)
    assert json.loads(p1["source"]) == {"dataset": "mine", "intersection_exist": True, "row": 17}
    assert p1["seed"] == 1000 and p1["edit_status"] == "done"
    assert p1["source_image"].startswith("images/") and (paths.out_dir / p1["edited_image"]).is_file()
    p2_sc = rows[2]
    assert (p2_sc["status"], p2_sc["score"], p2_sc["error_code"]) == ("parse_error", None, "unparseable")
    assert rows[3]["sample_status"] == "parse_error" and rows[3]["overall"] is None
    s1 = rows[4]
    assert (s1["instruction_language"], s1["edit_status"], s1["edit_error_code"]) == ("zh", "failed", "oom")
    assert s1["edited_image"] is None and s1["edit_error"] == "oom happened"


def test_parquet_holds_the_same_rows_and_they_validate(paths):
    table = pq.read_table(paths.samples_parquet)
    assert table.schema.names == list(SampleRow.model_fields)
    assert table.schema.equals(arrow_schema(), check_metadata=False)
    rows = table.to_pylist()
    _validate(rows)
    jsonl = [json.loads(line) for line in paths.samples_jsonl.read_text(encoding="utf-8").splitlines()]
    assert rows == jsonl


def test_a_row_model_change_is_a_schema_change(paths):
    """The shipped schema refuses a row with an unknown column or a score written as text."""
    row = json.loads(paths.samples_jsonl.read_text(encoding="utf-8").splitlines()[0])
    schema = load_schema("samples")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**row, "scroe": 1.0}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**row, "score": "9"}, schema)
