"""Time units of a fit and periods of a churn rate, and the exact conversions between them.

Durations are counted in days and expressed in the fit's unit: a week is 7 days, a month the
Gregorian average of 365.25 / 12 days, so a parameter fitted in weeks means the same in any year.
"""

from __future__ import annotations

import numpy as np

from simulation.core.formulas import PERIOD_MONTHS as PERIOD_MONTHS  # re-exported: the periods a churn rate may be stated in
from simulation.core.formulas import churn_per_month

DAYS_PER_MONTH = 365.25 / 12.0  # days, the Gregorian average month
TIME_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": DAYS_PER_MONTH}


def unit_days(unit: str) -> float:
    """Days in one ``unit``; an unknown unit lists the known ones."""
    try:
        return TIME_UNIT_DAYS[unit]
    except KeyError:
        raise ValueError(f"unknown time unit {unit!r}; known: {', '.join(TIME_UNIT_DAYS)}") from None


def to_monthly(probability: np.ndarray | float, period: str) -> np.ndarray:
    """A churn probability per ``period`` as the monthly one (see ``formulas.churn_per_month``)."""
    return churn_per_month(probability, period)
