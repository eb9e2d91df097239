"""The ``backtest`` subcommand: does the simulation predict what happened next?

    clientele backtest --transactions sales.csv --calibration-end 2025-03-31 [--scenario S] --out out/backtest

Fits the log up to the date, simulates the scenario's baseline from there to the log's end
(``simulation.runs.backtest``) and writes ``backtest.json`` (totals, coverage, month by month) and
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

from reports.commands.calibrate import calibration_date
from reports.commands.options import (
    add_columns_option,
    add_debug_option,
    add_scenario_option,
    output_folder,
    replications_type,
    seed_type,
    set_command,
)
from simulation.core.errors import ClienteleError

BACKTEST_FILE, CHART_FILE = "backtest.json", "backtest.pdf"


def add_backtest_command(commands: Any) -> None:
    """Register ``clientele backtest`` on the CLI's subparsers."""
    parser = commands.add_parser("backtest", help="fit a log up to a date, simulate on, and compare with what happened")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--transactions", metavar="CSV", help="transaction log: customer_id, date, amount")
    data.add_argument("--customers", metavar="CSV",
                      help="ledger with start_date and end_date: churn predicted against the leavers it records")
    add_columns_option(parser)
    parser.add_argument("--calibration-end", type=calibration_date, required=True, metavar="YYYY-MM-DD",
                        help="last day the fit sees; the whole months after it, to the log's end, are compared")
    add_scenario_option(parser, "simulate this scenario's baseline (default: the fitted models alone, every mechanism off)")
    parser.add_argument("--replications", type=replications_type,
                        help="replications of the simulation (default 200)")
    parser.add_argument("--seed", type=seed_type, default=20261001, help="root random seed (default 20261001)")
    parser.add_argument("--out", type=output_folder, default="out/backtest", help="folder for backtest.json and backtest.pdf")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_debug_option(parser)
    set_command(parser, run_backtest_command, "simulation.runs.backtest", "reports.figures")


def run_backtest_command(args: argparse.Namespace) -> int:
    from simulation.core.files import refuse_overwriting_inputs, write_atomically
    from simulation.core.folder_kinds import check_folder_kind
    from simulation.data.sources import PopulationSource
    from simulation.runs.backtest import DEFAULT_REPLICATIONS, run_backtest, run_ledger_backtest
    from simulation.runs.results import check_output_folder
    from simulation.scenario.spec import load_scenario, override_sources

    started = time.perf_counter()
    out = check_output_folder(args.out)
    check_folder_kind(out, "backtest")
    refuse_overwriting_inputs([out / BACKTEST_FILE, out / CHART_FILE], [args.transactions, args.customers, args.scenario])
    if args.overrides and not args.scenario:
        raise ClienteleError("--set changes the --scenario; give --scenario too")
    scenario = load_scenario(args.scenario, args.overrides) if args.scenario else None
    replications = args.replications or DEFAULT_REPLICATIONS
    explicit = tuple(override_sources(args.overrides))
    source = PopulationSource.from_paths(args.customers, args.transactions, args.columns)  # exists, a file; columns known
    if args.transactions:
        backtest = run_backtest(args.transactions, args.calibration_end, scenario, replications, args.seed,
                                progress=not args.quiet, columns=source.columns, explicit=explicit)
    else:
        backtest = run_ledger_backtest(args.customers, args.calibration_end, scenario, replications, args.seed,
                                       columns=source.columns, explicit=explicit)
    record = backtest.record()
    chart = backtest_pdf(record)
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / CHART_FILE, chart)
    write_atomically(out / BACKTEST_FILE, json.dumps(record, indent=2).encode())  # last: its presence means done
    print(f"{record['file']}: fitted to {record['calibration_end']}, {record['customers']:,} customers; the "
          f"{record['strategy']} of {record['scenario']!r} simulated {record['replications']} times over the "
          f"{record['months']} whole months to {record['log_end']}")
    for measure, meaning in backtest.measures.items():
        totals = record["totals"][measure]
        print(f"  {measure.replace('_', ' ')} ({meaning}): predicted {totals['predicted']:,.0f} "
              f"(90 % interval {totals['low']:,.0f}–{totals['high']:,.0f}), actual {totals['actual']:,.0f} "
              f"({totals['relative_error']:+.1%}); months inside the interval {record['coverage'][measure]:.0%}")
    print(f"  {record['headline']}")
    print(f"\nwrote {out / CHART_FILE} and {out / BACKTEST_FILE} ({time.perf_counter() - started:.1f} s)")
    return 0


def backtest_pdf(record: dict[str, Any]) -> bytes:
    """One A4 page from backtest.json: the tracking chart, the conditional expectations and the months."""
    import io

    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from reports.figures import backtest_conditional_chart, backtest_months_chart, backtest_tracking_chart

    figure = Figure(figsize=(8.27, 11.69), layout="constrained")
    figure.suptitle(f"Backtest of {Path(record['file']).name}: fitted to {record['calibration_end']}, "
                    f"simulated to {record['log_end']}", fontsize=11)
    if record.get("kind") == "ledger":
        active, leavers = figure.subplots(2, 1)
        backtest_months_chart(record, active, "active_customers")
        backtest_months_chart(record, leavers, "leavers")
    else:
        tracking, conditional, monthly = figure.subplots(3, 1)
        backtest_tracking_chart(record, tracking)
        backtest_conditional_chart(record, conditional)
        backtest_months_chart(record, monthly)
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": f"Backtest of {Path(record['file']).name}", "Creator": "clientele",
                                    "CreationDate": None}) as pdf:
        pdf.savefig(figure)
    return buffer.getvalue()
