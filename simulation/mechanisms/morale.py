"""Staff morale: it falls when effort goes to customers whose business does not pay, and with it the
quality of service every customer's satisfaction rests on."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simulation.book.outcome_types import Board, Outcome
from simulation.core.formulas import morale_target, move_toward
from simulation.core.schema import Real, Section, Switch, in_plain_words
from simulation.mechanisms.base import Mechanism, MonthShape, Run


class MoraleSpec(Section):
    """Staff morale falls when effort goes to customers whose business does not pay."""

    enabled: Switch = Field(True, description="Switch morale effects off")
    sensitivity: Real = Field(
        0.5, ge=0, le=2, description="Morale lost per unit share of staffed contacts spent on loss-makers"
    )
    adjustment_rate: Real = Field(0.3, ge=0, le=1, description="Share of the gap to target closed monthly")
    quality_effect: Real = Field(
        0.3, ge=0, le=1, description="Satisfaction baseline lost per unit of morale lost, fraction",
        json_schema_extra=in_plain_words("How much staff morale shapes service quality", (0.5, 2.0)),
    )


class Morale(Mechanism[MoraleSpec]):
    """Morale moves toward what the share of effort spent on loss-makers allows; quality follows it."""

    name = "morale"
    sections = {"morale": MoraleSpec}
    outcomes = (
        Outcome("morale", "level", "index", "staff morale, 0–1", lambda e: e.values["morale"],
                better="higher", board=Board(15, "Staff morale (0–1)")),
    )
    traced = ("morale",)

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self.morale = 1.0
        self.quality = 1.0  # service quality: scales the satisfaction baseline

    def start(self) -> None:
        """Start at today's morale: the scenario's churn rates are those observed at today's service."""
        if self.settings.enabled:
            self.morale = morale_target(self._loss_effort_share(), self.settings.sensitivity)
        self.begin_month(0)

    def begin_month(self, month: int) -> None:
        spec = self.settings
        if spec.enabled:
            target = morale_target(self._loss_effort_share(), spec.sensitivity)
            self.morale = float(move_toward(self.morale, target, spec.adjustment_rate))
            self.quality = 1.0 - spec.quality_effect * (1.0 - self.morale)

    def _loss_effort_share(self) -> float:
        """Share of staffed contacts spent on customers who lose us money (what lowers morale)."""
        c = self.run.customers
        staffed_contacts = float(c.staffed_load.sum())
        if staffed_contacts <= 0:
            return 0.0
        return float(np.dot(c.staffed_load, c.last_profit < 0)) / staffed_contacts

    def shape_month(self, shape: MonthShape) -> None:
        shape.satisfaction_moves |= self.settings.enabled
        shape.quality *= self.quality

    def month_values(self) -> dict[str, float]:
        return {"morale": self.morale}

    def quarter_values(self) -> dict[str, float]:
        return {"morale": self.morale}
