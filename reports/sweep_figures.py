"""The sweep report's charts: tornado and Sobol bars, the heat map of a lead, the map of who wins where.

Same conventions as ``reports.figures``: matplotlib ``Figure`` objects (never pyplot), the
report's style and font, text as SVG text, TeX parsing off, strategies in the decision's colours
and named directly on the chart rather than in a legend box, saved with ``figures.save_svg``.
"""

from __future__ import annotations

import textwrap
from typing import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Rectangle

from reports.figures import LABEL_LIMIT, STYLE, TEXT_WIDTH_INCHES, ValueFormat, _value_axis
from reports.numbers import number, shorten

LOW_COLOUR = "#0072B2"  # a swing to the parameter's low end
HIGH_COLOUR = "#D55E00"  # … to its high end
FIRST_ORDER_COLOUR = "#0072B2"
TOTAL_COLOUR = "#56B4E9"
ZERO_COLOUR = "#B8B8B8"  # an index not distinguishable from zero
DIVERGING = "RdBu"  # the heat map: one strategy's lead in blue, the other's in red, white for level


def sensitivity_chart(swings: pd.DataFrame | None, sobol: pd.DataFrame | None, *, names: Mapping[str, str],
                      order: Sequence[str], outcome_label: str, value_format: ValueFormat,
                      unit: str = "") -> Figure:
    """Left: the tornado (one-at-a-time swings from the base); right: Sobol first-order and total indices.

    ``swings`` has parameter, change_at_low, change_at_high, swing (largest first); ``sobol`` has
    parameter, S1, S1_low, S1_high, S1_zero, ST, ST_low, ST_high, ST_zero. ``names`` shortens each
    parameter path for the axis; ``order`` lists them most influential first, the same rows in both
    panels (named once, on the left). Either panel is left out when its frame is None or empty.
    """
    rank = {name: index for index, name in enumerate(order)}
    ordered = [frame.assign(_rank=frame["parameter"].map(rank)).sort_values("_rank", ascending=False, kind="stable")
               if frame is not None and not frame.empty else frame for frame in (swings, sobol)]
    swings, sobol = ordered
    panels = [frame for frame in (swings, sobol) if frame is not None and not frame.empty]
    rows = max((len(frame) for frame in panels), default=1)
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(TEXT_WIDTH_INCHES, 0.32 * rows + 1.1), layout="constrained")
        axes_list = figure.subplots(1, max(1, len(panels)), squeeze=False)[0].tolist()
        index = 0
        if swings is not None and not swings.empty:
            _tornado(axes_list[index], swings, names, outcome_label, value_format, unit)
            index += 1
        if sobol is not None and not sobol.empty:
            _sobol(axes_list[index], sobol, names)
            if index:
                axes_list[index].set_yticklabels([])
    return figure


def _tornado(axes, swings: pd.DataFrame, names: Mapping[str, str], outcome_label: str,
             value_format: ValueFormat, unit: str = "") -> None:
    ordered = swings
    positions = np.arange(len(ordered))
    low = ordered["change_at_low"].to_numpy(dtype=float)
    high = ordered["change_at_high"].to_numpy(dtype=float)
    axes.barh(positions, low, color=LOW_COLOUR, height=0.6)
    axes.barh(positions, high, color=HIGH_COLOUR, height=0.6)
    axes.axvline(0, color="#555555", linewidth=0.7)
    axes.set_yticks(positions, [_wrapped(names[str(p)]) for p in ordered["parameter"]])
    span = float(np.nanmax(np.abs(np.concatenate([low, high])))) if len(low) else 0.0
    span = span or 1.0
    axes.set_xlim(-span * 1.35, span * 1.35)
    for position, at_low, at_high in zip(positions, low, high, strict=True):
        for value, colour, end in ((at_low, LOW_COLOUR, "low"), (at_high, HIGH_COLOUR, "high")):
            if value == 0:
                continue
            axes.annotate(end, (value, position), xytext=(2 if value > 0 else -2, 0), textcoords="offset points",
                          va="center", ha="left" if value > 0 else "right", fontsize=6, color=colour)
    _value_axis(axes.xaxis, value_format, bins=5)
    axes.set_xlabel(f"change in {outcome_label} from the base scenario" + (f", {unit}" if unit else ""))
    axes.set_title("One at a time: each range's two ends", loc="left")
    axes.grid(axis="y", visible=False)


