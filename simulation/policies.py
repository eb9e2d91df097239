"""Strategies at work: who a step targets, and what each action does to the customers it reaches.

Actions live in a registry keyed by the name used in scenario files; each is a function
``(model, step, rows, month, draws)`` acting on the rows (indices of customers) it was given.
``draws`` are uniform random numbers for every row, from a stream shared by all strategies of
the replication, so the same customer gets the same luck whichever strategy reaches it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .errors import ScenarioError
from .outcomes import customer_values
from .state import ACTIVE, CHURNED, PARTNER
from .strategy_spec import (
    EducateStep,
    MigrateChannelStep,
    MigratePartnerStep,
    RenegotiateStep,
    TargetSpec,
    TerminateStep,
)
from .valuation import LIFETIME_MONTHS, geometric_sum

if TYPE_CHECKING:  # pragma: no cover
    from .engine import CustomerModel

Action = Callable[["CustomerModel", Any, np.ndarray, int, np.ndarray], None]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    def register(function: Action) -> Action:
        ACTIONS[name] = function
        return function

    return register


def get_action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        raise ScenarioError(f"unknown action {name!r}; known actions: {', '.join(sorted(ACTIONS))}") from None


# ---------------------------------------------------------------------------- targeting
def lifetime_value_with_referrals(model: "CustomerModel", rows: np.ndarray) -> np.ndarray:
    """Reassess: lifetime value from current margin *and* expected growth, plus referral value.

    Referral value counts each expected referral as an acquisition cost saved (seed 002: medium
    spenders are often the best referrers), discounted over the same lifetime.
    """
    v = model.state.v
    hazard = v.hazard[rows]
    retention = 1.0 - np.where(hazard > 0, hazard, v.base_hazard[rows])  # before the first month, the base
    plain, _ = customer_values(model, rows, retention)
    annuity = geometric_sum(retention / (1.0 + model.monthly_discount), LIFETIME_MONTHS)
    referral_value = v.referrals_per_month[rows] * model.scenario.market.acquisition_cost * annuity
    return plain + referral_value


def matches(model: "CustomerModel", target: TargetSpec, rows: np.ndarray) -> np.ndarray:
    """The customers among ``rows`` (active ones) meeting every condition of ``target``."""
    v = model.state.v
    keep = np.ones(len(rows), dtype=bool)
    if target.segments is not None:
        keep &= np.isin(v.segment[rows], np.array(target.segments, dtype=np.int8))
    if target.max_monthly_profit is not None:
        keep &= v.last_profit[rows] < target.max_monthly_profit
    if target.min_contacts is not None:
        keep &= v.contacts[rows] >= target.min_contacts
    if target.channels is not None:
        codes = [model.population.channel_names.index(c) for c in target.channels]
        keep &= np.isin(v.channel[rows], np.array(codes, dtype=np.int16))
    rows = rows[keep]
    if target.max_lifetime_value is not None and len(rows):
        rows = rows[lifetime_value_with_referrals(model, rows) < target.max_lifetime_value]
    return rows


def apply_strategy(model: "CustomerModel", month: int) -> None:
    """Quarterly review: customers enter the ladder at its first step; customers left waiting at a
    step whose review period has passed (they did not match the next step then) are looked at again.

    Steps are visited from last to first so no customer moves more than one step per review.
    """
    steps = model.strategy.steps
    if not steps:
        return
    v = model.state.v
    candidates = np.flatnonzero((v.status == ACTIVE) & ~v.pending_exit)
    stage, since = v.ladder_stage[candidates], v.stage_since[candidates]
    for index in reversed(range(len(steps))):
        eligible = stage == index
        if index > 0:
            eligible &= (month - since) >= steps[index - 1].review_months
        rows = candidates[eligible]
        if len(rows):
            apply_step(model, index, matches(model, steps[index].target, rows), month)


def apply_step(model: "CustomerModel", index: int, rows: np.ndarray, month: int) -> None:
    """Step ``index`` of the ladder acts on ``rows``; the next step reviews them after this one's review period."""
    if len(rows) == 0:
        return
    steps = model.strategy.steps
    step = steps[index]
    draws = model.action_draws(month)[rows]
    get_action(step.action)(model, step, rows, month, draws)
    v = model.state.v
    v.ladder_stage[rows] = index + 1
    v.stage_since[rows] = month
    if index + 1 < len(steps):
        model.schedule(step.review_months, follow_up, model, index + 1, rows, month)


