"""The BG/NBD model of repeat purchasing and dropout (Fader, Hardie & Lee 2005).

While active, a customer buys as a Poisson process of rate λ ~ Gamma(r, α); after any purchase
they drop out for good with probability p ~ Beta(a, b). What a customer did in the calibration
period is summarised by x (repeat purchases), t_x (time of the last, from the first) and T (time
from the first purchase to the calibration end), in the fit's time unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from simulation.core.errors import DataError
from simulation.data.calibration.mle import Fit, fit_maximum_likelihood

NAMES = ("r", "alpha", "a", "b")
MODEL = "BG/NBD"


def log_likelihood_terms(parameters: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood: the paper's equation 6, written with logs for large x.

    L = Γ(r+x)/Γ(r) α^r · B(a, b+x)/B(a, b) · [(α+T)^−(r+x) + δ(x>0) a/(b+x−1) (α+t_x)^−(r+x)].
    The per-customer reference; the fit sums the same terms over distinct histories (``Histories``).
    """
    r, alpha, a, b = parameters
    with np.errstate(divide="ignore", invalid="ignore"):
        per_x = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
        dropout = np.where(x > 0, np.log(a) - np.log(b + x - 1.0), -np.inf)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = dropout - (r + x) * np.log(alpha + t_x)
    return per_x + np.logaddexp(a3, a4)


@dataclass(frozen=True)
class Histories:
    """Customers' (x, t_x, T) as distinct rows with how many customers share each: the same likelihood, summed
    once per row. Logs of whole days repeat rows often (a 2-million-row log's 187,000 customers have 93,000
    distinct rows); what depends on x alone is computed once per distinct x, the logs of α + t_x and α + T once
    per distinct time."""

    levels: np.ndarray  # distinct x
    level_count: np.ndarray  # customers at each distinct x
    count: np.ndarray  # customers per distinct row
    level: np.ndarray  # each row's index into ``levels``
    times: np.ndarray  # distinct values of t_x and T together
    recency: np.ndarray  # each row's index into ``times`` for t_x
    age: np.ndarray  # each row's index into ``times`` for T
    customers: int

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Histories:
        levels = np.unique(x)
        times = np.unique(np.concatenate([t_x, T]))
        size = len(times)
        level, recency, age = np.searchsorted(levels, x), np.searchsorted(times, t_x), np.searchsorted(times, T)
        if len(levels) * size * size < 1 << 62:
            # One integer per (x, t_x, T), ordered as the triples: sorting integers is far faster than sorting rows.
            rows, count = np.unique((level * size + recency) * size + age, return_counts=True)
            level, rest = np.divmod(rows, size * size)
            recency, age = np.divmod(rest, size)
        else:  # times not counted in whole days, too many to number the triples in 62 bits
            triples, count = np.unique(np.column_stack([level, recency, age]), axis=0, return_counts=True)
            level, recency, age = triples.T
        weight = count.astype(float)
        return cls(levels.astype(float), np.bincount(level, weights=weight, minlength=len(levels)), weight, level,
                   times.astype(float), recency, age, len(x))

    def log_likelihood(self, parameters: np.ndarray) -> tuple[float, np.ndarray]:
        """Σ over customers of equation 6, and its gradient in (r, α, a, b).

        Writing each customer's bracket as e^A3 + e^A4 and s = e^A4 / (e^A3 + e^A4) the share of the
        second term (the chance the customer dropped out right after t_x, given what was seen), the
        derivatives are those of the x-terms (digammas) plus the bracket's, weighted by 1 − s and s:
          ∂/∂r = ψ(r+x) − ψ(r) + log α − (1−s) log(α+T) − s log(α+t_x)
          ∂/∂α = r/α − (r+x) [(1−s)/(α+T) + s/(α+t_x)]
          ∂/∂a = ψ(a+b) − ψ(a+b+x) + s/a
          ∂/∂b = ψ(b+x) − ψ(b) + ψ(a+b) − ψ(a+b+x) − s/(b+x−1)
        """
        r, alpha, a, b = parameters
        levels, count, weight = self.levels, self.level_count, self.count
        repeat = levels > 0
        inverse_b = np.zeros(len(levels))
        inverse_b[repeat] = 1.0 / (b + levels[repeat] - 1.0)
        dropout = np.full(len(levels), -np.inf)
        dropout[repeat] = np.log(a) + np.log(inverse_b[repeat])  # log of a / (b + x − 1); none without a repeat
        per_x = gammaln(r + levels) - gammaln(r) + r * np.log(alpha) + betaln(a, b + levels) - betaln(a, b)
        log_plus, inverse_plus = np.log(alpha + self.times), 1.0 / (alpha + self.times)
        log_age = log_plus[self.age]
        spread = log_age - log_plus[self.recency]  # log(α+T) − log(α+t_x) ≥ 0
        rate_shape = (r + levels)[self.level]
        gap = dropout[self.level] + rate_shape * spread  # A4 − A3: −∞ without a repeat purchase
        small = np.exp(-np.abs(gap))
        denominator = 1.0 + small  # in [1, 2]: its log is exact to rounding, and faster than log1p
        softplus = np.maximum(gap, 0.0) + np.log(denominator)  # log(1 + e^gap), without overflow
        share = np.where(gap >= 0.0, 1.0, small) / denominator  # s = e^gap / (1 + e^gap)
        weighted_shape = weight * rate_shape
        gone = weight * share
        inverse_age = inverse_plus[self.age]
        value = count @ per_x + weight @ softplus - weighted_shape @ log_age
        digamma_ab, digamma_abx = digamma(a + b), digamma(a + b + levels)
        gradient = np.array([
            count @ (digamma(r + levels) - digamma(r)) + count.sum() * np.log(alpha) - weight @ log_age
            + gone @ spread,
            count.sum() * r / alpha - weighted_shape @ inverse_age
            - (gone * rate_shape) @ (inverse_plus[self.recency] - inverse_age),
            count @ (digamma_ab - digamma_abx) + gone.sum() / a,
            count @ (digamma(b + levels) - digamma(b) + digamma_ab - digamma_abx) - gone @ inverse_b[self.level],
        ])
        return float(value), gradient


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, source: str) -> Fit:
    """Maximum-likelihood BG/NBD parameters; a log where nobody bought twice is refused by name."""
    if len(x) == 0:
        raise DataError(f"{source}: no customer made a purchase before the calibration end; nothing to fit")
    if not np.any(x > 0):
        raise DataError(f"{source}: every one of the {len(x):,} customers made only one purchase (one purchase day) "
                        "before the calibration end; BG/NBD needs repeat purchases to tell buying from dropping out "
                        "(expected some customers with two or more purchase days; a later --calibration-end may help)")
    mean_rate = max(float(x.mean()), 1e-3) / max(float(T.mean()), 1e-3)
    alpha0 = 1.0 / mean_rate
    starts = [(1.0, alpha0, 1.0, 1.0), (0.5, 0.5 * alpha0, 0.5, 3.0), (2.0, 2.0 * alpha0, 2.0, 8.0),
              (0.25, 0.25 * alpha0, 0.8, 2.5)]
    return fit_maximum_likelihood(MODEL, NAMES, Histories.of(x, t_x, T).log_likelihood, starts, len(x), source)


