"""The memory rule, measured: peak memory of one engine run in a fresh process, against its reserved rows.

A scenario is refused when a run would not fit: ``LOADED_BYTES + reserved rows × BYTES_PER_ROW``
over the budget (``simulation/scenario/spec.py``). Those two constants are what this benchmark measures
— the interpreter with numpy, pandas, SimPy and the compiled kernels loaded, then what each reserved
customer row adds at its peak (columns, the month's temporaries, the quarter's outcomes) — so the rule
is the process's real size, not the columns' bytes alone. Each size runs in a child process of its
own, every strategy of the bundled scenario in turn (the peak is the largest of them), 12 quarters.

Run: ``.venv/bin/python benchmarks/memory_rule.py [--json]``; ``--json`` prints one JSON object on
the last line. The rule holds when ``rule_over_measured`` is at least 1 at every size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulation.scenario.spec import BYTES_PER_ROW, LOADED_BYTES  # noqa: E402

SIZES = (50_000, 400_000, 1_000_000)


def child_peak(customers: int) -> dict:
    """Peak resident memory of a fresh process running every strategy once on ``customers`` customers."""
    code = (
        "import json, resource, sys; sys.path.insert(0, %r);"
        "from benchmarks.engine_throughput import scaled_scenario;"
        "from simulation.model.engine import CustomerModel;"
        "from simulation.runs.experiment import PopulationSource;"
        "s = scaled_scenario(%d); p = PopulationSource().load(s, 1);"
        "[CustomerModel(s, p, name, spec, 1, 0).run() for name, spec in s.strategies.items()];"
        "print(json.dumps({'rows': s.reserved_rows(), "
        "'peak_bytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))"
    ) % (str(ROOT), customers)
    environment = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    import os

    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, **environment}).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    measured = {size: child_peak(size) for size in SIZES}
    rows = np.array([m["rows"] for m in measured.values()], dtype=float)
    peaks = np.array([m["peak_bytes"] for m in measured.values()], dtype=float)
    slope, intercept = np.polyfit(rows, peaks, 1)
    rule = LOADED_BYTES + rows * BYTES_PER_ROW
    result = {
        "benchmark": "memory_rule",
        "sizes": list(SIZES),
        "reserved_rows": rows.astype(int).tolist(),
        "peak_mib": (peaks / 2**20).round(1).tolist(),
        "fitted_loaded_mib": round(intercept / 2**20, 1),
        "fitted_bytes_per_row": round(slope, 1),
        "rule_loaded_mib": round(LOADED_BYTES / 2**20, 1),
        "rule_bytes_per_row": BYTES_PER_ROW,
        "rule_over_measured": (rule / peaks).round(3).tolist(),
    }
    if not args.json:
        print("| customers | reserved rows | peak | the rule | rule / peak |\n|---:|---:|---:|---:|---:|")
        for size, row, peak, ruled in zip(SIZES, rows, peaks, rule, strict=True):
            print(f"| {size:,} | {int(row):,} | {peak / 2**20:,.0f} MiB | {ruled / 2**20:,.0f} MiB | {ruled / peak:.2f} |")
        print(f"\nfitted: {intercept / 2**20:,.0f} MiB loaded + {slope:,.0f} bytes per reserved row")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
