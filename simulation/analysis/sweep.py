"""A finished (or partly finished) sweep store, analysed: what the sweep report and the robustness section read.

``analyze_sweep(folder)`` reads the store (DuckDB), averages each point × strategy over its
replications at the horizon, and computes, for every analysed outcome and strategy, the Sobol
indices (a sobol design), Morris screening (a morris design) and the one-at-a-time swings (when
the design has its base and swing points); for the decision outcome, each point's best strategy
and every strategy's regret, per-strategy robustness, and where the recommended strategy — the
best at the base scenario — stops being best. What cannot be computed (a Sobol design with
failed points, say) is said in ``notes`` rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.discovery import FlipBox, flip_boxes
from simulation.analysis.policies import best_by_region, policies_as_options
from simulation.analysis.regret import best_strategies, point_regret, strategy_robustness
from simulation.analysis.sensitivity import interaction_share, morris_indices, sobol_indices, swings
from simulation.runs.sweeps.designs import ROLE_BASE, ROLE_DESIGN, ROLE_SWING
from simulation.runs.sweeps.queries import design_table, parameter_names, read_manifest, sweep_rows
from simulation.runs.sweeps.spec import ANALYSED_OUTCOMES


@dataclass(frozen=True)
class SweepAnalysis:
    """Everything the sweep report shows, as tables; see each field's comment for its columns."""

    manifest: dict[str, Any]  # sweep.json: name, description, parameters (with why/kind), strategies and labels, seed…
    parameters: list[str]
    strategies: list[str]
    decision_outcome: str
    design: pd.DataFrame  # design rows: design_index, role, swing, point_id, one column per parameter
    point_outcomes: pd.DataFrame  # point_id, strategy, replications, <outcome> (mean at the horizon) per outcome
    recommended: str | None  # best at the base scenario (else best at the most points)
    sobol: pd.DataFrame  # outcome, strategy, parameter, S1, S1_low, S1_high, S1_zero, ST, ST_low, ST_high, ST_zero
    interactions: pd.DataFrame  # outcome, strategy, interaction_share (1 − ΣS1)
    morris: pd.DataFrame  # outcome, strategy, parameter, mu, mu_star, mu_star_conf, sigma
    swings: pd.DataFrame  # outcome, strategy, parameter, low_value, high_value, outcome_at_low/high, base_outcome, swing
    regret: pd.DataFrame  # point_id, strategy, value, best_value, regret, best, worst (design points only)
    best: pd.DataFrame  # point_id, best (names, ties joined by ' = '), one column per parameter
    robustness: pd.DataFrame  # strategy, points, share_best, share_worst, mean/p90/max_regret, satisficing_share
    flips: list[FlipBox]  # where the recommended strategy stops being best
    flip_share: float  # share of design points where the recommended strategy is not best
    notes: list[str] = field(default_factory=list)
    tied: list[str] = field(default_factory=list)  # strategies identical to the recommended one in every future
    # what moves the decision: per parameter, the index of the recommended strategy's lead over the best other
    # (total Sobol index, else Morris mu*, else the one-at-a-time swing) — parameter, method, index, low, high, zero
    decision_sensitivity: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["parameter", "method", "index", "low", "high", "zero"]))
    # with levers: per region of the futures, the best settings and their lead (sweeps.policies.best_by_region)
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)


def point_outcomes(folder: str | Path) -> pd.DataFrame:
    """Per point × strategy: the analysed outcomes at the horizon, averaged over replications."""
    rows = sweep_rows(folder, horizon_only=True)
    if rows.empty:
        return pd.DataFrame(columns=["point_id", "strategy", "replications", *ANALYSED_OUTCOMES])
    grouped = rows.groupby(["point_id", "strategy"], sort=False)
    means = grouped[list(ANALYSED_OUTCOMES)].mean()
    means.insert(0, "replications", grouped["replication"].nunique())
    return means.reset_index()


def by_design_row(design: pd.DataFrame, outcomes: pd.DataFrame, strategy: str, outcome: str) -> np.ndarray:
    """The outcome of ``strategy`` at each design row, in design order (NaN where the point has no rows)."""
    mine = outcomes[outcomes["strategy"] == strategy].set_index("point_id")[outcome]
    return design["point_id"].map(mine).to_numpy(dtype=float)


