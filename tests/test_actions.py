"""What each action does to the customers it reaches: educate, migrate to a channel, hand over to a partner.

Checked on the state arrays (one row per customer) against each customer's own draw from the
replication's action stream, and on the quarter records an analyst reads.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation.book.state import CHURNED, PARTNER, PARTNER_LEFT
from simulation.core.streams import Stream

from .behaviour_support import QUIET, build, column, custom_population, merge, run_all, within_binomial, within_poisson

LOSS_MAKERS = {"max_monthly_profit": 0}


# ----------------------------------------------------------------------------- educate
EDUCATE = {"steps": [{"action": "educate", "target": LOSS_MAKERS, "success_rate": 0.5, "contact_reduction": 0.6,
                      "cost_per_customer": 25.0}]}


@pytest.fixture(scope="module")
def educated():
    models = build(QUIET, {"retain_all": {}, "educate": EDUCATE})
    model = models["educate"]
    before = {"contacts": model.customers.contacts.copy(), "profit": model.customers.last_profit.copy()}
    run_all(models)
    v = model.customers
    targeted = v.ladder_stage == 1
    learned = targeted & (model.uniforms(Stream.ACTIONS, 0) < 0.5)
    return models, before, targeted, learned


def test_educate_cuts_the_contacts_of_successful_customers_by_the_contact_reduction(educated):
    models, before, targeted, learned = educated
    v = models["educate"].customers
    assert targeted.sum() > 500
    np.testing.assert_array_equal(targeted, before["profit"] < 0)  # loss-makers, and only they, are taught
    # Exactly × (1 − 0.6) for those whose draw is below the success rate; everyone else unchanged.
    np.testing.assert_allclose(v.contacts[learned], 0.4 * before["contacts"][learned], rtol=1e-12)
    np.testing.assert_array_equal(v.contacts[~learned], before["contacts"][~learned])


def test_educate_succeeds_with_about_the_success_rate(educated):
    _, _, targeted, learned = educated
    assert within_binomial(int(learned.sum()), int(targeted.sum()), 0.5)  # 4 binomial standard deviations


def test_educate_books_its_cost_per_targeted_customer_and_the_saved_contacts(educated):
    models, before, targeted, learned = educated
    v = models["educate"].customers
    saved_per_month = float((0.6 * before["contacts"][learned] * v.contact_cost[learned]).sum())
    education_cost = 25.0 * targeted.sum()  # every targeted customer is paid for, not only the successes
    educate, retain = models["educate"], models["retain_all"]
    # Same revenue; cost higher by the education, lower by three months of saved contacts (to 1e-9).
    assert column(educate, "revenue")[0] == pytest.approx(column(retain, "revenue")[0], rel=1e-12)
    extra_cost = column(educate, "cost")[0] - column(retain, "cost")[0]
    assert extra_cost == pytest.approx(education_cost - 3 * saved_per_month, rel=1e-9)
    assert educate.cumulative_profit - retain.cumulative_profit == pytest.approx(-extra_cost, rel=1e-9)


# ----------------------------------------------------------------------------- migrate to a channel
MIGRATE_CHANNEL = {"steps": [{"action": "migrate_channel", "target": {"channels": ["call_centre"], **LOSS_MAKERS},
                              "to_channel": "online", "success_rate": 0.7, "leave_rate": 0.2, "cost_per_customer": 5.0}]}


@pytest.fixture(scope="module")
def migrated():
    models = run_all(build(QUIET, {"retain_all": {}, "migrate": MIGRATE_CHANNEL}))
    model = models["migrate"]
    v = model.customers
    targeted = v.ladder_stage == 1
    draws = model.uniforms(Stream.ACTIONS, 0)
    leave = targeted & (draws < 0.2)
    moved = targeted & (draws >= 0.2) & (draws < 0.9)
    return models, targeted, leave, moved


def test_migrated_customers_move_to_the_cheaper_channel_and_gain_twelve_per_contact(migrated):
    models, targeted, leave, moved = migrated
    v, kept = models["migrate"].customers, models["retain_all"].customers
    online, call_centre = 1, 0
    assert moved.sum() > 300
    assert (v.channel[moved] == online).all() and (v.contact_cost[moved] == 1.0).all()
    stayed = targeted & ~leave & ~moved  # neither moved nor left: still in the call centre at 13 a contact
    assert stayed.sum() > 0
    assert (v.channel[stayed] == call_centre).all() and (v.contact_cost[stayed] == 13.0).all()
    # Monthly profit of a moved customer rises by contacts × (13 − 1), to 1e-9 relative (1e-9 currency absolute).
    np.testing.assert_allclose(v.last_profit[moved] - kept.last_profit[moved], 12.0 * v.contacts[moved], rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_array_equal(v.last_profit[stayed], kept.last_profit[stayed])


def test_a_leave_rate_share_of_migrated_customers_leave_and_migrated_counts_the_movers(migrated):
    models, targeted, leave, moved = migrated
    model = models["migrate"]
    v = model.customers
    n = int(targeted.sum())
    assert within_binomial(int(leave.sum()), n, 0.2) and within_binomial(int(moved.sum()), n, 0.7)
    assert (v.status[leave] == CHURNED).all() and (v.exit_month[leave] == 0).all()
    assert column(model, "migrated")[0] == moved.sum()
    assert column(model, "churned")[0] == leave.sum()  # churn itself is off: only the leavers
    assert column(model, "active_customers")[0] == len(v.status) - leave.sum()


# ----------------------------------------------------------------------------- migrate to a partner
PARTNER_STEP = {"action": "migrate_partner", "target": LOSS_MAKERS, "acceptance_rate": 0.8, "fee_share": 0.3,
                "cost_per_customer": 0.0}
GROWING = merge(QUIET, {"horizon_quarters": 2, "population": {"growth_mean": 0.05, "growth_sd": 0.3}})


def test_partner_customers_leave_our_books_and_pay_a_share_of_their_growing_margin():
    models = build(GROWING, {"partner": {"steps": [PARTNER_STEP]}})
    model = models["partner"]
    v = model.customers
    start_revenue = v.revenue.copy()
    start_margin = v.revenue * (1.0 - v.cost_of_goods_share)  # gross margin at the month-0 review
    model.run()
    accepted = v.status == PARTNER
    targeted = v.ladder_stage == 1
    # Customers whose margin shrank into a loss are offered at the month-3 review, with that month's draw.
    offered_month = v.stage_since
    draws = np.where(offered_month == 0, model.uniforms(Stream.ACTIONS, 0), model.uniforms(Stream.ACTIONS, 3))
    assert set(np.unique(offered_month[targeted])) == {0, 3}
    np.testing.assert_array_equal(accepted, targeted & (draws < 0.8))
    assert within_binomial(int(accepted.sum()), int(targeted.sum()), 0.8)
    # Off our books: not counted as active, counted as partner customers, every quarter.
    first = accepted & (offered_month == 0)
    assert first.sum() > 500 and (accepted & (offered_month == 3)).sum() > 0
    np.testing.assert_array_equal(column(model, "partner_customers"), [first.sum(), accepted.sum()])
    np.testing.assert_array_equal(column(model, "active_customers"), len(v.status) - column(model, "partner_customers"))
    np.testing.assert_array_equal(column(model, "migrated"), [first.sum(), accepted.sum() - first.sum()])
    # The fee is 30 % of the customer's gross margin and follows its own revenue growth (to 1e-9).
    np.testing.assert_allclose(v.partner_fee[accepted], 0.3 * v.revenue[accepted] * (1.0 - v.cost_of_goods_share[accepted]),
                               rtol=1e-9)
    growth = v.growth_factor[first]
    assert growth.min() < 0.99 < 1.01 < growth.max()  # some shrink, some grow
    first_quarter = 0.3 * float((start_margin[first] * (growth + growth**2 + growth**3)).sum())
    assert column(model, "partner_fees")[0] == pytest.approx(first_quarter, rel=1e-9)
    # Fees are revenue: the quarter's revenue is what we bill the customers we kept plus the fees (to 1e-9).
    kept = ~first
    billed = float((start_revenue[kept] * (v.growth_factor[kept] + v.growth_factor[kept] ** 2 + v.growth_factor[kept] ** 3)).sum())
    assert column(model, "revenue")[0] == pytest.approx(billed + first_quarter, rel=1e-9)


def test_partner_fee_is_zero_for_a_customer_without_gross_margin():
    population = custom_population([
        {"revenue": 50.0, "cost_of_goods_share": 1.2, "contacts": 0.0},  # sells below cost: gross margin negative
        {"revenue": 50.0, "cost_of_goods_share": 0.7, "contacts": 3.0},  # margin 15, but a loss-maker after contacts
    ], size=50)
    step = {**PARTNER_STEP, "acceptance_rate": 1.0}
    model = build(QUIET, {"partner": {"steps": [step]}}, population=population)["partner"]
    model.run()
    v = model.customers
    assert (v.status == PARTNER).all()
    np.testing.assert_array_equal(v.partner_fee[:50], 0.0)
    np.testing.assert_allclose(v.partner_fee[50:], 0.3 * 15.0, rtol=1e-12)


def test_partner_customers_churn_at_their_own_base_probability_not_ours():
    # With us, customers of segments 7 and 8 churn at 3× their own probability; once with the
    # partner, only their own probability applies.
    settings = merge(QUIET, {"horizon_quarters": 4, "churn": {"enabled": True, "beta_alpha": 1.0, "beta_beta": 20.0,
                                                              "segment_multipliers": [1, 1, 1, 1, 1, 1, 3, 3]}})
    step = {**PARTNER_STEP, "target": {"segments": [7, 8]}}
    model = run_all(build(settings, {"partner": {"steps": [step]}}))["partner"]
    v = model.customers
    handed_over = np.flatnonzero((v.status == PARTNER) | (v.status == PARTNER_LEFT))
    assert len(handed_over) > 200
    # Replay the churn draws: a partner customer is lost in the first month its draw < its own probability.
    with_partner = np.ones(len(handed_over), dtype=bool)
    for month in range(model.months):
        draws = model.uniforms(Stream.CHURN, month)[handed_over]
        joined = v.exit_month[handed_over] <= month
        with_partner &= ~(joined & (draws < v.churn_probability[handed_over]))
    expected_left = handed_over[~with_partner]
    np.testing.assert_array_equal(np.flatnonzero(v.status == PARTNER_LEFT), expected_left)
    assert len(expected_left) > 20
    assert column(model, "partner_lost").sum() == len(expected_left)
    np.testing.assert_array_equal(column(model, "partner_customers")[-1], (v.status == PARTNER).sum())
    assert (v.partner_fee[expected_left] == 0.0).all()


@pytest.mark.parametrize("step", [
    {**PARTNER_STEP, "acceptance_rate": 0.8},
    {"action": "migrate_channel", "target": {"channels": ["call_centre"], **LOSS_MAKERS}, "leave_rate": 0.0},
], ids=["partner", "channel"])
def test_migration_word_of_mouth_reaches_migration_fraction_of_an_abrupt_exit(step):
    settings = merge(QUIET, {"word_of_mouth": {"enabled": True, "referrals": False}})  # waves at months 1 and 2
    migrated = reach = 0
    for replication in range(3):
        model = run_all(build(settings, {"migrate": {"steps": [step]}}, replication=replication))["migrate"]
        migrated += column(model, "migrated").sum()
        reach += column(model, "wom_reach").sum()
    expected = migrated * 0.05 * 9 * 4  # 1.8 people per migrated customer
    assert migrated > 1500
    assert within_poisson(reach, expected), (reach, expected)  # 4 Poisson standard deviations (about 4 %)
