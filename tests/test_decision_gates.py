"""No recommendation on nonsense inputs, no option that reached no one offered as a choice, and
materiality with an absolute floor — read on the decision page as a board member reads it."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from reports.decision import decide, gates
from reports.document import Report
from simulation.runs.experiment import run_experiment

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT

LOG = PROJECT_ROOT / "examples" / "transactions.csv"
RETAILER = PROJECT_ROOT / "scenarios" / "retailer.yaml"


def _page(results) -> str:
    report = Report.open(results, kind="board", quarter="2026Q4", output_dir=results.parent)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(report.decision_section())))


def _quarters(npv: dict[str, list[float]], treated: dict[str, float] | None = None) -> pd.DataFrame:
    rows = [{"strategy": name, "replication": r, "quarter": 1, "npv": value,
             "treated": (treated or {}).get(name, 1.0)}
            for name, values in npv.items() for r, value in enumerate(values)]
    return pd.DataFrame(rows)


# ---- the rules, on numbers

def test_an_absolute_floor_makes_a_small_lead_a_choice():
    quarters = _quarters({"a": [1000.0 + 0.1 * r for r in range(10)], "b": [500.0 + 0.1 * r for r in range(10)]})
    assert decide(quarters, materiality=0.01).recommended == "a"  # 500 ahead in every future: 50 % of value
    floored = decide(quarters, materiality=0.01, materiality_amount=600.0)
    assert floored.leaders == ["a", "b"] and floored.why_tied == {"b": "materiality"}


def test_no_share_of_a_negative_value_is_given():
    quarters = _quarters({"a": [-100.0 + 0.1 * r for r in range(10)], "b": [-300.0 + 0.1 * r for r in range(10)]})
    decision = decide(quarters, materiality=0.01)
    assert decision.recommended == "a" and decision.margin_share is None


def test_an_option_that_reached_no_one_is_never_a_leader():
    npv = {"keep": [100.0 + 0.01 * r for r in range(10)], "idle": [100.0 + 0.01 * r for r in range(10)],
           "act": [90.0 + 0.01 * r for r in range(10)]}
    quarters = _quarters(npv, treated={"keep": 0.0, "idle": 0.0, "act": 50.0})
    tied = decide(quarters, materiality=0.0)
    assert set(tied.leaders) == {"keep", "idle"}  # bit-identical: a choice, without knowing one does nothing
    decision = decide(quarters, materiality=0.0, inert={"idle"})
    assert decision.recommended == "keep" and decision.ranking == ["keep", "act", "idle"]
    assert decision.inert == frozenset({"idle"})


@pytest.mark.parametrize("inputs, kinds", [
    ({"loss_making_share": 0.997}, ["loss_making"]),
    ({"npv_means": pd.Series([-5.0, -1.0])}, ["all_losing"]),
    ({"supported_share": 0.3}, ["support"]),
    ({"leader_range": (-10.0, 50.0)}, ["both_signs"]),
    ({"backtest": {"kind": "log", "coverage": {"repeat_purchases": 0.5},
                   "totals": {"repeat_purchases": {"relative_error": 0.02}}}}, ["backtest"]),
    ({}, []),
], ids=["loss-making book", "every option losing", "little support", "both signs", "backtest missed", "sound"])
def test_each_gate_withholds_the_recommendation_alone(inputs, kinds):
    sound = {"loss_making_share": 0.2, "npv_means": pd.Series([10.0, 5.0]), "leader_range": (2.0, 20.0),
             "supported_share": 0.9, "backtest": {"kind": "log", "coverage": {"repeat_purchases": 0.9},
                                                  "totals": {"repeat_purchases": {"relative_error": 0.02}}}}
    assert [gate.kind for gate in gates(**{**sound, **inputs})] == kinds


# ---- the decision page

@pytest.fixture(scope="module")
def bank_on_the_retailers_log(tmp_path_factory):
    """The README's warning case: the bank's costs on a retailer's log, 99 % of the book losing money."""
    out = tmp_path_factory.mktemp("mismatch") / "results"
    run_experiment(BUNDLED_SCENARIO, out, transactions=LOG, replications=3, workers=1,
                   strategies=["retain_all", "divest_abrupt", "migrate"], overrides=["horizon_quarters=4"])
    return out


def test_nonsense_inputs_get_no_recommendation_and_the_reason_first(bank_on_the_retailers_log):
    page = _page(bank_on_the_retailers_log)
    assert "No recommendation" in page and "RECOMMENDED" not in page.upper().replace("NO RECOMMENDATION", "")
    reason = page.index("of today's customers lose money at the scenario's cost assumptions")
    assert reason < page.index("The options, by expected value")
    assert "of its value" not in page  # no share of a value near or below zero


