"""Where a run's starting customers come from: the synthetic generator, a ledger or a transaction log.

Shared by the experiment (which loads the customers) and the results folder (which records the
input file's hash), so neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, ScenarioError
from .files import regular_file
from .population import Population
from .scenario import Scenario
from .streams import POPULATION_STREAM
from .synthetic import synthetic_population


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


def _check_market(scenario: Scenario, customers: int, whose: str) -> None:
    """Our customers are part of the market: a market smaller than the book reads as a share above 100 %."""
    if scenario.market.size < customers:
        raise ScenarioError(f"market.size {scenario.market.size:,} must be at least {whose} ({customers:,}): "
                            "our customers are part of the market")
