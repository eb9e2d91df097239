"""Reputation and trust: the share of the market that has heard a bad story lowers reputation, which slows
acquisition and referrals; customers' lost trust raises their hazard. Both recover as people forget."""

from __future__ import annotations

import math

from pydantic import Field

from simulation.book.outcome_types import Outcome
from simulation.core.schema import Real, Section, in_plain_words
from simulation.mechanisms.base import Acquisition, Mechanism, MonthShape, Run
from simulation.mechanisms.word_of_mouth import WordOfMouthSpec


class ReputationSpec(Section):
    initial: Real = Field(1.0, ge=0, le=2, description="Reputation index at start; 1 is neutral")
    recovery_rate: Real = Field(
        0.05, ge=0, le=1,
        description="Share of people who heard a bad story who forget it each month (reputation recovers with "
                    "them), and share of lost trust customers regain each month, fraction",
        json_schema_extra=in_plain_words("How fast reputation recovers", (0.5, 2.0)),
    )


class Reputation(Mechanism[ReputationSpec]):
    """Reputation = initial × exp(−word_of_mouth.reputation_loss × heard share); lost trust recovers monthly."""

    name = "reputation"
    sections = {"reputation": ReputationSpec, "word_of_mouth": WordOfMouthSpec}  # its own, and reputation_loss
    outcomes = (
        Outcome("reputation", "level", "index", "reputation index (1 = as at the start); scales acquisition",
                lambda e: e.values["reputation"],
                better="higher"),
    )
    traced = ("reputation",)

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self._at_acquisition = self.index

    @property
    def index(self) -> float:
        """Reputation index: falls smoothly with the share of the market that has heard a bad story."""
        loss = self.run.scenario.word_of_mouth.reputation_loss
        return self.settings.initial * math.exp(-loss * self.run.market.heard_share)

    def shape_month(self, shape: MonthShape) -> None:
        if self.run.market.trust_gap > 0:
            shape.trust_on = True
            shape.trust_recovery = self.settings.recovery_rate  # regained in the month's pass, after the draw

    def shape_acquisition(self, acquisition: Acquisition) -> None:
        self._at_acquisition = reputation = self.index
        initial = self.settings.initial
        acquisition.reputation *= reputation / initial if initial > 0 else 0.0

    def end_month(self, month: int) -> None:
        """Stories are forgotten; the largest trust gap closes as each customer's trust recovered in the pass."""
        recovery, market = self.settings.recovery_rate, self.run.market
        if recovery:
            if market.trust_gap > 0:
                market.trust_gap *= 1.0 - recovery
                if market.trust_gap < 1e-9:
                    self.run.customers.trust[:] = 1.0
                    market.trust_gap = 0.0
            market.heard_share *= 1.0 - recovery

    def month_values(self) -> dict[str, float]:
        return {"reputation": self._at_acquisition}

    def quarter_values(self) -> dict[str, float]:
        return {"reputation": self.index}
