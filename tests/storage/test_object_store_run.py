"""A whole run with EDITBENCH_STORE_URL=s3://... (real workers, real Redis, moto on 127.0.0.1):
every image lives in the object store; the only images on local disk are the bounded caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from editbench.producer.submit import ModelRef
from tests.integration.harness import assert_exactly_once, ingest_example, wait_done

pytestmark = pytest.mark.integration

CACHE_MB = 0.05


def _images(folder: Path) -> list[Path]:
    magic = (b"\x89PNG", b"\xff\xd8\xff")
    return [p for p in folder.rglob("*") if p.is_file() and (p.suffix in (".png", ".jpg") or p.read_bytes()[:4].startswith(magic))]


def test_an_object_store_run_leaves_no_image_on_local_disk_but_the_bounded_cache(s3_env, s3_server, workers, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITBENCH_STORE_CACHE_MB", str(CACHE_MB))
    workers.env.update({k: v for k, v in s3_env.items() if k != "bucket"} | {"EDITBENCH_STORE_CACHE_MB": str(CACHE_MB)})
    home = Path(s3_env["EDITBENCH_HOME"])
    benchmark = ingest_example(tmp_path, per_category=3)
    bench_folder = tmp_path / "bench"
    workers.start(0)
    workers.start(1)
    workers.wait_ready(2)
    from editbench.producer.submit import RunRequest, submit

    run_id = submit(
        RunRequest(
            benchmark=benchmark,
            categories=["physics", "social", "causal"],
            editor=ModelRef("simulated", None, {"median_s": 0.05}),
            judge=ModelRef("simulated", None, {}),
        )
    )
    wait_done(run_id, workers, timeout_s=120)
    assert_exactly_once(run_id)

    keys = s3_server.keys(s3_env["bucket"])
    assert sum(k.startswith(f"editbench/artifacts/run-{run_id}/") for k in keys) == 9
    assert any(k.startswith("editbench/store/") for k in keys) and any(k.startswith("editbench/cache/thumbs-256/") for k in keys)
    cache = home / "cache" / "objects"
    stray = [p for p in _images(tmp_path) if bench_folder not in p.parents and cache not in p.parents]
    assert stray == [], stray
    assert 0 < sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) <= CACHE_MB * 1024**2

    # The report of that run is written locally; its thumbnails come from the object store.
    from click.testing import CliRunner

    from editbench.cli import main as cli_main

    out = tmp_path / "report"
    result = CliRunner().invoke(cli_main, ["report", str(run_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists() and len(list((out / "thumbs").glob("*.jpg"))) >= 9
