"""The ``clientele`` command: validate a scenario, simulate it, report on it.

Errors Clientele raises on purpose (bad scenario, bad CSV row, failed report) become one clear
message and exit code 2; a traceback is shown only with ``--debug``.

Building the parser loads argparse and the commands' option modules, nothing else: each command
imports its libraries when it runs, so ``clientele --help`` answers at once and ``validate`` loads
the scenario schema and numpy, not the engine (``tests/test_startup.py``).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import io
import os
import signal
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pandas is loaded by the commands that print tables, inside main's Ctrl-C handling
    import pandas as pd

from reports.commands.options import add_debug_option, add_run_options, output_folder, set_command
from simulation import __version__
from simulation.core.errors import ClienteleError, terminal_text
from simulation.runs.preparation import DEFAULT_REPLICATIONS
from simulation.runs.processes import unwind_on_interrupt


def _validate(args: argparse.Namespace) -> int:
    """Every check ``simulate`` makes with the same options — data read, fitted and scaled — short of simulating."""
    from simulation.runs.preparation import prepare_run

    run = prepare_run(args.scenario, strategies=args.strategies, replications=args.replications, seed=args.seed,
                      customers=args.customers, transactions=args.transactions, columns=args.columns,
                      overrides=args.overrides, progress=not args.quiet)
    scenario = run.scenario
    book = (f"{scenario.population.customers:,} synthetic customers" if run.source.kind == "synthetic"
            else f"{len(run.start.today):,} customers from {Path(str(run.source.path)).name}")
    print(
        f"{args.scenario}: valid — {scenario.name!r}, {book}, {scenario.horizon_quarters} quarters from "
        f"{scenario.start_date}, strategies: {', '.join(run.strategies)}; {run.replications} replications would run"
    )
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from simulation.analysis.summary import strategy_summary
    from simulation.core.files import refuse_overwriting_inputs
    from simulation.core.folder_kinds import check_folder_kind
    from simulation.runs.experiment import run_experiment
    from simulation.runs.results import RESULT_FILES

    shown = outcome_list(args.show) if args.show else []  # refused before anything runs or is written
    check_folder_kind(args.out, "results")
    refuse_overwriting_inputs([Path(args.out) / name for name in RESULT_FILES],
                              [args.scenario, args.customers, args.transactions])
    results = run_experiment(
        args.scenario, args.out, strategies=args.strategies, replications=args.replications,
        seed=args.seed, customers=args.customers, transactions=args.transactions, columns=args.columns,
        overrides=args.overrides, workers=args.workers, progress=not args.quiet, dask=args.dask,
    )
    for warning in results.provenance.get("unreached", []):
        print(terminal_text(f"clientele: warning: {warning}"), file=sys.stderr)
    summary = strategy_summary(results.quarters, baseline=results.scenario.baseline)
    print(f"{results.scenario.name}: {results.provenance['replications']} replications, seed "
          f"{results.provenance['seed']}, {results.scenario.horizon_quarters} quarters, "
          f"amounts in {results.scenario.currency}; means with 95 % confidence intervals\n")
    print(summary_tables(summary))
    if shown:
        print("\n" + outcome_table(summary, shown))
    print(f"\nwrote {Path(args.out) / 'results.parquet'} and {Path(args.out) / 'provenance.json'}")
    return 0


def available_columns() -> list[str]:
    """Outcomes ``simulate --show`` can print: every declared outcome."""
    from simulation.model.outcomes import OUTCOMES

    return [declared.name for declared in OUTCOMES]


def outcome_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = available_columns()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ClienteleError(f"--show: unknown outcome {', '.join(repr(n) for n in unknown)}; "
                             f"known outcomes: {', '.join(known)}")
    return names


def outcome_table(summary: pd.DataFrame, names: list[str]) -> str:
    """The chosen outcomes at the horizon (levels), over it (flows) or in total (running), with intervals."""
    import pandas as pd

    from simulation.analysis.summary import summary_column
    from simulation.model.outcomes import outcome

    columns = {}
    for name in names:
        column = summary_column(name)
        base = column.removesuffix("_mean")
        unit = outcome(name).unit
        columns[f"{name} ({column.rsplit('_', 1)[-1]})"] = [
            _interval(row, base, column, percent=unit == "share", decimals=3 if unit == "index" else 0)
            for _, row in summary.iterrows()]
    table = pd.DataFrame(columns, index=summary["strategy"])
    table.index.name = None
    return table.to_string()


def _outcomes(args: argparse.Namespace) -> int:
    """List the declared outcomes: what ``results.parquet`` holds and ``simulate --show`` prints."""
    from simulation.model.outcomes import OUTCOMES

    width = max(len(declared.name) for declared in OUTCOMES)
    for declared in OUTCOMES:
        print(f"{declared.name:<{width}}  {declared.kind:<7}  {declared.unit:<9}  {declared.meaning}")
    return 0


def _interval(row: pd.Series, name: str, mean_name: str | None = None, percent: bool = False,
              decimals: int = 0) -> str:
    def show(value: float) -> str:
        return _or_dash(value, "{:.2%}" if percent else f"{{:,.{decimals}f}}")

    mean = row[mean_name or name]
    return f"{show(mean)} ({show(row[f'{name}_ci_low'])}–{show(row[f'{name}_ci_high'])})"


def _or_dash(value: float, form: str) -> str:
    """``value`` formatted, or a dash where it is undefined (no profitable customer has no profit concentration)."""
    return "—" if value != value else form.format(value)


def _column(summary: pd.DataFrame, name: str, form: str) -> list[str]:
    return [_or_dash(value, form) for value in summary[name]]


def summary_tables(summary: pd.DataFrame) -> str:
    """The per-strategy summary as two plain-text tables: profit and risk, market and reputation."""
    import pandas as pd

    profit = pd.DataFrame({
        "cumulative profit": [_interval(r, "cumulative_profit", "cumulative_profit_mean") for _, r in summary.iterrows()],
        "NPV": [_interval(r, "npv", "npv_mean") for _, r in summary.iterrows()],
        "NPV + book left": [_interval(r, "npv_plus_book", "npv_plus_book_mean") for _, r in summary.iterrows()],
        "5th pct profit": _column(summary, "cumulative_profit_p5", "{:,.0f}"),
        "P(loss qtr)": _column(summary, "prob_loss_quarter", "{:.0%}"),
        "top-1% stress": _column(summary, "top1_loss_end", "{:,.0f}"),
        "option value Q1": _column(summary, "option_value_start", "{:,.0f}"),
    }, index=summary["strategy"])
    market = pd.DataFrame({
        "market share": [_interval(r, "market_share_end", percent=True) for _, r in summary.iterrows()],
        "reputation": _column(summary, "reputation_end", "{:.3f}"),
        "WoM reach": [_interval(r, "wom_reach_total") for _, r in summary.iterrows()],
        "divested": _column(summary, "divested_total", "{:,.0f}"),
        "migrated": _column(summary, "migrated_total", "{:,.0f}"),
        "top-10% share": _column(summary, "top10_positive_profit_share_end", "{:.0%}"),
        "eff. customers": _column(summary, "effective_customers_end", "{:,.0f}"),
    }, index=summary["strategy"])
    for table in (profit, market):
        table.index.name = None
    return profit.to_string() + "\n\n" + market.to_string()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientele",
        description="Simulate keeping, repricing, migrating or divesting unprofitable customers.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"clientele {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="every check simulate makes, with the same options, without "
                                                    "running: the scenario, the data files, the run's size")
    add_run_options(validate, DEFAULT_REPLICATIONS)
    set_command(validate, _validate, "simulation.data.sources")

    simulate = commands.add_parser("simulate", help="run the scenario's strategies and write the results table")
    add_run_options(simulate, DEFAULT_REPLICATIONS)
    simulate.add_argument("--out", type=output_folder, default="out/latest", help="results folder (default out/latest)")
    simulate.add_argument("--show", metavar="OUTCOMES",
                          help="also print these outcomes, comma-separated (see `clientele outcomes`)")
    set_command(simulate, _simulate, "simulation.runs.experiment", "simulation.analysis.summary")

    outcomes = commands.add_parser("outcomes", help="list the outcomes a run reports, with kind, unit and meaning")
    add_debug_option(outcomes)
    set_command(outcomes, _outcomes, "simulation.model.outcomes")

    try:
        from reports.commands.report import add_report_command
    except ModuleNotFoundError as exc:  # only while the report pipeline is not part of the tree
        if exc.name != "reports.commands.report":
            raise
    else:
        add_report_command(commands)

    from reports.commands.sweep import add_sweep_command

    add_sweep_command(commands)

    from reports.commands.calibrate import add_calibrate_command

    add_calibrate_command(commands)

    from reports.commands.backtest import add_backtest_command

    add_backtest_command(commands)

    from reports.commands.optimize import add_optimize_command

    add_optimize_command(commands)

    from reports.commands.targets import add_targets_command

    add_targets_command(commands)

    from reports.commands.history import add_history_command

    add_history_command(commands)
    return parser


def _tolerant_output() -> None:
    """A C or ASCII locale cannot encode the messages' dashes: escape what it cannot write, never fail on it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # not a text stream that can be reconfigured (a test's capture)
            pass


