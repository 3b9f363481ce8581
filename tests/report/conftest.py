"""Runs built row by row in a real database, so reports are tested against the ledger they read.

``ledger`` works on a fresh SQLite file; ``any_ledger`` runs the test once on SQLite and once on
PostgreSQL (postgresql://postgres@127.0.0.1:5432/test, or EDITBENCH_TEST_POSTGRES_URL), each test
in its own schema so concurrent test runs never see each other's rows.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from editbench.schema.db import get_engine, session_scope
from editbench.schema.models import (
    Base,
    Benchmark,
    Category,
    Edit,
    Judgment,
    Run,
    RunStatus,
    Sample,
    Status,
)

POSTGRES_URL = os.environ.get("EDITBENCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the project installs psycopg2-binary.
if POSTGRES_URL.startswith("postgresql://"):
    POSTGRES_URL = "postgresql+psycopg2://" + POSTGRES_URL.removeprefix("postgresql://")
VIESCORE = [
    {"name": "semantic_consistency", "description": "Does the edit do what was asked, and only that?"},
    {"name": "perceptual_quality", "description": "Does the result look natural?"},
]
SC, PQ = "semantic_consistency", "perceptual_quality"
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

Outcome = float | int | str | tuple[str, str] | None
"""A judgment in a spec: a number (done), a status name, (status, error_code), or None (no row)."""


@dataclass
class Ledger:
    url: str
    root: Path
    images: Path = field(init=False)

    def __post_init__(self) -> None:
        self.images = self.root / "images"
        self.images.mkdir(parents=True, exist_ok=True)

    def image(self, name: str, color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> Path:
        path = self.images / f"{name}.png"
        if not path.exists():
            Image.new("RGB", size, color).save(path)
        return path

    def benchmark(
        self,
        categories: Mapping[str, Mapping[str, Any]],
        samples: Mapping[str, list[str]],
        *,
        name: str = "bench",
        overall: str = "geometric_mean",
        criteria: list[dict[str, str]] | None = None,
        languages: Mapping[str, str] | None = None,
        provenance: Mapping[str, dict[str, Any]] | None = None,
        slices: list[str] | None = None,
    ) -> int:
        """``categories``: name → Category column overrides; ``samples``: category → external ids."""
        with session_scope(self.url) as session:
            bench = Benchmark(
                name=name,
                version="1",
                description="test benchmark",
                content_hash="c0ffee" * 10 + "abcd",
                score_min=0,
                score_max=10,
                overall=overall,
                criteria=criteria or VIESCORE,
                source_path=str(self.root),
                created_at=T0,
                slices=slices or [],
            )
            session.add(bench)
            session.flush()
            for i, (cat_name, extra) in enumerate(categories.items()):
                category = Category(
                    benchmark_id=bench.id,
                    name=cat_name,
                    description=f"{cat_name} edits",
                    prompt_path=f"prompts/{cat_name}.v1.txt",
                    prompt_text="Rate {criterion} from {scale_min} to {scale_max}.",
                    prompt_version=extra.get("prompt_version", f"p{i}" + "0" * 10),
                    criteria=extra.get("criteria", []),
                    weights=extra.get("weights", {}),
                    pass_rule=extra.get("pass_rule"),
                    created_at=T0,
                )
                session.add(category)
                session.flush()
                for j, external_id in enumerate(samples.get(cat_name, [])):
                    src = self.image(f"src-{external_id}", (40 * i % 256, 20 * j % 256, 200))
                    session.add(
                        Sample(
                            benchmark_id=bench.id,
                            category_id=category.id,
                            external_id=external_id,
                            instruction=f"make {external_id} <b>blue</b> & shiny",
                            instruction_language=(languages or {}).get(external_id, "en"),
                            source_sha256=hashlib.sha256(src.read_bytes()).hexdigest(),
                            source_path=str(src),
                            tags=[],
                            provenance=dict((provenance or {}).get(external_id, {})),
                            created_at=T0,
                        )
                    )
            return bench.id

    def run(
        self,
        benchmark_id: int,
        results: Mapping[str, Mapping[str, Outcome]],
        *,
        name: str = "",
        editor: tuple[str, str | None] = ("qwen-image-edit", "/models/Qwen-Image-Edit"),
        judge: tuple[str, str | None] = ("qwen3-vl", "/models/Qwen3-VL-8B"),
        edits: Mapping[str, str | tuple[str, str]] | None = None,
        status: str = "done",
        edit_seconds: float = 2.0,
        judge_seconds: float = 0.5,
        run_card: dict[str, Any] | None = None,
        prompt_versions: Mapping[str, str] | None = None,
    ) -> int:
        """``results``: external id → criterion → outcome; ``edits``: external id → edit status
        (default done), optionally (status, error_code)."""
        edits = edits or {}
        with session_scope(self.url) as session:
            run = Run(
                benchmark_id=benchmark_id,
                name=name,
                editor_kind=editor[0],
                editor_path=editor[1],
                editor_params={"steps": 50, "true_cfg_scale": 4.0},
                judge_kind=judge[0],
                judge_path=judge[1],
                judge_params={"mode": "logits"},
                seed=7,
                status=RunStatus(status),
                run_card=run_card if run_card is not None else {"git_revision": "abc123def456", "libraries": {"torch": "2.14.1"}},
                created_at=T0,
                finished_at=T0 + timedelta(hours=1) if status == "done" else None,
            )
            session.add(run)
            session.flush()
            samples = {s.external_id: s for s in session.query(Sample).filter(Sample.benchmark_id == benchmark_id).order_by(Sample.id)}
            for n, (external_id, per_criterion) in enumerate(results.items()):
                sample = samples[external_id]
                edit_status, edit_code = _status_code(edits.get(external_id, "done"))
                output = None
                if edit_status == "done":
                    shade = (run.id * 50 + n * 7) % 256
                    output = str(self.image(f"edit-r{run.id}-{external_id}", (shade, 120, 60)))
                session.add(
                    Edit(
                        run_id=run.id,
                        sample_id=sample.id,
                        category_id=sample.category_id,
                        status=Status(edit_status),
                        attempts=1,
                        seed=1000 + n,
                        output_path=output,
                        output_sha256=None,
                        error_code=edit_code,
                        error=f"{edit_code} happened" if edit_code else None,
                        duration_s=edit_seconds if edit_status in ("done", "failed") else None,
                        started_at=T0 + timedelta(seconds=n),
                        finished_at=T0 + timedelta(seconds=n + 1) if edit_status not in ("pending", "running") else None,
                    )
                )
                for criterion, outcome in per_criterion.items():
                    if outcome is None:
                        continue
                    if isinstance(outcome, (int, float)):
                        j_status, code, score = "done", None, float(outcome)
                    else:
                        (j_status, code), score = _status_code(outcome), None
                    final = j_status not in ("pending", "running")
                    category_name = sample.category.name
                    session.add(
                        Judgment(
                            run_id=run.id,
                            sample_id=sample.id,
                            category_id=sample.category_id,
                            criterion=criterion,
                            status=Status(j_status),
                            attempts=1 if final else 0,
                            score=score,
                            confidence=0.9 if score is not None else None,
                            reasoning=f"{criterion} of {external_id}: looks <fine>" if score is not None else None,
                            raw_output=f'{{"score": {score}}}'
                            if score is not None
                            else ("I cannot rate this" if j_status == "refusal" else "garbled ###" if j_status == "parse_error" else None),
                            error_code=code,
                            error=f"{code} detail" if code else None,
                            judge_identity="judge-identity-1" if score is not None else None,
                            prompt_version=(prompt_versions or {}).get(category_name) or sample.category.prompt_version,
                            duration_s=judge_seconds if final and j_status != "missing" else None,
                            finished_at=T0 + timedelta(minutes=30, seconds=n) if final else None,
                        )
                    )
            return run.id


def _status_code(value: Any) -> tuple[str, str | None]:
    if isinstance(value, tuple):
        return value[0], value[1]
    return value, None


def _create_tables(url: str) -> None:
    Base.metadata.create_all(get_engine(url))


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    _create_tables(url)
    return Ledger(url, tmp_path)


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}: {str(exc).strip()[:120]}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_ledger(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        _create_tables(url)
        yield Ledger(url, tmp_path)
        return
    reason = _postgres_reachable()
    if reason:
        pytest.skip(reason)
    schema = f"eb_report_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        _create_tables(url)
        yield Ledger(url, tmp_path)
    finally:
        get_engine(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None
