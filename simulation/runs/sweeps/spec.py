"""The sweep file: which scenario, which strategies, which parameters vary and how they are sampled.

Read and validated like a scenario (the same safe YAML reader, unknown keys refused, numbers
strict), paths relative to the sweep file. The parameters are checked against the scenario's
schema by their dotted paths: a real number takes a range, a whole number a range of whole
numbers, a switch or a named choice a list of values.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from simulation.core.errors import ScenarioError
from simulation.core.parameter_paths import ParameterPath, is_step_setting, resolve_path
from simulation.core.schema import Name, Real, StrictModel, Switch, Text, Whole
from simulation.model.outcomes import sweep_outcomes
from simulation.scenario.file import parse_yaml, read_text
from simulation.scenario.spec import Scenario

MAX_DESIGN_POINTS = 100_000  # runs a sweep may ask for; a 10,000-point Sobol study is the largest use in sight
MAX_REPLICATIONS = 10_000
DESIGN_METHODS = ("grid", "list", "lhs", "sobol", "morris")
# The outcomes declared with a ``Sweep`` (simulation/model/outcomes.py), as the type a sweep file's outcome names must meet.
ANALYSED_OUTCOMES: tuple[str, ...] = tuple(o.name for o in sweep_outcomes())
AnalysedOutcome = Literal[ANALYSED_OUTCOMES]  # type: ignore[valid-type]


class ParameterSpec(StrictModel):
    """One varied parameter: a range (``low``, ``high``) or a list of ``values``; ``levels`` spaces a range for a grid."""

    low: Real | None = Field(None, description="Lowest value of the range")
    high: Real | None = Field(None, description="Highest value of the range")
    levels: Whole | None = Field(None, ge=2, le=1000, description="Evenly spaced values from low to high: a parameter's "
                                                                 "in a grid design, a lever's in any design")
    values: tuple[Any, ...] | None = Field(None, min_length=1, max_length=10_000,
                                           description="The values to take (a parameter's in a grid or list design, or "
                                                       "drawn as equally likely in any; a lever's in any design)")
    why: Text = Field("", description="Why this parameter is varied and where its range comes from")

    @model_validator(mode="after")
    def _range_or_values(self) -> "ParameterSpec":
        has_range = self.low is not None or self.high is not None
        if has_range and self.values is not None:
            raise ValueError("give either low and high or values, not both")
        if not has_range and self.values is None:
            raise ValueError("give low and high (a range) or values (a list)")
        if has_range:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if not self.low < self.high:
                raise ValueError(f"low must be below high: got low {self.low:g}, high {self.high:g}")
        elif self.levels is not None:
            raise ValueError("levels spaces a range; with values, list every value")
        return self


class DesignSpec(StrictModel):
    """How points are drawn: a full grid, an explicit list, a Latin hypercube, Sobol (Saltelli) or Morris."""

    method: Literal["grid", "list", "lhs", "sobol", "morris"] = Field(description="grid | list | lhs | sobol | morris")
    points: Whole | None = Field(None, ge=1, le=MAX_DESIGN_POINTS,
                                 description="lhs: points drawn; sobol: the base sample N, a power of two (runs N × (D + 2))")
    trajectories: Whole | None = Field(None, ge=2, le=10_000, description="morris: trajectories (runs r × (D + 1))")
    levels: Whole = Field(4, ge=2, le=100, description="morris: grid levels, an even number (SALib's default 4)")
    swings: Switch = Field(True, description="Also run the base scenario and each parameter at its low and high, "
                                             "the others at base (the tornado chart's one-at-a-time swings)")

    @model_validator(mode="after")
    def _sizes(self) -> "DesignSpec":
        if self.method in ("lhs", "sobol") and self.points is None:
            raise ValueError(f"a {self.method} design needs points")
        if self.method == "sobol" and self.points is not None and self.points & (self.points - 1):
            below = 1 << (self.points.bit_length() - 1)
            raise ValueError(f"a sobol design's points (the base sample N) must be a power of two, as Saltelli's scheme "
                             f"and SALib ask: got {self.points}; try {below} or {below * 2}")
        if self.method == "morris":
            if self.trajectories is None:
                raise ValueError("a morris design needs trajectories")
            if self.levels % 2:
                raise ValueError(f"a morris design's levels must be even (SALib): got {self.levels}")
        if self.method in ("grid", "list") and (self.points is not None or self.trajectories is not None):
            raise ValueError(f"a {self.method} design takes its points from the parameters' values; remove points")
        return self


class SatisficingSpec(StrictModel):
    """A strategy satisfices at a point when its mean outcome there is at least ``at_least``."""

    outcome: AnalysedOutcome | None = Field(None, description="The outcome held to the threshold (empty: the decision's)")
    at_least: Real = Field(description="The threshold, in the outcome's unit")


class SweepSpec(StrictModel):
    """A sweep file, as written."""

    name: Text = Field(description="The sweep's title (up to 300 characters)")
    description: Text = Field("", description="What the sweep varies and why, for the report")
    scenario: str = Field(description="The scenario file, relative to the sweep file")
    customers: str | None = Field(None, description="A customer ledger (CSV), relative to the sweep file")
    transactions: str | None = Field(None, description="A transaction log (CSV or Parquet), relative to the sweep file")
    columns: str | None = Field(None, max_length=2000, description="The data file's own column names, as --columns: "
                                "customer_id=cust,date=order_date,amount=total")
    strategies: tuple[Name, ...] | None = Field(None, min_length=1, description="Strategies compared (default: all)")
    replications: Whole = Field(8, ge=1, le=MAX_REPLICATIONS, description="Replications per strategy at each point")
    seed: Whole = Field(20261001, ge=0, le=2**63 - 1, description="Root seed: replication r of every point uses it")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed overrides for every point, by dotted path")
    design: DesignSpec
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict, max_length=100,
                                                 description="Varied parameters (the futures) by dotted path")
    levers: dict[str, ParameterSpec] = Field(
        default_factory=dict, max_length=10,
        description="Settings of one strategy's steps to try, by path (strategies.NAME.steps.N.field), each a list of "
                    "values or a range with levels: every combination (a policy) is run in every future of the design, "
                    "and the report shows which settings are best in each region of the parameters")
    decision_outcome: AnalysedOutcome | None = Field(
        None, description="The outcome a strategy is judged by: best, regret, scenario discovery (empty: the "
                          "scenario's report.objective, as its board report judges)")
    satisficing: SatisficingSpec | None = Field(None, description="A threshold a strategy should meet (satisficing share)")
    chunk_points: Whole | None = Field(None, ge=1, le=10_000, description="Points per task (default: sized to run seconds)")

    @field_validator("parameters")
    @classmethod
    def _paths_are_parameters(cls, parameters: dict[str, ParameterSpec]) -> dict[str, ParameterSpec]:
        problems = []
        for path, spec in parameters.items():
            if any(part.isdigit() for part in path.split(".")):
                continue  # a lever inside a strategy's steps: checked against the scenario when the sweep is planned
            try:
                resolved = resolve_path(Scenario, path)
            except ValueError as exc:
                problems.append(f"'{path}' {exc}")
                continue
            problem = kind_problem(resolved, spec)
            if problem:
                problems.append(f"'{path}' {problem}")
        if problems:
            raise ValueError("; ".join(problems))
        return parameters

    @field_validator("levers")
    @classmethod
    def _levers_are_one_strategys_settings(cls, levers: dict[str, ParameterSpec]) -> dict[str, ParameterSpec]:
        owners = {path.split(".")[1] for path in levers if is_step_setting(path)}
        stray = [path for path in levers if not is_step_setting(path)]
        if stray:
            raise ValueError(f"a lever is a setting of a strategy's step, strategies.NAME.steps.N.field: got "
                             f"{', '.join(map(repr, stray))}")
        if len(owners) > 1:
            raise ValueError(f"levers tune one strategy at a time: got settings of {', '.join(sorted(owners))}")
        unspaced = [path for path, spec in levers.items() if spec.values is None and spec.levels is None]
        if unspaced:
            raise ValueError(f"every combination of the levers is tried, so each needs values or low, high and levels: "
                             f"missing for {', '.join(unspaced)}")
        return levers

    @property
    def lever_strategy(self) -> str | None:
        """The strategy the levers tune, or None without levers."""
        return next(iter(self.levers)).split(".")[1] if self.levers else None

    @model_validator(mode="after")
    def _design_fits_parameters(self) -> "SweepSpec":
        if not self.parameters and not self.levers:
            raise ValueError("'parameters' must name at least one varied parameter (or give levers to try)")
        varied = {**self.parameters, **self.levers}
        both = [f"'{fixed}' (set) and '{path}' ({'levers' if path in self.levers else 'parameters'})"
                for fixed in self.set for path in varied
                if fixed == path or path.startswith(f"{fixed}.") or fixed.startswith(f"{path}.")]
        both += [f"'{lever}' (levers) and '{path}' (parameters)" for lever in self.levers for path in self.parameters
                 if lever == path or path.startswith(f"{lever}.") or lever.startswith(f"{path}.")]
        if both:
            raise ValueError(f"a path is either fixed or varied, not both: {', '.join(both)}; remove it from one")
        method = self.design.method
        if method in ("grid", "list"):
            without = [path for path, spec in self.parameters.items()
                       if spec.values is None and not (method == "grid" and spec.levels is not None)]
            if without:
                need = "values (or low, high and levels)" if method == "grid" else "values"
                raise ValueError(f"a {method} design needs {need} for every parameter; missing for {', '.join(without)}")
        if method == "list":
            lengths = {path: len(spec.values or ()) for path, spec in self.parameters.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"a list design takes the i-th value of every parameter, so every list must be as long: "
                                 f"{', '.join(f'{path} has {n}' for path, n in lengths.items())}")
        elif method != "grid":
            spaced = [path for path, spec in self.parameters.items() if spec.levels is not None]
            if spaced:
                raise ValueError(f"levels is for a grid design; remove it from {', '.join(spaced)}")
        if not self.parameters and method not in ("grid", "list"):
            raise ValueError(f"a {method} design samples parameters, and there are none: give parameters, or use "
                             f"method: grid to try the levers in the scenario as it is")
        runs = design_runs(self) * policy_count(self)
        if runs > MAX_DESIGN_POINTS:
            raise ValueError(f"the design has {runs:,} points; at most {MAX_DESIGN_POINTS:,} (a sweep's points are listed "
                             "and validated before anything runs)")
        return self


def kind_problem(resolved: ParameterPath, spec: ParameterSpec) -> str | None:
    """Why ``spec`` does not fit the type at its path, or None."""
    if resolved.kind == "choice":
        if spec.values is None:
            allowed = f" (one of {', '.join(map(repr, resolved.choices))})" if resolved.choices else ""
            return f"is a choice, not a number: give values{allowed}, not low and high"
        if resolved.choices:
            bad = [value for value in spec.values if value not in resolved.choices or isinstance(value, bool)
                   != isinstance(resolved.choices[0], bool)]
            if bad:
                return f"takes {', '.join(map(repr, resolved.choices))}: got {', '.join(map(repr, bad))}"
        return None
    if spec.values is not None:
        bad = [value for value in spec.values if isinstance(value, bool) or not isinstance(value, (int, float))
               or not math.isfinite(value) or (resolved.kind == "integer" and value != int(value))]
        if bad:
            return f"takes {'whole ' if resolved.kind == 'integer' else ''}numbers: got {', '.join(map(repr, bad))}"
    elif resolved.kind == "integer":
        bad = [bound for bound in (spec.low, spec.high) if bound is not None and bound != int(bound)]
        if bad:
            return f"takes whole numbers, so its range must be whole numbers: got {', '.join(f'{b:g}' for b in bad)}"
    return None


def policy_count(spec: SweepSpec) -> int:
    """Combinations of the levers' values (1 without levers)."""
    return math.prod(len(p.values) if p.values is not None else (p.levels or 1) for p in spec.levers.values())


