"""What each road loads (issue 19): ``--help`` only argparse and the parser, ``validate`` the scenario schema and
numpy, not the engine, and a report's notebook, which only reads results, never numba or the engine.

Each check runs in a fresh interpreter and reads the modules it imported (``-X importtime`` lists every one
as it is first imported), so no other test's imports count; none measures a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reports.kinds import KINDS
from simulation.analysis.robustness import ROBUSTNESS_FOLDER, run_robustness
from simulation.runs.experiment import run_experiment

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT

COMMANDS = ("validate", "simulate", "outcomes", "report", "sweep", "calibrate", "backtest", "optimize", "targets",
            "history")
# The libraries that make a start slow: none of them builds a parser.
HEAVY = ("numpy", "pandas", "scipy", "numba", "llvmlite", "matplotlib", "simpy", "pydantic", "yaml", "pyarrow",
         "duckdb", "papermill", "nbconvert", "nbformat", "jinja2", "weasyprint", "dask", "distributed", "optuna",
         "tqdm", "simulation.model.engine", "simulation.model.kernels", "simulation.runs.experiment", "reports.pipeline")
# What validating a synthetic scenario needs is the schema (pydantic, YAML) and numpy's draw of the book.
NOT_FOR_VALIDATE = tuple(name for name in HEAVY if name not in ("numpy", "pydantic", "yaml"))
# Reading results never runs the simulation (simulation.model.outcomes: "a reader of results never needs numba").
NOT_FOR_READING = ("numba", "llvmlite", "simpy", "simulation.model.engine", "simulation.model.kernels", "simulation.runs.experiment",
                   "simulation.runs.sweeps.plan", "simulation.runs.sweeps.runner", "simulation.runs.sweeps.tasks")
SMALL = ["population.customers=300", "market.size=20000", "horizon_quarters=4"]
STRATEGIES = ["retain_all", "migrate", "divest_abrupt"]


ENTRY_POINT = "import sys; from reports.commands.cli import main; sys.exit(main())"  # what the installed `clientele` runs


def imported(arguments: list[str]) -> set[str]:
    """Every module a fresh ``clientele`` imported, by its dotted name."""
    command = [sys.executable, "-X", "importtime", "-c", ENTRY_POINT, *arguments]
    finished = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return {line.rsplit("|", 1)[1].strip() for line in finished.stderr.splitlines() if line.startswith("import time:")
            and "|" in line and not line.rstrip().endswith("| imported package")}


def loaded(names: set[str], forbidden: tuple[str, ...]) -> list[str]:
    """Which of ``forbidden`` (a package counts with its submodules) are among ``names``."""
    return sorted(name for name in forbidden if any(found == name or found.startswith(name + ".") for found in names))


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_loads_only_the_parser(command):
    names = imported([command, "--help"] if command else ["--help"])
    assert "argparse" in names and "reports.commands.cli" in names  # what was read is what was run
    assert loaded(names, HEAVY) == []


def test_every_command_names_the_modules_it_loads_and_they_exist():
    """``main`` imports them before the command begins (where a Ctrl-C leaves at once): a misspelt one would fail."""
    from reports.commands.cli import build_parser

    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    assert set(commands.choices) == set(COMMANDS)
    for name, parser in commands.choices.items():
        modules = parser.get_default("modules")
        assert modules, name
        assert [module for module in modules if importlib.util.find_spec(module) is None] == [], name


def test_validate_loads_the_schema_not_the_engine():
    names = imported(["validate", str(BUNDLED_SCENARIO)])
    assert {"simulation.scenario.spec", "pydantic", "numpy"} <= names
    assert loaded(names, NOT_FOR_VALIDATE) == []


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A board report's results folder, as `clientele report` leaves it: the run, and its robustness store."""
    folder = tmp_path_factory.mktemp("report") / "results"
    run_experiment(BUNDLED_SCENARIO, folder, replications=2, workers=1, strategies=STRATEGIES, overrides=SMALL)
    run_robustness(BUNDLED_SCENARIO, folder / ROBUSTNESS_FOLDER, overrides=SMALL, strategies=STRATEGIES[:2], points=3,
                   replications=1, workers=1)
    return folder


def notebook_code(kind: str, results_dir: Path, output_dir: Path) -> str:
    """The report notebook of ``kind`` as one script: its parameters set as `clientele report` sets them, then every
    cell, as the kernel runs them; it prints the modules it ended with."""
    notebook = nbformat.read(KINDS[kind].notebook, as_version=4)
    cells = [cell.source for cell in notebook.cells
             if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])]
    parameters = (f"results_dir = {str(results_dir)!r}\noutput_dir = {str(output_dir)!r}\nkind = {kind!r}\n"
                  "quarter = '2026Q4'\n")
    return "\n".join([parameters, *cells, "import json, sys\nprint(json.dumps(sorted(sys.modules)))"])


@pytest.mark.parametrize("kind", ["board", "comparison", "sweep"])
@pytest.mark.slow
def test_a_report_notebook_reads_results_without_the_engine(kind, results, tmp_path):
    results_dir = results / ROBUSTNESS_FOLDER if KINDS[kind].reads == "sweep" else results
    code = notebook_code(kind, results_dir, tmp_path / "notebook")
    finished = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    names = set(json.loads(finished.stdout.strip().splitlines()[-1]))
    assert "reports.document" in names or "reports.sweep_document" in names
    assert loaded(names, NOT_FOR_READING) == []
