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
import re
import shutil
import threading
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from weasyprint.urls import URLFetchingError

from reports import notebook_run, render
from reports.appendix import SOURCE_DATA, assumption_sections, parameter_sources
from reports.commands.cli import main
from reports.decision import decide
from reports.document import Report
from reports.fetcher import RestrictedFetcher
from reports.folder_lock import folder_lock
from reports.numbers import MoneyFormat, check_quarter, count, share
from reports.pipeline import DEFAULT_REPORT_REPLICATIONS, ReportRequest, build_report
from simulation.analysis.summary import strategy_summary
from simulation.core.errors import ReportError
from simulation.core.periods import quarter_label
from simulation.runs.experiment import DEFAULT_REPLICATIONS, run_experiment

from .conftest import (
    BOARD_NOTEBOOK,
    BUNDLED_SCENARIO,
    COMPARISON_NOTEBOOK,
    PROJECT_ROOT,
    SMALL_REPORT,
    one_line,
    pdf_text,
)

pytestmark = pytest.mark.slow  # the whole file renders reports: the full suite's, not the fast tier's

SCRIPT = "<script>alert(1)</script>"
COMPANY = f"{SCRIPT} Bank $x$"  # a '$' pair is TeX to matplotlib unless the charts turn its parser off
STRATEGIES = ["retain_all", "educate", "reprice", "migrate", "divest_graceful", "divest_abrupt", "ladder", "twin"]
SECTIONS = ["Cover", "Decision", "Starting position", "Trade-offs", "Risk", "Appendix A: The options in detail",
            "Appendix B: Assumptions", "Appendix C: More charts", "Appendix D: Provenance"]
DECLARED = {"results_dir": "str", "output_dir": "str", "kind": "str", "quarter": "str"}
TWIN_LABEL = "Move online's twin ($2$ channels)"


@pytest.fixture(scope="module")
def scenario_with_twin(tmp_path_factory) -> Path:
    """The bundled scenario plus 'twin', 'migrate' step for step (the best option at the tests' size): on common
    random numbers the two tie exactly."""
    import yaml

    raw = yaml.safe_load(BUNDLED_SCENARIO.read_text())
    raw["strategies"]["twin"] = {**raw["strategies"]["migrate"], "label": TWIN_LABEL}
    path = tmp_path_factory.mktemp("scenario") / "with_twin.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


# The robustness section (a sweep of the scenario's uncertainties and a screening) is read in its own tests
# (test_sweep_report, test_objective_and_screening); here it would only add a minute a report.
NO_ROBUSTNESS = ["--set", "uncertainties={}"]


def _report_args(scenario: Path, out: Path, *extra: str) -> list[str]:
    return ["report", str(scenario), *SMALL_REPORT, *NO_ROBUSTNESS, "--set", f"company={COMPANY}", "--quarter",
            "2026Q4", "--out", str(out), *extra]


PLANTED = """from pathlib import Path
Path(__file__).resolve().parent.parent.joinpath("PLANTED_CODE_RAN").write_text("imported")
"""


@pytest.fixture(scope="module")
def board(tmp_path_factory, scenario_with_twin):
    """The board report of a small scenario (company name a script tag, two identical strategies), rendered once.

    Modules named like the project's are planted in the output folder first: the kernel must not import them.
    """
    out = tmp_path_factory.mktemp("board") / "2026Q4"
    for package in ("reports", "simulation"):
        (out / package).mkdir(parents=True)
        for module in ("__init__.py", "document.py", "results.py"):
            (out / package / module).write_text(PLANTED)
    assert main(_report_args(scenario_with_twin, out)) == 0
    return out


@pytest.fixture(scope="module")
def reader(board) -> PdfReader:
    return PdfReader(board / "board_report.pdf")


@pytest.fixture(scope="module")
def text(reader) -> str:
    return pdf_text(reader)


def _appendix_start(text: str) -> int:
    return text.index("Appendix A: The options in detail")


# ---- what the board gets


def test_report_writes_pdf_beside_html_executed_notebook_charts_and_results(board):
    for name in ("board_report.pdf", "board_report.html", "board_report.ipynb", "results/provenance.json"):
        assert (board / name).is_file(), name
    assert sorted(path.name for path in (board / "charts").iterdir()) == [
        "concentration.svg", "cumulative_profit_distribution.svg", "market_share.svg", "npv_by_strategy.svg",
        "profit_by_segment.svg", "profit_per_quarter.svg", "starting_position.svg", "trade_offs.svg",
    ]
    assert not [path for path in board.rglob(".*tmp*")], "temporary files left behind"


