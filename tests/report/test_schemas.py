"""The JSON Schema files shipped with the package match the models, and real reports validate."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from editbench.report.json_schema import DOCUMENTS, load_schema, main, schema_path, schema_text
from tests.report.test_golden import GOLDEN, VARIES, produce_documents


def _schema_name(golden: str) -> str:
    return golden.rsplit(".", 1)[0].removesuffix("_a").removesuffix("_c")


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_checked_in_schema_equals_the_one_generated_from_the_model(name):
    assert schema_path(name).read_text(encoding="utf-8") == schema_text(name), (
        f"{schema_path(name).name} is stale: run `python -m editbench.report.json_schema`"
    )
    jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_check_mode_reports_no_stale_schema(capsys):
    assert main(["--check"]) == 0
    assert capsys.readouterr().out == ""


def _refill(golden: object, fresh: object) -> object:
    """The golden document with every normalised value taken back from a fresh report."""
    if golden == VARIES:
        return fresh
    if isinstance(golden, dict) and isinstance(fresh, dict):
        return {k: _refill(v, fresh.get(k)) for k, v in golden.items()}
    if isinstance(golden, list) and isinstance(fresh, list):
        return [_refill(g, f) for g, f in zip(golden, fresh, strict=True)]
    return golden


def test_golden_and_fresh_reports_validate_against_the_schemas(ledger, tmp_path):
    fresh = produce_documents(ledger, tmp_path / "out")
    assert set(fresh) == {p.name for p in GOLDEN.glob("*.json")}
    for name, document in fresh.items():
        schema = load_schema(_schema_name(name))
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
        golden = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
        jsonschema.validate(_refill(golden, document), schema, cls=jsonschema.Draft202012Validator)


def test_schema_refuses_what_a_reader_would_misread(ledger, tmp_path):
    """Unknown keys and a mean written as a string are errors, not silently accepted."""
    summary = produce_documents(ledger, tmp_path / "out")["summary_a.json"]
    schema = load_schema("summary")
    extra = copy.deepcopy(summary)
    extra["overall"]["samples"]["avg"] = 1.0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(extra, schema)
    wrong = copy.deepcopy(summary)
    wrong["categories"]["physics"]["overall"]["mean"] = "8.15"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema)


def test_written_documents_read_back_into_their_types(ledger, tmp_path):
    """A consumer can load summary.json etc. with the models and gets the same document back."""
    for name, document in produce_documents(ledger, tmp_path / "out").items():
        model = DOCUMENTS[_schema_name(name)]
        assert model.model_validate_json(json.dumps(document)).to_json_dict() == document
