"""Distrust after divestment: when customers are let go, those left near the threshold sense they may be
next and leave faster, until the unease fades."""

from __future__ import annotations

from pydantic import Field

from simulation.core.schema import Real, Section, Switch, in_plain_words
from simulation.mechanisms.base import Mechanism, MonthShape, Run


class DistrustSpec(Section):
    """Remaining customers near the threshold sense they may be next."""

    enabled: Switch = Field(True, description="Switch distrust after divestment off")
    strength: Real = Field(
        20.0, ge=0, le=1000, description="Hazard uplift per unit share of customers divested in a month, multiplier",
        json_schema_extra=in_plain_words("How strongly letting customers go unsettles the rest", (0.5, 2.0)),
    )
    decay: Real = Field(0.3, ge=0, le=1, description="Share of distrust that fades each month, fraction",
            json_schema_extra=in_plain_words("How fast unease after customers are let go fades", (0.5, 2.0)))
    near_threshold_profit: Real = Field(
        5.0, ge=-1e9, le=1e9, description="Customers below this profit feel at risk, currency per month"
    )


class Distrust(Mechanism[DistrustSpec]):
    """A hazard uplift for customers earning less than the threshold, raised by each exit the strategy sends."""

    name = "distrust"
    sections = {"distrust": DistrustSpec}
    traced = ("distrust",)

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self.distrust = 0.0
        self._at_draw = 0.0

    def begin_month(self, month: int) -> None:
        self._at_draw = self.distrust  # the month's trace: distrust as the churn draw saw it

    def shape_month(self, shape: MonthShape) -> None:
        if self.settings.enabled and self.distrust > 0:
            shape.at_risk_uplift = self.distrust
            shape.at_risk_profit = self.settings.near_threshold_profit

    def pushed_out(self, count: int, abrupt: int, active_before: int) -> None:
        if self.settings.enabled and active_before:
            self.distrust += self.settings.strength * count / active_before

    def end_month(self, month: int) -> None:
        self.distrust *= 1.0 - self.settings.decay

    def month_values(self) -> dict[str, float]:
        return {"distrust": self._at_draw}
