"""The fits' analytic gradients against numerical ones, and the faster roads against the plain ones.

The search and the standard errors use the BG/NBD, Gamma-Gamma and sBG log-likelihoods' analytic
gradients (Fader, Hardie & Lee 2005; Fader & Hardie 2007). Each is checked here against central
differences of the per-customer formula, summed customer by customer, at parameter points on both
sides of the optimum and on data shaped like a real log (most customers bought once: x = 0). The
tolerance is 1e-8 of the gradient's largest component (the correct gradients agree to about 1e-10 of it):
dropping any one term of a derivative moves it by far more.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from simulation.data.calibration import bgnbd, gamma_gamma, log, sbg
from simulation.data.calibration.log import _from_reference, read_log
from simulation.data.calibration.summary import sum_by_key, summarise
from simulation.data.calibration.synthetic import draw_log

PURCHASING = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW's, per week (Fader, Hardie & Lee 2005)
SPENDING = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    """3,000 customers over 78 weeks, first purchases in the first 12 (CDNOW's shape), a holdout of 39 weeks."""
    path = tmp_path_factory.mktemp("log") / "log.csv"
    draw_log(np.random.default_rng(11), 3000, PURCHASING, SPENDING, dt.date(1997, 1, 1), 84, dt.date(1998, 6, 30),
             "week").to_csv(path, index=False)
    return summarise(read_log(path), dt.date(1997, 9, 30), "week")


def numerical_gradient(function, parameters: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """∂f/∂θ by a five-point central difference in log θ (error of order step⁴), divided by θ."""
    gradient = np.empty(len(parameters))
    for i in range(len(parameters)):
        values = []
        for shift in (-2 * step, -step, step, 2 * step):
            moved = parameters.copy()
            moved[i] *= np.exp(shift)
            values.append(function(moved))
        slope = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * step)
        gradient[i] = slope / parameters[i]
    return gradient


def assert_gradient_matches(analytic: np.ndarray, numerical: np.ndarray, parameters: np.ndarray) -> None:
    # Compared on the log scale the optimiser searches (θ · ∂f/∂θ), against the largest component's size.
    analytic_log, numerical_log = analytic * parameters, numerical * parameters
    tolerance = 1e-8 * max(np.max(np.abs(numerical_log)), 1.0)
    np.testing.assert_allclose(analytic_log, numerical_log, rtol=0, atol=tolerance)


@pytest.mark.parametrize("point", [
    (0.243, 4.414, 0.793, 2.426),  # near CDNOW's optimum
    (1.0, 10.0, 1.0, 1.0),  # the first start
    (0.05, 1.5, 3.0, 0.7),  # b < 1: b + x − 1 < 0 at x = 0, which must not enter
    (4.0, 40.0, 0.2, 12.0),
])
def test_the_bgnbd_gradient_is_the_derivative_of_the_per_customer_likelihood(summary, point):
    s, parameters = summary, np.array(point)
    assert np.mean(s.frequency == 0) > 0.4  # real-shaped: most bought once
    histories = bgnbd.Histories.of(s.frequency, s.recency, s.age)
    value, gradient = histories.log_likelihood(parameters)

    def per_customer(theta: np.ndarray) -> float:
        return float(np.sum(bgnbd.log_likelihood_terms(theta, s.frequency, s.recency, s.age)))

    assert value == pytest.approx(per_customer(parameters), rel=1e-12)  # distinct rows × counts: the same sum
    assert_gradient_matches(gradient, numerical_gradient(per_customer, parameters), parameters)


@pytest.mark.parametrize("point", [(6.25, 3.74, 15.44), (1.0, 2.0, 40.0), (12.0, 1.3, 3.0)])
def test_the_gamma_gamma_gradient_is_the_derivative_of_the_per_customer_likelihood(summary, point):
    s, parameters = summary, np.array(point)
    sample = s.spend_sample
    x, spend = s.frequency[sample], s.mean_repeat_spend[sample]
    value, gradient = gamma_gamma.Spends.of(x, spend).log_likelihood(parameters)

    def per_customer(theta: np.ndarray) -> float:
        return float(np.sum(gamma_gamma.log_likelihood_terms(theta, x, spend)))

    assert value == pytest.approx(per_customer(parameters), rel=1e-12)
    assert_gradient_matches(gradient, numerical_gradient(per_customer, parameters), parameters)


@pytest.mark.parametrize("point", [(0.704, 1.182), (3.0, 0.4), (0.2, 9.0)])
def test_the_sbg_gradient_is_the_derivative_of_its_likelihood(point):
    parameters = np.array(point)
    lost_in, lost = np.arange(1.0, 8.0), np.array([369.0, 163, 86, 56, 37, 27, 21])  # Fader & Hardie 2007, regular
    survived, kept = np.array([7.0, 3.0]), np.array([241.0, 12.0])

    def value(theta: np.ndarray) -> float:
        return sbg.log_likelihood(theta, lost_in, lost, survived, kept)[0]

    _, gradient = sbg.log_likelihood(parameters, lost_in, lost, survived, kept)
    assert_gradient_matches(gradient, numerical_gradient(value, parameters), parameters)


def test_the_standard_errors_match_a_hessian_of_second_differences_of_the_likelihood(summary):
    """The fit's Hessian is differences of the analytic gradient; here it is differences of the function."""
    s = summary
    fit = bgnbd.fit(s.frequency, s.recency, s.age, "drawn")
    at = np.log([fit[name] for name in bgnbd.NAMES])

    def minus(log_theta: np.ndarray) -> float:
        return -float(np.sum(bgnbd.log_likelihood_terms(np.exp(log_theta), s.frequency, s.recency, s.age)))

    step, size = 1e-3, len(at)
    hessian = np.empty((size, size))
    for i in range(size):
        for j in range(size):
            corners = []
            for di, dj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                point = at.copy()
                point[i] += di * step
                point[j] += dj * step
                corners.append(minus(point))
            hessian[i, j] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * step**2)
    expected = np.exp(at) * np.sqrt(np.diag(np.linalg.inv(hessian)))
    np.testing.assert_allclose([fit.standard_errors[name] for name in bgnbd.NAMES], expected, rtol=1e-4)


