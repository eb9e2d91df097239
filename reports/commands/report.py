"""``clientele report``: the board report (or a strategy comparison) of a scenario, as a PDF.

This module only reads the command line and prints what happened; the stages are in
``reports.pipeline``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reports.commands.options import add_run_options, output_folder, set_command
from reports.kinds import KINDS
from simulation.core.errors import terminal_text
from simulation.runs.preparation import DEFAULT_REPLICATIONS

if TYPE_CHECKING:  # the pipeline (pandas, papermill, the engine) loads when a report is made, not for --help
    from reports.pipeline import ReportOutcome


def add_report_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report`` on the ``clientele`` command's subparsers."""
    report = subparsers.add_parser(
        "report",
        help="render the board report (or a strategy comparison) of a scenario, or the report of a sweep file, as a PDF",
        description="Simulate (or reuse the results already in --out for the very same run), execute the report "
                    "notebook on those results with papermill, and render it to HTML and PDF in the --out folder.",
    )
    add_run_options(report, DEFAULT_REPLICATIONS)  # the pipeline's DEFAULT_REPORT_REPLICATIONS: simulate's
    report.add_argument("--kind", choices=list(KINDS), default="board",
                        help="; ".join(f"{kind.name}: {kind.description}" for kind in KINDS.values())
                        + " (default board)")
    report.add_argument("--quarter", help="quarter label YYYYQn on the cover and running header, one of the "
                                          "scenario's quarters (default: the first, that of its start_date)")
    report.add_argument("--out", type=output_folder,
                        help="output folder (default out/<quarter>, out/<quarter>-comparison for comparisons)")
    report.add_argument("--previous", metavar="DIR",
                        help="last quarter's board report folder: adds a page of what changed since — the "
                             "recommendation then and now, and a bridge of the option's value split into its causes")
    report.add_argument("--notebook", help=argparse.SUPPRESS)  # a draft or test notebook of the same kind
    set_command(report, _report, "reports.pipeline")


def _report(args: argparse.Namespace) -> int:
    from reports.pipeline import ReportRequest, build_report

    request = ReportRequest(
        scenario=Path(args.scenario),
        kind=args.kind,
        quarter=args.quarter,
        strategies=args.strategies,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        dask=args.dask,
        customers=Path(args.customers) if args.customers else None,
        transactions=Path(args.transactions) if args.transactions else None,
        columns=args.columns,
        overrides=list(args.overrides),
        out=Path(args.out) if args.out else None,
        notebook=Path(args.notebook) if args.notebook else None,
        previous=Path(args.previous) if args.previous else None,
        progress=not args.quiet,
    )
    outcome = build_report(request)
    for warning in outcome.unreached:
        print(terminal_text(f"clientele: warning: {warning}"), file=sys.stderr)
    for _url, reason in outcome.refused:
        print(terminal_text(f"clientele: warning: not loaded into the PDF: {reason}"), file=sys.stderr)
    for message in dict.fromkeys(outcome.messages):  # one line per distinct warning
        if not any(reason in message for _url, reason in outcome.refused):
            print(terminal_text(f"clientele: warning: WeasyPrint: {message}"), file=sys.stderr)
    if not args.quiet:
        _print_outcome(outcome)
    return 0


def timing_line(timings: dict[str, float]) -> str:
    """'41.2 s: check 0.4 s, simulation 25.0 s, robustness 9.0 s, notebook 9.1 s (kernel start 2.1 s), HTML 1.0 s, …'."""
    robustness = f"robustness {timings['robustness']:.1f} s, " if "robustness" in timings else ""
    robustness += f"backtest {timings['backtest']:.1f} s, " if "backtest" in timings else ""
    return (
        f"{timings['total']:.1f} s: check {timings['check']:.1f} s, simulation {timings['simulation']:.1f} s, "
        f"{robustness}notebook {timings['notebook']:.1f} s (kernel start {timings['kernel_start']:.1f} s), "
        f"HTML {timings['html']:.1f} s, PDF {timings['pdf']:.1f} s"
    )


def _print_outcome(outcome: ReportOutcome) -> None:
    print(f"wrote {outcome.pdf} ({outcome.pages} pages)")
    print(f"  from {outcome.html} and the executed notebook {outcome.notebook}")
    results = outcome.results_dir
    if outcome.results_reused:
        print(f"  results reused from {results} (same run, files unchanged)")
    else:
        print(f"  results simulated into {results}: {outcome.simulated_because}")
    if outcome.robustness:
        print(f"  {outcome.robustness}")
    if outcome.backtest:
        print(f"  {outcome.backtest}")
    if outcome.since_last_quarter:
        print(f"  {outcome.since_last_quarter}")
    print(f"  {timing_line(outcome.timings)}")
