"""Calendar months and quarters: the model runs in months, reports speak in quarters.

SimPy time is in days from the scenario's start date; months are calendar months, so a monthly
tick lands on the first of each month whatever its length.
"""

from __future__ import annotations

import bisect
import datetime as dt


def add_months(date: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``date`` (which is a first of month)."""
    index = date.year * 12 + (date.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_label(date: dt.date) -> str:
    """Calendar quarter of a date, as reports write it: 2026-10-01 → '2026Q4'."""
    return f"{date.year}Q{(date.month - 1) // 3 + 1}"


class Calendar:
    """Month indices ↔ SimPy days for a run of ``months`` calendar months from ``start``."""

    def __init__(self, start: dt.date, months: int) -> None:
        self.months = months
        self.month_starts = [add_months(start, m) for m in range(months + 1)]
        self.day_offsets = [float((day - self.month_starts[0]).days) for day in self.month_starts]

    def days_until(self, month: float) -> float:
        """Days from the start to ``month`` (fractions fall inside that calendar month)."""
        whole = min(int(month), self.months)
        days = self.day_offsets[whole]
        if month > whole and whole < self.months:
            days += (month - whole) * (self.day_offsets[whole + 1] - self.day_offsets[whole])
        return days

    def month_at(self, day: float) -> int:
        """The calendar month a SimPy time falls in (0 = the first month)."""
        return bisect.bisect_right(self.day_offsets, day + 1e-6) - 1

    def quarter_label(self, quarter_end_month: int) -> str:
        return quarter_label(self.month_starts[quarter_end_month - 2])

    def period_end(self, quarter_end_month: int) -> dt.date:
        """Last day of the month ``quarter_end_month``."""
        return self.month_starts[quarter_end_month + 1] - dt.timedelta(days=1)
