"""The calibration models against known truths: parameters drawn and fitted back, the published
sBG cohorts, and churn stated per year converted exactly to a month."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from simulation.core.errors import DataError
from simulation.data.calibration import bgnbd, gamma_gamma, sbg
from simulation.data.calibration.fits import fit_contracts, fit_log
from simulation.data.calibration.synthetic import draw_contracts, draw_log
from simulation.data.calibration.units import to_monthly
from simulation.model.engine import CustomerModel
from simulation.scenario.spec import scenario_from_dict
from simulation.scenario.strategy import StrategySpec

from .conftest import TEXTBOOK, merge

PURCHASING = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # per month here (CDNOW's, per week, in the paper)
SPENDING = {"p": 6.25, "q": 3.74, "v": 15.44}  # Fader, Hardie & Lee's CDNOW spend parameters

# Fader & Hardie (2007), "How to Project Customer Retention", table 1: % of a cohort of 1,000 still
# customers at the start of years 0–12; the paper fits years 1–7 and projects 8–12.
REGULAR = [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3]
HIGH_END = [100.0, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1, 46.8, 44.5, 42.7, 40.9, 39.4]


@pytest.fixture(scope="module")
def drawn_log(tmp_path_factory):
    """10,000 customers over 18 months, first purchases in the first three (CDNOW's shape), per month."""
    path = tmp_path_factory.mktemp("log") / "log.csv"
    draw_log(np.random.default_rng(0), 10_000, PURCHASING, SPENDING, dt.date(2024, 1, 1), 84, dt.date(2025, 6, 30),
             "month").to_csv(path, index=False)
    return path


def test_bgnbd_and_gamma_gamma_parameters_come_back_within_two_standard_errors(drawn_log):
    fit = fit_log(drawn_log, None, "month")
    for drawn, fitted in ((PURCHASING, fit.purchasing), (SPENDING, fit.spending)):
        for name, truth in drawn.items():
            assert abs(fitted[name] - truth) < 2 * fitted.standard_errors[name], (name, fitted[name], truth)
            assert fitted.standard_errors[name] < 0.5 * truth  # informative, not a wide net
    assert fit.purchasing.starts_at_optimum == fit.purchasing.starts


def test_the_holdout_prediction_matches_what_the_drawn_customers_did(drawn_log):
    fit = fit_log(drawn_log, dt.date(2024, 12, 31), "month")
    assert fit.holdout is not None and fit.holdout.length == pytest.approx(181 / (365.25 / 12))
    assert abs(fit.holdout.error) < 0.08, fit.holdout.as_dict()


def test_sbg_parameters_come_back_from_a_drawn_ledger(tmp_path):
    path = tmp_path / "contracts.csv"
    draw_contracts(np.random.default_rng(1), 5000, 0.8, 8.0, dt.date(2020, 1, 1), 36, dt.date(2026, 9, 30)).to_csv(
        path, index=False)
    fit = fit_contracts(path, "month")
    for name, truth in (("alpha", 0.8), ("beta", 8.0)):
        assert abs(fit.churn[name] - truth) < 2 * fit.churn.standard_errors[name], (name, fit.churn[name])


@pytest.mark.parametrize("table, alpha, beta, log_likelihood", [
    (REGULAR, 0.704, 1.182, -1680.3), (HIGH_END, 0.668, 3.806, -1611.2),
], ids=["regular", "high end"])
def test_published_sbg_cohorts_give_back_their_published_alpha_and_beta(table, alpha, beta, log_likelihood):
    survival = np.array(table[:8]) / 100.0  # the paper's calibration period: years 1–7
    fit = sbg.fit_cohort(survival, 1000.0, "Fader & Hardie 2007")
    assert fit["alpha"] == pytest.approx(alpha, rel=0.01)
    assert fit["beta"] == pytest.approx(beta, rel=0.01)
    assert fit.log_likelihood == pytest.approx(log_likelihood, abs=0.1)
    projected = sbg.survival(fit.parameters, 12)[8:] * 100.0  # years 8–12: the paper's projection
    assert np.max(np.abs(projected - np.array(table[8:]))) < 2.0  # points of survival; the paper's own projection is as close


def test_yearly_churn_becomes_the_monthly_churn_with_the_same_survival_at_whole_years():
    theta = np.array([0.0, 0.05, 0.37, 0.9, 1.0])
    for period, months in (("year", 12), ("quarter", 3)):
        monthly = to_monthly(theta, period)
        np.testing.assert_allclose((1.0 - monthly) ** months, 1.0 - theta, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(to_monthly(theta, "month"), theta)


def test_the_engine_keeps_a_yearly_cohort_at_its_yearly_survival():
    """Fader & Hardie's regular cohort stated per year: 62.7 % after a year, not the 17 % of reading it as monthly."""
    scenario = scenario_from_dict(merge(TEXTBOOK, {
        "population": {"customers": 20_000}, "horizon_quarters": 4,
        "churn": {"beta_alpha": 0.704, "beta_beta": 1.182, "period": "year", "heterogeneous": True},
    }))
    from simulation.data.sources import PopulationSource

    population = PopulationSource().load(scenario, seed=5)
    model = CustomerModel(scenario, population, "retain_all", StrategySpec(), 5, 0)
    model.run()
    survived = model.trace.months[-1].active_customers / len(population)
    assert survived == pytest.approx(1.182 / (0.704 + 1.182), abs=0.01)


def test_each_customer_s_yearly_draw_is_converted_exactly():
    scenario = scenario_from_dict(merge(TEXTBOOK, {
        "population": {"customers": 50}, "horizon_quarters": 1,
        "churn": {"beta_alpha": 2.0, "beta_beta": 3.0, "period": "year", "heterogeneous": False},
    }))
    from simulation.data.sources import PopulationSource

    model = CustomerModel(scenario, PopulationSource().load(scenario, seed=1), "retain_all", StrategySpec(), 1, 0,
                          trace_columns=("hazard",))
    model.run()
    expected = 1.0 - (1.0 - 0.4) ** (1.0 / 12.0)
    np.testing.assert_allclose(model.trace.snapshots[0]["hazard"][:50], expected, rtol=1e-12)


def test_a_customer_with_no_repeat_purchase_is_alive_and_one_who_stopped_buying_probably_is_not():
    params = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    x, t_x, T = np.array([0.0, 5.0, 5.0]), np.array([0.0, 10.0, 70.0]), np.array([78.0, 78.0, 78.0])
    alive = bgnbd.probability_alive(params, x, t_x, T)
    assert alive[0] == 1.0 and alive[1] < 0.2 < 0.8 < alive[2]
    hazard = bgnbd.dropout_hazard(params, x, T, 4.35)
    assert np.all((hazard > 0) & (hazard < 1))
    # E[Y(t)] for a new customer: the closed form against the sum over drawn customers' purchases
    assert bgnbd.expected_purchases_new(params, 0.0) == pytest.approx(0.0)


def test_gamma_gamma_refuses_a_fit_without_a_finite_mean_spend():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 4, 3000).astype(float)
    spend = rng.pareto(0.7, 3000) * 10 + 0.01  # so heavy a tail the mean is infinite
    with pytest.raises(DataError, match=r"q > 1|did not converge|edge of the parameter range"):
        gamma_gamma.fit(x, spend, "heavy.csv")


def test_parameters_the_data_barely_pin_down_are_drawn_within_the_range_the_fit_searched():
    # BG/NBD on a log with no sign of dropout: a = 7.5e-6 with a standard error of 0.054 (a log-sd of about 7,200).
    # Drawn log-normally, a underflowed to 0 and the posterior book's Beta(a, b + x) draw crashed.
    from simulation.data.calibration.mle import Fit

    log_sd = 0.054 / 7.5e-6
    fit = Fit("BG/NBD", {"r": 5.2, "alpha": 125.0, "a": 7.5e-6, "b": 82_400.0},
              {"r": 1.25, "alpha": 30.0, "a": 0.054, "b": 4.6e6}, -5115.5, 400, 4, 4, 30,
              log_covariance=((0.06, 0, 0, 0), (0, 0.06, 0, 0), (0, 0, log_sd**2, 0), (0, 0, 0, 3000.0)))
    rng = np.random.default_rng(1)
    drawn = [fit.draw(rng) for _ in range(200)]
    for name in fit.parameters:
        values = np.array([d[name] for d in drawn])
        assert values.min() >= 1e-6 * (1 - 1e-12) and values.max() <= 1e6 * (1 + 1e-12), name
    assert min(d["a"] for d in drawn) > 0  # Beta(a, …) takes it
