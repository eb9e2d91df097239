"""The fit's check: repeat purchases after the calibration end, predicted against what happened.

The textbook check for BG/NBD (Fader, Hardie & Lee 2005, figure 4): the expected purchases in the
holdout period, conditional on each customer's calibration history, summed and averaged by how
many repeat purchases customers made in calibration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.data.calibration import bgnbd
from simulation.data.calibration.mle import Fit
from simulation.data.calibration.summary import CustomerSummary

TOP_FREQUENCY = 7  # customers with 7 or more calibration repeat purchases are one group ("7+"), as in the paper


@dataclass(frozen=True)
class HoldoutCheck:
    length: float  # time units
    predicted: float  # repeat purchases, all calibration customers
    actual: float
    by_frequency: list[dict[str, Any]]  # per calibration frequency: customers, predicted, actual means

    @property
    def error(self) -> float:
        """(predicted − actual) / actual: the aggregate forecast error."""
        return (self.predicted - self.actual) / self.actual if self.actual else float("nan")

    def as_dict(self) -> dict:
        return {"length": self.length, "predicted_purchases": self.predicted, "actual_purchases": self.actual,
                "relative_error": self.error, "by_calibration_frequency": self.by_frequency}


def holdout_check(summary: CustomerSummary, purchasing: Fit) -> HoldoutCheck | None:
    """The comparison, or None when the log ends at the calibration end."""
    length = summary.holdout_length
    if length <= 0:
        return None
    expected = bgnbd.expected_purchases(purchasing.parameters, summary.frequency, summary.recency, summary.age, length)
    groups = np.minimum(summary.frequency, TOP_FREQUENCY).astype(int)
    table: list[dict[str, Any]] = []
    for group in range(TOP_FREQUENCY + 1):
        members = groups == group
        if not members.any():
            continue
        table.append({
            "frequency": f"{group}+" if group == TOP_FREQUENCY else str(group),
            "customers": int(members.sum()),
            "predicted_mean": float(expected[members].mean()),
            "actual_mean": float(summary.holdout_purchases[members].mean()),
        })
    return HoldoutCheck(length, float(expected.sum()), float(summary.holdout_purchases.sum()), table)
