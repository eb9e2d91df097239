"""Does the recommendation survive what we do not know? The data of the board report's robustness section.

A scenario declares ``uncertainties:`` — plausible ranges, each with its source, for parameters
nobody has measured. ``run_robustness`` runs (or resumes: the sweep store skips done points) a
small Latin hypercube over those ranges, plus the base scenario and each range's two ends, into
a sweep store; ``robustness_summary`` reads that store and says, per leading strategy, in what
share of the sampled futures it is best and its worst regret, and which one or two assumptions,
pushed to an end of their range, would flip the choice. The notebook reads; it never runs, so the
modules that run (the sweep's plan and runner, the screening's run: the engine and numba) are imported
inside ``run_robustness``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from simulation.analysis.discovery import FlipBox
from simulation.analysis.screening import SCREENED_FILE, SCREENING_FOLDER, run_screening, screened_source, screening_ranges
from simulation.analysis.sweep import analyze_sweep
from simulation.data.sources import PopulationSource, calibrated_paths, overlaps
from simulation.runs.preparation import DEFAULT_SEED
from simulation.runs.sweeps.designs import ROLE_BASE, ROLE_SWING
from simulation.runs.sweeps.spec import SweepSpec
from simulation.scenario.spec import UncertaintySpec, load_scenario, override_sources

DEFAULT_POINTS = 24  # Latin-hypercube futures: shares to about ±10 points, in a minute or two on 2 cores
DEFAULT_REPLICATIONS = 4  # per future; common random numbers keep strategy differences sharp with few
ROBUSTNESS_FOLDER = "robustness"


@dataclass(frozen=True)
class StrategyRobustness:
    """One strategy across the sampled futures."""

    strategy: str
    label: str
    share_best: float  # share of futures where it is best by the scenario's objective (ties count for each)
    share_worst: float
    worst_regret: float  # the most value (by the objective) it gives up against the best, in the scenario's currency
    p90_regret: float


@dataclass(frozen=True)
class FlipAssumption:
    """An assumption that, at one end of its range (the others as in the scenario), changes the best strategy."""

    parameter: str
    label: str  # the parameter in plain words (schema.in_plain_words), else its description
    description: str  # the parameter's meaning, from the schema
    source: str  # where the range comes from, as the scenario declares it
    end: str  # low | high
    value: float  # the parameter's value at that end
    base_value: float  # its value in the scenario
    best_there: str  # the strategy best at that end
    lead_change: float  # how much the recommended strategy's lead over the runner-up changes there (the objective)


@dataclass(frozen=True)
class RobustnessSummary:
    """What the robustness section says, as numbers."""

    folder: Path
    recommended: str | None
    runner_up: str | None
    futures: int  # sampled futures with results
    holds_share: float  # share of futures where the recommended strategy is best
    strategies: list[StrategyRobustness]  # the leading ones first (most often best)
    flips: list[FlipAssumption]  # at most two, largest change of the lead first
    boxes: list[FlipBox]  # scenario discovery boxes: not computed here (empty); the sweep report shows them
    uncertainties: dict[str, dict[str, Any]]  # path → low, high, source (as declared), kind, description
    currency: str
    notes: list[str]


def robustness_spec(uncertainties: dict[str, Any], scenario_path: str | Path, strategies: Sequence[str] | None,
                    points: int, replications: int, seed: int, name: str) -> SweepSpec:
    """The sweep a scenario's uncertainties ask for: a Latin hypercube over their ranges, with swings."""
    return SweepSpec.model_validate({
        "name": f"{name} — robustness",
        "description": "The scenario's unmeasured parameters, each across its plausible range",
        "scenario": str(scenario_path),
        "strategies": list(strategies) if strategies else None,
        "replications": replications,
        "seed": seed,
        "design": {"method": "lhs", "points": points, "swings": True},
        "parameters": {path: {"low": spec.low, "high": spec.high, "why": spec.source}
                       for path, spec in uncertainties.items()},
    })


@dataclass(frozen=True)
class ScreeningRequest:
    """What a screening measures the parameters against: the leader's lead over the runner-up, and how large a change
    of it the board calls material (``report.materiality`` of the leader's value, at least ``materiality_amount``)."""

    leader: str
    runner_up: str
    threshold: float


