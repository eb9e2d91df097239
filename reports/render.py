"""Executed notebook → HTML (our template, code hidden) → PDF (WeasyPrint, restricted fetcher).

The HTML is the notebook's Markdown and rich outputs laid out by ``templates/report`` with the
stylesheet inlined, so it stands alone next to the PDF. The PDF is written under a temporary
name in the output folder and renamed into place: a reader finds the whole PDF or none. Its
metadata (title, author, creation date) comes from the report-info output the notebook
displayed, so the renderer reads only what the notebook stage wrote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import nbformat
from nbconvert import HTMLExporter

from reports.fragments import REPORT_INFO_MIMETYPE, TEMPLATES_DIR
from simulation import __version__
from simulation.core.errors import ReportError
from simulation.core.files import write_atomically

MINIMUM_WEASYPRINT = 70  # earlier versions have URL-fetcher security advisories
PAGE_TEMPLATE = "report"  # templates/report: conf.json, index.html.j2, report.css
REQUIRED_INFO = ("title", "author", "created", "header_title", "header_quarter", "kind", "subject")


def report_info(notebook: nbformat.NotebookNode, source: Path) -> dict[str, Any]:
    """The report-info output (title, author, date, running header) the notebook displayed."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if REPORT_INFO_MIMETYPE in data:
                info = dict(data[REPORT_INFO_MIMETYPE])
                missing = [key for key in REQUIRED_INFO if key not in info]
                if missing:
                    raise ReportError(f"{source}: report info lacks {', '.join(missing)}")
                return info
    raise ReportError(
        f"{source}: no report info in the executed notebook; a cell must display Report.report_info()"
    )


def export_html(executed: str | Path, html_path: str | Path, templates_dir: str | Path = TEMPLATES_DIR) -> Path:
    """Write the report HTML of an executed notebook: outputs and Markdown only, report styling."""
    executed, html_path, templates_dir = Path(executed), Path(html_path), Path(templates_dir)
    notebook = nbformat.read(executed, as_version=4)
    info = report_info(notebook, executed)
    css = (templates_dir / PAGE_TEMPLATE / "report.css").read_text(encoding="utf-8")
    exporter = HTMLExporter(
        template_name=PAGE_TEMPLATE,
        extra_template_basedirs=[str(templates_dir)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
    )
    resources = {
        "report": {**info, "css": css, "generator": f"Clientele {__version__}"},
        "metadata": {"name": executed.stem, "path": str(html_path.parent)},
    }
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    write_atomically(html_path, body.encode("utf-8"))
    return html_path


@dataclass
class PdfResult:
    pages: int
    fetched: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # WeasyPrint's warnings and errors


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _weasyprint_messages() -> Iterator[list[str]]:
    """Collect WeasyPrint's log warnings for the caller to report, instead of stray stderr lines."""
    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@contextlib.contextmanager
def _source_date(created: str | None) -> Iterator[None]:
    """Embedded font subsets carry a timestamp; pin it to the report's date for identical bytes.

    fontTools (WeasyPrint's font subsetter here) stamps each subset with the current time unless
    SOURCE_DATE_EPOCH is set; a value the user set is left alone.
    """
    if created is None or "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    try:
        moment = dt.datetime.fromisoformat(created.strip())
    except ValueError:
        yield
        return
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def write_pdf(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    allowed_folders: list[str | Path] | None = None,
) -> PdfResult:
    """Render ``html_path`` to ``pdf_path`` with WeasyPrint; resources only from allowed folders.

    The same HTML (and charts) gives the same PDF bytes: WeasyPrint adds no random identifiers,
    the creation date is the one in the HTML's metadata, and font subsets are stamped with it.

    By default the allowed folders are the templates folder and the HTML's own folder (the
    report's output folder, with its charts).
    """
    import weasyprint  # imported here, not by every command: WeasyPrint probes for its libraries with gcc, seconds

    from reports.fetcher import RestrictedFetcher

    if int(weasyprint.__version__.split(".")[0]) < MINIMUM_WEASYPRINT:
        raise ReportError(
            f"WeasyPrint {weasyprint.__version__} is installed; reports need {MINIMUM_WEASYPRINT} or later "
            f"(earlier versions have URL-fetcher security advisories): run `make setup`"
        )
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    folders = allowed_folders if allowed_folders is not None else [TEMPLATES_DIR, html_path.parent]
    fetcher = RestrictedFetcher(folders)
    with _weasyprint_messages() as messages:
        document = weasyprint.HTML(filename=str(html_path), url_fetcher=fetcher).render()
        with _source_date(document.metadata.created):
            data = document.write_pdf()
    if not data:
        raise ReportError(f"{html_path}: WeasyPrint produced an empty PDF")
    write_atomically(pdf_path, data)
    return PdfResult(len(document.pages), fetcher.fetched, fetcher.refused, messages)