def test_a_module_planted_in_the_output_folder_is_never_imported(board):
    assert not (board / "PLANTED_CODE_RAN").exists()


def test_page_count_is_in_the_expected_range(reader):
    assert 10 <= len(reader.pages) <= 20  # Appendix A gives each option's conduct and reputation notes


def test_pdf_is_a4(reader):
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_the_board_reads_labels_and_strategy_ids_only_in_the_appendix(board, text, scenario_with_twin):
    from simulation.scenario.spec import load_scenario

    scenario = load_scenario(scenario_with_twin)
    body, appendix = text[:_appendix_start(text)], text[_appendix_start(text):]
    for strategy in STRATEGIES:
        assert one_line(scenario.label(strategy)) in body
        assert f"({strategy})" in appendix  # the id beside its label, for the analyst
        if "_" in strategy:  # ids like 'reprice' or 'ladder' are also ordinary words the text may use
            assert strategy not in body, strategy
    assert "seed 00" not in text and "DESIGN.md" not in text and "crummy" not in text


def test_running_header_and_page_numbers(reader):
    second = one_line(reader.pages[1].extract_text())
    assert "2026Q4" in second and "Quarterly board report" in second
    assert f"page 2 of {len(reader.pages)}" in second


def test_two_identical_strategies_are_called_a_choice_not_a_winner(board, text):
    quarters = pd.read_parquet(board / "results" / "results.parquet")
    decision = decide(quarters, materiality=0.01)
    assert decision.ranking[:2] in (["migrate", "twin"], ["twin", "migrate"]) and decision.recommended is None
    page = text[text.index("Decision"):text.index("Starting position")]
    assert "A CHOICE BETWEEN" in page and "Recommended" not in page
    assert "A CHOICE BETWEEN" in page and f"Move online or {one_line(TWIN_LABEL)}" in page
    assert "within the simulation's noise" in page


def test_decision_page_numbers_equal_the_results_table(board, text):
    quarters = pd.read_parquet(board / "results" / "results.parquet")
    summary = strategy_summary(quarters).set_index("strategy")
    money = MoneyFormat.for_amounts(pd.concat([summary["cumulative_profit_mean"], summary["npv_mean"],
                                               summary["npv_plus_book_mean"], summary["customer_equity_end"]]), "EUR")
    page = text[text.index("Decision"):text.index("Starting position")]
    value = quarters[quarters["quarter"] == quarters["quarter"].max()].pivot(index="replication", columns="strategy",
                                                                             values="npv_plus_book")
    for strategy, row in summary.iterrows():
        may_be = (money.bare(value[strategy].quantile(0.05)), money.bare(value[strategy].quantile(0.95)))  # 90 %
        parts = (money.bare(row["npv_mean"]), money.bare(row["npv_plus_book_mean"] - row["npv_mean"]))
        for number in (money.bare(row["npv_plus_book_mean"]), *may_be, *parts, count(row["active_customers_end"])):
            assert one_line(number) in page, (strategy, number)  # '4.99 %': a no-break space, as the words
    assert "Of which NPV" in page and "Of which the book left" in page


def test_starting_position_states_todays_book(board, text):
    table = pd.read_parquet(board / "results" / "starting_position.parquet")
    page = text[text.index("Starting position"):text.index("Trade-offs")]
    money = MoneyFormat.for_amounts([table["revenue"].sum() * 12], "EUR")
    assert f"has {count(table['customers'].sum())} customers today" in page
    assert f"{count(table['loss_making'].sum())} of them" in page
    assert one_line(money(-table["loss"].sum() * 12)) in page
    # Revenue less the four cost drivers is the profit the engine ranks the book by.
    drivers = table[["cost_of_goods", "account_management", "service_contacts", "late_payment"]].sum(axis=1)
    assert np.allclose(table["revenue"] - drivers, table["profit"])


