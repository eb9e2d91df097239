"""The model's formulas, as pure functions of arrays: hazards, queueing, satisfaction, morale, sBG.

These are kept free of SimPy and of the model's state object so they can be tested on their own
against textbook results; the mechanisms (``mechanisms/``) and the engine decide *when* to call them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def price_hazard(price: np.ndarray, elasticity: float) -> np.ndarray:
    """Churn multiplier of a price change: price^elasticity (1 at list price, or when elasticity is 0)."""
    if not elasticity:
        return np.ones_like(price, dtype=float)
    return np.power(price, elasticity)


def churn_hazard(
    base_hazard: np.ndarray,
    satisfaction_gap: np.ndarray | None = None,
    satisfaction_sensitivity: float = 0.0,
    trust: np.ndarray | None = None,
    trust_sensitivity: float = 0.0,
    at_risk: np.ndarray | None = None,
    distrust: float = 0.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Monthly churn probability: the customer's base hazard times multipliers, capped at 1.

    ``base_hazard`` is the customer's own sBG draw × segment multiplier × price multiplier.
    ``satisfaction_gap`` is reference − satisfaction (positive when customers are less happy
    than when the scenario's churn rates were observed); ``at_risk`` marks customers near the
    divestment threshold, whose hazard rises by ``distrust``. A mechanism whose sensitivity is 0
    contributes a factor of exactly 1. Written in place into ``out`` when given: this runs
    every month over every customer.
    """
    hazard = out if out is not None else np.empty_like(base_hazard)
    if satisfaction_gap is not None and satisfaction_sensitivity:
        np.multiply(satisfaction_gap, satisfaction_sensitivity, out=hazard)
        np.exp(hazard, out=hazard)
        hazard *= base_hazard
    else:
        hazard[:] = base_hazard
    if trust is not None and trust_sensitivity:
        hazard *= np.exp(trust_sensitivity * (1.0 - trust))
    if at_risk is not None and distrust:
        hazard *= 1.0 + distrust * at_risk  # arithmetic on the mask: 15× faster than hazard[at_risk] *= here
    np.minimum(hazard, 1.0, out=hazard)
    return hazard


def erlang_c_wait(offered_load: float, agents: int, handle_minutes: float, max_wait: float) -> float:
    """Mean wait in minutes of an M/M/c queue (Erlang C); ``max_wait`` when the queue is unstable.

    ``offered_load`` is in erlangs (arrival rate × handling time). Uses the numerically stable
    Erlang-B recursion, B(k) = A·B(k−1) / (k + A·B(k−1)), then C = c·B / (c − A·(1 − B)).
    """
    if offered_load <= 0:
        return 0.0
    if offered_load >= agents:
        return max_wait
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    wait_probability = agents * blocking / (agents - offered_load * (1.0 - blocking))
    return min(max_wait, wait_probability * handle_minutes / (agents - offered_load))


def wait_penalty(wait_minutes: float, tolerated: float, loss_per_minute: float) -> float:
    """Satisfaction lost in a month by a customer who waited ``wait_minutes`` per contact."""
    return min(1.0, loss_per_minute * max(0.0, wait_minutes - tolerated))


def move_toward(current: Any, target: np.ndarray | float, rate: float) -> Any:
    """Close ``rate`` of the gap between current and target (first-order adjustment)."""
    return current + rate * (target - current)


def morale_target(loss_effort_share: float, sensitivity: float) -> float:
    """Staff morale when ``loss_effort_share`` of staffed contacts serve loss-making customers."""
    return float(np.clip(1.0 - sensitivity * loss_effort_share, 0.0, 1.0))


def beta_churn_probabilities(
    rng: np.random.Generator, count: int, alpha: float, beta: float, heterogeneous: bool
) -> np.ndarray:
    """Each customer's monthly churn probability: Beta(α, β) draws (sBG), or the mean for all."""
    if heterogeneous:
        return rng.beta(alpha, beta, count)
    return np.full(count, alpha / (alpha + beta))


PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def churn_per_month(probability: np.ndarray | float, period: str) -> np.ndarray:
    """A churn probability per ``period`` as the monthly one with the same survival at whole periods.

    θ a year becomes 1 − (1 − θ)^(1/12) a month: twelve months at the monthly rate survive exactly
    as one year at the yearly rate (entering a yearly θ as monthly would lose far more customers).
    """
    months = PERIOD_MONTHS[period]
    theta = np.asarray(probability, dtype=float)
    if months == 1:
        return theta.copy()
    with np.errstate(divide="ignore"):  # θ = 1: log(0) = −inf, and a certain loss stays certain
        return -np.expm1(np.log1p(-np.minimum(theta, 1.0)) / months)


def sbg_survival(alpha: float, beta: float, months: int) -> np.ndarray:
    """Expected share of a cohort still active after t = 0..months under the sBG model.

    S(t) = B(α, β + t) / B(α, β) (Fader & Hardie 2007): the curve flattens as the loyal remain.
    """
    t = np.arange(months + 1)
    log_b = (
        np.vectorize(math.lgamma)(beta + t) - np.vectorize(math.lgamma)(alpha + beta + t)
        - (math.lgamma(beta) - math.lgamma(alpha + beta))
    )
    return np.exp(log_b)
