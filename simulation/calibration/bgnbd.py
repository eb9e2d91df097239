"""The BG/NBD model of repeat purchasing and dropout (Fader, Hardie & Lee 2005).

While active, a customer buys as a Poisson process of rate λ ~ Gamma(r, α); after any purchase
they drop out for good with probability p ~ Beta(a, b). What a customer did in the calibration
period is summarised by x (repeat purchases), t_x (time of the last, from the first) and T (time
from the first purchase to the calibration end), in the fit's time unit.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from ..errors import DataError
from .mle import Fit, fit_maximum_likelihood

NAMES = ("r", "alpha", "a", "b")
MODEL = "BG/NBD"


def log_likelihood_terms(parameters: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood (the paper's equation 6, written with logs for large x)."""
    levels, index = np.unique(x, return_inverse=True)
    return _terms(parameters, levels, index, t_x, T)


def _terms(parameters: np.ndarray, levels: np.ndarray, index: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Equation 6 with the terms in x alone computed once per distinct x (``levels[index]`` is each x)."""
    r, alpha, a, b = parameters
    # Γ(r+x)/Γ(r) α^r and B(a, b+x)/B(a, b) = Γ(a+b)Γ(b+x) / (Γ(b)Γ(a+b+x)): per distinct x
    per_x = gammaln(r + levels) - gammaln(r) + r * np.log(alpha) + betaln(a, b + levels) - betaln(a, b)
    repeat = levels > 0
    dropout = np.full(len(levels), -np.inf)
    dropout[repeat] = np.log(a) - np.log(b + levels[repeat] - 1.0)
    x = levels[index]
    a3 = -(r + x) * np.log(alpha + T)
    a4 = dropout[index] - (r + x) * np.log(alpha + t_x)
    return per_x[index] + np.logaddexp(a3, a4)


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, source: str) -> Fit:
    """Maximum-likelihood BG/NBD parameters; a log where nobody bought twice is refused by name."""
    if len(x) == 0:
        raise DataError(f"{source}: no customer made a purchase before the calibration end; nothing to fit")
    if not np.any(x > 0):
        raise DataError(f"{source}: every one of the {len(x):,} customers made only one purchase (one purchase day) "
                        "before the calibration end; BG/NBD needs repeat purchases to tell buying from dropping out "
                        "(expected some customers with two or more purchase days; a later --calibration-end may help)")
    # Distinct (x, t_x, T) rows are far fewer than customers in a log of whole days: sum each once.
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    ux, ut, uT = rows[:, 0], rows[:, 1], rows[:, 2]
    weights = counts.astype(float)
    mean_rate = max(float(x.mean()), 1e-3) / max(float(T.mean()), 1e-3)
    alpha0 = 1.0 / mean_rate
    starts = [(1.0, alpha0, 1.0, 1.0), (0.5, 0.5 * alpha0, 0.5, 3.0), (2.0, 2.0 * alpha0, 2.0, 8.0),
              (0.25, 0.25 * alpha0, 0.8, 2.5)]
    levels, index = np.unique(ux, return_inverse=True)
    return fit_maximum_likelihood(
        MODEL, NAMES, lambda params: float(weights @ _terms(params, levels, index, ut, uT)), starts, len(x), source,
    )


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
    z = t / (alpha + T + t)
    head = (a + b + x - 1.0) / (a - 1.0)
    tail = 1.0 - np.exp((r + x) * np.log((alpha + T) / (alpha + T + t))) * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
    return head * tail * probability_alive(parameters, x, t_x, T)


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
    return 1.0 - hyp2f1(r + x, a, a + b + x, -units / (alpha + T))


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
