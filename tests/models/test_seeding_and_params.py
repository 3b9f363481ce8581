"""Seeds derived per sample and parameter coercion from CLI strings."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from editbench.models.params import ParamError, build_params, parse_area, parse_size
from editbench.models.seeding import derive_seed


def test_derived_seed_is_stable_and_depends_on_run_seed_and_sample() -> None:
    seed = derive_seed(42, "physics/001")
    assert seed == derive_seed(42, "physics/001")
    assert seed != derive_seed(43, "physics/001")
    assert seed != derive_seed(42, "physics/002")
    assert 0 <= seed < 2**63
    # Pinned: a change here silently changes every published number.
    assert derive_seed(42, "physics/001") == 2801406391115997477


@dataclass(frozen=True)
class _Settings:
    steps: int = 50
    scale: float = 4.0
    negative: str | None = " "
    flag: bool = False
    limit: int | None = None
    area: int = field(default=1024, metadata={"parse": parse_area})


def test_strings_from_the_cli_are_coerced_to_the_declared_types() -> None:
    settings = build_params(
        _Settings,
        {"steps": "8", "scale": "2.5", "negative": "", "flag": "true", "limit": "none", "area": "512*512"},
        what="t",
    )
    assert settings == _Settings(steps=8, scale=2.5, negative="", flag=True, limit=None, area=512 * 512)
    assert build_params(_Settings, {"negative": "None", "area": "64x64"}, what="t").negative is None


@pytest.mark.parametrize(
    "values",
    [
        {"stepz": "8"},
        {"steps": "eight"},
        {"steps": "2.5"},
        {"flag": "maybe"},
        {"area": "-3"},
        {"area": "big"},
    ],
)
def test_unknown_names_and_bad_values_are_rejected(values: dict) -> None:
    with pytest.raises(ParamError):
        build_params(_Settings, values, what="t")


def test_area_and_size_syntax() -> None:
    assert parse_area(4096) == parse_area("64*64") == parse_area("64x64") == parse_area("4096")
    assert parse_size("640x480") == (640, 480)
    with pytest.raises(ParamError):
        parse_size("640")
