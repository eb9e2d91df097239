"""A sweep made concrete: the base scenario, every point as a validated scenario, and each point's id.

Nothing runs and nothing is written until every point has validated: the invalid ones are
listed together (the point, the path, the value and what was expected). A point's id is a hash
of the base scenario's content hash, the point's values, the seed, the replications, the
strategies and the input data — everything its rows depend on — so a re-run finds the points
already done, and adding points to a design never changes the ones it shares.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation.core.errors import ScenarioError
from simulation.core.parameter_paths import ParameterPath, resolve_path, set_path
from simulation.data.sources import PopulationSource, start_run
from simulation.model import kernels
from simulation.runs.experiment import check_replications, select_strategies
from simulation.runs.results import code_fingerprint, provenance_record
from simulation.runs.sweeps.designs import ROLE_DESIGN, DesignPoint, design_points
from simulation.runs.sweeps.spec import SweepSpec, kind_problem, parse_sweep
from simulation.scenario.file import parse_yaml, read_text
from simulation.scenario.spec import Scenario, load_scenario, override_sources, scenario_from_dict, with_tuned

MAX_LISTED_PROBLEMS = 20


@dataclass(frozen=True)
class PlannedPoint:
    """A unique point to run: its id, the values it sets and the raw scenario (validated) it runs."""

    point_id: str
    values: dict[str, Any]
    scenario: dict[str, Any] = field(repr=False)
    # Paths the analyst set (--set, the sweep's set:, every swept parameter): a company's data never overwrites them.
    explicit: tuple[str, ...] = ()
    # The strategies it runs (empty: the plan's). A lever sweep's later policies run the tuned strategy alone: the
    # declared ones do not depend on the levers, and run once, under the first policy.
    strategies: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep runs, validated: the design rows, the unique points and how to run them."""

    spec: SweepSpec
    source_name: str  # the sweep file, or what built the sweep (a scenario's uncertainties)
    base: Scenario
    base_hash: str
    strategies: tuple[str, ...]
    population: PopulationSource
    resolved: dict[str, ParameterPath]
    rows: tuple[DesignPoint, ...]  # the design in order, then base and swings
    row_ids: tuple[str, ...]  # the point id of each row (rows with the same values share one)
    points: tuple[PlannedPoint, ...]  # unique points, in design order
    files: tuple[tuple[str, str], ...] = ()  # (role, path) of each file the sweep read: sweep file, scenario, data
    planned_data: dict[str, Any] = field(default_factory=dict)  # the data file as planned on: kind, path, sha256

    @property
    def decision_outcome(self) -> str:
        """What a strategy is judged by: the sweep file's choice, else the scenario's objective (as its board report)."""
        return self.spec.decision_outcome or self.base.report.objective

    @property
    def input_data(self) -> dict[str, Any]:
        """The data file as the plan read it (its SHA-256 then, not now: every worker checks it sees the same)."""
        return self.planned_data or provenance_record.input_data(self.population)


def get_path(data: dict[str, Any], dotted: str) -> Any:
    """The value at ``dotted`` in a scenario dump, or None where a named entry does not exist."""
    node: Any = data
    for key in dotted.split("."):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]  # a strategy's step, by position
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return None
    return node


def point_id(base_hash: str, values: dict[str, Any], seed: int, replications: int, strategies: tuple[str, ...],
             input_data: dict[str, Any], explicit: tuple[str, ...] = (), code: str = "") -> str:
    """The hash of everything a point's rows depend on: the scenario and the point's values, the seed, the data's
    content, the code and the kernels that compute it (``code``), and with a company's data which paths the analyst
    set. Other code, or the other kernels (they differ by up to 1e-6), is another point: never served as this one."""
    identity: dict[str, Any] = {"scenario": base_hash, "values": values, "seed": seed, "replications": replications,
                                "strategies": list(strategies), "input": input_data, "code": code}
    if input_data.get("kind") != "synthetic":
        identity["explicit"] = sorted(explicit)
    return hashlib.sha256(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:24]


def load_plan(sweep_path: str | Path) -> SweepPlan:
    """Read a sweep file and validate every point; a ScenarioError lists every invalid one."""
    sweep_path = Path(sweep_path)
    return plan_from_spec(parse_sweep(sweep_path), sweep_path.parent, str(sweep_path))


def plan_from_spec(spec: SweepSpec, folder: Path, source_name: str) -> SweepPlan:
    """The plan of a sweep spec whose scenario and data paths are relative to ``folder`` (a sweep file's, or an
    optimisation's batch of trials); the data read, checked and fitted before any point runs."""
    scenario_path = folder / spec.scenario
    raw = parse_yaml(read_text(scenario_path), str(scenario_path)) or {}
    if not isinstance(raw, dict):
        raise ScenarioError(f"{scenario_path}: expected a mapping of scenario fields at top level, got {type(raw).__name__}")
    if spec.set.get("report.tuned"):  # named in the sweep file: relative to it, joined before the points are made
        tuned = str((folder / str(spec.set["report.tuned"])).resolve())
        spec = spec.model_copy(update={"set": {**spec.set, "report.tuned": tuned}})
        raw = {**raw, "report": {**(raw.get("report") or {}), "tuned": tuned}}
    raw = with_tuned(raw, scenario_path)
    # Resolved here, on the client: a worker elsewhere must not read a file of the same name in its own folder.
    population = PopulationSource.from_paths((folder / spec.customers).resolve() if spec.customers else None,
                                             (folder / spec.transactions).resolve() if spec.transactions else None,
                                             spec.columns)
    plan = make_plan(spec, raw, source_name, f"{scenario_path}", population)
    if population.kind != "synthetic":  # read, checked and fitted here, as --customers is, before any point runs
        start_run(plan.base, population, spec.seed, plan.points[0].explicit if plan.points else ())
    return plan