def test_every_start_reaches_the_published_cdnow_shape_optimum(summary):
    s = summary
    fit = bgnbd.fit(s.frequency, s.recency, s.age, "drawn")
    assert fit.starts_at_optimum == fit.starts == 4
    for name, truth in PURCHASING.items():
        assert abs(fit[name] - truth) < 3 * fit.standard_errors[name], (name, fit[name])


# ---------------------------------------------------------------------------- the faster roads
@pytest.mark.parametrize("rows, customers", [(1, 1), (500, 7), (5000, 2000)])
def test_summing_by_key_gives_what_unique_and_bincount_give_bit_for_bit(rows, customers):
    rng = np.random.default_rng(rows)
    key = rng.integers(0, customers, rows) * 400 + rng.integers(0, 3, rows)
    amount = np.round(rng.normal(20.0, 30.0, rows), 2)
    amount[: rows // 10] = -0.0
    distinct, inverse = np.unique(key, return_inverse=True)
    expected = np.bincount(inverse, weights=amount, minlength=len(distinct))
    for keys in (key, key + (1 << 61)):  # the second too large to share 63 bits with a row number: argsort
        got_keys, got = sum_by_key(keys, amount)
        np.testing.assert_array_equal(got_keys, distinct + (keys[0] - key[0]))
        assert got.tobytes() == expected.tobytes()  # the same bits, signs of zero included


def test_the_fast_reader_merges_identifiers_written_with_spaces_as_the_reference_does(tmp_path, monkeypatch):
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n"
                    "C1,2025-01-03,10\n C2,2025-01-04, 12.5\nC2 ,2025-01-05,7\nC3,2025-01-05T10:00,1e2\n"
                    "C1,2025-02-01,  3\n C2,2025-02-01 ,4\n")
    reference = _from_reference(path)
    monkeypatch.setattr(log, "_from_reference", lambda *args: pytest.fail("the fast reader gave up"))
    fast = read_log(path)
    np.testing.assert_array_equal(fast.ids, reference.ids)
    np.testing.assert_array_equal(fast.ids, ["C1", "C2", "C3"])
    np.testing.assert_array_equal(fast.customer, reference.customer)
    np.testing.assert_array_equal(fast.day, reference.day)
    np.testing.assert_array_equal(fast.amount, reference.amount)


def test_per_distinct_history_results_are_the_per_customer_ones(summary):
    s = summary
    x, t_x, T = s.frequency, s.recency, s.age
    params = PURCHASING
    expected = bgnbd.expected_purchases(params, x, t_x, T, 39.0)
    hazard = bgnbd.dropout_hazard(params, x, T, 4.35)
    one_by_one = np.array([bgnbd.expected_purchases(params, x[i:i + 1], t_x[i:i + 1], T[i:i + 1], 39.0)[0]
                           for i in range(0, len(x), 97)])
    np.testing.assert_array_equal(expected[::97], one_by_one)
    np.testing.assert_array_equal(hazard[::97], [bgnbd.dropout_hazard(params, x[i:i + 1], T[i:i + 1], 4.35)[0]
                                                 for i in range(0, len(x), 97)])
