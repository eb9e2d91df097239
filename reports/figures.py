"""The report's charts: matplotlib figures from tidy DataFrames, saved as deterministic SVG.

Each function takes a tidy frame (one row per strategy × x value) and the strategy colours, and
returns a ``matplotlib.figure.Figure`` — never pyplot, so a notebook kernel does not also show
the figure as a PNG. ``save_svg`` writes vector SVG with a fixed hash salt and no date, so the
same results give byte-identical chart files (and the same PDF content). Colours come from
``decision_colours``: the strategies the decision rests on in colour, the baseline dark grey, the
rest light grey, the same in every chart of a report.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, Formatter, FuncFormatter, MaxNLocator, NullLocator

from reports.fragments import Fragment, render_fragment
from reports.numbers import number, quarter_tick, share, shorten
from simulation.core.files import write_atomically

TEXT_WIDTH_INCHES = 6.8  # A4 width minus the report's side margins
MAX_FIGURE_HEIGHT = 8.0  # inches: a chart of many options still fits a page with its caption
LABEL_LIMIT = 40  # characters of an option's label on a chart; longer ones end in an ellipsis
OTHERS = "other options"  # the one name of every light-grey line or bar
SVG_HASH_SALT = "clientele-report"  # fixed salt: matplotlib's SVG element ids are then stable
STYLE: dict[Any, Any] = {  # matplotlib types rc keys as literals
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
    "svg.fonttype": "none",  # text as SVG text, drawn by WeasyPrint in the report's font: a tenth of the nodes to draw
    "text.parse_math": False,  # a '$' in a company or strategy name is a dollar sign, not TeX
    "svg.hashsalt": SVG_HASH_SALT,
}

ValueFormat = Callable[[float], str]


# Okabe–Ito colours (readable by colour-blind readers and in grey print) for the strategies the board
# weighs; yellow left out: it vanishes on white paper.
HIGHLIGHTS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
BASELINE_COLOUR = "#4D4D4D"
OTHER_COLOUR = "#B8B8B8"


class DistinctFormatter(Formatter):
    """Tick labels in the report's number style, with as many decimals as it takes for no two to read the same
    ('55 %, 54 %, 54 %' becomes '54.5 %, 54.0 %, 53.5 %'); ``value_format(value, decimals)`` writes one."""

    def __init__(self, value_format: Callable[..., str]) -> None:
        self.value_format = value_format

    def _text(self, value: float, decimals: int | None) -> str:
        if decimals is None:
            return self.value_format(value)
        try:
            return self.value_format(value, decimals)
        except TypeError:  # a formatter without a decimals argument: it is what it is
            return self.value_format(value)

    def format_ticks(self, values):
        shown = [value for value in values]
        for decimals in (None, 1, 2, 3, 4):
            labels = [self._text(value, decimals) for value in shown]
            if len(set(labels)) == len(labels):
                return labels
        return labels

    def __call__(self, value, pos=None):
        return self._text(value, None)


def _value_axis(axis, value_format: Callable[..., str], bins: int = 6) -> None:
    """A value axis: a few round ticks (MaxNLocator), each label distinct, in the report's number style."""
    axis.set_major_locator(MaxNLocator(nbins=bins, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(DistinctFormatter(value_format))


def percent_axis(value: float, decimals: int | None = None) -> str:
    """A fraction as an axis percentage: whole percents unless more decimals are needed to tell ticks apart."""
    return share(value, 0 if decimals is None else decimals)


def _grouped_label(name: str, colour: str, seen: set[str]) -> str:
    """A legend label: the option's (shortened) name, or 'other options' once for all the light-grey ones."""
    if colour == OTHER_COLOUR:
        if OTHERS in seen:
            return "_nolegend_"
        seen.add(OTHERS)
        return OTHERS
    return shorten(name, LABEL_LIMIT)


def _rows_height(rows: int, per_row: float, extra: float) -> tuple[float, float]:
    """Figure height for ``rows`` options, capped so the chart fits a page; and the tick font size to match."""
    height = per_row * rows + extra
    if height <= MAX_FIGURE_HEIGHT:
        return height, 7.5
    return MAX_FIGURE_HEIGHT, max(4.0, 7.5 * (MAX_FIGURE_HEIGHT - extra) / (per_row * rows))


def decision_colours(strategies: Sequence[str], highlighted: Sequence[str], baseline: str) -> dict[str, str]:
    """The report's one visual language: the recommended (or tied) strategies in colour, the baseline dark
    grey, every other strategy light grey — so the eye goes where the decision is."""
    colours = {name: OTHER_COLOUR for name in strategies}
    colours[baseline] = BASELINE_COLOUR
    for index, name in enumerate(highlighted):
        colours[name] = HIGHLIGHTS[index % len(HIGHLIGHTS)]
    return colours


def _spread(positions: list[float], gap: float) -> list[float]:
    """Nudge label positions apart so that no two are closer than ``gap`` (order kept)."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [positions[i] for i in order]
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    shift = (sum(placed) - sum(positions[i] for i in order)) / max(1, len(placed))
    result = [0.0] * len(positions)
    for k, i in enumerate(order):
        result[i] = placed[k] - shift
    return result


def _label_line_ends(axes, ends: list[tuple[str, float, float, str]]) -> None:
    """Direct labels at the right end of lines: (label, x, y, colour), spread so none overlap."""
    if not ends:
        return
    low, high = axes.get_ylim()
    nudged = _spread([y for _, _, y, _ in ends], (high - low) * 0.06)
    for (label, x, _, colour), y in zip(ends, nudged, strict=True):
        axes.annotate(label, (x, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7.5,
                      color=colour, annotation_clip=False)


def _new_figure(height_inches: float, columns: int = 1) -> tuple[Figure, list]:
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(TEXT_WIDTH_INCHES, height_inches), layout="constrained")
        axes = figure.subplots(1, columns, squeeze=False)[0].tolist()
    return figure, axes


def _legend_below(figure: Figure, axes, columns: int) -> None:
    handles, labels = axes.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(columns, len(labels)))


def band_chart(
    frame: pd.DataFrame,
    colours: Mapping[str, str],
    *,
    ylabel: str,
    value_format: ValueFormat,
    title: str | None = None,
    labelled: Sequence[str] = (),
) -> Figure:
    """Lines of the mean per strategy over quarters, with a shaded band from ``low`` to ``high``.

    ``frame`` has columns strategy, quarter, quarter_label, mean, low, high. The ``labelled``
    strategies are drawn last, on top, and named at the line's end (no legend to decode); the
    others are context lines without a band.
    """
    with matplotlib.rc_context(STYLE):
        figure, (axes,) = _new_figure(3.0)
        order = [s for s in dict.fromkeys(frame["strategy"]) if s not in labelled] + [
            s for s in labelled if s in set(frame["strategy"])]
        ends = []
        others: list[tuple[float, float]] = []
        for strategy in order:
            rows = frame[frame["strategy"] == strategy].sort_values("quarter")
            colour = colours[str(strategy)]
            if strategy in labelled:
                axes.fill_between(rows["quarter"], rows["low"], rows["high"], color=colour, alpha=0.18, linewidth=0)
                axes.plot(rows["quarter"], rows["mean"], color=colour, linewidth=1.8)
                ends.append((shorten(str(strategy), LABEL_LIMIT), float(rows["quarter"].iloc[-1]),
                             float(rows["mean"].iloc[-1]), colour))
            else:
                axes.plot(rows["quarter"], rows["mean"], color=colour, linewidth=0.9)
                others.append((float(rows["quarter"].iloc[-1]), float(rows["mean"].iloc[-1])))
        if others:  # the grey lines named once, as a group, at the middle of their ends
            ends.append((OTHERS if len(others) > 1 else "other option", others[0][0],
                         float(np.median([y for _, y in others])), "#8C8C8C"))
        _quarter_axis(axes, frame)
        _value_axis(axes.yaxis, value_format)
        axes.set_ylabel(ylabel)
        if title:
            axes.set_title(title, loc="left")
        if ends:  # room on the right for the direct labels
            left, right = axes.get_xlim()
            axes.set_xlim(left, right + (right - left) * 0.22)
        _label_line_ends(axes, ends)
    return figure


def _quarter_axis(axes, frame: pd.DataFrame, most: int = 8) -> None:
    """Quarters as ticks that never collide: at most ``most`` of them, each one short line ('Q1 27')."""
    ticks = frame.drop_duplicates("quarter").sort_values("quarter")
    step = max(1, int(np.ceil(len(ticks) / most)))
    shown = ticks.iloc[::step]
    labels = [quarter_tick(label) for label in shown["quarter_label"]]
    axes.xaxis.set_major_locator(FixedLocator(shown["quarter"].to_numpy(dtype=float)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, pos: labels[pos] if pos is not None and
                                                 pos < len(labels) else ""))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xlim(ticks["quarter"].min() - 0.3, ticks["quarter"].max() + 0.3)
    axes.set_xlabel("quarter")


def concentration_chart(
    lorenz: pd.DataFrame,
    top10: pd.DataFrame,
    colours: Mapping[str, str],
    *,
    horizon_label: str,
) -> Figure:
    """Left: Lorenz curve of customer profit at the horizon; right: top-10 % profit share per quarter.

    ``lorenz`` has strategy, customer_share, profit_share; ``top10`` the band-chart columns.
    """
    with matplotlib.rc_context(STYLE):
        figure, (left, right) = _new_figure(3.1, columns=2)
        seen: set[str] = set()
        for strategy, rows in lorenz.groupby("strategy", sort=False):
            rows = rows.sort_values("customer_share")
            colour = colours[str(strategy)]
            left.plot(rows["customer_share"], rows["profit_share"], color=colour,
                      linewidth=0.9 if colour == OTHER_COLOUR else 1.4,
                      label=_grouped_label(str(strategy), colour, seen), zorder=1 if colour == OTHER_COLOUR else 2)
        left.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle="--", label="equal shares")
        left.axhline(0, color="#999999", linewidth=0.6)
        left.set_xlabel("share of customers, least profitable first")
        left.set_ylabel("cumulative share of profit")
        left.set_title(f"Lorenz curve of profit, {horizon_label}", loc="left")
        _value_axis(left.xaxis, percent_axis, bins=5)
        _value_axis(left.yaxis, percent_axis, bins=5)
        for strategy, rows in top10.groupby("strategy", sort=False):
            rows = rows.sort_values("quarter")
            colour = colours[str(strategy)]
            if colour != OTHER_COLOUR:  # bands for the named options only: grey ones are context
                right.fill_between(rows["quarter"], rows["low"], rows["high"], color=colour, alpha=0.18, linewidth=0)
            right.plot(rows["quarter"], rows["mean"], color=colour, linewidth=0.9 if colour == OTHER_COLOUR else 1.4,
                       zorder=1 if colour == OTHER_COLOUR else 2)
        _quarter_axis(right, top10, most=5)
        _value_axis(right.yaxis, percent_axis, bins=5)
        right.set_ylabel("profit share of the top 10 %")
        right.set_title("Top 10 % of profitable customers", loc="left")
        _legend_below(figure, left, columns=4)
    return figure


def segment_chart(
    frame: pd.DataFrame,
    colours: Mapping[str, str],
    *,
    ylabel: str,
    value_format: ValueFormat,
) -> Figure:
    """Grouped bars: profit over the horizon per segment (in ``segment`` order), one bar per strategy.

    ``frame`` has strategy, segment, segment_label, profit.
    """
    with matplotlib.rc_context(STYLE):
        figure, (axes,) = _new_figure(3.2)
        segments = frame.drop_duplicates("segment").sort_values("segment")
        strategies = list(dict.fromkeys(frame["strategy"]))
        width = 0.8 / max(1, len(strategies))
        positions = np.arange(len(segments))
        seen: set[str] = set()
        for index, strategy in enumerate(strategies):
            rows = frame[frame["strategy"] == strategy].set_index("segment").reindex(segments["segment"])
            offset = (index - (len(strategies) - 1) / 2) * width
            axes.bar(positions + offset, rows["profit"].to_numpy(), width=width * 0.95, color=colours[strategy],
                     label=_grouped_label(strategy, colours[strategy], seen))
        axes.axhline(0, color="#555555", linewidth=0.7)
        axes.set_xticks(positions, [label.replace(" ", "\n", 1) for label in segments["segment_label"]])
        _value_axis(axes.yaxis, value_format)
        axes.set_ylabel(ylabel)
        axes.grid(axis="x", visible=False)
        _legend_below(figure, axes, columns=4)
    return figure


def distribution_chart(
    frame: pd.DataFrame,
    colours: Mapping[str, str],
    *,
    xlabel: str,
    value_format: ValueFormat,
) -> Figure:
    """Box plot per strategy of cumulative profit across replications, each replication a dot.

    ``frame`` has strategy, replication, cumulative_profit. Dots sit on the box's centre line (no
    random jitter), so the chart is the same for the same results.
    """
    strategies = list(dict.fromkeys(frame["strategy"]))
    with matplotlib.rc_context(STYLE):
        height, font = _rows_height(len(strategies), 0.36, 0.9)
        figure, (axes,) = _new_figure(height)
        values = [frame.loc[frame["strategy"] == s, "cumulative_profit"].to_numpy() for s in strategies]
        positions = np.arange(len(strategies))[::-1]
        boxes = axes.boxplot(values, positions=positions, orientation="horizontal", widths=0.55,
                             patch_artist=True, showfliers=False, medianprops={"color": "black", "linewidth": 1.2})
        for patch, strategy in zip(boxes["boxes"], strategies, strict=True):
            patch.set_facecolor(colours[strategy])
            patch.set_alpha(0.35)
            patch.set_edgecolor(colours[strategy])
        for position, strategy, points in zip(positions, strategies, values, strict=True):
            axes.scatter(points, np.full(len(points), position), s=9, color=colours[strategy], zorder=3,
                         linewidths=0)
        axes.set_yticks(positions, [shorten(s, LABEL_LIMIT) for s in strategies], fontsize=font)
        _value_axis(axes.xaxis, value_format)
        axes.set_xlabel(xlabel)
        axes.grid(axis="y", visible=False)
    return figure


def interval_chart(
    frame: pd.DataFrame,
    colours: Mapping[str, str],
    *,
    xlabel: str,
    value_format: ValueFormat,
    highlight: Sequence[str] = (),
    label_format: ValueFormat | None = None,
) -> Figure:
    """One row per strategy, in the frame's order: the mean as a dot, its confidence interval as a bar.

    ``frame`` has strategy, mean, low, high. The axis starts at zero when every value is
    positive: a gap of 0.35 % must not look like a gap of half the chart. ``highlight`` names
    strategies shown in bold.
    """
    strategies = list(frame["strategy"])
    with matplotlib.rc_context(STYLE):
        height, font = _rows_height(len(strategies), 0.24, 0.8)
        figure, (axes,) = _new_figure(height)
        positions = np.arange(len(strategies))[::-1]
        for position, row in zip(positions, frame.itertuples(), strict=True):
            colour = colours[str(row.strategy)]
            axes.barh([position], [row.mean], color=colour, alpha=0.25, height=0.6)
            if np.isfinite(row.low) and np.isfinite(row.high):  # the interval in black with caps: visible however short
                axes.errorbar([row.mean], [position], xerr=[[max(row.mean - row.low, 0.0)],
                                                            [max(row.high - row.mean, 0.0)]],
                              fmt="none", ecolor="#222222", elinewidth=1.1, capsize=3, capthick=1.1, zorder=3)
            axes.plot([row.mean], [position], marker="o", markersize=4, color=colour, zorder=4)
            axes.annotate((label_format or value_format)(row.mean), (max(row.high, row.mean) if np.isfinite(row.high) else row.mean,
                                                   position), xytext=(5, 0),
                          textcoords="offset points", va="center", fontsize=min(7.5, font), color="#333333")
        axes.set_yticks(positions, [shorten(s, LABEL_LIMIT) for s in strategies], fontsize=font)
        for label, name in zip(axes.get_yticklabels(), strategies, strict=True):
            if name in highlight:
                label.set_fontweight("bold")
        low = min(0.0, float(np.nanmin(frame[["low", "mean"]].to_numpy(dtype=float))))
        high = max(0.0, float(np.nanmax(frame[["high", "mean"]].to_numpy(dtype=float))))
        high = high if high > low else low + 1.0
        axes.set_xlim(low - 0.02 * (high - low), high + 0.12 * (high - low))
        axes.axvline(0, color="#555555", linewidth=0.7)
        _value_axis(axes.xaxis, value_format)
        axes.set_xlabel(xlabel)
        axes.grid(axis="y", visible=False)
        axes.set_ylim(-0.6, len(strategies) - 0.4)
    return figure


def difference_panels(
    panels: Sequence[tuple[str, pd.DataFrame, ValueFormat]],
    colours: Mapping[str, str],
    *,
    baseline: str,
) -> Figure:
    """Small multiples: one panel per measure, one bar per strategy — its difference from the baseline.

    Each frame has strategy and difference (in the panel's unit), in the order to show; the bars
    are labelled with their values, so no axis has to be read.
    """
    columns = 3
    rows_count = int(np.ceil(len(panels) / columns))
    strategies = list(panels[0][1]["strategy"]) if panels else []
    with matplotlib.rc_context(STYLE):
        height, font = _rows_height(len(strategies) * rows_count, 0.22, 0.9 * rows_count)
        figure = Figure(figsize=(TEXT_WIDTH_INCHES, height), layout="constrained")
        grid = figure.subplots(rows_count, columns, squeeze=False)
        for index, axes in enumerate(grid.flat):
            if index >= len(panels):
                axes.set_visible(False)
                continue
            title, frame, value_format = panels[index]
            positions = np.arange(len(frame))[::-1]
            values = frame["difference"].to_numpy(dtype=float)
            axes.barh(positions, values, color=[colours[str(s)] for s in frame["strategy"]], height=0.65)
            axes.axvline(0, color="#555555", linewidth=0.7)
            span = float(np.nanmax(np.abs(values))) if len(values) and np.isfinite(values).any() else 1.0
            span = span or 1.0
            room = 2.3  # value labels sit beyond the bar ends: leave them the width of a long number
            axes.set_xlim(-span * room if (values < 0).any() else -span * 0.1,
                          span * room if (values > 0).any() else span * 0.1)
            for position, value in zip(positions, values, strict=True):
                axes.annotate(value_format(value), (value, position), xytext=(3 if value >= 0 else -3, 0),
                              textcoords="offset points", va="center", ha="left" if value >= 0 else "right",
                              fontsize=min(6.5, font), color="#333333")
            axes.set_title(title, loc="left", fontsize=8)
            axes.set_xticks([])
            axes.grid(False)
            axes.spines["bottom"].set_visible(False)
            if index % columns == 0:
                axes.set_yticks(positions, [shorten(str(n), 28) for n in frame["strategy"]], fontsize=min(7, font))
            else:
                axes.set_yticks([])
        figure.suptitle(f"Difference from {shorten(baseline, LABEL_LIMIT)}, in each panel's unit", x=0.01, ha="left",
                        fontsize=8.5)
    return figure


def starting_position_chart(
    segments: pd.DataFrame,
    drivers: Sequence[tuple[str, float]],
    *,
    value_format: ValueFormat,
    unit: str,
    bar_format: ValueFormat | None = None,
) -> Figure:
    """Left: profit a year by value segment today; right: how the loss-makers' revenue is eaten, driver by driver.

    ``segments`` has segment_label and profit (a year); ``drivers`` is the loss-makers' revenue
    followed by each cost driver (negative) — the bars step down to their loss.
    """
    with matplotlib.rc_context(STYLE):
        figure, (left, right) = _new_figure(2.9, columns=2)
        positions = np.arange(len(segments))
        profit = segments["profit"].to_numpy(dtype=float)
        left.bar(positions, profit, color=np.where(profit >= 0, "#0072B2", "#D55E00"), width=0.7)
        left.axhline(0, color="#555555", linewidth=0.7)
        left.set_xticks(positions, [label.split(" ", 1)[0] for label in segments["segment_label"]])
        _value_axis(left.yaxis, value_format)
        left.set_ylabel(f"profit a year, {unit}")
        left.set_xlabel("value segment (S1 most profitable)")
        left.set_title("Profit by value segment today", loc="left")
        left.grid(axis="x", visible=False)
        level = 0.0
        names = []
        steps = []  # (position, bottom, height): each bar's value is written on it
        for index, (name, amount) in enumerate(drivers):
            bottom = level if amount < 0 else 0.0
            height = amount
            right.bar([index], [height], bottom=[bottom], color="#0072B2" if amount >= 0 else "#D55E00", width=0.65)
            steps.append((index, bottom, height))
            level = level + amount if index else amount
            names.append(name)
        right.bar([len(drivers)], [level], color="#D55E00" if level < 0 else "#0072B2", width=0.65,
                  edgecolor="#333333", linewidth=0.8)
        steps.append((len(drivers), 0.0, level))
        names.append("result")
        for position, bottom, height in steps:
            top = max(bottom, bottom + height)
            right.annotate((bar_format or value_format)(height),
                           (position, top), xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                           fontsize=6, color="#333333")
        tops = [max(b, b + h) for _, b, h in steps] + [0.0]
        bottoms = [min(b, b + h) for _, b, h in steps] + [0.0]
        span = (max(tops) - min(bottoms)) or 1.0
        right.set_ylim(min(bottoms) - 0.05 * span, max(tops) + 0.2 * span)  # room for the values above the bars
        right.axhline(0, color="#555555", linewidth=0.7)
        right.set_xticks(np.arange(len(names)), names, fontsize=6.5, rotation=30, ha="right",
                         rotation_mode="anchor")
        _value_axis(right.yaxis, value_format)
        right.set_ylabel(f"a year, {unit}")
        right.set_title("Loss-making customers: revenue to loss", loc="left")
        right.grid(axis="x", visible=False)
    return figure


# ---- the backtest (backtest.json's series): the command's PDF and the board report's page draw the same axes

ACTUAL_COLOUR, MODEL_COLOUR, SIMULATION_COLOUR = "#222222", "#0072B2", "#D55E00"


def backtest_tracking_chart(record: Mapping[str, Any], axes: Any) -> None:
    """Cumulative repeat purchases by week: actual, BG/NBD's expectation, and the simulation from the calibration end."""
    tracking = record["tracking"]
    simulated = tracking["simulated"]
    axes.plot(tracking["weeks"], tracking["actual"], color=ACTUAL_COLOUR, linewidth=1.6, label="actual")
    axes.plot(tracking["weeks"], tracking["expected"], color=MODEL_COLOUR, linestyle="--", linewidth=1.2,
              label="BG/NBD expected")
    axes.fill_between(simulated["weeks"], simulated["low"], simulated["high"], color=SIMULATION_COLOUR, alpha=0.2,
                      linewidth=0, label="simulation, 90 % interval")
    axes.plot(simulated["weeks"], simulated["mean"], color=SIMULATION_COLOUR, linewidth=1.4, label="simulation, mean")
    axes.axvline(tracking["calibration_end_week"], color="#888888", linewidth=0.8)
    axes.annotate("calibration end", (tracking["calibration_end_week"], 0), xytext=(-4, 4), textcoords="offset points",
                  ha="right", fontsize=7, color="#666666")
    axes.set_title("Tracking: repeat purchases by week, cumulative", loc="left")
    axes.set_xlabel("weeks since the log's first purchase")
    axes.set_ylabel("repeat purchases")
    _value_axis(axes.yaxis, number)
    axes.legend(loc="upper left")


def backtest_conditional_chart(record: Mapping[str, Any], axes: Any) -> None:
    """Conditional expectations (Fader, Hardie & Lee 2005, figure 4): holdout purchases by calibration purchases."""
    holdout = (record.get("fit") or {}).get("holdout") or {}
    rows = holdout.get("by_calibration_frequency", [])
    positions = np.arange(len(rows))
    axes.plot(positions, [row["actual_mean"] for row in rows], marker="o", color=ACTUAL_COLOUR, label="actual")
    axes.plot(positions, [row["predicted_mean"] for row in rows], marker="s", linestyle="--", color=MODEL_COLOUR,
              label="BG/NBD expected")
    axes.set_xticks(positions, [row["frequency"] for row in rows])
    axes.set_title("Conditional expectations: after vs before", loc="left")
    axes.set_xlabel("repeat purchases before the calibration end")
    axes.set_ylabel("purchases after, per customer")
    axes.legend(loc="upper left")


def backtest_months_chart(record: Mapping[str, Any], axes: Any, measure: str = "repeat_purchases") -> None:
    """A measure month by month after the calibration end: the simulation's interval and mean, and actual."""
    months = np.arange(1, len(record["by_month"]) + 1)
    cells = [row[measure] for row in record["by_month"]]
    axes.fill_between(months, [c["low"] for c in cells], [c["high"] for c in cells], color=SIMULATION_COLOUR,
                      alpha=0.2, linewidth=0, label="simulation, 90 % interval")
    axes.plot(months, [c["predicted"] for c in cells], color=SIMULATION_COLOUR, label="simulation, mean")
    axes.plot(months, [c["actual"] for c in cells], marker="o", color=ACTUAL_COLOUR, label="actual")
    axes.set_xticks(months, [row["to"][:7] for row in record["by_month"]], rotation=30, ha="right")
    noun = measure.replace("_", " ")
    axes.set_title(f"{noun[0].upper()}{noun[1:]} by month after the calibration end", loc="left")
    axes.set_ylabel(noun)
    _value_axis(axes.yaxis, number)
    axes.legend(loc="upper right")


def backtest_figure(record: Mapping[str, Any]) -> Figure:
    """The board report's backtest chart: the tracking chart beside the conditional expectations."""
    with matplotlib.rc_context(STYLE):
        figure, (tracking, conditional) = _new_figure(2.9, columns=2)
        backtest_tracking_chart(record, tracking)
        backtest_conditional_chart(record, conditional)
        for axes in (tracking, conditional):
            axes.title.set_fontsize(8)
    return figure


def bridge_chart(then_label: str, value_then: float, parts: Sequence[tuple[str, float]], now_label: str,
                 value_now: float, value_format: Callable[..., str], unit: str) -> Figure:
    """A waterfall: last quarter's value, each part's step up or down from where the one before ended, this quarter's.

    The bars start at the smallest value any step reaches, not at zero, so steps a fraction of the value stay
    visible; the value axis says where it starts.
    """
    with matplotlib.rc_context(STYLE):
        figure, (axes,) = _new_figure(2.6)
        names = [then_label, *(name for name, _ in parts), now_label]
        level, bottoms, heights, colours = value_then, [], [], []
        for _, change in parts:
            bottoms.append(min(level, level + change))
            heights.append(abs(change))
            colours.append(HIGHLIGHTS[2] if change >= 0 else HIGHLIGHTS[1])
            level += change
        floor = min(value_then, value_now, *bottoms)
        ceiling = max(value_then, value_now, *(b + h for b, h in zip(bottoms, heights, strict=True)))
        margin = (ceiling - floor) * 0.15 or abs(value_then) * 0.01 or 1.0
        base = floor - margin
        axes.bar(0, value_then - base, bottom=base, color=BASELINE_COLOUR)
        axes.bar(range(1, len(parts) + 1), heights, bottom=bottoms, color=colours)
        axes.bar(len(parts) + 1, value_now - base, bottom=base, color=HIGHLIGHTS[0])
        axes.set_ylim(base, ceiling + margin)
        axes.set_xticks(range(len(names)), [textwrap.fill(name, 16) for name in names], fontsize=7)
        _value_axis(axes.yaxis, value_format)
        axes.set_ylabel(f"expected value, {unit}")
    return figure


def save_svg(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` as SVG, byte-identical for identical figures, whole or not at all.

    The date metadata is dropped and the id salt fixed; the file goes to a temporary name in the
    same folder and is renamed into place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    write_atomically(path, buffer.getvalue())
    return path


def chart_fragment(output_dir: Path, name: str, figure: Figure, caption: str, alt: str) -> Fragment:
    """Save ``figure`` as ``charts/<name>.svg`` in the report's folder; the HTML that shows it with its caption."""
    path = save_svg(figure, output_dir / "charts" / f"{name}.svg")
    return render_fragment("figure.html.j2", src=f"charts/{path.name}", caption=caption, alt=alt)
