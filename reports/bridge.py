"""This quarter against last quarter: the recommendation then and now, and a bridge of the option's value.

``value_bridge(previous, current, ...)`` reads last quarter's results folder and this quarter's,
and explains the change in the expected value (the scenario's objective) of this quarter's
recommended option as a chain of runs, each changing one thing, on this quarter's seed and
replications (common random numbers: each step's difference is the change it makes):

1. last quarter's run, recomputed by this code on this quarter's seed — *the rest*: what a code
   version and a different seed or replication count move;
2. with this quarter's assumptions (the scenario as run, compared path by path; the values the
   data set and the start date left out) — *changed assumptions*, each change named;
3. starting a quarter later — *the quarter that passed*;
4. on this quarter's data — *new data*: this quarter's own run.

The parts add up to the change by construction (each step's value is the next one's start). A
previous folder of another scenario, or whose data file is gone or changed, is said to be so,
and nothing is compared. Everything runs before the notebook, which only reads ``bridge.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reports.decision import board_decision
from simulation.core.files import file_sha256, write_atomically
from simulation.core.parameter_paths import set_path
from simulation.data.sources import PopulationSource, calibrated_paths, overlaps, start_run
from simulation.model.outcomes import outcome
from simulation.runs.results import Results, load_results
from simulation.scenario.spec import Scenario, scenario_from_dict

BRIDGE_FILE = "bridge.json"
NOT_ASSUMPTIONS = ("start_date", "report", "citations", "uncertainties", "levers")  # not what the model assumes


@dataclass(frozen=True)
class Change:
    path: str
    then: Any
    now: Any


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """A scenario dump as dotted path → value, lists of steps kept whole (a step is one assumption)."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, inner in value.items():
            found |= leaves(inner, f"{prefix}.{key}" if prefix else str(key))
        return found or {prefix: {}}
    return {prefix: value}


def assumption_changes(then: Scenario, now: Scenario, set_by_data: list[str]) -> list[Change]:
    """Every assumption whose value differs between the two scenarios as run, by path; the values the data set,
    the start date and what only the report reads left out."""
    before, after = leaves(then.model_dump(mode="json")), leaves(now.model_dump(mode="json"))
    changes = []
    for path in sorted(set(before) | set(after)):
        if path.split(".")[0] in NOT_ASSUMPTIONS or overlaps(path, set_by_data):
            continue
        if before.get(path) != after.get(path):
            changes.append(Change(path, before.get(path), after.get(path)))
    return changes


def _with_changes(base: Scenario, changes: list[Change], source: str) -> Scenario:
    raw = base.model_dump(mode="json")
    for change in changes:
        if change.now is None:  # a strategy or channel removed: drop its entry
            parent, _, key = change.path.rpartition(".")
            node: Any = raw
            for part in parent.split("."):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node.pop(key, None)
        else:
            set_path(raw, change.path, change.now)
    return scenario_from_dict(raw, source=source)


def _value(scenario: Scenario, source: PopulationSource, option: str, objective: str, seed: int, replications: int,
           workers: int | None) -> float:
    """The option's expected value on ``scenario`` as run: the values last quarter's data set are kept, not set again
    (the data's changes, such as the market scaled to the book, would otherwise apply twice)."""
    from simulation.analysis.summary import horizon_values
    from simulation.runs.experiment import simulate

    start = start_run(scenario, source, seed, explicit=calibrated_paths(source, []))
    tables = simulate(start.scenario, start.book, {option: start.scenario.strategies[option]}, replications, seed,
                      workers)
    return float(horizon_values(tables["quarters"], objective)[option].mean())


def _previous_source(previous: Results, current_source: PopulationSource) -> tuple[PopulationSource | None, str]:
    """Last quarter's data as it was — found by its SHA-256 where provenance names it (relative to the working
    folder), beside this quarter's data file or beside last quarter's report — or why it cannot be had."""
    data = previous.provenance.get("input_data") or {}
    if data.get("kind", "synthetic") == "synthetic":
        return PopulationSource(), ""
    recorded = Path(str(data.get("path", "")))
    places = [recorded, *([current_source.path.parent / recorded.name] if current_source.path else []),
              previous.folder.parent / recorded.name, previous.folder.parent.parent / recorded.name]
    found = next((place for place in places if place.is_file() and file_sha256(place) == data.get("sha256")), None)
    if found is None:
        return None, (f"last quarter's data file {recorded.name} (SHA-256 {str(data.get('sha256'))[:12]}…) is no longer "
                      f"there: not where its provenance names it, beside this quarter's data or beside last quarter's "
                      f"report")
    columns = data.get("columns")
    transactions = data["kind"] == "transactions"
    return PopulationSource.from_paths(None if transactions else found, found if transactions else None, columns), ""