def test_trade_offs_keep_moves_apart_and_drop_constant_rows(text):
    page = text[text.index("Trade-offs"):text.index("Risk")]
    for row in ("Customers let go", "Customers moved online", "Customers handed to partners",
                "People hearing bad stories", "Value of the book left", "When it acts"):
        assert row in page
    assert "Loss quarters" not in page


def test_risk_section_explains_each_measure(text):
    page = text[text.index("Risk A bad draw"):_appendix_start(text)]
    for phrase in ("5th-percentile cumulative profit", "Profit at risk", "effective number of customers"):
        assert phrase.lower() in page.lower()


def test_outline_has_the_sections(reader):
    def titles(outline):
        for item in outline:
            if isinstance(item, list):
                yield from titles(item)
            else:
                yield item.title

    found = list(titles(reader.outline))
    assert [title for title in found if title in SECTIONS] == SECTIONS


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


def test_html_shows_outputs_but_no_code(board):
    html = (board / "board_report.html").read_text()
    assert "Starting position" in html
    assert "Report.open" not in html and "import " not in html


def test_provenance_shows_relative_paths_and_the_real_worker_count(board, text, scenario_with_twin):
    provenance = json.loads((board / "results" / "provenance.json").read_text())
    assert not Path(provenance["scenario_file"]).is_absolute() and provenance["workers"] == 1
    appendix = text[text.index("Appendix D: Provenance"):]
    import hashlib  # the file's fingerprint as sha256sum prints it, not a hash of the parsed fields

    assert f"SHA-256 of the scenario file {hashlib.sha256(scenario_with_twin.read_bytes()).hexdigest()}" in appendix
    assert "Worker processes 1 " in appendix and "all cores" not in appendix
    assert str(Path.home()) not in appendix or str(Path.home()) == "/"


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
    for folder in ("one", "two"):
        report = Report.open(board / "results", kind="board", quarter="2026Q4", output_dir=tmp_path / folder)
        report.trade_offs_section(), report.charts_appendix(), report.risk_section()
    for name in ("profit_per_quarter.svg", "concentration.svg", "cumulative_profit_distribution.svg", "trade_offs.svg"):
        first, second = (tmp_path / "one" / "charts" / name).read_bytes(), (tmp_path / "two" / "charts" / name).read_bytes()
        assert first == second
        assert first == (board / "charts" / name).read_bytes()


def test_a_second_run_reuses_the_results_and_gives_the_same_report(board, text, tmp_path, scenario_with_twin):
    again = tmp_path / "again"
    shutil.copytree(board, again)
    provenance = (again / "results" / "provenance.json").read_text()
    charts = {path.name: path.read_bytes() for path in (again / "charts").iterdir()}
    outcome = build_report(ReportRequest(
        scenario_with_twin, quarter="2026Q4", replications=3, workers=1, out=again,
        overrides=["population.customers=600", "market.size=12000", "horizon_quarters=4", "uncertainties={}", f"company={COMPANY}"],
    ))
    assert outcome.results_reused
    assert (again / "results" / "provenance.json").read_text() == provenance
    assert {path.name: path.read_bytes() for path in (again / "charts").iterdir()} == charts
    assert pdf_text(PdfReader(outcome.pdf)) == text
    assert outcome.pdf.read_bytes() == (board / "board_report.pdf").read_bytes()
    assert set(outcome.timings) >= {"check", "notebook", "kernel_start", "simulation", "html", "pdf", "total"}


def test_a_tampered_results_file_is_not_reused(board, tmp_path, scenario_with_twin):
    again = tmp_path / "tampered"
    shutil.copytree(board, again)
    with open(again / "results" / "results.parquet", "ab") as handle:
        handle.write(b"tampered")
    outcome = build_report(ReportRequest(
        scenario_with_twin, quarter="2026Q4", replications=3, workers=1, out=again,
        overrides=["population.customers=600", "market.size=12000", "horizon_quarters=4", "uncertainties={}", f"company={COMPANY}"],
    ))
    assert not outcome.results_reused and "results.parquet" in outcome.simulated_because
    assert (again / "results" / "results.parquet").read_bytes() == (board / "results" / "results.parquet").read_bytes()


