"""A sweep with levers: each combination of a strategy's settings (a policy) is an option of its own.

A sweep file's ``levers:`` run every policy in every future of the design (EMA Workbench's
policies × scenarios; Kwakkel, "The Exploratory Modeling Workbench", 2017). For the analysis the
tuned strategy at policy k becomes the option ``NAME@k`` beside the declared strategies, each
future is one point, and every section — who is best where, regret, scenario discovery, the
indices — reads the options as it reads strategies. ``best_by_region`` then says, for every
future and for each half of each parameter's range, which settings do best and by how much they
lead the best declared option there.

The declared strategies do not depend on the levers: on common random numbers their rows are the
same under every policy, and the first policy's are read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simulation.runs.sweeps.designs import ROLE_DESIGN

POLICY_MARK = "@"  # option ids: ladder@0, ladder@1, … (a strategy id never holds "@": schema.Name)
MAX_REGION_VALUES = 4  # a listed parameter with at most this many values gets a region per value, else two halves


def option_id(strategy: str, policy: int) -> str:
    return f"{strategy}{POLICY_MARK}{policy}"


def policy_table(design: pd.DataFrame, levers: list[str]) -> pd.DataFrame:
    """One row per policy: its number and each lever's value."""
    return design.drop_duplicates("policy").sort_values("policy")[["policy", *levers]].reset_index(drop=True)


def settings_text(values: dict[str, Any], lever_names: dict[str, str]) -> str:
    """A policy's settings in words: 'step 2 surcharge 0.25, step 1 max monthly profit −10'."""
    return ", ".join(f"{lever_names[path]} {_written(value)}" for path, value in values.items())


def _written(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}".replace("-", "\u2212")
    return str(value)


def lever_name(path: str) -> str:
    """A lever's short name: strategies.ladder.steps.1.surcharge → 'step 2 surcharge'."""
    parts = path.split(".")
    return f"step {int(parts[3]) + 1} {' '.join(parts[4:]).replace('_', ' ')}"


def policies_as_options(design: pd.DataFrame, outcomes: pd.DataFrame,
                        described: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The design's futures (the first policy's rows), the outcomes per future and option, and the manifest with the
    options in place of the tuned strategy (``strategies``, ``strategy_labels``, ``policies``)."""
    tuned = described["lever_strategy"]
    levers = list(described["lever_order"])
    design = design.assign(position=design.groupby("policy").cumcount())
    futures = design[design["policy"] == design["policy"].min()].drop(columns=levers)
    future_of = dict(zip(futures["position"], futures["point_id"], strict=True))
    rows = design[["point_id", "policy", "position"]].assign(future=design["position"].map(future_of))
    mine = outcomes.merge(rows, on="point_id")
    declared = mine[(mine["strategy"] != tuned) & (mine["policy"] == design["policy"].min())]
    options = mine[mine["strategy"] == tuned]
    options = options.assign(strategy=[option_id(tuned, int(k)) for k in options["policy"]])
    remapped = pd.concat([declared, options], ignore_index=True)
    remapped = (remapped.assign(point_id=remapped["future"]).drop(columns=["policy", "position", "future"])
                .drop_duplicates(["point_id", "strategy"]))
    table = policy_table(design, levers)
    names = {path: lever_name(path) for path in levers}
    label = described.get("strategy_labels", {}).get(tuned, tuned)
    option_labels = {option_id(tuned, int(row["policy"])): f"{label} ({settings_text(_values(row, levers), names)})"
                     for _, row in table.iterrows()}
    strategies: list[str] = []
    for name in described["strategies"]:
        strategies.extend(option_labels if name == tuned else [name])
    manifest = {**described, "strategies": strategies,
                "strategy_labels": {**described.get("strategy_labels", {}), **option_labels},
                "policies": [{"option": option_id(tuned, int(row["policy"])), "values": _values(row, levers)}
                             for _, row in table.iterrows()]}
    if described.get("baseline") == tuned:
        manifest["baseline"] = strategies[0]
    return futures.drop(columns=["position"]), remapped, manifest


def _values(row: pd.Series, levers: list[str]) -> dict[str, Any]:
    return {path: (row[path].item() if hasattr(row[path], "item") else row[path]) for path in levers}


def best_by_region(futures: pd.DataFrame, outcomes: pd.DataFrame, described: dict[str, Any],
                   parameters: list[str], decision: str) -> pd.DataFrame:
    """Per region of the futures — all of them, then each parameter's lower and upper half (or each of its few
    values) — the best policy by the mean decision outcome there, and its lead over the best declared option.

    Columns: parameter ('' for every future), region (in words), futures, option, settings (lever → value), value,
    declared (the best declared option there), declared_value, lead.
    """
    tuned = described["lever_strategy"]
    options = [p["option"] for p in described["policies"]]
    settings = {p["option"]: p["values"] for p in described["policies"]}
    declared = [name for name in described["strategies"] if name not in options and name != tuned]
    sampled = futures[futures["role"] == ROLE_DESIGN].drop_duplicates("point_id")
    sampled = sampled[sampled["point_id"].isin(set(outcomes["point_id"]))]  # futures with every option's results
    table = outcomes.pivot_table(index="point_id", columns="strategy", values=decision, aggfunc="first")
    table = table.reindex(sampled["point_id"])
    regions: list[tuple[str, str, np.ndarray]] = [("", "every future", np.ones(len(sampled), dtype=bool))]
    for path in parameters:
        values = sampled[path]
        spec = described["parameters"][path]
        listed = spec.get("values")
        if listed is None and spec.get("levels") and described["design"]["method"] == "grid":
            listed = sorted(values.dropna().unique())  # a grid's evenly spaced levels: its values, as listed
        if listed is not None and (len(listed) <= MAX_REGION_VALUES or spec.get("kind") == "choice"):
            regions.extend((path, f"= {_written(v)}", (values == v).to_numpy()) for v in listed)
        else:
            middle = (float(spec["low"]) + float(spec["high"])) / 2 if spec.get("low") is not None else \
                float(np.median(values.astype(float)))
            regions.append((path, f"below {middle:g}", (values.astype(float) < middle).to_numpy()))
            regions.append((path, f"{middle:g} or above", (values.astype(float) >= middle).to_numpy()))
    records = []
    for parameter, words, inside in regions:
        if not inside.any():
            continue
        means = table[inside].mean()
        ranked = means[options].dropna().sort_values(ascending=False, kind="stable")
        if ranked.empty:
            continue
        best = str(ranked.index[0])
        others = means[declared].dropna().sort_values(ascending=False, kind="stable") if declared else pd.Series(dtype=float)
        record = {"parameter": parameter, "region": words, "futures": int(inside.sum()), "option": best,
                  "settings": settings[best], "value": float(ranked.iloc[0]),
                  "declared": str(others.index[0]) if not others.empty else "",
                  "declared_value": float(others.iloc[0]) if not others.empty else float("nan")}
        record["lead"] = record["value"] - record["declared_value"]
        records.append(record)
    return pd.DataFrame.from_records(records, columns=["parameter", "region", "futures", "option", "settings", "value",
                                                       "declared", "declared_value", "lead"])
