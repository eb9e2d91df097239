"""A scenario's quarters side by side: each quarter's recommendation, its forecast, and what happened next.

``quarter_history(DIR)`` reads every board report folder under ``DIR`` (one per quarter, each with
its ``results/``), in the order of their start dates, and gives one row per quarter: the
recommendation (in words), the expected value of the recommended option, the forecast it made for
its first quarter (customers at that quarter's end, with the range of 90 % of the simulated
futures) and what happened: the customers the next quarter's report started from. A quarter of
another scenario than the latest is listed and marked, never compared.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reports.bridge import recommended_option
from simulation.core.errors import ClienteleError
from simulation.runs.results import load_results, read_provenance

HISTORY_CSV, HISTORY_CHART = "history.csv", "history.svg"
COLUMNS = ("quarter", "folder", "scenario", "recommendation", "option", "expected_value", "forecast_customers",
           "forecast_low", "forecast_high", "customers_next_quarter", "within_forecast", "note")


@dataclass(frozen=True)
class History:
    table: pd.DataFrame  # COLUMNS, one row per quarter, oldest first
    currency: str


def report_folders(folder: Path) -> list[Path]:
    """The board report folders directly under ``folder``: those holding a results folder with provenance."""
    return sorted(child for child in folder.iterdir()
                  if child.is_dir() and read_provenance(child / "results") is not None)


def quarter_history(folder: str | Path) -> History:
    folder = Path(folder)
    if not folder.is_dir():
        raise ClienteleError(f"{folder}: not a folder; expected one holding a report folder per quarter")
    found = [(path, load_results(path / "results")) for path in report_folders(folder)]
    if not found:
        raise ClienteleError(f"{folder}: holds no report folder (a folder with results/provenance.json); write each "
                             f"quarter's board report into a folder of its own under it, e.g. {folder}/2026Q4")
    found.sort(key=lambda item: item[1].scenario.start_date)
    latest = found[-1][1].scenario.name
    rows = []
    for number, (path, results) in enumerate(found):
        scenario = results.scenario
        start = scenario.start_date
        decision = recommended_option(results.quarters, scenario)
        option = decision["leaders"][0] if decision["leaders"] else None
        words = decision["labels"][0] if len(decision["labels"]) == 1 else "a choice between " + " and ".join(
            decision["labels"])
        row: dict[str, Any] = {"quarter": f"{start.year}Q{(start.month - 1) // 3 + 1}", "folder": path.name,
                               "scenario": scenario.name, "recommendation": words, "option": option or "",
                               "note": "" if scenario.name == latest else "another scenario: not compared"}
        if option is not None:
            quarters = results.quarters[results.quarters["strategy"] == option]
            last = quarters[quarters["quarter"] == quarters["quarter"].max()]
            row["expected_value"] = float(last[scenario.report.objective].mean())
            first = quarters[quarters["quarter"] == 1]["active_customers"].to_numpy(dtype=float)
            row["forecast_customers"] = float(first.mean())
            row["forecast_low"], row["forecast_high"] = (float(v) for v in np.quantile(first, [0.05, 0.95]))
        if number + 1 < len(found) and not row["note"]:
            following = found[number + 1][1]
            months = (following.scenario.start_date.year - start.year) * 12 + following.scenario.start_date.month \
                - start.month
            if months == 3 and following.scenario.name == scenario.name:
                actual = float(following.provenance.get("customers_at_start", float("nan")))
                row["customers_next_quarter"] = actual
                if "forecast_low" in row:
                    row["within_forecast"] = bool(row["forecast_low"] <= actual <= row["forecast_high"])
            else:
                row["note"] = f"the next report starts {months} months later, not one quarter"
        rows.append(row)
    return History(pd.DataFrame.from_records(rows, columns=list(COLUMNS)), found[-1][1].scenario.currency)


def history_chart(history: History) -> bytes:
    """Customers forecast for each quarter's first quarter (with the 90 % range) against what the next report found."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = history.table
    figure, axis = plt.subplots(figsize=(7, 3.2))
    x = np.arange(len(table))
    axis.errorbar(x, table["forecast_customers"], yerr=[table["forecast_customers"] - table["forecast_low"],
                                                         table["forecast_high"] - table["forecast_customers"]],
                  fmt="o", color="#1f5f8b", capsize=4, label="forecast at the quarter's end (90 % of futures)")
    axis.plot(x, table["customers_next_quarter"], "s", color="#c05a00", label="customers the next report started from")
    axis.set_xticks(x, table["quarter"])
    axis.set_ylabel("customers")
    axis.legend(frameon=False, fontsize=8)
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    return buffer.getvalue()