def probability_alive(parameters: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active at T | x, t_x, T). A customer with no repeat purchase has not had a chance to drop out: 1."""
    r, alpha, a, b = (parameters[name] for name in NAMES)
    ratio = np.zeros(len(x))
    repeat = x > 0
    with np.errstate(over="ignore"):
        ratio[repeat] = np.exp(np.log(a) - np.log(b + x[repeat] - 1.0)
                               + (r + x[repeat]) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat])))
    return 1.0 / (1.0 + ratio)


def expected_purchases(parameters: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                       t: float) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T]: the paper's equation 10 (dropout during the t included)."""
    r, alpha, a, b = (parameters[name] for name in NAMES)

    def given_alive(x: np.ndarray, T: np.ndarray) -> np.ndarray:
        z = t / (alpha + T + t)
        head = (a + b + x - 1.0) / (a - 1.0)
        return head * (1.0 - np.exp((r + x) * np.log((alpha + T) / (alpha + T + t)))
                       * hyp2f1(r + x, b + x, a + b + x - 1.0, z))

    return on_distinct_histories(given_alive, x, T) * probability_alive(parameters, x, t_x, T)


def expected_purchases_new(parameters: dict[str, float], t: float) -> float:
    """E[repeat purchases in (0, t]] of a customer just acquired: equation 9."""
    r, alpha, a, b = (parameters[name] for name in NAMES)
    z = t / (alpha + t)
    return float((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, z)))


def dropout_hazard(parameters: dict[str, float], x: np.ndarray, T: np.ndarray, units: float) -> np.ndarray:
    """Probability that a customer active now drops out within the next ``units`` time units.

    Given alive, λ ~ Gamma(r + x, α + T) and p ~ Beta(a, b + x); dropouts come at rate λp, so
    P(gone by s) = 1 − E[exp(−λ p s)] = 1 − ₂F₁(r + x, a; a + b + x; −s / (α + T)).
    """
    r, alpha, a, b = (parameters[name] for name in NAMES)
    return on_distinct_histories(lambda x, T: 1.0 - hyp2f1(r + x, a, a + b + x, -units / (alpha + T)), x, T)


def on_distinct_histories(compute: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray,
                          T: np.ndarray) -> np.ndarray:
    """``compute(x, T)`` for every customer, evaluated once per distinct (x, T): a million customers of a log of
    whole days share a few thousand, and ₂F₁ costs a microsecond or more a call. The same numbers, elementwise."""
    levels, ages = np.unique(x), np.unique(T)
    key = np.searchsorted(levels, x) * len(ages) + np.searchsorted(ages, T)
    distinct = np.unique(key)
    if len(distinct) > len(key) // 2:
        return compute(x, T)
    level, age = np.divmod(distinct, len(ages))
    return compute(levels[level], ages[age])[np.searchsorted(distinct, key)]


def new_customer_hazard_moments(parameters: dict[str, float], units: float) -> tuple[float, float]:
    """Mean and variance of a newly acquired customer's dropout probability per ``units`` (x = 0, T = 0)."""
    r, alpha, a, b = (parameters[name] for name in NAMES)
    survive_once = hyp2f1(r, a, a + b, -units / alpha)  # E[e^{−λps}]
    survive_twice = hyp2f1(r, a, a + b, -2.0 * units / alpha)  # E[e^{−2λps}]
    mean = 1.0 - survive_once
    second_moment = 1.0 - 2.0 * survive_once + survive_twice
    return float(mean), float(max(second_moment - mean**2, 0.0))


def purchase_rate_given_alive(parameters: dict[str, float], x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[λ | x, T, alive] = (r + x) / (α + T): purchases per time unit while the customer stays."""
    return (parameters["r"] + x) / (parameters["alpha"] + T)
