"""What a report notebook shows, computed from a results folder: one call per notebook cell.

``BoardReport`` holds the results and the across-replication summary and hands each notebook
cell a finished piece — the cover, the executive summary's sentences (computed from the
numbers, never fixed text), the KPI table, a chart with its caption, the appendix tables. The
notebook keeps the narrative and the order; the arithmetic stays here, where it is tested.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from simulation.experiment import run_or_reuse
from simulation.results import Results, load_results, read_provenance
from simulation.summary import BASELINE, mean_interval, recommend, strategy_summary

from . import figures
from .appendix import assumption_sections, parameter_sources, provenance_rows, strategy_rows
from .fragments import Fragment, ReportInfo, render_fragment
from .numbers import MoneyFormat, count, share

KINDS = {"board": "Quarterly board report", "comparison": "Strategy comparison"}
CONFIDENCE = 0.95
NBSP = "\u00a0"


# --------------------------------------------------------------------------------------------
# Tidy frames for the charts


def quarterly_bands(quarters: pd.DataFrame, column: str, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean of ``column`` per strategy and quarter across replications, with its t interval."""
    keys = ["strategy", "quarter", "quarter_label"]
    rows = [
        (*key, *mean_interval(values.to_numpy(dtype=float), confidence))
        for key, values in quarters.groupby(keys, sort=False)[column]
    ]
    return pd.DataFrame(rows, columns=[*keys, "mean", "low", "high"])


def mean_lorenz(lorenz: pd.DataFrame) -> pd.DataFrame:
    """The Lorenz curve at the horizon averaged over replications, per strategy."""
    return lorenz.groupby(["strategy", "customer_share"], sort=False)["profit_share"].mean().reset_index()


def segment_profit(segments: pd.DataFrame, key: str = "segment") -> pd.DataFrame:
    """Profit over the whole horizon per segment (``key``: current or starting segment), mean over replications."""
    per_replication = segments.groupby(["strategy", "replication", key, "segment_label"], sort=False)[
        "profit"].sum().reset_index()
    means = per_replication.groupby(["strategy", key, "segment_label"], sort=False)["profit"].mean().reset_index()
    return means.rename(columns={key: "segment"})


def horizon_values(quarters: pd.DataFrame, column: str = "cumulative_profit") -> pd.DataFrame:
    """``column`` at the last quarter, one row per strategy × replication."""
    last = quarters[quarters["quarter"] == quarters["quarter"].max()]
    return last[["strategy", "replication", column]].reset_index(drop=True)


def paired_difference(
    quarters: pd.DataFrame, strategy: str, reference: str, column: str = "cumulative_profit"
) -> tuple[float, float, float]:
    """Mean and 95 % interval of ``strategy − reference`` at the horizon, paired by replication.

    With common random numbers the noise both strategies share cancels in the difference.
    """
    final = horizon_values(quarters, column).pivot(index="replication", columns="strategy", values=column)
    return mean_interval((final[strategy] - final[reference]).dropna().to_numpy(), CONFIDENCE)


# --------------------------------------------------------------------------------------------
# Sentences and tables


@dataclass(frozen=True)
class Sentence:
    """One paragraph of a summary: a short lead ('Downside') and the sentence with its numbers."""

    lead: str
    text: str


def _interval(money: MoneyFormat, low: float, high: float, signed: bool = False) -> str:
    return f"95{NBSP}% CI {money(low, signed)} to {money(high, signed)}"


