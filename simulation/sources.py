"""Where a run's starting customers come from: the synthetic generator, a ledger or a transaction log.

Shared by the experiment (which loads the customers) and the results folder (which records the
input file's hash), so neither has to import the other.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import DataError, ScenarioError
from .files import regular_file
from .population import Population
from .scenario import Scenario, load_scenario
from .streams import POPULATION_STREAM
from .synthetic import synthetic_population

DEFAULT_TIME_UNIT = "week"  # a log's fit unit when the simulation calibrates it (the textbook's, for daily logs)


@dataclass(frozen=True)
class PopulationSource:
    """Where the starting customers come from: the synthetic generator, a ledger or a transaction log."""

    kind: str = "synthetic"  # synthetic | ledger | transactions
    path: Path | None = None

    def load(self, scenario: Scenario, seed: int) -> Population:
        """The starting customers; assumptions the data lacks are drawn from the population stream."""
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=POPULATION_STREAM)))
        if self.kind == "synthetic":
            _check_market(scenario, scenario.population.customers, "population.customers")
            return synthetic_population(scenario, rng)
        from .ingest import load_ledger, load_transactions

        assert self.path is not None
        loader = load_ledger if self.kind == "ledger" else load_transactions
        population = loader(self.path, scenario, rng)
        problem = scenario.memory_problem(len(population), float(population.referrals_per_year.sum()))
        if problem:
            raise DataError(f"{self.path}: {problem}")
        _check_market(scenario, len(population), f"the {len(population):,} customers of {self.path}")
        return population

    def start(self, scenario: Scenario, scenario_path: str | Path, overrides: Sequence[str], seed: int,
              announce: bool = False) -> "RunStart":
        """Today's customers and the scenario as run: with a company's data, calibrated from it and scaled to it.

        ``scenario`` is the file with the analyst's ``--set``; the data's changes (market scaled to the
        book, acquisition and churn as fitted) go under those, so an explicit ``--set`` still wins.
        With ``announce``, warnings about the data (assumed costs, a loss-making book) go to stderr.
        """
        if self.kind == "synthetic":
            return RunStart(scenario, self.load(scenario, seed), None)
        from .calibration.book import ledger_book, log_book
        from .calibration.contracts import has_contract_dates
        from .calibration.fits import fit_contracts, fit_log

        assert self.path is not None
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=POPULATION_STREAM)))
        if self.kind == "ledger":
            fit = fit_contracts(self.path, scenario.churn.period) if has_contract_dates(self.path) else None
            book = ledger_book(self.path, scenario, rng, fit)
        else:
            book = log_book(fit_log(self.path, None, DEFAULT_TIME_UNIT, progress=announce), scenario, rng)
        population = book.population
        if len(population) == 0:
            raise DataError(f"{self.path}: no customer is still active according to the data; nothing to simulate")
        run_scenario = load_scenario(scenario_path, [*book.overrides, *overrides])
        problem = run_scenario.memory_problem(len(population), float(population.referrals_per_year.sum()))
        if problem:
            raise DataError(f"{self.path}: {problem}")
        _check_market(run_scenario, len(population), f"the {len(population):,} customers of {self.path}")
        if announce:
            for warning in book.warnings:
                print(f"clientele: warning: {warning}", file=sys.stderr)
        return RunStart(run_scenario, population, book.provenance(self.kind))

    @classmethod
    def from_paths(cls, customers: str | Path | None, transactions: str | Path | None) -> "PopulationSource":
        if customers and transactions:
            raise ScenarioError("give either --customers (a ledger) or --transactions (a log), not both")
        kind, path = ("ledger", customers) if customers else ("transactions", transactions)
        if not path:
            return cls()
        flag, what = ("--customers", "customer ledger") if kind == "ledger" else ("--transactions", "transaction log")
        if not Path(path).exists():
            raise DataError(f"{path}: {flag} file not found (expected a {what}, CSV)")
        regular_file(Path(path), what, "CSV", DataError)
        return cls(kind, Path(path))


@dataclass(frozen=True)
class RunStart:
    """What a run starts from: the scenario as run, today's customers and, with data, how they were calibrated."""

    scenario: Scenario
    population: Population
    starting_book: dict[str, Any] | None  # for provenance.json: counts, fits, data's overrides, warnings


def _check_market(scenario: Scenario, customers: int, whose: str) -> None:
    """Our customers are part of the market: a market smaller than the book reads as a share above 100 %."""
    if scenario.market.size < customers:
        raise ScenarioError(f"market.size {scenario.market.size:,} must be at least {whose} ({customers:,}): "
                            "our customers are part of the market")
