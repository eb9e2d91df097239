"""A public record of what happened in a run, month by month (like Mesa's DataCollector).

Tests and analysts observe the model through this trace and the quarterly results, never through
the engine's private methods: the inside can then be rebuilt without rewriting true tests. The
monthly scalars cost nothing worth measuring; per-customer snapshots are taken only for the
columns a caller asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.mechanisms.word_of_mouth import WaveTrace


@dataclass(frozen=True)
class MonthTrace:
    """One month, as the engine saw it; counts are for the month (reviews and renewals included)."""

    month: int
    prospects: float  # the market's customers we could win, as the month's acquisition saw them
    expected_from_market: float  # expected acquisitions from competitors' customers
    expected_referrals: float  # expected acquisitions by referral
    acquired: int
    churned: int
    divested: int
    active_customers: int  # at the month's end
    partner_customers: int  # at the month's end
    purchases: int = 0  # purchase days of customers from a log, drawn at their rates (0 without a log)
    purchasers: int = 0  # of them, customers who bought at least once (a model made with trace_sales; else 0)
    sales: float = 0.0  # what those purchases came to, amounts from the spend model (trace_sales; else 0), currency
    # Each mechanism's traced values (``Mechanism.traced``), by name: read as attributes too (``month.morale``).
    values: dict[str, float] = field(default_factory=dict)

    def __getattr__(self, name: str) -> float:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"the month's trace has no field {name!r}")


@dataclass(frozen=True)
class TreatmentTrace:
    """A step of the strategy acting: when, which step (1 = the first) and on which customer rows."""

    month: int
    step: int
    rows: np.ndarray  # rows of the customer columns (today's customers are the book's first rows)


@dataclass
class Trace:
    """Monthly scalars and waves always; per-customer snapshots of ``columns`` at each churn draw."""

    columns: tuple[str, ...] = ()
    months: list[MonthTrace] = field(default_factory=list)
    waves: list[WaveTrace] = field(default_factory=list)
    snapshots: list[dict[str, np.ndarray]] = field(default_factory=list)  # per month with churn on: copies of ``columns``
    treatments: list[TreatmentTrace] = field(default_factory=list)  # with ``trace_treatments``: each step's action

    def series(self, name: str) -> np.ndarray:
        """One monthly field as an array, month 0 first."""
        return np.array([getattr(month, name) for month in self.months])
