"""What every official protocol shares: the types, reading the user's checkout, template conversion.

An *official protocol* is a published benchmark's own evaluation: the judge prompts its scripts
send, the way they parse the judge's answers and the way they aggregate scores into the paper's
tables. editbench does not ship the prompt texts (they belong to their authors); a loader reads
them from the user's local checkout of the benchmark's repository and turns them into editbench
prompt templates. The parsing and aggregation rules are editbench's own code, pinned against the
official scripts by tests (see ``docs/importers.md``).
"""

from __future__ import annotations

import ast
import re
import string
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench.records import Benchmark, Category, Criterion, PassRule


class OfficialRepoError(Exception):
    """The official checkout is missing, or not laid out as the loader expects; the message names the file."""


@dataclass(frozen=True)
class OfficialPrompt:
    """One question the official evaluation asks, as an editbench ``str.format`` template.

    ``images`` lists what the official call shows the judge, in order (``source``, ``edited``,
    ``reference``); ``origin`` names the file and variable the text came from.
    """

    name: str
    criteria: tuple[str, ...]
    text: str
    images: tuple[str, ...]
    origin: str


@dataclass(frozen=True)
class OfficialScoring:
    """Everything an import with ``--protocol official`` writes besides the items.

    ``prompts[category]`` holds the prompts asked for that category (``"*"``: every category);
    ``item_prompts`` overrides them per item where the official script picks a prompt variant
    from the item's own fields (RISEBench).
    """

    benchmark: str
    repository: str
    checkout: Path
    commit: str | None
    criteria: tuple[Criterion, ...]
    score_min: int
    score_max: int
    overall: str
    prompts: Mapping[str, tuple[OfficialPrompt, ...]]
    category_criteria: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    category_weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    category_pass_rules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    variants: tuple[OfficialPrompt, ...] = ()  # prompts chosen per item, beyond those in ``prompts``

    def prompts_for(self, category: str) -> tuple[OfficialPrompt, ...]:
        return tuple(self.prompts.get(category) or self.prompts.get("*") or ())

    def category(self, name: str, description: str) -> Category:
        """The native category: official criteria, and a prompt holding the official questions."""
        prompts = self.prompts_for(name)
        if not prompts:
            raise OfficialRepoError(f"the {self.benchmark} official protocol has no prompt for category {name!r}")
        criteria = self.category_criteria.get(name)
        return Category(
            name=name,
            description=description,
            prompt_text=combined_template(prompts),
            criteria=tuple(criteria) if criteria is not None else (),
            weights=dict(self.category_weights.get(name) or {}),
            pass_rule=PassRule.from_json(self.category_pass_rules.get(name)),
        )


# One line of ours above the official texts: editbench's judge asks once per category, the official
# scripts ask once per prompt, so the file says which official prompt scores which criterion.
_COMBINED_HEAD = (
    "The official evaluation asks the following {count} question(s) separately; each is shown "
    "under the criteria it scores. Score {{criterion}} with the question that scores it.\n"
)


def combined_template(prompts: Sequence[OfficialPrompt]) -> str:
    """The category prompt file: the official questions, each under the criteria it scores."""
    if len(prompts) == 1:
        return prompts[0].text
    parts = [_COMBINED_HEAD.format(count=len(prompts))]
    for prompt in prompts:
        parts.append(f"\n=== {', '.join(prompt.criteria)} ({prompt.name}) ===\n{prompt.text}")
    return "".join(parts)


# --- reading the checkout ---------------------------------------------------------------


def require_file(checkout: Path, relative: str, benchmark: str, repository: str) -> Path:
    """``checkout/relative`` as an existing file, or one clear error naming it."""
    if not checkout.is_dir():
        raise OfficialRepoError(
            f"--official-repo {checkout} is not a folder; pass your local checkout of {repository} "
            f"(git clone https://github.com/{repository})"
        )
    path = checkout / relative
    if not path.is_file():
        raise OfficialRepoError(
            f"{relative} not found in {checkout}: the {benchmark} official protocol reads its judge "
            f"prompts from that file of {repository}; is this a checkout of that repository?"
        )
    return path


