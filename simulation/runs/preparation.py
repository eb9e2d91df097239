"""What a run checks before it simulates: the scenario, the strategies, the replications against memory, the data.

``clientele validate`` stops here, and ``run_experiment`` starts here, so both make the same checks.
Apart from ``simulation.runs.experiment`` so that validating never loads the engine (SimPy, numba,
pandas): the scenario and the data are read with pydantic and numpy alone. The scenario and data
modules are imported inside ``prepare_run``, so the command line can take the defaults below for
its ``--help`` without loading pydantic or numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from simulation.core.errors import ScenarioError

if TYPE_CHECKING:
    from simulation.data.sources import PopulationSource, RunStart
    from simulation.scenario.spec import Scenario
    from simulation.scenario.strategy import StrategySpec

# One default for `simulate` and `report`, so the two give the same numbers. 30 replications put
# the bundled scenario's NPV interval within about ±0.5 % and its report under a minute on 2 cores.
DEFAULT_REPLICATIONS = 30
DEFAULT_SEED = 20261001
# Results held in memory until written, per strategy × quarter × replication: measured 0.18 MB per
# replication of the bundled scenario (7 strategies × 12 quarters) as frames, about 2.2 KB each.
RESULT_BYTES_PER_STRATEGY_QUARTER = 2_200
RESULTS_MEMORY_BUDGET = 4 << 30  # 4 GiB: a second run and the workers still fit a 24 GiB machine


def select_strategies(scenario: Scenario, names: Sequence[str] | None) -> dict[str, StrategySpec]:
    """The named strategies in the order given; an unknown name lists the known ones."""
    if not names:
        return dict(scenario.strategies)
    unknown = [name for name in names if name not in scenario.strategies]
    if unknown:
        raise ScenarioError(
            f"unknown strategy {', '.join(repr(n) for n in unknown)}; "
            f"the scenario defines: {', '.join(scenario.strategies)}"
        )
    return {name: scenario.strategies[name] for name in dict.fromkeys(names)}


def check_replications(replications: int, strategies: int, quarters: int) -> None:
    """Refuse replication counts whose results would not fit in memory before they are written."""
    if replications < 1:
        raise ScenarioError(f"--replications must be at least 1: got {replications}")
    needed = replications * strategies * quarters * RESULT_BYTES_PER_STRATEGY_QUARTER
    if needed > RESULTS_MEMORY_BUDGET:
        most = RESULTS_MEMORY_BUDGET // (strategies * quarters * RESULT_BYTES_PER_STRATEGY_QUARTER)
        raise ScenarioError(
            f"--replications {replications:,}: {strategies} strategies × {quarters} quarters × {replications:,} "
            f"replications would hold about {needed / 2**30:,.1f} GiB of results in memory before they are written; "
            f"at most {most:,} replications fit ({RESULTS_MEMORY_BUDGET / 2**30:.0f} GiB)"
        )


@dataclass(frozen=True)
class PreparedRun:
    """Everything ``simulate`` checks before it simulates: what ``validate`` reports and ``run_experiment`` runs."""

    scenario: Scenario  # as given (its hash is the run's identity)
    start: RunStart  # the scenario as run (the data's changes applied), today's book and the book drawn from
    source: PopulationSource
    strategies: dict[str, StrategySpec]  # the chosen ones, by name, in order
    replications: int
    seed: int


def prepare_run(
    scenario_path: str | Path,
    *,
    strategies: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    customers: str | Path | None = None,
    transactions: str | Path | None = None,
    columns: str | None = None,
    overrides: Iterable[str] = (),
    progress: bool = False,
    scenario: Scenario | None = None,
) -> PreparedRun:
    """Read and check every input of a run — the scenario, the strategies, the replications against memory,
    the data files read, fitted and scaled — without simulating; a ClienteleError names the first culprit."""
    from simulation.data.sources import PopulationSource, start_run
    from simulation.scenario.spec import load_scenario, override_sources

    overrides = list(overrides)
    scenario = scenario if scenario is not None else load_scenario(scenario_path, overrides)
    chosen = select_strategies(scenario, strategies)
    source = PopulationSource.from_paths(customers, transactions, columns)
    seed = DEFAULT_SEED if seed is None else seed
    replications = DEFAULT_REPLICATIONS if replications is None else replications
    check_replications(replications, len(chosen), scenario.horizon_quarters)
    start = start_run(scenario, source, seed, override_sources(overrides), announce=progress)  # data: calibrated, scaled
    return PreparedRun(scenario, start, source, chosen, replications, seed)
