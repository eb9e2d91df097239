"""Who a step reaches (segment, profit, contacts, channel, lifetime value) and when the next step of a ladder looks.

A step with no effect marks the customers it reaches (their ladder stage), so the reached set
can be compared with the rule evaluated on the state at the review.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation.book.state import PARTNER

from .behaviour_support import NO_OP_STEP, QUIET, build, column, custom_population, merge


@pytest.fixture(scope="module")
def at_first_review():
    """Segment, profit, contacts and channel of each customer as the month-0 review sees them."""
    model = build(QUIET, {"probe": {}})["probe"]
    v = model.customers
    return {name: getattr(v, name).copy() for name in ("segment", "last_profit", "contacts", "channel")}


def reached(target: dict, settings: dict = QUIET) -> np.ndarray:
    model = build(settings, {"probe": {"steps": [{**NO_OP_STEP, "target": target}]}})["probe"]
    model.run()  # one quarter: only the month-0 review
    return model.customers.ladder_stage == 1


def test_segment_target_reaches_only_the_listed_segments(at_first_review):
    expected = np.isin(at_first_review["segment"], [2, 7, 8])
    assert 200 < expected.sum() < 1000
    np.testing.assert_array_equal(reached({"segments": [2, 7, 8]}), expected)


def test_profit_target_reaches_customers_strictly_below_the_threshold(at_first_review):
    profit = at_first_review["last_profit"]
    threshold = float(np.sort(profit)[700])  # a customer's own profit: that customer is not below it
    expected = profit < threshold
    assert expected.sum() == 700
    np.testing.assert_array_equal(reached({"max_monthly_profit": threshold}), expected)


def test_contacts_target_reaches_customers_at_or_above_the_minimum(at_first_review):
    contacts = at_first_review["contacts"]
    minimum = float(np.sort(contacts)[1500])  # a customer's own rate: that customer is included
    expected = contacts >= minimum
    assert expected.sum() == 500
    np.testing.assert_array_equal(reached({"min_contacts": minimum}), expected)


def test_channel_target_reaches_only_customers_served_in_that_channel(at_first_review):
    online = at_first_review["channel"] == 1
    assert 400 < online.sum() < 800  # 30 % online
    np.testing.assert_array_equal(reached({"channels": ["online"]}), online)
    np.testing.assert_array_equal(reached({"channels": ["call_centre"]}), ~online)


def test_every_condition_of_a_target_must_hold(at_first_review):
    first = at_first_review
    expected = (first["last_profit"] < 0) & (first["contacts"] >= 1.0) & (first["channel"] == 0)
    assert 100 < expected.sum() < (first["last_profit"] < 0).sum()
    np.testing.assert_array_equal(
        reached({"max_monthly_profit": 0, "min_contacts": 1.0, "channels": ["call_centre"]}), expected)


def test_reassess_spares_loss_makers_with_growth_or_referral_value():
    # All four lose or make money alike today (revenue 100, margin 30, account management 6):
    groups = [
        {"revenue": 100.0, "contacts": 2.0},  # −2 a month, no growth, no referrals: no future value
        {"revenue": 100.0, "contacts": 2.0, "growth": 0.5},  # −2 a month now, revenue growing 50 % a year
        {"revenue": 100.0, "contacts": 2.0, "referrals_per_year": 3.0},  # −2 a month, but brings 3 customers a year
        {"revenue": 100.0, "contacts": 0.0},  # +24 a month
    ]
    population = custom_population(groups, size=40)
    settings = merge(QUIET, {"churn": {"enabled": True}})  # lifetime values need a retention
    strategies = {"reassess": {"steps": [{**NO_OP_STEP, "target": {"max_lifetime_value": 0}}]},
                  "by_profit": {"steps": [{**NO_OP_STEP, "target": {"max_monthly_profit": 0}}]}}
    models = build(settings, strategies, population=population)
    profit = models["reassess"].customers.last_profit.copy()
    np.testing.assert_allclose(profit, np.repeat([-2.0, -2.0, -2.0, 24.0], 40))
    reached_by = {}
    for name, model in models.items():
        model.run()
        reached_by[name] = (model.customers.ladder_stage == 1).reshape(4, 40).all(axis=1)
    assert reached_by["by_profit"].tolist() == [True, True, True, False]
    assert reached_by["reassess"].tolist() == [True, False, False, False]


# ----------------------------------------------------------------------------- ladder timing
@pytest.mark.parametrize("review_months", [1, 4])
def test_next_ladder_step_reaches_customers_exactly_review_months_after_the_previous_one(review_months):
    """Review periods that are not multiples of the quarterly review run as their own SimPy events."""
    ladder = {"steps": [{**NO_OP_STEP, "target": {"max_monthly_profit": 0}, "review_months": review_months},
                        {"action": "migrate_partner", "target": {"max_monthly_profit": 0}, "acceptance_rate": 1.0}]}
    model = build(merge(QUIET, {"horizon_quarters": 2}), {"ladder": ladder})["ladder"]
    loss_makers = model.customers.last_profit < 0
    model.run()
    v = model.customers
    second = v.ladder_stage == 2
    # Everyone taught at the month-0 review is handed over at month review_months, not at a quarterly review.
    np.testing.assert_array_equal(second, loss_makers)
    assert (v.stage_since[second] == review_months).all()
    assert (v.status[second] == PARTNER).all() and (v.exit_month[second] == review_months).all()
    partner_customers = column(model, "partner_customers")
    expected = [loss_makers.sum(), loss_makers.sum()] if review_months < 3 else [0, loss_makers.sum()]
    np.testing.assert_array_equal(partner_customers, expected)
