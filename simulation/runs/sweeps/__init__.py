"""Parameter sweeps: many scenario points × strategies × replications, into a store that survives interruption.

``load_plan`` reads a sweep file and validates every point; ``run_sweep`` runs what is not yet
done (in this process, a process pool or on Dask); ``sweep_status``, ``sweep_rows`` and
``export_rows`` read the store with DuckDB. The analysis of a finished store is in
``simulation.analysis.sweep``.

Each name loads its module when first used: the plan and the runner load the engine and numba, which
a reader of a finished store (a report's notebook, ``clientele sweep status``) never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulation.runs.sweeps.plan import SweepPlan, load_plan, plan_from_scenario
    from simulation.runs.sweeps.queries import design_table, export_rows, read_manifest, sweep_rows, sweep_status
    from simulation.runs.sweeps.runner import SweepRun, run_sweep

_MODULES = {"SweepPlan": "plan", "load_plan": "plan", "plan_from_scenario": "plan", "design_table": "queries",
            "export_rows": "queries", "read_manifest": "queries", "sweep_rows": "queries", "sweep_status": "queries",
            "SweepRun": "runner", "run_sweep": "runner"}

__all__ = ["SweepPlan", "SweepRun", "design_table", "export_rows", "load_plan", "plan_from_scenario", "read_manifest",
           "run_sweep", "sweep_rows", "sweep_status"]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULES[name]}", __name__), name)
    globals()[name] = value  # once
    return value
