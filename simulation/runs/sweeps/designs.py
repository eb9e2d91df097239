"""Drawing a sweep's points: grid, list, Latin hypercube, Sobol (Saltelli's scheme) and Morris.

The sampled designs (LHS, Sobol, Morris) are drawn by SALib on the unit cube, seeded from the
sweep's seed, and mapped onto each parameter by its type: a real number across its range, a
whole number onto the integers of its range (each equally likely), a choice onto its values.
The unit coordinates are kept with each point: Morris' elementary effects are read from them
(an effect per whole range, comparable across parameters), and the design's order is what
Sobol's estimator needs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.core.parameter_paths import ParameterPath
from simulation.runs.sweeps.spec import ParameterSpec, SweepSpec

ROLE_DESIGN, ROLE_BASE, ROLE_SWING = "design", "base", "swing"


@dataclass(frozen=True)
class DesignPoint:
    """One row of the design: its place, its role, the values it sets and its unit-cube coordinates."""

    index: int
    role: str  # design | base | swing
    values: dict[str, Any]
    unit: tuple[float, ...] = ()  # the sampled coordinates in [0, 1] (lhs, sobol, morris)
    swing: str = ""  # for a swing point: "<path> low" or "<path> high"
    policy: int = 0  # with levers: which combination of the levers' values (``policies``) the point runs


def problem(spec: SweepSpec) -> dict[str, Any]:
    """SALib's problem definition on the unit cube, one variable per parameter."""
    names = list(spec.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def unit_sample(spec: SweepSpec) -> np.ndarray:
    """The sampled design on the unit cube, in the order SALib's analysers expect."""
    from SALib.sample import latin, sobol
    from SALib.sample.morris import sample as morris_sample

    design = spec.design
    if design.method == "lhs":
        return latin.sample(problem(spec), design.points, seed=spec.seed)
    if design.method == "sobol":
        return sobol.sample(problem(spec), design.points, calc_second_order=False, scramble=True, seed=spec.seed)
    if design.method == "morris":
        return morris_sample(problem(spec), design.trajectories, num_levels=design.levels, seed=spec.seed)
    raise ValueError(f"{design.method} is not a sampled design")


def from_unit(u: float, resolved: ParameterPath, low: float | None, high: float | None,
              values: tuple[Any, ...] | None) -> Any:
    """A unit coordinate as the parameter's value: across a range, on its integers, or among its values."""
    if values is not None:  # a choice, or a list of numbers sampled as equally likely values
        return values[min(int(math.floor(u * len(values))), len(values) - 1)]
    assert low is not None and high is not None
    if resolved.kind == "integer":
        count = int(high) - int(low) + 1
        return int(low) + min(int(math.floor(u * count)), count - 1)
    return float(low + u * (high - low))


def policies(spec: SweepSpec, resolved: dict[str, ParameterPath]) -> list[dict[str, Any]]:
    """Every combination of the levers' values, the first lever slowest (one empty policy without levers)."""
    names = list(spec.levers)
    columns = [_listed_values(spec.levers[name], resolved[name]) for name in names]
    return [dict(zip(names, row, strict=True)) for row in itertools.product(*columns)]


def design_points(spec: SweepSpec, resolved: dict[str, ParameterPath], base: dict[str, Any] | None) -> list[DesignPoint]:
    """The futures — every point of the design in order, then (with ``design.swings`` and a base) the base and its
    swings — once for each policy of the levers (EMA's policies × scenarios), policy by policy."""
    futures = future_points(spec, resolved, base)
    return [DesignPoint(point.index, point.role, {**point.values, **policy}, point.unit, point.swing, number)
            for number, policy in enumerate(policies(spec, resolved)) for point in futures]


def future_points(spec: SweepSpec, resolved: dict[str, ParameterPath], base: dict[str, Any] | None) -> list[DesignPoint]:
    """The design over the parameters alone: one future, the scenario as it is, when only levers vary."""
    names = list(spec.parameters)
    method = spec.design.method
    points: list[DesignPoint] = []
    if not names:
        return [DesignPoint(0, ROLE_DESIGN, {})]
    if method in ("grid", "list"):
        columns = [_listed_values(spec.parameters[name], resolved[name]) for name in names]
        rows = itertools.product(*columns) if method == "grid" else zip(*columns, strict=True)
        points = [DesignPoint(i, ROLE_DESIGN, dict(zip(names, row, strict=True))) for i, row in enumerate(rows)]
    else:
        sample = unit_sample(spec)
        for i, row in enumerate(sample):
            values = {name: from_unit(float(u), resolved[name], spec.parameters[name].low, spec.parameters[name].high,
                                      spec.parameters[name].values) for name, u in zip(names, row, strict=True)}
            points.append(DesignPoint(i, ROLE_DESIGN, values, tuple(float(u) for u in row)))
    if spec.design.swings and base is not None:
        points.extend(swing_points(spec, resolved, base, len(points)))
    return points


def _listed_values(parameter: ParameterSpec, resolved: ParameterPath) -> list[Any]:
    if parameter.values is not None:
        return list(parameter.values)
    assert parameter.low is not None and parameter.high is not None and parameter.levels is not None
    spaced = np.linspace(parameter.low, parameter.high, parameter.levels)
    if resolved.kind == "integer":
        return sorted({int(round(value)) for value in spaced})
    return [float(value) for value in spaced]


def swing_points(spec: SweepSpec, resolved: dict[str, ParameterPath], base: dict[str, Any], start: int) -> list[DesignPoint]:
    """The base scenario, then each parameter alone at its lowest and highest value, the others at base."""
    points = [DesignPoint(start, ROLE_BASE, dict(base))]
    for name, parameter in spec.parameters.items():
        if parameter.values is not None:
            ends = [min(parameter.values), max(parameter.values)] if resolved[name].kind != "choice" else list(parameter.values)
        else:
            assert parameter.low is not None and parameter.high is not None
            ends = [from_unit(0.0, resolved[name], parameter.low, parameter.high, None),
                    from_unit(1.0, resolved[name], parameter.low, parameter.high, None)]
        labels = ["low", "high"] if resolved[name].kind != "choice" else [repr(value) for value in ends]
        for label, value in zip(labels, ends, strict=True):
            points.append(DesignPoint(start + len(points), ROLE_SWING, {**base, name: value}, swing=f"{name} {label}"))
    return points
