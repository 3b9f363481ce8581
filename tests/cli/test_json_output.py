"""``status --json`` and ``runs --json`` are documents with shipped JSON Schemas: real output of a
real run validates against the files in editbench/producer/schemas/, and those files are what
the models generate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from editbench.cli import main
from editbench.producer.json_documents import DOCUMENTS, schema_path, schema_text


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_shipped_schemas_are_what_the_models_generate(name: str) -> None:
    assert schema_path(name).read_text() == schema_text(name), "run: python -m editbench.producer.json_documents"


def test_status_and_runs_json_of_a_recorded_run_validate_against_the_shipped_schemas(db_url: str, tmp_path: Path, redis_url: str) -> None:
    from editbench.producer.runs import cancel_run
    from editbench.producer.submit import ModelRef, RunRequest, submit
    from tests.integration.harness import ingest_example

    benchmark = ingest_example(tmp_path, per_category=1)
    run_id = submit(
        RunRequest(benchmark=benchmark, editor=ModelRef("simulated", None), judge=ModelRef("simulated", None), name="json-check")
    )
    try:
        for args, name in ((["status", "json-check", "--json"], "status"), (["runs", "--json"], "runs")):
            result = CliRunner().invoke(main, args, catch_exceptions=False)
            assert result.exit_code == 0, result.output
            document = json.loads(result.stdout)
            jsonschema.validate(document, json.loads(schema_path(name).read_text()))
        status = json.loads(CliRunner().invoke(main, ["status", str(run_id), "--json"]).stdout)
        assert status["run_id"] == run_id and status["status"] == "running" and status["totals"]["edits_open"] == 5
    finally:
        cancel_run(run_id)  # take its queued messages back so no later test's worker sees them
