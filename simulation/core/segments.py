"""Eight value-based segments by profit rank (Goonan, Inforte, undated), and the one ranking of the book they share
with the concentration measures each quarter.

Ranking the book is the costliest step of a quarter (a sort), so it is done once at each quarter
end and serves both the quarter's concentration measures and the next review's segment cut points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENT_COUNT = 8
# Segment boundaries as shares of customers counted from the most profitable (S1) down.
SEGMENT_TOP_SHARES = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90)
SEGMENT_LABELS = (
    "S1 top 1 %",
    "S2 1–5 %",
    "S3 5–10 %",
    "S4 10–25 %",
    "S5 25–50 %",
    "S6 50–75 %",
    "S7 75–90 %",
    "S8 bottom 10 %",
)
JOINED_LATER_LABEL = "Joined later"  # the starting-segment cohort of customers acquired during the run
assert len(SEGMENT_LABELS) == SEGMENT_COUNT == len(SEGMENT_TOP_SHARES) + 1


@dataclass(frozen=True)
class BookRanking:
    """The book's monthly profits ranked: segment cut points and the profitable customers in order."""

    cut_points: np.ndarray  # profit at each segment boundary, S1's first (descending)
    positive_sorted: np.ndarray  # profits > 0, ascending
    net_profit: float  # the book's net monthly profit

    @classmethod
    def of(cls, profit: np.ndarray) -> "BookRanking":
        """Rank ``profit`` (one value per customer on the books)."""
        positive_mask = profit > 0
        return cls.from_split(profit[positive_mask], profit[~positive_mask])

    @classmethod
    def from_split(cls, profitable: np.ndarray, rest: np.ndarray) -> "BookRanking":
        """Rank a book given apart as its profits > 0 and the rest (as ``kernels.quarter_scan`` gives them).

        Cut points are ``np.quantile`` (linear interpolation) at 1 − each top share. Only the
        profitable customers are sorted (the concentration measures need them in order); cut
        points that fall among the rest are found by partitioning them, which is linear.
        """
        positive = np.sort(profitable)
        net_profit = float(positive.sum()) + float(rest.sum())
        n = len(positive) + len(rest)
        if n == 0:
            return cls(np.empty(0), positive, 0.0)
        positions = (1.0 - np.array(SEGMENT_TOP_SHARES)) * (n - 1)
        below = np.floor(positions).astype(np.intp)
        above = np.minimum(below + 1, n - 1)
        wanted = np.unique(np.concatenate([below, above]))
        in_rest = wanted[wanted < len(rest)]
        values: dict[int, float] = {}
        if len(in_rest):
            partitioned = np.partition(rest, in_rest)
            values.update(zip(in_rest.tolist(), partitioned[in_rest].tolist(), strict=True))
        for index in wanted[wanted >= len(rest)].tolist():
            values[index] = float(positive[index - len(rest)])
        low = np.array([values[i] for i in below.tolist()])
        high = np.array([values[i] for i in above.tolist()])
        return cls(low + (positions - below) * (high - low), positive, net_profit)


def segment_of(profit: np.ndarray, cut_points: np.ndarray) -> np.ndarray:
    """Segment of each profit given the cut points (1 = most profitable); all S8 before any ranking."""
    if len(cut_points) == 0:
        return np.full(len(profit), SEGMENT_COUNT, dtype=np.int8)
    segment = np.ones(len(profit), dtype=np.int8)
    for cut in cut_points:  # one pass per cut point: faster than a binary search per customer
        segment += profit <= cut
    return segment
