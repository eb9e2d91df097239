"""Remaining customers' distrust after a divestment, staff morale, common random numbers for newcomers,
and the option to abandon as the engine reports it."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.book.state import ACTIVE
from simulation.core.streams import Stream

from .behaviour_support import QUIET, build, column, merge, run_all
from .oracles import monthly_profit

PAID_EXIT = {"action": "terminate", "style": "graceful", "pay_exit_cost": True, "cost_per_customer": 0.0}


# ----------------------------------------------------------------------------- distrust
def test_divestment_raises_the_churn_hazard_of_customers_near_the_threshold_and_it_decays():
    settings = merge(QUIET, {"churn": {"enabled": True},
                             "distrust": {"enabled": True, "strength": 20.0, "decay": 0.3, "near_threshold_profit": 5.0}})
    divest = {"steps": [{**PAID_EXIT, "target": {"segments": [8]}}]}  # the bottom 10 %, at once in month 0
    models = build(settings, {"retain_all": {}, "divest": divest}, trace_columns=("status", "last_profit", "hazard"))
    run_all(models)
    divested = column(models["divest"], "divested")[0]
    share = divested / 2000
    assert 150 < divested < 250
    for month, (kept, divested_state) in enumerate(
            zip(models["retain_all"].trace.snapshots, models["divest"].trace.snapshots, strict=True)):
        kept_hazard, divest_hazard = kept["hazard"], divested_state["hazard"]
        both = (kept["status"] == ACTIVE) & (divested_state["status"] == ACTIVE)
        near = both & (divested_state["last_profit"] < 5.0)
        safe = both & (divested_state["last_profit"] >= 5.0)
        assert near.sum() > 300 and safe.sum() > 300
        uplift = 1.0 + 20.0 * share * 0.7**month  # strength × share divested, 30 % fading a month
        ratio = divest_hazard[near] / kept_hazard[near]
        np.testing.assert_allclose(ratio[divest_hazard[near] < 1.0], uplift, rtol=1e-9)
        np.testing.assert_array_equal(divest_hazard[safe], kept_hazard[safe])  # above the threshold: unaffected


# ----------------------------------------------------------------------------- morale
PEOPLE = merge(QUIET, {"morale": {"enabled": True, "sensitivity": 0.5, "adjustment_rate": 0.3, "quality_effect": 0.3}})


def loss_effort_share(model) -> float:
    """Share of contacts answered by people (call centre) that serve loss-makers, from the population."""
    population, scenario = model.population, model.scenario
    staffed = population.channel == 0
    losing = monthly_profit(population, scenario) < 0
    return float(population.contacts[staffed & losing].sum() / population.contacts[staffed].sum())


def test_more_staffed_effort_on_loss_makers_lowers_morale_and_lower_morale_lowers_satisfaction():
    few = run_all(build(merge(PEOPLE, {"population": {"contacts_mean": 0.5}}), {"retain_all": {}}))["retain_all"]
    many = run_all(build(merge(PEOPLE, {"population": {"contacts_mean": 3.0}}), {"retain_all": {}}))["retain_all"]
    unaffected = run_all(build(merge(PEOPLE, {"morale": {"quality_effect": 0.0}}), {"retain_all": {}}))["retain_all"]
    share_few, share_many = loss_effort_share(few), loss_effort_share(many)
    assert share_many > share_few + 0.1
    for model, share in ((few, share_few), (many, share_many)):
        morale = 1.0 - 0.5 * share  # morale = 1 − sensitivity × share, to 1e-9
        assert column(model, "morale")[0] == pytest.approx(morale, rel=1e-9)
        assert column(model, "satisfaction")[0] == pytest.approx(0.8 * (1.0 - 0.3 * (1.0 - morale)), rel=1e-9)
    assert column(many, "satisfaction")[0] < column(few, "satisfaction")[0]
    assert column(unaffected, "satisfaction")[0] == pytest.approx(0.8, rel=1e-9)  # quality_effect 0: no effect


def test_divesting_loss_makers_raises_morale_and_satisfaction():
    models = run_all(build(PEOPLE, {"retain_all": {}, "divest": {"steps": [{**PAID_EXIT, "target": {"max_monthly_profit": 0}}]}}))
    start = 1.0 - 0.5 * loss_effort_share(models["retain_all"])
    assert start < 0.8
    # No loss-makers left: morale closes 30 % of its gap to 1 each month (three months to 1e-9).
    assert column(models["divest"], "morale")[0] == pytest.approx(1.0 - (1.0 - start) * 0.7**3, rel=1e-9)
    assert column(models["retain_all"], "morale")[0] == pytest.approx(start, rel=1e-9)
    assert column(models["divest"], "satisfaction")[0] > column(models["retain_all"], "satisfaction")[0] + 0.01


# ----------------------------------------------------------------------------- common random numbers
def test_the_kth_newcomer_of_a_month_is_the_same_customer_with_the_same_luck_in_every_strategy():
    settings = merge(QUIET, {
        "horizon_quarters": 3, "population": {"customers": 1500},
        "churn": {"enabled": True}, "market": {"size": 30000, "acquisition_enabled": True, "acquisition_rate": 0.003},
        "word_of_mouth": {"enabled": True, "referrals": False, "reputation_loss": 2.0},
    })
    abrupt = {"steps": [{"action": "terminate", "target": {"max_monthly_profit": 0}, "style": "abrupt", "pay_exit_cost": True}]}
    models = run_all(build(settings, {"retain_all": {}, "abrupt": abrupt}))
    cohorts = {name: {cohort: (start, stop) for start, stop, cohort in model.state.cohorts} for name, model in models.items()}
    compared = misaligned = 0
    for cohort in set(cohorts["retain_all"]) & set(cohorts["abrupt"]) - {0}:
        (a0, a1), (b0, b1) = cohorts["retain_all"][cohort], cohorts["abrupt"][cohort]
        if a1 - a0 == b1 - b0:
            continue
        misaligned += a0 != b0  # earlier cohorts differed in size too: not at the same rows of the arrays
        k = min(a1 - a0, b1 - b0)
        a, b = models["retain_all"].customers, models["abrupt"].customers
        for name in ("revenue", "cost_of_goods_share", "contacts", "growth_factor", "referrals_per_month",
                     "churn_probability", "joined", "contract_end"):
            np.testing.assert_array_equal(getattr(a, name)[a0:a0 + k], getattr(b, name)[b0:b0 + k], err_msg=name)
        joined = int(a.joined[a0])
        for stream, month in ((Stream.CHURN, joined + 1), (Stream.CHURN, 8), (Stream.ACTIONS, 6)):
            np.testing.assert_array_equal(models["retain_all"].uniforms(stream, month)[a0:a0 + k],
                                          models["abrupt"].uniforms(stream, month)[b0:b0 + k])
        compared += 1
    assert compared >= 4 and misaligned >= 3  # months in which the strategies won different numbers of customers


# ----------------------------------------------------------------------------- option to abandon
def test_option_to_abandon_is_worth_something_when_revenue_shrinks_and_margins_are_positive_now():
    shrinking = merge(QUIET, {"horizon_quarters": 3, "churn": {"enabled": True},
                              "population": {"growth_mean": -0.3, "growth_sd": 0.0}})
    model = build(shrinking, {"retain_all": {}})["retain_all"]
    v = model.customers
    positive_now = (v.last_profit > 0).sum()
    model.run()
    option_value, turns_positive = column(model, "option_value"), column(model, "option_turns_positive")
    assert (option_value > 0).all()
    assert (turns_positive > 0).all() and (turns_positive <= positive_now).all()
    assert turns_positive[0] > 50
    # Flat revenue: keeping is all or nothing, so no plain value below zero turns positive.
    flat = run_all(build(merge(shrinking, {"population": {"growth_mean": 0.0}}), {"retain_all": {}}))["retain_all"]
    assert (column(flat, "option_value") >= 0).all()
    assert (column(flat, "option_turns_positive") == 0).all()
