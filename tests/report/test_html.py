"""report.html opened in headless Chromium: the samples are there and the filters work.

The filters read the URL hash, so dumping the DOM of ``report.html#category=style&failures=1``
after the page's script ran shows exactly which rows a reader would see.
"""

import re
import subprocess
from pathlib import Path

import pytest

from editbench.report import write_report
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC, chromium_binary

CHROMIUM = chromium_binary()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium) - HTML filters untested"
)
ARTICLE = re.compile(r"<article ([^>]*)>")
ATTR = re.compile(r'([a-z-]+)(?:="([^"]*)")?')


def _articles(dom: str) -> list[dict[str, str]]:
    return [{k: v for k, v in ATTR.findall(m.group(1))} for m in ARTICLE.finditer(dom)]


def _dump(tmp_path: Path, url: str) -> str:
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture
def report(ledger, tmp_path):
    bench = ledger.benchmark(
        {"physics": {"pass_rule": {"all_at_least": 8}}, "style": {}},
        {"physics": ["p1", "p2", "p3"], "style": ["s1", "s2", "s3", "s4"]},
    )
    run_id = ledger.run(
        bench,
        {
            "p1": {SC: 9, PQ: 9},
            "p2": {SC: 2, PQ: 3},
            "p3": {SC: ("parse_error", "unparseable"), PQ: 7},
            "s1": {SC: 5, PQ: 5},
            "s2": {SC: ("missing", "edit_failed"), PQ: ("missing", "edit_failed")},
            "s3": {SC: 1, PQ: 1},
            "s4": {SC: ("refusal", "refused"), PQ: 4},
        },
        edits={"s2": ("failed", "oom")},
    )
    with session_scope(ledger.url) as session:
        return write_report(session, run_id, tmp_path / "report", home=tmp_path)


def test_static_page_is_self_contained(report):
    html = report.report_html.read_text()
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN, no remote anything
    assert html.count('<article class="sample"') == 7
    assert "make p1 &lt;b&gt;blue&lt;/b&gt; &amp; shiny" in html  # instructions are escaped
    assert "<svg" in html and 'class="hist"' in html and 'class="criteria-chart"' in html
    thumbs = sorted(p.name for p in report.thumbs_dir.iterdir())
    assert len(thumbs) == 7 + 6  # 7 sources, 6 edited (s2's edit failed)
    for name in re.findall(r'src="thumbs/([^"]+)"', html):
        assert (report.thumbs_dir / name).is_file()


@pytest.mark.slow  # a subprocess or a large build: integration tier
@needs_chromium
def test_filters_in_chromium(report, tmp_path):
    url = report.report_html.resolve().as_uri()

    everything = _articles(_dump(tmp_path, url))
    assert [a["id"] for a in everything] == [a["id"] for a in sorted(everything, key=lambda a: int(a["data-order"]))]
    assert len(everything) == 7 and not any("hidden" in a for a in everything)

    dom = _dump(tmp_path, url + "#category=style&failures=1")
    visible = [a for a in _articles(dom) if "hidden" not in a]
    assert {a["data-category"] for a in visible} == {"style"}
    # s2's edit ran out of memory: a failure, not a gap (its judgments are rows "missing").
    assert sorted(a["data-status"] for a in visible) == ["failed", "refusal"]
    assert "2 of 7 samples shown" in dom

    dom = _dump(tmp_path, url + "#sort=lowest")
    ordered = _articles(dom)
    scores = [float(a["data-score"]) for a in ordered if a["data-score"]]
    assert scores == sorted(scores) and scores[0] == 1.0
    assert all(not a["data-score"] for a in ordered[len(scores):])  # unscored last


def test_thumbnails_are_shared_through_the_cache(report, tmp_path):
    from PIL import Image

    from editbench.thumbnails import THUMB_SIZE, cache_thumbnail, thumbnail_cache

    cache = thumbnail_cache(tmp_path)
    cached = {p.name for p in cache.iterdir()}
    assert len(cached) == 7  # the sources have a sha256; the fixture's edits do not, so stay local
    for name in cached:
        assert (report.thumbs_dir / name).stat().st_ino == (cache / name).stat().st_ino  # hard link

    made = cache_thumbnail(Image.new("RGB", (1024, 512), (10, 200, 30)), "ab" * 32, tmp_path)
    with Image.open(made) as thumb:
        assert thumb.size == (THUMB_SIZE, THUMB_SIZE // 2)


def test_missing_images_do_not_break_the_page(ledger, tmp_path):
    bench = ledger.benchmark({"physics": {}}, {"physics": ["p1", "p2"]})
    run_id = ledger.run(bench, {"p1": {SC: 5, PQ: 5}, "p2": {SC: 6, PQ: 6}})
    for edited in ledger.images.glob(f"edit-r{run_id}-p2.png"):
        edited.unlink()
    with session_scope(ledger.url) as session:
        paths = write_report(session, run_id, tmp_path / "r", home=tmp_path / "home")
    html = paths.report_html.read_text()
    assert html.count('<article class="sample"') == 2
    assert "edited: not available" in html
