"""A competitor's price war: from a quarter, for some months, price-sensitive customers leave faster and
fewer of the market's people come to us. The worked example of a mechanism added in one module."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from simulation.book.outcome_types import Outcome
from simulation.core.schema import Real, Section, Switch, Whole, in_plain_words
from simulation.core.streams import Stream
from simulation.mechanisms.base import Acquisition, HazardFactor, Mechanism, MonthShape, Run


class PriceWarSpec(Section):
    """A competitor cuts its prices for a while: price-sensitive customers leave faster, fewer prospects come."""

    enabled: Switch = Field(False, description="Switch the price war on")
    start_quarter: Whole = Field(1, ge=1, le=80, description="Quarter the war starts in (1 = the horizon's first), quarters")
    months: Whole = Field(6, ge=1, le=240, description="How long the war lasts, months")
    sensitive_share: Real = Field(
        0.3, ge=0, le=1, description="Share of customers who are price-sensitive (the same customers in every strategy), "
                                     "fraction",
        json_schema_extra=in_plain_words("Share of customers who follow a competitor's lower prices", (0.5, 2.0)),
    )
    churn_multiplier: Real = Field(
        2.0, ge=1, le=100, description="Price-sensitive customers' churn hazard during the war, multiplier",
        json_schema_extra=in_plain_words("How much faster price-sensitive customers leave in a price war"),
    )
    acquisition_cut: Real = Field(
        0.5, ge=0, le=1, description="Share of the market's newcomers the war takes from us, fraction",
        json_schema_extra=in_plain_words("Share of new customers a price war takes"),
    )

    def problem_in(self, scenario: Any) -> str | None:
        if self.enabled and self.start_quarter > scenario.horizon_quarters:
            return (f"price_war.start_quarter is {self.start_quarter}, after the horizon's last quarter "
                    f"({scenario.horizon_quarters}): the war would never start (start it within the horizon, or "
                    f"switch it off with price_war.enabled: false)")
        return None


class PriceWar(Mechanism[PriceWarSpec]):
    """During the war: price-sensitive customers' hazard × ``churn_multiplier``; market acquisition × (1 − cut)."""

    name = "price war"
    sections = {"price_war": PriceWarSpec}
    outcomes = (
        Outcome("price_war_churned", "flow", "customers",
                "customers a competitor's price war took, expected: over the price-sensitive customers on the books at "
                "each of its months' churn draws, the chance of leaving with the war less the chance without it "
                "(0 without a war)",
                lambda e: e.values["price_war_churned"],
                better="lower"),
    )
    traced = ("price_war",)

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self.first_month = 3 * (self.settings.start_quarter - 1)
        self._churned = 0.0  # this quarter's
        self._sensitive: tuple[np.ndarray, int] | None = None  # the rows, and the rows in use when drawn

    def at_war(self, month: int) -> bool:
        return self.settings.enabled and self.first_month <= month < self.first_month + self.settings.months

    def _sensitive_rows(self) -> np.ndarray:
        """The price-sensitive customers' rows: a fixed draw per customer, common to every strategy."""
        size = len(self.run.customers.status)
        if self._sensitive is None or self._sensitive[1] != size:
            draws = self.run.uniforms(Stream.PRICE_WAR, 0)
            self._sensitive = (np.flatnonzero(draws < self.settings.sensitive_share), size)
        return self._sensitive[0]

    def shape_month(self, shape: MonthShape) -> None:
        if self.at_war(self.run.current_month):
            shape.hazard_factors.append(HazardFactor(self._sensitive_rows(), self.settings.churn_multiplier))

    def shape_acquisition(self, acquisition: Acquisition) -> None:
        if self.at_war(self.run.current_month):
            acquisition.factor *= 1.0 - self.settings.acquisition_cut

    def after_draw(self, month: int) -> None:
        """The customers the war takes this month, expected: Σ (min(hazard × multiplier, 1) − hazard) over the
        sensitive customers at the draw (a customer off the books has a hazard of 0)."""
        if self.at_war(month):
            hazard = self.run.customers.hazard[self._sensitive_rows()]
            self._churned += float((np.minimum(hazard * self.settings.churn_multiplier, 1.0) - hazard).sum())

    def month_values(self) -> dict[str, float]:
        return {"price_war": float(self.at_war(self.run.current_month))}

    def quarter_values(self) -> dict[str, float]:
        return {"price_war_churned": self._churned}

    def end_quarter(self) -> None:
        self._churned = 0.0
