"""The bundled retail-bank population is calibrated to the seeds' findings."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.runs.experiment import PopulationSource
from simulation.scenario.spec import load_scenario

from .conftest import BUNDLED_SCENARIO
from .oracles import assign_segments, cost_to_serve, monthly_profit, net_top_profit_share


@pytest.fixture(scope="module")
def bank():
    scenario = load_scenario(BUNDLED_SCENARIO)
    return scenario, PopulationSource().load(scenario, seed=20261001)


def test_top_decile_earns_about_95_percent_of_profit(bank):
    scenario, population = bank
    share = net_top_profit_share(monthly_profit(population, scenario), 0.10)
    assert share == pytest.approx(0.95, abs=0.03)


def test_a_real_share_of_customers_lose_money(bank):
    scenario, population = bank
    loss_share = float((monthly_profit(population, scenario) < 0).mean())
    assert 0.25 <= loss_share <= 0.60


def test_heavy_callers_are_less_profitable_than_quiet_customers_of_equal_revenue(bank):
    scenario, population = bank
    profit = monthly_profit(population, scenario)
    middle = (population.revenue > 30) & (population.revenue < 50)
    heavy = middle & (population.contacts > 3)
    quiet = middle & (population.contacts < 0.2)
    assert heavy.sum() > 20 and quiet.sum() > 20
    assert profit[heavy].mean() < 0 < profit[quiet].mean()


def test_cost_to_serve_adds_goods_account_management_contacts_and_late_payment(bank):
    scenario, population = bank
    row = int(np.argmax(population.days_late))
    per_contact = scenario.channels[population.channel_names[population.channel[row]]].cost_per_contact
    expected = (
        population.cost_of_goods[row]
        + population.account_management[row]
        + population.contacts[row] * per_contact
        + population.revenue[row] * scenario.economics.cost_of_capital * population.days_late[row] / 365
    )
    assert cost_to_serve(population, scenario)[row] == pytest.approx(expected)


def test_eight_segments_are_ranked_by_profit(bank):
    scenario, population = bank
    profit = monthly_profit(population, scenario)
    segment = assign_segments(profit)
    means = [profit[segment == s].mean() for s in range(1, 9)]
    assert means == sorted(means, reverse=True)
    assert (segment == 1).mean() == pytest.approx(0.01, abs=0.002)
    assert (segment <= 3).mean() == pytest.approx(0.10, abs=0.002)


def test_medium_spenders_refer_most(bank):
    _, population = bank
    rank = np.argsort(np.argsort(population.revenue)) / len(population)
    middle = population.referrals_per_year[(rank > 0.35) & (rank < 0.65)].mean()
    top = population.referrals_per_year[rank > 0.95].mean()
    assert middle > 1.5 * top


def test_the_engine_starts_from_the_textbook_cost_to_serve_and_value_segments(bank):
    """The engine's cached columns give each customer's month-0 profit (late payment included) and
    segment as the plain formulas do, for the bundled population."""
    from simulation.model.engine import CustomerModel

    scenario, population = bank
    model = CustomerModel(scenario, population, "retain_all", scenario.strategies["retain_all"], 1, 0)
    profit = monthly_profit(population, scenario)
    assert (population.days_late > 0).sum() > 1000
    np.testing.assert_allclose(model.customers.last_profit, profit, rtol=1e-12, atol=1e-9)
    agree = model.customers.segment == assign_segments(profit)
    assert agree.mean() >= 0.9995  # rank shares and interpolated cut points may differ only at a boundary