@pytest.fixture(scope="module")
def retailer(tmp_path_factory):
    out = tmp_path_factory.mktemp("retailer") / "results"
    run_experiment(RETAILER, out, transactions=LOG, replications=3, workers=1,
                   strategies=["retain_all", "reprice", "migrate"], overrides=["horizon_quarters=4"])
    return out


def test_an_option_that_reached_no_one_is_marked_and_the_run_says_which_step_missed(retailer):
    from simulation.runs.results import load_results

    results = load_results(retailer)
    warnings = results.provenance["unreached"]
    assert len(warnings) == 1 and "strategy 'reprice' reached no customer in any of 3 simulated futures" in warnings[0]
    assert "step 1 (renegotiate): at least 0.1 contacts a month (the most today is" in warnings[0]
    page = _page(retailer)
    assert "Charge for service reached no customer in any of the 3 simulated futures" in page
    assert "reached no one" in page
    report = Report.open(retailer, kind="board", quarter="2026Q4", output_dir=retailer.parent)
    assert "reprice" not in report.decision.leaders and report.decision.ranking[-1] == "reprice"
    # a lead of a few hundred euros over the horizon, under the retailer's EUR 5,000 floor: a choice, not a winner
    assert report.decision.recommended is None and report.decision.margin.mean < report.scenario.report.materiality_amount


def test_the_trade_offs_cost_word_of_mouth_in_money_and_name_survivorship(tmp_path):
    from reports.decision import trade_offs, with_derived_outcomes

    out = tmp_path / "results"
    run_experiment(BUNDLED_SCENARIO, out, replications=3, workers=1, strategies=["retain_all", "divest_abrupt"],
                   overrides=["population.customers=600", "market.size=12000", "horizon_quarters=4"])
    report = Report.open(out, kind="board", quarter="2026Q4", output_dir=tmp_path)
    quarters = with_derived_outcomes(report.results.quarters)
    per_customer = quarters["customer_equity"] / quarters["active_customers"]
    expected = (quarters["lost_acquisitions"] * per_customer).groupby(quarters["strategy"]).sum() / 3
    table = trade_offs(quarters, ["retain_all", "divest_abrupt"], "retain_all")
    for strategy in ("retain_all", "divest_abrupt"):  # mean over replications of the horizon's total
        assert abs(table[strategy]["wom_lost_value"].mean - expected[strategy]) <= 1e-9 * max(1.0, expected[strategy])
    assert expected["divest_abrupt"] > expected["retain_all"]  # abrupt exits make stories that cost customers
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(report.trade_offs_section())))
    assert "Revenue over the horizon" in page and "What bad stories cost" in page
    assert table["divest_abrupt"]["satisfaction"].versus_baseline.mean > 0  # higher, with 300 customers let go
    assert "is higher under Push out with poor service and prices: the average is taken over the customers who " \
           "stay, and this option lets customers go; part of the rise is who is counted" in page


def test_each_kind_of_action_declares_a_sourced_risk_note_and_the_decision_page_names_the_leaders_highest():
    from simulation.scenario.actions import ACTIONS

    for name, declaration in ACTIONS.items():  # every action a scenario can name has its note, with a year
        step = declaration.step.model_validate({"action": name, **({"to_channel": "online"} if name == "migrate_channel"
                                                                   else {})})
        note = step.risk()
        assert note.text and re.search(r"(19|20)\d\d", note.sources), name
    for style, words in (("abrupt", "the conduct regulators and the press single out"), ("graceful", "in person")):
        note = ACTIONS["terminate"].step.model_validate({"action": "terminate", "style": style}).risk()
        assert words in note.text and note.level == 2


def test_the_risk_page_gives_expected_cumulative_profit_beside_its_5th_percentile(tmp_path):
    out = tmp_path / "results"
    run_experiment(BUNDLED_SCENARIO, out, replications=3, workers=1, strategies=["retain_all", "divest_abrupt"],
                   overrides=["population.customers=600", "market.size=12000", "horizon_quarters=4"])
    report = Report.open(out, kind="board", quarter="2026Q4", output_dir=tmp_path)
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(report.risk_section())).replace("\u00a0", " "))
    assert "Expected cumulative profit 5th-percentile cumulative profit" in page
    for strategy in ("retain_all", "divest_abrupt"):
        row = report.summary.set_index("strategy").loc[strategy]
        expected, p5 = report.money(row["cumulative_profit_mean"]), report.money(row["cumulative_profit_p5"])
        assert re.sub(r"\s+", " ", f"{report.label(strategy)} {expected} {p5}") in page
