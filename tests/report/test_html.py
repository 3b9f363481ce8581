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
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium) - HTML filters untested")
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
        languages={"p2": "zh", "s1": "zh"},
        slices=["language"],
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
    assert all(not a["data-score"] for a in ordered[len(scores) :])  # unscored last


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


URL_ATTR = re.compile(r'(?:src|href)="([^"]*)"')


def _assert_relative_inside(urls, folder: Path) -> None:
    from urllib.parse import unquote

    root = folder.resolve()
    for url in urls:
        if url.startswith("#"):
            continue  # a link within the page (filters)
        assert ":" not in url.split("/")[0] and not url.startswith("/"), f"not a relative URL: {url}"
        target = (folder / unquote(url)).resolve()
        assert target.is_relative_to(root), f"{url} leads outside the report folder"
        assert target.is_file(), f"{url} does not resolve to a file in the report folder"


def test_every_image_url_is_relative_and_resolves_inside_the_report_folder(report):
    html = report.report_html.read_text()
    urls = URL_ATTR.findall(html)
    assert any(u.startswith("images/") for u in urls) and any(u.startswith("thumbs/") for u in urls)
    _assert_relative_inside(urls, report.out_dir)
    full = sorted(p.name for p in report.images_dir.iterdir())
    assert len(full) == 7 + 6  # full-size sources and edits, named by content


@pytest.mark.slow  # a subprocess or a large build: integration tier
@needs_chromium
def test_sample_browser_searches_filters_opens_and_zooms_in_chromium(report, tmp_path):
    url = report.report_html.resolve().as_uri()
    ids = {}
    for a in _articles(_dump(tmp_path, url)):
        ids[a["data-category"], a["data-order"]] = a["data-id"]

    def visible(dom):
        return sorted(a["data-id"] for a in _articles(dom) if "hidden" not in a)

    # search: every word must appear in the instruction, the item id or the category
    dom = _dump(tmp_path, url + "#q=p1%20SHINY")
    assert visible(dom) == [ids["physics", "0"]] and "1 of 7 samples shown" in dom
    # status + score range: p1 (9.00) and s1 (5.00) are scored at least 5
    dom = _dump(tmp_path, url + "#status=done&min=5")
    assert visible(dom) == sorted([ids["physics", "0"], ids["style", "3"]])
    dom = _dump(tmp_path, url + "#min=2&max=3")  # p2: sqrt(2*3) = 2.45
    assert visible(dom) == [ids["physics", "1"]]
    # slice: language zh is p2 and s1
    dom = _dump(tmp_path, url + "#slice.language=zh")
    assert visible(dom) == sorted([ids["physics", "1"], ids["style", "3"]])
    assert 'class="f-slice" data-key="language"' in dom

    # open p1 full size at 200%: source and edited side by side, with every criterion's reasoning
    dom = _dump(tmp_path, url + f"#open={ids['physics', '0']}&zoom=2")
    viewer = dom[dom.index('<div id="viewer"') :]
    head = viewer[: viewer.index(">")]
    assert "hidden" not in head and 'data-zoom="2"' in head
    assert '<span id="v-level">200%</span>' in viewer
    images = re.findall(r'<img src="([^"]+)" alt="(source|edited)" class="v-img zoomed" style="width: ([0-9.]+)px;', viewer)
    assert [alt for _, alt, _ in images] == ["source", "edited"]
    assert all(float(width) == 2 * 64 for _, _, width in images)  # the fixture's images are 64 px wide
    _assert_relative_inside([src for src, _, _ in images], report.out_dir)
    judgments = viewer[viewer.index('id="v-judgments"') :]
    assert "semantic_consistency" in judgments and "perceptual_quality" in judgments
    assert "make p1 &lt;b&gt;blue&lt;/b&gt; &amp; shiny" in viewer  # text, never markup

    closed = _dump(tmp_path, url)
    head = closed[closed.index('<div id="viewer"') :]
    assert "hidden" in head[: head.index(">")]
