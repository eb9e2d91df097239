"""Sweep throughput: points a second on 1 and 2 workers, Dask against the pool, memory per worker, a study's cost.

    python -m benchmarks.sweep_throughput [--json]

1. A 200-point Latin-hypercube sweep (a 1,000-customer bank, 12 quarters, 2 strategies × 2
   replications a point) on 1 worker and on 2: points a second and parallel efficiency
   (speed-up ÷ workers).
2. The same sweep on a Dask LocalCluster of 2 workers against the 2-worker pool: overhead with
   and without the cluster's start.
3. Peak memory per worker over 100 and 1,000 points of a smaller point (300 customers, 4
   quarters), each in a fresh process: flat means the store, not the workers, holds the results.
4. On paper: a 10,000-point Sobol study of the bundled scenario (20,000 customers, 7 strategies,
   12 quarters, 8 replications a point), from the measured time of one point.

``--json`` prints one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "retail_bank.yaml"
SOBOL_STUDY_POINTS = 10_000
SOBOL_STUDY_REPLICATIONS = 8


def sweep_file(folder: Path, points: int, customers: int, quarters: int, replications: int) -> Path:
    import yaml

    path = folder / f"bench-{points}-{customers}.yaml"
    path.write_text(yaml.safe_dump({
        "name": f"Benchmark: {points} points",
        "scenario": str(SCENARIO),
        "strategies": ["retain_all", "ladder"],
        "replications": replications,
        "seed": 3,
        "set": {"population.customers": customers, "market.size": customers * 20, "horizon_quarters": quarters},
        "design": {"method": "lhs", "points": points, "swings": False},
        "parameters": {"word_of_mouth.first_hand": {"low": 3, "high": 15},
                       "churn.price_elasticity": {"low": 0.5, "high": 4}},
    }))
    return path


def timed_run(sweep: Path, out: Path, workers: int, dask: str | None = None) -> float:
    from simulation.runs.sweeps import load_plan, run_sweep

    plan = load_plan(sweep)
    started = time.perf_counter()
    run = run_sweep(plan, out, workers=workers, dask=dask)
    assert run.ran == len(plan.points) and run.failed == 0
    return time.perf_counter() - started


def cluster_start_seconds() -> float:
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster):
            pass
    return time.perf_counter() - started


def memory_run(points: int, folder: Path) -> dict[str, float]:
    """In a fresh process: peak RSS of the largest pool worker and of the command, MiB."""
    sweep = sweep_file(folder, points, 300, 4, 1)
    code = ("import json, resource, sys\n"
            "from simulation.runs.sweeps import load_plan, run_sweep\n"
            f"run_sweep(load_plan({str(sweep)!r}), {str(folder / f'memory-{points}')!r}, workers=2)\n"
            "print(json.dumps({'worker_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
            "'command_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def bundled_point_seconds() -> float:
    """One replication of every bundled strategy on the bundled scenario, best of two."""
    from simulation.data.sources import PopulationSource
    from simulation.runs.experiment import run_replication, select_strategies
    from simulation.scenario.spec import load_scenario

    scenario = load_scenario(SCENARIO)
    population = PopulationSource().load(scenario, 3)
    strategies = select_strategies(scenario, None)
    run_replication(scenario, population, strategies, 3, 0)  # compile and warm up
    best = float("inf")
    for replication in (1, 2):
        started = time.perf_counter()
        run_replication(scenario, population, strategies, 3, replication)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        sweep = sweep_file(folder, 200, 1000, 12, 2)
        timed_run(sweep_file(folder, 4, 1000, 12, 2), folder / "warm", 1)  # numba's compile, outside the timing
        one = timed_run(sweep, folder / "one", 1)
        two = timed_run(sweep, folder / "two", 2)
        dask = timed_run(sweep, folder / "dask", 2, "local")
        start = cluster_start_seconds()
        store_bytes = sum(path.stat().st_size for path in (folder / "one" / "results").iterdir())
        memory = {points: memory_run(points, folder) for points in (100, 1000)}
    rep_seconds = bundled_point_seconds()
    point_seconds = rep_seconds * SOBOL_STUDY_REPLICATIONS
    core_hours = SOBOL_STUDY_POINTS * point_seconds / 3600
    rows_per_point = 7 * SOBOL_STUDY_REPLICATIONS * 12
    result = {
        "points": 200,
        "points_per_second_1_worker": 200 / one,
        "points_per_second_2_workers": 200 / two,
        "parallel_efficiency": (one / two) / 2,
        "dask_seconds": dask,
        "pool_seconds": two,
        "dask_overhead_with_start": dask / two - 1,
        "dask_cluster_start_seconds": start,
        "dask_overhead_without_start": (dask - start) / two - 1,
        "store_bytes_per_row": store_bytes / (200 * 2 * 2 * 12),
        "worker_peak_mib_100_points": memory[100]["worker_mib"],
        "worker_peak_mib_1000_points": memory[1000]["worker_mib"],
        "command_peak_mib_100_points": memory[100]["command_mib"],
        "command_peak_mib_1000_points": memory[1000]["command_mib"],
        "bundled_replication_seconds": rep_seconds,
        "sobol_study_points": SOBOL_STUDY_POINTS,
        "sobol_study_core_hours": core_hours,
        "sobol_study_hours_2_cores": core_hours / 2 / max((one / two) / 2, 1e-9),
        "sobol_study_store_gib": SOBOL_STUDY_POINTS * rows_per_point * (store_bytes / (200 * 2 * 2 * 12)) / 2**30,
    }
    print(f"200-point sweep: {result['points_per_second_1_worker']:.2f} points/s on 1 worker, "
          f"{result['points_per_second_2_workers']:.2f} on 2 (parallel efficiency {result['parallel_efficiency']:.0%})")
    print(f"Dask LocalCluster: {dask:.1f} s against the pool's {two:.1f} s — overhead {result['dask_overhead_with_start']:+.0%} "
          f"with the cluster's {start:.1f} s start, {result['dask_overhead_without_start']:+.0%} without")
    print(f"peak memory of a worker: {memory[100]['worker_mib']:.0f} MiB at 100 points, "
          f"{memory[1000]['worker_mib']:.0f} MiB at 1,000; the command {memory[100]['command_mib']:.0f} / "
          f"{memory[1000]['command_mib']:.0f} MiB")
    print(f"10,000-point Sobol study of the bundled scenario, {SOBOL_STUDY_REPLICATIONS} replications a point: "
          f"{rep_seconds:.2f} s a replication of 7 strategies → {core_hours:,.0f} core-hours: "
          f"{result['sobol_study_hours_2_cores']:,.1f} h on this machine's 2 cores, about {core_hours / 64:,.1f} h on 64 "
          f"workers; store about {result['sobol_study_store_gib']:.2f} GiB")
    if args.json:
        print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
