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
        return cls.from_split(np.sort(profit[positive_mask]), np.sort(profit[~positive_mask]))

    @classmethod
    def from_split(cls, positive: np.ndarray, rest: np.ndarray) -> "BookRanking":
        """Rank a book given apart as its profits > 0 and the rest, each in ascending order (as
        ``kernels.quarter_scan`` gives them). Cut points are ``np.quantile`` (linear interpolation) at
        1 − each top share.
        """
        net_profit = float(positive.sum()) + float(rest.sum())
        n = len(positive) + len(rest)
        if n == 0:
            return cls(np.empty(0), positive, 0.0)
        positions = (1.0 - np.array(SEGMENT_TOP_SHARES)) * (n - 1)
        below = np.floor(positions).astype(np.intp)
        above = np.minimum(below + 1, n - 1)
        def ranked(indices: np.ndarray) -> np.ndarray:  # the profits at these ranks from the bottom of the book
            return np.array([rest[i] if i < len(rest) else positive[i - len(rest)] for i in indices.tolist()])

        low, high = ranked(below), ranked(above)
        return cls(low + (positions - below) * (high - low), positive, net_profit)


def segment_of(profit: np.ndarray, cut_points: np.ndarray) -> np.ndarray:
    """Segment of each profit given the cut points (1 = most profitable); all S8 before any ranking."""
    if len(cut_points) == 0:
        return np.full(len(profit), SEGMENT_COUNT, dtype=np.int8)
    segment = np.ones(len(profit), dtype=np.int8)
    for cut in cut_points:  # one pass per cut point: faster than a binary search per customer
        segment += profit <= cut
    return segment
