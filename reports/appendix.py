"""The report's appendix: the strategies in plain words, every assumption with its source, and provenance.

Assumptions are read off the validated Scenario model itself — each field's pydantic
description carries its unit and range — so a field added to ``simulation/scenario/spec.py`` shows up
in the next report without touching this module. Each value says where it came from (the
scenario file, a ``--set`` override, or the model's default) and, where the scenario cites one,
the published source. Only the results folder is read: which keys the scenario file set was
recorded in provenance when the results were computed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from pydantic import BaseModel

from reports.numbers import number, plain
from simulation.scenario.spec import ChannelSpec, Scenario
from simulation.scenario.steps import RiskNote

if TYPE_CHECKING:
    import pandas as pd

SOURCE_FILE = "scenario file"
SOURCE_OVERRIDE = "--set"
SOURCE_DEFAULT = "default"
SOURCE_DATA = "calibrated from the data"
SOURCE_UNKNOWN = "file or default"


@dataclass(frozen=True)
class Assumption:
    path: str
    value: str
    description: str
    source: str
    citation: str = ""


@dataclass(frozen=True)
class AssumptionSection:
    title: str
    note: str
    rows: list[Assumption] = field(default_factory=list)


def format_value(value: Any) -> str:
    """A parameter value as the appendix prints it: numbers in %g, lists comma-separated."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (float, int)):
        return plain(value, 6)  # never '1e+06' on a board page
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
    data_paths: frozenset[str] = frozenset()  # set from the company's own data (calibration), under --set

    def of(self, path: str) -> str:
        if any(path == override or path.startswith(override + ".") for override in self.override_paths):
            return SOURCE_OVERRIDE  # the value itself, or a whole section, was set with --set
        if path in self.data_paths:
            return SOURCE_DATA
        if self.file_paths is None:
            return SOURCE_UNKNOWN
        return SOURCE_FILE if path in self.file_paths else SOURCE_DEFAULT


def parameter_sources(provenance: Mapping[str, Any]) -> ParameterSources:
    """Where each value came from, from what provenance recorded: the file's own keys and the --set paths."""
    def paths(overrides: Iterable[Any]) -> frozenset[str]:
        return frozenset(str(o).partition("=")[0].strip() for o in overrides)

    keys = provenance.get("scenario_file_keys")
    data = (provenance.get("starting_book") or {}).get("overrides", [])
    return ParameterSources(frozenset(keys) if isinstance(keys, list) else None,
                            paths(provenance.get("overrides", [])), paths(data))


def _section_rows(prefix: str, model: BaseModel, sources: ParameterSources,
                  citations: Mapping[str, str]) -> list[Assumption]:
    return [
        Assumption(f"{prefix}.{name}", format_value(getattr(model, name)), info.description or "",
                   sources.of(f"{prefix}.{name}"), citations.get(f"{prefix}.{name}", ""))
        for name, info in type(model).model_fields.items()
    ]


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def assumption_sections(scenario: Scenario, sources: ParameterSources) -> list[AssumptionSection]:
    """The scenario's parameters grouped by section, in the model's order (strategies apart)."""
    general = AssumptionSection("General", "Company, currency and horizon of the scenario.")
    sections = [general]
    citations = scenario.citations
    for name, info in Scenario.model_fields.items():
        if name in ("strategies", "citations", "uncertainties", "levers"):  # with the options and in Robustness
            continue
        value = getattr(scenario, name)
        if isinstance(value, BaseModel):
            title = name.replace("_", " ").capitalize()
            sections.append(AssumptionSection(title, _first_line(type(value).__doc__),
                                              _section_rows(name, value, sources, citations)))
        elif name == "channels":
            rows = [
                row
                for channel, spec in value.items()
                for row in _section_rows(f"channels.{channel}", spec, sources, citations)
            ]
            sections.append(AssumptionSection("Channels", "Service channels and their cost per contact "
                                              f"({', '.join(ChannelSpec.model_fields)}).", rows))
        else:
            general.rows.append(Assumption(name, format_value(value), info.description or "", sources.of(name),
                                           citations.get(name, "")))
    return sections


