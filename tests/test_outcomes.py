"""Outcomes are declared once: the results table, the summary, the CLI and the documentation follow."""

from __future__ import annotations

import pandas as pd
import pytest

from reports.commands.cli import available_columns, main
from reports.decision import trade_off_measures, trade_offs
from simulation.analysis.summary import strategy_summary
from simulation.model.outcomes import OUTCOMES, Board, Outcome, board_outcomes, sweep_outcomes
from simulation.runs.experiment import PopulationSource, simulate
from simulation.scenario.spec import load_scenario

from .conftest import BUNDLED_SCENARIO

SMALL = ["population.customers=500", "market.size=10000", "horizon_quarters=2"]


@pytest.fixture
def loss_makers_outcome():
    """A new outcome, added the way a developer would: one declaration."""
    declared = Outcome("loss_makers", "level", "customers", "customers on the books who lose us money",
                       lambda end: int(((end.customers.last_profit < 0) & end.active).sum()), better="lower",
                       board=Board(17, "Customers who lose us money"))
    OUTCOMES.append(declared)
    yield declared
    OUTCOMES.remove(declared)


def test_one_declaration_adds_an_outcome_to_the_record_the_summary_and_the_cli(loss_makers_outcome, tmp_path, capsys):
    scenario = load_scenario(BUNDLED_SCENARIO, SMALL)
    population = PopulationSource().load(scenario, 3)
    quarters = simulate(scenario, population, {"retain_all": scenario.strategies["retain_all"]}, 2, 3, workers=1)["quarters"]
    assert (quarters["loss_makers"] > 50).all() and (quarters["loss_makers"] < quarters["active_customers"]).all()
    summary = strategy_summary(quarters).set_index("strategy")
    final = quarters[quarters["quarter"] == 2]["loss_makers"]
    assert summary.loc["retain_all", "loss_makers_end"] == pytest.approx(final.mean())
    assert "loss_makers" in available_columns()
    assert main(["outcomes"]) == 0
    assert "customers on the books who lose us money" in capsys.readouterr().out
    code = main(["simulate", str(BUNDLED_SCENARIO), *[a for s in SMALL for a in ("--set", s)], "--strategies", "retain_all",
                 "--replications", "2", "--workers", "1", "--seed", "3", "--quiet", "--show", "loss_makers,npv",
                 "--out", str(tmp_path / "run")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "loss_makers (end)" in printed and "npv (mean)" in printed
    assert f"{final.mean():,.0f}" in printed


def test_show_refuses_an_unknown_outcome_and_lists_the_known_ones(tmp_path, capsys):
    code = main(["simulate", str(BUNDLED_SCENARIO), *[a for s in SMALL for a in ("--set", s)], "--show", "npvv",
                 "--replications", "1", "--workers", "1", "--quiet", "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown outcome 'npvv'" in err and "customer_equity" in err
    assert not (tmp_path / "run").exists()  # refused before anything ran or was written


def test_results_columns_are_the_keys_then_the_declared_outcomes_in_order():
    scenario = load_scenario(BUNDLED_SCENARIO, SMALL)
    population = PopulationSource().load(scenario, 3)
    quarters = simulate(scenario, population, {"retain_all": scenario.strategies["retain_all"]}, 1, 3, workers=1)["quarters"]
    assert list(quarters.columns) == ["strategy", "replication", "quarter", "quarter_label", "period_end",
                                      *(o.name for o in OUTCOMES)]
    assert not quarters.drop(columns=["top1_profit_at_risk"]).isna().any().any()
    assert isinstance(quarters, pd.DataFrame)



def test_the_same_declaration_puts_the_outcome_in_the_boards_trade_offs(loss_makers_outcome):
    scenario = load_scenario(BUNDLED_SCENARIO, SMALL)
    population = PopulationSource().load(scenario, 3)
    strategies = {name: scenario.strategies[name] for name in ("retain_all", "divest_abrupt")}
    quarters = simulate(scenario, population, strategies, 2, 3, workers=1)["quarters"]
    assert [m.name for m in trade_off_measures()][-1] == "loss_makers"  # row 17: after the sixteen the board has
    table = trade_offs(quarters, list(strategies), "retain_all")
    row = table["divest_abrupt"]["loss_makers"]
    at_end = quarters[quarters["quarter"] == 2].groupby("strategy")["loss_makers"].mean()
    assert row.mean == pytest.approx(at_end["divest_abrupt"])  # a level: read at the horizon, not summed
    assert row.versus_baseline.mean == pytest.approx(at_end["divest_abrupt"] - at_end["retain_all"])
    assert row.versus_baseline.mean < 0  # letting loss-makers go leaves fewer of them


def test_every_shown_outcome_is_declared_with_a_unit_of_the_one_vocabulary_and_a_place_of_its_own():
    shown = board_outcomes()
    assert [o.board.row for o in shown] == list(range(1, len(shown) + 1))  # no two rows claim one place
    analysed = sweep_outcomes()
    assert [o.sweep.order for o in analysed] == list(range(1, len(analysed) + 1))
    flows = {o.name for o in shown if o.over_horizon == "total"}
    assert {"revenue", "wom_reach", "wom_lost_value", "action_cost"} <= flows and "satisfaction" not in flows
