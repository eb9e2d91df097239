"""Across replications: what the board reads — means with confidence intervals, tails and risks.

Each outcome at the horizon is summarised per strategy. Differences against the baseline are
paired by replication: with common random numbers the noise shared by both strategies cancels,
so the interval of the difference is far narrower than either strategy's own spread.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # Student t quantiles; scipy.stats takes a second to import

from simulation.model.outcomes import OUTCOMES

BASELINE = "retain_all"
SUFFIX = {"level": "_end", "flow": "_total", "running": "_mean"}  # how each kind of outcome is summarised


def summary_column(name: str) -> str:
    """The summary's column for a declared outcome: ``npv_mean``, ``market_share_end``, ``churned_total``."""
    for declared in OUTCOMES:
        if declared.name == name:
            return name + SUFFIX[declared.kind]
    raise KeyError(f"unknown outcome {name!r}; known outcomes: {', '.join(o.name for o in OUTCOMES)}")


def horizon_values(quarters: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` at the last quarter: replications down, strategies across."""
    last = quarters[quarters["quarter"] == quarters["quarter"].max()]
    return last.pivot(index="replication", columns="strategy", values=column)


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval; a single value has a zero-width interval."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = float(stdtrit(len(values) - 1, 0.5 + confidence / 2) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def _with_interval(row: dict[str, object], name: str, values: np.ndarray, confidence: float) -> None:
    """Add ``name`` (the mean) and ``name_ci_low`` / ``name_ci_high`` to ``row``."""
    mean, low, high = mean_interval(values, confidence)
    row |= {name: mean, f"{name}_ci_low": low, f"{name}_ci_high": high}


def strategy_summary(quarters: pd.DataFrame, confidence: float = 0.95, baseline: str = BASELINE) -> pd.DataFrame:
    """One row per strategy (in table order) with the headline figures at the horizon.

    Every declared outcome is a mean across replications with its confidence interval
    (``…_ci_low``, ``…_ci_high``): levels at the last quarter (``…_end``), flows summed over the
    horizon (``…_total``), running totals such as cumulative profit and NPV at the horizon
    (``…_mean``, interval ``…_ci_low``/``…_ci_high`` without the suffix). ``profit_vs_baseline_…`` is
    paired against ``baseline`` (the scenario's ``baseline``; retain_all by default).
    """
    last = quarters["quarter"].max()
    final = quarters[quarters["quarter"] == last]
    first = quarters[quarters["quarter"] == quarters["quarter"].min()]
    rows = []
    strategies = list(dict.fromkeys(quarters["strategy"]))
    baseline_rows = final[final["strategy"] == baseline].set_index("replication")
    for strategy in strategies:
        at_end = final[final["strategy"] == strategy].set_index("replication")
        every_quarter = quarters[quarters["strategy"] == strategy]
        row: dict[str, object] = {"strategy": strategy, "replications": len(at_end)}
        by_replication = every_quarter.groupby("replication")
        for declared in OUTCOMES:
            if declared.name not in every_quarter:
                continue
            if declared.kind == "running":
                mean, low, high = mean_interval(at_end[declared.name].to_numpy(dtype=float), confidence)
                row |= {f"{declared.name}_mean": mean, f"{declared.name}_ci_low": low,
                        f"{declared.name}_ci_high": high}
            elif declared.kind == "level":
                _with_interval(row, f"{declared.name}_end", at_end[declared.name].to_numpy(dtype=float), confidence)
            else:
                _with_interval(row, f"{declared.name}_total",
                               by_replication[declared.name].sum().to_numpy(dtype=float), confidence)
        row["cumulative_profit_p5"] = float(np.percentile(at_end["cumulative_profit"], 5))
        losses = every_quarter["profit"] < 0
        row["prob_loss_quarter"] = float(losses.mean())
        row["prob_any_loss_quarter"] = float(losses.groupby(every_quarter["replication"]).any().mean())
        start = first[first["strategy"] == strategy]
        row["option_value_start"] = float(start["option_value"].mean())
        row["option_turns_positive_start"] = float(start["option_turns_positive"].mean())
        if not baseline_rows.empty and strategy != baseline:
            paired = at_end["cumulative_profit"].sub(baseline_rows["cumulative_profit"]).dropna().to_numpy()
            if len(paired):
                mean, low, high = mean_interval(paired, confidence)
                row |= {"profit_vs_baseline_mean": mean, "profit_vs_baseline_ci_low": low,
                        "profit_vs_baseline_ci_high": high}
        rows.append(row)
    return pd.DataFrame(rows)


def recommend(summary: pd.DataFrame) -> tuple[str, list[str]]:
    """The strategy with the highest expected NPV, and the numbers that explain the choice."""
    best = summary.loc[summary["npv_mean"].idxmax()]
    reasons = [
        f"highest expected NPV: {best['npv_mean']:,.0f} "
        f"(95 % CI {best['npv_ci_low']:,.0f} to {best['npv_ci_high']:,.0f})",
        f"5th-percentile cumulative profit {best['cumulative_profit_p5']:,.0f}",
        f"market share at horizon {best['market_share_end']:.2%}",
        f"top-10 % of profitable customers' share of their profit {best['top10_positive_profit_share_end']:.0%}",
    ]
    if "profit_vs_baseline_mean" in summary and best["strategy"] != BASELINE and not pd.isna(
        best.get("profit_vs_baseline_mean")
    ):
        reasons.append(
            f"{best['profit_vs_baseline_mean']:+,.0f} cumulative profit against {BASELINE} "
            f"(paired 95 % CI {best['profit_vs_baseline_ci_low']:+,.0f} to {best['profit_vs_baseline_ci_high']:+,.0f})"
        )
    return str(best["strategy"]), reasons