def _leave_at_once(number: int, frame: object) -> None:
    """Ctrl-C or SIGTERM before the command has begun: nothing is written yet, so leave with the one line at once.
    (A KeyboardInterrupt raised inside the libraries' imports can be swallowed by their own bare ``except:``.)"""
    terminated = number == signal.SIGTERM
    os.write(2, f"clientele: {'terminated' if terminated else 'interrupted'}; nothing more was written\n".encode())
    os._exit(143 if terminated else 130)


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_output()
    previous = {number: signal.signal(number, _leave_at_once) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(argv)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)  # argparse alone: --help and a refused option leave here, quickly
    for module in args.modules:  # the command's libraries: seconds, in which a Ctrl-C leaves at once
        importlib.import_module(module)
    try:
        with unwind_on_interrupt():  # Ctrl-C and SIGTERM: workers killed, nothing half-written, one line
            code = int(args.func(args))
            sys.stdout.flush()  # a full disk or a closed pipe is met here, not at exit
            return code
    except BrokenPipeError:
        # The reader went away (… | head): stop quietly, as git does; later writes go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_EXIT
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EIO, errno.EFBIG) or not _stdout_fails():
            raise
        print(f"clientele: error: cannot write the output: {exc.strerror}", file=sys.stderr)
        return 2
    except ClienteleError as exc:
        if args.debug:
            raise
        print(terminal_text(f"clientele: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        if args.debug:
            raise
        terminated = type(interrupt).__name__ == "Terminated"
        print(f"clientele: {'terminated' if terminated else 'interrupted'}; nothing more was written", file=sys.stderr)
        # Leave now: the workers are already killed, and the interpreter's exit handlers (the pool's
        # thread join among them) could still be hit by the signal, under load about one time in
        # five, ending the process by SIGINT instead of with this exit code.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(143 if terminated else 130)


SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader closed the pipe


def _stdout_fails() -> bool:
    """Whether the standard output itself is what cannot be written (/dev/full, a full disk under a redirect)."""
    try:
        descriptor = sys.stdout.fileno()
        status = os.fstat(descriptor)
        if stat.S_ISREG(status.st_mode):
            full = os.fstatvfs(descriptor).f_bavail == 0
        else:
            try:
                os.write(descriptor, b"\n")  # a device or pipe: try it
                full = False
            except OSError:
                full = True
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    if full:
        os.dup2(os.open(os.devnull, os.O_WRONLY), descriptor)  # what is left to flush goes nowhere
    return full


if __name__ == "__main__":
    sys.exit(main())
