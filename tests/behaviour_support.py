"""Helpers shared by the behaviour tests of actions, targeting, word of mouth, market and people.

Models are built directly (one strategy, one replication) so a test can look at the customers'
columns before and after a run, and at what happened month by month through the model's public trace.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simulation.book.population import Population
from simulation.model.engine import CustomerModel
from simulation.runs.experiment import PopulationSource
from simulation.scenario.spec import Scenario, scenario_from_dict

from .conftest import merge

# Every mechanism that reacts to profit, price, satisfaction or trust is off: what a strategy does
# to a customer is then the only thing that differs between strategies.
QUIET: dict[str, Any] = {
    "name": "behaviour tests",
    "horizon_quarters": 1,
    "population": {"customers": 2000, "late_payment_share": 0.0, "growth_mean": 0.0, "growth_sd": 0.0},
    "churn": {"enabled": False, "price_elasticity": 0.0, "satisfaction_sensitivity": 0.0, "trust_sensitivity": 0.0,
              "segment_multipliers": [1, 1, 1, 1, 1, 1, 1, 1]},
    "capacity": {"enabled": False},
    "morale": {"enabled": False},
    "distrust": {"enabled": False},
    "market": {"size": 40000, "acquisition_enabled": False},
    "word_of_mouth": {"enabled": False},
}

NO_OP_STEP = {"action": "educate", "contact_reduction": 0.0, "cost_per_customer": 0.0}  # marks who is reached


def scenario_with(settings: dict[str, Any], strategies: dict[str, Any]) -> Scenario:
    return scenario_from_dict(merge(settings, {"strategies": strategies}))


def build(settings: dict[str, Any], strategies: dict[str, Any], seed: int = 5, replication: int = 0,
          population: Population | None = None, trace_columns: tuple[str, ...] = ()) -> dict[str, CustomerModel]:
    """One model per strategy, on the same population and random streams, not yet run."""
    scenario = scenario_with(settings, strategies)
    population = population if population is not None else PopulationSource().load(scenario, seed)
    return {name: CustomerModel(scenario, population, name, spec, seed, replication, trace_columns=trace_columns)
            for name, spec in scenario.strategies.items()}


def run_all(models: dict[str, CustomerModel]) -> dict[str, CustomerModel]:
    for model in models.values():
        model.run()
    return models


def column(model: CustomerModel, name: str) -> np.ndarray:
    """One outcome column of the model's quarter records, quarter 1 first."""
    return np.array([record[name] for record in model.output.quarters])


def within_binomial(successes: int, trials: int, probability: float, z: float = 4.0) -> bool:
    """|successes − n·p| within z binomial standard deviations (z = 4: a false alarm about 1 in 16,000)."""
    return abs(successes - trials * probability) <= z * math.sqrt(trials * probability * (1.0 - probability))


def within_poisson(count: float, expected: float, z: float = 4.0) -> bool:
    """|count − λ| within z Poisson standard deviations."""
    return abs(count - expected) <= z * math.sqrt(expected)


def custom_population(groups: list[dict[str, float]], size: int) -> Population:
    """``size`` identical customers per group; amounts per month, growth and referrals per year."""
    rows = [group for group in groups for _ in range(size)]
    n = len(rows)

    def values(key: str, default: float = 0.0) -> np.ndarray:
        return np.array([row.get(key, default) for row in rows], dtype=float)

    revenue = values("revenue")
    return Population(
        customer_id=np.arange(1, n + 1),
        revenue=revenue,
        cost_of_goods=values("cost_of_goods_share", 0.7) * revenue,
        account_management=values("account_management", 6.0),
        contacts=values("contacts"),
        channel=values("channel").astype(np.int16),
        days_late=np.zeros(n),
        growth=values("growth"),
        referrals_per_year=values("referrals_per_year"),
        contract_end=np.full(n, 12, dtype=np.int32),
        channel_names=("call_centre", "online"),
    )