def _sobol(axes, sobol: pd.DataFrame, names: Mapping[str, str]) -> None:
    ordered = sobol
    positions = np.arange(len(ordered))
    height = 0.36
    for offset, key, colour in ((height / 2, "S1", FIRST_ORDER_COLOUR), (-height / 2, "ST", TOTAL_COLOUR)):
        values = ordered[key].to_numpy(dtype=float)
        zero = ordered[f"{key}_zero"].to_numpy(dtype=bool)
        colours = [ZERO_COLOUR if flag else colour for flag in zero]
        axes.barh(positions + offset, values, height=height, color=colours)
        lows, highs = ordered[f"{key}_low"].to_numpy(dtype=float), ordered[f"{key}_high"].to_numpy(dtype=float)
        for position, low, high in zip(positions + offset, lows, highs, strict=True):
            axes.plot([low, high], [position, position], color="#333333", linewidth=0.9)
        for position, value, high, flag in zip(positions + offset, values, highs, zero, strict=True):
            text = f"{key} {number(value, 2)}" + (" (≈ 0)" if flag else "")
            axes.annotate(text, (max(value, high, 0.0), position), xytext=(3, 0), textcoords="offset points",
                          va="center", fontsize=6, color="#333333")
    axes.axvline(0, color="#555555", linewidth=0.7)
    axes.set_yticks(positions, [_wrapped(names[str(p)]) for p in ordered["parameter"]])
    top = float(np.nanmax(ordered[["S1_high", "ST_high", "S1", "ST"]].to_numpy(dtype=float)))
    bottom = float(np.nanmin(ordered[["S1_low", "ST_low", "S1", "ST"]].to_numpy(dtype=float)))
    top = max(top, 0.1)
    axes.set_xlim(min(0.0, bottom) - 0.02, top * 1.45)
    _value_axis(axes.xaxis, lambda value, decimals=None: number(value, 1 if decimals is None else decimals), bins=5)
    axes.set_xlabel("share of the variance (0–1); lines: 95\u00a0% intervals")
    axes.set_title("Sobol: first-order dark, total light", loc="left")
    axes.grid(axis="y", visible=False)


def _wrapped(text: str, width: int = 24) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def heat_map(x: np.ndarray, y: np.ndarray, difference: np.ndarray, *, x_edges: np.ndarray, y_edges: np.ndarray,
             x_label: str, y_label: str, x_ticks: Sequence[tuple[float, str]],
             y_ticks: Sequence[tuple[float, str]], lead_label: str, value_format: ValueFormat) -> Figure:
    """The mean of ``difference`` in each cell of a grid over two parameters; empty cells blank, values printed.

    ``x``, ``y`` and the edges are in the chart's cell units; the ticks (position, label) say what
    the positions are in the parameters' own terms.
    """
    cells = np.full((len(y_edges) - 1, len(x_edges) - 1), np.nan)
    column = np.clip(np.searchsorted(x_edges, x, side="right") - 1, 0, len(x_edges) - 2)
    row = np.clip(np.searchsorted(y_edges, y, side="right") - 1, 0, len(y_edges) - 2)
    for r in range(cells.shape[0]):
        for c in range(cells.shape[1]):
            inside = (row == r) & (column == c)
            if inside.any():
                cells[r, c] = float(np.mean(difference[inside]))
    span = float(np.nanmax(np.abs(cells))) if np.isfinite(cells).any() else 1.0
    span = span or 1.0
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(TEXT_WIDTH_INCHES, 3.2), layout="constrained")
        axes = figure.subplots()
        mesh = axes.pcolormesh(x_edges, y_edges, cells, cmap=DIVERGING,
                               norm=TwoSlopeNorm(0.0, -span, span), edgecolors="white", linewidth=0.8)
        for r in range(cells.shape[0]):
            for c in range(cells.shape[1]):
                if np.isfinite(cells[r, c]):
                    strong = abs(cells[r, c]) > 0.6 * span
                    axes.text((x_edges[c] + x_edges[c + 1]) / 2, (y_edges[r] + y_edges[r + 1]) / 2,
                              value_format(cells[r, c]), ha="center", va="center", fontsize=6.5,
                              color="white" if strong else "#222222")
        axes.set_xticks([position for position, _ in x_ticks], [label for _, label in x_ticks])
        axes.set_yticks([position for position, _ in y_ticks], [label for _, label in y_ticks])
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        axes.grid(False)
        bar = figure.colorbar(mesh, ax=axes, shrink=0.9)
        bar.set_label(lead_label)
        _value_axis(bar.ax.yaxis, value_format, bins=6)
    return figure