def analyze_sweep(folder: str | Path, seed: int = 0, discover: bool = True) -> SweepAnalysis:
    """The whole analysis of the store at ``folder``; points not yet done are left out (and said so).

    ``discover=False`` skips scenario discovery (CART boxes: scikit-learn takes seconds to import),
    for readers that show only the swings, such as the board report's robustness section.
    """
    described = read_manifest(folder)
    design = design_table(folder)
    outcomes = point_outcomes(folder)
    if described.get("levers"):  # each policy an option, each future a point (simulation.analysis.policies)
        design, outcomes, described = policies_as_options(design, outcomes, described)
    parameters = parameter_names(described)
    strategies = list(described["strategies"])
    decision = described.get("decision_outcome", "npv")
    method = described["design"]["method"]
    notes: list[str] = []
    sampled = design[design["role"] == ROLE_DESIGN].sort_values("design_index")
    # A future counts only with every option's results: with levers, each policy's point fills one option, and a
    # future one of them lacks would compare means over different futures.
    counts = outcomes.groupby("point_id")["strategy"].nunique()
    done = set(counts[counts == len(strategies)].index)
    outcomes = outcomes[outcomes["point_id"].isin(done)]
    missing = int((~sampled["point_id"].isin(done)).sum())
    if missing:
        notes.append(f"{missing} of {len(sampled)} design points have no results yet (not run, or failed); "
                     "they are left out")

    sobol_parts, interaction_rows, morris_parts, swing_parts = [], [], [], []
    for outcome in ANALYSED_OUTCOMES:
        for strategy in strategies:
            values = by_design_row(sampled, outcomes, strategy, outcome)
            if method == "sobol" and not missing:
                indices = sobol_indices(parameters, values, seed)
                sobol_parts.append(indices.assign(outcome=outcome, strategy=strategy))
                interaction_rows.append({"outcome": outcome, "strategy": strategy,
                                         "interaction_share": interaction_share(indices)})
            if method == "morris" and not missing:
                unit = sampled[[f"unit:{name}" for name in parameters]].to_numpy(dtype=float)
                morris_parts.append(morris_indices(parameters, unit, values, described["design"]["levels"], seed)
                                    .assign(outcome=outcome, strategy=strategy))
            tornado = _swings(design, outcomes, strategy, outcome)
            if tornado is not None:
                swing_parts.append(tornado.assign(outcome=outcome, strategy=strategy))
    if method in ("sobol", "morris") and missing:
        notes.append(f"{method.capitalize()} indices need every point of the design: {missing} are missing")

    values = outcomes.loc[outcomes["point_id"].isin(set(sampled["point_id"])), ["point_id", "strategy", decision]]
    regrets = point_regret(values.rename(columns={decision: "value"}))
    threshold = (described.get("satisficing") or {}).get("at_least")
    satisficing_outcome = (described.get("satisficing") or {}).get("outcome") or decision
    robustness = strategy_robustness(regrets, strategies, None)
    if threshold is not None:
        meets = outcomes.loc[outcomes["point_id"].isin(set(sampled["point_id"]))]
        shares = (meets[satisficing_outcome] >= threshold).groupby(meets["strategy"]).mean()
        robustness["satisficing_share"] = robustness["strategy"].map(shares).astype(float)
    best = best_strategies(regrets, strategies).rename("best").reset_index() if not regrets.empty else \
        pd.DataFrame(columns=["point_id", "best"])
    unique_design = sampled.drop_duplicates("point_id")[["point_id", *parameters]]
    best = best.merge(unique_design, on="point_id", how="left")

    recommended = _recommended(design, outcomes, strategies, decision, robustness)
    flips: list[FlipBox] = []
    flip_share = float("nan")
    if recommended is not None and not best.empty and discover:
        at_best = regrets[regrets["strategy"] == recommended].set_index("point_id")["best"]
        flipped = ~best["point_id"].map(at_best).fillna(False).astype(bool).to_numpy()
        flip_share = float(flipped.mean())
        kinds = {name: described["parameters"][name]["kind"] for name in parameters}
        winners = best["best"].reset_index(drop=True)
        flips = flip_boxes(best[parameters].reset_index(drop=True), flipped, winners, kinds, seed)

    tied = _tied_with(outcomes, recommended, strategies, decision) if recommended else []
    regions = (best_by_region(design, outcomes, described, parameters, decision) if described.get("levers")
               else pd.DataFrame())
    decision_sensitivity = _decision_sensitivity(design, sampled, outcomes, parameters, recommended, tied, decision,
                                                 method if not missing else "", described, seed)

    def frame(parts: list[pd.DataFrame], first: list[str]) -> pd.DataFrame:
        if not parts:
            return pd.DataFrame(columns=first)
        joined = pd.concat(parts, ignore_index=True)
        return joined[first + [c for c in joined.columns if c not in first]]

    return SweepAnalysis(
        manifest=described, parameters=parameters, strategies=strategies, decision_outcome=decision,
        design=design, point_outcomes=outcomes, recommended=recommended,
        sobol=frame(sobol_parts, ["outcome", "strategy", "parameter"]),
        interactions=pd.DataFrame(interaction_rows, columns=["outcome", "strategy", "interaction_share"]),
        morris=frame(morris_parts, ["outcome", "strategy", "parameter"]),
        swings=frame(swing_parts, ["outcome", "strategy", "parameter"]),
        regret=regrets, best=best, robustness=robustness, flips=flips, flip_share=flip_share, notes=notes,
        tied=tied, decision_sensitivity=decision_sensitivity, regions=regions,
    )


