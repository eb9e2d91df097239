"""A transaction log → what the models read: per customer, frequency, recency, age and spend.

Purchases on the same day count as one (their amounts added): a basket split over two tickets is
one shopping trip. Durations are counted in days and expressed in the fit's time unit. Only what
happened up to the calibration end enters the fit; what happened after it is the holdout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from .log import EPOCH, TransactionLog
from .units import unit_days

MAX_LISTED = 10  # bad purchase days listed in a message before "… and N more"


@dataclass(frozen=True)
class CustomerSummary:
    """One row per customer whose first purchase is on or before the calibration end."""

    ids: np.ndarray
    frequency: np.ndarray  # x: repeat purchase days in the calibration period
    recency: np.ndarray  # t_x: from the first purchase to the last, time units
    age: np.ndarray  # T: from the first purchase to the calibration end, time units
    mean_repeat_spend: np.ndarray  # average amount of a repeat purchase day (0 when x = 0)
    first_spend: np.ndarray  # amount of the first purchase day
    holdout_purchases: np.ndarray  # purchase days after the calibration end
    holdout_spend: np.ndarray  # their amounts
    time_unit: str
    first_date: dt.date  # the log's first purchase
    calibration_end: dt.date
    last_date: dt.date  # the log's last purchase
    later_customers: int  # customers whose first purchase is after the calibration end
    rows: int  # rows of the log
    purchase_days: int  # (customer, day) pairs
    new_customers_by_month: dict[str, int]  # first purchases per calendar month, calibration period

    @property
    def holdout_length(self) -> float:
        """The holdout period in time units (0 when the log ends at the calibration end)."""
        return (self.last_date - self.calibration_end).days / unit_days(self.time_unit)

    def __len__(self) -> int:
        return len(self.ids)


def _date(day: int) -> dt.date:
    return (EPOCH + np.timedelta64(int(day), "D")).astype(dt.date)


def summarise(log: TransactionLog, calibration_end: dt.date | None, time_unit: str) -> CustomerSummary:
    """Per-customer summary of ``log`` up to ``calibration_end`` (default: the log's last day)."""
    days_per_unit = unit_days(time_unit)
    first_day, last_day = int(log.day.min()), int(log.day.max())
    end_day = last_day if calibration_end is None else int((np.datetime64(calibration_end, "D") - EPOCH).astype(np.int64))
    path = log.path
    if not first_day <= end_day <= last_day:
        raise DataError(f"{path}: --calibration-end {_date(end_day)} is outside the log, which runs from "
                        f"{_date(first_day)} to {_date(last_day)}; expected a date within it")
    if end_day - first_day < days_per_unit:
        raise DataError(f"{path}: the calibration period ({_date(first_day)} to {_date(end_day)}, "
                        f"{end_day - first_day} days) is shorter than one {time_unit} ({days_per_unit:g} days); "
                        f"expected a log spanning at least one time unit (a longer log, or --time-unit day)")

    # One purchase per customer and day, amounts added (sorted by customer, then day).
    span = last_day - first_day + 1
    key = log.customer * span + (log.day - first_day)
    pairs, inverse = np.unique(key, return_inverse=True)
    spend = np.bincount(inverse, weights=log.amount, minlength=len(pairs))
    customer, day = pairs // span, pairs % span + first_day
    _refuse_non_positive(log, customer, day, spend, inverse)

    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    owners = customer[starts]
    counts = np.diff(np.r_[starts, len(customer)])
    first = day[starts]
    in_calibration = day <= end_day
    calibration_count = np.add.reduceat(in_calibration.astype(np.int64), starts)
    last_in_calibration = np.maximum.reduceat(np.where(in_calibration, day, first_day - 1), starts)
    calibration_spend = np.add.reduceat(np.where(in_calibration, spend, 0.0), starts)
    holdout_spend = np.add.reduceat(np.where(in_calibration, 0.0, spend), starts)

    known = first <= end_day
    x = calibration_count[known] - 1
    first_spend = spend[starts][known]
    repeat_total = calibration_spend[known] - first_spend
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_repeat = np.where(x > 0, repeat_total / np.maximum(x, 1), 0.0)
    first_known = first[known]
    months = (EPOCH + first_known.astype("timedelta64[D]")).astype("datetime64[M]")
    labels, per_month = np.unique(months.astype(str), return_counts=True)
    return CustomerSummary(
        ids=log.ids[owners[known]],
        frequency=x.astype(float),
        recency=(last_in_calibration[known] - first_known) / days_per_unit,
        age=(end_day - first_known) / days_per_unit,
        mean_repeat_spend=mean_repeat,
        first_spend=first_spend,
        holdout_purchases=(counts[known] - calibration_count[known]).astype(float),
        holdout_spend=holdout_spend[known],
        time_unit=time_unit,
        first_date=_date(first_day),
        calibration_end=_date(end_day),
        last_date=_date(last_day),
        later_customers=int((~known).sum()),
        rows=len(log),
        purchase_days=len(pairs),
        new_customers_by_month={str(label): int(count) for label, count in zip(labels, per_month, strict=True)},
    )


def _refuse_non_positive(log: TransactionLog, customer: np.ndarray, day: np.ndarray, spend: np.ndarray,
                         inverse: np.ndarray) -> None:
    """Spend models need positive amounts: a purchase day whose amounts add up to 0 or less is named."""
    bad = np.flatnonzero(spend <= 0)
    if len(bad) == 0:
        return
    from ..ingest import read_transactions

    lines = read_transactions(log.path)["row"].to_numpy()  # exact file lines, for the message only
    first_row = np.full(len(spend), len(inverse))
    np.minimum.at(first_row, inverse, np.arange(len(inverse)))
    listed = [f"  row {lines[first_row[index]]}: customer {log.ids[customer[index]]!r} on {_date(day[index])}: "
              f"{spend[index]:g}" for index in bad[:MAX_LISTED]]
    if len(bad) > MAX_LISTED:
        listed.append(f"  … and {len(bad) - MAX_LISTED} more")
    raise DataError(f"{log.path}: {len(bad)} purchase day{'s' if len(bad) > 1 else ''} with a zero or negative amount "
                    "(column 'amount', a day's amounts added up); expected a positive amount on every purchase day "
                    "(the spend model needs it: net refunds against the purchase they refund, or drop the row):\n"
                    + "\n".join(listed))
