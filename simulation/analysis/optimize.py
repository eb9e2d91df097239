"""Which settings of a strategy are best? A seeded search over its levers, every trial stored like a sweep point.

An optimisation file names a scenario, the strategy to tune, its levers (paths into its steps,
``strategies.ladder.steps.1.surcharge``, each a range or a list of values), the number of trials
and, optionally, constraints on outcomes at the horizon (market share at least x, customers let go
at most y). Optuna's TPE sampler (Bergstra, Bardenet, Bengio & Kégl, "Algorithms for
hyper-parameter optimization", 2011) or its CMA-ES, seeded, proposes the settings ``BATCH`` at a time; each
batch is planned and run as a sweep of a list design into ``OUT/trials``, so a trial is a point:
validated before it runs, keyed by everything it depends on, resumable after a kill, on the pool
or Dask. Every trial runs the same replications on the same seed — common random numbers — so a
difference between two settings is the settings. A re-run replays the sampler from the same seed:
the same trials, the done ones read back, not run again.

The best feasible trial is then re-run on fresh replications (another seed) beside the declared
options it is compared with: a setting picked as the best of many looks better on the replications
it was picked on than it is, and the interval against the options is the fresh one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, model_validator

from simulation.analysis.summary import horizon_values, mean_interval, strategy_summary, summary_column
from simulation.core.errors import ClienteleError, ScenarioError
from simulation.core.files import write_atomically
from simulation.core.parameter_paths import set_path
from simulation.core.schema import Name, Real, StrictModel, Text, Whole
from simulation.data.sources import calibrated_paths, overlaps
from simulation.model.outcomes import OUTCOMES
from simulation.runs.sweeps.execution import make_executor
from simulation.runs.sweeps.plan import SweepPlan, plan_from_spec
from simulation.runs.sweeps.runner import run_sweep
from simulation.runs.sweeps.spec import MAX_REPLICATIONS, AnalysedOutcome, ParameterSpec, SweepSpec
from simulation.scenario.file import parse_yaml, read_text

BATCH = 2  # trials asked together and run side by side; fixed, so the same seed gives the same trials anywhere
FRESH_SEED_OFFSET = 1  # the best is re-evaluated on seed + this: replications it was not chosen on
TRIALS_FOLDER = "trials"
RESULT_FILE = "optimize.json"
BEST_FILE = "best_strategy.yaml"


class ConstraintSpec(StrictModel):
    """An outcome's mean at the horizon (a level) or over it (a flow) kept at least or at most a bound."""

    outcome: str = Field(description="A declared outcome (`clientele outcomes`), e.g. market_share, divested")
    at_least: Real | None = Field(None, description="Its mean must be at least this")
    at_most: Real | None = Field(None, description="Its mean must be at most this")

    @model_validator(mode="after")
    def _one_bound(self) -> "ConstraintSpec":
        if self.outcome not in {declared.name for declared in OUTCOMES}:
            raise ValueError(f"unknown outcome {self.outcome!r}; `clientele outcomes` lists them")
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give one bound: at_least or at_most")
        return self

    def excess(self, value: float) -> float:
        """How far ``value`` breaks the bound (≤ 0: kept), as Optuna's constraints read it."""
        return self.at_least - value if self.at_least is not None else value - float(self.at_most)  # type: ignore[arg-type]


class RobustSpec(StrictModel):
    """Judge each setting across futures drawn from the scenario's declared uncertainties, not at its values alone."""

    points: Whole = Field(8, ge=2, le=200, description="Futures drawn (a seeded Latin hypercube over the declared "
                                                        "uncertainties' ranges), the same for every trial")
    measure: Literal["mean", "p90_regret"] = Field(
        "mean", description="mean: the objective's mean over the futures; p90_regret: the 90th percentile over them "
                            "of what the setting gives up against the best of itself and the declared options")


