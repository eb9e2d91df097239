"""The quarter's profit broken down: by value segment now, by value segment at the start, and the
Lorenz curve of the book at the horizon.

Current segments are re-ranked at every review inside each strategy's own book; starting
segments are fixed cohorts (0 = joined later), so strategies can be compared on the same
customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .concentration import lorenz_curve
from .segments import JOINED_LATER_LABEL, SEGMENT_COUNT, SEGMENT_LABELS
from .state import ACTIVE, CustomerColumns

LORENZ_POINTS = 51


def _by_group(group: np.ndarray, customers: CustomerColumns, seen: np.ndarray) -> tuple[np.ndarray, ...]:
    """Count, revenue and profit per group 0…8 of the customers seen this quarter.

    Quarter sums are zero for customers not on the books this quarter; they are counted in a
    tenth, discarded bin.
    """
    bins = SEGMENT_COUNT + 2
    counted = np.where(seen, group, SEGMENT_COUNT + 1).astype(np.intp)
    return (
        np.bincount(counted, minlength=bins),
        np.bincount(counted, weights=customers.quarter_revenue, minlength=bins),
        np.bincount(counted, weights=customers.quarter_profit, minlength=bins),
    )


def segment_records(keys: dict[str, Any], customers: CustomerColumns, seen: np.ndarray) -> list[dict[str, Any]]:
    """Customers, revenue, cost and profit of the quarter per current value segment (seed 004)."""
    counts, revenue, profit = _by_group(customers.segment, customers, seen)
    return [
        {**keys, "segment": index, "segment_label": SEGMENT_LABELS[index - 1], "customers": int(counts[index]),
         "revenue": float(revenue[index]), "cost": float(revenue[index] - profit[index]), "profit": float(profit[index])}
        for index in range(1, SEGMENT_COUNT + 1)
    ]


def start_segment_records(keys: dict[str, Any], customers: CustomerColumns, seen: np.ndarray) -> list[dict[str, Any]]:
    """The same per starting segment, a fixed cohort: the same customers under every strategy.

    ``customers`` counts those on the books at quarter end; revenue and profit include those who
    left during the quarter.
    """
    _, revenue, profit = _by_group(customers.start_segment, customers, seen)
    active = np.bincount(customers.start_segment.astype(np.intp), weights=(customers.status == ACTIVE).astype(float),
                         minlength=SEGMENT_COUNT + 1)
    labels = (JOINED_LATER_LABEL, *SEGMENT_LABELS)
    return [
        {**keys, "start_segment": index, "segment_label": labels[index], "customers": int(active[index]),
         "revenue": float(revenue[index]), "cost": float(revenue[index] - profit[index]), "profit": float(profit[index])}
        for index in range(0, SEGMENT_COUNT + 1)
    ]


def lorenz_records(keys: dict[str, Any], profit: np.ndarray) -> list[dict[str, Any]]:
    """The Lorenz curve of the book's monthly profit (customers on the books), at 51 points."""
    share, cumulative = lorenz_curve(profit, points=LORENZ_POINTS)
    return [{**keys, "customer_share": float(s), "profit_share": float(p)} for s, p in zip(share, cumulative, strict=True)]
