"""Parse ``benchmark.yaml`` into a :class:`Benchmark`, strictly.

Unlike items, a bad manifest is fatal: every judgment depends on the criteria, scale and prompts
it declares, so a typo here (an unknown key silently ignored, a version that YAML turned into a
float) would make numbers incomparable without anyone noticing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from editbench.benchmark import limits
from editbench.benchmark.prompts import DEFAULT_PROMPT, read_prompt
from editbench.benchmark.spec import (
    Benchmark,
    Category,
    Criterion,
    Overall,
    PassRule,
    ReasonCode,
)
from editbench.errors import BenchmarkFormatError

MANIFEST = "benchmark.yaml"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
CRITERION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

DEFAULT_CRITERIA = (
    Criterion("semantic_consistency", "Does the edit do what the instruction asks, and only that?"),
    Criterion("perceptual_quality", "Does the edited image look natural and free of artifacts?"),
)
DEFAULT_SCALE = (0, 10)

_TOP_KEYS = {"name", "version", "description", "score_scale", "criteria", "overall", "categories", "slices"}
_CATEGORY_KEYS = {"name", "description", "prompt", "criteria", "weights", "pass_rule"}


def read_manifest(root: Path) -> Benchmark:
    """Load ``root/benchmark.yaml``; the returned spec has no ``content_hash`` yet."""
    data = _load_yaml(root / MANIFEST)
    _reject_unknown_keys(data, _TOP_KEYS, MANIFEST)
    name = _require_name(data)
    version = _require_version(data)
    score_min, score_max = _scale(data.get("score_scale"))
    criteria = _criteria(data.get("criteria"))
    categories = _categories(root, data.get("categories"), criteria, score_min, score_max)
    return Benchmark(
        name=name,
        version=version,
        description=_optional_text(data.get("description"), "description", MANIFEST),
        score_min=score_min,
        score_max=score_max,
        criteria=criteria,
        overall=_overall(data.get("overall")),
        categories=categories,
        slices=_slices(data.get("slices")),
    )


def _slices(value: Any) -> tuple[str, ...]:
    """Grouping keys for the report: ``language``, ``subcategory`` or a key of the items' ``source``."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and CRITERION_PATTERN.fullmatch(v) for v in value):
        raise BenchmarkFormatError(
            f"{MANIFEST}: slices must be a list of item metadata keys (language, subcategory or a key "
            f"of the items' source object), got {value!r}"
        )
    if len(set(value)) != len(value):
        raise BenchmarkFormatError(f"{MANIFEST}: slices lists a key twice")
    return tuple(fits(v, f"{MANIFEST}: slice key", limits.MAX_CRITERION_NAME_CHARS) for v in value)


