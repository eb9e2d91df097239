"""The board report end to end, as an analyst runs it: `clientele report` → notebook → HTML → PDF.

One small report is rendered once for the module (a kernel start costs seconds) and read back
with pypdf by many tests; failures, refusals and the fetcher are checked without a kernel where
they can be.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from scipy import stats
from weasyprint.urls import URLFetchingError

from reports import notebook_run, render
from reports.board import BoardReport
from reports.cli import main
from reports.fetcher import RestrictedFetcher
from reports.numbers import MoneyFormat, check_quarter, count, share
from reports.pipeline import DEFAULT_REPORT_REPLICATIONS, ReportRequest, build_report
from simulation.errors import ReportError
from simulation.periods import quarter_label
from simulation.results import load_results
from simulation.summary import BASELINE, strategy_summary

from .conftest import (
    BOARD_NOTEBOOK,
    BUNDLED_SCENARIO,
    COMPARISON_NOTEBOOK,
    PROJECT_ROOT,
    SMALL_REPORT,
    one_line,
    pdf_text,
)

SCRIPT = "<script>alert(1)</script>"
COMPANY = f"{SCRIPT} Bank"
STRATEGIES = ["retain_all", "educate", "reprice", "migrate", "divest_graceful", "divest_abrupt", "ladder"]
SECTIONS = ["Cover", "Executive summary", "Key figures by strategy", "Charts",
            "Appendix A: Strategies and assumptions", "Appendix B: Provenance"]
DECLARED = {
    "scenario_path": "str", "customers_path": "str", "transactions_path": "str", "overrides": "list",
    "quarter": "str", "strategies": "list", "replications": "int", "seed": "int", "workers": "int",
    "output_dir": "str",
}


def _report_args(out: Path, *extra: str) -> list[str]:
    return ["report", str(BUNDLED_SCENARIO), *SMALL_REPORT, "--set", f"company={COMPANY}", "--quarter", "2026Q4",
            "--out", str(out), *extra]


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """The board report of a small scenario whose company name is a script tag, rendered once."""
    out = tmp_path_factory.mktemp("board") / "2026Q4"
    assert main(_report_args(out)) == 0
    return out


@pytest.fixture(scope="module")
def reader(board) -> PdfReader:
    return PdfReader(board / "board_report.pdf")


@pytest.fixture(scope="module")
def text(reader) -> str:
    return pdf_text(reader)


# ---- what the board gets


def test_report_writes_pdf_beside_html_executed_notebook_charts_and_results(board):
    for name in ("board_report.pdf", "board_report.html", "board_report.ipynb", "results/provenance.json"):
        assert (board / name).is_file(), name
    assert sorted(path.name for path in (board / "charts").iterdir()) == [
        "concentration.svg", "cumulative_profit_distribution.svg", "market_share.svg", "npv_by_strategy.svg",
        "profit_by_segment.svg", "profit_per_quarter.svg",
    ]
    assert not [path for path in board.rglob(".*tmp*")], "temporary files left behind"


def test_page_count_is_in_the_expected_range(reader):
    assert 9 <= len(reader.pages) <= 16


def test_pdf_is_a4(reader):
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_text_names_the_quarter_and_every_strategy(text):
    assert "2026Q4" in text
    for strategy in STRATEGIES:
        assert strategy in text


def test_running_header_and_page_numbers(reader):
    second = one_line(reader.pages[1].extract_text())
    assert "2026Q4" in second and "Quarterly board report" in second
    assert f"page 2 of {len(reader.pages)}" in second


def test_summary_headline_numbers_equal_the_results_table(board, text):
    quarters = pd.read_parquet(board / "results" / "results.parquet")
    summary = strategy_summary(quarters)
    best = summary.loc[summary["npv_mean"].idxmax()]
    money = MoneyFormat.for_amounts(pd.concat([summary["cumulative_profit_mean"], summary["npv_mean"]]), "EUR")
    expected = [
        money(best["npv_mean"]), money(best["npv_ci_low"]), money(best["npv_ci_high"]),
        money(best["cumulative_profit_mean"]), money(best["cumulative_profit_ci_low"]),
        money(best["cumulative_profit_ci_high"]), money(best["cumulative_profit_p5"]),
        share(best["market_share_end"], 2), share(best["top10_positive_profit_share_end"], 0),
        count(best["divested_total"]), count(best["wom_reach_total"]),
    ]
    # The paired difference against the baseline, computed here from the table itself.
    last = quarters[quarters["quarter"] == quarters["quarter"].max()]
    wide = last.pivot(index="replication", columns="strategy", values="cumulative_profit")
    difference = (wide[best["strategy"]] - wide[BASELINE]).to_numpy()
    half = stats.t.ppf(0.975, len(difference) - 1) * difference.std(ddof=1) / np.sqrt(len(difference))
    expected += [money(difference.mean(), signed=True), money(difference.mean() - half, signed=True),
                 money(difference.mean() + half, signed=True)]
    summary_page = text[text.index("Executive summary"):text.index("Key figures by strategy")]
    assert f"RECOMMENDED STRATEGY {best['strategy']}" in summary_page
    for number in expected:
        assert one_line(number) in summary_page, number


def test_outline_has_the_sections(reader):
    def titles(outline):
        for item in outline:
            if isinstance(item, list):
                yield from titles(item)
            else:
                yield item.title

    found = list(titles(reader.outline))
    for section in SECTIONS:
        assert section in found
    assert "Profit per quarter" in found and "Scenario parameters" in found


def test_metadata_has_title_author_and_the_results_date(board, reader):
    provenance = json.loads((board / "results" / "provenance.json").read_text())
    metadata = reader.metadata
    assert metadata.title == f"{COMPANY} — Quarterly board report 2026Q4"
    assert metadata.author == COMPANY
    assert metadata.creation_date == dt.datetime.fromisoformat(provenance["created_at"])


def test_script_in_a_scenario_value_is_printed_as_text(board, text):
    assert SCRIPT in text
    html = (board / "board_report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_html_shows_outputs_and_narrative_but_no_code(board):
    html = (board / "board_report.html").read_text()
    assert "Executive summary" in html
    assert "BoardReport.prepare" not in html and "import " not in html


def test_charts_are_vector_graphics_in_the_pdf(reader):
    def images(resources):
        xobjects = resources.get("/XObject", {}) if resources else {}
        for xobject in xobjects.values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Image":
                yield xobject
            else:
                yield from images(xobject.get("/Resources"))

    assert not [image for page in reader.pages for image in images(page.get("/Resources"))]


def test_same_results_give_identical_chart_files(board, tmp_path):
    results = load_results(board / "results")
    for folder in ("one", "two"):
        report = BoardReport(results, quarter="2026Q4", output_dir=tmp_path / folder)
        report.chart_profit(), report.chart_concentration(), report.chart_distribution()
    for name in ("profit_per_quarter.svg", "concentration.svg", "cumulative_profit_distribution.svg"):
        first, second = (tmp_path / "one" / "charts" / name).read_bytes(), (tmp_path / "two" / "charts" / name).read_bytes()
        assert first == second
        assert first == (board / "charts" / name).read_bytes()


def test_a_second_run_reuses_the_results_and_gives_the_same_report(board, text, tmp_path):
    again = tmp_path / "again"
    shutil.copytree(board, again)
    provenance = (again / "results" / "provenance.json").read_text()
    charts = {path.name: path.read_bytes() for path in (again / "charts").iterdir()}
    outcome = build_report(ReportRequest(
        BUNDLED_SCENARIO, quarter="2026Q4", replications=3, workers=1, out=again,
        overrides=["population.customers=600", "market.size=12000", "horizon_quarters=4", f"company={COMPANY}"],
    ))
    assert outcome.results_reused
    assert (again / "results" / "provenance.json").read_text() == provenance
    assert {path.name: path.read_bytes() for path in (again / "charts").iterdir()} == charts
    assert pdf_text(PdfReader(outcome.pdf)) == text
    assert outcome.pdf.read_bytes() == (board / "board_report.pdf").read_bytes()
    assert set(outcome.timings) >= {"check", "notebook", "kernel_start", "simulation", "html", "pdf", "total"}


def test_comparison_report_sets_strategies_side_by_side(tmp_path):
    out = tmp_path / "cmp"
    assert main(["report", str(BUNDLED_SCENARIO), *SMALL_REPORT, "--kind", "comparison",
                 "--strategies", "retain_all,ladder", "--out", str(out)]) == 0
    reader = PdfReader(out / "comparison_report.pdf")
    text = pdf_text(reader)
    assert "Comparison summary" in text and "ladder against retain_all" in text
    assert "divest_abrupt" not in text  # only the strategies asked for
    assert reader.metadata.title.endswith("Strategy comparison 2026Q4")


# ---- failures: named, nothing half-written


def _raise_in_first_cell(notebook) -> None:
    broken = nbformat.v4.new_code_cell('raise ValueError("deliberately broken cell")')
    notebook.cells.insert(1, broken)


def test_a_failing_cell_is_named_keeps_the_partial_notebook_and_leaves_no_pdf(tmp_path, notebook_copy, capsys):
    out = tmp_path / "broken"
    out.mkdir()
    (out / "board_report.pdf").write_bytes(b"%PDF stale from an earlier run")
    notebook = notebook_copy(_raise_in_first_cell)
    assert main(_report_args(out, "--notebook", str(notebook))) == 2
    err = capsys.readouterr().err
    assert "failed in cell 2" in err  # parameters, injected parameters, then the broken cell
    assert "ValueError: deliberately broken cell" in err
    assert str(out / "board_report.ipynb") in err
    assert not (out / "board_report.pdf").exists() and not (out / "board_report.html").exists()
    kept = nbformat.read(out / "board_report.ipynb", as_version=4)
    assert any(output.get("ename") == "ValueError" for cell in kept.cells for output in cell.get("outputs", []))


def test_kernel_falls_back_to_the_current_interpreter_without_the_clientele_kernelspec(monkeypatch):
    assert notebook_run.kernel_name() == "clientele"  # make setup registers it
    monkeypatch.setattr(notebook_run.KernelSpecManager, "find_kernel_specs", lambda self: {})
    assert notebook_run.kernel_name() == "python3"


def test_the_kernel_gets_one_blas_thread_per_process_unless_the_user_chose(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with notebook_run.kernel_environment() as added:
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "4"
        assert "OMP_NUM_THREADS" not in added
    assert "OPENBLAS_NUM_THREADS" not in os.environ and os.environ["OMP_NUM_THREADS"] == "4"


def test_a_failing_cell_raises_report_error(tmp_path, notebook_copy):
    with pytest.raises(ReportError, match=r"failed in cell 2 .*ValueError: deliberately broken cell"):
        build_report(ReportRequest(BUNDLED_SCENARIO, notebook=notebook_copy(_raise_in_first_cell), out=tmp_path / "o",
                                   replications=2, workers=1, overrides=["population.customers=300"]))


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if anything tries to execute a notebook."""
    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(notebook_run.papermill, "execute_notebook", refuse)