def plan_from_scenario(spec: SweepSpec, scenario_path: str | Path, population: PopulationSource,
                       overrides: list[str] | tuple[str, ...] = ()) -> SweepPlan:
    """A plan for a sweep built in code (a scenario's uncertainties) over a scenario file and its ``--set``s."""
    scenario = load_scenario(scenario_path, overrides)
    raw = scenario.model_dump(mode="json")
    return make_plan(spec, raw, f"{scenario_path} uncertainties", str(scenario_path), population,
                     tuple(override_sources(overrides)))


def make_plan(spec: SweepSpec, raw: dict[str, Any], source_name: str, scenario_name: str,
              population: PopulationSource, overridden: tuple[str, ...] = ()) -> SweepPlan:
    base_raw = copy.deepcopy(raw)
    for dotted, value in spec.set.items():
        set_path(base_raw, dotted, value)
    base = scenario_from_dict(base_raw, source=f"{source_name}: scenario {scenario_name} with set")
    strategies = tuple(select_strategies(base, spec.strategies))
    if spec.lever_strategy is not None and spec.lever_strategy not in strategies:
        raise ScenarioError(f"{source_name}: levers: tune {spec.lever_strategy!r}, which is not among the strategies "
                            f"compared ({', '.join(strategies)})")
    resolved = {}
    for section, varied in (("parameters", spec.parameters), ("levers", spec.levers)):
        for path in varied:  # against the scenario itself: a lever's step decides which fields it has
            try:
                resolved[path] = resolve_path(Scenario, path, base)
            except ValueError as exc:
                raise ScenarioError(f"{source_name}: {section}: '{path}' {exc}") from None
            problem = kind_problem(resolved[path], varied[path])
            if problem:
                raise ScenarioError(f"{source_name}: {section}: '{path}' {problem}")
    dump = base.model_dump(mode="json")
    base_values = {path: get_path(dump, path) for path in spec.parameters}
    # Paths the analyst set at every point — --set, the sweep's set: and every swept parameter, at each of its
    # values, the base included — are never overwritten by a company's data (sources.start_run).
    explicit = tuple(dict.fromkeys((*overridden, *spec.set, *spec.parameters, *spec.levers)))
    rows = design_points(spec, resolved, base_values if None not in base_values.values() else None)
    base_hash = base.content_hash()
    planned_data = provenance_record.input_data(population)
    input_data = {key: value for key, value in planned_data.items()
                  if key != "path"}  # the file's content, not where it was read from
    code = f"{code_fingerprint()} {kernels.selected()} kernels"
    problems: list[str] = []
    row_ids: list[str] = []
    longest = base.horizon_quarters
    unique: dict[str, PlannedPoint] = {}
    for row in rows:
        running = (spec.lever_strategy,) if row.policy > 0 and spec.lever_strategy else strategies
        identity = point_id(base_hash, row.values, spec.seed, spec.replications, running, input_data, explicit, code)
        row_ids.append(identity)
        if identity in unique:
            continue
        point_raw = copy.deepcopy(base_raw)
        for dotted, value in row.values.items():
            set_path(point_raw, dotted, value)
        what = f"{'point' if row.role == ROLE_DESIGN else row.role + ' point'} {row.index}"
        try:
            scenario = scenario_from_dict(point_raw, source=what)
            _check_runs(scenario, population)
            longest = max(longest, scenario.horizon_quarters)
        except ScenarioError as exc:
            rules = "; ".join(line.removeprefix(f"{what}: ") for line in str(exc).splitlines())
            problems.append(f"{what} ({_shown(row.values)}): {rules}")
            continue
        unique[identity] = PlannedPoint(identity, row.values, point_raw, explicit, running)
    if problems:
        listed = "\n  ".join(problems[:MAX_LISTED_PROBLEMS])
        more = f"\n  … and {len(problems) - MAX_LISTED_PROBLEMS} more" if len(problems) > MAX_LISTED_PROBLEMS else ""
        raise ScenarioError(f"{source_name}: {len(problems)} of {len(rows)} points are not valid scenarios; nothing was "
                            f"run or written:\n  {listed}{more}")
    try:  # a point's results are held in memory until its chunk is written, as simulate's are
        check_replications(spec.replications, len(strategies), longest)
    except ScenarioError as exc:
        raise ScenarioError(f"{source_name}: 'replications' {str(exc).removeprefix('--replications ')}") from None
    tuned = base.tuned_file(scenario_name)
    files = [("sweep file", source_name), ("scenario file", scenario_name),
             *([("tuned strategy file", str(tuned))] if tuned else []),
             *([(population.kind_label, str(population.path))] if population.path else [])]
    return SweepPlan(spec, source_name, base, base_hash, strategies, population, resolved, tuple(rows), tuple(row_ids),
                     tuple(unique.values()), tuple(files), planned_data)


def _check_runs(scenario: Scenario, population: PopulationSource) -> None:
    """What the run itself would refuse, refused now: a synthetic book larger than its market."""
    if population.kind == "synthetic" and scenario.market.size < scenario.population.customers:
        raise ScenarioError(f"'market.size' must be at least population.customers ({scenario.population.customers:,}): "
                            f"got {scenario.market.size:,}")


def _shown(values: dict[str, Any]) -> str:
    return ", ".join(f"{path}={value!r}" for path, value in values.items())
