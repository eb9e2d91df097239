"""One road from data to a run: simulate, a one-point sweep and the robustness base point model the same book.

Each source — the synthetic population, a ledger, a dated ledger and a transaction log — goes through
``simulate`` (``run_experiment``), a sweep file whose one point is the scenario itself, and the base
point of the board report's robustness sweep; all three must give the same numbers. Before, sweeps and
the robustness section skipped calibration and scaling: the retailer's robustness section modelled
2,000 customers in a market of 1,000,000 while its decision page modelled 1,568 in one of 78,400.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from simulation.analysis.robustness import robustness_spec
from simulation.data.sources import PopulationSource
from simulation.runs.experiment import run_experiment
from simulation.runs.sweeps.designs import ROLE_BASE
from simulation.runs.sweeps.plan import load_plan, plan_from_scenario
from simulation.runs.sweeps.tasks import run_point
from simulation.scenario.spec import load_scenario

from .conftest import PROJECT_ROOT

RETAILER = PROJECT_ROOT / "scenarios" / "retailer.yaml"
EXAMPLES = PROJECT_ROOT / "examples"
OVERRIDES = ["horizon_quarters=2", "population.customers=1500"]
STRATEGIES = ["retain_all", "ladder"]
SEED, REPLICATIONS = 5, 2
COMPARED = ["strategy", "replication", "quarter", "npv", "revenue", "todays_customers", "active_customers",
            "market_share", "customer_equity", "purchases"]
SOURCES = {"synthetic": (None, None), "ledger": (EXAMPLES / "ledger.csv", None),
           "dated ledger": (EXAMPLES / "subscriptions.csv", None), "transaction log": (None, EXAMPLES / "transactions.csv")}


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[COMPARED].sort_values(["strategy", "replication", "quarter"]).reset_index(drop=True)


@pytest.mark.parametrize("source", list(SOURCES))
def test_simulate_a_one_point_sweep_and_the_robustness_base_point_give_the_same_numbers(source, tmp_path):
    customers, transactions = SOURCES[source]
    results = run_experiment(RETAILER, tmp_path / "run", strategies=STRATEGIES, replications=REPLICATIONS, seed=SEED,
                             customers=customers, transactions=transactions, overrides=OVERRIDES)
    simulated = _table(pd.read_parquet(results.folder / "results.parquet"))

    scenario = load_scenario(RETAILER, OVERRIDES)
    population = PopulationSource.from_paths(customers, transactions)
    spec = robustness_spec(scenario.uncertainties, RETAILER, STRATEGIES, 2, REPLICATIONS, SEED, scenario.name)
    plan = plan_from_scenario(spec, RETAILER, population, OVERRIDES)
    base_id = plan.row_ids[next(index for index, row in enumerate(plan.rows) if row.role == ROLE_BASE)]
    base = next(point for point in plan.points if point.point_id == base_id)
    robustness = _table(run_point(base.scenario, plan.strategies, SEED, REPLICATIONS, plan.population, base.explicit))
    pd.testing.assert_frame_equal(robustness, simulated)

    sweep = {"name": "One point", "scenario": str(RETAILER), "strategies": STRATEGIES, "replications": REPLICATIONS,
             "seed": SEED, "set": {"horizon_quarters": 2, "population.customers": 1500},
             "design": {"method": "list"},
             "parameters": {"word_of_mouth.first_hand": {"values": [scenario.word_of_mouth.first_hand]}}}
    if customers:
        sweep["customers"] = str(customers)
    if transactions:
        sweep["transactions"] = str(transactions)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    one = load_plan(path)
    (point,) = one.points
    swept = _table(run_point(point.scenario, one.strategies, SEED, REPLICATIONS, one.population, point.explicit))
    pd.testing.assert_frame_equal(swept, simulated)
    if source != "synthetic":  # the book is the data's, scaled: not the scenario's 1,500 customers in its market
        provenance = results.provenance["starting_book"]
        assert results.scenario.market.size != scenario.market.size
        assert provenance["customers_in_data"] != 1500


def test_a_swept_path_the_data_also_set_keeps_the_swept_value_at_every_point_the_base_included(tmp_path):
    from simulation.data.sources import start_run
    from simulation.scenario.spec import scenario_from_dict

    scenario = load_scenario(RETAILER, OVERRIDES)
    base = scenario.market.acquisition_rate
    sweep = {"name": "Acquisition", "scenario": str(RETAILER), "strategies": ["retain_all"], "replications": 1,
             "seed": SEED, "set": {"horizon_quarters": 2}, "design": {"method": "list"},
             "transactions": str(EXAMPLES / "transactions.csv"),
             "parameters": {"market.acquisition_rate": {"values": [0.9 * base, base, 1.1 * base]}}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    plan = load_plan(path)
    rates = [start_run(scenario_from_dict(point.scenario), plan.population, SEED, point.explicit).scenario
             .market.acquisition_rate for point in plan.points]
    assert rates == pytest.approx([0.9 * base, base, 1.1 * base])  # not the log's fitted rate at the base value


def test_the_robustness_sweep_leaves_out_uncertainties_on_values_the_data_set(tmp_path):
    from simulation.data.sources import calibrated_paths

    log = PopulationSource.from_paths(None, EXAMPLES / "transactions.csv")
    assert "market.acquisition_rate" in calibrated_paths(log)
    assert calibrated_paths(log, ["market.acquisition_rate"]) == [p for p in calibrated_paths(log)
                                                                 if p != "market.acquisition_rate"]
    assert calibrated_paths(PopulationSource.from_paths(EXAMPLES / "ledger.csv", None)) == ["market.size"]
    dated = calibrated_paths(PopulationSource.from_paths(EXAMPLES / "subscriptions.csv", None))
    assert dated[0] == "market.size" and "churn.beta_alpha" in dated and "market.acquisition_rate" not in dated
    raw = yaml.safe_load(RETAILER.read_text())
    raw["uncertainties"]["market.acquisition_rate"] = {"low": 0.0001, "high": 0.01, "source": "a guess"}
    scenario_path = tmp_path / "retailer.yaml"
    scenario_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    results = run_experiment(scenario_path, tmp_path / "run", strategies=STRATEGIES, replications=1, seed=SEED,
                             transactions=EXAMPLES / "transactions.csv", overrides=OVERRIDES)
    assert "market.acquisition_rate" not in results.scenario.uncertainties  # the fit's uncertainty now
    assert "word_of_mouth.first_hand" in results.scenario.uncertainties


def test_a_set_equal_to_the_files_value_is_still_the_analysts_and_not_reused_as_the_datas(tmp_path):
    from simulation.runs.experiment import run_or_reuse

    options = {"strategies": ["retain_all"], "replications": 1, "seed": SEED,
               "transactions": EXAMPLES / "transactions.csv"}
    size = load_scenario(RETAILER).market.size
    first = run_or_reuse(RETAILER, tmp_path / "run", overrides=OVERRIDES, **options)
    again = run_or_reuse(RETAILER, tmp_path / "run", overrides=[*OVERRIDES, f"market.size={size}"], **options)
    assert not first.reused and not again.reused and "set paths" in again.reason
    assert json.loads((tmp_path / "run" / "scenario.json").read_text())["market"]["size"] == size


def test_a_market_smaller_than_every_customer_the_log_ever_had_but_above_its_book_is_accepted(tmp_path):
    from simulation.data.sources import start_run

    scenario = load_scenario(RETAILER, ["market.size=1800"])  # the log lists 2,000; the data support about 1,550
    start = start_run(scenario, PopulationSource.from_paths(None, EXAMPLES / "transactions.csv"), SEED, ["market.size"])
    assert start.scenario.market.size == 1800 and start.starting_book["expected_active"] < 1800
