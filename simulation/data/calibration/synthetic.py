"""Transaction logs and contract ledgers drawn from known parameters.

The tests fit these and expect the parameters back within their standard errors; the benchmark
times the fit on logs of real sizes; the example files under ``examples/`` are made with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.data.calibration.units import unit_days


def draw_log(
    rng: np.random.Generator,
    customers: int,
    purchasing: dict[str, float],
    spending: dict[str, float],
    first_day: dt.date,
    acquisition_days: int,
    last_day: dt.date,
    time_unit: str = "week",
) -> pd.DataFrame:
    """A transaction log (customer_id, date, amount) from the BG/NBD and Gamma-Gamma processes.

    Customers make a first purchase on a day spread uniformly over ``acquisition_days`` from
    ``first_day``; while active they buy at rate λ ~ Gamma(r, α) per ``time_unit``, and after each
    repeat purchase drop out with probability p ~ Beta(a, b). Each purchase's amount is
    Gamma(p, ν) with ν ~ Gamma(q, γ = v). Rows are in date order; amounts are rounded to cents.
    """
    log = draw_log_columns(rng, customers, purchasing, spending, first_day, acquisition_days, last_day, time_unit)
    return pd.DataFrame({
        "customer_id": log.ids[log.customer],
        "date": (np.datetime64(first_day) + log.day.astype("timedelta64[D]")).astype(str),
        "amount": log.amount,
    })


@dataclass(frozen=True)
class DrawnLog:
    """A drawn log as columns, rows in date order: what ``draw_log`` writes as text, for writers faster than pandas."""

    ids: np.ndarray  # customer identifiers, C0001 …
    customer: np.ndarray  # each row's index into ``ids``
    day: np.ndarray  # each row's day, counted from the first day
    amount: np.ndarray  # currency, rounded to cents


def draw_log_columns(
    rng: np.random.Generator,
    customers: int,
    purchasing: dict[str, float],
    spending: dict[str, float],
    first_day: dt.date,
    acquisition_days: int,
    last_day: dt.date,
    time_unit: str = "week",
) -> DrawnLog:
    """``draw_log``'s rows as arrays (the same draws from the same generator)."""
    days_per_unit = unit_days(time_unit)
    birth = rng.integers(0, acquisition_days, customers)
    span = (last_day - first_day).days + 1  # days the log can hold
    horizon = (span - birth) / days_per_unit  # time units each customer can be seen for
    rate = rng.gamma(purchasing["r"], 1.0 / purchasing["alpha"], customers)
    dropout = rng.beta(purchasing["a"], purchasing["b"], customers)
    repeat_limit = rng.geometric(dropout)  # dropping out right after this repeat purchase
    arrivals = rng.poisson(rate * horizon)
    owner = np.repeat(np.arange(customers), arrivals)
    times = rng.random(len(owner)) * horizon[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    first_of_owner = np.concatenate([[0], np.cumsum(arrivals)[:-1]])
    rank = np.arange(len(owner)) - np.repeat(first_of_owner, arrivals)
    kept = rank < repeat_limit[owner]
    owner, times = owner[kept], times[kept]
    owner = np.concatenate([np.arange(customers), owner])  # the first purchase of each, then the repeats
    day = np.concatenate([birth, birth[owner[customers:]] + np.floor(times * days_per_unit).astype(np.int64)])
    day = np.minimum(day, span - 1)
    nu = rng.gamma(spending["q"], 1.0 / spending["v"], customers)
    amount = np.round(rng.gamma(spending["p"], 1.0 / nu[owner]), 2)
    amount = np.maximum(amount, 0.01)  # a purchase is at least a cent
    order = np.lexsort((owner, day))
    width = len(str(customers))
    ids = np.char.add("C", np.char.zfill(np.arange(1, customers + 1).astype(str), width))
    return DrawnLog(ids, owner[order], day[order], amount[order])


def draw_contracts(
    rng: np.random.Generator,
    customers: int,
    alpha: float,
    beta: float,
    first_day: dt.date,
    acquisition_months: int,
    last_day: dt.date,
) -> pd.DataFrame:
    """Monthly contracts (customer_id, start_date, end_date) from the sBG process; end_date blank for stayers.

    Each customer starts on the first of a month within ``acquisition_months`` of ``first_day``; at
    each monthly renewal they leave with their own θ ~ Beta(α, β).
    """
    start = np.datetime64(first_day, "M") + rng.integers(0, acquisition_months, customers).astype("timedelta64[M]")
    theta = rng.beta(alpha, beta, customers)
    lost_in = rng.geometric(theta)  # the period at whose end they do not renew
    end = start + lost_in.astype("timedelta64[M]")
    gone = end.astype("datetime64[D]") <= np.datetime64(last_day)
    width = len(str(customers))
    return pd.DataFrame({
        "customer_id": np.char.add("S", np.char.zfill(np.arange(1, customers + 1).astype(str), width)),
        "start_date": start.astype("datetime64[D]").astype(str),
        "end_date": np.where(gone, end.astype("datetime64[D]").astype(str), ""),
    })