def test_a_second_report_into_a_folder_being_written_is_refused(tmp_path, no_kernel, capsys):
    out = tmp_path / "busy"
    with folder_lock(out):
        assert main(["report", str(BUNDLED_SCENARIO), *SMALL_REPORT, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out}: another report is being written into this folder right now (process {os.getpid()})" in err
    assert not (out / "results").exists() and not (out / "board_report.pdf").exists()


def test_comparison_report_sets_strategies_side_by_side(tmp_path):
    out = tmp_path / "cmp"
    assert main(["report", str(BUNDLED_SCENARIO), *SMALL_REPORT, "--kind", "comparison",
                 "--strategies", "retain_all,ladder", "--out", str(out)]) == 0
    reader = PdfReader(out / "comparison_report.pdf")
    text = pdf_text(reader)
    assert "Comparison" in text and "Each option against Keep everyone" in text and "Divestment ladder" in text
    assert "Push out with poor service" not in text  # only the strategies asked for
    assert reader.metadata.title.endswith("Strategy comparison 2026Q4")


# ---- the document on a results folder, without a kernel


@pytest.fixture(scope="module")
def one_replication(tmp_path_factory):
    out = tmp_path_factory.mktemp("one")
    run_experiment(BUNDLED_SCENARIO, out / "results", replications=1, workers=1,
                   strategies=["retain_all", "ladder", "migrate"],
                   overrides=["population.customers=600", "market.size=12000", "horizon_quarters=4", "uncertainties={}"])
    return out


def test_one_replication_says_there_is_no_interval(one_replication):
    report = Report.open(one_replication / "results", kind="board", quarter="2026Q4", output_dir=one_replication)
    html = str(report.decision_section())
    assert "one replication" in html and "95\u00a0% CI" not in html and "larger than both" not in html


def test_decision_recommends_only_a_lead_beyond_noise_and_materiality():
    rows = []
    for replication in range(10):
        noise = 0.01 * (replication - 4.5)
        for strategy, npv in (("a", 100.0 + noise), ("b", 95.0 + noise), ("c", 99.5 + 3 * noise)):
            rows.append({"strategy": strategy, "replication": replication, "quarter": 1, "npv": npv})
    quarters = pd.DataFrame(rows)
    clear = decide(quarters, materiality=0.001)  # a beats c by 0.5 %, every time: above a 0.1 % threshold
    assert clear.recommended == "a" and clear.ranking == ["a", "c", "b"]
    assert clear.margin is not None and clear.margin.low > 0 and abs(clear.margin_share - 0.005) < 1e-9
    material = decide(quarters, materiality=0.01)  # … but under a 1 % one: a choice between a and c
    assert material.leaders == ["a", "c"] and material.why_tied == {"c": "materiality"}
    noisy = quarters.copy()
    noisy.loc[noisy["strategy"] == "c", "npv"] = [99.0, 101.5] * 5  # mean 100.25: ahead on average, not reliably
    tie = decide(noisy, materiality=0.0)
    assert set(tie.leaders) == {"a", "c"} and "noise" in tie.why_tied.values()


# ---- failures: named, nothing half-written


def _raise_in_first_cell(notebook) -> None:
    broken = nbformat.v4.new_code_cell('raise ValueError("deliberately broken cell")')
    notebook.cells.insert(1, broken)


def test_a_failing_cell_is_named_keeps_the_partial_notebook_and_the_previous_report(tmp_path, notebook_copy, capsys):
    out = tmp_path / "broken"
    out.mkdir()
    (out / "board_report.pdf").write_bytes(b"%PDF the last good report")
    notebook = notebook_copy(_raise_in_first_cell)
    assert main(_report_args(BUNDLED_SCENARIO, out, "--notebook", str(notebook))) == 2
    err = capsys.readouterr().err
    assert "failed in cell 2" in err  # parameters, injected parameters, then the broken cell
    assert "ValueError: deliberately broken cell" in err
    assert str(out / "board_report.ipynb") in err
    assert (out / "board_report.pdf").read_bytes() == b"%PDF the last good report"  # no new one: the old one stays
    assert not (out / "board_report.html").exists() and not list(out.glob(".*.tmp-*"))
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
                                   replications=2, workers=1, overrides=["population.customers=300", "uncertainties={}"]))


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
    notebook = notebook_copy(_drop_parameter("quarter"))
    assert main(_report_args(BUNDLED_SCENARIO, tmp_path / "o", "--notebook", str(notebook))) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'quarter'" in err
    assert "The notebook declares: results_dir (str), output_dir (str), kind (str)" in err
    assert not (tmp_path / "o").exists()


