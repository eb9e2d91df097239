"""Calibration speed: a transaction log read, summarised and fitted (BG/NBD, Gamma-Gamma, holdout, posteriors).

Logs drawn from known parameters (drawing is not timed):
  (a) ``cdnow_shape``: CDNOW's size and shape, 23,570 customers whose first purchase falls in the first
      12 weeks, 78 weeks of purchases (Fader, Hardie & Lee 2005's parameters, per week), about 65,000 rows;
  (b) ``two_million_rows``: 2,000,000 rows, 187,000 customers buying about once in five weeks;
  (c) ``twenty_million_rows``: the same customers ten times over, 20,000,000 rows and 1.9 million customers
      known at the calibration end: a large company's log (``--logs`` selects it; the default run leaves it out).
Each is calibrated end to end as ``clientele calibrate`` does it — pyarrow reading, the per-day summary, the
multi-start fits with Hessian standard errors, the holdout check and every customer's posterior — best of
``--repeats`` (the 20-million-row log once), one process. Logs are drawn once and kept in ``--cache``
(drawing 20 million rows takes about a minute, writing them as CSV with pyarrow a few seconds more).

The reference: lifetimes 0.11.3 (``BetaGeoFitter`` and ``GammaGammaFitter``, the library most people fit
these models with) on the same customers' summary, timed in the same run against our fit stage, and the
largest relative difference between its parameters and ours (the same maximum, found by another code).
It is not a dependency: it lives in its own virtual environment, given by ``--lifetimes-python``
(default ``/tmp/lifeenv/bin/python`` when it exists), made with

    python3 -m venv /tmp/lifeenv && /tmp/lifeenv/bin/pip install lifetimes==0.11.3

(it runs with numpy 2.4.6, pandas 3.1.1, scipy 1.17.1 and autograd 1.9.1). Without it the results say
the reference is absent; ``--lifetimes-max-rows`` leaves it out on larger logs.

Run: ``.venv/bin/python benchmarks/calibration_speed.py [--logs all] [--json]``; ``--json`` prints one
JSON object on the last line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulation.data.calibration import synthetic  # noqa: E402
from simulation.data.calibration.bgnbd import Histories  # noqa: E402
from simulation.data.calibration.fits import LogFit, fit_log  # noqa: E402

CDNOW_PURCHASING = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # per week (Fader, Hardie & Lee 2005)
CDNOW_SPENDING = {"p": 6.25, "q": 3.74, "v": 15.44}
LARGE_PURCHASING = {"r": 1.2, "alpha": 6.0, "a": 0.5, "b": 6.0}  # about 0.2 purchases a week, long lives
LOGS = {
    "cdnow_shape": {"customers": 23_570, "purchasing": CDNOW_PURCHASING, "acquisition_days": 84, "repeats": None},
    "two_million_rows": {"customers": 250_000, "purchasing": LARGE_PURCHASING, "acquisition_days": 365,
                         "repeats": None},
    "twenty_million_rows": {"customers": 2_500_000, "purchasing": LARGE_PURCHASING, "acquisition_days": 365,
                            "repeats": 1},
}
DEFAULT_LOGS = ("cdnow_shape", "two_million_rows")
FIRST_DAY, LAST_DAY, CALIBRATION_END = dt.date(1997, 1, 1), dt.date(1998, 6, 30), dt.date(1997, 9, 30)
SEED = 7
TARGET_SECONDS = 60.0  # a 20-million-row log calibrated end to end within a minute (issue 20)
LIFETIMES_VENV = Path("/tmp/lifeenv/bin/python")

# Run by the reference's own interpreter: the summary in, its fits' times and parameters out (one JSON line).
LIFETIMES_SCRIPT = """
import json, sys, time
import numpy as np
import lifetimes
from lifetimes import BetaGeoFitter, GammaGammaFitter
data = np.load(sys.argv[1])
repeats = int(sys.argv[2])
best = None
for _ in range(repeats):
    started = time.perf_counter()
    purchasing = BetaGeoFitter().fit(data["frequency"], data["recency"], data["age"])
    middle = time.perf_counter()
    spending = GammaGammaFitter().fit(data["spend_frequency"], data["spend_mean"])
    finished = time.perf_counter()
    if best is None or finished - started < best["seconds"]:
        best = {"seconds": finished - started, "bgnbd_seconds": middle - started, "gamma_gamma_seconds": finished - middle,
                "bgnbd": {k: float(v) for k, v in purchasing.params_.items()},
                "gamma_gamma": {k: float(v) for k, v in spending.params_.items()}}
