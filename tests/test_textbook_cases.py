"""With every mechanism off, the simulation must reproduce the textbook results.

Constant monthly retention r and margin m: the expected discounted value per starting customer
is Σ_{t=1..T} m·r^t/(1+i)^t (Gupta & Lehmann), and the expected surviving share is r^t. With
heterogeneous churn, survival follows the shifted-beta-geometric curve (Fader & Hardie).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation.experiment import PopulationSource, simulate
from simulation.mechanisms import sbg_survival
from simulation.scenario import scenario_from_dict
from simulation.valuation import lifetime_values

from .conftest import merge


def run_textbook(settings: dict, replications: int, seed: int = 11):
    scenario = scenario_from_dict(settings)
    population = PopulationSource().load(scenario, seed)
    tables = simulate(scenario, population, dict(scenario.strategies), replications, seed, workers=1)
    return scenario, tables["quarters"]


def test_discounted_value_per_customer_matches_closed_form_within_one_percent(textbook):
    scenario, quarters = run_textbook(textbook, replications=200)
    margin = scenario.population.revenue_median
    retention = 1.0 - scenario.churn.mean_monthly_churn
    i = scenario.economics.monthly_discount_rate
    t = np.arange(1, scenario.horizon_months + 1)
    closed_form = float(np.sum(margin * retention**t / (1.0 + i) ** t))
    final = quarters[quarters["quarter"] == scenario.horizon_quarters]
    simulated = final["npv"].mean() / scenario.population.customers
    assert simulated == pytest.approx(closed_form, rel=0.01)


def test_survival_matches_constant_retention_power(textbook):
    scenario, quarters = run_textbook(textbook, replications=200)
    retention = 1.0 - scenario.churn.mean_monthly_churn
    by_quarter = quarters.groupby("quarter")["active_customers"].mean() / scenario.population.customers
    expected = retention ** (3 * by_quarter.index.to_numpy())
    np.testing.assert_allclose(by_quarter.to_numpy(), expected, rtol=0.01)


def test_heterogeneous_churn_follows_the_shifted_beta_geometric_curve(textbook):
    settings = merge(textbook, {"churn": {"heterogeneous": True, "beta_alpha": 0.8, "beta_beta": 12.0}})
    scenario, quarters = run_textbook(settings, replications=60)
    by_quarter = quarters.groupby("quarter")["active_customers"].mean() / scenario.population.customers
    curve = sbg_survival(0.8, 12.0, scenario.horizon_months)
    expected = curve[3 * by_quarter.index.to_numpy()]
    np.testing.assert_allclose(by_quarter.to_numpy(), expected, rtol=0.03)
    # The curve flattens as the loyal remain: quarterly retention rises over time.
    retention = by_quarter.to_numpy()[1:] / by_quarter.to_numpy()[:-1]
    assert retention[-1] > retention[0]


def test_lifetime_value_tends_to_the_gupta_lehmann_limit():
    margin, retention, i = 10.0, 0.98, 0.008
    plain, with_option = lifetime_values(
        np.array([margin]), np.array([0.0]), np.array([0.0]), np.array([retention]), i, lifetime_months=5000
    )
    assert plain[0] == pytest.approx(margin * retention / (1 + i - retention), rel=1e-9)
    assert with_option[0] == pytest.approx(plain[0])


def test_textbook_run_has_no_acquisitions_word_of_mouth_or_queue(textbook):
    _, quarters = run_textbook(textbook, replications=3)
    assert quarters["acquired"].sum() == 0
    assert quarters["wom_reach"].sum() == 0
    assert quarters["wait_minutes"].max() == 0.0
    assert (quarters["cost"] == 0).all()
