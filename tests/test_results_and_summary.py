"""The results folder is complete or absent, is reused when nothing changed, and summarises correctly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simulation.analysis.summary import mean_interval, recommend, strategy_summary
from simulation.core.errors import ClienteleError
from simulation.runs.experiment import run_experiment, run_or_reuse
from simulation.runs.results import load_results

from .conftest import BUNDLED_SCENARIO

SMALL = ["population.customers=500", "market.size=10000", "horizon_quarters=4"]


def test_run_or_reuse_does_not_simulate_again_for_the_same_run(tmp_path):
    out = tmp_path / "run"
    run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=3, overrides=SMALL, workers=1)
    first = (out / "provenance.json").read_text()
    run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=3, overrides=SMALL, workers=1)
    assert (out / "provenance.json").read_text() == first  # untouched: same created_at
    run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=4, overrides=SMALL, workers=1)
    assert load_results(out).provenance["seed"] == 4


def test_results_made_by_other_code_are_simulated_again(tmp_path):
    out = tmp_path / "run"
    run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=3, overrides=SMALL, workers=1)
    provenance = json.loads((out / "provenance.json").read_text())
    provenance["code_version"] = "0.0.9+gdeadbeef0000"
    (out / "provenance.json").write_text(json.dumps(provenance))
    run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=3, overrides=SMALL, workers=1)
    assert load_results(out).provenance["code_version"] != "0.0.9+gdeadbeef0000"


@pytest.mark.parametrize("field, forged", [("created_at", "2020-01-01T00:00:00+00:00"), ("overrides", []),
                                           ("workers", 64)], ids=["date", "overrides", "workers"])
def test_a_hand_edited_provenance_is_simulated_again_with_the_reason(tmp_path, field, forged):
    out = tmp_path / "run"
    run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=3, overrides=SMALL, workers=1)
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance[field] != forged
    provenance[field] = forged
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2, sort_keys=True))
    with pytest.raises(ClienteleError, match="provenance.json .its fields differ from those sealed"):
        load_results(out)  # a report reading the folder never prints the forged value
    record = run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=3, overrides=SMALL,
                          workers=1)
    assert not record.reused and "provenance.json (its fields differ" in record.reason
    assert load_results(out).provenance[field] != forged


@pytest.mark.parametrize("provenance", ["[]", '{"input_data": null}', "not json"])
def test_a_malformed_provenance_means_simulate_again_not_a_crash(tmp_path, provenance):
    out = tmp_path / "run"
    run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=3, overrides=SMALL, workers=1)
    (out / "provenance.json").write_text(provenance)
    record = run_or_reuse(BUNDLED_SCENARIO, out, strategies=["retain_all"], replications=2, seed=3, overrides=SMALL,
                          workers=1)
    assert not record.reused and load_results(out).provenance["seed"] == 3


def test_results_read_back_with_scenario_and_provenance(tmp_path):
    written = run_experiment(BUNDLED_SCENARIO, tmp_path, strategies=["retain_all", "divest_graceful"],
                             replications=2, seed=1, overrides=SMALL, workers=1)
    read = load_results(tmp_path)
    pd.testing.assert_frame_equal(read.quarters, written.quarters)
    assert read.scenario.content_hash() == written.provenance["scenario_hash"]
    assert set(read.segments["segment"]) == set(range(1, 9))
    np.testing.assert_allclose(read.lorenz.groupby(["strategy", "replication"])["profit_share"].last(), 1.0)


def test_a_folder_without_provenance_is_refused(tmp_path):
    with pytest.raises(ClienteleError, match="no complete results here"):
        load_results(tmp_path)


def test_summary_gives_t_intervals_tails_and_paired_differences():
    rows = []
    for replication, (base, alt) in enumerate([(100.0, 130.0), (110.0, 138.0), (90.0, 125.0), (120.0, 149.0)]):
        for strategy, final in (("retain_all", base), ("ladder", alt)):
            rows.append({"strategy": strategy, "replication": replication, "quarter": 1, "profit": -5.0 if replication == 0 else 5.0,
                         "cumulative_profit": final / 2, "npv": final / 2, "option_value": 0.0, "option_turns_positive": 0})
            rows.append({"strategy": strategy, "replication": replication, "quarter": 2, "profit": 5.0,
                         "cumulative_profit": final, "npv": final * 0.9, "option_value": 0.0, "option_turns_positive": 0})
    frame = pd.DataFrame(rows)
    for column in ("market_share", "revenue_market_share", "active_customers", "top10_positive_profit_share", "hhi",
                   "effective_customers", "gini", "reputation", "customer_equity", "top1_loss", "satisfaction",
                   "morale", "acquired", "churned", "divested", "migrated", "wom_reach", "lost_acquisitions"):
        frame[column] = 1.0
    summary = strategy_summary(frame).set_index("strategy")
    ladder = summary.loc["ladder"]
    values = np.array([130.0, 138.0, 125.0, 149.0])
    assert ladder["cumulative_profit_mean"] == pytest.approx(values.mean())
    half = 3.182446305284263 * values.std(ddof=1) / 2  # t(0.975, 3)
    assert ladder["cumulative_profit_ci_high"] == pytest.approx(values.mean() + half)
    assert ladder["cumulative_profit_p5"] == pytest.approx(np.percentile(values, 5))
    assert ladder["prob_loss_quarter"] == pytest.approx(1 / 8)
    assert ladder["prob_any_loss_quarter"] == pytest.approx(1 / 4)
    differences = values - np.array([100.0, 110.0, 90.0, 120.0])
    assert ladder["profit_vs_baseline_mean"] == pytest.approx(differences.mean())
    best, reasons = recommend(summary.reset_index())
    assert best == "ladder" and any("paired 95 % CI" in reason for reason in reasons)


def test_mean_interval_of_a_single_value_has_zero_width():
    assert mean_interval(np.array([3.0])) == (3.0, 3.0, 3.0)