def executive_summary(
    summary: pd.DataFrame, quarters: pd.DataFrame, money: MoneyFormat, reference: str
) -> tuple[str, list[Sentence]]:
    """The recommended strategy and why, in numbers: value, margin, downside, market, risk, reach."""
    best, _ = recommend(summary)
    rows = summary.set_index("strategy")
    pick = rows.loc[best]
    labels = quarters.drop_duplicates("quarter").sort_values("quarter")["quarter_label"].tolist()
    span = f"{len(labels)} quarters ({labels[0]} to {labels[-1]})"
    count_text = f"the {len(rows)} strategies compared" if len(rows) > 1 else "the only strategy run"
    sentences = [Sentence(
        "Why",
        f"{best} has the highest expected net present value (NPV) of {count_text} over {span}: "
        f"{money(pick['npv_mean'])} ({_interval(money, pick['npv_ci_low'], pick['npv_ci_high'])}).",
    )]
    profit = (f"Cumulative profit {money(pick['cumulative_profit_mean'])} "
              f"({_interval(money, pick['cumulative_profit_ci_low'], pick['cumulative_profit_ci_high'])})")
    if reference in rows.index and best != reference:
        mean, low, high = paired_difference(quarters, best, reference)
        profit += (f", {money(mean, signed=True)} against {reference} "
                   f"(paired {_interval(money, low, high, signed=True)}).")
    elif best == reference:
        profit += f"; no alternative adds value over {reference}."
    else:
        profit += "."
    sentences.append(Sentence("Profit", profit))
    if len(rows) > 1:
        runner = rows.drop(index=best)["npv_mean"].idxmax()
        mean, low, high = paired_difference(quarters, best, runner, "npv")
        verdict = ("larger than the simulation's noise" if low > 0 else
                   "within the simulation's noise, so the other criteria below decide between them")
        sentences.append(Sentence(
            "Runner-up",
            f"{runner}, with an expected NPV of {money(rows.loc[runner, 'npv_mean'])}; {best} is ahead by "
            f"{money(mean, signed=True)} (paired {_interval(money, low, high, signed=True)}), {verdict}.",
        ))
    downside = (f"in 95{NBSP}% of replications cumulative profit is at least {money(pick['cumulative_profit_p5'])} "
                f"(the 5th percentile"
                + _versus(rows, reference, best, "cumulative_profit_p5", money, inside=True)
                + f"); {share(pick['prob_loss_quarter'])} of quarters make a loss.")
    sentences.append(Sentence("Downside", downside))
    sentences.append(Sentence(
        "Market share",
        f"{share(pick['market_share_end'], 2)} of the market's customers at {labels[-1]}"
        + _versus(rows, reference, best, "market_share_end", lambda v: share(v, 2)) + ".",
    ))
    top10 = pick["top10_positive_profit_share_end"]
    sentences.append(Sentence(
        "Concentration",
        f"the top 10{NBSP}% of profitable customers bring {share(top10, 0)} of their profit at the horizon"
        + _versus(rows, reference, best, "top10_positive_profit_share_end", lambda v: share(v, 0))
        + (f"; the larger the share, the more rests on a few customers: losing the top 1{NBSP}% would cost "
           f"{money(pick['top1_loss_end'])} a quarter."),
    ))
    sentences.append(Sentence(
        "Customers and reputation",
        f"{count(pick['divested_total'])} customers divested and {count(pick['migrated_total'])} migrated "
        f"over the horizon; word of mouth reaches {count(pick['wom_reach_total'])} people"
        + _versus(rows, reference, best, "wom_reach_total", count) + ".",
    ))
    if len(rows) > 2:
        worst = rows["npv_mean"].idxmin()
        if worst != best:
            sentences.append(Sentence(
                "To avoid",
                f"{worst} has the lowest expected NPV, {money(rows.loc[worst, 'npv_mean'])}, "
                f"with word of mouth reaching {count(rows.loc[worst, 'wom_reach_total'])} people.",
            ))
    return best, sentences


def _versus(rows: pd.DataFrame, reference: str, strategy: str, column: str, formatter: Any,
            inside: bool = False) -> str:
    """' (retain_all: 5.01%)' — the reference's figure beside the recommended one, if they differ."""
    if reference not in rows.index or strategy == reference:
        return ""
    text = f"{reference}: {formatter(rows.loc[reference, column])}"
    return f"; {text}" if inside else f" ({text})"


def comparison_summary(
    summary: pd.DataFrame, quarters: pd.DataFrame, money: MoneyFormat, reference: str
) -> list[Sentence]:
    """Each strategy against the reference, paired by replication, plus the highest-NPV pick."""
    rows = summary.set_index("strategy")
    best, _ = recommend(summary)
    sentences = [Sentence(
        "Highest expected NPV",
        f"{best}, {money(rows.loc[best, 'npv_mean'])} "
        f"({_interval(money, rows.loc[best, 'npv_ci_low'], rows.loc[best, 'npv_ci_high'])}).",
    )]
    for strategy in rows.index:
        if strategy == reference:
            continue
        profit, profit_low, profit_high = paired_difference(quarters, strategy, reference)
        npv, npv_low, npv_high = paired_difference(quarters, strategy, reference, "npv")
        row, base = rows.loc[strategy], rows.loc[reference]
        sentences.append(Sentence(
            f"{strategy} against {reference}",
            f"cumulative profit {money(profit, signed=True)} (paired {_interval(money, profit_low, profit_high, True)}), "
            f"NPV {money(npv, signed=True)} (paired {_interval(money, npv_low, npv_high, True)}); "
            f"market share at the horizon {share(row['market_share_end'], 2)} against {share(base['market_share_end'], 2)}, "
            f"top-10{NBSP}% profit share {share(row['top10_positive_profit_share_end'], 0)} against "
            f"{share(base['top10_positive_profit_share_end'], 0)}, 5th-percentile cumulative profit "
            f"{money(row['cumulative_profit_p5'])} against {money(base['cumulative_profit_p5'])}; "
            f"{count(row['divested_total'])} customers divested, word of mouth reaching "
            f"{count(row['wom_reach_total'])} people.",
        ))
    return sentences


