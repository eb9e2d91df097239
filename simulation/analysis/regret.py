"""Which strategy wins where, and what choosing another costs: best strategy and regret per point.

At each point the best strategy has the highest mean outcome across replications; a strategy's
regret there is what it gives up against the best (0 for the best). Exact ties are ties: every
strategy at the top counts as best there. Per strategy: the share of points where it is best and
where it is worst, its worst and 90th-percentile regret, and — when the sweep sets a threshold —
the share of points where it meets it (satisficing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def point_regret(values: pd.DataFrame) -> pd.DataFrame:
    """``values`` (point_id, strategy, value) → adds best_value, regret, best and worst per row."""
    frame = values[["point_id", "strategy", "value"]].copy()
    by_point = frame.groupby("point_id", sort=False)["value"]
    frame["best_value"] = by_point.transform("max")
    frame["regret"] = frame["best_value"] - frame["value"]
    frame["best"] = frame["value"] == frame["best_value"]
    frame["worst"] = frame["value"] == by_point.transform("min")
    return frame


def best_strategies(regrets: pd.DataFrame, order: list[str]) -> pd.Series:
    """Per point, the best strategy's name — ties joined by ' = ' in the strategies' order."""
    rank = {name: i for i, name in enumerate(order)}
    best = regrets[regrets["best"]].copy()
    best["rank"] = best["strategy"].map(rank)
    best = best.sort_values(["point_id", "rank"], kind="stable")
    return best.groupby("point_id", sort=False)["strategy"].agg(" = ".join)


def strategy_robustness(regrets: pd.DataFrame, order: list[str], threshold: float | None = None) -> pd.DataFrame:
    """Per strategy, in ``order``: share_best, share_worst, mean_regret, p90_regret, max_regret, satisficing_share.

    A strategy tied for best (or worst) at a point counts there. ``satisficing_share`` is the share
    of points where the strategy's value is at least ``threshold`` (NaN without a threshold).
    """
    points = regrets["point_id"].nunique()
    rows = []
    for strategy in order:
        mine = regrets[regrets["strategy"] == strategy]
        if mine.empty:
            continue
        regret = mine["regret"].to_numpy(dtype=float)
        rows.append({
            "strategy": strategy,
            "points": len(mine),
            "share_best": float(mine["best"].sum() / points),
            "share_worst": float(mine["worst"].sum() / points),
            "mean_regret": float(regret.mean()),
            "p90_regret": float(np.percentile(regret, 90)),
            "max_regret": float(regret.max()),
            "satisficing_share": float((mine["value"] >= threshold).mean()) if threshold is not None else float("nan"),
        })
    return pd.DataFrame(rows)
