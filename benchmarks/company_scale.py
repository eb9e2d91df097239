"""A company's book: the whole board report at a million customers, timed, against issue 20's target.

Runs ``clientele report`` exactly as an analyst would — the bundled bank scaled to ``--customers``
(market and call centre grow with it, as 20 × the book and one agent per 1,000 customers), every
option, 30 replications, 12 quarters, the robustness check and its screening included, all cores —
into a fresh folder, and measures the wall time of the command, its stages as it reports them, and
the peak resident memory of its largest process. The target: under five minutes on a 2-core machine,
within 1 GiB per worker. The bundled 20,000-customer report (``make report``) is timed in the same run
as the reference a busy machine slows alike.

Run: ``.venv/bin/python benchmarks/company_scale.py [--customers N] [--json]``; ``--json`` prints one
JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reports.pipeline import ROBUSTNESS_SAMPLE  # noqa: E402

SCENARIO = ROOT / "scenarios" / "retail_bank.yaml"
TARGET_SECONDS = 300.0
TARGET_WORKER_BYTES = 1 << 30
STAGE = re.compile(r"(check|simulation|robustness|notebook|HTML|PDF) ([\d.]+) s")


def report(customers: int | None, folder: Path) -> dict:
    """One fresh board report: its wall time, its own stage timings, and the largest process's peak memory."""
    scaled = [] if customers is None else [
        "--set", f"population.customers={customers}", "--set", f"market.size={20 * customers}",
        "--set", f"capacity.agents={max(1, customers // 1000)}"]
    command = [str(ROOT / ".venv" / "bin" / "clientele"), "report", str(SCENARIO), "--kind", "board",
               "--out", str(folder), *scaled]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    finished = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest process any command ran so far
    stages = {name.lower(): float(seconds) for name, seconds in STAGE.findall(finished.stdout)}
    pages = re.search(r"\((\d+) pages\)", finished.stdout)
    return {"wall_seconds": round(wall, 1), "stages": stages, "pages": int(pages.group(1)) if pages else None,
            "peak_process_mib": round(max(peak, before) * 1024 / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bundled = report(None, Path(folder) / "bundled")  # first: the large run's peak must be its own
        large = report(args.customers, Path(folder) / "large")
    result = {
        "customers": args.customers, "workers": min(os.cpu_count() or 1, 2),
        "robustness_sample": min(args.customers, ROBUSTNESS_SAMPLE),
        "report_seconds": large["wall_seconds"],
        "report_stage_seconds": large["stages"],
        "report_pages": large["pages"],
        "report_over_target": round(large["wall_seconds"] / TARGET_SECONDS, 2),
        "bundled_report_seconds": bundled["wall_seconds"],
        "over_bundled_report": round(large["wall_seconds"] / bundled["wall_seconds"], 1),
        "peak_process_mib": large["peak_process_mib"],
        "peak_over_target": round(large["peak_process_mib"] * 2**20 / TARGET_WORKER_BYTES, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28s} {value}")


if __name__ == "__main__":
    sys.exit(main())
