"""The report's appendix: every assumption with its unit and source, and the run's provenance.

Assumptions are read off the validated Scenario model itself — each field's pydantic
description carries its unit and range — so a field added to ``simulation/scenario.py`` shows up
in the next report without touching this module. Each value says where it came from: the
scenario file, a ``--set`` override, or the model's default.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from pydantic import BaseModel

from simulation.scenario import ChannelSpec, Scenario
from simulation.strategy_spec import StrategySpec

SOURCE_FILE = "scenario file"
SOURCE_OVERRIDE = "--set"
SOURCE_DEFAULT = "default"
SOURCE_UNKNOWN = "file or default"


@dataclass(frozen=True)
class Assumption:
    path: str
    value: str
    description: str
    source: str


@dataclass(frozen=True)
class AssumptionSection:
    title: str
    note: str
    rows: list[Assumption] = field(default_factory=list)


def format_value(value: Any) -> str:
    """A parameter value as the appendix prints it: numbers in %g, lists comma-separated."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) >= 1e4 else f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return ", ".join(format_value(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {format_value(item)}" for key, item in value.items())
    if value is None:
        return "—"
    return str(value)


def _paths_in(raw: Any, prefix: str = "") -> set[str]:
    """Every dotted path present in a raw YAML mapping, sections included."""
    paths: set[str] = set()
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.add(path)
            paths |= _paths_in(value, path)
    return paths


@dataclass(frozen=True)
class ParameterSources:
    """Where each parameter's value came from: a ``--set`` override, the scenario file or the default.

    ``file_paths`` is None when the scenario file could not be read back (moved since the run):
    the appendix then says 'file or default' rather than guess.
    """

    file_paths: frozenset[str] | None
    override_paths: frozenset[str]

    def of(self, path: str) -> str:
        if any(path == override or path.startswith(override + ".") for override in self.override_paths):
            return SOURCE_OVERRIDE  # the value itself, or a whole section, was set with --set
        if self.file_paths is None:
            return SOURCE_UNKNOWN
        return SOURCE_FILE if path in self.file_paths else SOURCE_DEFAULT


def parameter_sources(scenario_path: str | Path | None, overrides: Iterable[str]) -> ParameterSources:
    """Read the scenario file's own keys and the override paths, to tell values from defaults."""
    override_paths = frozenset(override.partition("=")[0].strip() for override in overrides)
    file_paths: frozenset[str] | None = None
    if scenario_path is not None:
        try:
            raw = yaml.safe_load(Path(scenario_path).read_text(encoding="utf-8")) or {}
            file_paths = frozenset(_paths_in(raw))
        except (OSError, yaml.YAMLError):
            file_paths = None
    return ParameterSources(file_paths, override_paths)


def _section_rows(prefix: str, model: BaseModel, sources: ParameterSources) -> list[Assumption]:
    return [
        Assumption(f"{prefix}.{name}", format_value(getattr(model, name)), info.description or "",
                   sources.of(f"{prefix}.{name}"))
        for name, info in type(model).model_fields.items()
    ]


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def assumption_sections(scenario: Scenario, sources: ParameterSources) -> list[AssumptionSection]:
    """The scenario's parameters grouped by section, in the model's order (strategies apart)."""
    general = AssumptionSection("General", "Company, currency and horizon of the scenario.")
    sections = [general]
    for name, info in Scenario.model_fields.items():
        if name == "strategies":
            continue
        value = getattr(scenario, name)
        if isinstance(value, BaseModel):
            title = name.replace("_", " ").capitalize()
            sections.append(AssumptionSection(title, _first_line(type(value).__doc__), _section_rows(name, value, sources)))
        elif name == "channels":
            rows = [
                row
                for channel, spec in value.items()
                for row in _section_rows(f"channels.{channel}", spec, sources)
            ]
            sections.append(AssumptionSection("Channels", "Service channels and their cost per contact "
                                              f"({', '.join(ChannelSpec.model_fields)}).", rows))
        else:
            general.rows.append(Assumption(name, format_value(value), info.description or "", sources.of(name)))
    return sections


@dataclass(frozen=True)
class StrategyRow:
    name: str
    description: str
    source: str
    steps: list[str]


def _target_text(target: BaseModel) -> str:
    conditions = []
    for name, value in target.model_dump(exclude_none=True).items():
        if name == "max_monthly_profit":
            conditions.append(f"monthly profit < {format_value(value)}")
        elif name == "max_lifetime_value":
            conditions.append(f"lifetime value < {format_value(value)}")
        elif name == "min_contacts":
            conditions.append(f"contacts/month ≥ {format_value(value)}")
        else:
            conditions.append(f"{name} {format_value(value)}")
    return "; ".join(conditions) or "everyone"


def step_text(number: int, step: Any) -> str:
    """One ladder step in a line: action, target, parameters and review period."""
    values = step.model_dump()
    parameters = ", ".join(
        f"{name} {format_value(value)}"
        for name, value in values.items()
        if name not in ("action", "target", "review_months")
    )
    return (f"{number}. {values['action']} — target: {_target_text(step.target)}; "
            f"{parameters}; review after {values['review_months']} months")


def strategy_rows(strategies: Mapping[str, StrategySpec], compared: Iterable[str]) -> list[StrategyRow]:
    """The compared strategies with their description, source and steps, in scenario order."""
    wanted = set(compared)
    return [
        StrategyRow(name, spec.description, spec.source,
                    [step_text(number, step) for number, step in enumerate(spec.steps, start=1)]
                    or ["no steps: everyone kept, everyone served alike"])
        for name, spec in strategies.items()
        if name in wanted
    ]


def provenance_rows(provenance: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What makes the run reproducible, as (label, value) rows; package versions come last."""
    input_data = provenance.get("input_data", {})
    if input_data.get("path"):
        data_text = f"{input_data['kind']}: {input_data['path']} (SHA-256 {input_data.get('sha256', '?')})"
    else:
        data_text = f"{input_data.get('kind', 'synthetic')} population drawn from the seed"
    workers = provenance.get("workers")
    rows = [
        ("Scenario", str(provenance.get("scenario_name", ""))),
        ("Scenario file", str(provenance.get("scenario_file", ""))),
        ("Scenario hash (SHA-256)", str(provenance.get("scenario_hash", ""))),
        ("Overrides (--set)", ", ".join(provenance.get("overrides", [])) or "none"),
        ("Customer data", data_text),
        ("Customers at start", format_value(provenance.get("customers_at_start"))),
        ("Root seed", str(provenance.get("seed", ""))),
        ("Replications per strategy", format_value(provenance.get("replications"))),
        ("Strategies", ", ".join(provenance.get("strategies", []))),
        ("Worker processes", "all cores" if workers is None else str(workers)),
        ("Code version", str(provenance.get("code_version", ""))),
        ("Simulation run time", f"{float(provenance.get('wall_time_seconds', 0.0)):.1f} s"),
        ("Results computed (UTC)", str(provenance.get("created_at", ""))),
    ]
    rows += [(f"Package {name}", version) for name, version in sorted(provenance.get("packages", {}).items())]
    return rows
