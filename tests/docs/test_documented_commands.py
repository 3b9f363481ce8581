"""Docs that cannot rot: every ``editbench ...`` command shown in a code block of README.md or
docs/*.md is checked against the real click command tree (the command exists, every option
exists, no positional argument is left over), and the ones that need no GPU, model folder or
external data are run for real.

A documented example that stops working fails here. Placeholders follow the usual conventions
and are read as such: ``[...]`` is optional (dropped), ``...`` stands for more of the same
(dropped; after an option, for its value), ``RUN``/``DIR``/``NAME`` in capitals are values.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from editbench.cli import main as editbench_cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
_PROGRAM = re.compile(r"(?:^|/)editbench$")


@dataclass(frozen=True)
class DocumentedCommand:
    where: str  # file:line
    words: tuple[str, ...]  # the arguments after ``editbench``

    def __str__(self) -> str:
        return f"{self.where}: editbench {' '.join(self.words)}"


def _segments(line: str) -> list[str]:
    """Shell command segments of one line, comments removed."""
    line = re.sub(r"(^|\s)#.*$", "", line)
    return [part.strip() for part in re.split(r"&&|\|\||;|\||&", line) if part.strip()]  # ``cmd &``: backgrounded


def _placeholders_removed(words: list[str]) -> list[str]:
    text = " ".join(words)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)  # optional parts
    kept: list[str] = []
    for word in text.split():
        if word in ("...", "…"):
            if kept and kept[-1].startswith("--"):
                kept.append("VALUE")  # ``--judge ...``: the option's value, elided
            continue
        kept.append(word)
    return kept


def documented_commands() -> list[DocumentedCommand]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in _BLOCK.finditer(text):
            first_line = text.count("\n", 0, block.start(1)) + 1
            lines = block.group(1).split("\n")
            i = 0
            while i < len(lines):
                start, line = i, lines[i]
                while line.rstrip().endswith("\\") and i + 1 < len(lines):
                    i += 1
                    line = line.rstrip()[:-1] + " " + lines[i]
                i += 1
                for segment in _segments(line):
                    try:
                        words = shlex.split(segment)
                    except ValueError:
                        continue
                    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
                        words = words[1:]  # VAR=value prefixes
                    if words and _PROGRAM.search(words[0]):
                        where = f"{doc.relative_to(ROOT)}:{first_line + start}"
                        found.append(DocumentedCommand(where, tuple(_placeholders_removed(words[1:]))))
    return found


COMMANDS = documented_commands()


def resolve(words: tuple[str, ...]) -> tuple[click.Command, list[str], list[str]]:
    """The click command the words name, the path to it, and the words left for it to parse."""
    command: click.Command = editbench_cli
    path: list[str] = []
    rest = list(words)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        if sub is None:
            known = ", ".join(sorted(command.list_commands(click.Context(command))))
            raise AssertionError(f"no command {' '.join([*path, rest[0]])!r} (known: {known})")
        path.append(rest.pop(0))
        command = sub
    return command, path, rest


def parse_against_the_cli(words: tuple[str, ...]) -> click.Context:
    command, path, rest = resolve(words)
    if isinstance(command, click.Group) and not rest:
        return click.Context(command)
    name = " ".join(["editbench", *path])
    try:  # strict: an unknown option or a missing value is a usage error
        command.make_context(name, list(rest))
    except click.BadParameter:
        pass  # a value that does not exist on this machine (/models/..., a run id): fine in docs
    # Resilient parsing gets past bad values to the left-over positionals (a stale
    # ``editbench run my-bench``), which strict parsing reports only after the values.
    ctx = command.make_context(name, list(rest), resilient_parsing=True)
    assert not ctx.args, f"unexpected extra argument(s) {ctx.args} for `{name}`"
    return ctx


def test_the_docs_show_editbench_commands_from_every_page_that_has_them() -> None:
    pages = {c.where.split(":")[0] for c in COMMANDS}
    assert {"README.md", "docs/models.md", "docs/reports.md", "docs/importers.md", "docs/deploy.md"} <= pages
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("documented", COMMANDS, ids=str)
def test_every_documented_command_exists_with_the_options_it_shows(documented: DocumentedCommand) -> None:
    try:
        parse_against_the_cli(documented.words)
    except (click.UsageError, AssertionError) as exc:
        pytest.fail(f"{documented}\n  does not match the CLI: {exc}")


def test_the_checker_catches_a_stale_example() -> None:
    """The checker itself: the stale forms it exists to catch are refused."""
    with pytest.raises((AssertionError, click.UsageError), match="unexpected extra argument"):
        parse_against_the_cli(("run", "my-bench", "--editor", "identity:", "--judge", "simulated:"))
    with pytest.raises(click.NoSuchOption):
        parse_against_the_cli(("report", "1", "--no-such-option"))
    with pytest.raises(AssertionError, match="no command 'frobnicate'"):
        parse_against_the_cli(("frobnicate",))


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "editbench.cli", *args], env=env, capture_output=True, text=True, timeout=180, check=False)


def test_documented_commands_that_need_no_gpu_or_external_data_run(tmp_path: Path, sqlite_db: str) -> None:
    """Run for real, in a temporary EDITBENCH_HOME: listing models, writing and ingesting the
    example benchmark as README shows (`editbench ingest ./my-benchmark`), building tiny models."""
    import os

    env = {**os.environ, "EDITBENCH_HOME": str(tmp_path / "home"), "EDITBENCH_DATABASE_URL": sqlite_db}
    shown = {c.words[:2] for c in COMMANDS}
    assert ("models", "list") in shown and ("ingest", "./my-benchmark") in shown and ("models", "tiny") in shown

    listed = _cli("models", "list", env=env)
    assert listed.returncode == 0 and "qwen-image-edit" in listed.stdout and "simulated" in listed.stdout

    made = _cli("example", str(tmp_path / "my-benchmark"), env=env)
    assert made.returncode == 0, made.stderr
    ingested = subprocess.run(
        [sys.executable, "-m", "editbench.cli", "ingest", "./my-benchmark"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert ingested.returncode == 0, ingested.stderr
    assert "editbench-example" in ingested.stdout
