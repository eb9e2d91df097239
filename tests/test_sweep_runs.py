"""Running sweeps: the same files whatever runs them, failures recorded, a killed sweep resumed to the same rows."""

from __future__ import annotations

import hashlib
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from reports.commands.cli import main
from simulation.analysis.robustness import robustness_summary, run_robustness
from simulation.analysis.sweep import analyze_sweep
from simulation.model.engine import CustomerModel
from simulation.runs.sweeps import load_plan, run_sweep, sweep_rows, sweep_status
from simulation.scenario.spec import load_scenario

from .conftest import BUNDLED_SCENARIO
from .sweep_support import write_sweep
from .test_processes import _cleanup, descendants, gone_within, start, wait_for


def store_files(folder: Path) -> dict[str, str]:
    """Every result file of a store by name, with its SHA-256."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted((folder / "results").iterdir())}


@pytest.mark.slow
def test_one_worker_two_workers_and_dask_write_identical_stores(tmp_path):
    plan = load_plan(write_sweep(tmp_path))
    serial = run_sweep(plan, tmp_path / "one", workers=1)
    run_sweep(plan, tmp_path / "two", workers=2)
    run_sweep(plan, tmp_path / "dask", workers=2, dask="local")
    expected = store_files(tmp_path / "one")
    assert len(expected) >= 5 and serial.ran == len(plan.points) == 11  # 6 sampled, the base, 2 × 2 swings
    assert store_files(tmp_path / "two") == expected
    assert store_files(tmp_path / "dask") == expected
    rows = sweep_rows(tmp_path / "one")
    assert len(rows) == 11 * 2 * 2 * 4  # points × strategies × replications × quarters
    assert rows.groupby("point_id")["npv"].nunique().gt(1).all()


def test_a_point_that_raises_is_recorded_and_the_others_finish(tmp_path, monkeypatch, capsys):
    original = CustomerModel.run

    def fails_at_twelve(self):
        if self.scenario.word_of_mouth.first_hand == 12:
            raise RuntimeError("word of mouth at 12 breaks the model")
        return original(self)

    monkeypatch.setattr(CustomerModel, "run", fails_at_twelve)
    sweep = write_sweep(tmp_path, {"method": "list", "swings": False},
                        {"word_of_mouth.first_hand": {"values": [3, 12, 6, 9]}})
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet"]) == 1
    assert "clientele: 1 point failed" in capsys.readouterr().err
    status = sweep_status(out)
    assert (status.points, status.done, status.failed, status.to_do) == (4, 3, 1, 0)
    assert status.errors[0]["error"] == "RuntimeError" and "breaks the model" in status.errors[0]["message"]
    monkeypatch.setattr(CustomerModel, "run", original)  # fixed: a re-run retries only the failed point
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert sweep_status(out).done == 4 and sweep_status(out).failed == 0


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.slow
def test_a_sweep_killed_half_way_resumes_to_the_rows_of_an_uninterrupted_run(tmp_path, stop):
    sweep = write_sweep(tmp_path, {"method": "lhs", "points": 40, "swings": False}, chunk_points=1, replications=3)
    out = tmp_path / "killed"
    process = start(["sweep", str(sweep), "--out", str(out), "--workers", "2", "--quiet"], tmp_path)
    pids: set[int] = set()
    try:
        wait_for(lambda: (out / "results").is_dir() and len(list((out / "results").glob("*.parquet"))) >= 8, 120,
                 "a few points to finish")
        pids = descendants(process.pid)
        process.send_signal(stop)
        process.wait(timeout=30)
        assert not gone_within(pids, 10), "a worker outlived the command"
    finally:
        _cleanup(process, pids)
    expected_code = -signal.SIGKILL if stop == signal.SIGKILL else 143
    assert process.returncode == expected_code
    halfway = sweep_status(out)
    assert 8 <= halfway.done < 40, "the sweep was not caught half-way"
    time.sleep(0.1)
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    resumed = sweep_rows(out)
    assert sweep_status(out).done == 40
    assert not resumed.duplicated(["point_id", "strategy", "replication", "quarter"]).any()  # each point once
    whole = run_sweep(load_plan(sweep), tmp_path / "whole", workers=1)
    assert whole.ran == 40
    pd.testing.assert_frame_equal(resumed, sweep_rows(tmp_path / "whole"))
    assert not list(out.rglob(".*.tmp-*")), "a half-written file was left behind"


def test_status_and_export_read_the_store(tmp_path, capsys):
    sweep = write_sweep(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["sweep", "status", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "done          11" in printed and "to do          0" in printed
    assert main(["sweep", "export", str(out), "--to", str(tmp_path / "all.parquet")]) == 0
    exported = pd.read_parquet(tmp_path / "all.parquet")
    assert len(exported) == 11 * 2 * 2 * 4
    assert list(exported.columns[:3]) == ["point_id", "word_of_mouth.first_hand", "churn.price_elasticity"]
    assert main(["sweep", "status", str(tmp_path / "nowhere")]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


@pytest.mark.slow
def test_sobol_sweep_of_the_model_names_the_parameter_that_moves_npv(tmp_path):
    # Listed out of alphabetical order: the indices must stay with their parameters.
    sweep = write_sweep(tmp_path, {"method": "sobol", "points": 8},
                        {"word_of_mouth.second_hand": {"low": 2, "high": 6},
                         "population.revenue_median": {"low": 20, "high": 80}})
    folder = tmp_path / "out"
    run_sweep(load_plan(sweep), folder, workers=2)
    analysis = analyze_sweep(folder)
    npv = analysis.sobol[(analysis.sobol["outcome"] == "npv") & (analysis.sobol["strategy"] == "retain_all")]
    total = dict(zip(npv["parameter"], npv["ST"], strict=True))
    assert total["population.revenue_median"] > 0.8 > 0.2 > total["word_of_mouth.second_hand"]
    tornado = analysis.swings[(analysis.swings["outcome"] == "npv") & (analysis.swings["strategy"] == "retain_all")]
    assert tornado["parameter"].iloc[0] == "population.revenue_median"  # the widest swing first
    assert tornado.set_index("parameter").loc["population.revenue_median", "outcome_at_high"] > \
        tornado.set_index("parameter").loc["population.revenue_median", "outcome_at_low"]
    assert analysis.robustness["share_best"].sum() >= 1.0 and len(analysis.regret) == 32 * 2


@pytest.mark.slow
def test_robustness_runs_over_the_scenarios_uncertainties_and_reuses_its_store(tmp_path):
    small = ["population.customers=300", "market.size=20000", "horizon_quarters=4"]
    folder = run_robustness(BUNDLED_SCENARIO, tmp_path / "robustness", overrides=small, points=6, replications=2,
                            strategies=["retain_all", "divest_abrupt"], workers=2)
    assert folder is not None
    summary = robustness_summary(folder)
    declared = load_scenario(BUNDLED_SCENARIO).uncertainties
    assert set(summary.uncertainties) == set(declared)
    assert summary.uncertainties["distrust.strength"]["source"] == declared["distrust.strength"].source
    assert summary.futures == 6 and summary.recommended in ("retain_all", "divest_abrupt")
    assert sum(entry.share_best for entry in summary.strategies) >= 1.0
    assert summary.holds_share == next(e.share_best for e in summary.strategies if e.strategy == summary.recommended)
    files = store_files(folder)
    again = run_robustness(BUNDLED_SCENARIO, folder, overrides=small, points=6, replications=2,
                           strategies=["retain_all", "divest_abrupt"], workers=1)
    assert again == folder and store_files(folder) == files  # reused: nothing ran again
    assert run_robustness(BUNDLED_SCENARIO, tmp_path / "none", overrides=["uncertainties={}"]) is None


def test_a_strategy_name_with_a_quote_sweeps_exports_and_cannot_change_the_query(tmp_path):
    import yaml

    from .conftest import BUNDLED_SCENARIO
    from .sweep_support import write_sweep

    raw = yaml.safe_load(BUNDLED_SCENARIO.read_text())
    raw["strategies"]["o'brien plan"] = {"label": "O'Brien's plan", "steps": [{"action": "educate"}]}
    scenario = tmp_path / "bank.yaml"
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    sweep = write_sweep(tmp_path, design={"method": "lhs", "points": 2}, scenario=str(scenario),
                        strategies=["retain_all", "o'brien plan"])
    out = tmp_path / "store"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    exported = tmp_path / "rows.parquet"
    assert main(["sweep", "export", str(out), "--to", str(exported), "--quiet"]) == 0
    rows = pd.read_parquet(exported)
    assert set(rows["strategy"]) == {"retain_all", "o'brien plan"}
    assert list(dict.fromkeys(rows["strategy"])) == ["retain_all", "o'brien plan"]  # the sweep's order kept
    design = (out / "points.parquet").read_bytes()
    assert main(["sweep", "export", str(out), "--to", str(out / "points.parquet"), "--quiet"]) == 2
    assert (out / "points.parquet").read_bytes() == design  # the store's design table untouched
