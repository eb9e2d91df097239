"""What a report shows, read from a results folder: one call per notebook cell, one section each.

``Report.open`` reads a results folder — nothing else: no scenario file, no simulation — and
each method renders one section through its template in ``templates/sections``. The numbers are
computed here (and in ``decision.py``); the words are the templates', so an analyst can reword a
sentence or a caption without touching Python. Strategy ids appear only in the appendix; the
board reads each strategy's label.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from reports import figures
from reports.appendix import (
    assumption_sections,
    calibration_notes,
    calibration_rows,
    parameter_sources,
    provenance_rows,
    strategy_risks,
    strategy_rows,
)
from reports.decision import (
    CONFIDENCE,
    MOST_OF_THE_BOOK,
    OBJECTIVES,
    Decision,
    Difference,
    Gate,
    Measure,
    backtest_missed,
    board_decision,
    constant_measures,
    gates,
    horizon_values,
    paired,
    survivorship,
    timing,
    trade_off_measures,
    trade_offs,
    with_derived_outcomes,
)
from reports.fragments import Fragment, ReportInfo, render_fragment
from reports.kinds import KINDS, ReportKind
from reports.numbers import NBSP, MoneyFormat, count, date_text, number, plain, points, share, shorten
from simulation.analysis.summary import mean_interval, strategy_summary
from simulation.core.segments import JOINED_LATER_LABEL
from simulation.data.starting_position import COST_DRIVERS
from simulation.model.outcomes import COUNTED_UNITS
from simulation.runs.results import Results, load_results

MONTHS_A_YEAR = 12
TABLE_COLUMNS = 7  # options side by side in one table at most: more are split into further tables


@dataclass(frozen=True)
class Shown:
    """A number as the report prints it: the value and its interval text (or why there is none)."""

    text: str
    interval: str = ""


class Report:
    """One report of one kind on one results folder; each method returns what one cell shows."""

    def __init__(self, results: Results, kind: ReportKind, quarter: str, output_dir: Path) -> None:
        self.results = results
        self.kind = kind
        self.quarter = quarter
        self.output_dir = output_dir
        self.scenario = results.scenario
        self.quarters = with_derived_outcomes(results.quarters)
        self.replications = int(results.quarters["replication"].nunique())
        self.summary = strategy_summary(results.quarters, CONFIDENCE, results.scenario.baseline)
        compared = list(self.summary["strategy"])
        self.reference = kind.reference(self.scenario, compared)
        self.decision: Decision = board_decision(results.quarters, self.scenario)
        self.objective = self.decision.objective  # the outcome options are judged by: npv_plus_book or npv
        self.objective_words = OBJECTIVES[self.objective]
        self.ranking = self.decision.ranking
        self.highlighted = self.decision.leaders if kind.name == "board" else [
            s for s in compared if s != self.reference]
        self.colours = figures.decision_colours([self.label(s) for s in compared],
                                                [self.label(s) for s in self.highlighted], self.label(self.reference))
        amounts = pd.concat([self.summary["cumulative_profit_mean"], self.summary["npv_mean"],
                             self.summary[f"{self.objective}_mean"], self.summary["customer_equity_end"]])
        self.money = MoneyFormat.for_amounts(amounts, self.scenario.currency)
        labels = results.quarters.drop_duplicates("quarter").sort_values("quarter")["quarter_label"]
        self.first_quarter, self.last_quarter = str(labels.iloc[0]), str(labels.iloc[-1])
        self._rows = self.summary.set_index("strategy")

    @classmethod
    def open(cls, results_dir: str | Path, *, kind: str, quarter: str, output_dir: str | Path) -> "Report":
        """Read a results folder (its files checked against their recorded hashes) for a report of ``kind``."""
        return cls(load_results(results_dir), KINDS[kind], quarter, Path(output_dir))

    # ---- words and numbers shared by every section

    def label(self, strategy: str) -> str:
        return self.scenario.label(strategy)

    def interval(self, low: float | None, high: float | None, fmt: Callable[[float], str]) -> str:
        """'95 % CI a to b', or why there is none: one replication has no spread to measure."""
        if low is None or high is None or self.replications < 2:
            return "no interval with one replication"
        return f"95{NBSP}% CI {fmt(low)} to {fmt(high)}"

    def bare_range(self, low: float | None, high: float | None, signed: bool = False) -> str:
        """A table cell's second line: '31.84 to 32.18' in the report's money unit, or why there is none."""
        if low is None or high is None or self.replications < 2:
            return "one replication: no interval"
        return f"{self.money.bare(low, signed)}{NBSP}to{NBSP}{self.money.bare(high, signed)}"

    def difference(self, difference: Difference | None, unit: str = "currency") -> Shown:
        """A paired difference with its sign, and its interval (or why there is none)."""
        if difference is None:
            return Shown("—", "baseline")
        signed = lambda value: self._format(unit, value, signed=True)  # noqa: E731
        return Shown(signed(difference.mean), self.interval(difference.low, difference.high, signed))

    def _gap(self, difference: Difference) -> Shown:
        """How far ahead the leader is: an amount (unsigned: 'ahead by') and its interval."""
        return Shown(self.money(difference.mean), self.interval(difference.low, difference.high, self.money))

    @property
    def span(self) -> str:
        return f"{self.scenario.horizon_quarters} quarters ({self.first_quarter} to {self.last_quarter})"

    def _render(self, template: str, **context: Any) -> Fragment:
        return render_fragment(template, report=self, money=self.money, share=share, count=count, number=number,
                               plain=plain, NBSP=NBSP, **context)

    def _figure(self, name: str, figure: Any, caption: str, alt: str) -> Fragment:
        return figures.chart_fragment(self.output_dir, name, figure, caption, alt)

    def _labelled(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["strategy"] = frame["strategy"].map(self.label)
        return frame

    # ---- document

    @property
    def title(self) -> str:
        return f"{self.scenario.company} — {self.kind.title} {self.quarter}"

    @property
    def created_at(self) -> str:
        """When the results were computed: the report's date, so the same run gives the same PDF."""
        return str(self.results.provenance.get("created_at", ""))

    @property
    def date_text(self) -> str:
        return date_text(self.created_at)

    def report_info(self) -> ReportInfo:
        """Title, author, date and running header for the page template (not shown as content)."""
        return ReportInfo({
            "title": self.title, "author": self.scenario.company, "created": self.created_at,
            "header_title": f"{self.scenario.company} — {self.kind.title}", "header_quarter": self.quarter,
            "kind": self.kind.name, "subject": self.scenario.name,
        })

    def cover(self) -> Fragment:
        provenance = self.results.provenance
        return self._render(
            "cover.html.j2", kind_title=self.kind.title, date=self.date_text,
            strategies=[(self.label(s), self.colours[self.label(s)]) for s in self.ranking],
            customers=count(provenance.get("customers_at_start", 0)),
        )

    # ---- decision (board) and comparison

    def _value(self, strategy: str) -> Shown:
        """The expected objective and what it may be: the range of 90 % of the simulated futures (not the mean's CI)."""
        mean = self._rows.loc[strategy, f"{self.objective}_mean"]
        if self.replications < 2:
            return Shown(self.money(mean), "no range with one replication")
        low, high = self._value_range(strategy)
        return Shown(self.money(mean), f"in 90{NBSP}% of simulated futures {self.money(low)} to {self.money(high)}")

    def _value_range(self, strategy: str, outcome: str | None = None) -> tuple[float, float]:
        """The 5th and 95th percentiles of ``outcome`` (default: the objective) at the horizon across futures."""
        values = horizon_values(self.quarters, outcome or self.objective)[strategy]
        return float(values.quantile(0.05)), float(values.quantile(0.95))

    def _options(self) -> list[dict[str, Any]]:
        """The options in the objective's order, with what a board compares first: the objective and its parts."""
        value = horizon_values(self.quarters, self.objective)
        leader = self.ranking[0]
        options = []
        for strategy in self.ranking:
            row = self._rows.loc[strategy]
            behind = None if strategy == leader else paired(value, strategy, leader)
            options.append({
                "label": self.label(strategy),
                "colour": self.colours[self.label(strategy)],
                "leader": strategy in self.decision.leaders and not self.gates,
                "inert": strategy in self.decision.inert,
                "tuned": self.scenario.strategies[strategy].tuned is not None,
                "baseline": strategy == self.reference,
                "value": Shown(self.money.bare(row[f"{self.objective}_mean"]),
                               self.bare_range(*self._value_range(strategy))),
                "npv": Shown(self.money.bare(row["npv_mean"]), self.bare_range(*self._value_range(strategy, "npv"))),
                "book_today": self.money.bare(row["npv_plus_book_mean"] - row["npv_mean"]),
                "behind": Shown("—", "the highest") if behind is None else Shown(
                    self.money.bare(behind.mean, True), self.bare_range(behind.low, behind.high, True)),
                "customers": count(row["active_customers_end"]),
                "market_share": share(row["market_share_end"], 2),
            })
        return options

    def _separating(self) -> list[dict[str, Any]]:
        """For a choice: each measure on which the leaders differ as printed, with each leader's value."""
        table = trade_offs(self.quarters, self.decision.leaders, self.reference)
        rows = []
        for measure in trade_off_measures():
            if measure.name not in self.quarters or not measure.board or not measure.board.separates:
                continue
            shown = [self._table_value(measure.unit, table[s][measure.name].mean) for s in self.decision.leaders]
            if len(set(shown)) > 1:  # the same as printed: nothing separates them here
                rows.append({"label": self._table_label(measure), "values": shown})
        return rows

    def _table_value(self, unit: str, value: float, signed: bool = False) -> str:
        """A table cell: money bare in the report's unit (named in the row's label), the rest as ``_format``."""
        return self.money.bare(value, signed) if unit == "currency" else self._format(unit, value, signed)

    def _table_label(self, measure: Measure) -> str:
        label = measure.board.label if measure.board else measure.name
        return label + (f", {self.money.unit}" if measure.unit == "currency" else "")

    def _format(self, unit: str, value: float, signed: bool = False) -> str:
        if unit == "currency":
            return self.money(value, signed)
        if unit == "share":
            return points(value * 100) if signed else share(value, 2)
        if unit in COUNTED_UNITS:
            return count(value, signed)
        if unit == "minutes":
            return number(value, 1, signed)
        return number(value, 3, signed)

    @functools.cached_property
    def gates(self) -> list[Gate]:
        """Why the inputs do not support a recommendation (empty: they do); the decision page says so first."""
        table = self.results.starting_position
        customers = float(table["customers"].sum())
        book = self.results.provenance.get("starting_book") or {}
        leader = self.ranking[0]
        return gates(
            loss_making_share=float(table["loss_making"].sum()) / customers if customers else 0.0,
            npv_means=self._rows.loc[self.ranking, f"{self.objective}_mean"],
            leader_range=self._value_range(leader) if self.replications >= 2 else None,
            supported_share=float(book["supported_share"]) if "supported_share" in book else None,
            backtest=self._backtest_record,
        )

    def decision_section(self) -> Fragment:
        decision = self.decision
        leader = self.ranking[0]
        margin = decision.margin
        return self._render(
            "decision.html.j2", decision=decision, leader=self.label(leader), gates=self.gates,
            risks=self._leaders_risks(),
            backtest_missed=backtest_missed(self._backtest_record),
            inert=[self.label(s) for s in self.ranking if s in decision.inert],
            leaders=[self.label(s) for s in decision.leaders],
            runner=self.label((decision.leaders[1:] or self.ranking[1:])[0]) if len(self.ranking) > 1 else None,
            margin=margin, margin_text=self._gap(margin) if margin else None,
            margin_share=share(decision.margin_share, 2) if decision.margin_share is not None else None,
            why=set(decision.why_tied.values()), options=self._options(), separating=self._separating(),
            leader_value=self._value(leader), objective=self.objective_words, by_total=self.objective == "npv_plus_book",
            baseline=self.label(self.reference),
            baseline_missing=(self.label(self.scenario.baseline)
                              if self.scenario.baseline in self.scenario.strategies and
                              self.scenario.baseline not in self.ranking else None),
            description=self.scenario.strategies[leader].description,
            backtest=self._backtest_record, drawn=self._drawn_from_data(), tuned=self._tuned(),
        )

    def _tuned(self) -> list[dict[str, Any]]:
        """The options a search tuned, with whether this report's futures are the ones it chose them on."""
        seed = self.results.provenance.get("seed")
        return [{"label": self.label(name), "trials": tuned.trials, "search": tuned.search,
                 "same_futures": seed == tuned.seed, "seed": tuned.seed}
                for name in self.ranking if (tuned := self.scenario.strategies[name].tuned) is not None]

    def _leaders_risks(self) -> list[tuple[str, Any]]:
        """Each leader's highest risk note, leaders with the same note named together ("A and B"), once."""
        grouped: dict[Any, list[str]] = {}
        for strategy in self.decision.leaders:
            notes = strategy_risks(self.scenario, strategy)
            if notes:
                grouped.setdefault(max(notes, key=lambda note: note.level), []).append(self.label(strategy))
        return [(", ".join(labels[:-1]) + " and " + labels[-1] if len(labels) > 1 else labels[0], note)
                for note, labels in grouped.items()]

    def _drawn_from_data(self) -> str | None:
        """What each simulated future draws from the company's data, for the method note (None: nothing)."""
        fits = (self.results.provenance.get("starting_book") or {}).get("fits") or {}
        parameters = " and the fitted models' parameters" if self.scenario.calibration.parameter_uncertainty else ""
        if "purchasing" in fits:
            return f"today's customers{parameters}"
        if "churn" in fits:
            return f"each customer's churn{parameters}"
        return None

    def comparison_section(self) -> Fragment:
        value = horizon_values(self.quarters, self.objective)
        columns = [self.objective, *(name for name in ("npv", "cumulative_profit") if name != self.objective)]
        values = {name: horizon_values(self.quarters, name) for name in columns}
        rows = []
        for strategy in self.ranking:
            if strategy == self.reference:
                continue
            rows.append({"label": self.label(strategy),
                         "differences": [self.difference(paired(values[name], strategy, self.reference))
                                         for name in columns],
                         "wins": paired(value, strategy, self.reference).wins})
        titles = {"npv_plus_book": "Value", "npv": "NPV", "cumulative_profit": "Cumulative profit"}
        return self._render("comparison.html.j2", rows=rows, reference=self.label(self.reference),
                            columns=[titles[name] for name in columns], objective=self.objective_words,
                            replications=self.replications, best=self.label(self.ranking[0]),
                            best_value=self._value(self.ranking[0]))

    def _value_frame(self) -> pd.DataFrame:
        rows = self._rows.loc[self.ranking]
        column = self.objective
        return pd.DataFrame({"strategy": [self.label(s) for s in self.ranking],
                             "mean": rows[f"{column}_mean"].to_numpy(), "low": rows[f"{column}_ci_low"].to_numpy(),
                             "high": rows[f"{column}_ci_high"].to_numpy()})

    # ---- starting position

    def starting_position(self) -> Fragment:
        table = self.results.starting_position
        year = MONTHS_A_YEAR
        customers = int(table["customers"].sum())
        losing = int(table["loss_making"].sum())
        loss = float(table["loss"].sum()) * year
        profit = float(table["profit"].sum()) * year
        revenue = float(table["revenue"].sum()) * year
        segments = []
        for row in table.itertuples():
            cost = sum(getattr(row, driver) for driver in COST_DRIVERS) * year
            segments.append({"label": row.segment_label, "customers": count(row.customers),
                             "losing": count(row.loss_making), "revenue": self.money.bare(row.revenue * year),
                             "cost": self.money.bare(cost), "profit": self.money.bare(row.profit * year),
                             "negative": row.profit < 0})
        losers = table[table["loss_making"] > 0]
        drivers = [("revenue", float(table["revenue_of_loss_making"].sum()) * year)] + [
            (name, -float(table[f"{column}_of_loss_making"].sum()) * year) for column, name in COST_DRIVERS.items()]
        service = {name: -amount for name, amount in drivers[1:]}
        biggest = max((name for name in service if name != "cost of goods"), key=lambda n: service[n])
        chart = self._figure(
            "starting_position",
            figures.starting_position_chart(
                pd.DataFrame({"segment_label": table["segment_label"], "profit": table["profit"] * year}),
                drivers, value_format=self.money.axis, unit=self.money.unit, bar_format=self.money.bare),
            f"Today's book at today's rates, a year, {self.money.unit}. Left: profit by value segment (S1: the most "
            f"profitable 1{NBSP}% of customers … S8: the least profitable 10{NBSP}%). Right: the customers who "
            f"lose money, from their revenue down through each cost to their loss.",
            "Bar chart of profit by segment and a waterfall of the loss-making segments' revenue and costs",
        )
        book = self.results.provenance.get("starting_book") or {}
        data = None
        if book:
            data = {
                "source": "transaction log" if book.get("source") == "transactions" else "customer ledger",
                "in_data": count(book.get("customers_in_data", 0)),
                "expected_active": count(book.get("expected_active", 0)),
                "supported": share(float(book.get("supported_share", 0.0)), 0),
                "assumed": ", ".join(str(c).replace("_", " ") for c in book.get("assumed_columns", [])),
                "loss_making": share(float(book.get("loss_making_share", 0.0)), 0),
                "implausible": float(book.get("loss_making_share", 0.0)) > MOST_OF_THE_BOOK,
            }
        newcomers = self._rows.loc[self.reference].get("newcomer_share_end", float("nan"))
        return self._render(
            "starting_position.html.j2", data=data, customers=count(customers),
            newcomers=None if pd.isna(newcomers) else share(newcomers, 0), horizon=self.last_quarter, losing=count(losing),
            losing_share=share(losing / customers if customers else 0.0, 0), loss=self.money(-loss),
            profit=self.money(profit), revenue=self.money(revenue), segments=segments, chart=chart,
            biggest=biggest, biggest_amount=self.money(service[biggest]),
            losers_revenue=self.money(drivers[0][1]), unit=self.money.unit,
            losing_segments=", ".join(f"{row.segment_label.split(' ')[0]} ({count(row.loss_making)})"
                                      for row in losers.itertuples()),
        )

    # ---- trade-offs

    def trade_offs_section(self) -> Fragment:
        table = trade_offs(self.quarters, self.ranking, self.reference)
        constant = constant_measures(table)
        rows = []
        for measure in trade_off_measures():
            if measure.name not in self.quarters or measure.name in constant:
                continue
            cells = []
            for strategy in self.ranking:
                entry = table[strategy][measure.name]
                versus = entry.versus_baseline
                cells.append({"text": self._table_value(measure.unit, entry.mean),
                              "detail": "" if versus is None else self._table_value(measure.unit, versus.mean, True)})
            rows.append({"label": self._table_label(measure), "cells": cells})
        timings = []
        for strategy in self.ranking:
            when = timing(self.quarters, strategy)
            timings.append("—" if when is None else (when[0] if when[0] == when[1] else f"{when[0]}–{when[1]}"))
        others = [s for s in self.ranking if s != self.reference]
        panels = []
        money_unit = self.money.unit
        panel_units = {"currency": money_unit, "share": "percentage points", "index": "score 0–1"}
        for measure in trade_off_measures():  # a small multiple for each declared with a panel
            name = measure.name
            if not measure.board or not measure.board.panel or name in constant or name not in self.quarters:
                continue
            unit = measure.unit
            title = f"{measure.board.panel}\n{panel_units.get(unit, unit)}"
            scale = 100.0 if unit == "share" else 1.0  # shares in points
            differences = [table[s][name].versus_baseline.mean * scale for s in others]  # type: ignore[union-attr]
            panels.append((title, pd.DataFrame({"strategy": [self.label(s) for s in others],
                                                "difference": differences}), self._panel_format(unit)))
        charts = []
        if panels:
            charts.append(self._figure(
                "trade_offs", figures.difference_panels(panels, self.colours, baseline=self.label(self.reference)),
                f"Each option against {self.label(self.reference)} at {self.last_quarter} (people hearing bad stories: "
                f"over the horizon); means over {self.replications} replication{'s' if self.replications > 1 else ''}.",
                "Small multiples of each option's difference from the baseline"))
        highlighted = [self.label(s) for s in dict.fromkeys([*self.highlighted, self.reference])]
        charts.append(self._figure(
            "profit_per_quarter",
            figures.band_chart(self._labelled(_bands(self.quarters, "profit")), self.colours,
                               ylabel=f"profit a quarter, {self.money.unit}", value_format=self.money.axis,
                               labelled=highlighted),
            f"Profit a quarter, {self.money.unit}: the options the decision rests on and the baseline named, with "
            f"their 95{NBSP}% bands; the other options in grey.",
            "Line chart of profit per quarter"))
        strategies = [(shorten(self.label(s)), self.colours[self.label(s)], s == self.reference) for s in self.ranking]
        parts = []  # strategies across: a table of at most TABLE_COLUMNS options, so none is wider than the page
        for start in range(0, len(strategies), TABLE_COLUMNS):
            end = start + TABLE_COLUMNS
            parts.append({"strategies": strategies[start:end], "timings": timings[start:end],
                          "rows": [{"label": row["label"], "cells": row["cells"][start:end]} for row in rows],
                          "empty": TABLE_COLUMNS - len(strategies[start:end]) if len(strategies) > TABLE_COLUMNS else 0})
        return self._render(
            "trade_offs.html.j2", parts=parts, per_table=TABLE_COLUMNS,
            charts=charts, baseline=self.label(self.reference),
            dropped=[m.board.label for m in trade_off_measures() if m.board and m.name in constant],
            survivors={name: [self.label(s) for s in names] for name, names in survivorship(table).items()},
        )

    def _panel_format(self, unit: str) -> Callable[[float], str]:
        """Signed bar labels; a share's difference arrives in points already."""
        if unit == "share":
            return lambda v: points(v)
        return lambda v: self._table_value(unit, v, signed=True)

    # ---- risk

    def risk_section(self) -> Fragment:
        rows = []
        has_loss_quarters = bool((self.summary["prob_loss_quarter"] > 0).any())
        for strategy in self.ranking:
            row = self._rows.loc[strategy]
            at_risk = row.get("top1_profit_at_risk_end", float("nan"))
            rows.append({
                "label": self.label(strategy), "colour": self.colours[self.label(strategy)],
                "p5": self.money(row["cumulative_profit_p5"]),
                "expected": self.money(row["cumulative_profit_mean"]),
                "at_risk": "no profitable customer" if pd.isna(at_risk) else share(at_risk, 0),
                "effective": count(row["effective_customers_end"]),
                "loss_quarters": share(row["prob_loss_quarter"], 0),
            })
        last = self.quarters[self.quarters["quarter"] == self.quarters["quarter"].max()]
        spread = self._figure(
            "cumulative_profit_distribution",
            figures.distribution_chart(self._labelled(_in_order(last[["strategy", "replication", "cumulative_profit"]],
                                                                  self.ranking)),
                                       self.colours, xlabel=f"cumulative profit at {self.last_quarter}, "
                                       f"{self.money.unit}", value_format=self.money.axis),
            "Cumulative profit at the horizon across replications: each dot one replication; boxes span the "
            "middle half.", "Box plots of cumulative profit across replications")
        lead = self._rows.loc[self.ranking[0]]
        return self._render("risk.html.j2", rows=rows, has_loss_quarters=has_loss_quarters, chart=spread,
                            leader=self.label(self.ranking[0]), lead=lead,
                            at_risk=share(lead.get("top1_profit_at_risk_end", float("nan")), 0),
                            replications=self.replications)

    # ---- robustness (board): does the decision survive what nobody has measured?

    def robustness_section(self) -> Fragment:
        """The share of plausible futures in which each leading option is best, its worst regret, and the one or
        two assumptions that flip the choice, from the store the command wrote into ``results/robustness``.

        Shown (not omitted) when the scenario declares no uncertainties: a board should read that the
        recommendation was tested against simulation noise only, not against any assumption.
        """
        from simulation.analysis.robustness import ROBUSTNESS_FOLDER, robustness_summary
        from simulation.analysis.screening import SCREENING_FOLDER, read_screening
        from simulation.runs.sweeps.queries import read_manifest
        from simulation.runs.sweeps.store import MANIFEST_FILE

        folder = self.results.folder / ROBUSTNESS_FOLDER
        declared = self.scenario.uncertainties
        if not declared or not (folder / MANIFEST_FILE).is_file():
            return self._render("robustness.html.j2", declared=len(declared), summary=None)
        leading = self.decision.recommended or self.ranking[0]
        summary = robustness_summary(folder, recommended=leading)
        described = {name: self.scenario.label(name) for name in self.scenario.strategies}
        rows = [{"label": described.get(entry.strategy, entry.label),
                 "colour": self.colours.get(described.get(entry.strategy, entry.label), figures.OTHER_COLOUR),
                 "best": share(entry.share_best, 0), "worst": self.money(entry.worst_regret),
                 "p90": self.money(entry.p90_regret), "leader": entry.strategy in self.decision.leaders,
                 "share_best": entry.share_best}
                for entry in summary.strategies]
        flips = [{"meaning": flip.label, "short": flip.label,
                  "path": flip.parameter, "source": flip.source, "end": flip.end,
                  "value": plain(flip.value), "base": plain(flip.base_value),
                  "best_there": described.get(flip.best_there, flip.best_there)}
                 for flip in summary.flips]
        holds = next((entry.share_best for entry in summary.strategies if entry.strategy == leading), float("nan"))
        manifest = read_manifest(folder)
        screening = read_screening(folder.with_name(SCREENING_FOLDER))
        screened = screening["screened"] if screening else []
        tested = set(manifest.get("parameters", {}))  # only what the check itself sampled is named as added
        screened = [{**entry, "added": entry["added"] and entry["path"] in tested} for entry in screened]
        return self._render(
            "robustness.html.j2", declared=len(declared), summary=summary, rows=rows, flips=flips,
            leading=self.label(leading), recommended=self.decision.recommended is not None,
            gated=bool(self.gates),  # no recommendation was given: there is none to hold
            leaders=[self.label(s) for s in self.decision.leaders], holds=holds,
            holds_text="—" if np.isnan(holds) else share(holds, 0), futures=summary.futures,
            replications=manifest.get("replications"), points=manifest.get("design", {}).get("points"),
            compared=[described.get(s, s) for s in manifest.get("strategies", [])], objective=self.objective_words,
            tested=len(summary.uncertainties), screened=len(screened),
            added=[entry["label"] for entry in screened if entry["added"]],
            threshold=self.money(screening["threshold"]) if screening else None,
            sample=self._robustness_sample(manifest),
        )

    def _robustness_sample(self, manifest: dict[str, Any]) -> dict[str, str] | None:
        """How the futures sampled a company-scale book (``sample_weight``), for the section's note; None when whole."""
        weight = float(manifest.get("sample_weight") or 1.0)
        if weight == 1.0:
            return None
        book = int(self.results.provenance.get("customers_at_start", 0))  # today's, synthetic or a company's data
        return {"customers": f"{round(book / weight):,}", "book": f"{book:,}", "weight": f"{weight:g}"}

    # ---- backtest (board, with a log and report.backtest_months): did the model predict what happened?

    @functools.cached_property
    def _backtest_record(self) -> dict[str, Any] | None:
        """The backtest the command wrote beside the results (read once: the decision page and its own page show it)."""
        import json

        from simulation.runs.results import BACKTEST_FOLDER

        path = self.results.folder / BACKTEST_FOLDER / "backtest.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def since_last_quarter_section(self) -> Fragment:
        """With ``--previous``: the recommendation then and now, and the bridge of the option's value from last
        quarter to this one, each part a run that changes one thing (``reports.bridge``); nothing without."""
        from reports.bridge import read_bridge

        record = read_bridge(self.results.folder)
        if record is None:
            return Fragment("")
        history = [{"quarter": row["quarter"], "recommendation": row["recommendation"],
                    "value": self.money(row["expected_value"]) if row.get("expected_value") is not None else "—",
                    "forecast": (f"{count(row['forecast_customers'])} ({count(row['forecast_low'])} to "
                                 f"{count(row['forecast_high'])})") if row.get("forecast_customers") is not None else "—",
                    "happened": count(row["customers_next_quarter"])
                    if row.get("customers_next_quarter") is not None else "not yet"}
                   for row in record.get("history", [])]
        if "then_recommended" not in record:
            return self._render("since_last_quarter.html.j2", record=record, history=history, parts=[], forecast=[])

        def shown(row: dict[str, Any], value: float) -> str:
            if row["unit"] != "currency":
                return count(value)
            sized = MoneyFormat.for_amounts([row["forecast"], row["low"], row["high"], row["actual"]],
                                            self.scenario.currency)  # a quarter's revenue, not the book's millions
            return sized(value)

        forecast = [{"label": row["label"], "forecast": shown(row, row["forecast"]),
                     "range": f"{shown(row, row['low'])} to {shown(row, row['high'])}", "actual": shown(row, row["actual"]),
                     "inside": row["inside"]} for row in record.get("forecast", [])]

        def said(found: dict[str, Any]) -> str:
            labels = found["labels"]
            return labels[0] if len(labels) == 1 else "a choice between " + " and ".join(labels)

        amounts = [part["value"] for part in record.get("parts", [])]
        if record.get("comparable"):
            amounts.append(record["value_now"] - record["value_then"])
        # sized to the changes, not to the book: a step of a few thousand reads as such, not as "EUR 0.01 m"
        money = MoneyFormat.for_amounts([abs(a) for a in amounts] or [0.0], self.scenario.currency)
        parts = []
        for part in record.get("parts", []):
            changes = [f"{self._assumption_name(change['path'])}: {plain(change['then'])} → {plain(change['now'])}"
                       for change in part.get("changes", [])]
            parts.append({"part": part["part"], "value": money(part["value"], True), "changes": changes})
        chart = None
        if record.get("comparable"):
            chart = self._figure(
                "bridge", figures.bridge_chart(
                    f"{record['then_quarter']}", record["value_then"],
                    [(part["part"].split(":")[0], part["value"]) for part in record["parts"]],
                    f"{record['now_quarter']}", record["value_now"], money.axis, money.unit),
                f"The expected value of {self.label(record['option'])}, last quarter's ({record['then_quarter']}) to "
                f"this quarter's ({record['now_quarter']}): each step one run that changes one thing; green up, "
                f"orange down. The axis starts near the lowest step, not at zero.",
                "Waterfall of the option's expected value from last quarter to this one")
        return self._render(
            "since_last_quarter.html.j2", record=record, history=history, forecast=forecast, chart=chart,
            baseline=self.label(record["forecast"][0]["strategy"]) if record.get("forecast") else "",
            then=said(record["then_recommended"]),
            now=said(record["now_recommended"]), same=set(record["then_recommended"]["leaders"]) ==
            set(record["now_recommended"]["leaders"]), parts=parts,
            option=self.label(record["option"]) if record.get("option") else "",
            value_then=money(record["value_then"]) if record.get("comparable") else "",
            value_now=money(record["value_now"]) if record.get("comparable") else "",
            change=money(record["value_now"] - record["value_then"], True) if record.get("comparable") else "",
            bridge_money=money,
        )

    def _assumption_name(self, path: str) -> str:
        """A scenario path in plain words where the schema declares them (``schema.in_plain_words``), else the path."""
        from simulation.core.parameter_paths import resolve_path
        from simulation.scenario.spec import Scenario

        try:
            label = resolve_path(Scenario, path, self.scenario).label
        except ValueError:
            label = ""
        return f"{label} ({path})" if label else path

    def backtest_section(self) -> Fragment:
        """The backtest the command ran on the log's last months: totals, coverage, the tracking and
        conditional-expectations charts; nothing when the report has no backtest."""
        record = self._backtest_record
        if record is None:
            return Fragment("")
        measures = [{"label": label, "totals": record["totals"][name], "coverage": share(record["coverage"][name], 0),
                     "money": name == "revenue"}
                    for name, label in (("active_purchasers", "Customers buying, summed over the months"),
                                        ("repeat_purchases", "Repeat purchases"), ("revenue", "Revenue"))]
        chart = self._figure("backtest", figures.backtest_figure(record),
                             "Left: cumulative repeat purchases by week, actual against BG/NBD and the simulation "
                             "from the calibration end. Right: purchases after the calibration end by purchases "
                             "before it (Fader, Hardie & Lee 2005, figures 2 and 4).",
                             "Backtest tracking and conditional-expectation charts")
        return self._render("backtest.html.j2", record=record, measures=measures, chart=chart)

    # ---- appendix

    def strategies_appendix(self) -> Fragment:
        currency = self.scenario.currency
        return self._render("strategies.html.j2",  # amounts per customer: whole units, not the book's millions
                            rows=strategy_rows(self.scenario, self.ranking, lambda v: f"{currency}{NBSP}{number(v)}",
                                               self.results.reach))

    def assumptions_appendix(self) -> Fragment:
        sources = parameter_sources(self.results.provenance)
        return self._render("assumptions.html.j2", sections=assumption_sections(self.scenario, sources),
                            fits=calibration_rows(self.results.provenance),
                            fit_notes=calibration_notes(self.results.provenance,
                                                        self.scenario.calibration.parameter_uncertainty))

    def charts_appendix(self) -> Fragment:
        labels = [self.label(s) for s in dict.fromkeys([*self.highlighted, self.reference])]
        market = self._figure(
            "market_share",
            figures.band_chart(self._labelled(_bands(self.quarters, "market_share")), self.colours,
                               ylabel="share of the market's customers",
                               value_format=_share_of_market,
                               labelled=labels),
            f"Market share by customer count at each quarter end; market size {count(self.scenario.market.size)} "
            f"customers.", "Line chart of market share")
        concentration = self._figure(
            "concentration",
            figures.concentration_chart(
                self._labelled(self.results.lorenz.groupby(["strategy", "customer_share"], sort=False)[
                    "profit_share"].mean().reset_index()),
                self._labelled(_bands(self.quarters, "top10_positive_profit_share")), self.colours,
                horizon_label=self.last_quarter),
            "Left: cumulative share of monthly profit against share of customers at the horizon, least profitable "
            "first (below zero where loss-makers eat into profit). Right: share of the profitable customers' profit "
            f"earned by the top 10{NBSP}% of them, each quarter.", "Lorenz curves and top-10 percent profit share")
        segments = self._figure(
            "profit_by_segment",
            figures.segment_chart(self._labelled(_segment_profit(self.results.start_segments)), self.colours,
                                  ylabel=f"profit over the horizon, {self.money.unit}", value_format=self.money.axis),
            f"Profit over the {self.scenario.horizon_quarters} quarters by value segment at the start (the same "
            f"customers under every option) and from customers who joined later ({JOINED_LATER_LABEL}).",
            "Bar chart of profit by starting value segment")
        words = self.objective_words
        npv = self._figure(
            "npv_by_strategy",
            figures.interval_chart(self._value_frame(), self.colours,
                                   xlabel=f"{words.phrase} over {self.span}, {self.money.unit}",
                                   value_format=self.money.axis, highlight=[self.label(s) for s in self.decision.leaders],
                                   label_format=self.money.bare),
            f"{words.title} by option, highest first; bars from zero, lines the 95{NBSP}% confidence interval of "
            f"the mean." if self.replications > 1 else
            f"{words.title} by option, highest first (one replication: no interval).",
            f"Bar chart of {words.phrase} by option")
        return self._render("charts_appendix.html.j2", charts=[npv, market, concentration, segments])

    def provenance_appendix(self) -> Fragment:
        return self._render("provenance.html.j2", rows=provenance_rows(self.results.provenance))


