"""Shared fixtures: small scenarios, including the textbook case with every mechanism off."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulation.scenario.spec import Scenario, scenario_from_dict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_SCENARIO = PROJECT_ROOT / "scenarios" / "retail_bank.yaml"

# Every mechanism off: constant margin, constant retention, closed market.
TEXTBOOK: dict[str, Any] = {
    "name": "Textbook: constant margin and retention",
    "horizon_quarters": 12,
    "population": {
        "customers": 2000,
        "revenue_median": 10.0,
        "revenue_sigma": 0.0,
        "cost_of_goods_share": 0.0,
        "account_management": 0.0,
        "contacts_mean": 0.0,
        "late_payment_share": 0.0,
        "growth_mean": 0.0,
        "growth_sd": 0.0,
        "referrals_per_year": 0.0,
    },
    "churn": {
        "beta_alpha": 2.0,
        "beta_beta": 98.0,
        "heterogeneous": False,
        "segment_multipliers": [1, 1, 1, 1, 1, 1, 1, 1],
        "satisfaction_sensitivity": 0.0,
        "trust_sensitivity": 0.0,
        "price_elasticity": 0.0,
    },
    "capacity": {"enabled": False},
    "market": {"acquisition_enabled": False},
    "word_of_mouth": {"enabled": False},
    "distrust": {"enabled": False},
    "morale": {"enabled": False},
    "economics": {"discount_rate": 0.10},
    "strategies": {"retain_all": {}},
}


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``changes`` into a copy of ``base`` (section by section)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and key != "strategies":
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


@pytest.fixture
def textbook() -> dict[str, Any]:
    return copy.deepcopy(TEXTBOOK)


@pytest.fixture
def small_scenario() -> Scenario:
    """The bundled mechanisms at a size the suite can afford: 1,500 customers, 8 quarters."""
    return scenario_from_dict(
        {"name": "small", "horizon_quarters": 8, "population": {"customers": 1500}, "market": {"size": 30000}}
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


# --------------------------------------------------------------------------------------------
# Reports: a size at which a whole report (kernel start included) takes seconds.

SMALL_RUN = ["--set", "population.customers=600", "--set", "market.size=12000", "--set", "horizon_quarters=4"]
SMALL_REPORT = [*SMALL_RUN, "--replications", "3", "--workers", "1", "--quiet"]
BOARD_NOTEBOOK = PROJECT_ROOT / "notebooks" / "board_report.ipynb"
COMPARISON_NOTEBOOK = PROJECT_ROOT / "notebooks" / "comparison_report.ipynb"


def pdf_text(reader: Any) -> str:
    """All text of a PDF with runs of whitespace (no-break spaces included) made one space."""
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def one_line(text: str) -> str:
    """The same whitespace normalisation for expected strings."""
    return " ".join(text.split())


@pytest.fixture
def notebook_copy(tmp_path):
    """A copy of a report notebook changed by ``edit(notebook)``; returns the copy's path."""
    import nbformat

    def make(edit, source: Path = BOARD_NOTEBOOK, name: str = "edited.ipynb") -> Path:
        notebook = nbformat.read(source, as_version=4)
        edit(notebook)
        path = tmp_path / name
        nbformat.write(notebook, path)
        return path

    return make
