"""How an outcome is declared, and the quarter's end state it is computed from.

Kept apart from the list of outcomes (``outcomes.py``) so that a mechanism (``mechanisms/``) can declare
its own outcomes without importing the others: the list gathers the core outcomes and every mechanism's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Literal

import numpy as np

from simulation.book.state import CustomerColumns
from simulation.core.concentration import concentration_measures
from simulation.core.segments import BookRanking

if TYPE_CHECKING:  # the kernels load numba: a reader of results (the report) never needs them
    from simulation.model.kernels import QuarterScan

Kind = Literal["flow", "level", "running"]
# One vocabulary of units for every reader: money in the scenario's currency, whole things counted, or a number.
Unit = Literal["currency", "customers", "people", "purchases", "share", "index", "minutes"]
COUNTED_UNITS = frozenset({"customers", "people", "purchases"})
Better = Literal["higher", "lower", ""]  # "": neither, a fact rather than a score


@dataclass
class QuarterFlows:
    """What the engine counts as it happens during a quarter; a fresh one each quarter."""

    revenue: float = 0.0  # billed revenue plus partner fees, currency
    cost: float = 0.0  # cost to serve, acquisition and action costs, currency
    billed: float = 0.0  # revenue billed to our own customers, currency
    acquired: int = 0
    churned: int = 0  # left of their own accord
    divested: int = 0  # pushed out by the strategy, at contract end or before it
    migrated_channel: int = 0
    migrated_partner: int = 0
    partner_lost: int = 0
    partner_fees: float = 0.0
    wom_reach: int = 0  # people reached by stories (a person reached twice counts twice)
    lost_acquisitions: float = 0.0  # expected acquisitions lost to word of mouth
    treated: int = 0  # customers a strategy step reached (a customer reached by two steps counts twice)
    action_cost: float = 0.0  # one-off costs of the strategy's actions (training, exit payments), currency
    acquisition_cost: float = 0.0  # cost of winning the quarter's newcomers, currency
    purchases: int = 0  # simulated purchases (purchase days) of the customers on the books (customers from a log)

    def copy(self) -> "QuarterFlows":
        return QuarterFlows(**{f.name: getattr(self, f.name) for f in fields(self)})


@dataclass
class QuarterEnd:
    """The state an outcome is computed from, at the end of the quarter's last month."""

    quarter: int
    flows: QuarterFlows
    customers: CustomerColumns
    active_customers: int
    partner_customers: int
    market_size: int
    market_mean_revenue: float  # a competitor's customer's revenue, currency per month
    cumulative_profit: float
    npv: float
    discount_factor: float  # what one currency unit at this quarter end is worth today (NPV's own discounting)
    values: dict[str, float]  # the mechanisms' quarter values (``Mechanism.quarter_values``), by name
    ranking: BookRanking  # the book's monthly profits, ranked once for the quarter
    scan: QuarterScan  # lifetime values, satisfaction and segment sums, from one pass over the book
    weight: float = 1.0  # customers each simulated customer stands for (``sample_weight``)

    @cached_property
    def concentration(self) -> dict[str, float]:
        return concentration_measures(self.ranking.positive_sorted, self.ranking.net_profit)

    @cached_property
    def active(self) -> np.ndarray:
        return self.customers.status == 0


@dataclass(frozen=True)
class Board:
    """How the board report's trade-offs page shows an outcome, each option against the baseline."""

    row: int  # its place in the trade-offs table (1 first)
    label: str  # what the board reads ("Revenue over the horizon")
    separates: bool = True  # among what separates co-leaders on the decision page (not when its options table has it)
    panel: str = ""  # the title of its small multiple beside the table ("" for none)


@dataclass(frozen=True)
class Sweep:
    """An outcome every sweep analyses (means per point, regret, sensitivity) and how its report names it."""

    order: int  # its place among the analysed outcomes (1 first)
    title: str  # a chart's or a section's title ("Expected NPV")
    in_words: str  # in a sentence ("expected NPV")


class _Read:
    """How any outcome is read, from its kind and unit."""

    kind: Kind
    unit: Unit

    @property
    def counted(self) -> bool:
        """Whole things (customers, people, purchases), shown as counts."""
        return self.unit in COUNTED_UNITS

    @property
    def weight_power(self) -> int:
        """How the outcome grows with the customers each simulated one stands for (``sample_weight``): money and counts
        with it, shares, means and minutes not at all; an outcome may declare otherwise (the Herfindahl index, −1)."""
        declared = getattr(self, "scales", None)
        if declared is not None:
            return declared
        return 1 if self.unit == "currency" or self.counted else 0

    @property
    def over_horizon(self) -> str:
        """How a run's value is read: a flow is totalled over the horizon, a level or running total read at its end."""
        return "total" if self.kind == "flow" else "end"


@dataclass(frozen=True)
class Outcome(_Read):
    name: str
    kind: Kind
    unit: Unit
    meaning: str
    compute: Callable[[QuarterEnd], float]
    better: Better = ""
    board: Board | None = None
    sweep: Sweep | None = None
    scales: int | None = None  # the power of ``sample_weight`` it is multiplied by, when not its unit's (see weight_power)



@dataclass(frozen=True)
class DerivedOutcome(_Read):
    """An outcome computed from the results' columns (``needs``), after a run, as the reports read it."""

    name: str
    kind: Kind
    unit: Unit
    meaning: str
    needs: tuple[str, ...]
    derive: Callable[[Any], Any]  # columns (a frame) → the outcome's column
    better: Better = ""
    board: Board | None = None  # (no ``sweep``: a sweep's store holds the recorded outcomes only)
