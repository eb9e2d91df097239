"""A small sweep file for the sweep tests: a 300-customer bank over 4 quarters, 2 strategies, 2 replications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .conftest import BUNDLED_SCENARIO


def write_sweep(folder: Path, design: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None,
                **fields: Any) -> Path:
    """A sweep file in ``folder`` over the bundled scenario, made small; fields override the defaults."""
    sweep = {
        "name": "Test sweep",
        "scenario": str(BUNDLED_SCENARIO),
        "strategies": ["retain_all", "divest_abrupt"],
        "replications": 2,
        "seed": 11,
        "set": {"population.customers": 300, "market.size": 20000, "horizon_quarters": 4},
        "design": design or {"method": "lhs", "points": 6},
        "parameters": parameters if parameters is not None else {"word_of_mouth.first_hand": {"low": 3, "high": 15},
                                     "churn.price_elasticity": {"low": 0.5, "high": 4}},
        **fields,
    }
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path
