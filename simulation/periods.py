"""Calendar months and quarters: the model runs in months, reports speak in quarters."""

from __future__ import annotations

import datetime as dt


def add_months(date: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``date`` (which is a first of month)."""
    index = date.year * 12 + (date.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_label(date: dt.date) -> str:
    """Calendar quarter of a date, as reports write it: 2026-10-01 → '2026Q4'."""
    return f"{date.year}Q{(date.month - 1) // 3 + 1}"
