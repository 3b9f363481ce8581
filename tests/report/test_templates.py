"""Both pages are Jinja templates with autoescaping: ledger text never becomes markup, charts included."""

from __future__ import annotations

from editbench.report import write_report
from editbench.report.compare import write_comparison
from editbench.report.templating import environment, static
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC

HOSTILE = 'x<script>alert("c")</script>&y'


def test_category_and_judge_text_are_escaped_in_tables_charts_and_samples(ledger, tmp_path):
    bench = ledger.benchmark({HOSTILE: {}}, {HOSTILE: ["p1", "p2"]})
    a = ledger.run(bench, {"p1": {SC: 5, PQ: 6}, "p2": {SC: 7, PQ: 7}})
    b = ledger.run(bench, {"p1": {SC: 6, PQ: 6}, "p2": {SC: 8, PQ: 8}})
    with session_scope(ledger.url) as session:
        report = write_report(session, a, tmp_path / "r", home=tmp_path).report_html.read_text()
        compare = write_comparison(session, [a, b], tmp_path / "c", home=tmp_path).compare_html.read_text()
    escaped = "x&lt;script&gt;alert(&#34;c&#34;)&lt;/script&gt;&amp;y"
    for page in (report, compare):
        assert "<script>alert" not in page
        assert page.count("<script>") == 1  # only our own, inlined from static/
    # category table, histogram caption, criteria chart label, filter option, sample header
    assert report.count(escaped) >= 5
    assert f'class="label" text-anchor="end">{escaped}</text>' in report  # criteria chart
    # forest plot label and the item's data attribute on the comparison page
    assert f'class="label">{escaped}</text>' in compare and f'data-category="{escaped}"' in compare


def test_autoescape_is_on_and_static_files_ship_with_the_package():
    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    for name in ("report.css", "report.js", "compare.css", "compare.js"):
        assert len(static(name)) > 50
