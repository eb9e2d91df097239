"""What a strategy action does, as data: the engine applies it, actions never write its state.

An action reads a read-only view of the customers (``ActionContext``) and returns an ``Effect``:
rows that change (price, contacts, channel, treatment), rows that leave and how, one-off costs
and the word of mouth it sets off. Keeping the contract this narrow is what lets the engine
change inside without touching the actions, and lets an action be tested on plain arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.book.state import CustomerColumns

NO_ROWS = np.empty(0, dtype=np.intp)


@dataclass(frozen=True)
class ActionContext:
    """What an action may read: the customers (read-only), the month and the scenario's constants."""

    customers: CustomerColumns
    month: int
    channel_names: tuple[str, ...]
    monthly_discount: float  # for lifetime values when targeting, fraction per month
    acquisition_cost: float  # what a referral saves, currency per new customer
    migration_word_of_mouth: float  # reach of a migration relative to an abrupt exit, fraction


@dataclass(frozen=True)
class Change:
    """New values for some rows."""

    rows: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.values):
            raise ValueError(f"a change needs one value per row: {len(self.rows)} rows, {len(self.values)} values")


@dataclass(frozen=True)
class Effect:
    """Everything one action does to the customers it reached this month."""

    cost: float = 0.0  # one-off cost, booked with the month's accounts, currency
    price: Change | None = None  # new price multipliers
    contacts: Change | None = None  # new contact rates, per month
    channel: Change | None = None  # new channel indices (a move to a cheaper channel)
    rewarded: np.ndarray = field(default_factory=lambda: NO_ROWS)  # given the low-cost premium (once only)
    treatment: Change | None = None  # abrupt treatment: satisfaction lost to slow service until they go
    to_partner: Change | None = None  # handed to a partner, with the fee the partner pays, per month
    divest_now: np.ndarray = field(default_factory=lambda: NO_ROWS)  # relationship ended now
    divest_at_contract_end: np.ndarray = field(default_factory=lambda: NO_ROWS)  # told they go at contract end
    walk_away: np.ndarray = field(default_factory=lambda: NO_ROWS)  # leave of their own accord in reaction
    tellers: float = 0.0  # word of mouth set off, in abrupt-exit equivalents (exits add their own)
