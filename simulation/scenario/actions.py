"""The strategy actions: each is declared once, its parameters (a step class) beside what it does.

An action is a function ``(context, step, rows, draws) → Effect``: ``rows`` are the customers the
step reached this month, ``draws`` one uniform each from the replication's action stream (the
same customer gets the same luck whichever strategy reaches it). Actions read the customers
through a read-only ``ActionContext`` and return an ``Effect``; the engine applies it. The
scenario's step union and the registry both come from ``@declare_action``: adding an action is
one step class and one function here. After Mittal, Sarkees & Murshed,
"The Right Way to Manage Unprofitable Customers", Harvard Business Review, 2008, and titus, "A customer
who calls you every day is less profitable than one who pays on time and never calls you", 2014.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Collection, Literal, get_args

import numpy as np
from pydantic import Field

from simulation.book.effects import ActionContext, Change, Effect
from simulation.book.state import ACTIVE
from simulation.core.errors import ScenarioError
from simulation.core.schema import Real, Switch
from simulation.scenario.steps import RiskNote, StepBase, percent

CONDUCT_SOURCE = 'Financial Conduct Authority, "PS22/9: A new Consumer Duty", 2022'

ActionFunction = Callable[[ActionContext, Any, np.ndarray, np.ndarray], Effect]


@dataclass(frozen=True)
class ActionDeclaration:
    name: str
    step: type[StepBase]
    apply: ActionFunction


ACTIONS: dict[str, ActionDeclaration] = {}


def declare_action(step: type[StepBase]) -> Callable[[ActionFunction], ActionFunction]:
    """Register ``function`` as the action whose parameters are ``step`` (named by its ``action`` literal)."""
    (name,) = get_args(step.model_fields["action"].annotation)

    def register(function: ActionFunction) -> ActionFunction:
        ACTIONS[name] = ActionDeclaration(name, step, function)
        return function

    return register


def get_action(name: str) -> ActionDeclaration:
    try:
        return ACTIONS[name]
    except KeyError:
        raise ScenarioError(f"unknown action {name!r}; known actions: {', '.join(sorted(ACTIONS))}") from None


# ---------------------------------------------------------------------------- educate
class EducateStep(StepBase):
    """Teach high-contact customers self-service: fewer contacts, at a cost per head."""

    action: Literal["educate"]
    cost_per_customer: Real = Field(25.0, ge=0, le=1e9, description="One-off cost of educating a customer, currency")
    success_rate: Real = Field(0.5, ge=0, le=1, description="Share of educated customers who change, fraction")
    contact_reduction: Real = Field(
        0.6, ge=0, le=1, description="Share of contacts a successful customer no longer makes, fraction"
    )

    def risk(self) -> RiskNote:
        return RiskNote(
            'Help offered is rarely resented, but customers who cannot serve themselves (older or less digital '
            'ones) must keep a way to reach a person, or the saving becomes a fair-treatment complaint.',
            CONDUCT_SOURCE, level=0,
            short='customers who cannot serve themselves must keep a person to call')

    def plain(self, money: Callable[[float], str]) -> str:
        return (f"{self.target.plain(money).capitalize()} are offered self-service training "
                f"({money(self.cost_per_customer)} each); {percent(self.success_rate)} take it up and contact us "
                f"{percent(self.contact_reduction)} less.")


@declare_action(EducateStep)
def educate(context: ActionContext, step: EducateStep, rows: np.ndarray, draws: np.ndarray) -> Effect:
    """Teach self-service; the customers who take it up make fewer contacts (Mittal, Sarkees & Murshed, HBR 2008)."""
    learned = rows[draws < step.success_rate]
    return Effect(
        cost=step.cost_per_customer * len(rows),
        contacts=Change(learned, context.customers.contacts[learned] * (1.0 - step.contact_reduction)),
    )


# ---------------------------------------------------------------------------- renegotiate
class RenegotiateStep(StepBase):
    """Reprice: surcharge high-maintenance customers, reward low-cost ones; churn follows the price."""

    action: Literal["renegotiate"]
    surcharge: Real = Field(0.15, ge=0, le=5, description="Price increase for targeted customers, fraction of revenue")
    reward_discount: Real = Field(
        0.0, ge=0, le=1, description="Price cut (premium) for low-cost customers, fraction of revenue"
    )
    reward_max_contacts: Real = Field(
        0.1, ge=0, le=1000, description="Low-cost customers: contacts per month at most (and paying on time)"
    )
    cost_per_customer: Real = Field(5.0, ge=0, le=1e9, description="Cost of renegotiating one contract, currency")

    def risk(self) -> RiskNote:
        return RiskNote(
            'A price rise or fee aimed at the customers who cost most to serve can read as a penalty on need; in '
            'regulated markets price must be fair for the value given, so write the rationale down and apply it '
            'evenly.',
            CONDUCT_SOURCE + '; Mittal, Sarkees & Murshed, "The Right Way to Manage Unprofitable Customers", '
                             'Harvard Business Review, 2008',
            short='a price aimed at the costly can read as a penalty on need')

    def plain(self, money: Callable[[float], str]) -> str:
        text = (f"{self.target.plain(money).capitalize()} pay {percent(self.surcharge)} more "
                f"({money(self.cost_per_customer)} to renegotiate each contract)")
        if self.reward_discount:
            text += (f"; customers who pay on time and contact us at most {self.reward_max_contacts:g} times a month "
                     f"get {percent(self.reward_discount)} off")
        return text + "."


@declare_action(RenegotiateStep)
def renegotiate(context: ActionContext, step: RenegotiateStep, rows: np.ndarray, draws: np.ndarray) -> Effect:
    """Charge high-maintenance customers more; give low-cost, on-time payers a premium (titus 2014)."""
    c = context.customers
    price_rows, prices = rows, c.price[rows] * (1.0 + step.surcharge)
    rewarded = np.empty(0, dtype=np.intp)
    if step.reward_discount:
        low_cost = (c.status == ACTIVE) & ~c.rewarded & (c.contacts <= step.reward_max_contacts) & (c.days_late == 0)
        low_cost[rows] = False
        rewarded = np.flatnonzero(low_cost)
        price_rows = np.concatenate([rows, rewarded])
        prices = np.concatenate([prices, c.price[rewarded] * (1.0 - step.reward_discount)])
    return Effect(cost=step.cost_per_customer * len(rows), price=Change(price_rows, prices), rewarded=rewarded)


# ---------------------------------------------------------------------------- migrate to a channel
class MigrateChannelStep(StepBase):
    """Move customers to a cheaper channel (call centre → online); the customer stays."""

    action: Literal["migrate_channel"]
    to_channel: str = Field("online", description="Channel the customers move to")
    success_rate: Real = Field(0.8, ge=0, le=1, description="Share who move, fraction")
    leave_rate: Real = Field(
        0.0011, ge=0, le=1,
        description="Share who leave instead (Fidelity: 34 complaints in 30,000 redirected callers), fraction",
    )
    cost_per_customer: Real = Field(5.0, ge=0, le=1e9, description="Cost of moving one customer, currency")

    def risk(self) -> RiskNote:
        return RiskNote(
            'Moving customers online saves cost only if they can use it; those who cannot are left underserved, a'
            ' fair-treatment and access concern regulators watch.',
            CONDUCT_SOURCE,
            short='customers who cannot go online are left underserved')

    def plain(self, money: Callable[[float], str]) -> str:
        return (f"{self.target.plain(money).capitalize()} are moved to the {self.to_channel.replace('_', ' ')} "
                f"channel ({money(self.cost_per_customer)} each); {percent(self.success_rate)} move and "
                f"{percent(self.leave_rate)} leave us instead.")

    def check_channels(self, channel_names: Collection[str], strategy: str) -> None:
        super().check_channels(channel_names, strategy)
        if self.to_channel not in channel_names:
            raise ValueError(
                f"strategy '{strategy}': migrate_channel.to_channel '{self.to_channel}' is not defined "
                f"under channels (known: {sorted(channel_names)})"
            )


@declare_action(MigrateChannelStep)
def migrate_channel(context: ActionContext, step: MigrateChannelStep, rows: np.ndarray, draws: np.ndarray) -> Effect:
    """Move customers to a cheaper channel; a few leave instead (Fidelity's redirection)."""
    leave = rows[draws < step.leave_rate]
    moved = rows[(draws >= step.leave_rate) & (draws < step.leave_rate + step.success_rate)]
    channel = context.channel_names.index(step.to_channel)
    return Effect(
        cost=step.cost_per_customer * len(rows),
        channel=Change(moved, np.full(len(moved), channel, dtype=np.int16)),
        walk_away=leave,
        tellers=(len(moved) + len(leave)) * context.migration_word_of_mouth,
    )


# ---------------------------------------------------------------------------- migrate to a partner
class MigratePartnerStep(StepBase):
    """Hand customers to a partner who serves them and pays back a share of the margin."""

    action: Literal["migrate_partner"]
    acceptance_rate: Real = Field(0.8, ge=0, le=1, description="Share who accept the partner, fraction")
    fee_share: Real = Field(
        0.3, ge=0, le=1, description="Share of the customer's gross margin the partner pays us, fraction"
    )
    cost_per_customer: Real = Field(10.0, ge=0, le=1e9, description="Cost of handing one customer over, currency")

    def risk(self) -> RiskNote:
        return RiskNote(
            "The customer leaves the books, not the company's name: a partner's poor service returns as "
            'reputation loss and distrust among those who stay. Handing a customer to a partner is the respectful'
            ' alternative to pushing them out.',
            'Hitt, "Customer Segmentation: Get Profitable or Get Lost", 2003; titus, "A customer who calls you every '
            'day is less profitable than one who pays on time and never calls you", 2014',
            short="a partner's poor service comes back as our reputation")

    def plain(self, money: Callable[[float], str]) -> str:
        return (f"{self.target.plain(money).capitalize()} are handed to a partner ({money(self.cost_per_customer)} "
                f"each); {percent(self.acceptance_rate)} accept, and the partner pays us "
                f"{percent(self.fee_share)} of their margin.")


@declare_action(MigratePartnerStep)
def migrate_partner(context: ActionContext, step: MigratePartnerStep, rows: np.ndarray, draws: np.ndarray) -> Effect:
    """Hand customers to a partner: they leave our books, a share of their margin comes back as a fee."""
    c = context.customers
    accepted = rows[draws < step.acceptance_rate]
    gross_margin = c.revenue[accepted] * (c.price[accepted] - c.cost_of_goods_share[accepted])
    return Effect(
        cost=step.cost_per_customer * len(rows),
        to_partner=Change(accepted, step.fee_share * np.maximum(gross_margin, 0.0)),
        tellers=len(accepted) * context.migration_word_of_mouth,
    )


# ---------------------------------------------------------------------------- terminate
class TerminateStep(StepBase):
    """End the relationship: at contract end, or at once for an exit cost; graceful or abrupt."""

    action: Literal["terminate"]
    style: Literal["graceful", "abrupt"] = Field(
        "graceful", description="graceful: personal communication; abrupt: slow service and crummy pricing"
    )
    pay_exit_cost: Switch = Field(
        False, description="End contracts at once and pay the exit cost instead of waiting for contract end"
    )
    exit_cost: Real = Field(50.0, ge=0, le=1e9, description="Cost of ending one contract early, currency per remaining month")
    cost_per_customer: Real = Field(15.0, ge=0, le=1e9, description="Cost of a graceful (personal) exit conversation, currency")
    abrupt_satisfaction_loss: Real = Field(
        0.0, ge=0, le=1,
        description="Abrupt: satisfaction lost to slow service until the customer goes (0 = exit at contract end as graceful), 0–1",
    )
    abrupt_price_increase: Real = Field(
        0.0, ge=0, le=5, description="Abrupt: 'crummy pricing', price increase until the customer goes, fraction"
    )

    def risk(self) -> RiskNote:
        legal = ("Letting customers go has legal and ethical sides that depend on the contract: banks must give notice "
                 "and, for a basic account, reasons, before closing one.")
        if self.style == "abrupt":
            return RiskNote(legal + " Pushing customers out with poor service and prices is the conduct regulators "
                                    "and the press single out, and each story costs customers not yet won.",
                            'Directive 2014/92/EU (Payment Accounts Directive), 2014, art. 19; ' + CONDUCT_SOURCE +
                            '; Hitt, "Customer Segmentation: Get Profitable or Get Lost", 2003', level=2,
                            short="closing accounts needs notice and reasons, and pushing customers out is the "
                                  "conduct regulators and the press single out")
        return RiskNote(legal + " Done in person, with notice and help to move, it keeps down distrust among "
                                "those who stay.",
                        'Directive 2014/92/EU (Payment Accounts Directive), 2014, art. 19; titus, "A customer who calls '
                        'you every day is less profitable than one who pays on time and never calls you", 2014', level=2,
                        short="closing accounts needs notice and reasons; done in person it keeps distrust down")

    def plain(self, money: Callable[[float], str]) -> str:
        who = self.target.plain(money).capitalize()
        when = (f"at once, paying {money(self.exit_cost)} per remaining contract month" if self.pay_exit_cost
                else "at the end of their contract")
        if self.style == "graceful":
            return (f"{who} are told in person ({money(self.cost_per_customer)} a conversation) that the "
                    f"relationship ends {when}.")
        pushes = []
        if self.abrupt_satisfaction_loss:
            pushes.append(f"service slows (satisfaction falls by {self.abrupt_satisfaction_loss:g} on a 0–1 scale)")
        if self.abrupt_price_increase:
            pushes.append(f"prices rise {percent(self.abrupt_price_increase)}")
        return (f"{who} are pushed out without a word: {' and '.join(pushes) or 'nothing changes'} until they "
                f"leave, {when} at the latest.")


@declare_action(TerminateStep)
def terminate(context: ActionContext, step: TerminateStep, rows: np.ndarray, draws: np.ndarray) -> Effect:
    """End relationships at contract end, or at once for the exit cost; graceful or abrupt (titus 2014; Hitt 2003)."""
    c = context.customers
    cost = 0.0 if step.style == "abrupt" else step.cost_per_customer * len(rows)
    treatment = price = None
    if step.style == "abrupt":
        treatment = Change(rows, np.full(len(rows), step.abrupt_satisfaction_loss))
        price = Change(rows, c.price[rows] * (1.0 + step.abrupt_price_increase))
    if step.pay_exit_cost:
        remaining = np.maximum(c.contract_end[rows] - context.month, 0)
        return Effect(cost=cost + float(step.exit_cost * remaining.sum()), treatment=treatment, price=price,
                      divest_now=rows)
    return Effect(cost=cost, treatment=treatment, price=price, divest_at_contract_end=rows)
