"""What a sweep report shows, read from a sweep's store: one call per notebook cell, one section each.

``SweepReport.open`` reads the store through ``analyze_sweep`` — nothing else: no sweep file, no
scenario file, no simulation. Each method renders one section through its template in
``templates/sections/sweep_*.html.j2``; the numbers are computed here and in
``simulation.analysis.sweep``, the words are the templates'. Strategies appear under their
labels (the store's ``strategy_labels``); their ids only in the provenance appendix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from reports import figures, sweep_figures
from reports.appendix import file_rows
from reports.fragments import Fragment, ReportInfo, render_fragment
from reports.kinds import KINDS, ReportKind
from reports.numbers import NBSP, MoneyFormat, count, date_text, number, plain, points, share
from simulation.analysis.discovery import Condition, FlipBox
from simulation.analysis.sweep import SweepAnalysis, analyze_sweep
from simulation.model.outcomes import COUNTED_UNITS, sweep_outcomes
from simulation.runs.sweeps.designs import ROLE_BASE
from simulation.runs.sweeps.store import LOG_FOLDER

# The analysed outcomes as the board reads them, and how each is written (their ``Sweep`` declarations).
OUTCOME_TITLES = {o.name: o.sweep.title for o in sweep_outcomes() if o.sweep}
OUTCOME_NAMES = {o.name: o.sweep.in_words for o in sweep_outcomes() if o.sweep}
OUTCOME_UNITS = {o.name: o.unit for o in sweep_outcomes()}
HEAT_MAP_CELLS = 5  # cells per range axis at most; fewer when the sweep has few points


@dataclass(frozen=True)
class Axis:
    """One parameter as a chart axis: each design point's position, the cell edges and named ticks for a list."""

    parameter: str
    title: str
    positions: np.ndarray
    edges: np.ndarray
    ticks: list[tuple[float, str]] | None  # a list of values: one cell and one tick per value


