"""Risk concentration: how far profit rests on a few customers (Goonan, Inforte, undated), defined for any book.

Every measure is taken over the *profitable* customers on the books (monthly profit > 0):
loss-makers earn nothing that could be concentrated, so letting them go leaves these measures
unchanged, and a book whose net profit is negative still has a well-defined concentration. A
rise always means more dependence on fewer customers. The profit at risk if the top 1 % leave is
also given as a share of the book's net profit, which is undefined (NaN) when there is none.
"""

from __future__ import annotations

import numpy as np

TOP_SHARE = 0.10
STRESS_SHARE = 0.01


def top_count(customers: int, share: float) -> int:
    """How many customers the top ``share`` is: at least one of any non-empty group."""
    return max(1, int(round(share * customers))) if customers else 0


def concentration_measures(positive_sorted: np.ndarray, net_profit: float) -> dict[str, float]:
    """Measures from the profitable customers' profits in ascending order and the book's net profit."""
    n = len(positive_sorted)
    nan = float("nan")
    if n == 0:
        return {"top10_positive_profit_share": nan, "hhi": nan, "effective_customers": nan, "gini": nan,
                "top1_loss": 0.0, "top1_profit_at_risk": nan}
    total = float(positive_sorted.sum())
    top1 = float(positive_sorted[n - top_count(n, STRESS_SHARE):].sum())
    shares = positive_sorted / total
    hhi = float(np.dot(shares, shares))
    ranks = np.arange(1, n + 1, dtype=float)
    return {
        "top10_positive_profit_share": float(positive_sorted[n - top_count(n, TOP_SHARE):].sum()) / total,
        "hhi": hhi,
        "effective_customers": 1.0 / hhi,
        "gini": float(2.0 * np.dot(ranks, positive_sorted) / (n * total) - (n + 1.0) / n),
        "top1_loss": top1,
        "top1_profit_at_risk": top1 / net_profit if net_profit > 0 else nan,
    }


def lorenz_curve(profit: np.ndarray, points: int = 101, ascending: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of customers (poorest first) against cumulative share of net profit; ``ascending``: the
    profits come in order already (a quarter's ranking), and are not sorted again."""
    ordered = profit if ascending else np.sort(profit)
    n = len(ordered)
    customer_share = np.linspace(0.0, 1.0, points)
    if n == 0 or ordered.sum() == 0:
        return customer_share, np.full(points, np.nan)
    cumulative = np.concatenate([[0.0], np.cumsum(ordered)]) / ordered.sum()
    return customer_share, np.interp(customer_share * n, np.arange(n + 1), cumulative)
