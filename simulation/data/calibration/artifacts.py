"""What ``clientele calibrate`` writes: calibration.json, the scenario overlay and the customers' posteriors.

calibration.json names each model and its parameters under their textbook names (BG/NBD r, alpha,
a, b; Gamma-Gamma p, q, v; sBG alpha, beta), with standard errors, log-likelihood, time unit,
dates, counts and the fit's checks. The overlay is a YAML mapping of scenario fields applied like
``--set`` (``overlay_overrides`` flattens it into ``dotted.path=value``). Every file is written
under a temporary name and renamed into place, calibration.json last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulation.core.errors import ScenarioError
from simulation.core.files import file_sha256, spreadsheet_safe, write_atomically
from simulation.core.segments import SEGMENT_COUNT
from simulation.data.calibration.fits import CohortFit, ContractFit, LogFit
from simulation.scenario.file import parse_yaml, read_text

CALIBRATION_FILE = "calibration.json"
OVERLAY_FILE = "overlay.yaml"
CUSTOMERS_FILE = "customers.csv"


def _churn_section(alpha: float, beta: float, period: str) -> dict[str, Any]:
    return {"beta_alpha": round(alpha, 6), "beta_beta": round(beta, 6), "period": period,
            "segment_multipliers": [1.0] * SEGMENT_COUNT}


def log_record(fit: LogFit) -> dict[str, Any]:
    s = fit.summary
    posterior = fit.posteriors()
    alpha, beta = fit.newcomer_churn()
    return {
        "kind": "transactions",
        "file": str(fit.source), "sha256": file_sha256(fit.source),
        "time_unit": s.time_unit,
        "dates": {"first_purchase": s.first_date.isoformat(), "calibration_end": s.calibration_end.isoformat(),
                  "last_purchase": s.last_date.isoformat(), "holdout_length": s.holdout_length},
        "counts": {"rows": s.rows, "purchase_days": s.purchase_days, "free_purchase_days": s.free_purchase_days,
                   "return_days": s.return_days, "customers": len(s),
                   "repeat_customers": int((s.frequency > 0).sum()),
                   "customers_after_calibration_end": s.later_customers,
                   "refund_only_customers": s.refund_only_customers,
                   "spend_model_customers": int(s.spend_sample.sum()),
                   "left_out_of_spend_model": s.spend_exclusions()},
        "models": {"purchasing": fit.purchasing.as_dict(), "spending": fit.spending.as_dict()},
        "holdout": fit.holdout.as_dict() if fit.holdout else None,
        "book": {
            "customers": len(s),
            "expected_active": float(posterior.probability_alive.sum()),
            "supported_share": float(posterior.probability_alive.mean()),
            "monthly_dropout_mean": float(np.average(posterior.monthly_dropout, weights=posterior.probability_alive)),
            "revenue_per_month": float(posterior.probability_alive @ posterior.revenue_per_month),
            "new_customers_per_month": fit.new_customers_per_month(),
        },
        "newcomers": {"churn": _churn_section(alpha, beta, "month")},
    }


def contract_record(fit: ContractFit) -> dict[str, Any]:
    t = fit.tenures
    return {
        "kind": "ledger", "file": str(t.path), "sha256": file_sha256(t.path), "period": t.period,
        "dates": {"first_start": t.first_start.isoformat(), "calibration_end": t.calibration_end.isoformat()},
        "counts": {"rows": len(t.ids), "started": int(t.started.sum()), "leavers": int(t.leavers.sum()),
                   "stayers": int(t.stayers.sum())},
        "models": {"churn": fit.churn.as_dict()},
        "book": {"customers": int(t.started.sum()), "expected_active": float(t.stayers.sum()),
                 "supported_share": float(t.stayers.sum() / max(t.started.sum(), 1)),
                 "monthly_churn_mean": float(fit.monthly_churn().mean()) if t.stayers.any() else None},
    }


def cohort_record(fit: CohortFit) -> dict[str, Any]:
    comparison = fit.comparison()
    holdout = [row for row in comparison if row["holdout"]]
    return {
        "kind": "cohort", "file": str(fit.cohort.path), "sha256": file_sha256(fit.cohort.path),
        "counts": {"cohort": float(fit.cohort.customers[0]), "periods": len(comparison) - 1,
                   "calibration_periods": fit.calibration_periods},
        "models": {"churn": fit.churn.as_dict()},
        "survival": comparison,
        "holdout": {"max_abs_error": max(abs(float(r["fitted"]) - float(r["actual"])) for r in holdout)}
        if holdout else None,
    }


def overlay(record: dict[str, Any], period: str | None = None, book: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scenario fields from the fit: churn for newcomers (and the synthetic population), the book's size,
    and with a scenario, the market scaled to the book."""
    kind = record["kind"]
    result: dict[str, Any] = {}
    if kind == "transactions":
        result["churn"] = record["newcomers"]["churn"]
    else:
        parameters = record["models"]["churn"]["parameters"]
        result["churn"] = _churn_section(parameters["alpha"], parameters["beta"], period or "month")
    if kind != "cohort":
        result["population"] = {"customers": max(1, int(round(record["book"]["expected_active"])))}
    if book is not None:
        result["market"] = {path.removeprefix("market."): value for path, value in book["changes"].items()
                            if path.startswith("market.")}
    return result


def overlay_overrides(path: str | Path) -> list[str]:
    """An overlay file as ``dotted.path=value`` overrides, in the order written (apply like ``--set``)."""
    path = Path(path)
    data = parse_yaml(read_text(path), str(path))
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of scenario fields, got {type(data).__name__}")
    flat: list[str] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, dotted + ".")
            else:
                flat.append(f"{dotted}={json.dumps(value)}")

    walk(data, "")
    return flat


def customers_frame(fit: LogFit) -> pd.DataFrame:
    s, posterior = fit.summary, fit.posteriors()
    return pd.DataFrame({
        "customer_id": spreadsheet_safe(s.ids), "frequency": s.frequency, "recency": s.recency, "age": s.age,
        "mean_repeat_spend": s.mean_repeat_spend, "holdout_purchases": s.holdout_purchases,
        "probability_alive": posterior.probability_alive, "monthly_dropout": posterior.monthly_dropout,
        "purchases_per_month": posterior.purchases_per_month, "spend_per_purchase": posterior.spend_per_purchase,
        "revenue_per_month": posterior.revenue_per_month,
    })


def write_calibration(folder: Path, record: dict[str, Any], overlay_fields: dict[str, Any],
                      customers: pd.DataFrame | None) -> list[Path]:
    """Write the overlay, the customers' posteriors (a log) and calibration.json last; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    header = (f"# Scenario overlay from {json.dumps(str(record['file']))} ({record['kind']}, sha256 {record['sha256'][:12]}), "
              "made by clientele calibrate.\n"
              "# Apply like --set: every leaf is one dotted.path=value (simulation.data.calibration.artifacts."
              "overlay_overrides).\n")
    path = folder / OVERLAY_FILE
    write_atomically(path, (header + yaml.safe_dump(overlay_fields, sort_keys=False)).encode())
    written.append(path)
    if customers is not None:
        path = folder / CUSTOMERS_FILE
        write_atomically(path, customers.to_csv(index=False, float_format="%.6g").encode())
        written.append(path)
    path = folder / CALIBRATION_FILE
    write_atomically(path, json.dumps({**record, "overlay": overlay_fields}, indent=2, default=str).encode())
    written.append(path)
    return written
