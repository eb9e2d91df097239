"""``simulate --dask``: the replications run on a Dask cluster give the tables the process pool gives, bit for bit."""

from __future__ import annotations

import pandas as pd
import pytest

from reports.commands.cli import main
from simulation.runs.results import TABLE_FILES, load_results

from .conftest import BUNDLED_SCENARIO, SMALL_RUN


@pytest.mark.slow
def test_simulate_on_a_local_dask_cluster_gives_the_pools_results(tmp_path):
    common = ["simulate", str(BUNDLED_SCENARIO), *SMALL_RUN, "--replications", "3", "--workers", "2", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "pool")]) == 0
    assert main([*common, "--dask", "local", "--out", str(tmp_path / "dask")]) == 0
    pool, dask = load_results(tmp_path / "pool"), load_results(tmp_path / "dask")
    for kind in TABLE_FILES:
        pd.testing.assert_frame_equal(getattr(pool, kind), getattr(dask, kind), check_exact=True)
    assert dask.provenance["dask"] == "local" and "dask" not in pool.provenance
    assert not pool.reach.empty and len(pool.quarters) == 3 * 4 * len(pool.scenario.strategies)


def test_an_empty_dask_address_is_refused(capsys):
    with pytest.raises(SystemExit) as leaving:  # argparse refuses it, before anything runs
        main(["simulate", str(BUNDLED_SCENARIO), "--dask", " ", "--out", "nowhere"])
    assert leaving.value.code == 2
    assert "expected `local` or a scheduler address" in capsys.readouterr().err
