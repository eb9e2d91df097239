"""Where a run's starting customers come from, and the one road from them to a run.

``start_run`` turns (scenario with the analyst's ``--set``, data source, seed) into (scenario as
run, what each replication draws today's customers from, the starting book's provenance). Every
command that simulates calls it: ``simulate``, ``report``, the board's robustness section, every
sweep point and ``calibrate --scenario`` (which shares its books). Shared by the experiment and
the results folder (which records the input file's hash), so neither has to import the other.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from simulation.book.population import Population
from simulation.core.errors import DataError, ScenarioError, terminal_text
from simulation.core.files import content_stamp, regular_file
from simulation.core.parameter_paths import set_path
from simulation.core.streams import POPULATION_STREAM
from simulation.data.synthetic import synthetic_population
from simulation.data.tables import AS_NAMED, ColumnMap
from simulation.scenario.spec import Scenario, scenario_from_dict

if TYPE_CHECKING:
    from simulation.data.calibration.book import StartingBook

DEFAULT_TIME_UNIT = "week"  # a log's fit unit when the simulation calibrates it (the textbook's, for daily logs)


def population_generator(seed: int) -> np.random.Generator:
    """The stream today's customers (and what the data lack about them) are drawn from: not per replication."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=POPULATION_STREAM)))


@dataclass(frozen=True)
class PopulationSource:
    """Where the starting customers come from: the synthetic generator, a ledger or a transaction log."""

    kind: str = "synthetic"  # synthetic | ledger | transactions
    path: Path | None = None
    columns: ColumnMap = AS_NAMED  # which of the file's columns holds each column the tool reads

    @property
    def kind_label(self) -> str:
        """What the file is, in words: 'customer ledger' or 'transaction log' ('' for the synthetic book)."""
        return {"ledger": "customer ledger", "transactions": "transaction log"}.get(self.kind, "")

    def load(self, scenario: Scenario, seed: int) -> Population:
        """The synthetic population of ``scenario`` (a company's data goes through ``start_run``)."""
        if self.kind != "synthetic":
            raise ValueError(f"a {self.kind} is calibrated and scaled on the way in: use start_run, not load")
        check_synthetic_market(scenario)
        return synthetic_population(scenario, population_generator(seed))

    @classmethod
    def from_paths(cls, customers: str | Path | None, transactions: str | Path | None,
                   columns: str | None = None) -> "PopulationSource":
        """The source the options name: a file that exists and is a regular file, its columns mapped by ``columns``
        (``customer_id=cust,date=order_date``: the tool's name, then the file's)."""
        if customers and transactions:
            raise ScenarioError("give either --customers (a ledger) or --transactions (a log), not both")
        kind, path = ("ledger", customers) if customers else ("transactions", transactions)
        if not path:
            if columns:
                raise ScenarioError("--columns names the columns of --customers or --transactions; give one of them")
            return cls()
        flag, what = ("--customers", "customer ledger") if kind == "ledger" else ("--transactions", "transaction log")
        if not Path(path).exists():
            raise DataError(f"{path}: {flag} file not found (expected a {what}, CSV or Parquet)")
        regular_file(Path(path), what, "CSV or Parquet", DataError)
        from simulation.data.ingest import LEDGER_COLUMNS, TRANSACTION_REQUIRED

        mapping = ColumnMap.parse(columns, TRANSACTION_REQUIRED if kind == "transactions" else LEDGER_COLUMNS)
        return cls(kind, Path(path), mapping)


@dataclass(frozen=True)
class RunStart:
    """What a run starts from: the scenario as run, today's customers and, with data, how they were calibrated."""

    scenario: Scenario
    book: Any  # Population | LogPosterior | ContractPosterior: ``book.for_replication(seed, r)`` is replication r's
    seed: int
    starting_book: dict[str, Any] | None  # for provenance.json: counts, fits, data's changes, warnings
    largest_book: int  # the most customers a replication's book can hold (memory, market)

    @property
    def today(self) -> Population:
        """Replication 0's book: the starting position the report shows."""
        return self.book.for_replication(self.seed, 0)


def start_run(scenario: Scenario, source: PopulationSource, seed: int, explicit: Iterable[str] = (),
              announce: bool = False, fit: Any = None) -> RunStart:
    """The one road from data to a run: today's customers and the scenario as run.

    ``scenario`` is the validated scenario with the analyst's changes (``--set``, a sweep point's
    values); ``explicit`` names the paths they set, which the data's changes never overwrite. With a
    company's data the book is calibrated from it (fits cached per file and process) and the data's
    typed changes (market scaled to the book, fitted acquisition and churn) are applied once. With
    ``announce``, warnings about the data (assumed costs, a loss-making book) go to stderr. ``fit``: the
    data's fit when the caller has made it its own way (``calibrate`` with a holdout and another time unit).
    """
    if source.kind == "synthetic":
        population = source.load(scenario.sampled(), seed)  # the scenario stays the whole book's
        return RunStart(scenario, population, seed, None, len(population))
    from simulation.data.calibration.posterior import LogPosterior

    book = starting_book(source, scenario, seed, progress=announce, fit=fit)
    if book.expected_active <= 0 or len(book.population) == 0:
        raise DataError(f"{source.path}: no customer is still active according to the data; nothing to simulate")
    run_scenario = with_changes(scenario, book.changes, explicit, f"{source.path} (calibrated)")
    largest = len(book.population)
    problem = run_scenario.memory_problem(largest, float(book.population.referrals_per_year.sum()))
    if problem:
        raise DataError(f"{source.path}: {problem}")
    expected = math.ceil(book.expected_active)  # a replication's book is drawn around it (a log's: by P(alive))
    _check_market(run_scenario, expected, f"the {expected:,} customers the data support in {source.path}")
    if announce:
        for warning in book.warnings:
            print(terminal_text(f"clientele: warning: {warning}"), file=sys.stderr)
    draws: Any = book.draws
    if isinstance(draws, LogPosterior):  # the posterior's cost assumptions are the scenario's as run
        draws = dataclasses.replace(draws, scenario=run_scenario)
    if run_scenario.sample_weight != 1.0:
        draws = draws.sample(systematic_sample(getattr(draws, "template", draws).revenue, run_scenario.sample_weight))
        largest = len(draws)
    return RunStart(run_scenario, draws, seed, book.provenance(source.kind), largest)


