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

from simulation.book.state import CustomerColumns

LIFETIME_MONTHS = 120  # horizon of lifetime values and the option to abandon, months


def geometric_sum(ratio: np.ndarray, periods: np.ndarray | int) -> np.ndarray:
    """Σ_{t=1..periods} ratio^t, elementwise, safe at ratio = 1."""
    ratio = np.asarray(ratio, dtype=float)
    gap = 1.0 - ratio
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # x^n as exp(n·ln x), with expm1 so that 1 − x^n keeps its digits near x = 1: three
        # vectorised transcendental calls cost less than the ten multiplications of repeated squaring.
        total = ratio * -np.expm1(np.log(ratio) * periods) / gap
    if np.ndim(periods):
        total[np.asarray(periods) == 0] = 0.0  # an empty sum, even where ln x is −∞
    near_one = np.abs(gap) < 1e-12
    if near_one.any():  # the closed form is 0/0 there; the sum is just the number of periods
        total[near_one] = np.broadcast_to(np.asarray(periods, dtype=float), ratio.shape)[near_one]
    return total


def discounted_margin_sum(
    scaling_margin: np.ndarray,
    fixed_cost: np.ndarray,
    monthly_growth: np.ndarray,
    retention_discount: np.ndarray,
    periods: np.ndarray | int,
) -> np.ndarray:
    """Σ_{t=1..periods} (a·G^t − c)·q^t for each customer."""
    growth_factor = 1.0 + monthly_growth
    return scaling_margin * geometric_sum(growth_factor * retention_discount, periods) - fixed_cost * geometric_sum(
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
    # Stopping early only pays for margins positive now that turn negative within the horizon:
    # shrinking (G < 1) with a > c > 0, where a·G^t > c  ⇔  t < ln(c/a)/ln(G). Every other
    # customer is all-or-nothing, which max(plain, 0) already is.
    turning = np.flatnonzero((monthly_growth < 0.0) & (scaling_margin > fixed_cost) & (fixed_cost > 0.0))
    if len(turning):
        a, c, g = scaling_margin[turning], fixed_cost[turning], monthly_growth[turning]
        with np.errstate(divide="ignore", over="ignore"):  # ln(c/a) → −∞ or ln G → −0: it never turns
            positive_months = np.minimum(np.ceil(np.log(c / a) / np.log1p(g)) - 1.0, lifetime_months)
        early = positive_months < lifetime_months
        turning, positive_months = turning[early], positive_months[early]
        stopped = discounted_margin_sum(a[early], c[early], g[early], q[turning], positive_months)
        with_option[turning] = np.maximum(stopped, 0.0)
    return plain, with_option


def customer_lifetime_values(
    customers: CustomerColumns, monthly_discount_rate: float, rows: np.ndarray | slice = slice(None)
) -> tuple[np.ndarray, np.ndarray]:
    """Lifetime values of customers from their economics today and this month's churn hazard.

    Customers off the books have no margin and value 0, so a sum over every row needs no mask.
    """
    c = customers
    return lifetime_values(
        scaling_margin=c.revenue[rows] * c.profit_rate[rows],
        fixed_cost=c.fixed_cost[rows],
        monthly_growth=c.growth_factor[rows] - 1.0,
        retention=1.0 - c.hazard[rows],
        monthly_discount_rate=monthly_discount_rate,
        lifetime_months=LIFETIME_MONTHS,
    )


def referral_values(
    customers: CustomerColumns, rows: np.ndarray, monthly_discount_rate: float, acquisition_cost: float
) -> np.ndarray:
    """Each expected referral counted as an acquisition cost saved, over the same discounted lifetime.

    "What's the best way to manage unprofitable customers?" (undated): medium spenders are often the best
    referrers, so current profit alone misjudges them.
    """
    retention = 1.0 - customers.hazard[rows]
    annuity = geometric_sum(retention / (1.0 + monthly_discount_rate), LIFETIME_MONTHS)
    return customers.referrals_per_month[rows] * acquisition_cost * annuity
