"""How long `write_report` takes on a 1,000-sample run (goal: under 5 s on a 2-core machine).

Builds a synthetic run in a temporary SQLite ledger — 10 categories × 100 samples, two criteria,
a few failed edits, parse errors and refusals, judge reasoning of realistic length, one source
and one edited photo-like PNG file per sample — then times `write_report`:

* cold: a fresh report folder and an empty thumbnail cache, so all 2 × N thumbnails are made
  (the first report ever made on a machine); the headline, median of --repeats;
* cached: a fresh report folder, thumbnails already in EDITBENCH_HOME's cache (a second report
  of the run, or a comparison);
* refresh: rewriting an existing report folder (a report refreshed while the run goes on).

It also breaks one cold report down by stage.

    python bench/report_speed.py                    # 1,000 samples, 512×512 images, median of 3
    python bench/report_speed.py --image-size 1024  # Qwen-Image-Edit's output size
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import insert

from editbench.report import write_report
from editbench.report.data import load_run
from editbench.report.html import render_html
from editbench.report.markdown import render_markdown
from editbench.report.run_card import build_run_card
from editbench.report.summary import summarize
from editbench.report.thumbs import make_thumbnails
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

CRITERIA = ("semantic_consistency", "perceptual_quality")
REASONING = (
    "The instruction asks to change the colour of the car to red. The edited image shows the car in a "
    "deep red with consistent reflections; the background, the road markings and the pedestrians are "
    "unchanged. A slight halo is visible around the left mirror. "
)


def _photo_like(rng: np.random.Generator, size: int) -> Image.Image:
    """Smooth colour gradients plus sensor-like noise: compresses and decodes like a photo."""
    y, x = np.mgrid[0:size, 0:size] / size
    channels = [np.sin(rng.uniform(1, 6) * x + rng.uniform(1, 6) * y + rng.uniform(0, 6)) for _ in range(3)]
    image = (np.stack(channels, -1) * 100 + 128 + rng.normal(0, 6, (size, size, 3))).clip(0, 255)
    return Image.fromarray(image.astype(np.uint8))


def build_run(url: str, images: Path, n_samples: int, size: int) -> int:
    rng = np.random.default_rng(0)
    now = datetime.now(UTC)
    n_categories = 10
    with session_scope(url) as session:
        bench = Benchmark(
            name="speed",
            version="1",
            content_hash="0" * 64,
            overall="geometric_mean",
            criteria=[{"name": c, "description": c} for c in CRITERIA],
            created_at=now,
        )
        session.add(bench)
        session.flush()
        categories = []
        for i in range(n_categories):
            category = Category(
                benchmark_id=bench.id,
                name=f"category_{i}",
                prompt_path=f"prompts/c{i}.txt",
                prompt_text="...",
                prompt_version=f"{i:064x}"[:16],
                criteria=list(CRITERIA),
                weights={},
                pass_rule={"all_at_least": 8} if i % 2 else None,
                created_at=now,
            )
            session.add(category)
            categories.append(category)
        session.flush()
        run = Run(
            benchmark_id=bench.id,
            name="speed",
            editor_kind="qwen-image-edit",
            editor_path="/models/q",
            editor_params={"steps": 50},
            judge_kind="qwen3-vl",
            judge_path="/models/j",
            judge_params={},
            seed=0,
            status=RunStatus.DONE,
            run_card={},
            created_at=now,
            finished_at=now,
        )
        session.add(run)
        session.flush()

        # 64 distinct pictures copied to one file per image: decoding cost is what matters, and
        # encoding 2,000 fresh PNGs would take minutes
        pool = []
        for k in range(64):
            path = images / f"pool-{k}.png"
            _photo_like(rng, size).save(path)
            pool.append(path)
        samples, edits, judgments = [], [], []
        for n in range(n_samples):
            category = categories[n % n_categories]
            source = images / f"src-{n}.png"
            edited = images / f"edit-{n}.png"
            shutil.copyfile(pool[n % 64], source)
            shutil.copyfile(pool[(n * 7 + 3) % 64], edited)
            samples.append(
                {
                    "id": n + 1,
                    "benchmark_id": bench.id,
                    "category_id": category.id,
                    "external_id": f"item-{n}",
                    "instruction": f"Change the colour of object {n} to red and keep everything else.",
                    "instruction_language": "en",
                    "source_sha256": f"{n:064x}",
                    "source_path": str(source),
                    "tags": [],
                    "provenance": {},
                    "created_at": now,
                }
            )
            edit_failed = n % 97 == 13
            edits.append(
                {
                    "run_id": run.id,
                    "sample_id": n + 1,
                    "category_id": category.id,
                    "status": Status.FAILED if edit_failed else Status.DONE,
                    "attempts": 1,
                    "seed": n,
                    "output_path": None if edit_failed else str(edited),
                    "output_sha256": None if edit_failed else f"{n + 10**6:064x}",
                    "error_code": "oom" if edit_failed else None,
                    "duration_s": 11.5,
                    "started_at": now,
                    "finished_at": now,
                }
            )
            for c in CRITERIA:
                status, score, code = Status.DONE, float(rng.integers(0, 11)), None
                if edit_failed:
                    status, score, code = Status.MISSING, None, "edit_failed"
                elif n % 41 == 7:
                    status, score, code = Status.PARSE_ERROR, None, "unparseable"
                elif n % 53 == 5:
                    status, score, code = Status.REFUSAL, None, "refused"
                judgments.append(
                    {
                        "run_id": run.id,
                        "sample_id": n + 1,
                        "category_id": category.id,
                        "criterion": c,
                        "status": status,
                        "attempts": 1,
                        "score": score,
                        "confidence": 0.8,
                        "reasoning": REASONING if score is not None else None,
                        "raw_output": '{"reasoning": "' + REASONING + '", "score": ' + str(score) + "}",
                        "error_code": code,
                        "judge_identity": "j" * 16,
                        "prompt_version": category.prompt_version,
                        "duration_s": 0.7,
                        "started_at": now,
                        "finished_at": now,
                    }
                )
        session.execute(insert(Sample), samples)
        session.execute(insert(Edit), edits)
        session.execute(insert(Judgment), judgments)
        return run.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--image-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="editbench-report-speed-") as tmp:
        root = Path(tmp)
        (root / "images").mkdir()
        url = f"sqlite:///{root / 'ledger.db'}"
        Base.metadata.create_all(get_engine(url))
        started = time.perf_counter()
        run_id = build_run(url, root / "images", args.samples, args.image_size)
        print(f"built a {args.samples}-sample run with {args.image_size}px PNGs in {time.perf_counter() - started:.1f} s")

        def timed(out: Path, home: Path) -> float:
            t = time.perf_counter()
            with session_scope(url) as session:
                write_report(session, run_id, out, home=home)
            return time.perf_counter() - t

        # images are found by their absolute paths; `home` only holds the thumbnail cache
        cold = [timed(root / f"cold-{i}", root / f"home-{i}") for i in range(args.repeats)]
        cached = timed(root / "cached", root / "home-0")
        refresh = timed(root / "cold-0", root / "home-0")

        stages = {}
        t = time.perf_counter()
        with session_scope(url) as session:
            run = load_run(session, run_id)
        stages["load_run"] = time.perf_counter() - t
        for name, fn in (("summarize", lambda: summarize(run)), ("run_card", lambda: build_run_card(run))):
            t = time.perf_counter()
            fn()
            stages[name] = time.perf_counter() - t
        summary, card = summarize(run), build_run_card(run)
        t = time.perf_counter()
        render_markdown(run, summary, card)
        stages["markdown"] = time.perf_counter() - t
        t = time.perf_counter()
        make_thumbnails(run, root / "stages" / "thumbs", root / "home-stages")
        stages["thumbnails (cold)"] = time.perf_counter() - t
        t = time.perf_counter()
        html = render_html(run, summary, card, root / "stages", root / "home-stages")
        stages["html (thumbnails warm)"] = time.perf_counter() - t
        size_mb = len(html.encode()) / 1e6

    cpu = (
        next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    print(
        f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
        f"load average at the end {os.getloadavg()[0]:.2f} (other processes slow the cold numbers)"
    )
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(
        f"write_report, cold (fresh folder, {2 * args.samples} thumbnails made): "
        + ", ".join(f"{x:.2f}" for x in cold)
        + f" s; median {statistics.median(cold):.2f} s"
    )
    print(f"write_report, cached (fresh folder, thumbnails from the cache): {cached:.2f} s")
    print(f"write_report, refresh (same folder): {refresh:.2f} s")
    print("one cold report by stage: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    print(f"report.html: {size_mb:.1f} MB")


if __name__ == "__main__":
    main()
