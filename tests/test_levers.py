"""Levers: a strategy's own settings, named by path into its steps, swept like any parameter.

``strategies.ladder.steps.1.surcharge`` names the surcharge of the ladder's second step; the step
found at that position decides which fields it has, so a path is checked against the scenario
itself, up front, with the path, the value and what was expected.
"""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.core.errors import ScenarioError
from simulation.runs.sweeps.plan import load_plan
from simulation.runs.sweeps.runner import run_sweep
from simulation.scenario.spec import load_scenario

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


THRESHOLD = "strategies.ladder.steps.0.target.max_monthly_profit"
FUTURES = {"word_of_mouth.first_hand": {"low": 3, "high": 15}, "churn.price_elasticity": {"low": 0.5, "high": 4}}


def _horizon_means(store) -> pd.DataFrame:
    rows = pd.concat(pd.read_parquet(path) for path in sorted((store / "results").iterdir()))
    final = rows[rows["quarter"] == rows["quarter"].max()]
    return final.groupby(["point_id", "strategy"])["npv_plus_book"].mean()


def test_levers_cross_every_policy_with_every_future_and_each_policy_is_an_option_there(tmp_path):
    """Policies × futures (EMA's design): a policy's point is the very run a sweep setting that policy would make,
    the declared options are the same under every policy (common random numbers), and the analysis reads each
    policy as an option in each future; the region table's best settings are the ones with the highest mean."""
    from simulation.analysis.sweep import analyze_sweep
    from simulation.runs.sweeps.designs import ROLE_DESIGN

    levers = {SURCHARGE: {"values": [0.05, 0.4]}, THRESHOLD: {"values": [-10, 0]}}
    crossed = write_sweep(tmp_path, strategies=["retain_all", "ladder"], replications=1,
                          design={"method": "lhs", "points": 3, "swings": False}, parameters=FUTURES, levers=levers)
    plan = load_plan(crossed)
    assert len(plan.rows) == 3 * 4 and len(plan.points) == 12
    run_sweep(plan, tmp_path / "crossed", workers=2)
    means = _horizon_means(tmp_path / "crossed")

    # One policy swept alone, set: in a sweep of its own, in the same three futures, gives the same numbers.
    alone_dir = tmp_path / "alone"
    alone_dir.mkdir()
    alone = write_sweep(alone_dir, strategies=["retain_all", "ladder"], replications=1,
                        design={"method": "lhs", "points": 3, "swings": False}, parameters=FUTURES,
                        set={"population.customers": 300, "market.size": 20000, "horizon_quarters": 4,
                             SURCHARGE: 0.4, THRESHOLD: -10})
    alone_plan = load_plan(alone)
    run_sweep(alone_plan, tmp_path / "alone_store", workers=2)
    alone_means = _horizon_means(tmp_path / "alone_store")
    policy = next(number for number, row in enumerate(plan.rows) if row.values[SURCHARGE] == 0.4
                  and row.values[THRESHOLD] == -10)  # the first row of that policy
    policy = plan.rows[policy].policy
    crossed_ids = [identity for row, identity in zip(plan.rows, plan.row_ids, strict=True) if row.policy == policy]
    first_ids = [identity for row, identity in zip(plan.rows, plan.row_ids, strict=True) if row.policy == 0]
    assert policy > 0 and all(point.strategies == ("ladder",) for point in plan.points if point.point_id in crossed_ids)
    for mine, first, theirs in zip(crossed_ids, first_ids, alone_plan.row_ids, strict=True):
        assert means.loc[(mine, "ladder")] == alone_means.loc[(theirs, "ladder")]
        assert (mine, "retain_all") not in means.index  # a later policy runs the tuned strategy alone:
        assert means.loc[(first, "retain_all")] == alone_means.loc[(theirs, "retain_all")]  # the first's is the same

    analysis = analyze_sweep(tmp_path / "crossed")
    options = [f"ladder@{k}" for k in range(4)]
    assert analysis.strategies == ["retain_all", *options]
    assert len(analysis.design[analysis.design["role"] == ROLE_DESIGN]) == 3  # three futures, not twelve points
    keep = [means.loc[(identity, "retain_all")] for identity in first_ids]
    assert list(analysis.point_outcomes.set_index("strategy").loc["retain_all", "npv_plus_book"]) == keep
    by_policy = {k: sum(means.loc[(identity, "ladder")] for row, identity in zip(plan.rows, plan.row_ids, strict=True)
                        if row.policy == k) / 3 for k in range(4)}
    best = max(by_policy, key=lambda k: by_policy[k])
    overall = analysis.regions.iloc[0]
    assert overall["region"] == "every future" and overall["option"] == f"ladder@{best}"
    assert overall["value"] == pytest.approx(by_policy[best], rel=1e-12)
    assert overall["lead"] == pytest.approx(by_policy[best] - sum(keep) / 3, rel=1e-12)
    assert overall["settings"] == {SURCHARGE: plan.rows[best * 3].values[SURCHARGE],
                                   THRESHOLD: plan.rows[best * 3].values[THRESHOLD]}
    halves = analysis.regions[analysis.regions["parameter"] == "churn.price_elasticity"]
    assert list(halves["region"]) == ["below 2.25", "2.25 or above"] and halves["futures"].sum() == 3