def _range(low: str, high: str) -> str:
    """An interval in a table cell, never broken across lines."""
    return f"{low}{NBSP}to{NBSP}{high}"


@dataclass(frozen=True)
class Cell:
    """A table cell: the main text and an optional second, smaller line (an interval)."""

    text: str
    detail: str = ""


def kpi_table(summary: pd.DataFrame, quarters: pd.DataFrame, money: MoneyFormat, reference: str,
              recommended: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Column headers and one row per strategy with the headline outcomes at the horizon."""
    unit = money.unit.replace(" ", NBSP)
    headers = [
        "Strategy", f"Cumulative profit, {unit}", f"NPV, {unit}", f"vs {reference}, {unit}",
        f"5th pct. profit, {unit}", "Loss quarters", "Market share", f"Top-10{NBSP}% share", "Divested",
        "WoM reach",
    ]
    table = []
    for row in summary.itertuples():
        if row.strategy == reference:
            versus = Cell("—", "reference")
        else:
            mean, low, high = paired_difference(quarters, row.strategy, reference)
            versus = Cell(money.bare(mean, True), _range(money.bare(low, True), money.bare(high, True)))
        table.append({
            "recommended": row.strategy == recommended,
            "cells": [
                Cell(row.strategy, "recommended" if row.strategy == recommended else ""),
                Cell(money.bare(row.cumulative_profit_mean),
                     _range(money.bare(row.cumulative_profit_ci_low), money.bare(row.cumulative_profit_ci_high))),
                Cell(money.bare(row.npv_mean), _range(money.bare(row.npv_ci_low), money.bare(row.npv_ci_high))),
                versus,
                Cell(money.bare(row.cumulative_profit_p5)),
                Cell(share(row.prob_loss_quarter)),
                Cell(share(row.market_share_end, 2)),
                Cell(share(row.top10_positive_profit_share_end, 0)),
                Cell(count(row.divested_total)),
                Cell(count(row.wom_reach_total)),
            ],
        })
    return headers, table


# --------------------------------------------------------------------------------------------
# The facade the notebooks call


@dataclass(frozen=True)
class RunInfo:
    """How the results were obtained for this report: simulated now, or reused from the folder."""

    reused: bool
    seconds: float


class BoardReport:
    """A report of one kind on one results folder; each method returns what one cell shows."""

    def __init__(
        self,
        results: Results,
        *,
        kind: str = "board",
        quarter: str,
        output_dir: str | Path,
        scenario_path: str | Path | None = None,
        overrides: Iterable[str] = (),
        run_info: RunInfo | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"'kind' must be one of {', '.join(KINDS)}: got {kind!r}")
        self.results = results
        self.kind = kind
        self.quarter = quarter
        self.output_dir = Path(output_dir)
        self.scenario_path = scenario_path
        self.overrides = list(overrides)
        self.run_info = run_info
        self.scenario = results.scenario
        self.summary = strategy_summary(results.quarters, CONFIDENCE)
        self.strategies: list[str] = list(self.summary["strategy"])
        self.colours = figures.strategy_colours(list(self.scenario.strategies))
        amounts = pd.concat([self.summary["cumulative_profit_mean"], self.summary["npv_mean"]])
        self.money = MoneyFormat.for_amounts(amounts, self.scenario.currency)
        if kind == "board" and BASELINE in self.strategies:
            self.reference = BASELINE
        else:
            self.reference = self.strategies[0]
        self.recommended, _ = recommend(self.summary)
        labels = results.quarters.drop_duplicates("quarter").sort_values("quarter")["quarter_label"]
        self.first_quarter, self.last_quarter = str(labels.iloc[0]), str(labels.iloc[-1])
        self._figure_count = 0

    @classmethod
    def prepare(
        cls,
        *,
        kind: str,
        scenario_path: str,
        output_dir: str,
        quarter: str,
        customers_path: str = "",
        transactions_path: str = "",
        overrides: Sequence[str] = (),
        strategies: Sequence[str] = (),
        replications: int,
        seed: int,
        workers: int = 0,
    ) -> "BoardReport":
        """Simulate into ``output_dir/results`` — or reuse what is there for the same run — and load it."""
        folder = Path(output_dir) / "results"
        before = read_provenance(folder)
        started = time.perf_counter()
        run_or_reuse(
            scenario_path, folder, strategies=list(strategies) or None, replications=replications, seed=seed,
            customers=customers_path or None, transactions=transactions_path or None, overrides=list(overrides),
            workers=workers or None, progress=False,
        )
        seconds = time.perf_counter() - started
        results = load_results(folder)
        reused = before is not None and before == results.provenance
        return cls(results, kind=kind, quarter=quarter, output_dir=output_dir, scenario_path=scenario_path,
                   overrides=overrides, run_info=RunInfo(reused, round(seconds, 3)))

    # ---- document

    @property
    def title(self) -> str:
        return f"{self.scenario.company} — {KINDS[self.kind]} {self.quarter}"

    @property
    def created_at(self) -> str:
        """When the results were computed: the report's date, so the same run gives the same PDF."""
        return str(self.results.provenance.get("created_at", ""))

    @property
    def date_text(self) -> str:
        try:
            date = dt.datetime.fromisoformat(self.created_at).date()
        except ValueError:
            return self.created_at
        return f"{date.day} {date:%B %Y}"

    def report_info(self) -> ReportInfo:
        """Title, author, date and running header for the page template (not shown as content)."""
        info: dict[str, Any] = {
            "title": self.title,
            "author": self.scenario.company,
            "created": self.created_at,
            "header_title": f"{self.scenario.company} — {KINDS[self.kind]}",
            "header_quarter": self.quarter,
            "kind": self.kind,
            "subject": self.scenario.name,
        }
        if self.run_info is not None:
            info["results_reused"] = self.run_info.reused
            info["results_seconds"] = self.run_info.seconds
        return ReportInfo(info)

    def cover(self) -> Fragment:
        provenance = self.results.provenance
        return render_fragment(
            "cover.html.j2",
            company=self.scenario.company,
            kind_title=KINDS[self.kind],
            quarter=self.quarter,
            scenario=self.scenario.name,
            date=self.date_text,
            strategies=self.strategies,
            colours=self.colours,
            replications=provenance.get("replications"),
            seed=provenance.get("seed"),
            horizon=f"{self.scenario.horizon_quarters} quarters, {self.first_quarter} to {self.last_quarter}",
            currency=self.scenario.currency,
            customers=count(provenance.get("customers_at_start", 0)),
        )

    # ---- summaries and tables

    def executive_summary(self) -> Fragment:
        best, sentences = executive_summary(self.summary, self.results.quarters, self.money, self.reference)
        return render_fragment(
            "summary.html.j2",
            recommended=best,
            description=self.scenario.strategies[best].description,
            colour=self.colours[best],
            sentences=sentences,
            figure=self.chart_npv(),
            note=self._method_note(),
        )

    def comparison_summary(self) -> Fragment:
        sentences = comparison_summary(self.summary, self.results.quarters, self.money, self.reference)
        return render_fragment(
            "summary.html.j2",
            recommended=None,
            description="",
            colour=self.colours[self.reference],
            sentences=sentences,
            figure=self.chart_npv(),
            note=self._method_note() + f" Differences are against {self.reference}, the first strategy named.",
        )

    def _method_note(self) -> str:
        replications = self.results.provenance.get("replications")
        return (f"Means over {replications} replications of each strategy with common random numbers; "
                f"intervals are 95{NBSP}% confidence intervals of the mean, and 'paired' intervals those of the "
                f"difference between two strategies within the same replications. Amounts in {self.scenario.currency}, "
                f"NPV discounted at {self.scenario.economics.discount_rate:.0%} a year.")

    def kpi_table(self) -> Fragment:
        headers, rows = kpi_table(self.summary, self.results.quarters, self.money, self.reference, self.recommended)
        return render_fragment(
            "kpi_table.html.j2",
            headers=headers,
            rows=rows,
            colours=self.colours,
            caption=(f"Outcomes at {self.last_quarter}, mean over replications; second lines are 95{NBSP}% "
                     f"confidence intervals (paired against {self.reference}). Loss quarters: share of "
                     f"quarters with negative profit. Divested and word-of-mouth reach: totals over the horizon."),
        )

    # ---- charts

    def _figure(self, name: str, figure: Any, caption: str, alt: str) -> Fragment:
        path = figures.save_svg(figure, self.output_dir / "charts" / f"{name}.svg")
        return render_fragment("figure.html.j2", src=f"charts/{path.name}", caption=caption, alt=alt)

    def _money_axis(self, what: str) -> str:
        return f"{what}, {self.money.unit}"

    def chart_npv(self) -> Fragment:
        frame = self.summary.rename(columns={"npv_mean": "mean", "npv_ci_low": "low", "npv_ci_high": "high"})
        figure = figures.interval_chart(frame[["strategy", "mean", "low", "high"]], self.colours,
                                        xlabel=self._money_axis(f"NPV over {self.scenario.horizon_quarters} quarters"),
                                        value_format=self.money.axis, highlight=self.recommended)
        return self._figure(
            "npv_by_strategy", figure,
            f"Expected NPV by strategy: dots are means over replications, bars 95{NBSP}% confidence intervals.",
            "Dot chart of expected NPV with confidence intervals for each strategy",
        )

    def chart_profit(self) -> Fragment:
        frame = quarterly_bands(self.results.quarters, "profit")
        figure = figures.band_chart(frame, self.colours, ylabel=self._money_axis("profit per quarter"),
                                    value_format=self.money.axis)
        return self._figure(
            "profit_per_quarter", figure,
            f"Profit per quarter, mean over replications, {self.money.unit}; bands: 95{NBSP}% confidence interval.",
            "Line chart of profit per quarter for each strategy",
        )

    def chart_market_share(self) -> Fragment:
        frame = quarterly_bands(self.results.quarters, "market_share")
        figure = figures.band_chart(frame, self.colours, ylabel="share of the market's customers",
                                    value_format=lambda value: f"{value:.1%}")
        return self._figure(
            "market_share", figure,
            f"Market share by customer count at quarter end; bands: 95{NBSP}% confidence interval. "
            f"Market size {count(self.scenario.market.size)} customers.",
            "Line chart of market share for each strategy",
        )

    def chart_concentration(self) -> Fragment:
        figure = figures.concentration_chart(
            mean_lorenz(self.results.lorenz), quarterly_bands(self.results.quarters, "top10_positive_profit_share"),
            self.colours, horizon_label=self.last_quarter,
        )
        return self._figure(
            "concentration", figure,
            "Risk concentration. Left: cumulative share of monthly profit against share of customers on the "
            "books at the horizon (below zero where loss-makers eat into profit). Right: share of the profitable "
            "customers' profit earned by the top 10 % of them, each quarter.",
            "Lorenz curves and top-10 percent profit share for each strategy",
        )

    def chart_segments(self) -> Fragment:
        figure = figures.segment_chart(segment_profit(self.results.start_segments, "start_segment"), self.colours,
                                       ylabel=self._money_axis("profit over the horizon"),
                                       value_format=self.money.axis)
        return self._figure(
            "profit_by_segment", figure,
            f"Profit over the {self.scenario.horizon_quarters} quarters by value segment at the start (S1: most "
            f"profitable 1 % of today's customers … S8: least profitable 10 %; the same customers under every "
            f"strategy), and from customers who joined later; mean over replications, {self.money.unit}.",
            "Bar chart of profit by value segment for each strategy",
        )

    def chart_distribution(self) -> Fragment:
        figure = figures.distribution_chart(horizon_values(self.results.quarters), self.colours,
                                            xlabel=self._money_axis(f"cumulative profit at {self.last_quarter}"),
                                            value_format=self.money.axis)
        return self._figure(
            "cumulative_profit_distribution", figure,
            "Cumulative profit at the horizon across replications: each dot is one replication; boxes span "
            "the middle half, whiskers the rest within 1.5 times the box.",
            "Box plots of cumulative profit across replications for each strategy",
        )

    # ---- appendix

    def strategies_appendix(self) -> Fragment:
        return render_fragment(
            "strategies.html.j2",
            rows=strategy_rows(self.scenario.strategies, self.strategies),
            colours=self.colours,
        )

    def assumptions_appendix(self) -> Fragment:
        sources = parameter_sources(self.scenario_path, self.overrides)
        return render_fragment("assumptions.html.j2", sections=assumption_sections(self.scenario, sources))

    def provenance_appendix(self) -> Fragment:
        return render_fragment("provenance.html.j2", rows=provenance_rows(self.results.provenance))