def follow_up(model: "CustomerModel", index: int, rows: np.ndarray, acted_month: int) -> None:
    """A SimPy event: the review period of step ``index − 1`` has passed for ``rows``; step ``index``
    reaches those still on the books, still waiting at that step and still matching its target."""
    v = model.state.v
    waiting = rows[(v.status[rows] == ACTIVE) & (v.ladder_stage[rows] == index) & (v.stage_since[rows] == acted_month)
                   & ~v.pending_exit[rows]]
    if len(waiting):
        apply_step(model, index, matches(model, model.strategy.steps[index].target, waiting), model.current_month)


# ---------------------------------------------------------------------------- actions
@action("educate")
def educate(model: "CustomerModel", step: EducateStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """Teach self-service: the customers who take it up make fewer contacts (seed 003)."""
    v = model.state.v
    learned = rows[draws < step.success_rate]
    v.contacts[learned] *= 1.0 - step.contact_reduction
    model.state.refresh_economics(learned)
    model.pending_cost += step.cost_per_customer * len(rows)


@action("renegotiate")
def renegotiate(model: "CustomerModel", step: RenegotiateStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """Charge high-maintenance customers more; give low-cost, on-time payers a premium (seed 000)."""
    v = model.state.v
    v.price[rows] *= 1.0 + step.surcharge
    model.state.refresh_economics(rows)
    if step.reward_discount:
        low_cost = (v.status == ACTIVE) & ~v.rewarded & (v.contacts <= step.reward_max_contacts) & (v.days_late == 0)
        low_cost[rows] = False
        rewarded = np.flatnonzero(low_cost)
        v.price[rewarded] *= 1.0 - step.reward_discount
        v.rewarded[rewarded] = True
        model.state.refresh_economics(rewarded)
    model.pending_cost += step.cost_per_customer * len(rows)


@action("migrate_channel")
def migrate_channel(model: "CustomerModel", step: MigrateChannelStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """Move customers to a cheaper channel; a few leave instead (Fidelity, seed 000 via DESIGN.md)."""
    leave = rows[draws < step.leave_rate]
    moved = rows[(draws >= step.leave_rate) & (draws < step.leave_rate + step.success_rate)]
    model.state.move_to_channel(moved, model.population.channel_names.index(step.to_channel))
    model.remove(leave, CHURNED, month)
    model.q["churned"] += len(leave)
    model.q["migrated"] += len(moved)
    model.pending_cost += step.cost_per_customer * len(rows)
    model.word_of_mouth((len(moved) + len(leave)) * model.scenario.word_of_mouth.migration_fraction)


@action("migrate_partner")
def migrate_partner(model: "CustomerModel", step: MigratePartnerStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """Hand customers to a partner: they leave our books, a share of their margin comes back as a fee."""
    v = model.state.v
    accepted = rows[draws < step.acceptance_rate]
    gross_margin = v.revenue[accepted] * (v.price[accepted] - v.cost_of_goods_share[accepted])
    v.partner_fee[accepted] = step.fee_share * np.maximum(gross_margin, 0.0)
    model.remove(accepted, PARTNER, month)
    model.q["migrated"] += len(accepted)
    model.pending_cost += step.cost_per_customer * len(rows)
    model.word_of_mouth(len(accepted) * model.scenario.word_of_mouth.migration_fraction)


@action("terminate")
def terminate(model: "CustomerModel", step: TerminateStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """End relationships at contract end, or at once for the exit cost; graceful or abrupt (seeds 000, 001)."""
    v = model.state.v
    if step.style == "abrupt":
        v.abrupt[rows] = True
        v.treatment_penalty[rows] = step.abrupt_satisfaction_loss
        v.price[rows] *= 1.0 + step.abrupt_price_increase
        model.state.refresh_economics(rows)
        model.bad_service_in_use = model.bad_service_in_use or step.abrupt_satisfaction_loss > 0
    else:
        model.pending_cost += step.cost_per_customer * len(rows)
    if step.pay_exit_cost:
        remaining = np.maximum(v.contract_end[rows] - month, 0)
        model.pending_cost += float(step.exit_cost * remaining.sum())
        model.divest(rows, month)
    else:
        v.pending_exit[rows] = True
