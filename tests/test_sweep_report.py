"""The sweep report and the board report's robustness section, end to end and read back from the PDF.

A small Sobol sweep (400 customers, 4 quarters, 3 strategies × 2 replications) is run and rendered
once for the module by `clientele report FILE --kind sweep`; a small board report of the bundled
scenario (which declares uncertainties) once more. The tests compare what the PDF says with what
``analyze_sweep`` and ``robustness_summary`` compute from the same stores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from reports.commands.cli import main
from reports.decision import board_decision
from reports.document import Report
from reports.numbers import MoneyFormat, number, share
from reports.pipeline import ROBUSTNESS_POINTS, ReportRequest, build_report, robustness_strategies
from reports.sweep_document import SweepReport
from simulation.analysis.robustness import ROBUSTNESS_FOLDER, robustness_summary
from simulation.analysis.sweep import analyze_sweep
from simulation.runs.experiment import run_experiment
from simulation.runs.results import load_results
from simulation.runs.sweeps import load_plan, run_sweep

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT, SMALL_REPORT, one_line, pdf_text

pytestmark = pytest.mark.slow  # the whole file renders reports: the full suite's, not the fast tier's

STRATEGIES = ["retain_all", "ladder", "divest_abrupt"]
SWEEP_SECTIONS = ["Cover", "What the sweep found", "What the sweep varied and why", "Which assumption moves the answer",
                  "Which strategy wins where", "Regret: what each choice could cost", "Appendix: Provenance"]
PARAMETERS = {  # path → the name the report gives it
    "word_of_mouth.first_hand": "People a badly treated leaver tells",  # the labels beside the fields
    "churn.price_elasticity": "How strongly price rises drive customers away",
    "market.acquisition_rate": "How fast we win new customers",
}


def _titles(outline):
    for item in outline:
        if isinstance(item, list):
            yield from _titles(item)
        else:
            yield item.title


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    """sweeps/small.yaml as a Sobol design (N = 8: 40 points and the base and swings) with three strategies."""
    raw = yaml.safe_load((PROJECT_ROOT / "sweeps" / "small.yaml").read_text())
    raw.update({
        "name": "Small Sobol sweep", "scenario": str(BUNDLED_SCENARIO), "strategies": STRATEGIES,
        "design": {"method": "sobol", "points": 8},
        "parameters": {
            "word_of_mouth.first_hand": {"low": 3, "high": 15, "why": "Seed 001's 9 is an anecdote"},
            "churn.price_elasticity": {"low": 0.5, "high": 4, "why": "The scenario's 2.0 is a modelling choice"},
            "market.acquisition_rate": {"values": [0.0003, 0.0006, 0.0012], "why": "Known to a factor of two"},
        },
        "satisficing": {"outcome": "npv", "at_least": 0},
        "decision_outcome": "npv",  # judged by NPV alone, where this small sweep's recommendation flips
    })
    path = tmp_path_factory.mktemp("sweep_file") / "small_sobol.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def sweep_out(tmp_path_factory, sweep_file) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "store"
    assert main(["report", str(sweep_file), "--kind", "sweep", "--out", str(out), "--workers", "1", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def sweep_reader(sweep_out) -> PdfReader:
    return PdfReader(sweep_out / "sweep_report.pdf")


@pytest.fixture(scope="module")
def sweep_text(sweep_reader) -> str:
    return pdf_text(sweep_reader)


@pytest.fixture(scope="module")
def analysis(sweep_out):
    return analyze_sweep(sweep_out)


def test_sweep_report_writes_pdf_html_notebook_and_charts_beside_the_store(sweep_out):
    for name in ("sweep_report.pdf", "sweep_report.html", "sweep_report.ipynb", "sweep.json", "points.parquet"):
        assert (sweep_out / name).is_file(), name
    charts = {path.name for path in (sweep_out / "charts").iterdir()}
    assert {"sensitivity_npv.svg", "npv_difference_heat_map.svg", "wins_map.svg"} <= charts


def test_sweep_report_names_the_parameters_their_ranges_and_sources(sweep_text):
    page = sweep_text[sweep_text.index("What the sweep varied and why"):sweep_text.index("Which assumption moves")]
    for name in PARAMETERS.values():
        assert name in page
    for why in ("Seed 001's 9 is an anecdote", "The scenario's 2.0 is a modelling choice", "Known to a factor of two"):
        assert why in page
    assert "3 to 15" in page and "0.0003, 0.0006, 0.0012" in page
    appendix = sweep_text[sweep_text.index("Appendix: Provenance"):]
    for path in PARAMETERS:
        assert path in appendix


def test_sweep_report_names_strategies_by_label_and_ids_only_in_the_appendix(sweep_text, analysis):
    labels = analysis.manifest["strategy_labels"]
    body = sweep_text[:sweep_text.index("Appendix: Provenance")]
    for strategy in STRATEGIES:
        assert labels[strategy] in body
        if strategy not in labels[strategy].lower():  # 'ladder' is also a word of its label
            assert strategy not in body
    appendix = sweep_text[sweep_text.index("Appendix: Provenance"):]
    for strategy in STRATEGIES:
        assert f"{strategy}: {labels[strategy]}" in appendix


def test_sweep_report_shows_the_sobol_indices_with_intervals_and_the_zero_flag(sweep_text, analysis):
    labels = analysis.manifest["strategy_labels"]
    assert analysis.decision_outcome == "npv"  # the sweep file's, over the scenario's objective
    page = sweep_text[sweep_text.index("Sobol indices of expected NPV, every option"):
                      sweep_text.index("Which strategy wins where")]
    for strategy in STRATEGIES:
        row = page[page.index(labels[strategy]):]
        for entry in analysis.sobol[(analysis.sobol["outcome"] == "npv")
                                    & (analysis.sobol["strategy"] == strategy)].itertuples():
            # written by the report's one formatter: an index that rounds to zero reads 0.00, never -0.00
            s1 = f"S1 {number(entry.S1, 2)}" + (" ≈ 0" if entry.S1_zero else "")
            st = f"ST {number(entry.ST, 2)}" + (" ≈ 0" if entry.ST_zero else "")
            assert s1 in row and st in row, (strategy, entry.parameter, s1, st)
            assert f"{number(entry.S1_low, 2)} to {number(entry.S1_high, 2)}" in row
    assert analysis.sobol["S1_zero"].any() and "not distinguishable from zero" in sweep_text


def test_sweep_report_regret_table_equals_the_analysis(sweep_text, analysis):
    labels = analysis.manifest["strategy_labels"]
    report_money = MoneyFormat.for_amounts(
        [*analysis.point_outcomes["npv_plus_book"], *analysis.point_outcomes["npv"],
         *analysis.point_outcomes["cumulative_profit"], 0.0],
        analysis.manifest["currency"])
    page = sweep_text[sweep_text.index("Regret: what each choice could cost"):sweep_text.index("Appendix: Provenance")]
    for row in analysis.robustness.itertuples():
        expected = " ".join([labels[row.strategy], share(row.share_best, 0), share(row.share_worst, 0),
                             report_money(row.mean_regret), report_money(row.p90_regret),
                             report_money(row.max_regret), share(row.satisficing_share, 0)])
        assert one_line(expected) in page, expected


def test_sweep_report_says_when_the_recommendation_flips(sweep_text, analysis):
    labels = analysis.manifest["strategy_labels"]
    page = sweep_text[sweep_text.index("What the sweep found"):sweep_text.index("What the sweep varied and why")]
    recommended = labels[analysis.recommended]
    holds = share(float(analysis.robustness.set_index("strategy").loc[analysis.recommended, "share_best"]), 0)
    assert one_line(f"{recommended} has the highest expected NPV in {holds} of the") in page
    assert analysis.flips, "the small sweep's recommendation flips with the acquisition rate"
    box = analysis.flips[0]
    condition = box.conditions[0]
    assert f"{recommended} stops being best when {PARAMETERS[condition.parameter]} is {condition.text}" in page
    assert f"of {box.futures} futures" in page


def test_sweep_report_outline_metadata_and_header(sweep_reader, analysis):
    found = list(_titles(sweep_reader.outline))
    assert [title for title in found if title in SWEEP_SECTIONS] == SWEEP_SECTIONS
    assert sweep_reader.metadata.title.endswith("Sweep report: Small Sobol sweep")
    assert "Sweep report" in sweep_reader.pages[2].extract_text()


def test_a_second_sweep_report_resumes_nothing_and_gives_the_same_pdf(sweep_out, sweep_file, tmp_path):
    import shutil

    again = tmp_path / "again"
    shutil.copytree(sweep_out, again)
    outcome = build_report(ReportRequest(sweep_file, kind="sweep", out=again, workers=1))
    assert outcome.results_reused and outcome.results_dir == again
    assert outcome.pdf.read_bytes() == (sweep_out / "sweep_report.pdf").read_bytes()


@pytest.mark.parametrize("flag", [["--strategies", "retain_all,ladder"], ["--set", "population.customers=500"],
                                  ["--seed", "3"], ["--replications", "2"]])
def test_a_sweep_report_refuses_scenario_options_before_anything_runs(sweep_file, tmp_path, capsys, flag):
    out = tmp_path / "refused"
    assert main(["report", str(sweep_file), "--kind", "sweep", "--out", str(out), *flag]) == 2
    err = capsys.readouterr().err
    assert f"{flag[0]}: a sweep report takes its strategies, replications, seed, input data and fixed values from " \
           f"the sweep file {sweep_file}" in one_line(err)
    assert not out.exists()


def test_a_sweep_without_a_sobol_design_says_so_and_still_shows_swings_and_regret(tmp_path, capsys):
    plan = load_plan(PROJECT_ROOT / "sweeps" / "small.yaml")
    run_sweep(plan, tmp_path / "lhs", workers=1)
    report = SweepReport.open(tmp_path / "lhs", kind="sweep", quarter="2026Q4", output_dir=tmp_path)
    sensitivity = one_line(str(report.sensitivity_section()))
    assert "Sobol indices need a sobol design; this sweep's design is lhs" in sensitivity
    assert "sensitivity_npv.svg" in sensitivity
    assert "Keep everyone" in str(report.regret_section())
    # a store `clientele sweep` wrote is no place for a board report's results/
    assert main(["report", str(BUNDLED_SCENARIO), *SMALL_REPORT, "--out", str(tmp_path / "lhs")]) == 2
    assert "holds a sweep store (made by clientele sweep)" in capsys.readouterr().err


# ---- the board report's robustness section


@pytest.fixture(scope="module")
def board_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("board") / "2026Q4"
    assert main(["report", str(BUNDLED_SCENARIO), *SMALL_REPORT, "--strategies", "retain_all,migrate,ladder,reprice",
                 "--out", str(out)]) == 0
    return out


def test_board_report_robustness_section_follows_risk_in_the_outline(board_out):
    found = list(_titles(PdfReader(board_out / "board_report.pdf").outline))
    assert found.index("Robustness") == found.index("Risk") + 1


def test_robustness_runs_the_leading_strategies_and_the_baseline(board_out):
    results = load_results(board_out / "results")
    decision = board_decision(results.quarters, results.scenario)
    manifest = json.loads((board_out / "results" / ROBUSTNESS_FOLDER / "sweep.json").read_text())
    assert manifest["strategies"] == robustness_strategies(decision, results.scenario.baseline)
    assert "retain_all" in manifest["strategies"] and len(manifest["strategies"]) <= 4
    assert manifest["design"]["points"] == ROBUSTNESS_POINTS


def test_board_robustness_numbers_equal_the_robustness_summary(board_out):
    results = load_results(board_out / "results")
    decision = board_decision(results.quarters, results.scenario)
    leading = decision.recommended or decision.ranking[0]
    summary = robustness_summary(board_out / "results" / ROBUSTNESS_FOLDER, recommended=leading)
    text = pdf_text(PdfReader(board_out / "board_report.pdf"))
    page = text[text.index("Robustness"):text.index("Appendix A: The options in detail")]
    money = Report.open(board_out / "results", kind="board", quarter="2026Q4", output_dir=board_out / "check").money
    assert f"Across {summary.futures} plausible futures" in page
    for entry in summary.strategies:
        row = f"{entry.label} {share(entry.share_best, 0)} {money(entry.p90_regret)} {money(entry.worst_regret)}"
        assert one_line(row) in page, row
    holds = next(e.share_best for e in summary.strategies if e.strategy == leading)
    assert summary.holds_share == holds  # of the strategy asked about, not of the best at the base
    if decision.recommended:
        assert one_line(f"is the best option in {share(holds, 0)} of them") in page
    for flip in summary.flips:
        assert one_line(flip.source) in page
    if not summary.flips:
        assert "No single assumption, at either end of its range, changes which option is best" in page


def test_a_scenario_without_uncertainties_says_nothing_was_declared(tmp_path):
    raw = yaml.safe_load(BUNDLED_SCENARIO.read_text())
    raw.pop("uncertainties")
    scenario = tmp_path / "certain.yaml"
    scenario.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    run_experiment(scenario, tmp_path / "results", replications=1, workers=1, strategies=["retain_all", "ladder"],
                   overrides=["population.customers=600", "market.size=12000", "horizon_quarters=4"])
    report = Report.open(tmp_path / "results", kind="board", quarter="2026Q4", output_dir=tmp_path)
    html = one_line(str(report.robustness_section()))
    assert "<h1>Robustness</h1>" in html and "The scenario declares no uncertain assumptions" in html
    assert not (tmp_path / "results" / ROBUSTNESS_FOLDER).exists()


def test_only_parameters_distinguishable_from_zero_get_an_influence_rank(sweep_out, analysis, tmp_path):
    report = SweepReport.open(sweep_out, kind="sweep", quarter="2026Q4", output_dir=tmp_path)
    page = one_line(str(report.design_section()))
    assert report.influence_method  # the small Sobol design gives indices with intervals
    for path in analysis.parameters:
        row = page[page.index(report.parameter_title(path)):][:400]
        if path in report.influential:
            assert f"influence rank {report.influential.index(path) + 1}" in row
        else:
            assert "no influence distinguishable from zero" in row