def _drop_parameter(name):
    def edit(notebook):
        cell = notebook.cells[0]
        cell.source = "\n".join(line for line in cell.source.splitlines() if not line.startswith(f"{name}:"))
    return edit


def _retype_parameter(name, annotation, default):
    def edit(notebook):
        cell = notebook.cells[0]
        cell.source = "\n".join(
            f"{name}: {annotation} = {default}" if line.startswith(f"{name}:") else line
            for line in cell.source.splitlines()
        )
    return edit


def test_unknown_parameter_is_refused_before_a_kernel_starts(tmp_path, notebook_copy, no_kernel, capsys):
    notebook = notebook_copy(_drop_parameter("workers"))
    assert main(_report_args(tmp_path / "o", "--notebook", str(notebook))) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'workers'" in err
    assert "The notebook declares: scenario_path (str), customers_path (str)" in err
    assert not (tmp_path / "o").exists()


def test_ill_typed_parameter_is_refused_before_a_kernel_starts(tmp_path, notebook_copy, no_kernel, capsys):
    notebook = notebook_copy(_retype_parameter("seed", "str", '"7"'))
    assert main(_report_args(tmp_path / "o", "--notebook", str(notebook))) == 2
    assert "parameter 'seed' must be str (as the notebook declares it): got 20261001 (int)" in capsys.readouterr().err


