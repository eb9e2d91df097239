"""Word of mouth: when the waves of stories land, how far graceful exits reach, and what reputation
and referrals do to acquisition (titus 2014; Hitt 2003)."""

from __future__ import annotations

import numpy as np
import pytest

from .behaviour_support import NO_OP_STEP, QUIET, build, column, merge, run_all, within_poisson

LOSS_MAKERS = {"max_monthly_profit": 0}
TALKATIVE = merge(QUIET, {"word_of_mouth": {"enabled": True, "referrals": False}})


@pytest.mark.parametrize("first, second", [(1, 2), (2, 5)])
def test_waves_land_first_and_second_wave_months_after_each_exit(first, second):
    # Graceful terminations take effect at each customer's contract end: exits in many months,
    # decided at reviews (months 0, 3) but happening at renewals, before that month's tick.
    settings = merge(TALKATIVE, {"horizon_quarters": 4,
                                 "word_of_mouth": {"first_wave_months": first, "second_wave_months": second}})
    model = run_all(build(settings, {"divest": {"steps": [{"action": "terminate", "target": LOSS_MAKERS}]}}))["divest"]
    exit_months = set(np.unique(model.customers.exit_month[model.customers.exit_month >= 0]).tolist())
    waves = model.trace.waves
    assert len(exit_months) >= 6
    assert {wave.told_month for wave in waves} == {month for month in exit_months if month + first < model.months}
    landed = 0
    for wave in waves:
        delay = first if wave.wave % 2 == 1 else second  # each telling sets off a first wave, then a second
        assert wave.landed_month == wave.told_month + delay, wave
        landed += 1
    assert landed >= 8
    # Later waves fall after the horizon: none is traced, none is counted.
    assert all(wave.landed_month < model.months for wave in waves)


def test_reach_of_exits_at_a_review_shows_in_the_quarters_the_waves_land_in():
    # A ladder hands loss-makers to an abrupt termination (exit cost paid) at the month-3 review;
    # the stories reach 9 people per exit three months later (month 6) and 27 more six months later (month 9).
    settings = merge(TALKATIVE, {"horizon_quarters": 4,
                                 "word_of_mouth": {"first_wave_months": 3, "second_wave_months": 6}})
    ladder = {"steps": [{**NO_OP_STEP, "target": LOSS_MAKERS},
                        {"action": "terminate", "target": LOSS_MAKERS, "style": "abrupt", "pay_exit_cost": True}]}
    model = run_all(build(settings, {"ladder": ladder}))["ladder"]
    divested = column(model, "divested")
    reach = column(model, "wom_reach")
    assert divested[1] > 500 and divested[[0, 2, 3]].sum() == 0  # all exits in month 3
    assert reach[0] == reach[1] == 0  # nothing lands before month 6 (a month early would be month 5, quarter 2)
    assert within_poisson(reach[2], 9 * divested[1])  # month 6: the first-hand wave, 4 Poisson sd
    assert within_poisson(reach[3], 27 * divested[1])  # month 9: the second-hand rest


def test_graceful_exits_reach_graceful_fraction_of_thirty_six_people_each():
    settings = merge(TALKATIVE, {"horizon_quarters": 2})  # exits paid off at month 0: waves at months 1 and 2
    graceful = {"steps": [{"action": "terminate", "target": LOSS_MAKERS, "style": "graceful", "pay_exit_cost": True}]}
    divested = reach = 0
    for replication in range(3):
        model = run_all(build(settings, {"graceful": graceful}, replication=replication))["graceful"]
        divested += column(model, "divested").sum()
        reach += column(model, "wom_reach").sum()
    assert divested > 2500
    assert within_poisson(reach, divested * 0.1 * 9 * 4), (reach, divested)  # 3.6 per exit, 4 Poisson sd (±3 %)


# ----------------------------------------------------------------------------- acquisition
def test_acquisitions_fall_in_proportion_to_reputation():
    # Abrupt exits reach many prospects: reputation falls; reached prospects are not blocked (memory 0),
    # so reputation is the only thing between the market and our acquisitions.
    settings = merge(TALKATIVE, {
        "horizon_quarters": 4,
        "market": {"size": 30000, "acquisition_enabled": True, "acquisition_rate": 0.004},
        "word_of_mouth": {"prospect_memory_months": 0, "reputation_loss": 2.0},
    })
    abrupt = {"steps": [{"action": "terminate", "target": LOSS_MAKERS, "style": "abrupt", "pay_exit_cost": True}]}
    models = run_all(build(settings, {"abrupt": abrupt, "retain_all": {}}))
    for name, model in models.items():
        trace = model.trace
        won = trace.series("acquired").sum()
        expected = (0.004 * trace.series("prospects") * trace.series("reputation")).sum()
        assert within_poisson(won, expected), (name, won, expected)  # 4 Poisson sd (about 6 %)
    reputations = models["abrupt"].trace.series("reputation")
    assert min(reputations) < 0.6 and reputations[0] == 1.0
    # Reputation, not a smaller market, is what cost the acquisitions: more prospects, fewer customers won.
    abrupt_won = column(models["abrupt"], "acquired").sum()
    retained_won = column(models["retain_all"], "acquired").sum()
    assert abrupt_won < 0.85 * retained_won