def wins_map(x: np.ndarray, y: np.ndarray, winners: Sequence[str], colours: Mapping[str, str], *,
             x_label: str, y_label: str, x_ticks: Sequence[tuple[float, str]] | None,
             y_ticks: Sequence[tuple[float, str]] | None,
             boxes: Sequence[tuple[float, float, float, float]] = ()) -> Figure:
    """Each sampled future as a dot at its two parameters' values, in the colour of the strategy best there.

    Ties are drawn in the first tied strategy's colour with a ring. ``boxes`` (x0, x1, y0, y1) are
    the ranges where the recommendation stops being best, dashed. Each strategy is named at the
    right in its colour, with how many futures it wins: no legend box to decode.
    """
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(TEXT_WIDTH_INCHES, 3.2), layout="constrained")
        axes = figure.subplots()
        names = [str(name) for name in winners]
        firsts = [name.split(" = ")[0] for name in names]
        axes.scatter(x, y, s=22, c=[colours[name] for name in firsts], linewidths=0, zorder=3)
        tied = np.array([" = " in name for name in names])
        if tied.any():
            axes.scatter(x[tied], y[tied], s=48, facecolors="none", edgecolors="#333333", linewidths=0.7, zorder=4)
        for x0, x1, y0, y1 in boxes:
            axes.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, linestyle="--", linewidth=1.0,
                                     edgecolor="#333333", zorder=2))
        if x_ticks is not None:
            axes.set_xticks([value for value, _ in x_ticks], [label for _, label in x_ticks])
        if y_ticks is not None:
            axes.set_yticks([value for value, _ in y_ticks], [label for _, label in y_ticks])
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        counts = pd.Series(firsts).value_counts()
        for index, (name, wins) in enumerate(counts.items()):
            text = _wrapped(f"{shorten(name, LABEL_LIMIT)}: best in {wins} future{'s' if wins != 1 else ''}", 30)
            axes.annotate(text, (1.03, 0.97 - 0.16 * index),
                          xycoords="axes fraction", fontsize=7.5, color=colours[str(name)], va="top",
                          annotation_clip=False, in_layout=False)
        if tied.any():
            axes.annotate("ringed: a tie", (1.03, 0.97 - 0.16 * len(counts)), xycoords="axes fraction", fontsize=7,
                          color="#333333", va="top", annotation_clip=False, in_layout=False)
        axes.set_xlabel(_wrapped(x_label, 60))
        axes.set_ylabel(_wrapped(y_label, 30))
        engine = figure.get_layout_engine()
        if isinstance(engine, ConstrainedLayoutEngine):
            engine.set(rect=(0, 0, 0.7, 1))  # the right 30 % for the strategies' names
    return figure