def python_strings(path: Path, names: Sequence[str] | None = None) -> dict[str, str]:
    """Module-level string assignments of a Python file, read with :mod:`ast` (never executed).

    With ``names``, every one of them must be present; a missing one is an error naming it.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise OfficialRepoError(f"cannot read {path}: {exc}") from exc
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    if names is not None:
        missing = [name for name in names if name not in found]
        if missing:
            raise OfficialRepoError(f"{path} does not define {', '.join(missing)} (expected prompt strings)")
    return found


def checkout_commit(checkout: Path) -> str | None:
    """The checkout's HEAD commit, recorded with the prompts; None when it is not a git work tree."""
    try:
        result = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


# --- turning official templates into editbench templates -------------------------------------


def escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def from_format_template(text: str, fields: Mapping[str, str], where: str) -> str:
    """An official ``str.format`` template with its fields renamed to editbench's.

    ``fields`` maps an official field (``instruct``) to an editbench one (``instruction``);
    the literal text, including the official ``{{``/``}}`` escapes, is kept as it is.
    """
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise OfficialRepoError(f"{where}: not a str.format template ({exc})") from exc
    out: list[str] = []
    for literal, field_name, spec, conversion in parsed:
        out.append(escape_braces(literal))
        if field_name is None:
            continue
        if field_name not in fields or spec or conversion:
            raise OfficialRepoError(f"{where}: unexpected template field {{{field_name}}}")
        out.append("{" + fields[field_name] + "}")
    return "".join(out)


def from_marker_template(text: str, markers: Mapping[str, str]) -> str:
    """An official template with ``<marker>`` placeholders (``<instruction>``) made a str.format one."""
    out = escape_braces(text)
    for marker, name in markers.items():
        out = out.replace(marker, "{" + name + "}")
    return out


def slug(label: str) -> str:
    """A criterion name from an official label: ``Physical & Detail Integrity`` → ``physical_detail_integrity``."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


# --- the official tables ------------------------------------------------------------------


@dataclass(frozen=True)
class TableRow:
    """One row of an official table: a group (task type, category, ...) and its values by column."""

    group: str
    values: Mapping[str, float | None]
    count: int


@dataclass(frozen=True)
class OfficialTable:
    """An official results table, as the benchmark's own script computes it.

    ``sections`` are the paper's sub-tables in order (GEdit: ``en/fullset``, ``en/intersection``,
    ...); each is a list of rows with the same ``columns``.
    """

    benchmark: str
    columns: tuple[str, ...]
    sections: Mapping[str, tuple[TableRow, ...]]
    notes: tuple[str, ...] = ()

    def value(self, section: str, group: str, column: str) -> float | None:
        for row in self.sections[section]:
            if row.group == group:
                return row.values.get(column)
        raise KeyError(f"no row {group!r} in section {section!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "columns": list(self.columns),
            "sections": {
                name: [{"group": r.group, "count": r.count, **dict(r.values)} for r in rows] for name, rows in self.sections.items()
            },
            "notes": list(self.notes),
        }


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, None for no values (the official scripts print nan there)."""
    return sum(values) / len(values) if values else None


def mean_present(values: Iterable[float | None]) -> float | None:
    """The mean of the values a sample has (None: not asked, or its answer not parsed), None if
    no sample has one: KRIS-Bench and RISEBench both average each dimension that way."""
    return mean([v for v in values if v is not None])


def percent_of_five(score: float | None) -> float | None:
    """A 1-5 score on the papers' 0-100 scale (1 -> 0, 5 -> 100), as KRIS-Bench and RISEBench
    (``Score-Percentage``) both report it."""
    return None if score is None else 25 * (score - 1)


@dataclass(frozen=True)
class Protocol:
    """One benchmark's official protocol: where its prompts live and how its tables are computed."""

    kind: str
    benchmark: str
    repository: str
    files: tuple[str, ...]
    load: Callable[[Path], OfficialScoring]
    aggregate: Callable[..., OfficialTable]
    scripts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scoring:
    """How an imported benchmark is judged: editbench's own rubric (the default, all fields None)
    or an official protocol (:func:`editbench.protocols.official_scoring`).

    ``manifest`` replaces the importer's manifest, ``category(name, description)`` its category
    for ``name``, and ``files`` (relative path -> text) are written into the folder as well.
    """

    manifest: Benchmark | None = None
    category: Callable[[str, str], Category] | None = None
    files: Mapping[str, str] = field(default_factory=dict)

    def manifest_or(self, default: Benchmark) -> Benchmark:
        return self.manifest or default

    def declare(self, default: Category) -> Category:
        """The category to declare in place of the importer's own ``default``."""
        return self.category(default.name, default.description) if self.category else default


EDITBENCH_SCORING = Scoring()