def value_bridge(previous_folder: str | Path, current: Results, current_source: PopulationSource,
                 workers: int | None = None) -> dict[str, Any]:
    """The record ``bridge.json`` holds: comparable or why not, the recommendation then and now, and the parts."""
    previous = load_results(Path(previous_folder))
    then, now = previous.scenario, current.scenario
    record: dict[str, Any] = {"previous": str(previous_folder), "then_quarter": _quarter(then.start_date),
                              "now_quarter": _quarter(now.start_date), "objective": now.report.objective}
    record["then_recommended"] = recommended_option(previous.quarters, then)
    record["now_recommended"] = recommended_option(current.quarters, now)
    if then.name != now.name:
        return {**record, "comparable": False,
                "why_not": f"last quarter's report is of another scenario ({then.name!r}, this one {now.name!r})"}
    if then.start_date >= now.start_date:
        return {**record, "comparable": False,
                "why_not": f"last quarter's report starts on {then.start_date}, not before this one ({now.start_date})"}
    option = record["now_recommended"]["leaders"][0] if record["now_recommended"]["leaders"] else None
    if option is None or option not in then.strategies:
        return {**record, "comparable": False, "why_not": "the option recommended now was not among last quarter's"}
    source, problem = _previous_source(previous, current_source)
    if source is None:
        return {**record, "comparable": False, "why_not": problem}
    objective = now.report.objective
    seed, replications = int(current.provenance["seed"]), int(current.provenance["replications"])
    from simulation.analysis.summary import horizon_values

    value_then = float(horizon_values(previous.quarters, objective)[option].mean())
    value_now = float(horizon_values(current.quarters, objective)[option].mean())
    set_by_data = sorted(set(calibrated_paths(source, [])) | set(calibrated_paths(current_source, [])))
    changes = assumption_changes(then, now, set_by_data)
    recomputed = _value(then, source, option, objective, seed, replications, workers)
    assumed = _with_changes(then, changes, "last quarter's scenario with this quarter's assumptions")
    with_assumptions = _value(assumed, source, option, objective, seed, replications, workers)
    later = assumed.model_copy(update={"start_date": now.start_date})
    a_quarter_later = _value(later, source, option, objective, seed, replications, workers)
    parts = [
        {"part": "the rest: code version, seed and replications", "value": recomputed - value_then},
        {"part": "changed assumptions", "value": with_assumptions - recomputed,
         "changes": [{"path": c.path, "then": c.then, "now": c.now} for c in changes]},
        {"part": "the quarter that passed", "value": a_quarter_later - with_assumptions},
        {"part": "new data", "value": value_now - a_quarter_later},
    ]
    code_then, code_now = previous.provenance.get("code_version"), current.provenance.get("code_version")
    record["forecast"] = forecast_against_actual(previous, now.start_date, current_source)
    return {**record, "comparable": True, "option": option, "value_then": value_then, "value_now": value_now,
            "parts": parts, "code_then": code_then, "code_now": code_now,
            "seed_then": previous.provenance.get("seed"), "seed_now": seed}


FORECAST_MEASURES = (("revenue", "Revenue"), ("purchases", "Purchases (days a customer bought)"))


def forecast_against_actual(previous: Results, now_start: Any, current_source: PopulationSource) -> list[dict[str, Any]]:
    """Last quarter's forecast for the quarter just ended — its baseline's, the business as it ran while the board
    decided — against what this quarter's log shows for those three months; empty without a log that covers them."""
    import datetime as dt

    import numpy as np

    from simulation.data.ingest import read_transactions

    if current_source.kind != "transactions" or current_source.path is None:
        return []
    then = previous.scenario
    start = then.start_date
    end_month = start.month + 3
    end = dt.date(start.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    log = read_transactions(current_source.path, current_source.columns)
    dates = pd.to_datetime(log["date"]).dt.date
    if dates.max() < end - dt.timedelta(days=1) or end > now_start:
        return []
    window = log[(dates >= start) & (dates < end)]
    days = window.groupby(["customer_id", dates[window.index]])["amount"].sum()
    actual = {"revenue": float(window["amount"].sum()), "purchases": float((days >= 0).sum())}
    baseline = then.baseline
    first = previous.quarters[(previous.quarters["strategy"] == baseline) & (previous.quarters["quarter"] == 1)]
    rows = []
    for name, label in FORECAST_MEASURES:
        unit = outcome(name).unit
        values = first[name].to_numpy(dtype=float)
        low, high = (float(v) for v in np.quantile(values, [0.05, 0.95]))
        rows.append({"measure": name, "label": label, "unit": unit, "forecast": float(values.mean()), "low": low,
                     "high": high, "actual": actual[name], "inside": bool(low <= actual[name] <= high),
                     "strategy": baseline, "from": start.isoformat(), "to": (end - dt.timedelta(days=1)).isoformat()})
    return rows


def _quarter(day: Any) -> str:
    """The quarter a simulation starts in, as the report's cover names it: 2026Q4."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def recommended_option(quarters: pd.DataFrame, scenario: Scenario) -> dict[str, Any]:
    """The decision rule's answer on a run: the leaders (one: a recommendation; several: a choice) and their labels."""
    decision = board_decision(quarters, scenario)
    return {"leaders": list(decision.leaders), "labels": [scenario.label(name) for name in decision.leaders],
            "recommended": decision.recommended}


def write_bridge(folder: Path, record: dict[str, Any]) -> None:
    write_atomically(folder / BRIDGE_FILE, json.dumps(record, indent=2, default=str).encode())


def read_bridge(folder: Path) -> dict[str, Any] | None:
    path = folder / BRIDGE_FILE
    return json.loads(path.read_text()) if path.is_file() else None