def test_with_market_acquisition_off_newcomers_are_the_referrals_of_satisfied_customers():
    settings = merge(QUIET, {"horizon_quarters": 2, "population": {"referrals_per_year": 1.0},
                             "word_of_mouth": {"enabled": True, "referrals": True}})
    model = run_all(build(settings, {"retain_all": {}}))["retain_all"]
    won = model.trace.series("acquired").sum()
    expected = model.trace.series("expected_referrals").sum()  # Σ referrals_per_year / 12 over customers, month by month
    # Everyone at baseline satisfaction: the expectation is the customers' own referral rates, month by month.
    referrals_at_start = model.population.referrals_per_year.sum() / 12
    assert model.trace.series("expected_referrals")[0] == pytest.approx(referrals_at_start, rel=1e-9)
    assert expected > 1000 and column(model, "satisfaction")[-1] == pytest.approx(0.8)  # everyone at baseline
    assert within_poisson(won, expected), (won, expected)  # 4 Poisson sd (about 10 %)
    assert column(model, "acquired").sum() == won
    # Switched off, nobody is referred.
    silent = run_all(build(merge(settings, {"word_of_mouth": {"referrals": False}}), {"retain_all": {}}))["retain_all"]
    assert column(silent, "acquired").sum() == 0


# ----------------------------------------------------------------------------- the bundled settings
def test_every_abruptly_divested_customer_tells_thirty_six_people_and_the_market_hears_at_most_once():
    """Bundled word of mouth (9 × 4) under abrupt divestment with slow service: customers pushed out
    who walk away before their contract ends count as divested too, so stories per divested
    customer are the scenario's 36 (they read 65–71 when half of them were counted as churned)."""
    settings = {"name": "bundled word of mouth", "horizon_quarters": 8, "population": {"customers": 3000},
                "market": {"size": 60000}}
    abrupt = {"steps": [{"action": "terminate", "target": LOSS_MAKERS, "style": "abrupt",
                         "abrupt_satisfaction_loss": 0.3, "abrupt_price_increase": 0.1}]}
    tellers = people = divested = 0.0
    for replication in range(2):
        model = run_all(build(settings, {"divest_abrupt": abrupt}, replication=replication))["divest_abrupt"]
        waves = model.trace.waves
        # Every divested customer sets stories off once, at the month they go.
        tellings = {wave.telling: wave for wave in waves}
        divested += model.trace.series("divested")[: model.months - 2].sum()
        landed = [wave for wave in waves if wave.told_month + 2 < model.months]  # both waves inside the horizon
        tellers += sum({wave.telling: wave.tellers for wave in landed}.values())
        people += sum(wave.people for wave in landed)
        early = (model.customers.status == 2) & (model.customers.exit_month < model.customers.contract_end)
        assert early.sum() > 100  # pushed out before their contract ended: divested, not churned
        heard = model.trace.series("heard_share")
        assert (np.diff(heard[heard > 0]) < 0.5).all() and heard.max() <= 1.0
        assert len(tellings) > 10
    assert divested > 1000 and tellers == pytest.approx(divested)
    assert within_poisson(people, 36 * tellers), (people / tellers)  # 4 Poisson sd: about ±1 %


def test_the_share_of_the_market_that_has_heard_saturates_and_reputation_falls_smoothly():
    # Stories that reach more people than the market holds: the heard share tends to 1, never past it,
    # and reputation = exp(−reputation_loss × heard share) stays positive.
    settings = merge(TALKATIVE, {"horizon_quarters": 2, "market": {"size": 4000}, "reputation": {"recovery_rate": 0.0},
                                 "word_of_mouth": {"first_hand": 20, "second_hand": 10, "reputation_loss": 2.0}})
    strategy = {"steps": [{"action": "terminate", "target": LOSS_MAKERS, "style": "abrupt", "pay_exit_cost": True}]}
    model = run_all(build(settings, {"abrupt": strategy}))["abrupt"]
    reached = column(model, "wom_reach").sum()
    assert reached > 20 * 4000  # every person in the market told many times over
    heard = column(model, "wom_heard_share")
    assert 0.99 < heard.max() <= 1.0
    np.testing.assert_allclose(column(model, "reputation"), np.exp(-2.0 * heard), rtol=1e-12)


def test_stories_land_at_the_start_of_their_month_whatever_set_them_off():
    """Exits at the churn draw (pushed-out customers walking away) and at renewals alike: a wave due
    in month L has reached the market before month L's acquisitions (it once landed after them)."""
    settings = {"name": "wave timing", "horizon_quarters": 4, "population": {"customers": 2000},
                "market": {"size": 40000}}
    abrupt = {"steps": [{"action": "terminate", "target": LOSS_MAKERS, "style": "abrupt",
                         "abrupt_satisfaction_loss": 0.3, "abrupt_price_increase": 0.1}]}
    model = run_all(build(settings, {"abrupt": abrupt}))["abrupt"]
    forgetting = model.scenario.reputation.recovery_rate
    size = model.scenario.market.size
    heard = 0.0
    for month, traced in enumerate(model.trace.months):
        for wave in model.trace.waves:
            if wave.landed_month == month:
                heard = 1.0 - (1.0 - heard) * np.exp(-wave.people / size)
        assert traced.heard_share == pytest.approx(heard, rel=1e-12, abs=1e-15), month
        heard *= 1.0 - forgetting
    assert sum(wave.people for wave in model.trace.waves) > 10_000
