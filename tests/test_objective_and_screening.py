"""What an option is judged by, and which assumptions the robustness check tests.

The board's objective is declared (``report.objective``): by default the net present value plus the
value of the book left, in today's money; the decision page, a sweep of the scenario and the
robustness check all judge by it. The robustness check adds to the scenario's declared uncertainties
those a quick Morris screening finds moving the leader's lead by a material amount.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from reports.decision import decide
from reports.document import Report
from simulation.analysis.robustness import ScreeningRequest, run_robustness
from simulation.analysis.screening import SCREENING_FOLDER, read_screening, screening_ranges
from simulation.runs.experiment import run_experiment
from simulation.runs.sweeps.plan import load_plan
from simulation.runs.sweeps.queries import read_manifest
from simulation.scenario.spec import load_scenario

from .conftest import BUNDLED_SCENARIO
from .sweep_support import write_sweep

SMALL = ["population.customers=600", "market.size=12000", "horizon_quarters=4"]


def _quarters(values: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Ten futures per option of (NPV, book left in today's money), nearly constant."""
    return pd.DataFrame([{"strategy": name, "replication": r, "quarter": 1, "npv": npv + 0.01 * r,
                          "npv_plus_book": npv + book + 0.01 * r, "treated": 1.0}
                         for name, (npv, book) in values.items() for r in range(10)])


def test_the_objective_decides_which_option_leads():
    # "sell" earns more in the horizon by giving away the customers who would earn after it
    quarters = _quarters({"sell": (120.0, 10.0), "keep": (100.0, 60.0)})
    assert decide(quarters, materiality=0.01, objective="npv").recommended == "sell"
    total = decide(quarters, materiality=0.01, objective="npv_plus_book")
    assert total.recommended == "keep" and total.margin.mean == pytest.approx(30.0)
    assert total.margin_share == pytest.approx(30.0 / 160.045, rel=1e-6)  # of the leader's total, not its NPV


def _page(out, tmp_path) -> tuple[Report, str]:
    report = Report.open(out, kind="board", quarter="2026Q4", output_dir=tmp_path)
    return report, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(report.decision_section())).replace("\u00a0", " "))


def test_the_decision_page_shows_the_objective_and_both_its_parts(tmp_path):
    out = tmp_path / "total"
    run_experiment(BUNDLED_SCENARIO, out, replications=3, workers=1, strategies=["retain_all", "divest_abrupt"],
                   overrides=SMALL)
    report, page = _page(out, tmp_path)
    assert report.decision.objective == "npv_plus_book"
    assert "has the highest expected value of the 2 options" in page
    assert f"Expected value, {report.money.unit}" in page and "Of which NPV" in page and "Of which the book left" in page
    rows = report.summary.set_index("strategy")
    for strategy in ("retain_all", "divest_abrupt"):  # the value, then its two parts, as printed
        row = rows.loc[strategy]
        parts = [report.money.bare(row["npv_plus_book_mean"]), report.money.bare(row["npv_mean"]),
                 report.money.bare(row["npv_plus_book_mean"] - row["npv_mean"])]
        assert re.search(rf"{re.escape(report.label(strategy))}.*?{re.escape(parts[0])}.*?{re.escape(parts[1])} "
                         rf"{re.escape(parts[2])}", page), (strategy, parts)
        assert row["npv_plus_book_mean"] > row["npv_mean"] > 0  # the book left is worth something

    npv_only = tmp_path / "npv"
    run_experiment(BUNDLED_SCENARIO, npv_only, replications=3, workers=1, strategies=["retain_all", "divest_abrupt"],
                   overrides=[*SMALL, "report.objective=npv"])
    report, page = _page(npv_only, tmp_path)
    assert report.decision.objective == "npv"
    assert "has the highest expected net present value of the 2 options" in page and "Of which NPV" not in page


def test_a_sweep_judges_by_the_scenarios_objective_unless_it_names_its_own(tmp_path):
    assert load_plan(write_sweep(tmp_path)).decision_outcome == "npv_plus_book"
    npv = write_sweep(tmp_path, set={"population.customers": 300, "horizon_quarters": 4, "report.objective": "npv"})
    assert load_plan(npv).decision_outcome == "npv"
    assert load_plan(write_sweep(tmp_path, decision_outcome="cumulative_profit")).decision_outcome == "cumulative_profit"


