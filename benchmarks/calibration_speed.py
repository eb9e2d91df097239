"""Calibration speed: a transaction log read, summarised and fitted (BG/NBD, Gamma-Gamma, holdout).

Two logs drawn from known parameters, written to a temporary folder first (drawing is not timed):
  (a) CDNOW's size and shape: 23,570 customers whose first purchase falls in the first 12 weeks,
      78 weeks of purchases (Fader, Hardie & Lee 2005's parameters, per week), about 65,000 rows;
  (b) a large log: 2,000,000 rows (more customers, buying more often).
Each is calibrated end to end as ``clientele calibrate`` does it — pyarrow reading, the per-day
summary, the multi-start fits with Hessian standard errors, the holdout check and every
customer's posterior — best of ``--repeats``, one process, on whatever cores pyarrow may use.

Run: ``.venv/bin/python benchmarks/calibration_speed.py [--json]``; ``--json`` prints one JSON
object on the last line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulation.calibration.fits import fit_log  # noqa: E402
from simulation.calibration.synthetic import draw_log  # noqa: E402

CDNOW_PURCHASING = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # per week (Fader, Hardie & Lee 2005)
CDNOW_SPENDING = {"p": 6.25, "q": 3.74, "v": 15.44}
LARGE_PURCHASING = {"r": 1.2, "alpha": 6.0, "a": 0.5, "b": 6.0}  # about 0.2 purchases a week, long lives
LOGS = {
    "cdnow_shape": {"customers": 23_570, "purchasing": CDNOW_PURCHASING, "acquisition_days": 84},
    "two_million_rows": {"customers": 250_000, "purchasing": LARGE_PURCHASING, "acquisition_days": 365},
}
FIRST_DAY, LAST_DAY, CALIBRATION_END = dt.date(1997, 1, 1), dt.date(1998, 6, 30), dt.date(1997, 9, 30)


def time_log(path: Path, repeats: int) -> dict:
    best: dict | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        fit = fit_log(path, CALIBRATION_END, "week")
        posterior = fit.posteriors()
        _ = posterior.revenue_per_month.sum()
        total = time.perf_counter() - started
        if best is None or total < best["seconds"]:
            best = {"seconds": total, "stages": {k: round(v, 3) for k, v in fit.seconds.items()},
                    "customers": len(fit.summary), "rows": fit.summary.rows, "purchase_days": fit.summary.purchase_days,
                    "bgnbd": {k: round(v, 4) for k, v in fit.purchasing.parameters.items()},
                    "holdout_error": round(fit.holdout.error, 4) if fit.holdout else None}
    assert best is not None
    best["seconds"] = round(best["seconds"], 3)
    best["rows_per_second"] = round(best["rows"] / best["seconds"])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    result: dict = {"machine": {"cores": os.cpu_count()}, "logs": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name, spec in LOGS.items():
            log = draw_log(np.random.default_rng(7), spec["customers"], spec["purchasing"], CDNOW_SPENDING, FIRST_DAY,
                           spec["acquisition_days"], LAST_DAY, "week")
            path = Path(folder) / f"{name}.csv"
            log.to_csv(path, index=False)
            timing = time_log(path, args.repeats)
            timing["megabytes"] = round(path.stat().st_size / 2**20, 1)
            result["logs"][name] = timing
            if not args.json:
                print(f"{name}: {timing['rows']:,} rows, {timing['customers']:,} customers, {timing['megabytes']} MB: "
                      f"{timing['seconds']:.2f} s ({timing['stages']}), {timing['rows_per_second']:,} rows/s")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
