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
from .state import ACTIVE, CHURNED, PARTNER
from .strategy_spec import (
    EducateStep,
    MigrateChannelStep,
    MigratePartnerStep,
    RenegotiateStep,
    TargetSpec,
    TerminateStep,
)
from .valuation import lifetime_values

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
def lifetime_value_with_referrals(model: "CustomerModel") -> np.ndarray:
    """Reassess: lifetime value from current margin *and* expected growth, plus referral value.

    Referral value counts each expected referral as an acquisition cost saved (seed 002: medium
    spenders are often the best referrers), discounted over the same lifetime.
    """
    from .engine import LIFETIME_MONTHS

    v = model.state.v
    billed_share = v.price * (1.0 - v.late_factor) - v.cost_of_goods_share
    retention = 1.0 - np.where(v.hazard > 0, v.hazard, v.churn_probability)
    plain, _ = lifetime_values(
        scaling_margin=v.revenue * billed_share,
        fixed_cost=v.account_management + v.contacts * v.contact_cost,
        monthly_growth=v.monthly_growth,
        retention=retention,
        monthly_discount_rate=model.monthly_discount,
        lifetime_months=LIFETIME_MONTHS,
    )
    q = retention / (1.0 + model.monthly_discount)
    annuity = np.where(q < 1.0, q * (1.0 - q**LIFETIME_MONTHS) / np.maximum(1.0 - q, 1e-12), LIFETIME_MONTHS)
    referral_value = v.referrals_per_month * model.scenario.market.acquisition_cost * annuity
    return plain + referral_value


def matches(model: "CustomerModel", target: TargetSpec) -> np.ndarray:
    """Boolean mask of active customers meeting every condition of ``target``."""
    v = model.state.v
    mask = v.status == ACTIVE
    if target.segments is not None:
        mask &= np.isin(v.segment, np.array(target.segments, dtype=np.int8))
    if target.max_monthly_profit is not None:
        mask &= v.last_profit < target.max_monthly_profit
    if target.min_contacts is not None:
        mask &= v.contacts >= target.min_contacts
    if target.channels is not None:
        codes = [model.population.channel_names.index(c) for c in target.channels]
        mask &= np.isin(v.channel, np.array(codes, dtype=np.int16))
    if target.max_lifetime_value is not None:
        mask &= lifetime_value_with_referrals(model) < target.max_lifetime_value
    return mask


def apply_strategy(model: "CustomerModel", month: int) -> None:
    """Walk customers down the ladder: step k+1 reaches those step k reached, once it had time to work.

    Steps are visited from last to first so no customer moves more than one step per review.
    """
    from .engine import STREAM_ACTION_BASE

    steps = model.strategy.steps
    v = model.state.v
    for index in reversed(range(len(steps))):
        step = steps[index]
        eligible = (v.status == ACTIVE) & (v.ladder_stage == index) & ~v.pending_exit
        if index > 0:
            eligible &= (month - v.stage_since) >= steps[index - 1].review_months
        chosen = eligible & matches(model, step.target)
        rows = np.flatnonzero(chosen)
        if len(rows) == 0:
            continue
        draws = model.rng(STREAM_ACTION_BASE + index, month).random(model.state.size)
        get_action(step.action)(model, step, rows, month, draws[rows])
        v = model.state.v
        v.ladder_stage[rows] = index + 1
        v.stage_since[rows] = month


# ---------------------------------------------------------------------------- actions
@action("educate")
def educate(model: "CustomerModel", step: EducateStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """Teach self-service: the customers who take it up make fewer contacts (seed 003)."""
    v = model.state.v
    learned = rows[draws < step.success_rate]
    v.contacts[learned] *= 1.0 - step.contact_reduction
    model.pending_cost += step.cost_per_customer * len(rows)


@action("renegotiate")
def renegotiate(model: "CustomerModel", step: RenegotiateStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """Charge high-maintenance customers more; give low-cost, on-time payers a premium (seed 000)."""
    v = model.state.v
    model.prices_changed = True
    v.price[rows] *= 1.0 + step.surcharge
    if step.reward_discount:
        low_cost = (v.status == ACTIVE) & ~v.rewarded & (v.contacts <= step.reward_max_contacts) & (v.days_late == 0)
        low_cost[rows] = False
        v.price[low_cost] *= 1.0 - step.reward_discount
        v.rewarded |= low_cost
    model.pending_cost += step.cost_per_customer * len(rows)


@action("migrate_channel")
def migrate_channel(model: "CustomerModel", step: MigrateChannelStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """Move customers to a cheaper channel; a few leave instead (Fidelity, seed 000 via DESIGN.md)."""
    v = model.state.v
    leave = rows[draws < step.leave_rate]
    moved = rows[(draws >= step.leave_rate) & (draws < step.leave_rate + step.success_rate)]
    model.state.move_to_channel(moved, model.population.channel_names.index(step.to_channel))
    v.status[leave] = CHURNED
    v.exit_month[leave] = month
    model.q["churned"] += len(leave)
    model.q["migrated"] += len(moved)
    model.pending_cost += step.cost_per_customer * len(rows)
    model.word_of_mouth((len(moved) + len(leave)) * model.scenario.word_of_mouth.migration_fraction, month)


@action("migrate_partner")
def migrate_partner(model: "CustomerModel", step: MigratePartnerStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """Hand customers to a partner: they leave our books, a share of their margin comes back as a fee."""
    v = model.state.v
    accepted = rows[draws < step.acceptance_rate]
    billed = v.revenue[accepted] * v.price[accepted]
    gross_margin = billed - v.revenue[accepted] * v.cost_of_goods_share[accepted]
    v.partner_fee[accepted] = step.fee_share * np.maximum(gross_margin, 0.0)
    v.status[accepted] = PARTNER
    model.q["migrated"] += len(accepted)
    model.pending_cost += step.cost_per_customer * len(rows)
    model.word_of_mouth(len(accepted) * model.scenario.word_of_mouth.migration_fraction, month)


@action("terminate")
def terminate(model: "CustomerModel", step: TerminateStep, rows: np.ndarray, month: int, draws: np.ndarray) -> None:
    """End relationships at contract end, or at once for the exit cost; graceful or abrupt (seeds 000, 001)."""
    v = model.state.v
    if step.style == "abrupt":
        v.abrupt[rows] = True
        v.treatment_penalty[rows] = step.abrupt_satisfaction_loss
        v.price[rows] *= 1.0 + step.abrupt_price_increase
        model.prices_changed = True
        model.bad_service_in_use = True
    else:
        model.pending_cost += step.cost_per_customer * len(rows)
    if step.pay_exit_cost:
        remaining = np.maximum(v.contract_end[rows] - month, 0)
        model.pending_cost += float(step.exit_cost * remaining.sum())
        mask = np.zeros(model.state.size, dtype=bool)
        mask[rows] = True
        model.divest(mask, month)
    else:
        v.pending_exit[rows] = True
