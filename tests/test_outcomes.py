"""Outcomes are declared once: the results table, the summary, the CLI and the documentation follow."""

from __future__ import annotations

import pandas as pd
import pytest

from reports.cli import available_columns, main
from simulation.experiment import PopulationSource, simulate
from simulation.outcomes import OUTCOMES, Outcome
from simulation.scenario import load_scenario
from simulation.summary import strategy_summary

from .conftest import BUNDLED_SCENARIO

SMALL = ["population.customers=500", "market.size=10000", "horizon_quarters=2"]


@pytest.fixture
def loss_makers_outcome():
    """A new outcome, added the way a developer would: one declaration."""
    declared = Outcome("loss_makers", "level", "customers", "customers on the books who lose us money",
                       lambda end: int(((end.customers.last_profit < 0) & end.active).sum()))
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

