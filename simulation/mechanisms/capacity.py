"""Finite service capacity: staffed contacts queue for agents (an Erlang C wait), and waits past what
customers tolerate cost satisfaction — one reason to divest."""

from __future__ import annotations

from pydantic import Field

from simulation.book.outcome_types import Board, Outcome
from simulation.core.formulas import erlang_c_wait, wait_penalty
from simulation.core.schema import Real, Section, Switch, Whole, in_plain_words
from simulation.mechanisms.base import Mechanism, MonthShape, Run


class CapacitySpec(Section):
    """Finite service capacity: staffed contacts queue (Erlang C) and long waits hurt satisfaction."""

    enabled: Switch = Field(True, description="Switch queueing off (unlimited capacity)")
    agents: Whole = Field(25, ge=1, le=100_000, description="Service agents on duty, people",
            json_schema_extra=in_plain_words("Service agents on duty"))
    handle_minutes: Real = Field(8.0, gt=0, le=600, description="Average handling time of a contact, minutes")
    agent_minutes_per_month: Real = Field(
        9_000.0, gt=0, le=44640, description="Minutes one agent answers contacts per month (≈150 h), minutes"
    )
    tolerated_wait_minutes: Real = Field(
        1.0, ge=0, le=1440, description="Waits up to this long do not hurt satisfaction, minutes"
    )
    satisfaction_loss_per_minute: Real = Field(
        0.02, ge=0, le=1, description="Satisfaction lost per minute of wait beyond the tolerance, per month"
    )
    max_wait_minutes: Real = Field(
        60.0, gt=0, le=1440, description="Wait used when demand exceeds capacity (the queue would grow without bound), minutes"
    )


class Capacity(Mechanism[CapacitySpec]):
    """The month's queueing wait, from the staffed contacts of the customers on the books."""

    name = "capacity"
    sections = {"capacity": CapacitySpec}
    outcomes = (
        Outcome("wait_minutes", "level", "minutes", "mean call-centre wait of the quarter's last month",
                lambda e: e.values["wait_minutes"],
                better="lower", board=Board(14, "Call-centre wait, minutes")),
    )
    traced = ("wait_minutes",)

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self.wait_minutes = 0.0
        self.penalty = 0.0  # satisfaction lost per month by a customer fully exposed to the queue

    def start(self) -> None:
        self.begin_month(0)

    def begin_month(self, month: int) -> None:
        spec = self.settings
        self.wait_minutes = self.penalty = 0.0
        if spec.enabled:
            # A sample's customers each stand for ``sample_weight`` of the book's: the agents meet the whole load
            # (Erlang C's waits are not the same for a tenth of the load on a tenth of the agents).
            load = (float(self.run.customers.staffed_load.sum()) * self.run.scenario.sample_weight
                    * spec.handle_minutes / spec.agent_minutes_per_month)
            self.wait_minutes = erlang_c_wait(load, spec.agents, spec.handle_minutes, spec.max_wait_minutes)
            self.penalty = wait_penalty(self.wait_minutes, spec.tolerated_wait_minutes, spec.satisfaction_loss_per_minute)

    def shape_month(self, shape: MonthShape) -> None:
        shape.satisfaction_moves |= self.settings.enabled
        shape.queue_penalty += self.penalty

    def month_values(self) -> dict[str, float]:
        return {"wait_minutes": self.wait_minutes}

    def quarter_values(self) -> dict[str, float]:
        return {"wait_minutes": self.wait_minutes}
