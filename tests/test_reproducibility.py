"""Same scenario and seed give the same numbers, whatever the number of workers."""

from __future__ import annotations

import pandas as pd

from simulation.runs.experiment import PopulationSource, simulate
from simulation.scenario.spec import load_scenario

from .conftest import BUNDLED_SCENARIO

SMALL = ["population.customers=800", "market.size=16000", "horizon_quarters=4"]


def run(workers: int, seed: int = 5):
    scenario = load_scenario(BUNDLED_SCENARIO, SMALL)
    population = PopulationSource().load(scenario, seed)
    return simulate(scenario, population, dict(scenario.strategies), 4, seed, workers=workers)


def test_one_and_two_workers_give_bit_identical_tables():
    single, pooled = run(1), run(2)
    for kind in ("quarters", "segments", "start_segments", "lorenz"):
        pd.testing.assert_frame_equal(single[kind], pooled[kind], check_exact=True)


def test_a_different_seed_gives_different_numbers():
    assert not run(1, seed=5)["quarters"]["profit"].equals(run(1, seed=6)["quarters"]["profit"])


def test_table_is_tidy_one_row_per_strategy_replication_quarter():
    quarters = run(1)["quarters"]
    assert not quarters.duplicated(["strategy", "replication", "quarter"]).any()
    assert len(quarters) == 7 * 4 * 4
    assert list(quarters["quarter_label"].unique()) == ["2026Q4", "2027Q1", "2027Q2", "2027Q3"]
