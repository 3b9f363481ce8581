"""Reports: everything is read from the ledger (``data``), turned into numbers (``summary``,
``stats``) and written as summary.json, report.md, report.html and run_card.json, with the
per-sample rows in samples.jsonl / samples.parquet and full-size images in images/.

    from editbench.report import write_report
    with session_scope() as session:
        paths = write_report(session, run_id=3, out_dir=Path("reports/run-3"))
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.report.data import RunData, RunNotFoundError, load_run
from editbench.report.documents import CompareResult, Document, RunCard, Summary
from editbench.report.html import render_html
from editbench.report.images import place_images
from editbench.report.markdown import render_markdown
from editbench.report.run_card import build_run_card
from editbench.report.sample_rows import sample_rows, write_jsonl, write_parquet
from editbench.report.summary import summarize


@dataclass(frozen=True)
class ReportPaths:
    out_dir: Path
    summary_json: Path
    report_md: Path
    report_html: Path
    run_card_json: Path
    thumbs_dir: Path
    samples_jsonl: Path | None = None
    samples_parquet: Path | None = None
    """None when pyarrow is not installed (samples.jsonl holds the same rows)."""
    images_dir: Path | None = None


def write_text(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a reader never sees half a report."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def write_json(path: Path, document: Document | Any) -> None:
    """Write a report document (or any JSON value) as indented UTF-8 JSON."""
    if isinstance(document, Document):
        document = document.to_json_dict()
    write_text(path, json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")


def write_report(session: Session, run_id: int, out_dir: Path | str, *, home: Path | None = None) -> ReportPaths:
    """Write summary.json, report.md, report.html (+ thumbs/) and run_card.json for one run.

    ``home`` is where relative image paths and the image store live (default: EDITBENCH_HOME).
    The session is only read from, but its transaction stays open while images are thumbnailed;
    on SQLite that holds the write lock (BEGIN IMMEDIATE), so next to a running run prefer
    ``write_report_for(load_run(session, run_id), out_dir)`` with the session closed in between.
    """
    run = load_run(session, run_id)
    return write_report_for(run, Path(out_dir), home=home)


def write_report_for(run: RunData, out_dir: Path | str, *, home: Path | None = None) -> ReportPaths:
    """Write the report of a run already loaded with :func:`load_run` (no database needed)."""
    out_dir = Path(out_dir)
    home = home or load_settings().home
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(
        out_dir=out_dir,
        summary_json=out_dir / "summary.json",
        report_md=out_dir / "report.md",
        report_html=out_dir / "report.html",
        run_card_json=out_dir / "run_card.json",
        thumbs_dir=out_dir / "thumbs",
        samples_jsonl=out_dir / "samples.jsonl",
        samples_parquet=out_dir / "samples.parquet",
        images_dir=out_dir / "images",
    )
    summary = summarize(run)
    card = build_run_card(run)
    images = place_images(run, out_dir, home)
    rows = list(sample_rows(run, images))
    write_json(paths.summary_json, summary)
    write_json(paths.run_card_json, card)
    write_jsonl(out_dir / "samples.jsonl", rows)
    if not write_parquet(out_dir / "samples.parquet", rows):
        paths = replace(paths, samples_parquet=None)
    write_text(paths.report_md, render_markdown(run, summary, card))
    write_text(paths.report_html, render_html(run, summary, card, out_dir, home, images=images))
    return paths


__all__ = [
    "CompareResult",
    "ReportPaths",
    "RunCard",
    "RunData",
    "RunNotFoundError",
    "Summary",
    "load_run",
    "summarize",
    "write_report",
    "write_report_for",
]