def test_screening_ranges_leave_out_what_is_declared_set_or_zero_and_keep_to_the_schema():
    scenario = load_scenario(BUNDLED_SCENARIO, ["word_of_mouth.migration_fraction=0", "market.acquisition_rate=0.001"])
    ranges = screening_ranges(scenario, [*scenario.uncertainties, "market.acquisition_rate"])
    assert not set(scenario.uncertainties) & set(ranges)  # declared: tested at their own ranges already
    assert "market.acquisition_rate" not in ranges  # set by the analyst
    assert "word_of_mouth.migration_fraction" not in ranges  # no multiple of zero is a range
    value = scenario.population.cost_of_goods_share
    assert ranges["population.cost_of_goods_share"] == pytest.approx((value, value * 0.8, value * 1.25))
    assert ranges["word_of_mouth.second_hand"] == pytest.approx((4.0, 2.0, 8.0))
    assert "population.revenue_median" not in ranges  # no screening range declared beside it


@pytest.fixture(scope="module")
def screened_bank(tmp_path_factory):
    """The small bank with word of mouth off, screened against a zero threshold, then its robustness check run."""
    folder = tmp_path_factory.mktemp("screened") / "robustness"
    overrides = [*SMALL, "word_of_mouth.enabled=false"]
    run_robustness(BUNDLED_SCENARIO, folder, overrides=overrides, strategies=["divest_abrupt", "retain_all"],
                   points=4, replications=2, seed=5, workers=1,
                   screening=ScreeningRequest("divest_abrupt", "retain_all", threshold=0.0))
    return folder


@pytest.mark.slow
def test_the_screening_measures_each_parameters_effect_on_the_lead(screened_bank):
    record = read_screening(screened_bank.with_name(SCREENING_FOLDER))
    found = {entry["path"]: entry for entry in record["screened"]}
    assert record["objective"] == "npv_plus_book" and record["points"] == 3 * (len(found) + 1)
    # Word of mouth is off: its parameters cannot move anything, so they are not screened at all (a switched-off
    # section's parameters only reshape the Morris trajectories of the others).
    assert not [path for path in found if path.startswith("word_of_mouth.")]
    # What a loss-making customer costs decides how many are let go: it moves the lead.
    assert found["population.cost_of_goods_share"]["mu_star"] > 0
    assert [entry["mu_star"] for entry in record["screened"]] == sorted(
        (entry["mu_star"] for entry in record["screened"]), reverse=True)
    assert all(entry["label"] for entry in record["screened"])  # each named in plain words


def test_what_the_screening_adds_joins_the_robustness_check_with_its_reason(screened_bank):
    record = read_screening(screened_bank.with_name(SCREENING_FOLDER))
    added = [entry for entry in record["screened"] if entry["added"]]
    assert 1 <= len(added) <= 4
    parameters = read_manifest(screened_bank)["parameters"]
    scenario = load_scenario(BUNDLED_SCENARIO)
    assert set(parameters) == set(scenario.uncertainties) | {entry["path"] for entry in added}
    for entry in added:
        assert parameters[entry["path"]]["low"] == pytest.approx(entry["low"])
        assert parameters[entry["path"]]["why"].startswith("Not declared in the scenario: the screening found")
        assert parameters[entry["path"]]["label"] == entry["label"]
        assert entry["mu_star"] > entry["mu_star_conf"]  # told apart from the screening's own noise


def test_an_earlier_screenings_finding_never_stands_for_a_check_that_did_not_screen(tmp_path):
    import json

    import yaml

    from .conftest import TEXTBOOK

    scenario = tmp_path / "textbook.yaml"
    scenario.write_text(yaml.safe_dump(TEXTBOOK))  # declares no uncertainties: no check, no screening
    stale = tmp_path / "results" / SCREENING_FOLDER / "screened.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"screened": [{"path": "market.acquisition_rate", "added": True}]}))
    assert run_robustness(scenario, tmp_path / "results" / "robustness", strategies=["retain_all"]) is None
    assert not stale.exists() and read_screening(stale.parent) is None
