"""Parameter sweeps: many scenario points × strategies × replications, into a store that survives interruption.

``load_plan`` reads a sweep file and validates every point; ``run_sweep`` runs what is not yet
done (in this process, a process pool or on Dask); ``sweep_status``, ``sweep_rows`` and
``export_rows`` read the store with DuckDB. The analysis of a finished store is in
``simulation.sweeps.analysis``.
"""

from .plan import SweepPlan, load_plan, plan_from_scenario
from .queries import design_table, export_rows, read_manifest, sweep_rows, sweep_status
from .runner import SweepRun, run_sweep

__all__ = ["SweepPlan", "SweepRun", "design_table", "export_rows", "load_plan", "plan_from_scenario", "read_manifest",
           "run_sweep", "sweep_rows", "sweep_status"]
