"""The mutable state of one run: one row per customer ever on the books, as numpy columns.

Rows are never removed — a customer who leaves keeps its row with a new status. Customers join
in cohorts (the starting population, then one cohort per month of acquisitions); a customer is
identified across strategies by its cohort and its position in it, which is what common random
numbers line up on (see ``CustomerModel.uniforms``).

Some columns are caches of others, kept so that the monthly step is a handful of vector
operations: ``profit_rate``, ``fixed_cost`` and ``billing_rate`` give this month's profit and
billed revenue as ``revenue × rate − fixed``, and are zero for customers off the books, so sums
over all rows need no mask. ``refresh_economics`` keeps them in step after any action changes a
price, a contact rate or a channel.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .mechanisms import price_hazard
from .population import Population

ACTIVE, CHURNED, DIVESTED, PARTNER, PARTNER_LEFT = 0, 1, 2, 3, 4

COLUMNS: dict[str, type] = {
    "revenue": np.float64,  # underlying revenue before the price multiplier, currency per month
    "cost_of_goods_share": np.float64,
    "account_management": np.float64,
    "contacts": np.float64,  # contacts per month
    "channel": np.int16,
    "contact_cost": np.float64,  # cost per contact in the customer's channel
    "staffed": np.bool_,  # the customer's channel is answered by people
    "late_factor": np.float64,  # carrying cost of late payment as a share of billed revenue
    "days_late": np.float64,
    "growth_factor": np.float64,  # 1 + monthly revenue growth
    "referrals_per_month": np.float64,
    "price": np.float64,  # price multiplier set by renegotiation, 1 = list price
    "satisfaction": np.float64,
    "reference_satisfaction": np.float64,  # satisfaction at which the scenario's churn rates hold
    "treatment_penalty": np.float64,  # satisfaction lost to deliberately bad service (abrupt exits)
    "trust": np.float64,
    "churn_probability": np.float64,  # the customer's own monthly churn probability (sBG draw)
    "segment_hazard": np.float64,  # churn multiplier of the customer's segment
    "price_hazard": np.float64,  # price^elasticity: churn multiplier of the customer's price
    "hazard": np.float64,  # this month's churn probability after all multipliers
    "contract_end": np.int32,  # month index at which the current contract ends
    "status": np.int8,
    "segment": np.int8,
    "ladder_stage": np.int8,  # how many steps of the strategy's ladder have reached the customer
    "stage_since": np.int32,
    "pending_exit": np.bool_,
    "abrupt": np.bool_,
    "rewarded": np.bool_,
    "exit_month": np.int32,  # month the customer left our books (-1 while on them)
    "partner_fee": np.float64,  # currency per month the partner pays us for this customer
    "joined": np.int32,
    "last_profit": np.float64,  # profit of the last month, currency per month (0 off the books)
    "quarter_revenue": np.float64,
    "quarter_profit": np.float64,
    # Caches (see the module docstring); all zero for customers off the books.
    "profit_rate": np.float64,  # price × (1 − late_factor) − cost_of_goods_share
    "fixed_cost": np.float64,  # account management + contacts × cost per contact
    "billing_rate": np.float64,  # price
    "base_hazard": np.float64,  # churn_probability × segment_hazard × price_hazard
    "staffed_load": np.float64,  # contacts answered by people, per month
    "exposure": np.float64,  # how much of a queue the customer sits through: min(contacts, 1) if staffed
    "referral_rate": np.float64,  # referrals_per_month
}


class CustomerState:
    """Growable columns; ``self.v`` holds writable views of the rows in use."""

    def __init__(self, capacity: int, channel_cost: np.ndarray, channel_staffed: np.ndarray,
                 price_elasticity: float) -> None:
        self.channel_cost = channel_cost
        self.channel_staffed = channel_staffed
        self.price_elasticity = price_elasticity
        self.size = 0
        self.cohorts: list[tuple[int, int, int]] = []  # (first row, end row, cohort number)
        self._data: dict[str, np.ndarray] = {
            name: np.zeros(max(capacity, 16), dtype=dtype) for name, dtype in COLUMNS.items()
        }
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
        cohort: int,
        cost_of_capital: float,
        contract_term: int | None = None,
    ) -> slice:
        """Add ``population``'s customers as active rows of one cohort joining in ``month``.

        Their satisfaction is left for the model to set: it depends on the service of the moment.
        """
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
        self.cohorts.append((self.size, needed, cohort))
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
        d["growth_factor"][rows] = np.power(1.0 + np.maximum(population.growth, -0.99), 1.0 / 12.0)
        d["referrals_per_month"][rows] = population.referrals_per_year / 12.0
        d["price"][rows] = 1.0
        d["trust"][rows] = 1.0
        d["churn_probability"][rows] = churn_probability
        d["segment_hazard"][rows] = 1.0
        d["contract_end"][rows] = (
            population.contract_end if contract_term is None else month + contract_term
        )
        d["status"][rows] = ACTIVE
        d["exit_month"][rows] = -1
        d["joined"][rows] = month
        d["stage_since"][rows] = month
        self.size = needed
        self._refresh_views()
        self.refresh_economics(rows)
        return rows

    # ------------------------------------------------------------------ caches
    def refresh_economics(self, rows: np.ndarray | slice) -> None:
        """Recompute the cached columns of ``rows`` after their price, contacts or channel changed."""
        v = self.v
        on_books = v.status[rows] == ACTIVE
        price = v.price[rows]
        v.profit_rate[rows] = np.where(on_books, price * (1.0 - v.late_factor[rows]) - v.cost_of_goods_share[rows], 0.0)
        v.fixed_cost[rows] = np.where(on_books, v.account_management[rows] + v.contacts[rows] * v.contact_cost[rows], 0.0)
        v.billing_rate[rows] = np.where(on_books, price, 0.0)
        v.price_hazard[rows] = price_hazard(price, self.price_elasticity)
        self.refresh_hazards(rows)
        staffed = v.staffed[rows] & on_books
        v.staffed_load[rows] = np.where(staffed, v.contacts[rows], 0.0)
        v.exposure[rows] = np.where(staffed, np.minimum(v.contacts[rows], 1.0), 0.0)
        v.referral_rate[rows] = np.where(on_books, v.referrals_per_month[rows], 0.0)

    def refresh_hazards(self, rows: np.ndarray | slice = slice(None)) -> None:
        """Recompute the base hazard of ``rows`` after their segment or price changed (0 off the books)."""
        v = self.v
        hazard = v.churn_probability[rows] * v.segment_hazard[rows]
        hazard *= v.price_hazard[rows]
        hazard *= v.status[rows] == ACTIVE  # arithmetic on the mask: faster than indexing by it
        v.base_hazard[rows] = hazard

    def refresh_profit(self, rows: slice = slice(None)) -> None:
        """This month's profit of ``rows`` into ``last_profit``: revenue × profit rate − fixed cost."""
        v = self.v
        profit = v.last_profit[rows]  # a view: written in place
        np.multiply(v.revenue[rows], v.profit_rate[rows], out=profit)
        profit -= v.fixed_cost[rows]

    def leave_books(self, rows: np.ndarray, status: int, month: int) -> None:
        """Customers at ``rows`` leave our books (churned, divested or handed to a partner)."""
        v = self.v
        v.status[rows] = status
        v.exit_month[rows] = month
        for cache in ("profit_rate", "fixed_cost", "billing_rate", "base_hazard", "staffed_load", "exposure",
                      "referral_rate", "last_profit"):
            getattr(v, cache)[rows] = 0.0

    def move_to_channel(self, rows: np.ndarray, channel: int) -> None:
        self.v.channel[rows] = channel
        self.v.contact_cost[rows] = self.channel_cost[channel]
        self.v.staffed[rows] = self.channel_staffed[channel]
        self.refresh_economics(rows)

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in self._data.values())