def test_a_parameter_of_a_non_primitive_type_is_refused(notebook_copy):
    notebook = notebook_copy(_retype_parameter("output_dir", "Path", '"x"'))
    with pytest.raises(ReportError, match=r"declares 'output_dir: Path'.*primitives only"):
        notebook_run.check_parameters(notebook, {"output_dir": "x"})


@pytest.mark.parametrize("parameters, message", [
    ({"colour": "red"}, "unknown parameter 'colour'"),
    ({"replications": True}, r"'replications' must be int .*got True \(bool\)"),
    ({"replications": 2.5}, r"'replications' must be int .*got 2.5 \(float\)"),
    ({"strategies": "ladder"}, r"'strategies' must be list .*got 'ladder' \(str\)"),
])
def test_check_parameters_messages(parameters, message):
    with pytest.raises(ReportError, match=message):
        notebook_run.check_parameters(BOARD_NOTEBOOK, parameters)


@pytest.mark.parametrize("notebook", [BOARD_NOTEBOOK, COMPARISON_NOTEBOOK])
def test_notebooks_declare_the_parameters_the_cli_passes(notebook):
    declared = notebook_run.declared_parameters(notebook)
    assert {name: info["inferred_type_name"] for name, info in declared.items()} == DECLARED
    assert declared["replications"]["default"] == str(DEFAULT_REPORT_REPLICATIONS)  # by hand as from the CLI


