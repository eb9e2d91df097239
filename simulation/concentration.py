"""Risk concentration of profit: how much the company depends on a few customers (seed 004).

All measures take per-customer profit contributions. Shares, the Herfindahl index and the Gini
coefficient are computed on the *positive* contributions (loss-makers count as zero): they ask
how concentrated the sources of profit are. ``top_profit_share`` uses net profit, so it can
exceed 1 when loss-makers eat into what the top customers earn.
"""

from __future__ import annotations

import numpy as np


def top_profit_share(profit: np.ndarray, share: float = 0.10) -> float:
    """Share of total net profit earned by the top ``share`` of customers by profit."""
    n = len(profit)
    total = float(profit.sum())
    if n == 0 or total == 0.0:
        return float("nan")
    k = max(1, int(round(share * n)))
    top = np.partition(profit, n - k)[n - k:]
    return float(top.sum()) / total


def herfindahl(profit: np.ndarray) -> float:
    """Σ s_i² of positive profit shares: 1/n when even, 1 when one customer earns everything."""
    positive = np.maximum(profit, 0.0)
    total = positive.sum()
    if total <= 0:
        return float("nan")
    shares = positive / total
    return float(np.dot(shares, shares))


def gini(profit: np.ndarray) -> float:
    """Gini coefficient of positive profit contributions (0 = even, → 1 = one customer)."""
    positive = np.sort(np.maximum(profit, 0.0))
    n = len(positive)
    total = positive.sum()
    if n == 0 or total <= 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.dot(ranks, positive)) / (n * total) - (n + 1.0) / n)


def lorenz_curve(profit: np.ndarray, points: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of customers (poorest first) against cumulative share of net profit."""
    ordered = np.sort(profit)
    n = len(ordered)
    customer_share = np.linspace(0.0, 1.0, points)
    if n == 0 or ordered.sum() == 0:
        return customer_share, np.full(points, np.nan)
    cumulative = np.concatenate([[0.0], np.cumsum(ordered)]) / ordered.sum()
    return customer_share, np.interp(customer_share * n, np.arange(n + 1), cumulative)


def top_customers_loss(profit: np.ndarray, share: float = 0.01) -> float:
    """Stress figure: the profit lost if the top ``share`` of customers left."""
    n = len(profit)
    if n == 0:
        return 0.0
    k = max(1, int(round(share * n)))
    return float(np.partition(profit, n - k)[n - k:].sum())


def concentration_measures(profit: np.ndarray) -> dict[str, float]:
    """All per-quarter concentration outcomes from one sort of the contributions."""
    ordered = np.sort(profit)
    n = len(ordered)
    total = float(ordered.sum())
    positive = np.maximum(ordered, 0.0)  # still sorted
    positive_total = float(positive.sum())
    if n == 0:
        return {"top10_profit_share": float("nan"), "hhi": float("nan"), "effective_customers": float("nan"),
                "gini": float("nan"), "top1_loss": 0.0}
    top10 = ordered[n - max(1, int(round(0.10 * n))):].sum()
    top1 = ordered[n - max(1, int(round(0.01 * n))):].sum()
    if positive_total > 0:
        shares = positive / positive_total
        hhi = float(np.dot(shares, shares))
        gini_value = float(2.0 * np.dot(np.arange(1, n + 1), positive) / (n * positive_total) - (n + 1.0) / n)
    else:
        hhi = gini_value = float("nan")
    return {
        "top10_profit_share": float(top10) / total if total != 0 else float("nan"),
        "hhi": hhi,
        "effective_customers": 1.0 / hhi if hhi == hhi and hhi > 0 else float("nan"),
        "gini": gini_value,
        "top1_loss": float(top1),
    }
