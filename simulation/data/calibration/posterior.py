"""Today's customers drawn, in every replication, from what the data say about each of them.

From a log (BG/NBD and Gamma-Gamma; Fader, Hardie & Lee 2005): each customer is on the book with
their probability of still being active, P(alive); if on it, they draw their own purchase rate
λ ~ Gamma(r + x, α + T) and dropout probability p ~ Beta(a, b + x) (the posterior given alive),
and their own mean spend p_s / ν with ν ~ Gamma(q + p_s x, γ + x m̄) (Gamma-Gamma's posterior).
Dropouts come at rate λp, so a customer's monthly dropout is 1 − exp(−λ p m), m a month in the
fit's time unit; the survivors are those with low rates, and the book's hazard falls over time as
the model says. A fixed hazard per customer (their expected one today) would undercount the book
by 11 % at 36 months.

The engine books a month's revenue on the customers still on the books at its end, so each stayer
carries the month's expected purchases of those who left during it too: (e^{λpm} − 1)/p a month,
which sums over the months to the model's expected purchases exactly (for a typical customer it is
1–2 % above λm).

From a ledger with start and end dates (sBG; Fader & Hardie 2007): each stayer draws their own
θ ~ Beta(α, β + n) after n renewals, converted exactly to a month.

With ``calibration.parameter_uncertainty`` each replication first draws the models' parameters
from their estimated sampling distribution (log-normal, the Hessian's covariance), so a forecast's
interval carries what the data cannot pin down. Every draw comes from the replication's own
stream, common to every strategy: differences between strategies stay paired.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from simulation.book.population import Population
from simulation.core.streams import Stream
from simulation.data.calibration import bgnbd
from simulation.data.calibration.mle import Fit
from simulation.data.calibration.units import to_monthly
from simulation.data.ingest import assumed_contacts
from simulation.scenario.spec import Scenario

MAX_MONTHLY_EXPOSURE = 30.0  # λ p m beyond this: the customer is gone within the month (e^-30), and e^30 overflows nothing


def book_generator(seed: int, replication: int) -> np.random.Generator:
    """The replication's stream for drawing today's book: the same for every strategy of it."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, int(Stream.BOOK), 0))))


@dataclass(frozen=True)
class LogPosterior:
    """Every customer of a log with what the fits say about them; a book drawn per replication."""

    template: Population  # every customer in the data: columns the data lack drawn once from the population stream
    frequency: np.ndarray  # x
    recency: np.ndarray  # t_x, time units
    age: np.ndarray  # T, time units
    mean_repeat_spend: np.ndarray  # m̄
    spend_left_out: np.ndarray  # bool: repeat buyers Gamma-Gamma leaves out (mean spend ≤ 0): they keep their own, ≥ 0
    purchasing: Fit
    spending: Fit
    units_per_month: float
    scenario: Scenario  # as run: its cost-to-serve assumptions follow each customer's drawn revenue

    def __len__(self) -> int:
        return len(self.template)

    def sample(self, rows: np.ndarray) -> "LogPosterior":
        """The book of the customers at ``rows`` only, each drawn from their own posterior as before."""
        return dataclasses.replace(
            self, template=self.template.take(rows), frequency=self.frequency[rows], recency=self.recency[rows],
            age=self.age[rows], mean_repeat_spend=self.mean_repeat_spend[rows], spend_left_out=self.spend_left_out[rows])

    def parameters(self, rng: np.random.Generator) -> tuple[dict[str, float], dict[str, float]]:
        if not self.scenario.calibration.parameter_uncertainty:
            return self.purchasing.parameters, self.spending.parameters
        return self.purchasing.draw(rng), self.spending.draw(rng)

    def for_replication(self, seed: int, replication: int) -> Population:
        rng = book_generator(seed, replication)
        purchasing, spending = self.parameters(rng)
        count = len(self.template)
        rows = np.flatnonzero(rng.random(count) < bgnbd.probability_alive(purchasing, self.frequency, self.recency,
                                                                           self.age))
        x, T, mean_spend = self.frequency[rows], self.age[rows], np.maximum(self.mean_repeat_spend[rows], 0.0)
        rate = rng.gamma(purchasing["r"] + x, 1.0 / (purchasing["alpha"] + T))
        dropout = rng.beta(purchasing["a"], purchasing["b"] + x)
        nu = rng.gamma(spending["q"] + spending["p"] * x, 1.0 / (spending["v"] + x * mean_spend))
        exposure = np.minimum(rate * dropout * self.units_per_month, MAX_MONTHLY_EXPOSURE)
        with np.errstate(divide="ignore", invalid="ignore"):
            purchases = np.where(dropout > 0, np.expm1(exposure) / dropout, rate * self.units_per_month)
        # Gamma-Gamma's posterior (its prior for one-time buyers); left-out repeat buyers keep their own mean.
        spend = np.where(self.spend_left_out[rows], mean_spend, spending["p"] / nu)
        revenue = purchases * spend
        book = self.template.take(rows)
        return dataclasses.replace(
            book, revenue=revenue, cost_of_goods=self.scenario.population.cost_of_goods_share * revenue,
            contacts=assumed_contacts(revenue, self.scenario), churn_probability=-np.expm1(-exposure),
            purchases_per_month=purchases, buying_probability=-np.expm1(-rate * self.units_per_month),
            spend_shape=spending["p"],
        )


@dataclass(frozen=True)
class ContractPosterior:
    """A dated ledger's stayers with the sBG posterior of their churn; each replication draws θ."""

    template: Population  # the stayers, as the ledger gives them
    survived: np.ndarray  # renewals each stayer has made
    churn: Fit
    period: str
    parameter_uncertainty: bool

    def __len__(self) -> int:
        return len(self.template)

    def sample(self, rows: np.ndarray) -> "ContractPosterior":
        """The book of the stayers at ``rows`` only."""
        return dataclasses.replace(self, template=self.template.take(rows), survived=self.survived[rows])

    def for_replication(self, seed: int, replication: int) -> Population:
        rng = book_generator(seed, replication)
        parameters = self.churn.draw(rng) if self.parameter_uncertainty else self.churn.parameters
        theta = rng.beta(parameters["alpha"], parameters["beta"] + self.survived)
        return dataclasses.replace(self.template, churn_probability=to_monthly(theta, self.period))
