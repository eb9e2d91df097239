"""A mechanism as one declared unit: its scenario sections, its state, its hooks and what it adds to the month.

The engine (``engine.py``) runs each month in fixed phases and, at each phase, calls that hook of every
mechanism in ``MECHANISMS`` order (``mechanisms/__init__.py``). A mechanism changes the run only through
what it is handed: the typed slots of the month (``MonthShape``: the satisfaction target and the churn
hazard's multipliers, read by the compiled month pass) and of acquisition (``Acquisition``), the market's
shared memory (``Market``), the customers' trust, and ``Run.schedule`` for what happens later. It declares
its outcomes (results columns) and names the values it traces each month; the engine never names it.

Hooks, in the order a month calls them (a hook not overridden does nothing):

1. ``begin_month`` — after the quarterly review and contract renewals, before anyone leaves (the service
   conditions of the month);
2. ``shape_month`` — the month's contributions to satisfaction and hazard (also asked when newcomers join
   and at the start, so it only reads state);
3. ``after_draw`` — the month's hazards as the churn draw saw them, before the leavers leave the books;
4. ``pushed_out`` and ``stories`` — whenever the strategy lets customers go, or badly treated leavers tell;
5. ``shape_acquisition`` — the month's contributions to who may join and how fast;
6. ``end_month`` — slow drifts, after the month's accounts;
then ``month_values`` feeds the month's trace, and at a quarter's end ``quarter_values`` its outcomes, after
which ``end_quarter`` lets a mechanism start its flows afresh.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, Protocol, TypeVar

import numpy as np

from simulation.core.schema import StrictModel

if TYPE_CHECKING:
    from simulation.book.outcome_types import Outcome, QuarterFlows
    from simulation.book.state import CustomerColumns
    from simulation.core.streams import Stream


@dataclass
class Market:
    """What the market remembers, shared by the mechanisms that tell it stories and those that read them."""

    heard_share: float = 0.0  # share of the market that has heard a bad story (and not forgotten it)
    blocked_prospects: float = 0.0  # prospects put off by a story they still remember
    trust_gap: float = 0.0  # the largest 1 − trust of any customer; 0 once trust has recovered


@dataclass(frozen=True)
class HazardFactor:
    """Multiply the churn hazard of the customers at ``rows`` by ``factor`` for this month's draw (capped at 1).

    Temporary: the hazard the customers keep — what their lifetime values, the book's value and a step's
    targeting are computed from — is without it, as a price war ends."""

    rows: np.ndarray
    factor: float


@dataclass
class MonthShape:
    """The month's slots: what the mechanisms make of satisfaction and of the churn hazard.

    Satisfaction drifts to baseline × ``quality`` − exposure × ``queue_penalty`` (less deliberately
    bad service); the hazard is the customer's base hazard × exp(satisfaction gap, lost trust) ×
    (1 + ``at_risk_uplift`` below ``at_risk_profit``), capped at 1, and the month's draw is against it ×
    every ``hazard_factors`` entry, capped at 1.
    """

    satisfaction_moves: bool = False  # a mechanism moves satisfaction this month (else it stays where it is)
    quality: float = 1.0  # service quality: scales the satisfaction baseline
    queue_penalty: float = 0.0  # satisfaction lost per month by a customer fully exposed to the queue
    trust_on: bool = False  # some customer's trust is below 1: it raises the hazard
    trust_recovery: float = 0.0  # share of each customer's lost trust regained after the month's draw
    at_risk_uplift: float = 0.0  # hazard uplift of customers earning less than ``at_risk_profit`` (0: none)
    at_risk_profit: float = 0.0  # currency per month
    hazard_factors: list[HazardFactor] = field(default_factory=list)


@dataclass
class Acquisition:
    """The month's acquisition slots: who may join and how fast (the engine draws the newcomers)."""

    prospects: float  # the market's people we could win this month
    shut_out: float = 0.0  # prospects who would have come but will not listen (counted as lost to word of mouth)
    reputation: float = 1.0  # reputation's factor on the rates of both market acquisition and referrals
    factor: float = 1.0  # other factors on market acquisition alone (a competitor's price war)
    referrals: float = 0.0  # expected newcomers by referral, before the reputation factor


class Run(Protocol):
    """What a mechanism sees of the run it is part of (the engine's ``CustomerModel`` is one)."""

    scenario: Any
    market: Market
    flows: "QuarterFlows"
    trace: Any  # the run's public ``Trace``

    @property
    def customers(self) -> "CustomerColumns": ...

    @property
    def active_count(self) -> int: ...

    @property
    def partner_count(self) -> int: ...

    @property
    def current_month(self) -> int: ...

    def active_rows(self) -> np.ndarray: ...

    def generator(self, stream: "Stream", key: int) -> np.random.Generator: ...

    def uniforms(self, stream: "Stream", key: int) -> np.ndarray: ...

    def schedule(self, delay_months: float, callback: Callable[..., None], *args: Any) -> None: ...


SettingsT = TypeVar("SettingsT", bound=StrictModel)


class Mechanism(Generic[SettingsT]):
    """Subclass it, declare ``name``, ``sections`` and ``outcomes``, override the hooks it needs, list it in
    ``MECHANISMS``; the scenario's sections, the results' columns and the docs follow from the declaration."""

    name: ClassVar[str]  # what the docs call it
    sections: ClassVar[dict[str, type[StrictModel]]]  # the scenario sections it reads, by key; the first is its own
    outcomes: ClassVar[tuple["Outcome", ...]] = ()  # its results columns, computed from ``quarter_values``
    traced: ClassVar[tuple[str, ...]] = ()  # the names ``month_values`` gives the month's trace

    def __init__(self, run: Run) -> None:
        # A weak reference: the run holds its mechanisms, and a mechanism holding the run back would make every model a
        # reference cycle, freed only when the cyclic collector next runs — at a million customers a worker held
        # several finished models at once (4.5 GB against 0.9 GB, measured).
        # A mechanism is part of its run: used after the run is gone, it raises ReferenceError.
        self.run: Run = weakref.proxy(run)
        self.settings: SettingsT = getattr(run.scenario, next(iter(self.sections)))

    def start(self) -> None:
        """Before the first month: the state today's observed churn rates correspond to."""

    def begin_month(self, month: int) -> None:
        """After the review and renewals, before the month's pass over the book."""

    def shape_month(self, shape: MonthShape) -> None:
        """Add this mechanism's part of the month's satisfaction and hazard (read state; change nothing)."""

    def after_draw(self, month: int) -> None:
        """Just after the month's churn draw: every customer's ``hazard`` is the month's (leavers' too); read only."""

    def pushed_out(self, count: int, abrupt: int, active_before: int) -> None:
        """The strategy ended ``count`` relationships (``abrupt`` of them abruptly) of ``active_before`` customers."""

    def stories(self, tellers: float) -> None:
        """``tellers`` badly treated leavers (abrupt-exit equivalents) tell their story."""

    def shape_acquisition(self, acquisition: Acquisition) -> None:
        """Add this mechanism's part of the month's acquisition."""

    def end_month(self, month: int) -> None:
        """After the month's accounts: slow drifts."""

    def month_values(self) -> dict[str, float]:
        """The month's values of ``traced``."""
        return {}

    def quarter_values(self) -> dict[str, float]:
        """The values its ``outcomes`` read at a quarter's end (read only: a flow restarts in ``end_quarter``)."""
        return {}

    def end_quarter(self) -> None:
        """After the quarter's outcomes are recorded: counters of the quarter's flows start again from 0."""
