"""A company's book: how long the board report's simulation takes at a million customers, and in how much memory.

Runs ``clientele simulate`` on the bundled bank scaled to ``--customers`` (market and call centre
grow with it; every strategy, 12 quarters) for a few replications on the machine's cores, as the
report's first step does, and measures the wall time, the time per replication and the peak
resident memory of the largest worker. From those it projects the full board report's simulation
— 30 replications of every strategy, then the robustness check's futures and swings for its leaders
and baseline (the screening of undeclared assumptions not counted) — against issue 20's target: the whole report in under five
minutes on a 2-core machine, within 1 GiB per worker.

Run: ``.venv/bin/python benchmarks/company_scale.py [--customers N] [--replications R] [--json]``;
``--json`` prints one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reports.pipeline import ROBUSTNESS_LEADERS, ROBUSTNESS_POINTS, ROBUSTNESS_REPLICATIONS  # noqa: E402
from simulation.runs.experiment import DEFAULT_REPLICATIONS  # noqa: E402
from simulation.scenario.spec import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "retail_bank.yaml"
ROBUSTNESS_STRATEGIES = ROBUSTNESS_LEADERS + 1  # the leaders and the baseline, at most
TARGET_SECONDS = 300.0
TARGET_WORKER_BYTES = 1 << 30


def measure(customers: int, replications: int, workers: int) -> dict:
    factor = customers / 20_000
    with tempfile.TemporaryDirectory() as folder:
        command = [str(ROOT / ".venv" / "bin" / "clientele"), "simulate", str(SCENARIO), "--quiet",
                   "--set", f"population.customers={customers}", "--set", f"market.size={int(400_000 * factor)}",
                   "--set", f"capacity.agents={max(1, int(20 * factor))}", "--set", "uncertainties={}",
                   "--replications", str(replications), "--workers", str(workers), "--out", str(Path(folder) / "r")]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the largest process the command ran
    return {"wall_seconds": wall, "peak_process_bytes": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    workers = min(os.cpu_count() or 1, 2)
    small = measure(20_000, args.replications, workers)  # the fixed costs (start, imports, kernels), measured alike
    large = measure(args.customers, args.replications, workers)
    per_round = max(large["wall_seconds"] - small["wall_seconds"], 0.0) / max(1, args.replications / workers)
    scenario = load_scenario(SCENARIO)
    strategies = len(scenario.strategies)
    robustness_runs = (ROBUSTNESS_POINTS + 1 + 2 * len(scenario.uncertainties)) * ROBUSTNESS_REPLICATIONS
    report = per_round * DEFAULT_REPLICATIONS / workers
    robustness = per_round * robustness_runs * ROBUSTNESS_STRATEGIES / strategies / workers
    result = {
        "customers": args.customers, "replications": args.replications, "workers": workers,
        "wall_seconds": round(large["wall_seconds"], 1), "fixed_seconds": round(small["wall_seconds"], 1),
        "seconds_per_replication_round": round(per_round, 1),
        "projected_report_simulation_seconds": round(report, 0),
        "projected_robustness_seconds": round(robustness, 0),
        "projected_total_over_target": round((report + robustness) / TARGET_SECONDS, 2),
        "peak_process_mib": round(large["peak_process_bytes"] / 2**20),
        "peak_over_target": round(large["peak_process_bytes"] / TARGET_WORKER_BYTES, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:40s} {value}")


if __name__ == "__main__":
    sys.exit(main())