def _tied_with(outcomes: pd.DataFrame, recommended: str, strategies: list[str], decision: str) -> list[str]:
    """The strategies whose decision outcome equals the recommended one's, bit for bit, at every point: a tie, not a
    runner-up (two options that do the same thing on the same random numbers)."""
    table = outcomes.pivot_table(index="point_id", columns="strategy", values=decision, aggfunc="first")
    if recommended not in table:
        return []
    mine = table[recommended].to_numpy(dtype=float)
    return [s for s in strategies if s != recommended and s in table
            and np.array_equal(table[s].to_numpy(dtype=float), mine)]


def _decision_sensitivity(design: pd.DataFrame, sampled: pd.DataFrame, outcomes: pd.DataFrame, parameters: list[str],
                          recommended: str | None, tied: list[str], decision: str, method: str,
                          described: dict[str, Any], seed: int) -> pd.DataFrame:
    """What moves the answer: indices of the outcome the decision rests on — the recommended strategy's lead over
    the best other option (ties left out) — not of any one strategy's total, which can swing widely while every
    option moves together and the choice never changes.

    ``zero`` marks an index not distinguishable from zero (its interval covers 0, or no swing at all).
    """
    columns = ["parameter", "method", "index", "low", "high", "zero"]
    others = [s for s in outcomes["strategy"].unique() if s != recommended and s not in tied]
    if recommended is None or not others:
        return pd.DataFrame(columns=columns)
    table = outcomes.pivot_table(index="point_id", columns="strategy", values=decision, aggfunc="first")
    lead = (table[recommended] - table[others].max(axis=1)).rename("lead")
    at_design = sampled["point_id"].map(lead).to_numpy(dtype=float)
    if method == "sobol" and np.isfinite(at_design).all():
        indices = sobol_indices(parameters, at_design, seed)
        return pd.DataFrame({"parameter": parameters, "method": "sobol", "index": indices["ST"],
                             "low": indices["ST_low"], "high": indices["ST_high"], "zero": indices["ST_zero"]})
    if method == "morris" and np.isfinite(at_design).all():
        unit = sampled[[f"unit:{name}" for name in parameters]].to_numpy(dtype=float)
        screening = morris_indices(parameters, unit, at_design, described["design"]["levels"], seed)
        low = screening["mu_star"] - screening["mu_star_conf"]
        return pd.DataFrame({"parameter": parameters, "method": "morris", "index": screening["mu_star"],
                             "low": low, "high": screening["mu_star"] + screening["mu_star_conf"],
                             "zero": (low <= 0).to_numpy()})
    frame = outcomes[outcomes["strategy"] == recommended].drop(columns=[decision]).merge(
        lead.reset_index().rename(columns={"lead": decision}), on="point_id")
    tornado = _swings(design, frame, recommended, decision)
    if tornado is None:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({"parameter": tornado["parameter"], "method": "swing", "index": tornado["swing"],
                         "low": tornado["swing"], "high": tornado["swing"], "zero": tornado["swing"] == 0})


def _swings(design: pd.DataFrame, outcomes: pd.DataFrame, strategy: str, outcome: str) -> pd.DataFrame | None:
    base_rows = design[design["role"] == ROLE_BASE]
    swing_rows = design[design["role"] == ROLE_SWING]
    if base_rows.empty or swing_rows.empty:
        return None
    base_value = by_design_row(base_rows, outcomes, strategy, outcome)[0]
    at = by_design_row(swing_rows, outcomes, strategy, outcome)
    if np.isnan(base_value) or np.isnan(at).any():
        return None
    split = swing_rows["swing"].str.rsplit(" ", n=1)
    parameters = split.str[0]
    ends = pd.DataFrame({"parameter": parameters.to_numpy(), "end": split.str[1].to_numpy(),
                         "value": [row[name] for name, (_, row) in zip(parameters, swing_rows.iterrows(), strict=True)],
                         "outcome": at})
    return swings(float(base_value), ends)


def _recommended(design: pd.DataFrame, outcomes: pd.DataFrame, strategies: list[str], decision: str,
                 robustness: pd.DataFrame) -> str | None:
    """The best strategy at the base scenario; without a base point, the one best at the most points."""
    base_rows = design[design["role"] == ROLE_BASE]
    if not base_rows.empty:
        at_base = outcomes[outcomes["point_id"] == base_rows["point_id"].iloc[0]]
        if len(at_base) == len(strategies):
            ranked = at_base.assign(rank=at_base["strategy"].map({s: i for i, s in enumerate(strategies)}))
            return str(ranked.sort_values([decision, "rank"], ascending=[False, True]).iloc[0]["strategy"])
    if robustness.empty:
        return None
    return str(robustness.sort_values("share_best", ascending=False, kind="stable").iloc[0]["strategy"])
