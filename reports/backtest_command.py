"""The ``backtest`` subcommand: does the simulation predict what happened next?

    clientele backtest --transactions sales.csv --calibration-end 2025-03-31 [--scenario S] --out out/backtest

Fits the log up to the date, simulates the scenario's baseline from there to the log's end
(``simulation.backtest``) and writes ``backtest.json`` (totals, coverage, month by month) and
``backtest.pdf``: the tracking chart (cumulative repeat purchases by week, actual against the
model) and the conditional expectations by calibration frequency (Fader, Hardie & Lee 2005,
figures 2 and 4), with the month-by-month comparison.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from simulation.errors import ClienteleError

from .calibrate_command import calibration_date
from .options import add_debug_option, replications_type, seed_type

BACKTEST_FILE, CHART_FILE = "backtest.json", "backtest.pdf"


def add_backtest_command(commands: Any) -> None:
    """Register ``clientele backtest`` on the CLI's subparsers."""
    from simulation.backtest import DEFAULT_REPLICATIONS

    parser = commands.add_parser("backtest", help="fit a log up to a date, simulate on, and compare with what happened")
    parser.add_argument("--transactions", metavar="CSV", required=True, help="transaction log: customer_id, date, amount")
    parser.add_argument("--calibration-end", type=calibration_date, required=True, metavar="YYYY-MM-DD",
                        help="last day the fit sees; the whole months after it, to the log's end, are compared")
    parser.add_argument("--scenario", metavar="YAML",
                        help="simulate this scenario's baseline (default: the fitted models alone, every mechanism off)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a field of --scenario (repeatable)")
    parser.add_argument("--replications", type=replications_type, default=DEFAULT_REPLICATIONS,
                        help=f"replications of the simulation (default {DEFAULT_REPLICATIONS})")
    parser.add_argument("--seed", type=seed_type, default=20261001, help="root random seed (default 20261001)")
    parser.add_argument("--out", default="out/backtest", help="folder for backtest.json and backtest.pdf")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_debug_option(parser)
    parser.set_defaults(func=run_backtest_command)


def run_backtest_command(args: argparse.Namespace) -> int:
    from simulation.backtest import MEASURES, run_backtest
    from simulation.results import check_output_folder, write_atomically
    from simulation.scenario import load_scenario
    from simulation.sources import PopulationSource

    started = time.perf_counter()
    out = check_output_folder(args.out)
    if args.overrides and not args.scenario:
        raise ClienteleError("--set changes the --scenario; give --scenario too")
    scenario = load_scenario(args.scenario, args.overrides) if args.scenario else None
    PopulationSource.from_paths(None, args.transactions)  # exists, a regular file
    backtest = run_backtest(args.transactions, args.calibration_end, scenario, args.replications, args.seed,
                            progress=not args.quiet)
    record = backtest.record()
    chart = backtest_pdf(backtest)
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / CHART_FILE, chart)
    write_atomically(out / BACKTEST_FILE, json.dumps(record, indent=2).encode())  # last: its presence means done
    print(f"{record['file']}: fitted to {record['calibration_end']}, {record['customers']:,} customers; the "
          f"{record['strategy']} of {record['scenario']!r} simulated {record['replications']} times over the "
          f"{record['months']} whole months to {record['log_end']}")
    for measure, meaning in MEASURES.items():
        totals = record["totals"][measure]
        print(f"  {measure.replace('_', ' ')} ({meaning}): predicted {totals['predicted']:,.0f} "
              f"(90 % interval {totals['low']:,.0f}–{totals['high']:,.0f}), actual {totals['actual']:,.0f} "
              f"({totals['relative_error']:+.1%}); months inside the interval {record['coverage'][measure]:.0%}")
    print(f"  {backtest.headline()}")
    print(f"\nwrote {out / CHART_FILE} and {out / BACKTEST_FILE} ({time.perf_counter() - started:.1f} s)")
    return 0