def _in_order(frame: pd.DataFrame, strategies: list[str]) -> pd.DataFrame:
    """``frame``'s rows with strategies in the given order (charts draw them in the order they come)."""
    order = {name: index for index, name in enumerate(strategies)}
    return frame.sort_values("strategy", key=lambda column: column.map(order), kind="stable")


def _bands(quarters: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean of ``column`` per strategy and quarter across replications, with its t interval."""
    keys = ["strategy", "quarter", "quarter_label"]
    rows = [(*key, *mean_interval(values.to_numpy(dtype=float), CONFIDENCE))
            for key, values in quarters.groupby(keys, sort=False)[column]]
    return pd.DataFrame(rows, columns=[*keys, "mean", "low", "high"])


def _segment_profit(segments: pd.DataFrame) -> pd.DataFrame:
    """Profit over the horizon per starting segment, mean over replications."""
    per_replication = segments.groupby(["strategy", "replication", "start_segment", "segment_label"], sort=False)[
        "profit"].sum().reset_index()
    means = per_replication.groupby(["strategy", "start_segment", "segment_label"], sort=False)["profit"].mean()
    return means.reset_index().rename(columns={"start_segment": "segment"})


def _share_of_market(value: float, decimals: int | None = None) -> str:
    return share(value, 1 if decimals is None else decimals)