best["version"] = lifetimes.__version__
print(json.dumps(best))
"""


def log_path(cache: Path, name: str, spec: dict | None = None, first_day: dt.date = FIRST_DAY,
             last_day: dt.date = LAST_DAY) -> Path:
    """The log's file in the cache, named by what draws it: the parameters and the drawing code's text."""
    spec = spec or LOGS[name]
    recipe = json.dumps([spec["customers"], spec["purchasing"], CDNOW_SPENDING, spec["acquisition_days"], SEED,
                         str(first_day), str(last_day)], sort_keys=True)
    digest = hashlib.sha256((recipe + Path(synthetic.__file__).read_text()).encode()).hexdigest()[:12]
    return cache / f"{name}-{digest}.csv"


def draw(path: Path, name: str, spec: dict | None = None, first_day: dt.date = FIRST_DAY,
         last_day: dt.date = LAST_DAY) -> None:
    """Draw the log and write it as CSV with pyarrow (pandas takes minutes for 20 million rows)."""
    spec = spec or LOGS[name]
    log = synthetic.draw_log_columns(np.random.default_rng(SEED), spec["customers"], spec["purchasing"],
                                     CDNOW_SPENDING, first_day, spec["acquisition_days"], last_day, "week")
    span = (last_day - first_day).days + 1
    dates = (np.datetime64(first_day) + np.arange(span).astype("timedelta64[D]")).astype(str)
    table = pa.table({
        "customer_id": pa.DictionaryArray.from_arrays(pa.array(log.customer, pa.int32()), pa.array(log.ids)),
        "date": pa.DictionaryArray.from_arrays(pa.array(log.day, pa.int32()), pa.array(dates)),
        "amount": pa.array(log.amount),
    })
    partial = path.with_suffix(".part")
    with open(partial, "wb") as handle:
        handle.write(b"customer_id,date,amount\n")
        pacsv.write_csv(table, handle, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    partial.replace(path)


def time_log(path: Path, repeats: int) -> tuple[dict, LogFit]:
    best: dict | None = None
    kept: LogFit | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        fit = fit_log(path, CALIBRATION_END, "week")
        clock = time.perf_counter()
        posterior = fit.posteriors()
        _ = posterior.revenue_per_month.sum()
        finished = time.perf_counter()
        total = finished - started
        if best is None or total < best["seconds"]:
            stages = {**fit.seconds, "posteriors": finished - clock}
            s = fit.summary
            best = {"seconds": total, "stages": {k: round(v, 3) for k, v in stages.items()},
                    "customers": len(s), "rows": s.rows, "purchase_days": s.purchase_days,
                    "distinct_histories": len(Histories.of(s.frequency, s.recency, s.age).count),
                    "bgnbd": {k: round(v, 4) for k, v in fit.purchasing.parameters.items()},
                    "holdout_error": round(fit.holdout.error, 4) if fit.holdout else None}
            kept = fit
    assert best is not None and kept is not None
    best["seconds"] = round(best["seconds"], 3)
    best["rows_per_second"] = round(best["rows"] / best["seconds"])
    return best, kept


def lifetimes_reference(python: Path | None, fit: LogFit, repeats: int, folder: Path) -> dict:
    """lifetimes' BG/NBD and Gamma-Gamma fits on our summary, timed against ours: ratios and parameter agreement."""
    if python is None or not python.exists():
        return {"absent": f"no lifetimes environment at {python or LIFETIMES_VENV} (see the benchmark's docstring)"}
    s = fit.summary
    sample = s.spend_sample
    data = folder / "summary.npz"
    np.savez(data, frequency=s.frequency, recency=s.recency, age=s.age, spend_frequency=s.frequency[sample],
             spend_mean=s.mean_repeat_spend[sample])
    finished = subprocess.run([str(python), "-c", LIFETIMES_SCRIPT, str(data), str(repeats)], capture_output=True,
                              text=True)
    data.unlink()
    if finished.returncode != 0:
        return {"absent": f"lifetimes failed: {finished.stderr.strip().splitlines()[-1:]}"}
    theirs = json.loads(finished.stdout.strip().splitlines()[-1])
    ours = {**fit.purchasing.parameters, **fit.spending.parameters}
    fitted = {**theirs["bgnbd"], **theirs["gamma_gamma"]}
    difference = max(abs(fitted[name] - value) / abs(value) for name, value in ours.items())
    return {"version": theirs["version"], "fit_seconds": round(theirs["seconds"], 3),
            "fit_seconds_ratio_to_ours": round(theirs["seconds"] / fit.seconds["fit"], 2),
            "largest_parameter_difference": float(f"{difference:.2g}")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--logs", default=",".join(DEFAULT_LOGS),
                        help=f"comma-separated, from {', '.join(LOGS)}; or 'all' (default: %(default)s)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "clientele-benchmark-logs",
                        help="folder keeping the drawn logs between runs (default: %(default)s)")
    parser.add_argument("--lifetimes-python", type=Path, default=LIFETIMES_VENV if LIFETIMES_VENV.exists() else None,
                        help="the interpreter of a virtual environment with lifetimes installed")
    parser.add_argument("--lifetimes-max-rows", type=int, default=None,
                        help="logs with more rows than this are not fitted by lifetimes (default: every log; "
                             "lifetimes takes about a minute on the 20-million-row log's summary)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    names = list(LOGS) if args.logs == "all" else [name.strip() for name in args.logs.split(",")]
    unknown = [name for name in names if name not in LOGS]
    if unknown:
        parser.error(f"--logs: unknown log {', '.join(unknown)}; expected some of {', '.join(LOGS)} or 'all'")
    args.cache.mkdir(parents=True, exist_ok=True)
    result: dict = {"machine": {"cores": os.cpu_count(), "load_average_at_start": round(os.getloadavg()[0], 1)},
                    "logs": {}}
    for name in names:
        path = log_path(args.cache, name)
        if not path.exists():
            draw(path, name)
        repeats = min(args.repeats, LOGS[name]["repeats"] or args.repeats)
        timing, fit = time_log(path, repeats)
        timing["megabytes"] = round(path.stat().st_size / 2**20, 1)
        if name == "twenty_million_rows":
            timing["under_a_minute"] = timing["seconds"] < TARGET_SECONDS
        if args.lifetimes_max_rows is None or timing["rows"] <= args.lifetimes_max_rows:
            timing["lifetimes"] = lifetimes_reference(args.lifetimes_python, fit, repeats, args.cache)
        else:
            timing["lifetimes"] = {"absent": f"not run above {args.lifetimes_max_rows:,} rows (--lifetimes-max-rows)"}
        result["logs"][name] = timing
        if not args.json:
            reference = timing["lifetimes"]
            compared = (f"lifetimes takes {reference['fit_seconds_ratio_to_ours']}× our fit's time "
                        f"(parameters within {reference['largest_parameter_difference']:.1g})"
                        if "absent" not in reference else f"lifetimes: {reference['absent']}")
            print(f"{name}: {timing['rows']:,} rows, {timing['customers']:,} customers, {timing['megabytes']} MB: "
                  f"{timing['seconds']:.2f} s ({timing['stages']}), {timing['rows_per_second']:,} rows/s; {compared}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