def test_ill_typed_parameter_is_refused_before_a_kernel_starts(tmp_path, notebook_copy, no_kernel, capsys):
    notebook = notebook_copy(_retype_parameter("quarter", "int", "4"))
    assert main(_report_args(BUNDLED_SCENARIO, tmp_path / "o", "--notebook", str(notebook))) == 2
    assert "parameter 'quarter' must be int (as the notebook declares it): got '2026Q4' (str)" in capsys.readouterr().err


def test_a_parameter_of_a_non_primitive_type_is_refused(notebook_copy):
    notebook = notebook_copy(_retype_parameter("output_dir", "Path", '"x"'))
    with pytest.raises(ReportError, match=r"declares 'output_dir: Path'.*primitives only"):
        notebook_run.check_parameters(notebook, {"output_dir": "x"})


@pytest.mark.parametrize("parameters, message", [
    ({"colour": "red"}, "unknown parameter 'colour'"),
    ({"kind": True}, r"'kind' must be str .*got True \(bool\)"),
    ({"quarter": 2.5}, r"'quarter' must be str .*got 2.5 \(float\)"),
])
def test_check_parameters_messages(parameters, message):
    with pytest.raises(ReportError, match=message):
        notebook_run.check_parameters(BOARD_NOTEBOOK, parameters)


@pytest.mark.parametrize("notebook", [BOARD_NOTEBOOK, COMPARISON_NOTEBOOK])
def test_notebooks_declare_the_parameters_the_cli_passes(notebook):
    declared = notebook_run.declared_parameters(notebook)
    assert {name: info["inferred_type_name"] for name, info in declared.items()} == DECLARED


def test_simulate_and_report_share_one_default_replication_count():
    assert DEFAULT_REPORT_REPLICATIONS == DEFAULT_REPLICATIONS


def test_bad_quarter_is_refused_before_a_kernel_starts(tmp_path, no_kernel, capsys):
    assert main(["report", str(BUNDLED_SCENARIO), "--quarter", "2026-Q4", "--out", str(tmp_path / "o")]) == 2
    assert "--quarter must look like 2026Q4" in capsys.readouterr().err


