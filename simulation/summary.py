"""Across replications: what the board reads — means with confidence intervals, tails and risks.

Each outcome at the horizon is summarised per strategy. Differences against the baseline are
paired by replication: with common random numbers the noise shared by both strategies cancels,
so the interval of the difference is far narrower than either strategy's own spread.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

BASELINE = "retain_all"

# Outcomes read at the last quarter (levels) and summed over the horizon (flows).
LEVEL_OUTCOMES = (
    "market_share", "revenue_market_share", "active_customers", "partner_customers", "top10_profit_share", "hhi",
    "effective_customers", "gini", "reputation", "customer_equity", "top1_loss", "satisfaction", "morale",
)
FLOW_OUTCOMES = (
    "acquired", "churned", "divested", "migrated", "partner_lost", "partner_fees", "wom_reach", "lost_acquisitions",
)


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval; a single value has a zero-width interval."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def _with_interval(row: dict[str, object], name: str, values: np.ndarray, confidence: float) -> None:
    """Add ``name`` (the mean) and ``name_ci_low`` / ``name_ci_high`` to ``row``."""
    mean, low, high = mean_interval(values, confidence)
    row |= {name: mean, f"{name}_ci_low": low, f"{name}_ci_high": high}


def strategy_summary(quarters: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per strategy (in table order) with the headline figures at the horizon.

    Every figure is a mean across replications with its confidence interval (``…_ci_low``,
    ``…_ci_high``): levels at the last quarter (``…_end``), flows summed over the horizon
    (``…_total``), cumulative profit and NPV (``…_mean``).
    """
    last = quarters["quarter"].max()
    final = quarters[quarters["quarter"] == last]
    first = quarters[quarters["quarter"] == quarters["quarter"].min()]
    rows = []
    strategies = list(dict.fromkeys(quarters["strategy"]))
    baseline = final[final["strategy"] == BASELINE].set_index("replication")
    for strategy in strategies:
        at_end = final[final["strategy"] == strategy].set_index("replication")
        every_quarter = quarters[quarters["strategy"] == strategy]
        row: dict[str, object] = {"strategy": strategy, "replications": len(at_end)}
        for outcome in ("cumulative_profit", "npv"):
            mean, low, high = mean_interval(at_end[outcome].to_numpy(), confidence)
            row |= {f"{outcome}_mean": mean, f"{outcome}_ci_low": low, f"{outcome}_ci_high": high}
        by_replication = every_quarter.groupby("replication")
        row["cumulative_profit_p5"] = float(np.percentile(at_end["cumulative_profit"], 5))
        losses = every_quarter["profit"] < 0
        row["prob_loss_quarter"] = float(losses.mean())
        row["prob_any_loss_quarter"] = float(losses.groupby(every_quarter["replication"]).any().mean())
        for outcome in LEVEL_OUTCOMES:
            if outcome in at_end:
                _with_interval(row, f"{outcome}_end", at_end[outcome].to_numpy(dtype=float), confidence)
        for outcome in FLOW_OUTCOMES:
            if outcome in every_quarter:
                _with_interval(row, f"{outcome}_total", by_replication[outcome].sum().to_numpy(dtype=float), confidence)
        start = first[first["strategy"] == strategy]
        row["option_value_start"] = float(start["option_value"].mean())
        row["option_turns_positive_start"] = float(start["option_turns_positive"].mean())
        if not baseline.empty and strategy != BASELINE:
            paired = at_end["cumulative_profit"].sub(baseline["cumulative_profit"]).dropna().to_numpy()
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
        f"top-10 % profit share {best['top10_profit_share_end']:.0%}",
    ]
    if "profit_vs_baseline_mean" in summary and best["strategy"] != BASELINE and not pd.isna(
        best.get("profit_vs_baseline_mean")
    ):
        reasons.append(
            f"{best['profit_vs_baseline_mean']:+,.0f} cumulative profit against {BASELINE} "
            f"(paired 95 % CI {best['profit_vs_baseline_ci_low']:+,.0f} to {best['profit_vs_baseline_ci_high']:+,.0f})"
        )
    return str(best["strategy"]), reasons
