"""``clientele history DIR``: a scenario's quarters side by side, as a table, a CSV and a chart.

    clientele history out/reports      # out/reports/2026Q3, out/reports/2026Q4, … each a board report folder

Prints each quarter's recommendation, the expected value of the recommended option, the customers
it forecast for its first quarter (with the range of 90 % of the simulated futures) and the
customers the next quarter's report started from; writes ``DIR/history.csv`` and ``DIR/history.svg``.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

from reports.commands.options import add_debug_option, set_command


def add_history_command(commands: Any) -> None:
    """Register ``clientele history`` on the CLI's subparsers."""
    parser = commands.add_parser("history", help="a scenario's quarterly reports side by side: each recommendation, "
                                                 "its forecast and what happened",
                                 description="Read every board report folder under DIR (one per quarter) and show "
                                             "each quarter's recommendation, its forecast for the quarter after and "
                                             "what the next report found; writes DIR/history.csv and DIR/history.svg.")
    parser.add_argument("folder", metavar="DIR", help="the folder holding one board report folder per quarter")
    add_debug_option(parser)
    set_command(parser, run_history_command, "reports.history", "simulation.data.targets")


def run_history_command(args: argparse.Namespace) -> int:
    from reports.history import HISTORY_CHART, HISTORY_CSV, history_chart, quarter_history
    from reports.numbers import MoneyFormat, count
    from simulation.core.files import write_atomically

    folder = Path(args.folder)
    history = quarter_history(folder)
    table = history.table
    money = MoneyFormat.for_amounts(table["expected_value"].dropna(), history.currency)
    for row in table.itertuples():
        forecast = (f"{count(row.forecast_customers)} customers forecast ({count(row.forecast_low)} to "
                    f"{count(row.forecast_high)})" if row.forecast_customers == row.forecast_customers else "no forecast")
        happened = (f"; {count(row.customers_next_quarter)} at the next report"
                    + ("" if row.within_forecast is None or row.within_forecast != row.within_forecast
                       else (", inside the range" if row.within_forecast else ", outside the range"))
                    if row.customers_next_quarter == row.customers_next_quarter else "")
        value = f", {money(row.expected_value)}" if row.expected_value == row.expected_value else ""
        note = f" [{row.note}]" if row.note else ""
        print(f"{row.quarter} ({row.folder}): {row.recommendation}{value}; {forecast}{happened}{note}")
    from simulation.data.targets import spreadsheet_safe

    text = io.StringIO()
    spreadsheet_safe(table).to_csv(text, index=False)  # a scenario named "=…" stays text in a spreadsheet
    write_atomically(folder / HISTORY_CSV, text.getvalue().encode("utf-8"))
    write_atomically(folder / HISTORY_CHART, history_chart(history))
    print(f"wrote {folder / HISTORY_CSV} and {folder / HISTORY_CHART}")
    return 0
