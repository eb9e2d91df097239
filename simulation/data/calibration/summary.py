"""A transaction log → what the models read: per customer, frequency, recency, age and spend.

Purchases on the same day count as one (their amounts added): a basket split over two tickets is
one shopping trip. A day whose amounts add up to zero (free items, a fully discounted order) is a
purchase like any other: BG/NBD counts purchases, not money. A day whose amounts add up to less
than zero is a return, not a purchase: it does not count for BG/NBD, and its amount is netted
against the customer's repeat spend (a refund of the first purchase lowers what they spent since).
A customer whose every day is a return has no purchase in the log and is left out (counted).
Durations are counted in days and expressed in the fit's time unit. Only what happened up to the
calibration end enters the fit; what happened after it is the holdout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from simulation.core.errors import DataError
from simulation.data.calibration.log import EPOCH, TransactionLog
from simulation.data.calibration.units import unit_days


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
    purchase_days: int  # (customer, day) pairs whose amounts add up to zero or more
    free_purchase_days: int  # of them, days whose amounts add up to exactly zero
    return_days: int  # (customer, day) pairs whose amounts add up to less than zero: refunds, not purchases
    refund_only_customers: int  # customers with returns and no purchase: not in the summary
    new_customers_by_month: dict[str, int]  # first purchases per calendar month, calibration period

    @property
    def holdout_length(self) -> float:
        """The holdout period in time units (0 when the log ends at the calibration end)."""
        return (self.last_date - self.calibration_end).days / unit_days(self.time_unit)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def spend_sample(self) -> np.ndarray:
        """Customers Gamma-Gamma is fitted on: repeat purchases with a positive mean spend (the textbook's)."""
        return (self.frequency > 0) & (self.mean_repeat_spend > 0)

    def spend_exclusions(self) -> dict[str, int]:
        """Customers with repeat purchases that the spend model leaves out, by reason (for calibration.json)."""
        repeat = self.frequency > 0
        return {"free_repeat_purchases_only": int(np.count_nonzero(repeat & (self.mean_repeat_spend == 0))),
                "refunds_exceed_repeat_spend": int(np.count_nonzero(repeat & (self.mean_repeat_spend < 0)))}


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
    pairs, spend = sum_by_key(log.customer * span + (log.day - first_day), log.amount)
    customer, day = pairs // span, pairs % span + first_day
    returned = spend < 0
    # Returns after a customer's first purchase day net against their repeat spend in that period;
    # returns before it (of a purchase older than the log) have nothing in the log to net against.
    return_customer, return_day, return_amount = customer[returned], day[returned], spend[returned]
    refund_only = int(np.count_nonzero(~_sorted_isin(_distinct_sorted(return_customer),
                                                     _distinct_sorted(customer[~returned]))))
    free_days = int(np.count_nonzero(spend == 0))
    customer, day, spend = customer[~returned], day[~returned], spend[~returned]
    if len(customer) == 0:
        raise DataError(f"{path}: every one of the log's {len(pairs):,} customer days adds up to less than zero "
                        "(column 'amount'); expected purchases (amounts of zero or more) as well as refunds")

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
    # Each customer's returns after their first purchase day, within the calibration period.
    owner_index = np.searchsorted(owners, return_customer)
    found = owner_index < len(owners)
    found[found] = owners[owner_index[found]] == return_customer[found]
    netted = found & (return_day <= end_day)
    netted[netted] = return_day[netted] > first[owner_index[netted]]
    returns_total = np.bincount(owner_index[netted], weights=return_amount[netted], minlength=len(owners))
    repeat_total = calibration_spend[known] - first_spend + returns_total[known]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_repeat = np.where(x > 0, repeat_total / np.maximum(x, 1), 0.0)
    first_known = first[known]
    months = (EPOCH + first_known.astype("timedelta64[D]")).astype("datetime64[M]")
    distinct_months, per_month = np.unique(months, return_counts=True)
    labels = distinct_months.astype(str)  # YYYY-MM, once per month rather than once per customer
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
        purchase_days=len(customer),
        free_purchase_days=free_days,
        return_days=int(returned.sum()),
        refund_only_customers=refund_only,
        new_customers_by_month={str(label): int(count) for label, count in zip(labels, per_month, strict=True)},
    )


def sum_by_key(key: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``key`` values in order, and ``amount`` summed over each one's rows.

    What ``np.unique(key, return_inverse=True)`` and ``np.bincount(inverse, weights=amount)`` give, sums
    added in row order as bincount adds them, but by sorting plain integers: each key shifted left with its
    row number in the low bits, a stable order for the price of numpy's vectorised sort (about 8 times
    faster than the argsort unique needs, on 20 million rows). Negative keys, or keys too large to share
    63 bits with a row number, take the stable argsort.
    """
    rows = len(key)
    shift = max(rows - 1, 1).bit_length()
    if rows and int(key.min()) >= 0 and int(key.max()) < 1 << (63 - shift):
        packed = np.sort((key.astype(np.int64) << shift) | np.arange(rows, dtype=np.int64))
        order = packed & ((1 << shift) - 1)
        ordered = packed >> shift
    else:
        order = np.argsort(key, kind="stable")
        ordered = key[order]
    first = np.empty(rows, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    group = np.cumsum(first) - 1
    return ordered[first], np.bincount(group, weights=amount[order], minlength=int(group[-1]) + 1 if rows else 0)


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of an array already in ascending order."""
    if len(values) == 0:
        return values
    return values[np.r_[True, values[1:] != values[:-1]]]


def _sorted_isin(values: np.ndarray, within: np.ndarray) -> np.ndarray:
    """For each of the sorted ``values``, whether the sorted ``within`` holds it."""
    where = np.minimum(np.searchsorted(within, values), max(len(within) - 1, 0))
    return (within[where] == values) if len(within) else np.zeros(len(values), dtype=bool)
