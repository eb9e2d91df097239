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


def _geometric_sum(ratio: np.ndarray, periods: np.ndarray) -> np.ndarray:
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
    growth_factor = 1.0 + monthly_growth
    shrinking = growth_factor < 1.0
    # Months with a positive margin when margins shrink: a·G^t > c  ⇔  t < ln(c/a)/ln(G).
    with np.errstate(divide="ignore", invalid="ignore"):
        boundary = np.log(fixed_cost / scaling_margin) / np.log(np.where(shrinking, growth_factor, 0.5))
    positive_months = np.where(
        (fixed_cost <= 0) | (scaling_margin <= 0),
        np.where(fixed_cost <= 0, lifetime_months, 0),
        np.clip(np.ceil(boundary) - 1.0, 0, lifetime_months),
    )
    positive_months = np.nan_to_num(positive_months, nan=0.0)
    stopped = discounted_margin_sum(scaling_margin, fixed_cost, monthly_growth, q, positive_months)
    with_option = np.where(shrinking, np.maximum(stopped, 0.0), np.maximum(plain, 0.0))
    return plain, with_option
