"""The quarter's profit broken down: by value segment now, by value segment at the start, and the
Lorenz curve of the book at the horizon.

Current segments are re-ranked at every review inside each strategy's own book; starting
segments are fixed cohorts (0 = joined later), so strategies can be compared on the same
customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.core.concentration import lorenz_curve
from simulation.core.segments import JOINED_LATER_LABEL, SEGMENT_COUNT, SEGMENT_LABELS
from simulation.model.kernels import QuarterScan

LORENZ_POINTS = 51


def whole_book(count: Any, weight: float) -> int:
    """A count of simulated customers for the whole book they stand for (``sample_weight``), to the nearest one."""
    return int(count) if weight == 1.0 else int(round(float(count) * weight))


def segment_records(keys: dict[str, Any], sums: QuarterScan, weight: float = 1.0) -> list[dict[str, Any]]:
    """Customers, revenue, cost and profit of the quarter per current value segment (Goonan, Inforte, undated),
    for the whole book when each simulated customer stands for ``weight``."""
    return [
        {**keys, "segment": index, "segment_label": SEGMENT_LABELS[index - 1],
         "customers": whole_book(sums.segment_customers[index], weight),
         "revenue": float(sums.segment_revenue[index]) * weight,
         "cost": float(sums.segment_revenue[index] - sums.segment_profit[index]) * weight,
         "profit": float(sums.segment_profit[index]) * weight}
        for index in range(1, SEGMENT_COUNT + 1)
    ]


def start_segment_records(keys: dict[str, Any], sums: QuarterScan, weight: float = 1.0) -> list[dict[str, Any]]:
    """The same per starting segment, a fixed cohort: the same customers under every strategy.

    ``customers`` counts those on the books at quarter end; revenue and profit include those who
    left during the quarter.
    """
    labels = (JOINED_LATER_LABEL, *SEGMENT_LABELS)
    return [
        {**keys, "start_segment": index, "segment_label": labels[index],
         "customers": whole_book(sums.start_active[index], weight), "revenue": float(sums.start_revenue[index]) * weight,
         "cost": float(sums.start_revenue[index] - sums.start_profit[index]) * weight,
         "profit": float(sums.start_profit[index]) * weight}
        for index in range(0, SEGMENT_COUNT + 1)
    ]


def lorenz_records(keys: dict[str, Any], profit: np.ndarray, ascending: bool = False) -> list[dict[str, Any]]:
    """The Lorenz curve of the book's monthly profit (customers on the books), at 51 points."""
    share, cumulative = lorenz_curve(profit, points=LORENZ_POINTS, ascending=ascending)
    return [{**keys, "customer_share": float(s), "profit_share": float(p)} for s, p in zip(share, cumulative, strict=True)]