@dataclass(frozen=True)
class StrategyRow:
    label: str
    name: str  # the id, for analysts matching the report to the scenario file
    description: str
    source: str
    steps: list[str]
    risks: list[RiskNote]  # one per kind of action the option takes, in step order
    reach: list[str] = field(default_factory=list)  # per step: today's customers it reaches in the first future


def strategy_steps(scenario: Scenario, name: str, money: Callable[[float], str]) -> list[str]:
    """A strategy's steps in plain words; a ladder's later steps say whom they reach and when."""
    steps = scenario.strategies[name].steps
    if not steps:
        return ["Nothing changes: every customer is kept and served alike."]
    lines = [steps[0].plain(money)]
    for previous, step in itertools.pairwise(steps):
        text = step.plain(money)
        lines.append(f"{previous.review_months} months later, among those the step before reached: "
                     f"{text[0].lower()}{text[1:]}")
    return lines


def strategy_rows(scenario: Scenario, compared: Iterable[str], money: Callable[[float], str],
                  reach: pd.DataFrame | None = None) -> list[StrategyRow]:
    """The compared strategies, in the order given, with label, id, description, source and steps; with ``reach``
    (the results' table), how many of today's customers each step reaches in the first simulated future."""
    return [
        StrategyRow(scenario.label(name), name, scenario.strategies[name].description, _source(scenario, name),
                    strategy_steps(scenario, name, money), strategy_risks(scenario, name), _reach(reach, name))
        for name in compared
    ]


def _reach(reach: pd.DataFrame | None, name: str) -> list[str]:
    """Each step's count of today's customers in replication 0, as ``clientele targets`` lists them."""
    if reach is None or reach.empty:
        return []
    mine = reach[(reach["strategy"] == name) & (reach["replication"] == 0)].sort_values("step")
    return [f"Reaches {row.within_horizon:,} of today's customers by the horizon" +
            (f", {row.first_review:,} at the first review" if row.first_review else "") for row in mine.itertuples()]


def _source(scenario: Scenario, name: str) -> str:
    """Where the option comes from; for settings a search chose, the search too; the settings the scenario declares
    open to choice (its ``levers:``)."""
    strategy = scenario.strategies[name]
    parts = [strategy.source] if strategy.source else []
    if strategy.tuned is not None:
        parts.append(f"Settings found by search ({strategy.tuned.search}: the best of {strategy.tuned.trials:,} tried, "
                     f"seed {strategy.tuned.seed})")
    prefix = f"strategies.{name}.steps."
    levers = [(path.removeprefix(prefix).split("."), lever) for path, lever in scenario.levers.items()
              if path.startswith(prefix)]
    if levers:
        parts.append("Settings open to choice: " + "; ".join(
            f"step {int(where[0]) + 1} {' '.join(where[1:]).replace('_', ' ')}, "
            + (", ".join(plain(value) for value in lever.values) if lever.values is not None
               else f"{plain(lever.low)} to {plain(lever.high)}") for where, lever in levers))
    return ". ".join(parts)


def strategy_risks(scenario: Scenario, name: str) -> list[RiskNote]:
    """What the option's kinds of action risk beyond the numbers (conduct, regulation, reputation), each once."""
    return list(dict.fromkeys(step.risk() for step in scenario.strategies[name].steps))


@dataclass(frozen=True)
class FitRow:
    model: str
    what: str  # what the model describes
    parameters: str  # 'r 0.390 (± 0.020), alpha 7.71 (± 0.59)'
    fit: str  # observations, log-likelihood, starting points at the optimum


FIT_MEANINGS = {"BG/NBD": "repeat purchases and dropout", "Gamma-Gamma": "spend per purchase",
                "sBG": "contract renewals (shifted beta-geometric)"}


