"""How strategies are declared in a scenario file: targeting rules and the steps of the ladder.

A strategy is a list of steps; each step is one action (educate, renegotiate, migrate_channel,
migrate_partner, terminate) with a target rule. With several steps a strategy is a *divestment
ladder*: step k+1 acts only on customers that step k reached, once step k's review period has
passed, and only if they still match step k+1's target (still unprofitable, say). The actions
follow Mittal, Sarkees & Murshed (HBR 2008) as retold in the seeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:  # pragma: no cover
    from .scenario import Scenario


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetSpec(_Frozen):
    """Who a step acts on: every given condition must hold (an empty target matches everyone)."""

    segments: tuple[int, ...] | None = Field(
        None, description="Value segments 1 (most profitable) to 8 (least)"
    )
    max_monthly_profit: float | None = Field(
        None, description="Current profit below this, currency per month (0 = loss-makers)"
    )
    max_lifetime_value: float | None = Field(
        None,
        description="Reassess: lifetime value with potential growth and referral value below this, currency",
    )
    min_contacts: float | None = Field(
        None, ge=0, description="Service contacts at or above this, contacts per month"
    )
    channels: tuple[str, ...] | None = Field(None, description="Only customers served in these channels")

    @field_validator("segments")
    @classmethod
    def _segments_in_range(cls, values: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if values is not None:
            bad = [v for v in values if not 1 <= v <= 8]
            if bad or not values:
                raise ValueError(f"must list segments between 1 and 8, got {list(values)}")
        return values


class _Step(_Frozen):
    target: TargetSpec = TargetSpec()
    review_months: int = Field(
        3, ge=1, le=60, description="Time this step has to work before the next step looks, months"
    )

    def check_against(self, scenario: "Scenario", strategy: str) -> None:
        """Cross-field checks that need the whole scenario (channel names)."""
        for channel in self.target.channels or ():
            if channel not in scenario.channels:
                raise ValueError(
                    f"strategy '{strategy}': target channel '{channel}' is not defined under channels "
                    f"(known: {sorted(scenario.channels)})"
                )


class EducateStep(_Step):
    """Teach high-contact customers self-service: fewer contacts, at a cost per head."""

    action: Literal["educate"]
    cost_per_customer: float = Field(25.0, ge=0, description="One-off cost of educating a customer, currency")
    success_rate: float = Field(0.5, ge=0, le=1, description="Share of educated customers who change, fraction")
    contact_reduction: float = Field(
        0.6, ge=0, le=1, description="Share of contacts a successful customer no longer makes, fraction"
    )


class RenegotiateStep(_Step):
    """Reprice: surcharge high-maintenance customers, reward low-cost ones; churn follows the price."""

    action: Literal["renegotiate"]
    surcharge: float = Field(
        0.15, ge=0, le=5, description="Price increase for targeted customers, fraction of revenue"
    )
    reward_discount: float = Field(
        0.0, ge=0, le=1, description="Price cut (premium) for low-cost customers, fraction of revenue"
    )
    reward_max_contacts: float = Field(
        0.1, ge=0, description="Low-cost customers: contacts per month at most (and paying on time)"
    )
    cost_per_customer: float = Field(5.0, ge=0, description="Cost of renegotiating one contract, currency")


class MigrateChannelStep(_Step):
    """Move customers to a cheaper channel (call centre → online); the customer stays."""

    action: Literal["migrate_channel"]
    to_channel: str = Field("online", description="Channel the customers move to")
    success_rate: float = Field(0.8, ge=0, le=1, description="Share who move, fraction")
    leave_rate: float = Field(
        0.0011,
        ge=0,
        le=1,
        description="Share who leave instead (Fidelity: 34 complaints in 30,000 redirected callers), fraction",
    )
    cost_per_customer: float = Field(5.0, ge=0, description="Cost of moving one customer, currency")

    def check_against(self, scenario: "Scenario", strategy: str) -> None:
        super().check_against(scenario, strategy)
        if self.to_channel not in scenario.channels:
            raise ValueError(
                f"strategy '{strategy}': migrate_channel.to_channel '{self.to_channel}' is not defined "
                f"under channels (known: {sorted(scenario.channels)})"
            )


class MigratePartnerStep(_Step):
    """Hand customers to a partner who serves them and pays back a share of the margin."""

    action: Literal["migrate_partner"]
    acceptance_rate: float = Field(0.8, ge=0, le=1, description="Share who accept the partner, fraction")
    fee_share: float = Field(
        0.3, ge=0, le=1, description="Share of the customer's gross margin the partner pays us, fraction"
    )
    cost_per_customer: float = Field(10.0, ge=0, description="Cost of handing one customer over, currency")


class TerminateStep(_Step):
    """End the relationship: at contract end, or at once for an exit cost; graceful or abrupt."""

    action: Literal["terminate"]
    style: Literal["graceful", "abrupt"] = Field(
        "graceful",
        description="graceful: personal communication; abrupt: slow service and crummy pricing",
    )
    pay_exit_cost: bool = Field(
        False, description="End contracts at once and pay the exit cost instead of waiting for contract end"
    )
    exit_cost: float = Field(
        50.0, ge=0, description="Cost of ending one contract early, currency per remaining month"
    )
    cost_per_customer: float = Field(
        15.0, ge=0, description="Cost of a graceful (personal) exit conversation, currency"
    )
    abrupt_satisfaction_loss: float = Field(
        0.0, ge=0, le=1,
        description="Abrupt: satisfaction lost to slow service until the customer goes (0 = exit at contract end as graceful), 0–1",
    )
    abrupt_price_increase: float = Field(
        0.0, ge=0, le=5, description="Abrupt: 'crummy pricing', price increase until the customer goes, fraction"
    )


StepSpec = Annotated[
    Union[EducateStep, RenegotiateStep, MigrateChannelStep, MigratePartnerStep, TerminateStep],
    Field(discriminator="action"),
]

ACTION_NAMES = ("educate", "renegotiate", "migrate_channel", "migrate_partner", "terminate")


class StrategySpec(_Frozen):
    """A named strategy: no steps is *retain by all means*; several steps form a ladder."""

    description: str = Field("", description="One line for the report")
    source: str = Field("", description="Where the idea comes from (article, seed)")
    steps: tuple[StepSpec, ...] = ()