def run_robustness(scenario_path: str | Path, out_dir: str | Path, *, overrides: Sequence[str] = (),
                   strategies: Sequence[str] | None = None, customers: str | Path | None = None,
                   transactions: str | Path | None = None, columns: str | None = None, points: int = DEFAULT_POINTS,
                   replications: int = DEFAULT_REPLICATIONS, seed: int = DEFAULT_SEED, workers: int | None = None,
                   progress: bool = False, screening: ScreeningRequest | None = None,
                   dask: str | None = None) -> Path | None:
    """Run or resume the robustness sweep into ``out_dir``; None (nothing run) when the scenario declares no uncertainties.

    With ``screening``, the parameters the scenario left alone are screened first (``simulation.analysis.screening``, into
    the folder ``screening`` beside ``out_dir``) and those that move the lead materially join the declared ones.
    """
    from simulation.runs.sweeps.plan import plan_from_scenario
    from simulation.runs.sweeps.runner import run_sweep

    scenario = load_scenario(scenario_path, overrides)
    source = PopulationSource.from_paths(customers, transactions, columns)
    set_paths = list(override_sources(overrides))
    calibrated = calibrated_paths(source, set_paths)  # the data's values: their uncertainty is the fit's
    uncertainties = {path: spec for path, spec in scenario.uncertainties.items() if not overlaps(path, calibrated)}
    (Path(out_dir).with_name(SCREENING_FOLDER) / SCREENED_FILE).unlink(missing_ok=True)  # no earlier finding stands
    if not uncertainties:
        return None
    if screening is not None:
        ranges = screening_ranges(scenario, [*scenario.uncertainties, *calibrated, *set_paths])
        found = run_screening(scenario_path, Path(out_dir).with_name(SCREENING_FOLDER), ranges=ranges,
                              leader=screening.leader, runner_up=screening.runner_up, threshold=screening.threshold,
                              overrides=overrides, source=source, seed=seed, workers=workers, progress=progress,
                              dask=dask)
        uncertainties |= {entry.path: UncertaintySpec(low=entry.low, high=entry.high,
                                                      source=screened_source(entry))
                          for entry in found if entry.added}
    spec = robustness_spec(uncertainties, scenario_path, strategies, points, replications, seed, scenario.name)
    plan = plan_from_scenario(spec, scenario_path, source, list(overrides))
    run_sweep(plan, out_dir, workers=workers, dask=dask, progress=progress, discard_other_code=True)
    return Path(out_dir)


def robustness_summary(folder: str | Path, recommended: str | None = None) -> RobustnessSummary:
    """The robustness section's numbers from a store ``run_robustness`` wrote; ``recommended`` defaults to the best at base."""
    analysis = analyze_sweep(folder, discover=False)  # the section reads the swings, not the CART boxes
    described = analysis.manifest
    labels = described.get("strategy_labels", {})
    recommended = recommended or analysis.recommended
    table = analysis.robustness.sort_values(["share_best", "max_regret"], ascending=[False, True], kind="stable")
    strategies = [StrategyRobustness(row.strategy, labels.get(row.strategy, row.strategy), row.share_best,
                                     row.share_worst, row.max_regret, row.p90_regret) for row in table.itertuples()]
    others = [entry.strategy for entry in strategies if entry.strategy != recommended]
    runner_up = _runner_up_at_base(analysis, recommended) or (others[0] if others else None)
    # The share of futures where ``recommended`` is best: the analysis' flip share is of its own recommendation
    # (the best at the base), which is not the board's when the caller names another (a tie's leader, say).
    holds = next((entry.share_best for entry in strategies if entry.strategy == recommended), float("nan"))
    parameters = described["parameters"]
    uncertainties = {path: {"low": parameters[path].get("low"), "high": parameters[path].get("high"),
                            "source": parameters[path].get("why", ""), "kind": parameters[path].get("kind"),
                            "description": parameters[path].get("description", ""),
                            "label": parameters[path].get("label") or parameters[path].get("description", path)}
                     for path in analysis.parameters}
    return RobustnessSummary(
        folder=Path(folder), recommended=recommended, runner_up=runner_up,
        futures=int(analysis.regret["point_id"].nunique()) if not analysis.regret.empty else 0,
        holds_share=holds, strategies=strategies,
        flips=_flip_assumptions(analysis, recommended, runner_up, uncertainties)[:2],
        boxes=analysis.flips, uncertainties=uncertainties, currency=described.get("currency", ""),
        notes=analysis.notes,
    )


def _npv_at(analysis: Any, point_id: str) -> dict[str, float]:
    at = analysis.point_outcomes[analysis.point_outcomes["point_id"] == point_id]
    return dict(zip(at["strategy"], at[analysis.decision_outcome].astype(float), strict=True))


def _runner_up_at_base(analysis: Any, recommended: str | None) -> str | None:
    base = analysis.design[analysis.design["role"] == ROLE_BASE]
    if base.empty or recommended is None:
        return None
    values = _npv_at(analysis, base["point_id"].iloc[0])
    others = {name: value for name, value in values.items() if name != recommended}
    return max(others, key=lambda name: others[name]) if others else None


def _flip_assumptions(analysis: Any, recommended: str | None, runner_up: str | None,
                      uncertainties: dict[str, dict[str, Any]]) -> list[FlipAssumption]:
    """Each range end where another strategy beats the recommended one, largest change of its lead first."""
    design = analysis.design
    base = design[design["role"] == ROLE_BASE]
    if recommended is None or runner_up is None or base.empty:
        return []
    at_base = _npv_at(analysis, base["point_id"].iloc[0])
    if recommended not in at_base or runner_up not in at_base:
        return []
    base_lead = at_base[recommended] - at_base[runner_up]
    found = []
    for row in design[design["role"] == ROLE_SWING].to_dict("records"):
        parameter, end = str(row["swing"]).rsplit(" ", 1)
        values = _npv_at(analysis, row["point_id"])
        if recommended not in values or len(values) < 2:
            continue
        best = max(values, key=lambda name: values[name])
        if best == recommended:
            continue
        lead = values[recommended] - max(value for name, value in values.items() if name != recommended)
        found.append(FlipAssumption(
            parameter=parameter, label=uncertainties[parameter]["label"],
            description=uncertainties[parameter]["description"],
            source=uncertainties[parameter]["source"], end=end, value=float(row[parameter]),
            base_value=float(base[parameter].iloc[0]), best_there=best, lead_change=float(lead - base_lead)))
    return sorted(found, key=lambda flip: flip.lead_change)
