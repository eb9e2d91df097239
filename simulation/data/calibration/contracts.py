"""Contractual data → what the shifted-beta-geometric model reads: periods survived, right-censored.

A ledger row with a start date and, if the customer has gone, an end date: a customer who left
after d periods was lost in period ⌈d⌉ (they renewed ⌈d⌉ − 1 times); one still here has survived
⌊d⌋ renewals so far and may yet leave (censored). Periods are counted in calendar months (a
quarter is 3, a year 12), so a contract ended on its anniversary was lost in the period it
completed. A cohort table gives, per period, how many of one starting cohort remain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.core.errors import DataError
from simulation.core.files import regular_file
from simulation.data.calibration.units import PERIOD_MONTHS
from simulation.data.ingest import Problem, date_column, ledger_columns, number_column, raise_problems, read_csv_text
from simulation.data.tables import AS_NAMED, ColumnMap

CONTRACT_COLUMNS = ("customer_id", "start_date")


@dataclass(frozen=True)
class Tenures:
    """Per ledger row: whether the customer is still here at the calibration end, and for how long they stayed."""

    path: Path
    ids: np.ndarray
    active: np.ndarray  # bool: on the books at the calibration end
    started: np.ndarray  # bool: started on or before the calibration end (others are not counted)
    lost_in: np.ndarray  # period in which each leaver was lost (≥ 1), for rows that left
    survived: np.ndarray  # renewals survived so far, for every row (leavers: ⌈d⌉ − 1)
    period: str
    calibration_end: dt.date
    first_start: dt.date
    end: np.ndarray | None = None  # datetime64[D] end date per row (NaT while a customer): what happened after the cut
    latest: dt.date | None = None  # the ledger's latest date, start or end: how far it sees

    @property
    def leavers(self) -> np.ndarray:
        return self.started & ~self.active

    @property
    def stayers(self) -> np.ndarray:
        return self.started & self.active


def has_contract_dates(path: Path, columns: ColumnMap = AS_NAMED) -> bool:
    """Whether a ledger holds start dates (then churn can be fitted from it)."""
    return "start_date" in ledger_columns(path, columns)


def read_tenures(path: str | Path, period: str, calibration_end: dt.date | None = None,
                 columns: ColumnMap = AS_NAMED) -> Tenures:
    """Start and end dates per customer, checked, as periods survived; every bad row named."""
    path = Path(path)
    frame = read_csv_text(path, CONTRACT_COLUMNS, "customer ledger", columns)
    problems: list[Problem] = []
    start = date_column(frame, "start_date", problems, required=True)
    end = date_column(frame, "end_date", problems, required=False) if "end_date" in frame.columns \
        else pd.Series(pd.NaT, index=frame.index)
    before = (end < start).to_numpy()
    for row, first, last in zip(frame.index[before], frame["start_date"][before], frame["end_date"][before], strict=True):
        problems.append(Problem(int(row), "end_date", last, f"a date on or after the start date ({first})"))
    raise_problems(path, problems)
    latest = max(start.max(), end.max()) if end.notna().any() else start.max()
    cutoff = pd.Timestamp(calibration_end) if calibration_end is not None else latest
    if cutoff < start.min():
        raise DataError(f"{path}: --calibration-end {cutoff.date()} is before the first start date "
                        f"({start.min().date()}); expected a date within the ledger")
    if cutoff > latest:  # every open contract would count as renewed for years nobody saw
        raise DataError(f"{path}: --calibration-end {cutoff.date()} is after the ledger's latest date "
                        f"({latest.date()}); expected a date within the ledger")
    started = (start <= cutoff).to_numpy()
    active = (end.isna() | (end > cutoff)).to_numpy()
    stop = end.where(~pd.Series(active, index=end.index), cutoff)
    whole, exact = calendar_months(start, stop)
    months = PERIOD_MONTHS[period]
    periods, remainder = np.divmod(whole, months)
    on_renewal = exact & (remainder == 0)  # ended on a renewal date: lost in the period just completed
    lost_in = np.maximum(1, np.where(on_renewal, periods, periods + 1)).astype(float)
    survived = np.where(active, periods, lost_in - 1.0)
    return Tenures(
        path=path, ids=frame["customer_id"].to_numpy(dtype=object), active=active, started=started,
        lost_in=lost_in, survived=np.maximum(survived, 0.0), period=period, calibration_end=cutoff.date(),
        first_start=start.min().date(), end=end.to_numpy().astype("datetime64[D]"), latest=latest.date(),
    )


def calendar_months(start: pd.Series, stop: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Whole calendar months from ``start`` to ``stop``, and whether ``stop`` falls on a monthly anniversary.

    Jan 31 → Feb 28 is a whole month (a contract started on the 31st renews on the month's last day).
    """
    first, last = start.dt, stop.dt
    months = ((last.year - first.year) * 12 + (last.month - first.month)).to_numpy()
    month_end = (last.day == last.days_in_month).to_numpy()
    short = (last.day < first.day).to_numpy() & ~month_end  # the anniversary is not reached yet this month
    exact = ((last.day == first.day) | (month_end & (last.day <= first.day))).to_numpy()
    return months - short, exact


@dataclass(frozen=True)
class Cohort:
    path: Path
    periods: np.ndarray  # 0, 1, … consecutive
    customers: np.ndarray  # still active at each period (the cohort at 0)

    @property
    def survival(self) -> np.ndarray:
        return self.customers / self.customers[0]


def read_cohort(path: str | Path) -> Cohort:
    """A cohort table: ``period`` (0, 1, 2, … consecutive) and ``customers`` still there, never rising."""
    path = Path(path)
    regular_file(path, "cohort table", "CSV", DataError)
    frame = read_csv_text(path, ("period", "customers"), "cohort table")
    problems: list[Problem] = []
    periods = number_column(frame, "period", 0, 1000, "a whole number of periods from 0", problems)
    expected = "a whole number of customers from 0 to 1e12"
    customers = number_column(frame, "customers", 0, 1e12, expected, problems)
    rows = frame.index.to_numpy()
    fractional = np.isfinite(customers) & (customers != np.round(customers))  # 10.5 or 1e-300 people
    problems.extend(Problem(int(row), "customers", frame["customers"].iloc[at], expected)
                    for at, row in zip(np.flatnonzero(fractional), rows[fractional], strict=True))
    raise_problems(path, problems)
    if not np.array_equal(periods, np.arange(len(periods))):
        raise DataError(f"{path}: column 'period' holds {', '.join(f'{p:g}' for p in periods[:6])}…; "
                        "expected 0, 1, 2, … one row per period in order, starting with the whole cohort at 0")
    rising = np.flatnonzero(np.diff(customers) > 0)
    if len(rising):
        at = rising[0] + 1
        raise DataError(f"{path}: row {rows[at]}, column 'customers': {customers[at]:g} — expected at most "
                        f"{customers[at - 1]:g} (a cohort only shrinks)")
    if customers[0] <= 0 or len(customers) < 3:
        raise DataError(f"{path}: expected a cohort of at least one customer followed by at least two periods; "
                        f"got {len(customers)} rows starting with {customers[0]:g}")
    return Cohort(path, periods, customers)
