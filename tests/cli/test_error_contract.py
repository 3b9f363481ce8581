"""The CLI's error contract, command by command: a bad input is one ``error: ...`` line on
stderr, exit code 2 (bad input) or 1 (failure), never a traceback, and nothing recorded.

The table runs every command of ``editbench`` with bad arguments on both ledgers (SQLite and
PostgreSQL through the ``db_url`` fixture), in-process through click's runner with
``catch_exceptions=False``: an exception the contract missed fails the test instead of being
swallowed by the runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from editbench.cli import main
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Run

BENCH = "editbench-example"


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    code: int
    says: str  # a fragment the error line must contain

    def __str__(self) -> str:
        return " ".join(self.args)[:70]


def _run(*extra: str) -> tuple[str, ...]:
    return ("run", "--benchmark", BENCH, "--editor", "simulated:", "--judge", "simulated:", *extra)


# Every command with bad arguments. {tmp} is the test's folder, {bad_yaml}/{list_yaml}/{full}
# files it prepares.
CASES = [
    # --- runs: unknown run by id and by name, for every command that takes one
    Case(("status", "99"), 2, "no run '99' (editbench runs lists them)"),
    Case(("status", "nosuch"), 2, "no run 'nosuch' (editbench runs lists them)"),
    Case(("status", "99", "--json"), 2, "no run '99'"),
    Case(("resume", "99"), 2, "no run '99'"),
    Case(("follow", "99"), 2, "no run '99'"),
    Case(("follow", "nosuch", "--off"), 2, "no run 'nosuch'"),
    Case(("cancel", "99"), 2, "no run '99'"),
    Case(("report", "nosuch"), 2, "no run 'nosuch' (editbench runs lists them)"),
    Case(("compare", "1"), 2, "at least two runs"),
    Case(("compare", "x", "y"), 2, "no run 'x'"),
    Case(("export", "99", "{tmp}/out"), 2, "no run '99'"),
    Case(("export", "99", "{tmp}/out", "--layout", "nosuch"), 2, "--layout"),
    Case(("runs", "--limit", "0"), 2, "--limit"),
    Case(("status",), 2, "Missing argument"),
    Case(("nosuch",), 2, "No such command"),
    # --- run: every field checked before anything is recorded
    Case(("run",), 2, "--benchmark is required"),
    Case(("run", "--benchmark", BENCH, "--judge", "simulated:"), 2, "--editor is required"),
    Case(_run()[:1] + ("--benchmark", "nosuch", "--editor", "simulated:", "--judge", "simulated:"), 2, "no benchmark named 'nosuch'"),
    Case(_run("--benchmark-version", "9.9"), 2, "has no version '9.9'"),
    Case(_run("--category", "nosuch"), 2, "unknown categories nosuch"),
    Case(_run("--param", "sigmaa=0.1"), 2, "unknown parameter sigmaa (did you mean sigma?)"),
    Case(
        ("run", "--benchmark", BENCH, "--editor", "qwen-image-edit:{tmp}", "--param", "stepz=2", "--judge", "simulated:"),
        2,
        "--editor qwen-image-edit: unknown parameter stepz (did you mean steps?); accepted: ",
    ),
    Case(
        ("run", "--benchmark", BENCH, "--editor", "qwen-image-edit:{tmp}", "--param", "steps=0", "--judge", "simulated:"),
        2,
        "steps must be >= 1",
    ),
    Case(
        ("run", "--benchmark", BENCH, "--editor", "qwen-image-edit:/nonexistent", "--judge", "simulated:"),
        2,
        "/nonexistent is not a folder",
    ),
    Case(("run", "--benchmark", BENCH, "--editor", "simulated:", "--judge", "qwen3-vl:{tmp}", "--judge-param", "mode=vibes"), 2, "mode"),
    Case(_run("--param", "median_s=fast"), 2, "bad value for median_s"),
    Case(_run("--judge-param", "per_image_s=-1"), 2, "per_image_s must be >= 0"),
    Case(_run("--param", "noequals"), 2, "expected key=value"),
    Case(("run", "--benchmark", BENCH, "--editor", "nosuchkind:", "--judge", "simulated:"), 2, "nosuchkind"),
    Case(("run", "--benchmark", BENCH, "--editor", "simulated:", "--judge", "nosuchjudge:/x"), 2, "nosuchjudge"),
    Case(("run", "--benchmark", BENCH, "--editor", "identity:", "--judge", "simulated:", "--param", "steps=2"), 2, "takes no parameters"),
    Case(("run", "--benchmark", BENCH, "--editor", "precomputed:/nonexistent/edits", "--judge", "simulated:"), 2, "is not a folder"),
    Case(_run("--gpus", "-1"), 2, "--gpus must be a whole number >= 1"),
    Case(_run("--gpus", "0"), 2, "--gpus must be"),
    Case(_run("--judge-batch-size", "-3"), 2, "--judge-batch-size must be"),
    Case(_run("--seed", str(2**63)), 2, "--seed must be a whole number from 0 to"),
    Case(_run("--seed", "-1"), 2, "--seed must be"),
    Case(_run("--seed", "abc"), 2, "'abc' is not a valid integer"),
    Case(_run("--routing", "random"), 2, "--routing"),
    Case(("run", "--config", "{tmp}/nonexistent.yaml"), 2, "not a readable run.yaml"),
    Case(("run", "--config", "{bad_yaml}"), 2, "not a readable run.yaml"),
    Case(("run", "--config", "{list_yaml}"), 2, "expected a mapping"),
    Case(("run", "--config", "{bad_fields_yaml}"), 2, "gpus must be a whole number"),
    # --- benchmarks
    Case(("ingest", "{tmp}/nonexistent"), 2, "does not exist"),
    Case(("ingest", "{tmp}", "--max-pixels", "0"), 2, "--max-pixels"),
    Case(("ingest", "{tmp}", "--max-pixels", "-1"), 2, "--max-pixels"),
    Case(("example", "{full}"), 2, "not empty"),
    Case(("example", "{tmp}/ex", "--per-category", "0"), 2, "--per-category"),
    Case(("import", "nosuch", "{tmp}", "{tmp}/dest"), 2, "nosuch"),
    # --- models and processes
    Case(("models", "tiny-pipelines", "{tmp}/p", "NoSuchPipeline"), 2, "no tiny builder"),
    Case(("models", "nosuch"), 2, "No such command"),
    Case(("example", "{tmp}/ex", "--per-category", "100000000000000"), 2, "--per-category"),
    Case(("worker",), 2, "give --gpu N or --cpu"),
    Case(("worker", "--gpu", "-1"), 2, "--gpu"),
    Case(("up", "--cpu-workers", "0"), 2, "--cpu-workers"),
    Case(("up", "--flower", "--flower-port", "70000"), 2, "--flower-port"),
    Case(("demo", "--per-category", "0"), 2, "--per-category"),
    Case(("up", "--flower", "--flower-address", "0.0.0.0"), 2, "FLOWER_BASIC_AUTH"),
    Case(("demo", "--workers", "many"), 2, "not a valid integer"),
]


def _counts() -> tuple[int, int, int]:
    with session_scope() as s:
        return (
            s.scalar(select(func.count()).select_from(Run)) or 0,
            s.scalar(select(func.count()).select_from(Edit)) or 0,
            s.scalar(select(func.count()).select_from(Judgment)) or 0,
        )


@pytest.fixture
def ledger_with_benchmark(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from editbench.benchmark.example import write_example_benchmark
    from editbench.producer.ingest import ingest

    monkeypatch.delenv("EDITBENCH_BROKER_URL", raising=False)
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    ingest(write_example_benchmark(tmp_path / "bench", per_category=1))
    return db_url


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_one_error_line(result: Result, code: int, says: str) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert says in lines[0], lines[0]


def _materialise(args: tuple[str, ...], tmp_path: Path) -> list[str]:
    files = {
        "tmp": tmp_path,
        "bad_yaml": tmp_path / "bad.yaml",
        "list_yaml": tmp_path / "list.yaml",
        "bad_fields_yaml": tmp_path / "fields.yaml",
        "full": tmp_path / "full",
    }
    files["bad_yaml"].write_text("benchmark: [unclosed\n")
    files["list_yaml"].write_text("- a\n- b\n")
    files["bad_fields_yaml"].write_text(f"benchmark: {BENCH}\neditor: {{kind: simulated}}\njudge: {{kind: simulated}}\ngpus: many\n")
    files["full"].mkdir(exist_ok=True)
    (files["full"] / "something.txt").write_text("x")
    return [a.format(**files) for a in args]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_command_refuses_bad_input_with_one_error_line_and_records_nothing(
    case: Case, ledger_with_benchmark: str, tmp_path: Path
) -> None:
    before = _counts()
    result = invoke(*_materialise(case.args, tmp_path))
    assert_one_error_line(result, case.code, case.says)
    assert _counts() == before == (0, 0, 0)


def test_run_with_the_broker_down_refuses_within_seconds_and_records_nothing(
    ledger_with_benchmark: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("EDITBENCH_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    started = time.monotonic()
    result = invoke(*_run())
    assert time.monotonic() - started < 10
    assert_one_error_line(result, 1, "does not answer")
    assert _counts() == (0, 0, 0)


def test_run_with_no_broker_configured_refuses_and_records_nothing(ledger_with_benchmark: str) -> None:
    result = invoke(*_run())
    assert_one_error_line(result, 1, "no broker configured")
    assert _counts() == (0, 0, 0)


def test_an_unreachable_ledger_is_one_error_line_with_exit_code_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITBENCH_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path / "home"))
    for args in (("status", "1"), ("runs",), ("report", "1")):
        result = invoke(*args)
        assert_one_error_line(result, 1, "cannot be read")


def test_asking_an_empty_home_about_a_run_creates_no_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "fresh"
    monkeypatch.setenv("EDITBENCH_HOME", str(home))
    monkeypatch.delenv("EDITBENCH_DATABASE_URL", raising=False)
    result = invoke("status", "1")
    assert_one_error_line(result, 2, "no run '1'")
    assert not (home / "editbench.db").exists()


def test_an_unexpected_error_is_one_line_with_a_debug_hint_and_debug_shows_the_traceback(
    ledger_with_benchmark: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A third-party adapter with a bug in its validator: not the user's input, so exit 1 with a
    # hint; --debug shows the traceback for the bug report.
    from editbench.models import base

    class BuggyEditor:
        name = "buggy"

        @classmethod
        def validate(cls, path, **params):  # type: ignore[no-untyped-def]
            raise RuntimeError("the plugin's own bug")

    monkeypatch.setitem(base._REGISTERED["editor"], "buggy", BuggyEditor)
    monkeypatch.setenv("EDITBENCH_DEBUG", "")  # --debug sets it for the process; restored after
    args = ("run", "--benchmark", BENCH, "--editor", "buggy:", "--judge", "simulated:")
    result = invoke(*args)
    assert_one_error_line(result, 1, "unexpected RuntimeError: the plugin's own bug")
    assert "--debug" in result.stderr and "EDITBENCH_DEBUG=1" in result.stderr
    debug = invoke("--debug", *args)
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr and "the plugin's own bug" in debug.stderr
    assert _counts() == (0, 0, 0)


def test_help_and_version_exit_0() -> None:
    for args in (("--help",), ("run", "--help"), ("--version",), ("runs", "--help"), ("cancel", "--help")):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""
