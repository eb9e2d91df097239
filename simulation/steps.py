"""The parts every strategy step shares: who it targets and how long it has to work.

Each action declares its own step (its parameters) in ``actions.py`` by subclassing ``StepBase``;
the scenario's step union is derived from those declarations.
"""

from __future__ import annotations

from typing import Collection

from pydantic import Field, field_validator

from .schema import Real, StrictModel, Whole


class TargetSpec(StrictModel):
    """Who a step acts on: every given condition must hold (an empty target matches everyone)."""

    segments: tuple[Whole, ...] | None = Field(None, description="Value segments 1 (most profitable) to 8 (least)")
    max_monthly_profit: Real | None = Field(
        None, description="Current profit below this, currency per month (0 = loss-makers)"
    )
    max_lifetime_value: Real | None = Field(
        None,
        description="Reassess: lifetime value with potential growth and referral value below this, currency",
    )
    min_contacts: Real | None = Field(None, ge=0, description="Service contacts at or above this, contacts per month")
    channels: tuple[str, ...] | None = Field(None, description="Only customers served in these channels")

    @field_validator("segments")
    @classmethod
    def _segments_in_range(cls, values: tuple[Whole, ...] | None) -> tuple[Whole, ...] | None:
        if values is not None:
            bad = [v for v in values if not 1 <= v <= 8]
            if bad or not values:
                raise ValueError(f"must list segments between 1 and 8, got {list(values)}")
        return values


class StepBase(StrictModel):
    """A step of a strategy: its action's parameters, a target rule and a review period."""

    action: str
    target: TargetSpec = TargetSpec()
    review_months: Whole = Field(
        3, ge=1, le=60, description="Time this step has to work before the next step looks, months"
    )

    def check_channels(self, channel_names: Collection[str], strategy: str) -> None:
        """Cross-field check against the scenario's channels (a ValueError names the strategy)."""
        for channel in self.target.channels or ():
            if channel not in channel_names:
                raise ValueError(
                    f"strategy '{strategy}': target channel '{channel}' is not defined under channels "
                    f"(known: {sorted(channel_names)})"
                )
