"""Which assumption moves the answer: Sobol indices, Morris screening and one-at-a-time swings.

Pure functions of arrays, so each can be checked against a function whose indices are known
(Ishigami). Sobol indices come from SALib's estimators (Saltelli 2010 for first order, Jansen
for total), with bootstrap confidence intervals; an index whose interval covers zero is not
distinguishable from zero, and what the first-order indices leave unexplained is the share of
the output's variance due to interactions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
RESAMPLES = 200  # bootstrap resamples for the intervals (SALib's default is 100)


def _problem(names: list[str]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def sobol_indices(names: list[str], outputs: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """First-order and total indices per parameter, with intervals, from outputs in Saltelli's N × (D + 2) order.

    Columns: parameter, S1, S1_low, S1_high, ST, ST_low, ST_high, S1_zero, ST_zero (the interval covers zero).
    A constant output has no variance to apportion: every index is 0 and flagged as zero.
    """
    from SALib.analyze import sobol

    outputs = np.asarray(outputs, dtype=float)
    if outputs.size % (len(names) + 2):
        raise ValueError(f"{outputs.size} outputs do not fit Saltelli's N × (D + 2) with D = {len(names)} parameters")
    if np.ptp(outputs) == 0:
        indices = {"S1": np.zeros(len(names)), "S1_conf": np.zeros(len(names)), "ST": np.zeros(len(names)),
                   "ST_conf": np.zeros(len(names))}
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            indices = sobol.analyze(_problem(names), outputs, calc_second_order=False, num_resamples=RESAMPLES,
                                    conf_level=CONFIDENCE, seed=seed + 1)  # SALib ignores a seed of 0
    frame = pd.DataFrame({"parameter": names})
    for key in ("S1", "ST"):
        value, half = np.asarray(indices[key], dtype=float), np.asarray(indices[f"{key}_conf"], dtype=float)
        frame[key], frame[f"{key}_low"], frame[f"{key}_high"] = value, value - half, value + half
        frame[f"{key}_zero"] = (frame[f"{key}_low"] <= 0) & (frame[f"{key}_high"] >= 0)
    return frame


def interaction_share(indices: pd.DataFrame) -> float:
    """The output's variance not explained by any parameter alone: 1 − ΣS1, at least 0."""
    return float(max(0.0, 1.0 - indices["S1"].clip(lower=0).sum()))


def morris_indices(names: list[str], unit_inputs: np.ndarray, outputs: np.ndarray, levels: int, seed: int = 0) -> pd.DataFrame:
    """Morris' elementary effects per parameter over its whole range: mu, mu_star (with interval) and sigma.

    ``unit_inputs`` are the design's coordinates in [0, 1], so an effect is the change in the output
    from moving the parameter across its range — comparable between parameters.
    """
    from SALib.analyze import morris

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        indices = morris.analyze(_problem(names), np.asarray(unit_inputs, dtype=float), np.asarray(outputs, dtype=float),
                                 num_resamples=RESAMPLES, conf_level=CONFIDENCE, num_levels=levels, seed=seed)
    return pd.DataFrame({"parameter": names, "mu": np.asarray(indices["mu"], dtype=float),
                         "mu_star": np.asarray(indices["mu_star"], dtype=float),
                         "mu_star_conf": np.asarray(indices["mu_star_conf"], dtype=float),
                         "sigma": np.asarray(indices["sigma"], dtype=float)})


def swings(base_value: float, ends: pd.DataFrame) -> pd.DataFrame:
    """One-at-a-time swings for a tornado chart, widest first.

    ``ends`` has a row per swing point: parameter, end (low | high | a choice), value (the parameter's
    value there) and outcome. Returns per parameter: low/high value, outcome at each, change from
    the base outcome at each, and the swing (high − low outcome's absolute width).
    """
    rows = []
    for parameter, group in ends.groupby("parameter", sort=False):
        records = group.to_dict("records")
        by_end = {str(record["end"]): record for record in records}
        first, last = by_end.get("low", records[0]), by_end.get("high", records[-1])
        outcomes = [float(record["outcome"]) for record in records]
        rows.append({
            "parameter": parameter,
            "low_value": first["value"], "high_value": last["value"],
            "outcome_at_low": float(first["outcome"]), "outcome_at_high": float(last["outcome"]),
            "base_outcome": float(base_value),
            "change_at_low": float(first["outcome"]) - base_value,
            "change_at_high": float(last["outcome"]) - base_value,
            "swing": max(outcomes) - min(outcomes),
        })
    frame = pd.DataFrame(rows)
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True) if rows else frame
