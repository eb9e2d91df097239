"""A sweep store never serves numbers other code computed, and never reads other data than it planned on.

A point's identity holds the code version and the kernels beside the scenario, seed and data; a
store another version wrote is refused by name (or, for the stores a report keeps inside its
results, emptied and run again); a data file is resolved where the sweep file is and checked by
content wherever a point runs.
"""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest

from reports.commands.cli import main
from simulation.model import kernels
from simulation.runs.sweeps.plan import load_plan
from simulation.runs.sweeps.runner import run_sweep

from .conftest import PROJECT_ROOT, one_line
from .sweep_support import write_sweep

LEDGER = PROJECT_ROOT / "examples" / "ledger.csv"


def test_editing_a_scenario_a_document_or_a_reports_words_is_not_other_code_but_editing_the_engine_is(tmp_path, monkeypatch):
    from simulation.runs import results

    for folder in (*results.CODE_FOLDERS, "scenarios", "docs", "templates"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(results, "PROJECT_ROOT", tmp_path)

    def fingerprint() -> str:
        results.code_fingerprint.cache_clear()
        return results.code_fingerprint()

    try:
        before = fingerprint()
        (tmp_path / "scenarios" / "retail_bank.yaml").write_text("# pasted a tuned strategy\n", encoding="utf-8")
        (tmp_path / "docs" / "index.md").write_text("edited\n", encoding="utf-8")
        (tmp_path / "templates" / "sections" / "sweep_regret.html.j2").write_text("reworded\n", encoding="utf-8")
        assert fingerprint() == before
        engine = tmp_path / "simulation" / "model" / "engine.py"
        engine.write_text(engine.read_text() + "\n# a change\n", encoding="utf-8")
        assert fingerprint() != before
    finally:
        results.code_fingerprint.cache_clear()


def test_a_points_identity_holds_the_kernels_that_compute_it(tmp_path):
    sweep = write_sweep(tmp_path)
    with kernels.use("numba"):
        numba = load_plan(sweep).row_ids
    with kernels.use("numpy"):
        numpy = load_plan(sweep).row_ids
    assert len(numba) == len(numpy) and not set(numba) & set(numpy)


@pytest.mark.slow
def test_a_store_written_by_other_code_is_refused_naming_both_versions(tmp_path, capsys):
    sweep = write_sweep(tmp_path)
    store = tmp_path / "store"
    assert main(["sweep", str(sweep), "--out", str(store), "--workers", "1", "--quiet"]) == 0
    manifest = store / "sweep.json"
    written = json.loads(manifest.read_text())
    chunks = sorted(path.name for path in (store / "results").iterdir())
    written |= {"code_version": "0.0.9+gabcdef123456", "code_fingerprint": "0123456789abcdef"}  # an older engine's
    manifest.write_text(json.dumps(written))
    assert main(["sweep", str(sweep), "--out", str(store), "--workers", "1", "--quiet"]) == 2
    err = one_line(capsys.readouterr().err)
    assert "holds points computed by other code: clientele 0.0.9+gabcdef123456 (code 0123456789abcdef" in err
    assert "would be credited to code that did not compute them" in err
    assert json.loads(manifest.read_text())["code_version"] == "0.0.9+gabcdef123456"  # not relabelled
    assert sorted(path.name for path in (store / "results").iterdir()) == chunks


@pytest.mark.slow
def test_the_other_kernels_are_other_code_for_a_store(tmp_path, capsys):
    sweep = write_sweep(tmp_path)
    store = tmp_path / "store"
    assert main(["sweep", str(sweep), "--out", str(store), "--workers", "1", "--quiet"]) == 0
    with kernels.use("numpy" if kernels.selected() == "numba" else "numba"):
        with pytest.raises(Exception, match="kernels\\); this is"):
            run_sweep(load_plan(sweep), store, workers=1)
    # a store the tool keeps for itself (a report's robustness check) is emptied and run again instead
    with kernels.use("numpy" if kernels.selected() == "numba" else "numba"):
        run = run_sweep(load_plan(sweep), store, workers=1, discard_other_code=True)
    assert run.done_before == 0 and run.ran == run.points


def test_a_data_file_is_found_beside_the_sweep_file_and_checked_by_content_where_points_run(tmp_path, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(LEDGER, folder / "ledger.csv")
    write_sweep(folder, customers="ledger.csv")
    monkeypatch.chdir(tmp_path)
    plan = load_plan("study/sweep.yaml")  # relative, as typed
    assert plan.population.path == (folder / "ledger.csv").resolve() and plan.population.path.is_absolute()
    monkeypatch.chdir(os.sep)  # a worker elsewhere reads the same file, not one of the same name in its folder
    # The file changes after the sweep was planned (or a worker's copy holds other data): every point fails, named.
    ledger = pd.read_csv(folder / "ledger.csv")
    ledger.iloc[:50].to_csv(folder / "ledger.csv", index=False)
    run = run_sweep(plan, tmp_path / "store", workers=1)
    assert run.ran == run.failed == run.points
    failures = pd.concat(pd.read_parquet(path) for path in (tmp_path / "store" / "failures").iterdir())
    message = failures["message"].iloc[0]
    assert str(folder / "ledger.csv") in message and "the same path holds other data here" in message
    assert plan.input_data["sha256"] in message


@pytest.mark.slow
def test_a_scheduler_without_workers_stops_the_sweep_with_a_clear_error(tmp_path, monkeypatch):
    from distributed import LocalCluster

    from simulation.core.errors import ClienteleError
    from simulation.runs.sweeps import execution

    monkeypatch.setattr(execution, "NO_WORKER_SECONDS", 3.0)
    plan = load_plan(write_sweep(tmp_path))
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        with pytest.raises(ClienteleError) as stopped:
            run_sweep(plan, tmp_path / "store", dask=cluster.scheduler_address)
    message = str(stopped.value)
    assert "no worker has been connected to the scheduler for 3 s" in message
    assert f"dask worker {cluster.scheduler_address}" in message and "run the command again to resume" in message


@pytest.mark.slow
def test_a_second_command_writing_the_same_store_is_refused_and_a_kept_pool_holds_no_store(tmp_path, capsys):
    import subprocess
    import sys
    import time

    sweep = write_sweep(tmp_path)
    store = tmp_path / "store"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from simulation.runs.sweeps.store import open_store\n"
        f"with open_store({str(store)!r}):\n    print('held', flush=True); time.sleep(30)")],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["sweep", str(sweep), "--out", str(store), "--workers", "1", "--quiet"]) == 2
        assert f"another sweep is writing this folder (pid {holder.pid})" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait(timeout=10)
    # one pool kept across stores (as `optimize` keeps it): its forked workers never keep a store locked
    from simulation.runs.sweeps.execution import make_executor

    with make_executor(2, None) as executor:
        for name in ("first", "second", "first"):
            run = run_sweep(load_plan(sweep), tmp_path / name, executor=executor)
            assert run.failed == 0
    started = time.monotonic()
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "first"), "--workers", "1", "--quiet"]) == 0
    assert time.monotonic() - started < 60
