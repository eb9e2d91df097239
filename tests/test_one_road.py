"""One road from data to a run: simulate, a one-point sweep and the robustness base point model the same book.

Each source — the synthetic population, a ledger, a dated ledger and a transaction log — goes through
``simulate`` (``run_experiment``), a sweep file whose one point is the scenario itself, and the base
point of the board report's robustness sweep; all three must give the same numbers. Before, sweeps and
the robustness section skipped calibration and scaling: the retailer's robustness section modelled
2,000 customers in a market of 1,000,000 while its decision page modelled 1,568 in one of 78,400.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from simulation.experiment import run_experiment
from simulation.robustness import robustness_spec
from simulation.scenario import load_scenario
from simulation.sources import PopulationSource
from simulation.sweeps.designs import ROLE_BASE
from simulation.sweeps.plan import load_plan, plan_from_scenario
from simulation.sweeps.tasks import run_point

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