def backtest_pdf(backtest: Any) -> bytes:
    """One A4 page: the tracking chart, the conditional expectations and the months, as vector graphics."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib import pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from simulation.backtest import actual_cumulative_repeat_purchases, expected_cumulative_repeat_purchases
    from simulation.calibration.holdout import holdout_check

    fit, record = backtest.fit, backtest.record()
    summary = fit.summary
    span_weeks = (summary.last_date - summary.first_date).days / 7.0
    weeks = np.linspace(0.0, span_weeks, 200)
    end_week = (summary.calibration_end - summary.first_date).days / 7.0
    figure, (tracking, conditional, monthly) = plt.subplots(3, 1, figsize=(8.27, 11.69))
    figure.suptitle(f"Backtest of {Path(record['file']).name}: fitted to {record['calibration_end']}, "
                    f"simulated to {record['log_end']}", fontsize=11)
    tracking.plot(weeks, actual_cumulative_repeat_purchases(fit, weeks), color="#222222", label="actual")
    tracking.plot(weeks, expected_cumulative_repeat_purchases(fit, weeks), color="#1f77b4", linestyle="--",
                  label="BG/NBD expected (equation 9)")
    at_end = float(actual_cumulative_repeat_purchases(fit, np.array([end_week]))[0])
    month_ends = np.array([(last - summary.first_date).days / 7.0 for _, last in backtest.months])
    simulated = at_end + np.cumsum(backtest.simulated["repeat_purchases"], axis=1)
    low, high = np.percentile(simulated, [5, 95], axis=0)
    tracking.fill_between(month_ends, low, high, color="#ff7f0e", alpha=0.25, label="simulation, 90 % interval")
    tracking.plot(month_ends, simulated.mean(axis=0), color="#ff7f0e", label="simulation, mean")
    tracking.axvline(end_week, color="#888888", linewidth=0.8)
    tracking.set(title="Tracking: cumulative repeat purchases by week", xlabel="weeks since the log's first purchase",
                 ylabel="repeat purchases")
    tracking.legend(fontsize=8, frameon=False)
    holdout = holdout_check(summary, fit.purchasing)
    if holdout is not None:
        labels = [row["frequency"] for row in holdout.by_frequency]
        positions = np.arange(len(labels))
        conditional.plot(positions, [row["actual_mean"] for row in holdout.by_frequency], marker="o", color="#222222",
                         label="actual")
        conditional.plot(positions, [row["predicted_mean"] for row in holdout.by_frequency], marker="s",
                         linestyle="--", color="#1f77b4", label="BG/NBD expected (equation 10)")
        conditional.set_xticks(positions, labels)
        conditional.legend(fontsize=8, frameon=False)
    conditional.set(title="Conditional expectations: repeat purchases after the calibration end, by those before it",
                    xlabel="repeat purchases in the calibration period", ylabel="mean per customer")
    months = np.arange(1, len(backtest.months) + 1)
    low, high = backtest.interval("repeat_purchases")
    monthly.fill_between(months, low, high, color="#ff7f0e", alpha=0.25, label="simulation, 90 % interval")
    monthly.plot(months, backtest.simulated["repeat_purchases"].mean(axis=0), color="#ff7f0e", label="simulation, mean")
    monthly.plot(months, backtest.actual["repeat_purchases"], marker="o", color="#222222", label="actual")
    totals = record["totals"]["repeat_purchases"]
    monthly.set(title=f"Repeat purchases by month: predicted {totals['predicted']:,.0f}, actual {totals['actual']:,.0f} "
                      f"({totals['relative_error']:+.1%}); {record['coverage']['repeat_purchases']:.0%} of months inside",
                xlabel="month after the calibration end", ylabel="repeat purchases")
    monthly.legend(fontsize=8, frameon=False)
    for axes in (tracking, conditional, monthly):
        axes.title.set_fontsize(9)
        axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": f"Backtest of {Path(record['file']).name}", "Creator": "clientele",
                                    "CreationDate": None}) as pdf:
        pdf.savefig(figure)
    plt.close(figure)
    return buffer.getvalue()
