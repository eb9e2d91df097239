"""Behaviour a strategy analyst would check, each with its tolerance stated in the assertion."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.book.state import ACTIVE, DIVESTED
from simulation.model.engine import CustomerModel
from simulation.runs.experiment import PopulationSource, simulate
from simulation.scenario.spec import scenario_from_dict

from .conftest import merge

# A lively but small market: the bundled mechanisms, 3,000 customers, 2 years.
LIVELY = {
    "name": "strategy tests",
    "horizon_quarters": 8,
    "population": {"customers": 3000},
    "market": {"size": 60000},
    "capacity": {"agents": 4},
}
DIVEST_GRACEFUL = {"steps": [{"action": "terminate", "target": {"max_monthly_profit": 0}, "style": "graceful"}]}
DIVEST_ABRUPT = {"steps": [{"action": "terminate", "target": {"max_monthly_profit": 0}, "style": "abrupt"}]}
DIVEST_ABRUPT_SLOW_SERVICE = {"steps": [{"action": "terminate", "target": {"max_monthly_profit": 0}, "style": "abrupt",
                                         "abrupt_satisfaction_loss": 0.3, "abrupt_price_increase": 0.10}]}


def run(settings: dict, strategies: dict, replications: int = 6, seed: int = 3):
    scenario = scenario_from_dict(merge(settings, {"strategies": strategies}))
    population = PopulationSource().load(scenario, seed)
    quarters = simulate(scenario, population, dict(scenario.strategies), replications, seed, workers=1)["quarters"]
    return scenario, quarters


def at_horizon(quarters, strategy: str, column: str) -> np.ndarray:
    final = quarters[(quarters["strategy"] == strategy) & (quarters["quarter"] == quarters["quarter"].max())]
    return final.sort_values("replication")[column].to_numpy()


def total(quarters, strategy: str, column: str) -> float:
    return float(quarters[quarters["strategy"] == strategy][column].sum())


def test_without_word_of_mouth_graceful_and_abrupt_divestment_leave_the_same_market_share():
    settings = merge(LIVELY, {"word_of_mouth": {"enabled": False}})
    _, quarters = run(settings, {"graceful": DIVEST_GRACEFUL, "abrupt": DIVEST_ABRUPT,
                                 "abrupt_slow_service": DIVEST_ABRUPT_SLOW_SERVICE})
    graceful = at_horizon(quarters, "graceful", "market_share").mean()
    assert at_horizon(quarters, "abrupt", "market_share").mean() == pytest.approx(graceful, rel=0.005)
    # Slow service and crummy pricing push customers out before their contracts end: the same
    # customers go, a little sooner, so the share at the horizon differs only by those timings.
    assert at_horizon(quarters, "abrupt_slow_service", "market_share").mean() == pytest.approx(graceful, rel=0.02)


def test_with_word_of_mouth_abrupt_divestment_loses_more_share_and_acquisitions_than_graceful():
    _, quarters = run(LIVELY, {"graceful": DIVEST_GRACEFUL, "abrupt": DIVEST_ABRUPT_SLOW_SERVICE})
    assert at_horizon(quarters, "abrupt", "market_share").mean() < 0.8 * at_horizon(quarters, "graceful", "market_share").mean()
    assert total(quarters, "abrupt", "acquired") < 0.5 * total(quarters, "graceful", "acquired")
    assert total(quarters, "abrupt", "lost_acquisitions") > 3 * total(quarters, "graceful", "lost_acquisitions")


def test_reach_per_abrupt_exit_averages_first_hand_times_second_hand():
    # Exits paid off at once, so every wave lands inside the horizon; no one leaves on their own.
    settings = merge(LIVELY, {"horizon_quarters": 4, "churn": {"enabled": False}})
    strategy = {"steps": [{"action": "terminate", "target": {"max_monthly_profit": 0}, "style": "abrupt",
                           "pay_exit_cost": True}]}
    _, quarters = run(settings, {"abrupt": strategy}, replications=3)
    reach_per_exit = total(quarters, "abrupt", "wom_reach") / total(quarters, "abrupt", "divested")
    assert reach_per_exit == pytest.approx(9 * 4, rel=0.02)


def test_divesting_loss_makers_raises_short_term_profit_and_concentrates_profit_on_fewer_customers():
    _, quarters = run(LIVELY, {"retain_all": {}, "divest": DIVEST_GRACEFUL})
    first_year = quarters[quarters["quarter"] == 4]
    profit = first_year.groupby("strategy")["cumulative_profit"].mean()
    assert profit["divest"] > 1.03 * profit["retain_all"]
    # A smaller base: fewer customers carry the profit (titus 2014: a smaller spread), so the
    # effective number of profit-making customers (1 / HHI) falls and the HHI rises.
    assert at_horizon(quarters, "divest", "active_customers").mean() < 0.8 * at_horizon(
        quarters, "retain_all", "active_customers").mean()
    assert at_horizon(quarters, "divest", "effective_customers").mean() < 0.95 * at_horizon(
        quarters, "retain_all", "effective_customers").mean()
    assert at_horizon(quarters, "divest", "hhi").mean() > 1.05 * at_horizon(quarters, "retain_all", "hhi").mean()


def test_letting_loss_makers_go_leaves_the_concentration_of_profit_where_it_was():
    # Concentration is measured over the profitable customers, so letting loss-makers go does not
    # by itself make the book look less dependent on its top customers (a share of net profit did:
    # it fell from about 95 % as the loss-makers stopped eating into the top decile's earnings).
    # With nothing else treating the remaining customers differently (flat segment multipliers,
    # no distrust, no word of mouth), the measures agree within 1.5 % while the book halves.
    settings = merge(LIVELY, {"word_of_mouth": {"enabled": False}, "distrust": {"enabled": False},
                              "churn": {"segment_multipliers": [1] * 8}})
    _, quarters = run(settings, {"retain_all": {}, "divest": DIVEST_GRACEFUL})
    assert at_horizon(quarters, "divest", "active_customers").mean() < 0.6 * at_horizon(
        quarters, "retain_all", "active_customers").mean()
    for measure in ("top10_positive_profit_share", "gini", "hhi", "effective_customers"):
        retained, divested = at_horizon(quarters, "retain_all", measure).mean(), at_horizon(quarters, "divest", measure).mean()
        assert divested == pytest.approx(retained, rel=0.015), measure
    # As a share of net profit, what the top 1 % put at risk falls: the book earns more besides them.
    assert (at_horizon(quarters, "divest", "top1_profit_at_risk") < at_horizon(quarters, "retain_all", "top1_profit_at_risk")).all()


def test_strong_word_of_mouth_lowers_long_run_market_share_of_a_divestment():
    quiet = merge(LIVELY, {"word_of_mouth": {"enabled": False}, "horizon_quarters": 12})
    loud = merge(LIVELY, {"word_of_mouth": {"first_hand": 20, "second_hand": 6}, "horizon_quarters": 12})
    _, without = run(quiet, {"divest": DIVEST_ABRUPT}, replications=3)
    _, with_wom = run(loud, {"divest": DIVEST_ABRUPT}, replications=3)
    assert at_horizon(with_wom, "divest", "market_share").mean() < 0.9 * at_horizon(without, "divest", "market_share").mean()


# ----------------------------------------------------------------------------- renegotiation
ISOLATED = {
    # Churn on, but nothing that reacts to price, profit or segment: paths are identical across strategies.
    "name": "repricing in isolation",
    "horizon_quarters": 4,
    "population": {"customers": 2000, "late_payment_share": 0.0, "growth_sd": 0.0, "growth_mean": 0.0},
    "churn": {"price_elasticity": 0.0, "satisfaction_sensitivity": 0.0, "trust_sensitivity": 0.0,
              "segment_multipliers": [1, 1, 1, 1, 1, 1, 1, 1]},
    "capacity": {"enabled": False},
    "morale": {"enabled": False},
    "market": {"acquisition_enabled": False},
    "word_of_mouth": {"referrals": False},
}
REPRICE = {"steps": [{"action": "renegotiate", "target": {"max_monthly_profit": 0}, "surcharge": 0.15,
                      "cost_per_customer": 0.0}]}


def models(settings: dict, seed: int = 9, reprice: dict = REPRICE):
    scenario = scenario_from_dict(merge(settings, {"strategies": {"retain_all": {}, "reprice": reprice}}))
    population = PopulationSource().load(scenario, seed)
    built = {name: CustomerModel(scenario, population, name, spec, seed, 0) for name, spec in scenario.strategies.items()}
    for model in built.values():
        model.run()
    return scenario, built


def test_renegotiation_with_zero_elasticity_raises_profit_by_exactly_the_surcharge_revenue():
    scenario, built = models(ISOLATED)
    reprice = built["reprice"]
    v = reprice.customers
    targeted = v.ladder_stage == 1
    months_on_books = np.where(v.status == ACTIVE, scenario.horizon_months, v.exit_month)
    surcharge_revenue = 0.15 * float((v.revenue[targeted] * months_on_books[targeted]).sum())
    gained = reprice.cumulative_profit - built["retain_all"].cumulative_profit
    assert targeted.sum() > 100
    assert gained == pytest.approx(surcharge_revenue, rel=1e-9)


def test_renegotiation_with_high_elasticity_loses_the_targeted_customers():
    # The steepest price response the schema allows (elasticity 20) to a 50 % surcharge: hazard × 1.5^20, capped at 1.
    steep = {"steps": [{**REPRICE["steps"][0], "surcharge": 0.5}]}
    scenario, built = models(merge(ISOLATED, {"churn": {"price_elasticity": 20.0}}), reprice=steep)
    v = built["reprice"].customers
    targeted = v.ladder_stage == 1
    kept = (v.status[targeted] == ACTIVE).mean()
    baseline_kept = (built["retain_all"].customers.status[targeted] == ACTIVE).mean()
    assert kept < 0.05 < 0.8 < baseline_kept


# ----------------------------------------------------------------------------- terminations
def terminated(style_settings: dict):
    settings = merge(LIVELY, {"horizon_quarters": 6})
    strategy = {"steps": [{"action": "terminate", "target": {"max_monthly_profit": 0}, **style_settings}]}
    scenario = scenario_from_dict(merge(settings, {"strategies": {"divest": strategy}}))
    population = PopulationSource().load(scenario, 4)
    model = CustomerModel(scenario, population, "divest", scenario.strategies["divest"], 4, 0)
    model.run()
    return model.customers


def test_terminations_wait_for_contract_end():
    v = terminated({"style": "graceful"})
    divested = v.status == DIVESTED
    assert divested.sum() > 100
    # Told at a review, they go at contract end — unless they walk away sooner, which still counts as divested.
    at_contract_end = v.exit_month[divested] == v.contract_end[divested]
    assert (v.exit_month[divested] <= v.contract_end[divested]).all() and at_contract_end.mean() > 0.6
    assert (v.exit_month[divested] >= v.stage_since[divested]).all()


def test_terminations_take_effect_at_once_only_when_the_exit_cost_is_paid():
    v = terminated({"style": "graceful", "pay_exit_cost": True})
    divested = v.status == DIVESTED
    assert divested.sum() > 100
    assert (v.exit_month[divested] == v.stage_since[divested]).all()
    assert (v.exit_month[divested] < v.contract_end[divested]).mean() > 0.5


# ----------------------------------------------------------------------------- common random numbers
def test_strategy_differences_use_common_random_numbers():
    settings = merge(LIVELY, {"population": {"customers": 1500}, "market": {"size": 30000}, "horizon_quarters": 4})
    ladder = {"steps": [{"action": "educate", "target": {"max_monthly_profit": 0}},
                        {"action": "terminate", "target": {"max_monthly_profit": 0}, "style": "graceful"}]}
    _, quarters = run(settings, {"retain_all": {}, "ladder": ladder}, replications=16)
    a = at_horizon(quarters, "retain_all", "cumulative_profit")
    b = at_horizon(quarters, "ladder", "cumulative_profit")
    assert np.var(b - a, ddof=1) < 0.25 * (np.var(a, ddof=1) + np.var(b, ddof=1))


def test_ladder_steps_wait_for_the_previous_steps_review_period():
    scenario = scenario_from_dict(merge(LIVELY, {"strategies": {"ladder": {"steps": [
        {"action": "educate", "target": {"max_monthly_profit": 0}, "review_months": 6},
        {"action": "migrate_partner", "target": {"max_monthly_profit": 0}},
    ]}}}))
    population = PopulationSource().load(scenario, 2)
    model = CustomerModel(scenario, population, "ladder", scenario.strategies["ladder"], 2, 0)
    model.run()
    quarters = model.output.quarters
    migrated = [q["migrated"] for q in quarters]
    assert migrated[0] == migrated[1] == 0  # partner step not before month 6
    assert migrated[2] > 0