def test_a_quarter_outside_the_horizon_is_refused(tmp_path, no_kernel, capsys):
    assert main(["report", str(BUNDLED_SCENARIO), "--quarter", "2030Q1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--quarter 2030Q1 is outside the scenario's horizon, 2026Q4 to 2029Q3" in err
    assert "or 2026Q3, the quarter whose end is the simulation's start" in err
    assert main(["report", str(BUNDLED_SCENARIO), "--quarter", "2026Q2", "--out", str(tmp_path / "o")]) == 2


def test_comparison_of_one_strategy_is_refused(tmp_path, no_kernel, capsys):
    assert main(["report", str(BUNDLED_SCENARIO), "--kind", "comparison", "--strategies", "ladder",
                 "--out", str(tmp_path / "o")]) == 2
    assert "a comparison report needs at least 2 strategies: got ladder" in capsys.readouterr().err


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
    assert one_line(large(36_889_337.0)) == "EUR 36.89 m" and large.bare(-240_000.0) == "-0.24"
    assert one_line(large(4_210_000.0, signed=True)) == "+EUR 4.21 m"
    thousands = MoneyFormat.for_amounts([354_290.4], "EUR")
    assert one_line(thousands(354_290.4)) == "EUR 354.3 k" and thousands.bare(-12.0, signed=True) == "0.0"
    small = MoneyFormat.for_amounts([5_943.7], "EUR")
    assert one_line(small(-12.0, signed=True)) == "-EUR 12"
    assert (small.unit, thousands.unit, large.unit) == ("EUR", "EUR k", "EUR m")


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
    assert "Starting position" in text  # the report itself still renders, charts included
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


def test_a_book_from_a_transaction_log_says_what_the_data_support(tmp_path):
    """The company's own log: the report says how much of the book the data support and which costs are assumed."""
    retailer = PROJECT_ROOT / "scenarios" / "retailer.yaml"
    results = tmp_path / "results"
    run_experiment(retailer, results, replications=2, workers=1, strategies=["retain_all", "ladder"],
                   transactions=PROJECT_ROOT / "examples" / "transactions.csv", overrides=["horizon_quarters=4"])
    provenance = json.loads((results / "provenance.json").read_text())
    book = provenance["starting_book"]
    report = Report.open(results, kind="board", quarter="2026Q4", output_dir=tmp_path)
    page = one_line(str(report.starting_position()))
    assert one_line(f"so the data support {share(book['supported_share'], 0)} of the book") in page
    assert f"holds {count(book['customers_in_data'])} customers" in page
    assert "cost of goods" in page and "comes from the scenario's assumptions" in page
    newcomers = strategy_summary(report.quarters).set_index("strategy").loc["retain_all", "newcomer_share_end"]
    assert one_line(f"{share(newcomers, 0)} of the customers on the books") in page
    calibrated = [row for section in assumption_sections(report.scenario, parameter_sources(provenance))
                  for row in section.rows if row.source == SOURCE_DATA]
    assert {row.path for row in calibrated} >= {"market.size", "churn.beta_alpha", "churn.beta_beta"}
    appendix = one_line(str(report.assumptions_appendix()))
    fitted = book["fits"]["purchasing"]
    assert "Calibrated from the data" in appendix and "BG/NBD" in appendix and "Gamma-Gamma" in appendix
    assert f"r {fitted['parameters']['r']:.3g} (± {fitted['standard_errors']['r']:.2g})" in appendix


def test_the_lock_is_not_broken_by_a_refused_run_and_never_follows_a_link(tmp_path):
    from reports.folder_lock import LOCK_FILE

    out = tmp_path / "new" / "folder"
    with folder_lock(out):
        for _ in range(2):  # refused, and still refused: the refused run removed nothing
            with pytest.raises(ReportError, match="another report is being written"):
                with folder_lock(out):
                    pass
            assert (out / LOCK_FILE).read_text() == str(os.getpid())
    victim = tmp_path / "important.txt"
    victim.write_text("important data")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / LOCK_FILE).symlink_to(victim)
    with pytest.raises(ReportError, match="cannot open the report lock"):
        with folder_lock(linked):
            pass
    assert victim.read_text() == "important data"


def test_with_one_replication_materiality_alone_decides():
    quarters = pd.DataFrame({"strategy": ["a", "b", "c"], "replication": 0, "quarter": 1,
                             "npv": [100.0, 90.0, 99.5]})
    decision = decide(quarters, materiality=0.01)
    assert decision.leaders == ["a", "c"] and decision.why_tied == {"c": "materiality"}
    assert decision.margin is not None and not decision.margin.has_interval
    assert decide(quarters[quarters["strategy"] != "c"], materiality=0.01).recommended == "a"


def test_a_tie_names_the_closest_co_leader_and_the_leaders_own_wins():
    rows = []
    for replication in range(10):
        for strategy, npv in (("a", 100.0 + 0.01 * replication), ("b", 95.0 + 0.01 * replication),
                              ("c", 70.0 if replication % 2 else 130.0)):
            rows.append({"strategy": strategy, "replication": replication, "quarter": 1, "npv": npv})
    decision = decide(pd.DataFrame(rows), materiality=0.0)
    assert decision.leaders == ["c", "a"] or decision.leaders == ["a", "c"]
    assert "b" not in decision.leaders  # 5 % behind in every future: not a co-leader
    assert decision.margin is not None and decision.margin.wins == 5  # the leader's wins against its co-leader


def test_the_default_folder_names_the_scenario_so_one_report_never_replaces_anothers():
    from reports.kinds import KINDS

    bank, retailer = Path("scenarios/retail_bank.yaml"), Path("scenarios/retailer.yaml")
    assert KINDS["board"].default_folder("2026Q4", bank) == Path("out/retail_bank/2026Q4")
    assert KINDS["board"].default_folder("2026Q4", retailer) == Path("out/retailer/2026Q4")
    assert KINDS["comparison"].default_folder("2026Q4", bank) == Path("out/retail_bank/2026Q4-comparison")


def test_board_pages_show_no_code_identifiers_or_commands(text):
    board = text[:_appendix_start(text)]  # the appendix names files and paths for the analyst; the board does not
    assert "clientele " not in board
    assert not re.findall(r"\b[a-z]+_[a-z_]+\.[a-z_]+\b", board), "a scenario path such as word_of_mouth.first_hand"