def design_runs(spec: SweepSpec) -> int:
    """Points the design draws for one policy (without the base and swing points); one future without parameters."""
    dimensions = len(spec.parameters)
    method = spec.design.method
    if not spec.parameters:
        return 1
    if method == "grid":
        return math.prod(len(p.values) if p.values is not None else (p.levels or 1) for p in spec.parameters.values())
    if method == "list":
        return len(next(iter(spec.parameters.values())).values or ())
    if method == "lhs":
        return spec.design.points or 0
    if method == "sobol":
        return (spec.design.points or 0) * (dimensions + 2)
    return (spec.design.trajectories or 0) * (dimensions + 1)


def parse_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; a ScenarioError naming the file, the field, the value and what was expected."""
    path = Path(path)
    raw = parse_yaml(read_text(path, "sweep file"), str(path))
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of sweep fields at top level, got {type(raw).__name__}")
    return sweep_from_dict(raw, str(path))


def sweep_from_dict(raw: dict[str, Any], source: str) -> SweepSpec:
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_sweep_error(exc, source)) from None


def format_sweep_error(exc: ValidationError, source: str) -> str:
    """One line per problem: file, field path, rule, value received (unknown keys with the sweep's known ones)."""
    lines = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        path = ".".join(str(part) for part in loc) or "<top level>"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            owner = _owner(loc[:-1])
            known = f" (known: {', '.join(owner.model_fields)})" if owner else ""
            lines.append(f"{source}: '{path}' is not a known field{known}")
        elif error["type"] == "missing":
            lines.append(f"{source}: '{path}' is required but missing")
        elif not loc:
            lines.append(f"{source}: {message}")
        else:
            value = error.get("input")
            shown = repr(value) if not isinstance(value, (dict, list)) else json.dumps(value, default=str)[:120]
            lines.append(f"{source}: '{path}' {message[0].lower() + message[1:]}: got {shown}")
    return "\n".join(lines)


def _owner(loc: list[Any]) -> type[StrictModel] | None:
    """The sweep model holding the field at ``loc`` (a parameter's entry is a ParameterSpec)."""
    model: type[StrictModel] = SweepSpec
    for depth, part in enumerate(loc):
        if model is SweepSpec and part in ("parameters", "levers"):
            if depth + 1 == len(loc):
                return None
            model = ParameterSpec
            continue
        sections: dict[str, type[StrictModel]] = {"design": DesignSpec, "satisficing": SatisficingSpec}
        nested = sections.get(str(part))
        if model is SweepSpec and nested:
            model = nested
        elif model is not ParameterSpec:
            return None
    return model
