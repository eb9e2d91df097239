"""Which assumptions the scenario left alone move the decision? A quick screening for the robustness check.

A scenario declares the uncertainties its authors thought of (``uncertainties:``); the parameters it
leaves at their values may matter more. Before the robustness check samples the declared ranges,
``run_screening`` moves every other parameter that declares a screening range beside its field
(``schema.in_plain_words``: half to twice its value for most, tighter for cost shares) in a Morris
design of a few dozen points (Morris, "Factorial sampling plans for preliminary computational
experiments", 1991), and measures each one's mean absolute elementary effect μ* (Campolongo,
Cariboni & Saltelli, "An effective screening design for sensitivity analysis of large models",
2007) on what the decision rests on: the leader's lead over the runner-up in the scenario's
objective. A parameter whose μ* reaches the board's own materiality threshold — the lead it moves
is one the board would call real — and whose bootstrap interval is clear of zero joins the
robustness check at its screening range, the largest first and at most ``MOST_ADDED``, each named
in plain words.

Left out: parameters the analyst set (``--set``), those the company's data set (their uncertainty
is the fit's), those already declared, and those at zero (no multiple of zero is a range).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from pydantic import BaseModel

from simulation.analysis.sensitivity import morris_indices
from simulation.analysis.sweep import by_design_row, point_outcomes
from simulation.core.errors import ClienteleError
from simulation.core.files import write_atomically
from simulation.core.parameter_paths import resolve_path
from simulation.data.sources import PopulationSource, overlaps
from simulation.runs.sweeps.designs import ROLE_DESIGN
from simulation.runs.sweeps.queries import design_table
from simulation.runs.sweeps.spec import SweepSpec
from simulation.scenario.spec import Scenario

SCREENING_FOLDER = "screening"  # beside ``robustness`` in a report's results folder
SCREENED_FILE = "screened.json"  # what the screening found, for the robustness section
TRAJECTORIES = 3  # Morris trajectories: r × (k + 1) points, 36 for the bank's 11 candidates
LEVELS = 4  # SALib's default grid
REPLICATIONS = 1  # per point and strategy: on common random numbers the lead between two options is sharp with one
MOST_ADDED = 4  # the robustness check's hypercube stays small enough for a board report's minute


@dataclass(frozen=True)
class Screened:
    """One screened parameter: its range, what moving it did to the lead, and whether it joined the check."""

    path: str
    label: str
    base: float
    low: float
    high: float
    mu_star: float  # mean absolute change of the lead from moving it across its range, the objective's currency
    mu_star_conf: float  # half-width of μ*'s 95 % bootstrap interval
    added: bool


def screenable_paths(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[str]:
    """Every dotted path whose field declares a screening range, in the schema's order."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from screenable_paths(annotation, f"{prefix}{name}.")
        elif isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("screen"):
            yield f"{prefix}{name}"


def screening_ranges(scenario: Scenario, excluded: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """path → (value, low, high): each screenable parameter's range around the scenario's value, within the
    schema's bounds; ``excluded`` paths (declared, set or calibrated), parameters at zero and those of a section
    switched off (``enabled: false``: they cannot matter) left out."""
    from simulation.runs.sweeps.plan import get_path

    dump = scenario.model_dump(mode="json")
    ranges = {}
    for path in screenable_paths():
        value = get_path(dump, path)
        section = dump.get(path.split(".")[0])
        switched_off = isinstance(section, dict) and section.get("enabled") is False
        if (overlaps(path, excluded) or switched_off or not isinstance(value, (int, float)) or isinstance(value, bool)
                or value == 0):
            continue
        resolved = resolve_path(Scenario, path)
        assert resolved.screen is not None
        low, high = sorted((value * resolved.screen[0], value * resolved.screen[1]))
        if resolved.minimum is not None:
            low = max(low, resolved.minimum)
        if resolved.maximum is not None:
            high = min(high, resolved.maximum)
        if resolved.kind == "integer":
            low, high = float(round(low)), float(round(high))
        if low < high:
            ranges[path] = (float(value), float(low), float(high))
    return ranges


def run_screening(scenario_path: str | Path, folder: str | Path, *, ranges: dict[str, tuple[float, float, float]],
                  leader: str, runner_up: str, threshold: float, overrides: Sequence[str] = (),
                  source: PopulationSource | None = None, seed: int = 0, workers: int | None = None,
                  dask: str | None = None,
                  progress: bool = False) -> list[Screened]:
    """Run (or resume) the screening into ``folder``, write what it found there and return it, largest μ* first."""
    # the plan and the runner load the engine: reading a screening never does
    from simulation.runs.sweeps.plan import plan_from_scenario
    from simulation.runs.sweeps.runner import run_sweep

    record_path = Path(folder) / SCREENED_FILE
    record_path.unlink(missing_ok=True)  # an earlier screening's finding never stands for this one
    if len(ranges) < 2:  # Morris needs two parameters; one alone is what the swings of the check measure
        return []
    names = list(ranges)
    spec = SweepSpec.model_validate({
        "name": "robustness screening", "scenario": str(scenario_path), "strategies": [leader, runner_up],
        "replications": REPLICATIONS, "seed": seed,
        "design": {"method": "morris", "trajectories": TRAJECTORIES, "levels": LEVELS, "swings": False},
        "parameters": {path: {"low": low, "high": high, "why": "screening"} for path, (_, low, high) in ranges.items()},
    })
    plan = plan_from_scenario(spec, scenario_path, source or PopulationSource(), list(overrides))
    run = run_sweep(plan, folder, workers=workers, dask=dask, progress=progress, discard_other_code=True)
    if run.failed:
        raise ClienteleError(f"the robustness screening: {run.failed} of {run.points} points failed; their errors: "
                             f"clientele sweep status {folder}")
    design = design_table(folder)
    sampled = design[design["role"] == ROLE_DESIGN].sort_values("design_index")
    outcomes = point_outcomes(folder)
    lead = (by_design_row(sampled, outcomes, leader, plan.decision_outcome)
            - by_design_row(sampled, outcomes, runner_up, plan.decision_outcome))
    unit = sampled[[f"unit:{name}" for name in names]].to_numpy(dtype=float)
    indices = morris_indices(names, unit, lead, LEVELS, seed).sort_values("mu_star", ascending=False, kind="stable")
    found, added = [], 0
    for row in indices.itertuples():
        value, low, high = ranges[str(row.parameter)]
        # Material, and told apart from the screening's own noise (its 95 % interval clear of zero).
        joins = bool(row.mu_star >= threshold and row.mu_star > row.mu_star_conf) and added < MOST_ADDED
        added += joins
        found.append(Screened(str(row.parameter), plan.resolved[str(row.parameter)].label, value, low, high,
                              float(row.mu_star), float(row.mu_star_conf), joins))
    record = {"leader": leader, "runner_up": runner_up, "objective": plan.decision_outcome, "threshold": threshold,
              "points": len(sampled), "replications": REPLICATIONS, "screened": [asdict(entry) for entry in found]}
    write_atomically(record_path, json.dumps(record, indent=2).encode())
    return found


def read_screening(folder: str | Path) -> dict[str, Any] | None:
    """What a screening in ``folder`` found (``run_screening``'s record), or None when none ran."""
    path = Path(folder) / SCREENED_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def screened_source(entry: Screened) -> str:
    """The source an added parameter's range carries into the robustness check: the screening, in words."""
    return (f"Not declared in the scenario: the screening found that moving it between {entry.low:g} and "
            f"{entry.high:g} (its value {entry.base:g}) changes the leader's lead materially")
