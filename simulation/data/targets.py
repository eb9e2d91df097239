"""From decision to action: today's customers an option's steps reach, and why, one row per customer.

The list is the simulation's own: replication 0 of the chosen strategy — the report's first
simulated future, on the report's seed and today's book — run with its treatments traced, so
the customers listed are exactly those the run's reviews act on (the first review's at month 0,
then later reviews' as customers come to match). Each row says who (id, value segment, monthly
profit and lifetime value today, with and without the option to abandon), which step reaches
them first and when, how far down the ladder the horizon takes them, what the step does, and
the reason in words. Customers who join later are not listed: they are not on today's books.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from simulation.core.errors import ScenarioError
from simulation.data.sources import PopulationSource, start_run
from simulation.scenario.spec import Scenario
from simulation.scenario.steps import TargetSpec

COLUMNS = ("customer_id", "value_segment", "monthly_profit", "lifetime_value", "lifetime_value_with_option",
           "first_step", "first_action", "first_month", "first_review", "last_step", "last_action", "last_month",
           "expected_effect", "reason")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as a formula (OWASP, "CSV Injection")


@dataclass(frozen=True)
class Targets:
    """The list, the strategy and the counts per step it adds up to."""

    strategy: str
    table: pd.DataFrame  # one row per customer reached, COLUMNS
    today: int  # customers on today's books
    per_step: dict[int, int]  # step number → today's customers it reaches within the horizon (replication 0)
    first_review: int  # customers the first review (month 0) reaches


def review_date(scenario: Scenario, month: int) -> dt.date:
    """The first day of simulated month ``month`` (month 0 starts on the scenario's start date)."""
    start = scenario.start_date
    index = start.year * 12 + start.month - 1 + month
    return dt.date(index // 12, index % 12 + 1, 1)


def target_list(scenario: Scenario, source: PopulationSource, strategy: str, seed: int,
                explicit: Iterable[str] = ()) -> Targets:
    """Who ``strategy`` reaches among today's customers in replication 0, in the order it reaches them."""
    from simulation.book.valuation import customer_lifetime_values, referral_values
    from simulation.model.engine import CustomerModel  # the engine loads the kernels: keep this module light to import

    if scenario.sample_weight != 1.0:
        raise ScenarioError(f"sample_weight {scenario.sample_weight:g}: the list names today's customers one by one, and "
                            "a sample has only one in that many of them; list them with sample_weight 1")
    start = start_run(scenario, source, seed, explicit)
    run_scenario = start.scenario
    spec = run_scenario.strategies[strategy]
    population = start.book.for_replication(seed, 0)
    today = len(population)
    before = CustomerModel(run_scenario, population, "today", spec, seed, 0)  # today's book as the first review sees it
    c = before.customers
    rows = np.arange(today)
    plain, with_option = customer_lifetime_values(c, before.monthly_discount, rows)
    with_referrals = plain + referral_values(c, rows, before.monthly_discount, run_scenario.market.acquisition_cost)
    profit, segment = np.asarray(c.last_profit[:today], dtype=float), np.asarray(c.segment[:today])

    model = CustomerModel(run_scenario, population, strategy, spec, seed, 0, trace_treatments=True)
    model.run()
    first_step = np.zeros(today, dtype=int)
    first_month = np.full(today, -1)
    last_step = np.zeros(today, dtype=int)
    last_month = np.full(today, -1)
    per_step: dict[int, int] = {number: 0 for number in range(1, len(spec.steps) + 1)}
    for treatment in model.trace.treatments:
        mine = treatment.rows[treatment.rows < today]
        per_step[treatment.step] += len(mine)
        fresh = mine[first_step[mine] == 0]
        first_step[fresh], first_month[fresh] = treatment.step, treatment.month
        last_step[mine], last_month[mine] = treatment.step, treatment.month
    reached = np.flatnonzero(first_step > 0)
    order = reached[np.lexsort((profit[reached], first_month[reached]))]  # by review, the least profitable first

    def money(value: float) -> str:
        return f"{run_scenario.currency} {value:,.2f}"

    effects = {number: step.plain(money) for number, step in enumerate(spec.steps, start=1)}
    actions = {number: step.action for number, step in enumerate(spec.steps, start=1)}
    table = pd.DataFrame({
        "customer_id": np.asarray(population.customer_id)[order],
        "value_segment": segment[order].astype(int),
        "monthly_profit": profit[order],
        "lifetime_value": plain[order],
        "lifetime_value_with_option": with_option[order],
        "first_step": first_step[order],
        "first_action": [actions[s] for s in first_step[order]],
        "first_month": first_month[order],
        "first_review": [review_date(run_scenario, int(m)).isoformat() for m in first_month[order]],
        "last_step": last_step[order],
        "last_action": [actions[s] for s in last_step[order]],
        "last_month": last_month[order],
        "expected_effect": [effects[s] for s in first_step[order]],
        "reason": [_reason(spec.steps[s - 1].target, int(m), profit[row], with_referrals[row], money,
                           population.channel_names[int(c.channel[row])])
                   for s, m, row in zip(first_step[order], first_month[order], order, strict=True)],
    }, columns=list(COLUMNS))
    return Targets(strategy, table, today, per_step, int((first_month == 0).sum()))


def _reason(target: TargetSpec, month: int, profit: float, lifetime: float, money: object, channel: str) -> str:
    """Why the step reaches the customer, in words: today's values against the target's conditions."""
    shown = money if callable(money) else str
    if month > 0:
        return (f"reached at the review of month {month}, when the customer had come to meet the step's target "
                f"(today: monthly profit {shown(profit)}, lifetime value {shown(lifetime)})")
    parts = []
    if target.max_monthly_profit is not None:
        parts.append(f"monthly profit {shown(profit)}, below {shown(target.max_monthly_profit)}")
    if target.max_lifetime_value is not None:
        parts.append(f"lifetime value with referrals {shown(lifetime)}, below {shown(target.max_lifetime_value)}")
    if target.channels is not None:
        parts.append(f"served through {channel}")
    if target.segments is not None:
        parts.append(f"in value segment {', '.join(map(str, target.segments))}")
    if target.min_contacts is not None:
        parts.append(f"at least {target.min_contacts:g} contacts a month")
    return "; ".join(parts) if parts else "every customer is in the step's target"


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading apostrophe; numbers stay numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(lambda value: f"'{value}" if isinstance(value, str)
                                            and value.startswith(FORMULA_STARTS) else value)
    return safe
