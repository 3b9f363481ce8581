"""bench/storage.py runs end to end (``--quick --skip-hosts``: the object-store overhead part,
against a real moto server on 127.0.0.1) and reports the fields docs/BENCHMARKS.md quotes.
The two-host part is exercised by tests/hosts (same harness)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_storage_bench_quick_reports_medians_for_a_1024_png(tmp_path: Path) -> None:
    out = tmp_path / "storage.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDITBENCH_", "AWS_"))}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "storage.py"), "--quick", "--skip-hosts", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    overhead = json.loads(out.read_text())["overhead"]
    assert overhead["image"]["width"] == overhead["image"]["height"] == 1024 and overhead["image"]["bytes"] > 10**6
    for key in ("s3_upload_ms", "s3_download_ms", "s3_roundtrip_ms", "local_write_ms", "local_read_ms", "cache_hit_ms"):
        assert math.isfinite(overhead[key]) and overhead[key] > 0, key
