"""The ``calibrate`` subcommand: a company's data in, fitted parameters and checks out.

    clientele calibrate --transactions sales.csv --calibration-end 2026-06-30 --time-unit week --out out/calib
    clientele calibrate --customers ledger.csv --out out/calib          # contractual: start and end dates
    clientele calibrate --cohort survival.csv --calibration-periods 7   # one cohort's survival by period

It prints each model's parameters with standard errors and the fit's checks (starting points that
agree, the holdout comparison), says which cost columns a simulation would take from the scenario
and warns when they make most of the book lose money, and writes calibration.json, overlay.yaml
and (for a log) customers.csv into ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time
from typing import Any

from reports.commands.options import add_columns_option, add_debug_option, add_scenario_option, output_folder, seed_type, set_command
from simulation.core.errors import ClienteleError, terminal_text

TIME_UNITS = ("day", "week", "month")
PERIODS = ("month", "quarter", "year")


def calibration_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD: got {text!r}") from None


def add_calibrate_command(commands: Any) -> None:
    """Register ``clientele calibrate`` on the CLI's subparsers."""
    parser = commands.add_parser("calibrate", help="fit churn, purchasing and spend models to a company's own data")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--transactions", metavar="CSV", help="transaction log: customer_id, date, amount")
    data.add_argument("--customers", metavar="CSV", help="ledger with start_date and end_date (blank while a customer)")
    data.add_argument("--cohort", metavar="CSV", help="one cohort's survival: period (0, 1, …) and customers")
    add_columns_option(parser)
    parser.add_argument("--calibration-end", type=calibration_date, metavar="YYYY-MM-DD",
                        help="last day of the calibration period; later purchases are the holdout (default: the "
                             "log's last day)")
    parser.add_argument("--time-unit", choices=TIME_UNITS, default="week",
                        help="unit of the BG/NBD durations: day, week (7 days) or month (default week)")
    parser.add_argument("--period", choices=PERIODS, default="month",
                        help="contract period of the sBG fit (ledger and cohort; default month)")
    parser.add_argument("--calibration-periods", type=int, metavar="N",
                        help="cohort: fit on periods 1…N, compare the rest (default: all)")
    add_scenario_option(parser, "check the book against this scenario's cost assumptions and scale its market")
    parser.add_argument("--seed", type=seed_type, default=20261001,
                        help="seed of the starting book's draws (with --scenario), 0 to 2^63 − 1")
    parser.add_argument("--out", type=output_folder, default="out/calibration",
                        help="folder for calibration.json, overlay.yaml, customers.csv")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_debug_option(parser)
    set_command(parser, run_calibrate, "simulation.data.calibration.fits", "simulation.data.calibration.artifacts",
                "simulation.data.sources")


def _parameter_lines(fit: dict[str, Any]) -> list[str]:
    lines = [f"  {fit['model']} ({fit['observations']:,} observations, log-likelihood {fit['log_likelihood']:,.2f}; "
             f"{fit['starts_at_optimum']} of {fit['starts']} starting points reached this maximum)"]
    for name, value in fit["parameters"].items():
        lines.append(f"    {name:<6} {value:>12.4f}   standard error {fit['standard_errors'][name]:.4f}")
    return lines


def run_calibrate(args: argparse.Namespace) -> int:
    from simulation.core.files import refuse_overwriting_inputs
    from simulation.core.folder_kinds import check_folder_kind
    from simulation.data.calibration import artifacts
    from simulation.data.calibration.fits import fit_cohort, fit_contracts, fit_log
    from simulation.data.sources import PopulationSource, start_run
    from simulation.runs.results import check_output_folder
    from simulation.scenario.spec import override_sources

    started = time.perf_counter()
    out = check_output_folder(args.out)
    check_folder_kind(out, "calibration")
    refuse_overwriting_inputs([out / name for name in (artifacts.CALIBRATION_FILE, artifacts.OVERLAY_FILE,
                                                       artifacts.CUSTOMERS_FILE)],
                              [args.transactions, args.customers, args.cohort, args.scenario])
    scenario = None
    if args.scenario:
        from simulation.scenario.spec import load_scenario

        scenario = load_scenario(args.scenario, args.overrides)
    elif args.overrides:
        raise ClienteleError("--set changes the --scenario; give --scenario too")
    if args.calibration_periods is not None and not args.cohort:
        raise ClienteleError("--calibration-periods is for a cohort table (--cohort)")
    path = args.transactions or args.customers or args.cohort
    if args.cohort and args.columns:
        raise ClienteleError("--columns maps a log's or a ledger's columns; a cohort table has period and customers")
    source = PopulationSource.from_paths(args.customers or args.cohort, args.transactions, args.columns)
    fitted: Any = None
    customers = None
    lines: list[str] = []
    if args.transactions:
        fit = fit_log(path, args.calibration_end, args.time_unit, progress=not args.quiet, columns=source.columns)
        record = artifacts.log_record(fit)
        customers = artifacts.customers_frame(fit)
        fitted = fit
        lines += _log_lines(record)
    elif args.customers:
        contract_fit = fit_contracts(path, args.period, args.calibration_end, source.columns)
        record = artifacts.contract_record(contract_fit)
        fitted = contract_fit
        lines += _contract_lines(record)
    else:
        cohort_fit = fit_cohort(path, args.calibration_periods)
        record = artifacts.cohort_record(cohort_fit)
        lines += _cohort_lines(record, args.period)
    book = None
    if scenario is not None and fitted is not None:  # the one road every run takes, on this command's fit
        book = start_run(scenario, source, args.seed, override_sources(args.overrides), fit=fitted).starting_book
    fields = artifacts.overlay(record, None if args.transactions else args.period, book)
    lines += _cost_lines(record, book)
    written = artifacts.write_calibration(out, record, fields, customers)
    print("\n".join(lines))
    print(f"\nwrote {', '.join(str(p) for p in written)} ({time.perf_counter() - started:.1f} s)")
    print("apply the overlay like --set: " + " ".join(f"--set {shlex.quote(item)}" for item in artifacts.overlay_overrides(
        out / artifacts.OVERLAY_FILE)))
    if book is not None:
        for warning in book["warnings"]:
            print(terminal_text(f"clientele: warning: {warning}"), file=sys.stderr)
    return 0


