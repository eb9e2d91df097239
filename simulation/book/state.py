"""The mutable state of one run: one row per customer ever on the books, as typed numpy columns.

Rows are never removed — a customer who leaves keeps its row with a new status. Customers join
in cohorts (the starting population, then one cohort per month of acquisitions); a customer is
identified across strategies by its cohort and its position in it, which is what common random
numbers line up on (see ``streams.RandomStreams.uniforms``).

Some columns are caches of others, kept so that the monthly step is a handful of vector
operations: ``profit_rate``, ``fixed_cost`` and ``billing_rate`` give this month's profit and
billed revenue as ``revenue × rate − fixed``, and are zero for customers off the books, so sums
over all rows need no mask. ``refresh_economics`` keeps them in step after any change of price,
contact rate or channel. Only the engine writes here; actions return effects (``effects.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.book.population import Population
from simulation.core.formulas import price_hazard

ACTIVE, CHURNED, DIVESTED, PARTNER, PARTNER_LEFT = 0, 1, 2, 3, 4


def _column(dtype: type, meaning: str) -> Any:
    return field(metadata={"dtype": dtype, "meaning": meaning})


@dataclass(frozen=True)
class CustomerColumns:
    """One array per attribute, one row per customer ever on the books (views of the rows in use)."""

    revenue: np.ndarray = _column(np.float64, "underlying revenue before the price multiplier, currency per month")
    cost_of_goods_share: np.ndarray = _column(np.float64, "cost of goods as a share of underlying revenue")
    account_management: np.ndarray = _column(np.float64, "sales and marketing cost, currency per month")
    contacts: np.ndarray = _column(np.float64, "service contacts per month")
    channel: np.ndarray = _column(np.int16, "index into the population's channel names")
    contact_cost: np.ndarray = _column(np.float64, "cost per contact in the customer's channel")
    staffed: np.ndarray = _column(np.bool_, "the customer's channel is answered by people")
    late_factor: np.ndarray = _column(np.float64, "carrying cost of late payment as a share of billed revenue")
    days_late: np.ndarray = _column(np.float64, "average payment delay, days")
    growth_factor: np.ndarray = _column(np.float64, "1 + monthly revenue growth")
    log_growth: np.ndarray = _column(np.float64, "ln(growth_factor), for when a shrinking margin turns negative")
    referrals_per_month: np.ndarray = _column(np.float64, "new customers referred per month")
    purchases_per_month: np.ndarray = _column(np.float64, "expected purchases a month on the books (from a log; else 0)")
    buying_probability: np.ndarray = _column(np.float64, "chance of buying at least once in a month (from a log; else 0)")
    price: np.ndarray = _column(np.float64, "price multiplier set by renegotiation, 1 = list price")
    satisfaction: np.ndarray = _column(np.float64, "satisfaction, 0–1")
    reference_satisfaction: np.ndarray = _column(np.float64, "satisfaction at which the scenario's churn rates hold")
    treatment_penalty: np.ndarray = _column(np.float64, "satisfaction lost to deliberately bad service")
    trust: np.ndarray = _column(np.float64, "trust, 0–1; word of mouth lowers it")
    churn_probability: np.ndarray = _column(np.float64, "the customer's own monthly churn probability (sBG draw)")
    segment_hazard: np.ndarray = _column(np.float64, "churn multiplier of the customer's current segment")
    price_hazard: np.ndarray = _column(np.float64, "price^elasticity: churn multiplier of the customer's price")
    hazard: np.ndarray = _column(np.float64, "this month's churn probability after every lasting multiplier (a "
                                             "mechanism's temporary factor, a price war's, applies to the draw only)")
    contract_end: np.ndarray = _column(np.int32, "month index at which the current contract ends")
    status: np.ndarray = _column(np.int8, "ACTIVE, CHURNED, DIVESTED, PARTNER or PARTNER_LEFT")
    segment: np.ndarray = _column(np.int8, "value segment at the last review, 1 (top 1 %) … 8 (bottom 10 %)")
    start_segment: np.ndarray = _column(np.int8, "value segment at the start; 0 for customers who joined later")
    ladder_stage: np.ndarray = _column(np.int8, "how many steps of the strategy's ladder have reached the customer")
    stage_since: np.ndarray = _column(np.int32, "month the customer reached its current ladder stage")
    pending_exit: np.ndarray = _column(np.bool_, "pushed out: leaves at contract end (or sooner, of its own accord)")
    abrupt: np.ndarray = _column(np.bool_, "pushed out abruptly (slow service, crummy pricing)")
    rewarded: np.ndarray = _column(np.bool_, "given the low-cost customers' premium")
    exit_month: np.ndarray = _column(np.int32, "month the customer left our books (-1 while on them)")
    partner_fee: np.ndarray = _column(np.float64, "what the partner pays us for this customer, currency per month")
    joined: np.ndarray = _column(np.int32, "month the customer joined (0 for the starting population)")
    last_profit: np.ndarray = _column(np.float64, "profit of the last month, currency per month (0 off the books)")
    # Caches (see the module docstring); all zero for customers off the books.
    profit_rate: np.ndarray = _column(np.float64, "price × (1 − late_factor) − cost_of_goods_share")
    fixed_cost: np.ndarray = _column(np.float64, "account management + contacts × cost per contact")
    billing_rate: np.ndarray = _column(np.float64, "price")
    base_hazard: np.ndarray = _column(np.float64, "churn_probability × segment_hazard × price_hazard")
    staffed_load: np.ndarray = _column(np.float64, "contacts answered by people, per month")
    exposure: np.ndarray = _column(np.float64, "how much of a queue the customer sits through: min(contacts, 1) if staffed")
    referral_rate: np.ndarray = _column(np.float64, "referrals_per_month")

    def read_only(self) -> "CustomerColumns":
        """Views that can be read but not written: what strategy actions are given."""
        views = {}
        for name, array in vars(self).items():
            view = array.view()
            view.flags.writeable = False
            views[name] = view
        return CustomerColumns(**views)


COLUMN_DTYPES: dict[str, type] = {f.name: f.metadata["dtype"] for f in dataclasses.fields(CustomerColumns)}
OFF_BOOKS_ZERO = ("profit_rate", "fixed_cost", "billing_rate", "base_hazard", "hazard", "staffed_load", "exposure",
                  "referral_rate", "last_profit")


def refresh_base_hazards(c: CustomerColumns, rows: np.ndarray | slice = slice(None)) -> None:
    """The base hazard of ``rows``: latent churn × segment multiplier × price effect, 0 off the books."""
    hazard = c.churn_probability[rows] * c.segment_hazard[rows]
    hazard *= c.price_hazard[rows]
    hazard *= c.status[rows] == ACTIVE  # arithmetic on the mask: faster than indexing by it
    c.base_hazard[rows] = hazard


class CustomerState:
    """Growable storage behind ``columns``; the engine's only way to change a customer."""

    def __init__(self, capacity: int, channel_cost: np.ndarray, channel_staffed: np.ndarray,
                 price_elasticity: float) -> None:
        self.channel_cost = channel_cost
        self.channel_staffed = channel_staffed
        self.price_elasticity = price_elasticity
        self.size = 0
        self.cohorts: list[tuple[int, int, int]] = []  # (first row, end row, cohort number)
        self._data: dict[str, np.ndarray] = {
            name: np.zeros(max(capacity, 16), dtype=dtype) for name, dtype in COLUMN_DTYPES.items()
        }
        self.columns = self._views()

    def _views(self) -> CustomerColumns:
        return CustomerColumns(**{name: array[: self.size] for name, array in self._data.items()})

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

        Satisfaction, segment and hazard are left for the engine: they depend on the moment.
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
        d["log_growth"][rows] = np.log(d["growth_factor"][rows])
        d["referrals_per_month"][rows] = population.referrals_per_year / 12.0
        d["purchases_per_month"][rows] = 0.0 if population.purchases_per_month is None else population.purchases_per_month
        d["buying_probability"][rows] = 0.0 if population.buying_probability is None else population.buying_probability
        d["price"][rows] = 1.0
        d["trust"][rows] = 1.0
        d["churn_probability"][rows] = churn_probability
        d["segment_hazard"][rows] = 1.0
        d["contract_end"][rows] = population.contract_end if contract_term is None else month + contract_term
        d["exit_month"][rows] = -1
        d["joined"][rows] = month
        d["stage_since"][rows] = month
        self.size = needed
        self.columns = self._views()
        self.refresh_economics(rows)
        return rows

    # ------------------------------------------------------------------ caches
    def refresh_economics(self, rows: np.ndarray | slice) -> None:
        """Recompute the cached columns of ``rows`` after their price, contacts or channel changed."""
        c = self.columns
        on_books = c.status[rows] == ACTIVE
        price = c.price[rows]
        c.profit_rate[rows] = np.where(on_books, price * (1.0 - c.late_factor[rows]) - c.cost_of_goods_share[rows], 0.0)
        c.fixed_cost[rows] = np.where(on_books, c.account_management[rows] + c.contacts[rows] * c.contact_cost[rows], 0.0)
        c.billing_rate[rows] = np.where(on_books, price, 0.0)
        c.price_hazard[rows] = price_hazard(price, self.price_elasticity)
        self.refresh_hazards(rows)
        staffed = c.staffed[rows] & on_books
        c.staffed_load[rows] = np.where(staffed, c.contacts[rows], 0.0)
        c.exposure[rows] = np.where(staffed, np.minimum(c.contacts[rows], 1.0), 0.0)
        c.referral_rate[rows] = np.where(on_books, c.referrals_per_month[rows], 0.0)

    def refresh_hazards(self, rows: np.ndarray | slice = slice(None)) -> None:
        """Recompute the base hazard of ``rows`` after their segment or price changed (0 off the books)."""
        refresh_base_hazards(self.columns, rows)

    def refresh_profit(self, rows: slice = slice(None)) -> None:
        """This month's profit of ``rows`` into ``last_profit``: revenue × profit rate − fixed cost."""
        c = self.columns
        profit = c.last_profit[rows]  # a view: written in place
        np.multiply(c.revenue[rows], c.profit_rate[rows], out=profit)
        profit -= c.fixed_cost[rows]

    # ------------------------------------------------------------------ changes
    def leave_books(self, rows: np.ndarray, status: int, month: int) -> None:
        """Customers at ``rows`` leave our books (churned, divested or handed to a partner)."""
        c = self.columns
        c.status[rows] = status
        c.exit_month[rows] = month
        for cache in OFF_BOOKS_ZERO:
            getattr(c, cache)[rows] = 0.0

    def set_price(self, rows: np.ndarray, price: np.ndarray) -> None:
        self.columns.price[rows] = price
        self.refresh_economics(rows)

    def set_contacts(self, rows: np.ndarray, contacts: np.ndarray) -> None:
        self.columns.contacts[rows] = contacts
        self.refresh_economics(rows)

    def move_to_channel(self, rows: np.ndarray, channel: np.ndarray) -> None:
        c = self.columns
        c.channel[rows] = channel
        c.contact_cost[rows] = self.channel_cost[channel]
        c.staffed[rows] = self.channel_staffed[channel]
        self.refresh_economics(rows)
