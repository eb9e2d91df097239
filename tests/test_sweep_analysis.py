"""The sweep analysis on cases with known answers: Ishigami's Sobol indices, regret on a constructed table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from SALib.sample import sobol as sobol_sample

from simulation.analysis.discovery import flip_boxes
from simulation.analysis.regret import best_strategies, point_regret, strategy_robustness
from simulation.analysis.sensitivity import interaction_share, sobol_indices

# Ishigami & Homma (1990) with a = 7, b = 0.1 on [−π, π]^3: the published indices (Saltelli et al. 2008, p. 179).
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_ishigami_match_the_published_values_within_their_intervals():
    names = ["x1", "x2", "x3"]
    inputs = sobol_sample.sample({"num_vars": 3, "names": names, "bounds": [[-np.pi, np.pi]] * 3}, 4096,
                                 calc_second_order=False, seed=3)  # N = 4096: intervals ±0.05
    indices = sobol_indices(names, ishigami(inputs), seed=3)
    for key, published in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        for row, value in zip(indices.itertuples(), published, strict=True):
            low, high = getattr(row, f"{key}_low"), getattr(row, f"{key}_high")
            assert low <= value <= high, f"{key} of {row.parameter}: {value} outside [{low:.3f}, {high:.3f}]"
            assert high - low < 0.1  # an interval this narrow can miss: the check has teeth
    assert list(indices["S1_zero"]) == [False, False, True]  # x3 acts only through its interaction with x1
    assert not indices["ST_zero"].any()
    assert interaction_share(indices) == pytest.approx(1 - 0.3139 - 0.4424, abs=0.06)


def test_sobol_indices_refuse_outputs_that_are_not_a_saltelli_sample():
    with pytest.raises(ValueError, match=r"do not fit Saltelli's N × \(D \+ 2\)"):
        sobol_indices(["a", "b"], np.ones(10))


def test_best_strategy_regret_and_shares_on_a_constructed_table():
    values = pd.DataFrame({
        "point_id": ["p1"] * 3 + ["p2"] * 3 + ["p3"] * 3 + ["p4"] * 3,
        "strategy": ["keep", "ladder", "abrupt"] * 4,
        "value": [10, 12, 5,   # ladder best by 2, abrupt worst
                  10, 9, 11,   # abrupt best, ladder worst
                  8, 12, 12,   # ladder and abrupt tie for best
                  7, 15, 1],   # ladder best by 8
    })
    regrets = point_regret(values)
    assert regrets.loc[(regrets.point_id == "p1") & (regrets.strategy == "abrupt"), "regret"].item() == 7
    assert list(best_strategies(regrets, ["keep", "ladder", "abrupt"])) == ["ladder", "abrupt", "ladder = abrupt", "ladder"]
    table = strategy_robustness(regrets, ["keep", "ladder", "abrupt"], threshold=10).set_index("strategy")
    assert table.loc["ladder", "share_best"] == 0.75 and table.loc["abrupt", "share_best"] == 0.5
    assert table.loc["keep", "share_best"] == 0.0 and table.loc["abrupt", "share_worst"] == 0.5
    assert table.loc["keep", "max_regret"] == 8 and table.loc["abrupt", "max_regret"] == 14
    assert table.loc["ladder", "p90_regret"] == pytest.approx(np.percentile([0, 2, 0, 0], 90))
    assert table.loc["keep", "satisficing_share"] == 0.5 and table.loc["ladder", "satisficing_share"] == 0.75


def test_flip_boxes_find_the_range_where_the_recommendation_loses():
    rng = np.random.default_rng(5)
    inputs = pd.DataFrame({"word_of_mouth.first_hand": rng.uniform(3, 15, 300), "churn.price_elasticity": rng.uniform(0.5, 4, 300)})
    flipped = ((inputs["word_of_mouth.first_hand"] > 11) & (inputs["churn.price_elasticity"] < 2)).to_numpy()
    boxes = flip_boxes(inputs, flipped, pd.Series(np.where(flipped, "retain_all", "ladder")))
    assert len(boxes) == 1
    box = boxes[0]
    ranges = {condition.parameter: condition for condition in box.conditions}
    assert ranges["word_of_mouth.first_hand"].low == pytest.approx(11, abs=0.3)
    assert ranges["churn.price_elasticity"].high == pytest.approx(2, abs=0.1)
    assert ranges["word_of_mouth.first_hand"].text.startswith("above 1")
    assert box.density == 1.0 and box.coverage == 1.0 and box.winners == {"retain_all": int(flipped.sum())}


def test_no_flip_box_when_the_recommendation_always_holds():
    inputs = pd.DataFrame({"a": np.linspace(0, 1, 20)})
    assert flip_boxes(inputs, np.zeros(20, dtype=bool)) == []