@pytest.mark.parametrize("levers, expected", [
    ({"churn.price_elasticity": {"values": [1, 2]}}, "a lever is a setting of a strategy's step"),
    ({SURCHARGE: {"low": 0.0, "high": 0.5}}, "each needs values or low, high and levels"),
    ({SURCHARGE: {"values": [0.1]}, "strategies.divest_abrupt.steps.0.style": {"values": ["graceful"]}},
     "levers tune one strategy at a time"),
    ({SURCHARGE: {"values": [0.1, 9.0]}}, "surcharge' input should be less than or equal to 5: got 9.0"),
    ({"strategies.ladder.steps.9.surcharge": {"values": [0.1]}}, "steps.9"),
])
def test_a_lever_that_cannot_be_set_is_refused_before_anything_runs(tmp_path, levers, expected):
    sweep = write_sweep(tmp_path, strategies=["retain_all", "ladder", "divest_abrupt"],
                        design={"method": "lhs", "points": 2, "swings": False}, levers=levers)
    with pytest.raises(ScenarioError) as error:
        load_plan(sweep)
    assert expected in str(error.value) and not (tmp_path / "store").exists()


def test_levers_tune_a_strategy_the_sweep_compares(tmp_path):
    sweep = write_sweep(tmp_path, strategies=["retain_all", "divest_abrupt"],
                        design={"method": "lhs", "points": 2, "swings": False}, levers={SURCHARGE: {"values": [0.1]}})
    with pytest.raises(ScenarioError, match="levers: tune 'ladder', which is not among the strategies compared"):
        load_plan(sweep)


@pytest.mark.parametrize("lever, words", [
    ({"churn.price_elasticity": {"low": 1, "high": 2}}, "is not a setting of a strategy's step"),
    ({SURCHARGE: {"low": 0.1, "high": 9}}, "must be <= 5: got 9"),
    ({"strategies.ladder.steps.4.style": {"low": 0, "high": 1}}, "is a choice: give values ('graceful', 'abrupt')"),
    ({"strategies.ladder.steps.4.style": {"values": ["gently"]}}, "takes 'graceful', 'abrupt': got 'gently'"),
    ({"strategies.ladder.steps.1.fee_share": {"values": [0.1]}}, "fee_share"),
    ({SURCHARGE: {"low": 0.3, "high": 0.1}}, "a range needs low below high"),
])
def test_a_scenarios_levers_are_checked_against_its_strategies(lever, words):
    with pytest.raises(ScenarioError) as error:
        load_scenario(BUNDLED_SCENARIO, [f"levers={__import__('json').dumps(lever)}"])
    assert words in str(error.value) and "levers" in str(error.value)


@pytest.mark.slow
def test_a_sweep_of_levers_alone_for_one_strategy_is_reported_and_exported(tmp_path):
    """No parameters (the scenario as it is) and one strategy: its policies are the options the report compares;
    the export carries each row's policy and lever values."""
    from pypdf import PdfReader

    from reports.commands.cli import main

    from .conftest import pdf_text

    sweep = write_sweep(tmp_path, strategies=["ladder"], replications=1, design={"method": "grid", "swings": False},
                        parameters={}, levers={SURCHARGE: {"low": 0.05, "high": 0.45, "levels": 3}})
    out = tmp_path / "store"
    assert main(["report", str(sweep), "--kind", "sweep", "--workers", "1", "--quiet", "--out", str(out)]) == 0
    text = " ".join(pdf_text(PdfReader(out / "sweep_report.pdf")).split())
    assert "Which settings do best, and where" in text and "3 combinations of the Divestment ladder's settings" in text
    assert main(["sweep", "export", str(out), "--to", str(tmp_path / "rows.parquet")]) == 0
    rows = pd.read_parquet(tmp_path / "rows.parquet")
    assert sorted(rows[SURCHARGE].unique()) == [0.05, 0.25, 0.45] and sorted(rows["policy"].unique()) == [0, 1, 2]


def test_a_future_one_policy_lacks_is_left_out_for_every_option_and_said_so(tmp_path):
    """An interrupted store: a future missing for one policy is missing for the comparison, not filled by the others."""
    from simulation.analysis.sweep import analyze_sweep
    from simulation.runs.sweeps.designs import ROLE_DESIGN
    from simulation.runs.sweeps.tasks import chunk_id

    plan = load_plan(write_sweep(tmp_path, strategies=["retain_all", "ladder"], replications=1, chunk_points=1,
                                 design={"method": "lhs", "points": 3, "swings": False}, parameters=FUTURES,
                                 levers={SURCHARGE: {"values": [0.05, 0.4]}}))
    run_sweep(plan, tmp_path / "store", workers=2)
    lost = next(identity for row, identity in zip(plan.rows, plan.row_ids, strict=True) if row.policy == 1)
    (tmp_path / "store" / "results" / f"{chunk_id([lost])}.parquet").unlink()
    analysis = analyze_sweep(tmp_path / "store")
    assert any("1 of 3 design points have no results yet" in note for note in analysis.notes), analysis.notes
    futures = set(analysis.design.loc[analysis.design["role"] == ROLE_DESIGN, "point_id"])
    compared = set(analysis.point_outcomes["point_id"])
    assert len(compared & futures) == 2 and analysis.regions.iloc[0]["futures"] == 2