def systematic_sample(revenue: np.ndarray, weight: float) -> np.ndarray:
    """Rows of one customer in ``weight``, every ``weight``-th by revenue rank (the middle of each stretch), in row
    order: a sample whose revenue spreads as the book's does, without the few largest customers' luck of the draw."""
    count = max(1, round(len(revenue) / weight))
    ranked = np.argsort(revenue, kind="stable")
    picks = np.minimum(((np.arange(count) + 0.5) * len(revenue) / count).astype(np.intp), len(revenue) - 1)
    return np.sort(ranked[picks])


def starting_book(source: PopulationSource, scenario: Scenario, seed: int, progress: bool = False,
                  fit: Any = None) -> "StartingBook":
    """Today's book from a company's data under ``scenario``'s assumptions (its fit made here unless given)."""
    from simulation.data.calibration.book import ledger_book, log_book

    assert source.path is not None
    if fit is None:
        fit = _fitted(source.kind, str(source.path), content_stamp(source.path), source.columns, scenario.churn.period,
                      progress)
    if source.kind == "ledger":
        return ledger_book(source.path, scenario, population_generator(seed), fit, source.columns)
    return log_book(fit, scenario, population_generator(seed))


def with_changes(scenario: Scenario, changes: dict[str, Any], explicit: Iterable[str], source: str) -> Scenario:
    """``scenario`` with typed ``changes`` by dotted path, except under the paths the analyst set (``explicit``).

    A value the data set is no longer an unmeasured assumption: an uncertainty declared on it is dropped
    (what the data leave unknown about it is in the fit's parameter draws).
    """
    raw = scenario.model_dump(mode="json")
    applied = [path for path in changes if not overlaps(path, explicit)]
    for path in applied:
        set_path(raw, path, changes[path])
    raw["uncertainties"] = {path: value for path, value in raw.get("uncertainties", {}).items()
                            if not overlaps(path, applied)}
    return scenario_from_dict(raw, source=source)


def calibrated_paths(source: PopulationSource, explicit: Iterable[str] = ()) -> list[str]:
    """The scenario paths a company's data set (none for the synthetic population), less the analyst's."""
    if source.kind == "synthetic":
        return []
    from simulation.data.calibration.book import ACQUISITION_PATHS, CHURN_PATHS, MARKET_PATHS
    from simulation.data.calibration.contracts import has_contract_dates

    assert source.path is not None
    if source.kind == "transactions":
        paths = [*MARKET_PATHS, *ACQUISITION_PATHS, *CHURN_PATHS]
    else:
        paths = [*MARKET_PATHS, *(CHURN_PATHS if has_contract_dates(source.path, source.columns) else ())]
    return [path for path in paths if not overlaps(path, explicit)]


def overlaps(path: str, others: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``others``, inside one, or holds one (``market`` and ``market.size``)."""
    return any(path == other or path.startswith(other + ".") or other.startswith(path + ".")
               for other in (item.strip() for item in others))


_FITS: dict[tuple[Any, ...], Any] = {}  # a file's fit by content stamp, the latest four (a sweep's points share it)


def _fitted(kind: str, path: str, stamp: tuple[Any, ...], columns: ColumnMap, period: str, progress: bool) -> Any:
    """A file's fit, once per process for the same file content stamp, with or without its progress bar: a report's
    command fits the log showing its progress, and the workers its robustness sweep forks find that fit instead of
    fitting the log again each (``progress`` was part of the cache's key: on a 12-million-row log the robustness
    check took 111 s with a fit in every worker, 87 s without)."""
    key = (kind, stamp, columns, period)
    if key not in _FITS:
        _FITS[key] = _fit(kind, path, columns, period, progress)
        while len(_FITS) > 4:
            del _FITS[next(iter(_FITS))]  # the oldest
    return _FITS[key]


def _fit(kind: str, path: str, columns: ColumnMap, period: str, progress: bool) -> Any:
    from simulation.data.calibration.contracts import has_contract_dates
    from simulation.data.calibration.fits import fit_contracts, fit_log

    if kind == "ledger":
        return fit_contracts(path, period, columns=columns) if has_contract_dates(Path(path), columns) else None
    return fit_log(path, None, DEFAULT_TIME_UNIT, progress=progress, columns=columns)


def check_synthetic_market(scenario: Scenario) -> None:
    """The synthetic book's rule (``validate`` runs it too): a market at least ``population.customers``."""
    _check_market(scenario, scenario.population.customers, "population.customers")


def _check_market(scenario: Scenario, customers: int, whose: str) -> None:
    """Our customers are part of the market: a market smaller than the book reads as a share above 100 %."""
    if scenario.market.size < customers:
        raise ScenarioError(f"market.size {scenario.market.size:,} must be at least {whose} ({customers:,}): "
                            "our customers are part of the market")