class OptimizeSpec(StrictModel):
    """An optimisation file, as written."""

    name: Text = Field(description="The search's title (up to 300 characters)")
    scenario: str = Field(description="The scenario file, relative to this file")
    customers: str | None = Field(None, description="A customer ledger, relative to this file")
    transactions: str | None = Field(None, description="A transaction log, relative to this file")
    columns: str | None = Field(None, max_length=2000, description="The data file's own column names, as --columns")
    strategy: Name = Field(description="The strategy whose levers are tuned")
    compare: tuple[Name, ...] | None = Field(None, description="Declared options the best is compared with (default: "
                                                              "every other strategy of the scenario)")
    levers: dict[str, ParameterSpec] = Field(
        default_factory=dict, max_length=20,
        description="The strategy's settings searched, by path into its steps (empty: the scenario's levers: of it)")
    trials: Whole = Field(40, ge=BATCH, le=10_000, description="Settings tried")
    replications: Whole = Field(8, ge=1, le=MAX_REPLICATIONS, description="Replications per trial, the same for all")
    seed: Whole = Field(20261001, ge=0, le=2**32 - 1, description="Seeds the sampler and the simulation alike")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed overrides of the scenario, by dotted path")
    objective: AnalysedOutcome | None = Field(None, description="What is maximised (empty: the scenario's "
                                                                "report.objective)")
    sampler: Literal["tpe", "cmaes", "random"] = Field(
        "tpe", description="tpe (Optuna's default), cmaes (CMA-ES, for two or more levers that are numbers) or random "
                           "(a baseline)")
    constraints: tuple[ConstraintSpec, ...] = Field((), max_length=10, description="Bounds a setting must keep")
    robust: RobustSpec | None = Field(None, description="Judge settings across the declared uncertainties (empty: "
                                                        "at the scenario as given)")

    @model_validator(mode="after")
    def _levers_are_the_strategys(self) -> "OptimizeSpec":
        prefix = f"strategies.{self.strategy}.steps."
        stray = [path for path in self.levers if not path.startswith(prefix)]
        if stray:
            raise ValueError(f"a lever is a setting of the tuned strategy's steps ({prefix}N.field): {', '.join(stray)}")
        return self


def parse_optimize(path: str | Path) -> OptimizeSpec:
    path = Path(path)
    raw = parse_yaml(read_text(path), str(path))
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of optimisation fields at top level")
    try:
        return OptimizeSpec.model_validate(raw)
    except ValueError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


@dataclass
class Trial:
    number: int
    values: dict[str, Any]
    point_ids: list[str] = field(default_factory=list)  # one point per future it is judged in
    objective: float | None = None  # what the search maximises; None: refused, or the run failed
    mean: float | None = None  # the objective's mean over replications and futures (with p90_regret, not the same)
    outcomes: dict[str, float] = field(default_factory=dict)
    problem: str = ""

    @property
    def feasible(self) -> bool:
        return self.objective is not None and not self.problem