def test_bad_quarter_is_refused_before_a_kernel_starts(tmp_path, no_kernel, capsys):
    assert main(["report", str(BUNDLED_SCENARIO), "--quarter", "2026-Q4", "--out", str(tmp_path / "o")]) == 2
    assert "--quarter must look like 2026Q4" in capsys.readouterr().err


def test_comparison_of_one_strategy_is_refused(tmp_path, no_kernel, capsys):
    assert main(["report", str(BUNDLED_SCENARIO), "--kind", "comparison", "--strategies", "ladder",
                 "--out", str(tmp_path / "o")]) == 2
    assert "a comparison needs at least two strategies" in capsys.readouterr().err


def test_bad_scenario_value_is_refused_before_a_kernel_starts(tmp_path, no_kernel, capsys):
    assert main(["report", str(BUNDLED_SCENARIO), "--set", "market.size=-1", "--out", str(tmp_path / "o")]) == 2
    assert "'market.size'" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--customers", "--transactions"])
def test_missing_input_file_is_named_before_a_kernel_starts(tmp_path, no_kernel, capsys, flag):
    missing = tmp_path / "nope.csv"
    assert main(["report", str(BUNDLED_SCENARIO), flag, str(missing), "--out", str(tmp_path / "o")]) == 2
    assert f"{missing}: {flag} file not found" in capsys.readouterr().err


def test_a_folder_holds_one_kind_of_report(tmp_path, no_kernel, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "board_report.ipynb").write_text("{}")
    assert main(["report", str(BUNDLED_SCENARIO), "--kind", "comparison", "--out", str(out)]) == 2
    assert "already holds a board report" in capsys.readouterr().err


def test_default_quarter_is_the_scenario_start_quarter():
    assert quarter_label(dt.date(2026, 10, 1)) == "2026Q4"
    assert quarter_label(dt.date(2027, 3, 31)) == "2027Q1"
    assert check_quarter("2026Q4") == "2026Q4"
    with pytest.raises(ValueError, match="got '2026Q5'"):
        check_quarter("2026Q5")


