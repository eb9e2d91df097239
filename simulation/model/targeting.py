"""Who a step reaches: a target rule evaluated on the customers as the review sees them."""

from __future__ import annotations

import numpy as np

from simulation.book.effects import ActionContext
from simulation.book.valuation import customer_lifetime_values, referral_values
from simulation.scenario.steps import TargetSpec


def lifetime_value_with_referrals(context: ActionContext, rows: np.ndarray) -> np.ndarray:
    """Reassess: lifetime value from current margin *and* expected growth, plus referral value."""
    plain, _ = customer_lifetime_values(context.customers, context.monthly_discount, rows)
    return plain + referral_values(context.customers, rows, context.monthly_discount, context.acquisition_cost)


def matches(context: ActionContext, target: TargetSpec, rows: np.ndarray) -> np.ndarray:
    """The customers among ``rows`` (active ones) meeting every condition of ``target``."""
    c = context.customers
    keep = np.ones(len(rows), dtype=bool)
    if target.segments is not None:
        keep &= np.isin(c.segment[rows], np.array(target.segments, dtype=np.int8))
    if target.max_monthly_profit is not None:
        keep &= c.last_profit[rows] < target.max_monthly_profit
    if target.min_contacts is not None:
        keep &= c.contacts[rows] >= target.min_contacts
    if target.channels is not None:
        codes = [context.channel_names.index(name) for name in target.channels]
        keep &= np.isin(c.channel[rows], np.array(codes, dtype=np.int16))
    rows = rows[keep]
    if target.max_lifetime_value is not None and len(rows):
        rows = rows[lifetime_value_with_referrals(context, rows) < target.max_lifetime_value]
    return rows