class Search:
    """One optimisation: the file, its folder, and the plan each batch of trials becomes."""

    def __init__(self, path: str | Path, out: str | Path, workers: int | None = None, dask: str | None = None,
                 progress: bool = False) -> None:
        self.path = Path(path)
        self.spec = parse_optimize(self.path)
        self.out = Path(out)
        self.workers, self.dask, self.progress = workers, dask, progress
        self._executor: Any = None  # started by run(), for every batch
        self._chunks: dict[str, pd.DataFrame] = {}  # the trial store's chunk files, each read once
        self.sample: list[dict[str, Any]] = [{}]  # the futures each setting is judged in: the scenario as given
        self.levers = dict(self.spec.levers) or self._declared_levers()
        probe = self._plan([self._first_values()])  # the scenario, the strategy and each lever checked up front
        self.objective = self.spec.objective or probe.base.report.objective
        self.kinds = {path: probe.resolved[path].kind for path in self.levers}  # whole numbers drawn as such
        numeric = [path for path, lever in self.levers.items() if lever.values is None]
        if self.spec.sampler == "cmaes" and (len(numeric) < 2 or len(numeric) < len(self.levers)):
            raise ScenarioError(f"{self.path}: 'sampler' cmaes adapts a search over two or more levers that are ranges "
                                f"of numbers; got {len(numeric)} of {len(self.levers)} ({', '.join(self.levers)}): use "
                                f"tpe, which takes any levers")
        self.currency = probe.base.currency
        self.base = probe.base
        others = [name for name in probe.base.strategies if name != self.spec.strategy]
        self.compare = list(self.spec.compare) if self.spec.compare is not None else others
        unknown = [name for name in [self.spec.strategy, *self.compare] if name not in probe.base.strategies]
        if unknown:
            raise ScenarioError(f"{self.path}: unknown strategies {', '.join(unknown)}; the scenario has "
                                f"{', '.join(probe.base.strategies)}")
        if self.spec.robust is not None and self.spec.robust.measure == "p90_regret" and not self.compare:
            raise ScenarioError(f"{self.path}: robust: p90_regret measures what a setting gives up against the "
                                f"declared options, and there are none to compare with (compare: is empty)")
        self._best_other: np.ndarray | None = None  # with p90_regret: the best declared option's value per future
        if self.spec.robust is not None:
            self.sample = self._futures(probe)

    def _declared_levers(self) -> dict[str, ParameterSpec]:
        """The scenario's own ``levers:`` of the tuned strategy, when the file names none."""
        from simulation.scenario.spec import load_scenario

        scenario = load_scenario(self.path.parent / self.spec.scenario)
        prefix = f"strategies.{self.spec.strategy}.steps."
        declared = {path: ParameterSpec(low=lever.low, high=lever.high, values=lever.values, why=lever.why)
                    for path, lever in scenario.levers.items() if path.startswith(prefix)}
        if not declared:
            raise ScenarioError(f"{self.path}: levers: none given, and the scenario {self.spec.scenario} declares no "
                                f"levers of {self.spec.strategy!r} (levers: {prefix}N.field: {{low: …, high: …}})")
        return declared

    def _futures(self, probe: SweepPlan) -> list[dict[str, Any]]:
        """A seeded Latin hypercube over the declared uncertainties the data do not set (as the robustness check)."""
        assert self.spec.robust is not None
        calibrated = calibrated_paths(probe.population, list(self.spec.set))
        ranges = {path: {"low": spec.low, "high": spec.high} for path, spec in probe.base.uncertainties.items()
                  if not overlaps(path, calibrated) and not overlaps(path, list(self.levers))
                  and not overlaps(path, list(self.spec.set))}  # a value the file fixes stays fixed
        if not ranges:
            raise ScenarioError(f"{self.path}: robust: the scenario declares no uncertainties the data leave open "
                                f"(uncertainties: in {self.spec.scenario}); remove robust or declare some")
        spec = self._sweep_spec([], [self.spec.strategy], self.spec.seed,
                                design={"method": "lhs", "points": self.spec.robust.points, "swings": False},
                                parameters=ranges)
        plan = plan_from_spec(spec, self.path.parent, str(self.path))
        return [dict(row.values) for row in plan.rows]

    def _first_values(self) -> dict[str, Any]:
        return {path: (spec.values[0] if spec.values is not None else spec.low)
                for path, spec in self.levers.items()}

    def _sweep_spec(self, batch: list[dict[str, Any]], strategies: list[str], seed: int,
                    design: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None) -> SweepSpec:
        """The sweep a batch is: a list design of its rows (each a setting in a future), or ``design`` over
        ``parameters``."""
        spec = self.spec
        return SweepSpec.model_validate({
            "name": f"{spec.name} — trials", "scenario": spec.scenario, "customers": spec.customers,
            "transactions": spec.transactions, "columns": spec.columns, "strategies": strategies,
            "replications": spec.replications, "seed": seed, "set": spec.set,
            "design": design or {"method": "list", "swings": False},
            "parameters": parameters or {path: {"values": [values[path] for values in batch]} for path in batch[0]},
            "decision_outcome": spec.objective,
        })

    def _plan(self, batch: list[dict[str, Any]], strategies: list[str] | None = None,
              seed: int | None = None) -> SweepPlan:
        """Each setting of ``batch`` in each future of the sample, in that order: one list design."""
        rows = [{**values, **future} for values in batch for future in self.sample]
        return plan_from_spec(self._sweep_spec(rows, strategies or [self.spec.strategy],
                                               self.spec.seed if seed is None else seed),
                              self.path.parent, str(self.path))

    def run(self) -> dict[str, Any]:
        """Run (or resume) every trial and the fresh evaluation; write and return ``optimize.json``'s record."""
        import optuna

        optuna.logging.set_verbosity(logging.WARNING)
        study = optuna.create_study(direction="maximize", sampler=self._sampler(optuna))
        with make_executor(self.workers, self.dask) as self._executor:  # one pool (or cluster) for every batch
            return self._search(study, optuna)

    def _sampler(self, optuna: Any) -> Any:
        """The seeded sampler the file names: the same seed proposes the same settings, whatever runs the trials."""
        seed = self.spec.seed
        if self.spec.sampler == "tpe":
            return optuna.samplers.TPESampler(seed=seed)
        if self.spec.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        # CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial", 2016) through Optuna, with the margin that keeps
        # whole-number levers from collapsing onto one value (Hamano et al., 2022).
        import warnings

        with warnings.catch_warnings():  # with_margin is marked experimental: a note for Optuna's users, not ours
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.CmaEsSampler(seed=seed,
                                                independent_sampler=optuna.samplers.RandomSampler(seed=seed),
                                                warn_independent_sampling=False,
                                                with_margin="integer" in self.kinds.values())

    def _search(self, study: Any, optuna: Any) -> dict[str, Any]:
        constraints = self.spec.constraints
        trials: list[Trial] = []
        while len(trials) < self.spec.trials:
            asked = [study.ask() for _ in range(min(BATCH, self.spec.trials - len(trials)))]
            batch = [Trial(trial.number, {path: self._suggest(trial, path, lever, self.kinds[path])
                                          for path, lever in self.levers.items()}) for trial in asked]
            self._evaluate(batch)
            for trial, done in zip(asked, batch, strict=True):
                if done.objective is None:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    continue
                excess = [c.excess(done.outcomes[c.outcome]) for c in constraints]
                for number, value in enumerate(excess):  # feasible when ≤ 0; TPE then prefers feasible settings
                    trial.set_constraint(f"{constraints[number].outcome} {number}", value)
                if any(value > 0 for value in excess):
                    done.problem = "breaks " + ", ".join(_constraint_text(c) for c, e in zip(constraints, excess,
                                                                                            strict=True) if e > 0)
                study.tell(trial, done.objective)
            trials.extend(batch)
        record = self._record(trials)
        write_atomically(self.out / RESULT_FILE, json.dumps(record, indent=2, default=float).encode())
        if record["best"] is not None:
            write_atomically(self.out / BEST_FILE, yaml.safe_dump(self._best_block(record["best"]), sort_keys=False,
                                                                  allow_unicode=True).encode())
        return record

    @staticmethod
    def _suggest(trial: Any, path: str, lever: ParameterSpec, kind: str) -> Any:
        if lever.values is not None:
            return trial.suggest_categorical(path, list(lever.values))
        assert lever.low is not None and lever.high is not None
        if kind == "integer":
            return trial.suggest_int(path, int(lever.low), int(lever.high))
        return trial.suggest_float(path, lever.low, lever.high)

    def _evaluate(self, batch: list[Trial]) -> None:
        """Plan and run a batch as one sweep (settings the schema refuses are marked, the others run); each setting's
        value is its objective's mean over the futures, or minus its 90th-percentile regret there."""
        futures = len(self.sample)
        planned: list[tuple[SweepPlan | None, int]]
        try:
            whole = self._plan([trial.values for trial in batch])
            planned = [(whole, index) for index in range(len(batch))]
        except ScenarioError:
            planned = []
            for trial in batch:
                try:
                    planned.append((self._plan([trial.values]), 0))
                except ScenarioError as exc:
                    trial.problem = str(exc).splitlines()[-1].strip()
                    planned.append((None, 0))
        for trial, (plan, index) in zip(batch, planned, strict=True):
            if plan is not None:
                trial.point_ids = list(plan.row_ids[index * futures:(index + 1) * futures])
        for plan in {id(plan): plan for plan, _ in planned if plan is not None}.values():
            run_sweep(plan, self.out / TRIALS_FOLDER, progress=False, executor=self._executor)
        rows = self._rows([point for trial in batch for point in trial.point_ids])
        for trial in batch:
            if not trial.point_ids:
                continue  # settings the schema refuses: the same on every replay, told to the sampler as failed
            per_future = [rows[rows["point_id"] == point] for point in trial.point_ids]
            if any(mine.empty for mine in per_future):  # a run that raised: stop, so a replay stays the same search
                raise ClienteleError(f"trial {trial.number} ({_shown(trial.values)}) failed to run; its error: "
                                     f"clientele sweep status {self.out / TRIALS_FOLDER}. Running the search again "
                                     f"retries it")
            values = np.array([float(horizon_values(mine, self.objective)[self.spec.strategy].mean()) for mine in per_future])
            trial.objective, trial.mean = self._judge(values), float(values.mean())
            summaries = [strategy_summary(mine.drop(columns=["point_id"]), baseline=self.spec.strategy).iloc[0]
                         for mine in per_future]
            trial.outcomes = {c.outcome: float(np.mean([summary[summary_column(c.outcome)] for summary in summaries]))
                              for c in self.spec.constraints}

    def _judge(self, values: np.ndarray) -> float:
        """A setting's value from its mean objective in each future: their mean, or −(90th-percentile regret)."""
        if self.spec.robust is None or self.spec.robust.measure == "mean":
            return float(values.mean())
        best_other = self._declared_best()
        regret = np.maximum(best_other, values) - values
        return -float(np.quantile(regret, 0.9))

    def _declared_best(self) -> np.ndarray:
        """The best declared option's mean objective in each future (run once; the levers do not touch them)."""
        if self._best_other is None:
            plan = plan_from_spec(self._sweep_spec(self.sample, self.compare, self.spec.seed), self.path.parent,
                                  str(self.path))
            run_sweep(plan, self.out / TRIALS_FOLDER, progress=False, executor=self._executor)
            rows = self._rows(list(plan.row_ids))
            self._best_other = np.array([
                float(horizon_values(rows[rows["point_id"] == point], self.objective).mean().max())
                for point in plan.row_ids])
        return self._best_other

    def _rows(self, point_ids: list[str]) -> pd.DataFrame:
        """The trials' rows; each chunk file read once (a chunk is written whole, once, under its final name)."""
        folder = self.out / TRIALS_FOLDER / "results"
        wanted = set(point_ids)
        for path in sorted(folder.glob("*.parquet")):
            if path.name not in self._chunks:
                self._chunks[path.name] = pd.read_parquet(path)
        frames = [frame[frame["point_id"].isin(wanted)] for frame in self._chunks.values()]
        frames = [frame for frame in frames if not frame.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["point_id"])

    def _record(self, trials: list[Trial]) -> dict[str, Any]:
        feasible = [trial for trial in trials if trial.feasible]
        best = max(feasible, key=lambda trial: (trial.objective, -trial.number)) if feasible else None
        record: dict[str, Any] = {
            "name": self.spec.name, "strategy": self.spec.strategy, "objective": self.objective,
            "sampler": self.spec.sampler, "seed": self.spec.seed, "replications": self.spec.replications,
            "robust": self.spec.robust.model_dump() if self.spec.robust else None, "futures": self.sample,
            "currency": self.currency, "best": best.values if best else None,
            "best_trial": best.number if best else None,
            "trials": [{"number": t.number, "values": t.values, "objective": t.objective, "outcomes": t.outcomes,
                        "feasible": t.feasible, "problem": t.problem, "point_ids": t.point_ids} for t in trials],
        }
        if self.spec.constraints:
            record["pareto"] = [trial.number for trial in self._pareto(trials)]
        if best is not None:
            record["fresh"] = self._fresh(best)
        return record

    def _pareto(self, trials: list[Trial]) -> list[Trial]:
        """The trials no other beats on the objective and every constrained outcome at once (each in its direction:
        at most → lower is better, at least → higher): what the constraints trade against the objective."""
        def scores(trial: Trial) -> np.ndarray:
            signs = [-1.0 if c.at_most is not None else 1.0 for c in self.spec.constraints]
            return np.array([trial.objective, *(sign * trial.outcomes[c.outcome]
                                                for sign, c in zip(signs, self.spec.constraints, strict=True))])

        ran = [trial for trial in trials if trial.objective is not None and trial.outcomes]
        points = [scores(trial) for trial in ran]
        return [trial for trial, mine in zip(ran, points, strict=True)
                if not any(np.all(other >= mine) and np.any(other > mine) for other in points)]

    def _fresh(self, best: Trial) -> dict[str, Any]:
        """The best settings on replications they were not chosen on, beside each declared option, paired."""
        seed = self.spec.seed + FRESH_SEED_OFFSET
        plan = self._plan([best.values], [self.spec.strategy, *self.compare], seed)
        run_sweep(plan, self.out / TRIALS_FOLDER, progress=False, executor=self._executor)
        rows = self._rows(list(plan.row_ids))  # with robust: every future, each replication a pair
        last = rows[rows["quarter"] == rows["quarter"].max()]
        values = last.pivot_table(index=["point_id", "replication"], columns="strategy", values=self.objective)
        mean, low, high = mean_interval(values[self.spec.strategy].to_numpy(dtype=float))
        versus = {}
        for name in self.compare:
            difference = (values[self.spec.strategy] - values[name]).to_numpy(dtype=float)
            d_mean, d_low, d_high = mean_interval(difference)
            versus[name] = {"mean": d_mean, "low": d_low, "high": d_high}
        return {"seed": seed, "futures": len(self.sample), "objective": {"mean": mean, "low": low, "high": high},
                "chosen_on": best.mean, "versus": versus}

    def _best_block(self, best: dict[str, Any]) -> dict[str, Any]:
        """The tuned strategy as a scenario block, ready to paste under ``strategies:``."""
        raw = {"strategies": {self.spec.strategy: self.base.strategies[self.spec.strategy].model_dump(
            mode="json", exclude_defaults=True)}}
        for path, value in best.items():
            set_path(raw, path, value)
        block = raw["strategies"][self.spec.strategy]
        label = self.base.label(self.spec.strategy)
        block["label"] = f"{label}, tuned"
        block["description"] = (f"{label} with settings found by search ({self.spec.sampler}, "
                                f"{self.spec.trials} trials, seed {self.spec.seed})")[:300]
        block["tuned"] = {"search": self.path.name[:300], "trials": self.spec.trials, "seed": self.spec.seed}
        return {f"{self.spec.strategy}_tuned": block}


def _shown(values: dict[str, Any]) -> str:
    return ", ".join(f"{path} = {value:.6g}" if isinstance(value, float) else f"{path} = {value}"
                     for path, value in values.items())


def _constraint_text(constraint: ConstraintSpec) -> str:
    bound = (f"at least {constraint.at_least:g}" if constraint.at_least is not None
             else f"at most {constraint.at_most:g}")
    return f"{constraint.outcome} {bound}"


def run_optimization(path: str | Path, out: str | Path, *, workers: int | None = None, dask: str | None = None,
                     progress: bool = False) -> dict[str, Any]:
    """Run or resume the optimisation file at ``path`` into ``out``; its record (also in ``out/optimize.json``)."""
    return Search(path, out, workers, dask, progress).run()


