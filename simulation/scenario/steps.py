"""The parts every strategy step shares: who it targets and how long it has to work.

Each action declares its own step (its parameters) in ``actions.py`` by subclassing ``StepBase``;
the scenario's step union is derived from those declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection

from pydantic import Field, field_validator

from simulation.core.schema import Real, StrictModel, Whole


class TargetSpec(StrictModel):
    """Who a step acts on: every given condition must hold (an empty target matches everyone)."""

    segments: tuple[Whole, ...] | None = Field(None, description="Value segments 1 (most profitable) to 8 (least)")
    max_monthly_profit: Real | None = Field(
        None, ge=-1e12, le=1e12, description="Current profit below this, currency per month (0 = loss-makers)"
    )
    max_lifetime_value: Real | None = Field(
        None, ge=-1e15, le=1e15,
        description="Reassess: lifetime value with potential growth and referral value below this, currency",
    )
    min_contacts: Real | None = Field(None, ge=0, le=1000, description="Service contacts at or above this, contacts per month")
    channels: tuple[str, ...] | None = Field(None, description="Only customers served in these channels")

    def plain(self, money: Callable[[float], str]) -> str:
        """Who the step reaches, in words for the board: 'customers losing money who call at least once a month'."""
        who = "customers"
        if self.max_monthly_profit is not None:
            who = ("customers losing money" if self.max_monthly_profit == 0
                   else f"customers earning us less than {money(self.max_monthly_profit)} a month")
        conditions = []
        if self.max_lifetime_value is not None:
            conditions.append("with no future value either (growth and referrals counted)"
                              if self.max_lifetime_value == 0
                              else f"worth less than {money(self.max_lifetime_value)} over their lifetime")
        if self.min_contacts is not None:
            conditions.append(f"who contact us at least {_times(self.min_contacts)} a month")
        if self.channels:
            conditions.append(f"served by the {' or '.join(name.replace('_', ' ') for name in self.channels)}")
        if self.segments:
            conditions.append(f"in value segment{'s' if len(self.segments) > 1 else ''} "
                              f"{', '.join(f'S{s}' for s in self.segments)}")
        return " ".join([who, *conditions])

    @field_validator("segments")
    @classmethod
    def _segments_in_range(cls, values: tuple[Whole, ...] | None) -> tuple[Whole, ...] | None:
        if values is not None:
            bad = [v for v in values if not 1 <= v <= 8]
            if bad or not values:
                raise ValueError(f"must list segments between 1 and 8, got {list(values)}")
        return values


def _times(count: float) -> str:
    return {1.0: "once", 2.0: "twice"}.get(float(count), f"{count:g} times")


def percent(share: float) -> str:
    """0.6 → '60 %' for the plain-language step descriptions."""
    return f"{share * 100:.3g} %"


@dataclass(frozen=True)
class RiskNote:
    """What an action risks beyond the model's numbers — conduct, regulation, reputation — and who says so."""

    text: str
    sources: str  # author, title, year
    level: int = 1  # 0 low, 1 moderate, 2 high: the decision page names an option's highest
    short: str = ""  # the gist, for the decision page's one line

    LEVELS = ("low", "moderate", "high")


class StepBase(StrictModel):
    """A step of a strategy: its action's parameters, a target rule and a review period."""

    action: str
    target: TargetSpec = TargetSpec()
    review_months: Whole = Field(
        3, ge=1, le=60, description="Time this step has to work before the next step looks, months"
    )

    def plain(self, money: Callable[[float], str]) -> str:
        """What the step does, in a sentence a board member reads without the scenario file."""
        raise NotImplementedError(f"action {self.action!r} declares no plain-language description")

    def risk(self) -> "RiskNote":
        """The conduct, regulatory and reputational risk of this kind of action, in words, with its sources."""
        raise NotImplementedError(f"action {self.action!r} declares no risk note")

    def check_channels(self, channel_names: Collection[str], strategy: str) -> None:
        """Cross-field check against the scenario's channels (a ValueError names the strategy)."""
        for channel in self.target.channels or ():
            if channel not in channel_names:
                raise ValueError(
                    f"strategy '{strategy}': target channel '{channel}' is not defined under channels "
                    f"(known: {sorted(channel_names)})"
                )
