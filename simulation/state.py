"""The mutable state of one run: one row per customer ever on the books, as numpy columns.

Rows are never removed — a customer who leaves keeps its row with a new status — so row i is
the same customer in every strategy of a replication (common random numbers line up by row).
New customers are appended; storage grows by doubling so appends stay cheap.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .population import Population

ACTIVE, CHURNED, DIVESTED, PARTNER, PARTNER_LEFT = 0, 1, 2, 3, 4

COLUMNS: dict[str, type] = {
    "revenue": np.float64,  # underlying revenue before the price multiplier, currency per month
    "cost_of_goods_share": np.float64,
    "account_management": np.float64,
    "contacts": np.float64,  # contacts per month
    "channel": np.int16,
    "contact_cost": np.float64,  # cost per contact in the customer's channel (cached from the channel)
    "staffed": np.bool_,  # the customer's channel is answered by people (cached from the channel)
    "late_factor": np.float64,  # carrying cost of late payment as a share of billed revenue
    "days_late": np.float64,
    "monthly_growth": np.float64,
    "referrals_per_month": np.float64,
    "price": np.float64,  # price multiplier set by renegotiation, 1 = list price
    "satisfaction": np.float64,
    "reference_satisfaction": np.float64,  # satisfaction at which the scenario's churn rates hold
    "treatment_penalty": np.float64,  # satisfaction lost to deliberately bad service (abrupt exits)
    "trust": np.float64,
    "churn_probability": np.float64,  # the customer's own monthly churn probability (sBG draw)
    "hazard": np.float64,  # this month's churn probability after all multipliers
    "contract_end": np.int32,  # month index at which the current contract ends
    "status": np.int8,
    "segment": np.int8,
    "segment_hazard": np.float64,  # churn multiplier of the customer's segment (cached from the segment)
    "ladder_stage": np.int8,  # how many steps of the strategy's ladder have reached the customer
    "stage_since": np.int32,
    "pending_exit": np.bool_,
    "abrupt": np.bool_,
    "rewarded": np.bool_,
    "exit_month": np.int32,
    "partner_fee": np.float64,  # currency per month the partner pays us for this customer
    "joined": np.int32,
    "last_profit": np.float64,  # profit of the last month, currency per month
    "quarter_revenue": np.float64,
    "quarter_cost": np.float64,
    "quarter_profit": np.float64,
    "seen_in_quarter": np.bool_,
}


class CustomerState:
    """Growable columns; ``self.v`` holds writable views of the rows in use."""

    def __init__(self, capacity: int, channel_cost: np.ndarray, channel_staffed: np.ndarray) -> None:
        self.channel_cost = channel_cost
        self.channel_staffed = channel_staffed
        self.size = 0
        self._data: dict[str, np.ndarray] = {name: np.zeros(max(capacity, 16), dtype=dtype) for name, dtype in COLUMNS.items()}
        self.v = SimpleNamespace()
        self._refresh_views()

    def _refresh_views(self) -> None:
        for name, array in self._data.items():
            setattr(self.v, name, array[: self.size])

    def append(
        self,
        population: Population,
        churn_probability: np.ndarray,
        month: int,
        cost_of_capital: float,
        satisfaction: float | np.ndarray,
        contract_term: int | None = None,
    ) -> slice:
        """Add ``population``'s customers as active rows joining in ``month``; returns their rows."""
        count = len(population)
        needed = self.size + count
        capacity = len(self._data["revenue"])
        if needed > capacity:
            new_capacity = max(needed, 2 * capacity)
            for name, array in self._data.items():
                grown = np.zeros(new_capacity, dtype=array.dtype)
                grown[: self.size] = array[: self.size]
                self._data[name] = grown
        rows = slice(self.size, needed)
        d = self._data
        revenue = population.revenue
        with np.errstate(divide="ignore", invalid="ignore"):
            d["cost_of_goods_share"][rows] = np.where(revenue > 0, population.cost_of_goods / revenue, 0.0)
        d["revenue"][rows] = revenue
        d["account_management"][rows] = population.account_management
        d["contacts"][rows] = population.contacts
        d["channel"][rows] = population.channel
        d["contact_cost"][rows] = self.channel_cost[population.channel]
        d["staffed"][rows] = self.channel_staffed[population.channel]
        d["days_late"][rows] = population.days_late
        d["late_factor"][rows] = cost_of_capital * population.days_late / 365.0
        d["monthly_growth"][rows] = np.power(1.0 + np.maximum(population.growth, -0.99), 1.0 / 12.0) - 1.0
        d["referrals_per_month"][rows] = population.referrals_per_year / 12.0
        d["price"][rows] = 1.0
        d["satisfaction"][rows] = satisfaction
        d["reference_satisfaction"][rows] = satisfaction
        d["trust"][rows] = 1.0
        d["churn_probability"][rows] = churn_probability
        d["contract_end"][rows] = (
            population.contract_end if contract_term is None else month + contract_term
        )
        d["status"][rows] = ACTIVE
        d["exit_month"][rows] = -1
        d["joined"][rows] = month
        d["stage_since"][rows] = month
        self.size = needed
        self._refresh_views()
        return rows

    def move_to_channel(self, rows: np.ndarray, channel: int) -> None:
        self.v.channel[rows] = channel
        self.v.contact_cost[rows] = self.channel_cost[channel]
        self.v.staffed[rows] = self.channel_staffed[channel]

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in self._data.values())
