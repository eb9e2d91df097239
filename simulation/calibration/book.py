"""Fitted models → the run's starting book and the scenario changes that scale the run to the data.

Today's customers start with their own posterior: from a log, each customer is on the book with
their probability of still being active (drawn once from the population stream, so every
strategy and replication starts from the same book, and the book counts customers by their
probability), with their own monthly dropout hazard and expected revenue; from a ledger with
start and end dates, the stayers, each with their own sBG churn given how long they have stayed.

The scenario's absolute numbers give way to the data's: the market keeps the scenario's share
(market size scaled to the book), acquisition is the log's observed new customers per month (a
ledger keeps the scenario's rate, on the scaled market), and fitted churn replaces the
scenario's for newcomers. These changes are ``--set``-style overrides, recorded with their
source; the analyst's own ``--set`` still wins.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ingest import assumed_population, ledger_columns, load_ledger
from ..population import Population
from ..scenario import Scenario
from ..segments import SEGMENT_COUNT
from .fits import ContractFit, LogFit

LOSS_MAKING_WARNING = 0.8  # more than this share of the book losing money reads as a cost assumption gone wrong
COST_COLUMNS = ("cost_of_goods", "account_management", "contacts", "channel", "days_late")


@dataclass(frozen=True)
class StartingBook:
    """Today's customers and what the data changed in the scenario, with the notes a board should see."""

    population: Population
    overrides: list[str]  # dotted.path=value, from the data
    customers_in_data: int  # customers the file lists
    expected_active: float  # of them, the number the data say are still customers (Σ P(alive), or stayers)
    assumed_columns: list[str]  # cost-to-serve columns taken from the scenario, not the data
    loss_making_share: float  # of today's book, at the assumed costs
    fits: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def supported_share(self) -> float:
        """The share of the customers in the data that the data support as today's book."""
        return self.expected_active / self.customers_in_data if self.customers_in_data else float("nan")

    def provenance(self, source: str) -> dict[str, Any]:
        return {
            "source": source, "customers_in_data": self.customers_in_data,
            "customers_at_start": len(self.population), "expected_active": self.expected_active,
            "supported_share": self.supported_share, "assumed_columns": self.assumed_columns,
            "loss_making_share": self.loss_making_share, "overrides": self.overrides, "fits": self.fits,
            "warnings": self.warnings,
        }


def monthly_profit(population: Population, scenario: Scenario) -> np.ndarray:
    """Each customer's monthly profit at list price: revenue − cost to serve (as the engine books it)."""
    cost_per_contact = np.array([scenario.channels[name].cost_per_contact for name in population.channel_names])
    late = scenario.economics.cost_of_capital * population.days_late / 365.0
    return (population.revenue * (1.0 - late) - population.cost_of_goods - population.account_management
            - population.contacts * cost_per_contact[population.channel])


def scaled_market(scenario: Scenario, book: int) -> int:
    """The market that gives ``book`` customers the scenario's market share."""
    return max(book, int(round(book * scenario.market.size / scenario.population.customers)))


def _fitted_churn(alpha: float, beta: float, period: str) -> list[str]:
    ones = ", ".join(["1"] * SEGMENT_COUNT)
    return [f"churn.beta_alpha={alpha:.6g}", f"churn.beta_beta={beta:.6g}", f"churn.period={period}",
            f"churn.segment_multipliers=[{ones}]"]  # fitted hazards already differ per customer: not twice


def _check_costs(book: StartingBook, what: str) -> StartingBook:
    notes = list(book.warnings)
    if book.assumed_columns:
        notes.append(f"{what}: cost-to-serve columns taken from the scenario, not the data: "
                     f"{', '.join(book.assumed_columns)}")
    if book.loss_making_share > LOSS_MAKING_WARNING:
        notes.append(f"{what}: {book.loss_making_share:.1%} of today's customers lose money at the scenario's cost "
                     f"assumptions (more than {LOSS_MAKING_WARNING:.0%}): check the scenario's costs against this "
                     "business before reading any strategy's result")
    return dataclasses.replace(book, warnings=notes)


def log_book(fit: LogFit, scenario: Scenario, rng: np.random.Generator) -> StartingBook:
    """Today's book from a fitted log: customers by their P(alive), with their own hazard and revenue."""
    posterior = fit.posteriors()
    alive = rng.random(len(posterior.ids)) < posterior.probability_alive
    rows = np.flatnonzero(alive)
    population = assumed_population(scenario, rng, posterior.ids[rows], posterior.revenue_per_month[rows])
    # The log's new customers include the referred ones: imported customers refer nobody on top.
    population = dataclasses.replace(population, churn_probability=posterior.monthly_dropout[rows],
                                     referrals_per_year=np.zeros(len(rows)))
    size = scaled_market(scenario, len(rows))
    per_month = fit.new_customers_per_month()
    rate = min(1.0, per_month / (size - len(rows))) if size > len(rows) else 0.0
    alpha, beta = fit.newcomer_churn()
    notes = []
    if per_month == 0:
        notes.append(f"{fit.source}: no customer made a first purchase in the calibration period's last year; "
                     "acquisition from the data is 0 a month (a single cohort?): set market.acquisition_rate "
                     "with --set if the company does win customers")
    book = StartingBook(
        population=population,
        overrides=[f"market.size={size}", f"market.acquisition_rate={rate:.6g}", *_fitted_churn(alpha, beta, "month")],
        customers_in_data=len(posterior.ids),
        expected_active=float(posterior.probability_alive.sum()),
        assumed_columns=list(COST_COLUMNS),
        loss_making_share=float(np.mean(monthly_profit(population, scenario) < 0)) if len(rows) else float("nan"),
        fits={"purchasing": fit.purchasing.as_dict(), "spending": fit.spending.as_dict(),
              "time_unit": fit.summary.time_unit, "calibration_end": fit.summary.calibration_end.isoformat(),
              "new_customers_per_month": per_month},
        warnings=notes,
    )
    return _check_costs(book, str(fit.source))


def ledger_book(path: Any, scenario: Scenario, rng: np.random.Generator, fit: ContractFit | None) -> StartingBook:
    """Today's book from a ledger: every row, or with start/end dates the stayers with their own sBG churn."""
    population = load_ledger(path, scenario, rng)
    rows_in_data = len(population)
    overrides: list[str] = []
    fits: dict[str, Any] = {}
    if fit is not None:
        stayers = np.flatnonzero(fit.tenures.stayers)
        population = dataclasses.replace(population.take(stayers), churn_probability=fit.monthly_churn())
        overrides = _fitted_churn(fit.churn["alpha"], fit.churn["beta"], fit.tenures.period)
        fits = {"churn": fit.churn.as_dict(), "period": fit.tenures.period,
                "calibration_end": fit.tenures.calibration_end.isoformat()}
    header = set(ledger_columns(path))
    book = StartingBook(
        population=population,
        overrides=[f"market.size={scaled_market(scenario, len(population))}", *overrides],
        customers_in_data=rows_in_data,
        expected_active=float(len(population)),
        assumed_columns=[name for name in COST_COLUMNS if name not in header],
        loss_making_share=float(np.mean(monthly_profit(population, scenario) < 0)) if len(population) else float("nan"),
        fits=fits,
    )
    return _check_costs(book, str(path))
