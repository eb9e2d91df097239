"""Fitted models → what every replication draws today's customers from, and the scenario changes
that scale the run to the data.

Today's customers start from their own posterior (``posterior.py``): from a log, every customer
in it, on the book in each replication with their probability of still being active and with
their own drawn purchase rate, dropout and spend; from a ledger with start and end dates, the
stayers, each drawing their own sBG churn given how long they have stayed. A plain ledger is the
same book in every replication.

The scenario's absolute numbers give way to the data's: the market keeps the scenario's share
(market size scaled to the book), acquisition is the log's observed new customers per month (a
ledger keeps the scenario's rate, on the scaled market), and fitted churn replaces the
scenario's for newcomers. These changes are typed values by dotted path, applied once to the
validated scenario (``sources.start_run``) under the analyst's own ``--set``, which wins.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.book.population import Population
from simulation.core.segments import SEGMENT_COUNT
from simulation.data.calibration.fits import ContractFit, LogFit
from simulation.data.calibration.notes import LOSS_MAKING_WARNING
from simulation.data.calibration.posterior import ContractPosterior, LogPosterior
from simulation.data.ingest import assumed_population, ledger_columns, load_ledger
from simulation.data.tables import AS_NAMED, ColumnMap
from simulation.scenario.spec import Scenario

# The scenario paths the data set (what ``StartingBook.changes`` holds), by what the data are.
MARKET_PATHS = ("market.size",)  # every source: the market keeps the scenario's share
ACQUISITION_PATHS = ("market.acquisition_rate",)  # a log: its new customers a month
CHURN_PATHS = ("churn.beta_alpha", "churn.beta_beta", "churn.period", "churn.segment_multipliers")  # a log, a dated ledger
COST_COLUMNS = ("cost_of_goods", "account_management", "contacts", "channel", "days_late")


@dataclass(frozen=True)
class StartingBook:
    """Today's customers and what the data changed in the scenario, with the notes a board should see."""

    population: Population  # every customer the book may hold, at their expected values (summaries, checks)
    draws: Population | LogPosterior | ContractPosterior  # what each replication draws today's customers from
    changes: dict[str, Any]  # dotted path → typed value: the data's changes to the scenario
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

    @property
    def overrides(self) -> list[str]:
        """The changes as ``dotted.path=value`` text (JSON values): for provenance and the printed ``--set`` line."""
        return [f"{path}={json.dumps(value)}" for path, value in self.changes.items()]

    def provenance(self, source: str) -> dict[str, Any]:
        return {
            "source": source, "customers_in_data": self.customers_in_data,
            "customers_at_start": int(round(self.expected_active)), "expected_active": self.expected_active,
            "supported_share": self.supported_share, "assumed_columns": self.assumed_columns,
            "loss_making_share": self.loss_making_share, "overrides": self.overrides, "changes": self.changes,
            "fits": self.fits, "warnings": self.warnings,
        }


def monthly_profit(population: Population, scenario: Scenario) -> np.ndarray:
    """Each customer's monthly profit at list price: revenue − cost to serve (as the engine books it)."""
    cost_per_contact = np.array([scenario.channels[name].cost_per_contact for name in population.channel_names])
    late = scenario.economics.cost_of_capital * population.days_late / 365.0
    return (population.revenue * (1.0 - late) - population.cost_of_goods - population.account_management
            - population.contacts * cost_per_contact[population.channel])


def scaled_market(scenario: Scenario, book: float, largest: int) -> int:
    """The market that gives ``book`` customers the scenario's market share, and holds the ``largest`` book."""
    return max(largest, int(round(book * scenario.market.size / scenario.population.customers)))