def _log_lines(record: dict[str, Any]) -> list[str]:
    from simulation.data.calibration.notes import log_notes

    dates, counts, book = record["dates"], record["counts"], record["book"]
    lines = [f"{record['file']}: {counts['rows']:,} rows, {counts['purchase_days']:,} purchase days (same-day purchases "
             f"counted once), {counts['customers']:,} customers by {dates['calibration_end']} "
             f"({counts['repeat_customers']:,} bought again; {counts['customers_after_calibration_end']:,} first bought "
             f"later); calibration {dates['first_purchase']} to {dates['calibration_end']}, time unit {record['time_unit']}",
             "", "Repeat purchasing and dropout:"]
    lines += _parameter_lines(record["models"]["purchasing"])
    lines += ["Spend per purchase:"]
    lines += _parameter_lines(record["models"]["spending"])
    lines += [f"  note: {note}" for note in log_notes(counts)]
    holdout = record["holdout"]
    lines.append("")
    if holdout:
        lines.append(f"Holdout check ({dates['calibration_end']} to {dates['last_purchase']}, "
                     f"{holdout['length']:.1f} {record['time_unit']}s): repeat purchases predicted "
                     f"{holdout['predicted_purchases']:,.0f}, actual {holdout['actual_purchases']:,.0f} "
                     f"({holdout['relative_error']:+.1%})")
        lines.append("  by calibration repeat purchases: " + "; ".join(
            f"{row['frequency']}: {row['predicted_mean']:.2f} vs {row['actual_mean']:.2f}"
            for row in holdout["by_calibration_frequency"]))
    else:
        lines.append("Holdout check: none (the log ends at the calibration end; give an earlier --calibration-end)")
    lines.append(f"Today's book: {book['expected_active']:,.0f} of {book['customers']:,} customers still active by "
                 f"their P(alive) ({book['supported_share']:.1%}); mean monthly dropout of the active "
                 f"{book['monthly_dropout_mean']:.2%}; expected revenue {book['revenue_per_month']:,.0f} a month; "
                 f"{book['new_customers_per_month']:,.1f} new customers a month (calibration period's last year)")
    return lines


def _contract_lines(record: dict[str, Any]) -> list[str]:
    counts, book = record["counts"], record["book"]
    lines = [f"{record['file']}: {counts['rows']:,} customers, {counts['leavers']:,} left and {counts['stayers']:,} still "
             f"customers by {record['dates']['calibration_end']}; period {record['period']}", "",
             "Churn at each renewal:"]
    lines += _parameter_lines(record["models"]["churn"])
    if book["monthly_churn_mean"] is not None:
        lines.append(f"Today's book: {counts['stayers']:,} customers, each with their own churn given their tenure; "
                     f"mean {book['monthly_churn_mean']:.2%} a month")
    return lines


def _cohort_lines(record: dict[str, Any], period: str) -> list[str]:
    lines = [f"{record['file']}: a cohort of {record['counts']['cohort']:,.0f} over {record['counts']['periods']} "
             f"periods ({period}s), fitted on the first {record['counts']['calibration_periods']}", "",
             "Churn at each renewal:"]
    lines += _parameter_lines(record["models"]["churn"])
    lines.append("Survival, actual vs fitted: " + "; ".join(
        f"{row['period']}{'*' if row['holdout'] else ''}: {row['actual']:.1%} vs {row['fitted']:.1%}"
        for row in record["survival"][1:]) + ("  (* holdout)" if record["holdout"] else ""))
    return lines


def _cost_lines(record: dict[str, Any], book: Any) -> list[str]:
    if record["kind"] == "cohort":
        return []
    if book is None:
        return ["", "Costs: the data hold no cost to serve; a simulation takes cost_of_goods, account_management, "
                "contacts, channel and days_late (whichever the file lacks) from the scenario's population "
                "assumptions. Give --scenario to check the book against them."]
    assumed = ", ".join(book["assumed_columns"]) or "none"
    return ["", f"Costs taken from the scenario, not the data: {assumed}; at these, {book['loss_making_share']:.1%} of "
            f"today's {book['customers_at_start']:,} customers lose money. Scenario changes from the data: "
            + ", ".join(book["overrides"])]