class SweepReport:
    """The report of one sweep store; each method returns what one notebook cell shows."""

    def __init__(self, analysis: SweepAnalysis, folder: Path, kind: ReportKind, quarter: str,
                 output_dir: Path) -> None:
        self.analysis = analysis
        self.folder = folder
        self.kind = kind
        self.quarter = quarter
        self.output_dir = output_dir
        self.manifest = analysis.manifest
        self.labels: dict[str, str] = {name: self.manifest.get("strategy_labels", {}).get(name, name)
                                       for name in analysis.strategies}
        self.recommended = analysis.recommended
        self.runner_up = self._runner_up()
        baseline = self.manifest.get("baseline")
        self.baseline = baseline if baseline in analysis.strategies else analysis.strategies[0]
        leaders = [s for s in (self.recommended, self.runner_up) if s]
        self.colours = figures.decision_colours([self.label(s) for s in analysis.strategies],
                                                [self.label(s) for s in leaders], self.label(self.baseline))
        decision = analysis.decision_outcome
        amounts = pd.concat([analysis.point_outcomes[name] for name in ("npv_plus_book", "npv", "cumulative_profit")
                             if name in analysis.point_outcomes] + [pd.Series([0.0])])
        self.money = MoneyFormat.for_amounts(amounts, str(self.manifest.get("currency", "")))
        self.decision_title = OUTCOME_TITLES.get(decision, decision)
        self.decision_name = OUTCOME_NAMES.get(decision, decision)  # in a sentence
        self.ranked_parameters = self._influence()

    @classmethod
    def open(cls, results_dir: str | Path, *, kind: str, quarter: str, output_dir: str | Path) -> "SweepReport":
        """Read and analyse the sweep store at ``results_dir`` for a report of ``kind``."""
        return cls(analyze_sweep(results_dir), Path(results_dir), KINDS[kind], quarter, Path(output_dir))

    # ---- words and numbers shared by every section

    def label(self, strategy: str) -> str:
        return self.labels.get(strategy, strategy)

    def parameter_title(self, path: str) -> str:
        """A parameter's short name for charts and sentences: its plain-words label where the schema declares one
        ("How fast we win new customers"); a lever as its strategy and step ("Divestment ladder, step 2:
        surcharge"); else its dotted path in words ("Word of mouth: second hand")."""
        label = (self.manifest["parameters"].get(path) or {}).get("label")
        if label:
            return str(label)
        parts = path.split(".")
        if len(parts) >= 5 and parts[0] == "strategies" and parts[2] == "steps" and parts[3].isdigit():
            strategy = self.manifest.get("strategy_labels", {}).get(parts[1], parts[1])
            return f"{strategy}, step {int(parts[3]) + 1}: {' '.join(parts[4:]).replace('_', ' ')}"
        section, _, name = path.rpartition(".")
        words = name.replace("_", " ")
        return f"{section.replace('_', ' ').replace('.', ', ').capitalize()}: {words}" if section else words.capitalize()

    def parameter_meaning(self, path: str) -> str:
        """What the parameter is, from the scenario schema's description (with its unit)."""
        return str(self.manifest["parameters"][path].get("description") or "")

    def value_text(self, path: str, value: Any) -> str:
        """A parameter's value as a person writes it: '20,000', '0.0003', 'yes' — never '2e+04' or 'True'."""
        return plain(value)

    def formatter(self, outcome: str, signed: bool = False) -> Callable[[float], str]:
        unit = OUTCOME_UNITS.get(outcome, "number")
        if unit == "currency":
            return lambda value: self.money(value, signed)
        if unit == "share":
            return lambda value: points(value * 100) if signed else share(value, 2)
        if unit in COUNTED_UNITS:
            return lambda value: count(value, signed)
        return lambda value: number(value, 2, signed)

    def axis_format(self, outcome: str) -> Callable[[float], str]:
        unit = OUTCOME_UNITS.get(outcome, "number")
        if unit == "currency":
            return self.money.axis
        if unit == "share":
            def in_points(value: float, decimals: int | None = None) -> str:
                return number(value * 100, 2 if decimals is None else decimals, True)

            return in_points

        def plain(value: float, decimals: int | None = None) -> str:
            return number(value, 0 if decimals is None else decimals)

        return plain

    def _axis_unit(self, outcome: str) -> str:
        """The unit of an outcome's chart axis: the report's money unit, percentage points or what is counted."""
        unit = OUTCOME_UNITS.get(outcome, "")
        return {"currency": self.money.unit, "share": "percentage points"}.get(unit, unit if unit in COUNTED_UNITS else "")

    def _render(self, template: str, **context: Any) -> Fragment:
        return render_fragment(template, report=self, money=self.money, share=share, count=count, number=number,
                               plain=plain, NBSP=NBSP, **context)

    def _figure(self, name: str, figure: Any, caption: str, alt: str) -> Fragment:
        return figures.chart_fragment(self.output_dir, name, figure, caption, alt)

    @property
    def design_points(self) -> int:
        return int(self.analysis.regret["point_id"].nunique()) if not self.analysis.regret.empty else 0

    def _runner_up(self) -> str | None:
        """The strategy best most often after the recommended one (then the higher mean decision outcome)."""
        table = self.analysis.robustness
        if table.empty:
            return None
        means = self.analysis.point_outcomes.groupby("strategy")[self.analysis.decision_outcome].mean()
        ranked = table.assign(mean=table["strategy"].map(means)).sort_values(
            ["share_best", "mean"], ascending=[False, False], kind="stable")
        others = [str(s) for s in ranked["strategy"] if s != self.recommended and s not in self.analysis.tied]
        return others[0] if others else None

    def _influence(self) -> list[str]:
        """Parameters from the most to the least influential on the decision: the index (total Sobol, else Morris
        μ*, else the one-at-a-time swing) of the recommended option's lead over the best other option, computed in
        ``analyze_sweep``; the design's order breaks ties. ``self.influential`` keeps those distinguishable from zero."""
        analysis = self.analysis
        order = {name: index for index, name in enumerate(analysis.parameters)}
        table = analysis.decision_sensitivity
        if table.empty:
            self.influential: list[str] = []
            self.influence_method = ""
            return list(analysis.parameters)
        score = table.set_index("parameter")["index"].astype(float).fillna(0.0)
        zero = table.set_index("parameter")["zero"].astype(bool)
        ranked = sorted(analysis.parameters, key=lambda name: (bool(zero.get(name, True)),
                                                               -float(score.get(name, 0.0)), order[name]))
        self.influential = [name for name in ranked if not bool(zero.get(name, True))]
        self.influence_method = str(table["method"].iloc[0])
        return ranked

    # ---- document

    @property
    def company(self) -> str:
        return str(self.manifest.get("company") or self.manifest.get("scenario_name", ""))

    @property
    def title(self) -> str:
        return f"{self.company} — {self.kind.title}: {self.manifest['name']}"

    @property
    def created_at(self) -> str:
        """When the store's last point finished: the report's date, so the same store gives the same PDF."""
        finished = []
        for path in sorted((self.folder / LOG_FOLDER).glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a killed run
                if isinstance(record, dict) and record.get("finished"):
                    finished.append(str(record["finished"]))
        return max(finished) if finished else ""

    @property
    def date_text(self) -> str:
        return date_text(self.created_at)

    def report_info(self) -> ReportInfo:
        """Title, author, date and running header for the page template (not shown as content)."""
        return ReportInfo({
            "title": self.title, "author": self.company, "created": self.created_at,
            "header_title": f"{self.company} — {self.kind.title}", "header_quarter": self.quarter,
            "kind": self.kind.name, "subject": str(self.manifest["name"]),
        })

    def cover(self) -> Fragment:
        return self._render(
            "sweep_cover.html.j2", date=self.date_text,
            strategies=[(self.label(s), self.colours[self.label(s)]) for s in self.analysis.strategies],
            parameters=[self.parameter_title(p) for p in self.analysis.parameters],
        )

    # ---- the answer

    def answer_section(self) -> Fragment:
        """The recommendation, how often it holds, and the conditions under which it flips, in sentences."""
        analysis = self.analysis
        rows = analysis.robustness.set_index("strategy") if not analysis.robustness.empty else None
        recommended = self.recommended
        holds = None
        if recommended and rows is not None and recommended in rows.index:
            holds = float(rows.loc[recommended, "share_best"])
        return self._render(
            "sweep_answer.html.j2", recommended=self.label(recommended) if recommended else None,
            tied=[self.label(s) for s in analysis.tied], influence_method=self.influence_method,
            runner_up=self.label(self.runner_up) if self.runner_up else None, holds=holds,
            at_base=self._has_base(), flips=[self._flip(box) for box in analysis.flips],
            points=self.design_points, notes=analysis.notes,
            most=[self.parameter_title(p) for p in self.influential[:2]],
        )

    def _has_base(self) -> bool:
        return bool((self.analysis.design["role"] == ROLE_BASE).any())

    def _flip(self, box: FlipBox) -> dict[str, Any]:
        winners = sorted(box.winners.items(), key=lambda item: -item[1])
        return {
            "conditions": [self._condition(condition) for condition in box.conditions],
            "futures": box.futures, "flips": box.flips, "density": share(box.density, 0),
            "coverage": share(box.coverage, 0),
            "winners": [(" = ".join(self.label(s) for s in name.split(" = ")), wins) for name, wins in winners],
        }

    def _condition(self, condition: Condition) -> str:
        return f"{self.parameter_title(condition.parameter)} is {condition.text}"

    # ---- what was varied

    def design_section(self) -> Fragment:
        manifest = self.manifest
        base = self.analysis.design[self.analysis.design["role"] == ROLE_BASE]
        rows = []
        for path in self.analysis.parameters:
            spec = manifest["parameters"][path]
            if spec.get("values") is not None:
                varied = ", ".join(self.value_text(path, value) for value in spec["values"])
            else:
                varied = f"{self.value_text(path, spec['low'])} to {self.value_text(path, spec['high'])}"
            rows.append({"title": self.parameter_title(path), "meaning": self.parameter_meaning(path), "varied": varied,
                         "base": self.value_text(path, base[path].iloc[0]) if not base.empty else "—",
                         "why": spec.get("why") or "",
                         # a rank only where the index is distinguishable from zero; the rest do not move the answer
                         "rank": (self.influential.index(path) + 1) if path in self.influential else None})
        design = manifest["design"]
        fixed = [(path, self.value_text(path, value)) for path, value in (manifest.get("set") or {}).items()]
        levers = [{"title": self.parameter_title(path), "meaning": str(spec.get("description") or ""),
                   "tried": ", ".join(self.value_text(path, value) for value in dict.fromkeys(
                       policy["values"][path] for policy in manifest.get("policies", []))),
                   "why": spec.get("why") or ""}
                  for path, spec in ((path, manifest["levers"][path]) for path in manifest.get("lever_order", []))]
        return self._render(
            "sweep_design.html.j2", rows=rows, method=design["method"], design=design, fixed=fixed, levers=levers,
            strategies=[(self.label(s), self.colours[self.label(s)]) for s in self.analysis.strategies],
            points=self.design_points, replications=manifest.get("replications"),
            satisficing=manifest.get("satisficing"), satisficing_text=self._satisficing_text(),
        )

    def _satisficing_text(self) -> str | None:
        rule = self.manifest.get("satisficing")
        if not rule:
            return None
        outcome = rule.get("outcome") or self.analysis.decision_outcome
        return f"{OUTCOME_NAMES.get(outcome, outcome)} is at least {self.formatter(outcome)(rule['at_least'])}"

    # ---- which assumption moves the answer

    def sensitivity_section(self) -> Fragment:
        analysis = self.analysis
        strategy = self.recommended or analysis.strategies[0]
        names = {path: self.parameter_title(path) for path in analysis.parameters}
        charts, tables = [], []
        for outcome in OUTCOME_TITLES:
            swings = _select(analysis.swings, outcome, strategy)
            sobol = _select(analysis.sobol, outcome, strategy)
            if swings.empty and sobol.empty:
                continue
            title = OUTCOME_TITLES[outcome]
            interaction = _select(analysis.interactions, outcome, strategy)
            interaction_text = (f" Left to interactions between parameters: "
                                f"{share(float(interaction['interaction_share'].iloc[0]), 0)} of the variance."
                                if not interaction.empty else "")
            charts.append(self._figure(
                f"sensitivity_{outcome}",
                sweep_figures.sensitivity_chart(swings, sobol, names=names, order=self.ranked_parameters,
                                                outcome_label=OUTCOME_NAMES.get(outcome, title.lower()),
                                                value_format=self.axis_format(outcome), unit=self._axis_unit(outcome)),
                f"{title} of {self.label(strategy)}: "
                + ("left, the change from the base scenario when one parameter alone is at the low (blue) or high "
                   "(orange) end of its range; " if not swings.empty else "")
                + ("right, " if not swings.empty and not sobol.empty else "")
                + ("Sobol indices, the share of the outcome's variance each parameter explains alone (first-order) "
                   "and with its interactions (total), with 95" + NBSP + "% intervals; grey bars are not "
                   "distinguishable from zero." if not sobol.empty else "")
                + interaction_text,
                f"Tornado and Sobol charts of {title.lower()}"))
        decision = analysis.decision_outcome
        if not analysis.sobol.empty:
            for strategy_name in analysis.strategies:
                mine = _select(analysis.sobol, decision, strategy_name)
                if mine.empty:
                    continue
                tables.append({"label": self.label(strategy_name), "colour": self.colours[self.label(strategy_name)],
                               "cells": [_index_cell(mine, path) for path in analysis.parameters]})
        return self._render("sweep_sensitivity.html.j2", charts=charts, tables=tables,
                            parameters=[names[p] for p in analysis.parameters], strategy=self.label(strategy),
                            method=self.manifest["design"]["method"], has_sobol=not analysis.sobol.empty,
                            has_swings=not analysis.swings.empty)

    # ---- which strategy wins where

    def _axis(self, path: str) -> Axis:
        spec = self.manifest["parameters"][path]
        best = self.analysis.best
        column = best[path]
        title = self.parameter_title(path)
        if spec.get("values") is not None:
            values = list(spec["values"])
            index = {str(value): position for position, value in enumerate(values)}
            positions = column.map(lambda value: index.get(str(value), index.get(self.value_text(path, value), 0)))
            return Axis(path, title, positions.to_numpy(dtype=float), np.arange(len(values) + 1) - 0.5,
                        [(float(i), self.value_text(path, value)) for i, value in enumerate(values)])
        low, high = float(spec["low"]), float(spec["high"])
        cells = int(max(2, min(HEAT_MAP_CELLS, np.floor(np.sqrt(max(len(best), 1) / 2)))))
        return Axis(path, title, column.to_numpy(dtype=float), np.linspace(low, high, cells + 1), None)

    def wins_section(self) -> Fragment:
        analysis = self.analysis
        if analysis.best.empty or not self.recommended or not self.ranked_parameters:  # levers alone: no map
            return self._render("sweep_wins.html.j2", charts=[], pair=None, heat=None)
        charts = []
        shown = self.ranked_parameters[:2] if len(self.ranked_parameters) >= 2 else self.ranked_parameters * 2
        x_axis, y_axis = self._axis(shown[0]), self._axis(shown[1])
        pair = (x_axis.title, y_axis.title)
        heat = None
        if self.runner_up:
            lead = self._lead()
            x_cells, y_cells = _cell_positions(x_axis), _cell_positions(y_axis)
            heat = {"leader": self.label(self.recommended), "other": self.label(self.runner_up)}
            charts.append(self._figure(
                "npv_difference_heat_map",
                sweep_figures.heat_map(x_cells, y_cells, lead, x_edges=_cell_edges(x_axis),
                                       y_edges=_cell_edges(y_axis), x_label=x_axis.title, y_label=y_axis.title,
                                       x_ticks=_cell_ticks(x_axis), y_ticks=_cell_ticks(y_axis),
                                       lead_label=f"difference, {self.money.unit}",
                                       value_format=lambda value: self.money.bare(value, True)),
                f"{self.decision_title} of {self.label(self.recommended)} minus that of {self.label(self.runner_up)}, "
                f"{self.money.unit}, over the two parameters that move it most; each cell the mean over the sampled "
                f"futures that fall in it (the other parameters anywhere in their ranges). Blue: "
                f"{self.label(self.recommended)} ahead; red: {self.label(self.runner_up)} ahead; blank: no future "
                f"sampled there.", "Heat map of the NPV difference between the two leading strategies"))
        winners = [" = ".join(self.label(s) for s in str(name).split(" = ")) for name in analysis.best["best"]]
        colours = dict(self.colours)
        boxes = [box for box in (self._box_rectangle(flip, x_axis, y_axis) for flip in analysis.flips) if box]
        charts.append(self._figure(
            "wins_map",
            sweep_figures.wins_map(x_axis.positions, y_axis.positions, winners, colours, x_label=x_axis.title,
                                   y_label=y_axis.title, x_ticks=x_axis.ticks, y_ticks=y_axis.ticks, boxes=boxes),
            f"Which strategy is best where: each dot a sampled future at its values of the two most influential "
            f"parameters, coloured by the strategy with the highest {self.decision_name} there"
            + ("; dashed, the ranges where " + self.label(self.recommended) + " stops being best." if boxes else "."),
            "Scatter map of the best strategy in each sampled future"))
        return self._render("sweep_wins.html.j2", charts=charts, pair=pair, heat=heat)

    def _lead(self) -> np.ndarray:
        """Per design point (in the order of ``analysis.best``): the recommended strategy's outcome minus the runner-up's."""
        outcomes = self.analysis.point_outcomes.set_index(["point_id", "strategy"])[self.analysis.decision_outcome]
        ids = self.analysis.best["point_id"]
        ahead = ids.map(lambda identity: outcomes.get((identity, self.recommended), np.nan))
        behind = ids.map(lambda identity: outcomes.get((identity, self.runner_up), np.nan))
        return (ahead - behind).to_numpy(dtype=float)

    def _box_rectangle(self, box: FlipBox, x_axis: Axis, y_axis: Axis) -> tuple[float, float, float, float] | None:
        """A flip box as a rectangle on the map, when its conditions are on the map's two ranges only."""
        bounds = {x_axis.parameter: [x_axis.edges[0], x_axis.edges[-1]], y_axis.parameter: [y_axis.edges[0],
                                                                                            y_axis.edges[-1]]}
        if not box.conditions or any(c.parameter not in bounds or c.values for c in box.conditions):
            return None
        if any(axis.ticks is not None for axis in (x_axis, y_axis) if axis.parameter in
               {c.parameter for c in box.conditions}):
            return None
        for condition in box.conditions:
            if condition.low is not None:
                bounds[condition.parameter][0] = condition.low
            if condition.high is not None:
                bounds[condition.parameter][1] = condition.high
        (x0, x1), (y0, y1) = bounds[x_axis.parameter], bounds[y_axis.parameter]
        return float(x0), float(x1), float(y0), float(y1)

    # ---- regret

    def regret_section(self) -> Fragment:
        analysis = self.analysis
        rows = []
        money = self.formatter(analysis.decision_outcome)
        table = analysis.robustness
        satisficing = self._satisficing_text()
        for row in table.itertuples():
            rows.append({
                "label": self.label(str(row.strategy)), "colour": self.colours[self.label(str(row.strategy))],
                "best": share(row.share_best, 0), "worst": share(row.share_worst, 0),
                "mean": money(row.mean_regret), "p90": money(row.p90_regret), "max": money(row.max_regret),
                "satisficing": share(row.satisficing_share, 0) if satisficing else None,
            })
        least = most = None
        if not table.empty:  # several options level on a count are named together: a tie, not a 'best'
            smallest = table["max_regret"].min()
            least = [self.label(str(s)) for s in table.loc[table["max_regret"] == smallest, "strategy"]]
            top = table["share_best"].max()
            most = [self.label(str(s)) for s in table.loc[table["share_best"] == top, "strategy"]]
        return self._render("sweep_regret.html.j2", rows=rows, satisficing=satisficing, least=least, most=most,
                            points=self.design_points)

    # ---- levers

    def levers_section(self) -> Fragment:
        """With levers: which settings of the tuned strategy do best, over every future and in each region of them."""
        regions = self.analysis.regions
        if regions.empty:
            return Fragment("")
        manifest = self.manifest
        money = self.formatter(self.analysis.decision_outcome)
        signed = self.formatter(self.analysis.decision_outcome, signed=True)
        levers = list(manifest["lever_order"])
        rows = []
        for row in regions.itertuples():
            where = (f"{self.parameter_title(str(row.parameter))} {row.region}" if row.parameter
                     else "Every sampled future")
            rows.append({"where": where, "futures": count(row.futures),
                         "settings": [plain(row.settings[path]) for path in levers], "value": money(row.value),
                         "declared": self.label(str(row.declared)) if row.declared else "none",
                         "lead": signed(row.lead) if row.declared else ""})
        overall = regions.iloc[0]
        changes = regions[regions["option"] != overall["option"]]
        tuned = str(manifest["lever_strategy"])
        return self._render("sweep_levers.html.j2", rows=rows, levers=[self.parameter_title(p) for p in levers],
                            tuned=str(manifest.get("strategy_labels", {}).get(tuned, tuned)),
                            policies=len(manifest.get("policies", [])),
                            best=self.label(str(overall["option"])), lead=signed(float(overall["lead"]))
                            if overall["declared"] else "", declared=self.label(str(overall["declared"]))
                            if overall["declared"] else "", same=changes.empty,
                            points=self.design_points)

    # ---- appendix

    def provenance_appendix(self) -> Fragment:
        manifest = self.manifest
        source = Path(str(manifest.get("source", "")))
        input_data = manifest.get("input_data") or {}
        data_text = (f"{input_data.get('kind')}: {input_data.get('path')}" if input_data.get("sha256")
                     else f"{input_data.get('kind', 'synthetic')} population drawn from the seed")
        design = manifest["design"]
        rows = [
            ("Sweep", str(manifest["name"])),
            ("Sweep file", source.name if source.is_absolute() else str(source)),
            ("Scenario", str(manifest.get("scenario_name", ""))),
            *file_rows(manifest.get("input_files", [])),
            ("Fixed for every point (set)", ", ".join(f"{k}={plain(v)}" for k, v in (manifest.get("set") or {}).items())
             or "none"),
            ("Customer data", data_text),
            ("Design", ", ".join(f"{key} {plain(value)}" for key, value in design.items() if value is not None)),
            ("Points (with the base and swings)", f"{manifest.get('points')} unique, {manifest.get('design_rows')} "
                                                  f"design rows"),
            ("Design points analysed", str(self.design_points)),
            ("Replications per strategy and point", str(manifest.get("replications"))),
            ("Root seed", str(manifest.get("seed"))),
            ("Strategies (id: label)", ", ".join(f"{s}: {self.label(s)}" for s in self.analysis.strategies)),
            ("Parameters (path: meaning)", "; ".join(f"{path}: {self.parameter_title(path)}"
                                                      for path in self.analysis.parameters)),
            ("Judged by", self.analysis.decision_outcome),
            ("Code version", str(manifest.get("code_version", ""))),
            ("Last point finished (UTC)", self.created_at or "not recorded"),
        ]
        return self._render("sweep_provenance.html.j2", rows=rows, notes=self.analysis.notes)


def _select(frame: pd.DataFrame, outcome: str, strategy: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[(frame["outcome"] == outcome) & (frame["strategy"] == strategy)]


def _index_cell(sobol: pd.DataFrame, path: str) -> dict[str, Any]:
    row = sobol[sobol["parameter"] == path]
    if row.empty:
        return {"s1": "—", "st": "—", "s1_interval": "", "st_interval": "", "zero": False}
    entry = row.iloc[0]
    return {"s1": number(entry["S1"], 2), "st": number(entry["ST"], 2),
            "s1_interval": f"{number(entry['S1_low'], 2)} to {number(entry['S1_high'], 2)}",
            "st_interval": f"{number(entry['ST_low'], 2)} to {number(entry['ST_high'], 2)}",
            "s1_zero": bool(entry["S1_zero"]), "st_zero": bool(entry["ST_zero"])}


def _cell_positions(axis: Axis) -> np.ndarray:
    """Positions in cell units (0 … cells): the heat map draws cells, not the parameter's scale."""
    if axis.ticks is not None:
        return axis.positions
    return np.interp(axis.positions, axis.edges, np.arange(len(axis.edges)))


def _cell_ticks(axis: Axis) -> list[tuple[float, str]]:
    """Ticks in cell units: a list's values at their cells, a range's numbers at the cell edges."""
    if axis.ticks is not None:
        return axis.ticks
    return [(float(index), plain(edge)) for index, edge in enumerate(axis.edges)]


def _cell_edges(axis: Axis) -> np.ndarray:
    if axis.ticks is not None:
        return axis.edges
    return np.arange(len(axis.edges), dtype=float)