def test_money_format_keeps_one_unit_per_report():
    large = MoneyFormat.for_amounts([36_889_337.0, 1_000.0], "EUR")
    assert large(36_889_337.0) == "EUR 36.89 m" and large.bare(-240_000.0) == "-0.24"
    assert large(4_210_000.0, signed=True) == "+EUR 4.21 m"
    small = MoneyFormat.for_amounts([354_290.4], "EUR")
    assert small(354_290.4) == "EUR 354,290" and small(-12.0, signed=True) == "-EUR 12"
    assert small.unit == "EUR" and large.unit == "EUR m"


# ---- the PDF loads nothing from the network or outside its folders


def test_fetcher_refuses_remote_and_outside_urls(tmp_path):
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "style.css").write_text("p { color: red }")
    (outside / "secret.css").write_text("secret")
    (allowed / "escape.css").symlink_to(outside / "secret.css")
    fetcher = RestrictedFetcher([allowed])
    assert fetcher((allowed / "style.css").as_uri()).read() == b"p { color: red }"
    assert fetcher("data:text/plain;base64,aGk=").read() == b"hi"
    for url in ("http://example.com/x.png", "https://example.com/x.css", "ftp://example.com/x",
                "file:///etc/passwd", (outside / "secret.css").as_uri(), (allowed / "escape.css").as_uri(),
                f"file://{allowed}/../outside/secret.css", f"file://elsewhere{allowed}/style.css"):
        with pytest.raises(URLFetchingError, match="refused"):
            fetcher(url)
    assert len(fetcher.refused) == 8


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (the http.server API)
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body::before { content: 'FETCHED FROM THE NETWORK' }")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    """An HTTP server on the loopback address that records what is asked of it."""
    _CountingHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_template_referencing_a_remote_url_or_an_outside_file_renders_without_fetching(board, tmp_path, local_server):
    url, requests = local_server
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.css").write_text("body::after { content: 'LEAKED FROM OUTSIDE' }")
    templates = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", templates)
    page = templates / "report" / "index.html.j2"
    page.write_text(page.read_text().replace(
        "</head>",
        f'<link rel="stylesheet" href="{url}/remote.css">\n'
        f'<link rel="stylesheet" href="{(outside / "leak.css").as_uri()}">\n'
        '<link rel="stylesheet" href="file:///etc/passwd">\n</head>',
    ))
    out = tmp_path / "out"
    shutil.copytree(board / "charts", out / "charts")
    html = render.export_html(board / "board_report.ipynb", out / "report.html", templates_dir=templates)
    result = render.write_pdf(html, out / "report.pdf", allowed_folders=[templates, out])
    text = pdf_text(PdfReader(out / "report.pdf"))
    assert requests == []
    assert "FETCHED FROM THE NETWORK" not in text and "LEAKED FROM OUTSIDE" not in text
    assert {refused for refused, _ in result.refused} == {
        f"{url}/remote.css", (outside / "leak.css").as_uri(), "file:///etc/passwd"}
    assert "Executive summary" in text  # the report itself still renders, charts included
    assert any(fetched.endswith("profit_per_quarter.svg") for fetched in result.fetched)


def test_an_old_weasyprint_is_refused(board, tmp_path, monkeypatch):
    import weasyprint

    monkeypatch.setattr(weasyprint, "__version__", "62.3")
    with pytest.raises(ReportError, match="WeasyPrint 62.3 is installed; reports need 70 or later"):
        render.write_pdf(board / "board_report.html", tmp_path / "report.pdf")
    assert list(tmp_path.iterdir()) == []


def test_a_pdf_that_fails_to_render_leaves_no_file(board, tmp_path, monkeypatch):
    from weasyprint.document import Document

    def fail(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Document, "write_pdf", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        render.write_pdf(board / "board_report.html", tmp_path / "report.pdf")
    assert list(tmp_path.iterdir()) == []
