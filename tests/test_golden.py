"""A fixed-seed small run's tables, kept in files: every change to the engine's structure reproduces them.

Two runs cover every mechanism: the bundled bank (synthetic book; capacity, morale, word of mouth,
distrust, reputation, acquisition and referrals, every strategy including the ladder and the
partner migration) and the retailer calibrated from the example transaction log (a posterior book
drawn per replication, purchases counted). The log's fit is pinned (``retailer_log_fit.json``): where a
numerical optimiser stops is the calibration's tolerance, not the engine's (the fits' analytic
gradients moved BG/NBD's r from 0.3896517035 to 0.3896519003 and every table of the log run with
it); the calibration tests hold the fits to the published values.

Counts and labels must match exactly, every other number to 1e-9 of itself. Not to the bit: the same code
gives numbers that differ in their last bits from one processor to another (numpy's and OpenBLAS's vector
paths are chosen by the CPU: on an AVX-512 machine the bank's revenue differed from these files by 4e-16 of
itself, its wait by 1e-14 minutes), while a change to the model (a month shifted, a term dropped) moves
them by more than 1e-6. A change meant to move numbers regenerates the files on purpose:

    CLIENTELE_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and says in its commit message why the numbers moved.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from simulation.data.calibration.fits import fit_log
from simulation.data.sources import PopulationSource, start_run
from simulation.runs.experiment import TABLE_KINDS, simulate
from simulation.scenario.spec import load_scenario

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("CLIENTELE_REGENERATE_GOLDEN") == "1"

RELATIVE = 1e-9  # a model change moves a number by more; processors differ in the last bits (above)
ABSOLUTE = 1e-12  # for numbers that are zero, or nearly (a Herfindahl index's last bits)

RUNS = {
    "bank": (ROOT / "scenarios" / "retail_bank.yaml",
             ["population.customers=2000", "market.size=40000", "capacity.agents=2", "horizon_quarters=8"],
             PopulationSource()),
    "retailer_log": (ROOT / "scenarios" / "retailer.yaml", ["horizon_quarters=6"],
                     PopulationSource.from_paths(None, ROOT / "examples" / "transactions.csv")),
}


FITTED = ("parameters", "standard_errors", "log_likelihood", "log_covariance")


def pinned_fit(source: PopulationSource):
    """The log's fit with its fitted values as the golden file holds them (written there on regeneration)."""
    fit = fit_log(source.path, None, "week")
    file = GOLDEN / "retailer_log_fit.json"
    if REGENERATE:
        file.write_text(json.dumps({model: {key: getattr(getattr(fit, model), key) for key in FITTED}
                                    for model in ("purchasing", "spending")}, indent=1))
    pinned = json.loads(file.read_text())
    return dataclasses.replace(fit, **{
        model: dataclasses.replace(getattr(fit, model), **{
            key: tuple(tuple(row) for row in value) if key == "log_covariance" else value
            for key, value in pinned[model].items()})
        for model in ("purchasing", "spending")})


def run_tables(name: str) -> dict[str, pd.DataFrame]:
    path, overrides, source = RUNS[name]
    scenario = load_scenario(path, overrides)
    fit = pinned_fit(source) if source.kind == "transactions" else None
    start = start_run(scenario, source, 7, explicit=[o.split("=")[0] for o in overrides], fit=fit)
    return simulate(start.scenario, start.book, dict(start.scenario.strategies), 2, 7, workers=1)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_small_runs_reproduce_their_golden_tables_exactly(name: str) -> None:
    tables = run_tables(name)
    for kind in TABLE_KINDS:
        file = GOLDEN / f"{name}_{kind}.csv"
        table = tables[kind].reset_index(drop=True)
        if REGENERATE:
            GOLDEN.mkdir(exist_ok=True)
            table.to_csv(file, index=False, float_format="%.17g")
            continue
        expected = pd.read_csv(file, keep_default_na=False, na_values=[""])
        got = pd.read_csv(pd.io.common.StringIO(table.to_csv(index=False, float_format="%.17g")),
                          keep_default_na=False, na_values=[""])
        # Columns are compared by name: a results column's place follows its declaration (the core's, then each
        # mechanism's), and moving a declaration into its mechanism moves the column, not a number.
        assert sorted(got.columns) == sorted(expected.columns), f"{file.name}: the table's columns changed"
        pd.testing.assert_frame_equal(got[expected.columns], expected, check_exact=False, rtol=RELATIVE,
                                      atol=ABSOLUTE, obj=file.name)
