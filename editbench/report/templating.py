"""The Jinja2 environment that renders report.html and compare.html from package templates.

Autoescaping is always on: every instruction, category name, judge answer and error text is
data from the ledger (and so, ultimately, from a benchmark file or a model's output) and reaches
the page as text. The only markup that is not escaped is our own: the CSS and JavaScript in
``static/``, inlined so that a page is one self-contained file (no server, no CDN).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from editbench.report.markdown import STATUS_LABELS, fmt, fmt_ci, fmt_p, fmt_pass, fmt_pct, signed
from editbench.report.summary import UNSCORED_STATES, unscored_counts


def static(name: str) -> Markup:
    """A file of ``editbench/report/static/``, to inline in a <style> or <script> element."""
    return Markup((files("editbench.report") / "static" / name).read_text(encoding="utf-8"))


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("editbench.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,  # a misspelt field is an error, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        fmt=fmt,
        fmt_ci=fmt_ci,
        fmt_p=fmt_p,
        fmt_pct=fmt_pct,
        fmt_pass=fmt_pass,
        signed=signed,
        status_label=status_label,
        unscored_counts=unscored_counts,
    )
    env.globals.update(static=static, unscored_states=UNSCORED_STATES)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
