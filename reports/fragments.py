"""HTML fragments for report notebooks, rendered by Jinja2 with autoescaping always on.

Every value a fragment shows can come from a scenario file or a customer ledger — a company
called ``<script>…`` must print as text, not run or break the layout. The templates live in
``templates/fragments/`` beside the page template, so the report's look is edited in one
place. A ``Fragment`` is a string that Jupyter displays as HTML: a notebook cell that ends with
one shows it, and the executed notebook keeps it as a ``text/html`` output for the page template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
FRAGMENTS_DIR = TEMPLATES_DIR / "fragments"
SECTIONS_DIR = TEMPLATES_DIR / "sections"  # a report's sections: their headings, sentences and captions
REPORT_INFO_MIMETYPE = "application/vnd.clientele.report-info+json"


class Fragment(str):
    """A piece of report HTML; Jupyter shows it as HTML, its repr stays short in a console."""

    def _repr_html_(self) -> str:
        return str(self)

    def __html__(self) -> str:
        """Already escaped: another fragment may include it as is."""
        return str(self)

    def __repr__(self) -> str:
        return f"<Fragment: {len(self)} characters of report HTML>"


class ReportInfo(dict):
    """The document's title, author, date and running-header text, carried in the notebook.

    Displayed as a custom MIME type the page template does not show; the renderer reads it back
    from the executed notebook to fill ``<title>``, the metadata and the running header.
    """

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {REPORT_INFO_MIMETYPE: dict(self), "text/plain": json.dumps(dict(self), ensure_ascii=False)}


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader([str(SECTIONS_DIR), str(FRAGMENTS_DIR)]),
        autoescape=True,  # every fragment, whatever its file name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


_ENVIRONMENT = _environment()


def render_fragment(name: str, **context: Any) -> Fragment:
    """Render ``templates/sections/<name>`` (or ``templates/fragments/<name>``); every value is HTML-escaped."""
    return Fragment(_ENVIRONMENT.get_template(name).render(**context))
