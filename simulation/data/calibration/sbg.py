"""The shifted-beta-geometric model of contract renewal (Fader & Hardie 2007).

At each period's end a customer renews with probability 1 − θ; θ ~ Beta(α, β) across customers,
so the survival curve flattens as the loyal remain. Data are, per customer, the period in which
they left (1 = did not renew after the first) or, for those still here, the periods survived
(right-censored).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma

from simulation.core.errors import DataError
from simulation.data.calibration.mle import Fit, fit_maximum_likelihood

NAMES = ("alpha", "beta")
MODEL = "shifted-beta-geometric"


def log_likelihood(parameters: np.ndarray, lost_in: np.ndarray, lost_count: np.ndarray, survived: np.ndarray,
                   survived_count: np.ndarray) -> tuple[float, np.ndarray]:
    """Σ counts × log P(lost in period t) + Σ counts × log S(n) (survived n periods, still active), and its
    gradient in (α, β): with ∂ log B(x, y)/∂x = ψ(x) − ψ(x + y), a sum of digammas."""
    alpha, beta = parameters
    base = betaln(alpha, beta)
    lost = betaln(alpha + 1.0, beta + lost_in - 1.0) - base  # P(T = t) = B(α + 1, β + t − 1) / B(α, β)
    still = betaln(alpha, beta + survived) - base  # S(n) = B(α, β + n) / B(α, β)
    value = float(lost_count @ lost + survived_count @ still)
    total = lost_count.sum() + survived_count.sum()
    base_alpha = digamma(alpha) - digamma(alpha + beta)  # ∂ log B(α, β)/∂α
    base_beta = digamma(beta) - digamma(alpha + beta)
    lost_sum, still_sum = digamma(alpha + beta + lost_in), digamma(alpha + beta + survived)
    gradient = np.array([
        lost_count.sum() * digamma(alpha + 1.0) + survived_count.sum() * digamma(alpha)
        - lost_count @ lost_sum - survived_count @ still_sum - total * base_alpha,
        lost_count @ digamma(beta + lost_in - 1.0) + survived_count @ digamma(beta + survived)
        - lost_count @ lost_sum - survived_count @ still_sum - total * base_beta,
    ])
    return value, gradient


def fit(lost_in: np.ndarray, survived: np.ndarray, source: str) -> Fit:
    """Fit from each leaver's period of loss (≥ 1) and each stayer's periods survived (≥ 0)."""
    if len(lost_in) == 0:
        raise DataError(f"{source}: no customer has left (no end date before the calibration end); the "
                        "shifted-beta-geometric model needs some who left to tell how fast customers go")
    if not np.any(survived > 0) and not np.any(lost_in > 1):
        raise DataError(f"{source}: every customer left in their first period; nothing tells loyal customers "
                        "from the rest (expected some who renewed at least once)")
    lost_values, lost_counts = np.unique(lost_in, return_counts=True)
    kept_values, kept_counts = np.unique(survived, return_counts=True)
    starts = [(1.0, 1.0), (0.5, 3.0), (2.0, 10.0), (0.2, 0.5)]
    return fit_maximum_likelihood(
        MODEL, NAMES,
        lambda params: log_likelihood(params, lost_values.astype(float), lost_counts.astype(float),
                                      kept_values.astype(float), kept_counts.astype(float)),
        starts, len(lost_in) + len(survived), source,
    )


def fit_cohort(survival: np.ndarray, initial: float, source: str) -> Fit:
    """Fit from a cohort's survival by period (S(0) = 1 first; shares), ``initial`` customers at the start.

    Those lost in period t are initial × (S(t−1) − S(t)); those still there at the last period are censored.
    """
    survival = np.asarray(survival, dtype=float)
    periods = len(survival) - 1
    lost_counts = initial * -np.diff(survival)
    kept = initial * survival[-1]
    lost_in = np.arange(1, periods + 1, dtype=float)
    starts = [(1.0, 1.0), (0.5, 3.0), (2.0, 10.0), (0.2, 0.5)]
    return fit_maximum_likelihood(
        MODEL, NAMES,
        lambda params: log_likelihood(params, lost_in, lost_counts, np.array([float(periods)]), np.array([kept])),
        starts, int(round(initial)), source,
    )


def survival(parameters: dict[str, float], periods: int) -> np.ndarray:
    """Expected share of a cohort still active after t = 0 … periods: B(α, β + t) / B(α, β)."""
    alpha, beta = parameters["alpha"], parameters["beta"]
    t = np.arange(periods + 1, dtype=float)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def churn_given_survived(parameters: dict[str, float], survived: np.ndarray) -> np.ndarray:
    """A customer's own churn probability per period after surviving n periods: E[θ | n] = α / (α + β + n)."""
    alpha, beta = parameters["alpha"], parameters["beta"]
    return alpha / (alpha + beta + survived)
