"""Customer lifetime value, with and without the option to abandon.

Margins evolve as m_t = a·G^t − c: the part that scales with revenue (a, growing by G a month)
less the fixed part of cost to serve (c: account management, contacts). Discounted with
q = retention × 1/(1+i) per month, plain lifetime value is Σ_{t=1..L} m_t q^t (Gupta & Lehmann,
with growth). The option to abandon (Haenlein, Kaplan & Schoder, J. Marketing 2006) lets the
firm stop as soon as future periods turn negative. Because m_t is monotone in t, the optimal
stopping time has a closed form, so the whole population is valued without a loop over months.
"""

from __future__ import annotations

import numpy as np


def _geometric_sum(ratio: np.ndarray, periods: np.ndarray | int) -> np.ndarray:
    """Σ_{t=1..periods} ratio^t, elementwise, safe at ratio = 1."""
    ratio = np.asarray(ratio, dtype=float)
    periods = np.asarray(periods, dtype=float)
    near_one = np.abs(1.0 - ratio) < 1e-12
    safe = np.where(near_one, 0.5, ratio)
    closed = safe * (1.0 - np.power(safe, periods)) / (1.0 - safe)
    return np.where(near_one, periods, closed)


def discounted_margin_sum(
    scaling_margin: np.ndarray,
    fixed_cost: np.ndarray,
    monthly_growth: np.ndarray,
    retention_discount: np.ndarray,
    periods: np.ndarray | int,
) -> np.ndarray:
    """Σ_{t=1..periods} (a·G^t − c)·q^t for each customer."""
    growth_factor = 1.0 + monthly_growth
    return scaling_margin * _geometric_sum(growth_factor * retention_discount, periods) - fixed_cost * _geometric_sum(
        retention_discount, periods
    )


def lifetime_values(
    scaling_margin: np.ndarray,
    fixed_cost: np.ndarray,
    monthly_growth: np.ndarray,
    retention: np.ndarray,
    monthly_discount_rate: float,
    lifetime_months: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(plain lifetime value, lifetime value with the option to abandon) per customer.

    With growing or flat margins (G ≥ 1) the best policy is all-or-nothing: keep for the whole
    horizon if that is worth more than zero. With shrinking margins (G < 1) keep exactly while
    the margin is positive, i.e. for τ* = ⌈ln(c/a)/ln G⌉ − 1 months.
    """
    q = retention / (1.0 + monthly_discount_rate)
    plain = discounted_margin_sum(scaling_margin, fixed_cost, monthly_growth, q, lifetime_months)
    with_option = np.maximum(plain, 0.0)
    # Shrinking margins that turn negative within the horizon: stop when they do.
    # a·G^t > c  ⇔  t < ln(c/a)/ln(G); only these customers need the stopped sum.
    shrinking = np.flatnonzero(monthly_growth < 0.0)
    if len(shrinking):
        a, c, g = scaling_margin[shrinking], fixed_cost[shrinking], monthly_growth[shrinking]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            boundary = np.log(c / a) / np.log1p(g)
        positive_months = np.where(
            (c <= 0) | (a <= 0),
            np.where(c <= 0, lifetime_months, 0),
            np.clip(np.ceil(np.nan_to_num(boundary, nan=0.0)) - 1.0, 0, lifetime_months),
        )
        stopped = discounted_margin_sum(a, c, g, q[shrinking], positive_months)
        with_option[shrinking] = np.maximum(stopped, 0.0)
    return plain, with_option