def calibration_rows(provenance: Mapping[str, Any]) -> list[FitRow]:
    """The models fitted to the company's own data when the run started from them (none for a synthetic book)."""
    fits = (provenance.get("starting_book") or {}).get("fits") or {}
    rows = []
    for fit in fits.values():
        if not isinstance(fit, Mapping) or "parameters" not in fit:
            continue
        errors = fit.get("standard_errors", {})
        parameters = ", ".join(
            f"{name} {plain(value)}" + (f" (± {plain(errors[name], 2)})" if name in errors else "")
            for name, value in fit["parameters"].items())
        starts = (f"; {fit['starts_at_optimum']} of {fit['starts']} starting points agree"
                  if "starts" in fit and "starts_at_optimum" in fit else "")
        rows.append(FitRow(str(fit.get("model", "")), FIT_MEANINGS.get(str(fit.get("model")), ""), parameters,
                           f"{format_value(fit.get('observations'))} customers, log-likelihood "
                           f"{number(fit.get('log_likelihood'), 1)}{starts}"))
    return rows


def calibration_notes(provenance: Mapping[str, Any], parameter_uncertainty: bool) -> list[str]:
    """What the fits left out of a log, and how the simulation used them: sentences under the fits table."""
    from simulation.data.calibration.notes import log_notes

    fits = (provenance.get("starting_book") or {}).get("fits") or {}
    spend = fits.get("spend_model") or {}
    counts = {**(fits.get("log") or {}), "left_out_of_spend_model": spend}
    if spend:
        counts["spend_model_customers"] = spend.get("customers", 0)
    notes = log_notes(counts)
    if fits:
        notes.append("In every simulated future each of today's customers is drawn from what the data say about them "
                     "(still a customer or not, their own purchase and dropout rates, their spend)"
                     + (" and the models' parameters from their sampling distribution, so the ranges of absolute "
                        "figures include what the data cannot pin down." if parameter_uncertainty else
                        "; the models' parameters are held at their estimates (calibration.parameter_uncertainty: no)."))
    return notes


def file_rows(files: list[dict[str, str]]) -> list[tuple[str, str]]:
    """One row per input file: its SHA-256 and name exactly as ``sha256sum FILE`` prints them (two spaces between)."""
    return [(f"SHA-256 of the {entry['role']}", f"{entry['sha256']}  {entry['path']}") for entry in files]


def provenance_rows(provenance: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What makes the run reproducible, as (label, value) rows; package versions come last."""
    input_data = provenance.get("input_data", {})
    if input_data.get("path"):
        data_text = f"{input_data['kind']}: {input_data['path']}"
    else:
        data_text = f"{input_data.get('kind', 'synthetic')} population drawn from the seed"
    workers = provenance.get("workers")
    workers_text = "not recorded" if workers is None else f"{workers} (replications run in parallel; same numbers on any count)"
    rows = [
        ("Scenario", str(provenance.get("scenario_name", ""))),
        ("Scenario file", str(provenance.get("scenario_file", ""))),
        *file_rows(provenance.get("input_files", [])),
        ("Overrides (--set)", ", ".join(provenance.get("overrides", [])) or "none"),
        ("Customer data", data_text),
        ("Customers at start", format_value(provenance.get("customers_at_start"))),
        ("Root seed", str(provenance.get("seed", ""))),
        ("Replications per strategy", format_value(provenance.get("replications"))),
        ("Strategies", ", ".join(provenance.get("strategies", []))),
        ("Worker processes", workers_text),
        ("Code version", str(provenance.get("code_version", ""))),
        ("Simulation run time", f"{number(provenance.get('wall_time_seconds', 0.0), 1)} s"),
        ("Results computed (UTC)", str(provenance.get("created_at", ""))),
    ]
    rows += [(f"Package {name}", version) for name, version in sorted(provenance.get("packages", {}).items())]
    return rows
