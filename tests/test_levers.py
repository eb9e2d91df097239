"""Levers: a strategy's own settings, named by path into its steps, swept like any parameter.

``strategies.ladder.steps.1.surcharge`` names the surcharge of the ladder's second step; the step
found at that position decides which fields it has, so a path is checked against the scenario
itself, up front, with the path, the value and what was expected.
"""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.errors import ScenarioError
from simulation.scenario import load_scenario
from simulation.sweeps.plan import load_plan
from simulation.sweeps.runner import run_sweep

from .conftest import BUNDLED_SCENARIO
from .sweep_support import write_sweep

SURCHARGE = "strategies.ladder.steps.1.surcharge"  # the bundled ladder's second step reprices


def test_a_lever_sets_the_step_at_its_position_and_nothing_else(tmp_path):
    plan = load_plan(write_sweep(tmp_path, strategies=["retain_all", "ladder"], design={"method": "grid", "swings": False},
                                 parameters={SURCHARGE: {"values": [0.05, 0.4]}}))
    assert plan.resolved[SURCHARGE].kind == "real" and plan.resolved[SURCHARGE].maximum == 5.0
    surcharges = sorted(point.scenario["strategies"]["ladder"]["steps"][1]["surcharge"] for point in plan.points
                        if point.values)
    assert surcharges == [0.05, 0.4]
    run_sweep(plan, tmp_path / "store", workers=1)
    rows = pd.concat(pd.read_parquet(path) for path in sorted((tmp_path / "store" / "results").iterdir()))
    at = {point.values[SURCHARGE]: point.point_id for point in plan.points if point.values}
    final = rows[rows["quarter"] == rows["quarter"].max()].set_index(["point_id", "strategy", "replication"])
    keep_low, keep_high = (final.loc[at[s]].loc["retain_all"]["npv"] for s in (0.05, 0.4))
    pd.testing.assert_series_equal(keep_low, keep_high)  # the lever is the ladder's: keeping everyone is untouched
    ladder_low, ladder_high = (final.loc[at[s]].loc["ladder"]["revenue"] for s in (0.05, 0.4))
    assert not ladder_low.equals(ladder_high)  # and it moves the ladder


@pytest.mark.parametrize("path, spec, words", [
    ("strategies.ladder.steps.9.surcharge", {"low": 0.1, "high": 0.2},
     "'9' is not a position in strategies.ladder.steps, which has 5 entries (0 to 4)"),
    ("strategies.ladder.steps.0.surcharge", {"low": 0.1, "high": 0.2},
     "'surcharge' is not a field of strategies.ladder.steps.0 (known: action, contact_reduction"),
    ("strategies.nope.steps.1.surcharge", {"low": 0.1, "high": 0.2},
     "'nope' is not an entry of strategies (it has: retain_all"),
    (SURCHARGE, {"low": 0.1, "high": 6.0}, "6"),
    ("strategies.ladder.steps.4.style", {"values": ["graceful", "rude"]}, "rude"),
])
def test_a_lever_that_does_not_exist_or_does_not_fit_is_refused_before_anything_runs(tmp_path, path, spec, words):
    with pytest.raises(ScenarioError) as refused:
        load_plan(write_sweep(tmp_path, strategies=["retain_all", "ladder"], parameters={path: spec}))
    message = str(refused.value)
    assert path in message and words in message, message
    assert not (tmp_path / "store").exists()


def test_a_lever_can_be_set_like_any_other_path():
    scenario = load_scenario(BUNDLED_SCENARIO, [f"{SURCHARGE}=0.3"])
    assert scenario.strategies["ladder"].steps[1].surcharge == 0.3
    with pytest.raises(ScenarioError, match="'7' is not a position in strategies.ladder.steps"):
        load_scenario(BUNDLED_SCENARIO, ["strategies.ladder.steps.7.surcharge=0.3"])