def _fitted_churn(alpha: float, beta: float, period: str) -> dict[str, Any]:
    values = (float(alpha), float(beta), period, [1.0] * SEGMENT_COUNT)  # fitted hazards already differ per customer
    return dict(zip(CHURN_PATHS, values, strict=True))


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
    """Today's book from a fitted log: every customer, drawn per replication from their own posterior."""
    posterior = fit.posteriors()
    s = fit.summary
    population = assumed_population(scenario, rng, posterior.ids, posterior.revenue_per_month)
    # The log's new customers include the referred ones: imported customers refer nobody on top.
    population = dataclasses.replace(population, churn_probability=posterior.monthly_dropout,
                                     referrals_per_year=np.zeros(len(posterior.ids)),
                                     purchases_per_month=posterior.purchases_per_month)
    expected = float(posterior.probability_alive.sum())
    size = scaled_market(scenario, expected, len(population))
    per_month = fit.new_customers_per_month()
    rate = min(1.0, per_month / (size - expected)) if size > expected else 0.0
    alpha, beta = fit.newcomer_churn()
    notes = []
    if per_month == 0:
        notes.append(f"{fit.source}: no customer made a first purchase in the calibration period's last year; "
                     "acquisition from the data is 0 a month (a single cohort?): set market.acquisition_rate "
                     "with --set if the company does win customers")
    draws = LogPosterior(population, s.frequency, s.recency, s.age, s.mean_repeat_spend, (s.frequency > 0) & ~s.spend_sample,
                         fit.purchasing, fit.spending, fit.units_per_month, scenario)
    losing = monthly_profit(population, scenario) < 0
    book = StartingBook(
        population=population, draws=draws,
        changes={MARKET_PATHS[0]: int(size), ACQUISITION_PATHS[0]: float(rate), **_fitted_churn(alpha, beta, "month")},
        customers_in_data=len(posterior.ids),
        expected_active=expected,
        assumed_columns=list(COST_COLUMNS),
        loss_making_share=float(posterior.probability_alive @ losing / expected) if expected > 0 else float("nan"),
        fits={"purchasing": fit.purchasing.as_dict(), "spending": fit.spending.as_dict(),
              "time_unit": s.time_unit, "calibration_end": s.calibration_end.isoformat(),
              "new_customers_per_month": per_month, "spend_model": {"customers": int(s.spend_sample.sum()),
                                                                   **s.spend_exclusions()},
              "log": {"free_purchase_days": s.free_purchase_days, "return_days": s.return_days,
                      "refund_only_customers": s.refund_only_customers}},
        warnings=notes,
    )
    return _check_costs(book, str(fit.source))


def ledger_book(path: Any, scenario: Scenario, rng: np.random.Generator, fit: ContractFit | None,
                columns: ColumnMap = AS_NAMED) -> StartingBook:
    """Today's book from a ledger: every row, or with start/end dates the stayers, each drawing their own sBG churn."""
    population = load_ledger(path, scenario, rng, columns)
    rows_in_data = len(population)
    changes: dict[str, Any] = {}
    fits: dict[str, Any] = {}
    draws: Population | ContractPosterior = population
    if fit is not None:
        stayers = np.flatnonzero(fit.tenures.stayers)
        population = dataclasses.replace(population.take(stayers), churn_probability=fit.monthly_churn())
        draws = ContractPosterior(population, fit.tenures.survived[fit.tenures.stayers], fit.churn, fit.tenures.period,
                                  scenario.calibration.parameter_uncertainty)
        changes = _fitted_churn(fit.churn["alpha"], fit.churn["beta"], fit.tenures.period)
        fits = {"churn": fit.churn.as_dict(), "period": fit.tenures.period,
                "calibration_end": fit.tenures.calibration_end.isoformat()}
    header = set(ledger_columns(path, columns))
    book = StartingBook(
        population=population, draws=draws,
        changes={MARKET_PATHS[0]: int(scaled_market(scenario, len(population), len(population))), **changes},
        customers_in_data=rows_in_data,
        expected_active=float(len(population)),
        assumed_columns=[name for name in COST_COLUMNS if name not in header],
        loss_making_share=float(np.mean(monthly_profit(population, scenario) < 0)) if len(population) else float("nan"),
        fits=fits,
    )
    return _check_costs(book, str(path))