def default_category(root: Path, name: str, criteria: tuple[Criterion, ...]) -> Category:
    """A category with defaults for everything: used by the simple layout."""
    prompt = read_prompt(root, DEFAULT_PROMPT)
    names = tuple(c.name for c in criteria)
    return Category(
        name=name,
        description="",
        prompt_path=prompt.path,
        prompt_text=prompt.text,
        prompt_version=prompt.version,
        prompt_sha256=prompt.sha256,
        criteria=names,
        weights={n: 1.0 for n in names},
    )


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise BenchmarkFormatError(f"{MANIFEST}: not valid UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BenchmarkFormatError(f"{MANIFEST}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise BenchmarkFormatError(f"{MANIFEST}: must be a mapping with at least name, version and categories")
    return data


def _reject_unknown_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise BenchmarkFormatError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _require_name(data: Mapping[str, Any]) -> str:
    name = data.get("name")
    if name is None:
        raise BenchmarkFormatError(f"{MANIFEST}: missing required key 'name'")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise BenchmarkFormatError(f"{MANIFEST}: name {name!r} must match [a-z0-9][a-z0-9._-]*")
    return fits(name, f"{MANIFEST}: name", limits.MAX_BENCHMARK_NAME_CHARS)


def _require_version(data: Mapping[str, Any]) -> str:
    version = data.get("version")
    if version is None:
        raise BenchmarkFormatError(f"{MANIFEST}: missing required key 'version'")
    if not isinstance(version, str) or not version.strip():
        # YAML reads 1.10 as the float 1.1: an unquoted version silently changes meaning.
        raise BenchmarkFormatError(f'{MANIFEST}: version must be a quoted string, e.g. version: "1.0" (got {version!r})')
    return fits(version.strip(), f"{MANIFEST}: version", limits.MAX_VERSION_CHARS)


def _optional_text(value: Any, key: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BenchmarkFormatError(f"{where}: {key} must be a string, got {type(value).__name__}")
    return fits(value.strip(), f"{where}: {key}")


def _scale(value: Any) -> tuple[int, int]:
    if value is None:
        return DEFAULT_SCALE
    if not isinstance(value, dict) or set(value) != {"min", "max"}:
        raise BenchmarkFormatError(f"{MANIFEST}: score_scale must be {{min: <int>, max: <int>}}, got {value!r}")
    low, high = value["min"], value["max"]
    if not (_is_int(low) and _is_int(high)) or low >= high:
        raise BenchmarkFormatError(f"{MANIFEST}: score_scale needs integers with min < max, got {value!r}")
    return low, high


def _criteria(value: Any) -> tuple[Criterion, ...]:
    if value is None:
        return DEFAULT_CRITERIA
    if not isinstance(value, list) or not value:
        raise BenchmarkFormatError(f"{MANIFEST}: criteria must be a non-empty list of {{name, description}}")
    criteria: list[Criterion] = []
    for entry in value:
        where = f"{MANIFEST}: criteria entry {entry!r}"
        if not isinstance(entry, dict):
            raise BenchmarkFormatError(f"{where} must be a mapping {{name, description}}")
        _reject_unknown_keys(entry, {"name", "description"}, where)
        name = entry.get("name")
        if not isinstance(name, str) or not CRITERION_PATTERN.fullmatch(name):
            raise BenchmarkFormatError(f"{where}: name must match [A-Za-z0-9][A-Za-z0-9_.-]*")
        fits(name, f"{MANIFEST}: criterion name", limits.MAX_CRITERION_NAME_CHARS)
        if any(c.name == name for c in criteria):
            raise BenchmarkFormatError(f"{MANIFEST}: criterion {name!r} is declared twice")
        criteria.append(Criterion(name, _optional_text(entry.get("description"), "description", where)))
    return tuple(criteria)


def _overall(value: Any) -> str:
    if value is None:
        return Overall.GEOMETRIC_MEAN.value
    allowed = [o.value for o in Overall]
    if value not in allowed:
        raise BenchmarkFormatError(f"{MANIFEST}: overall {value!r} must be one of {', '.join(allowed)}")
    return str(value)


def _categories(root: Path, value: Any, criteria: tuple[Criterion, ...], score_min: int, score_max: int) -> tuple[Category, ...]:
    if not isinstance(value, list) or not value:
        raise BenchmarkFormatError(f"{MANIFEST}: categories must be a non-empty list")
    categories: list[Category] = []
    for entry in value:
        category = _category(root, entry, criteria, score_min, score_max)
        if any(c.name == category.name for c in categories):
            raise BenchmarkFormatError(f"{MANIFEST}: category {category.name!r} is declared twice")
        categories.append(category)
    return tuple(categories)


def _category(root: Path, entry: Any, criteria: tuple[Criterion, ...], score_min: int, score_max: int) -> Category:
    if not isinstance(entry, dict):
        raise BenchmarkFormatError(f"{MANIFEST}: each category must be a mapping, got {entry!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise BenchmarkFormatError(f"{MANIFEST}: category name must be a non-empty string, got {name!r}")
    fits(name, f"{MANIFEST}: category name", limits.MAX_CATEGORY_NAME_CHARS)
    where = f"{MANIFEST}: category {name!r}"
    _reject_unknown_keys(entry, _CATEGORY_KEYS, where)
    prompt_path = entry.get("prompt", DEFAULT_PROMPT)
    if not isinstance(prompt_path, str) or not prompt_path.strip():
        raise BenchmarkFormatError(f"{where}: prompt must be a relative file path")
    prompt = read_prompt(root, prompt_path)
    names = _category_criteria(entry.get("criteria"), criteria, where)
    return Category(
        name=name,
        description=_optional_text(entry.get("description"), "description", where),
        prompt_path=prompt.path,
        prompt_text=prompt.text,
        prompt_version=prompt.version,
        prompt_sha256=prompt.sha256,
        criteria=names,
        weights=_weights(entry.get("weights"), names, where),
        pass_rule=_pass_rule(entry.get("pass_rule"), score_min, score_max, where),
    )


def _category_criteria(value: Any, criteria: tuple[Criterion, ...], where: str) -> tuple[str, ...]:
    known = [c.name for c in criteria]
    if value is None:
        return tuple(known)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BenchmarkFormatError(f"{where}: criteria must be a non-empty list of criterion names")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise BenchmarkFormatError(f"{where}: unknown criterion {', '.join(map(repr, unknown))}; declared criteria: {', '.join(known)}")
    if len(set(value)) != len(value):
        raise BenchmarkFormatError(f"{where}: criteria lists a criterion twice")
    return tuple(value)


def _weights(value: Any, names: tuple[str, ...], where: str) -> dict[str, float]:
    if value is None:
        return {n: 1.0 for n in names}
    if not isinstance(value, dict):
        raise BenchmarkFormatError(f"{where}: weights must be a mapping criterion -> number")
    unknown = [k for k in value if k not in names]
    if unknown:
        raise BenchmarkFormatError(f"{where}: weights for criteria not scored in this category: {unknown}")
    weights = {n: value.get(n, 1.0) for n in names}
    for key, weight in weights.items():
        if not _is_number(weight) or weight < 0:
            raise BenchmarkFormatError(f"{where}: weight for {key!r} must be a number >= 0, got {weight!r}")
    if not any(weights.values()):
        raise BenchmarkFormatError(f"{where}: at least one weight must be positive")
    return {k: float(v) for k, v in weights.items()}


def _pass_rule(value: Any, score_min: int, score_max: int, where: str) -> PassRule | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"all_at_least"}:
        raise BenchmarkFormatError(f"{where}: pass_rule must be {{all_at_least: <number>}}, got {value!r}")
    threshold = value["all_at_least"]
    if not _is_number(threshold) or not score_min <= threshold <= score_max:
        raise BenchmarkFormatError(f"{where}: pass_rule.all_at_least must be a number in [{score_min}, {score_max}], got {threshold!r}")
    return PassRule(float(threshold))


def fits(text: str, what: str, limit: int | None = None) -> str:
    """``text`` unchanged if the ledger can store it as it is, on SQLite and PostgreSQL alike.

    A NUL character or a value wider than its column passes SQLite and aborts the whole ingest
    on PostgreSQL, so both are refused here, with the limit in the message.
    """
    if limits.NUL in text:
        raise BenchmarkFormatError(f"{what} contains a NUL character (\\u0000); remove it", ReasonCode.NUL_CHARACTER)
    if limit is not None and len(text) > limit:
        shown = text[:40] + "…" if len(text) > 40 else text
        raise BenchmarkFormatError(f"{what} {shown!r} is {len(text):,} characters long; at most {limit:,} allowed", ReasonCode.TOO_LONG)
    return text


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
