"""The command line as an analyst uses it: validate, simulate, overrides, clear errors."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from reports.commands.cli import main
from simulation.analysis.summary import strategy_summary

from .conftest import BUNDLED_SCENARIO

SMALL = ["--set", "population.customers=600", "--set", "market.size=12000", "--set", "horizon_quarters=4"]


def test_validate_reports_a_valid_scenario(capsys):
    assert main(["validate", str(BUNDLED_SCENARIO)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_gives_one_clear_message_and_exit_code_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmarket: {size: -1}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("clientele: error: ") and "bad.yaml: 'market.size'" in err
    assert "Traceback" not in err


def test_simulate_writes_results_and_provenance_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "q4"
    code = main(["simulate", str(BUNDLED_SCENARIO), *SMALL, "--strategies", "retain_all,ladder",
                 "--replications", "3", "--seed", "7", "--workers", "1", "--out", str(out), "--quiet"])
    assert code == 0
    quarters = pd.read_parquet(out / "results.parquet")
    provenance = json.loads((out / "provenance.json").read_text())
    assert set(quarters["strategy"]) == {"retain_all", "ladder"}
    assert provenance["seed"] == 7 and provenance["replications"] == 3
    assert provenance["strategies"] == ["retain_all", "ladder"]
    assert len(provenance["scenario_hash"]) == 64
    assert {"numpy", "simpy", "python"} <= set(provenance["packages"])
    assert provenance["overrides"] == ["population.customers=600", "market.size=12000", "horizon_quarters=4"]
    printed = capsys.readouterr().out
    summary = strategy_summary(quarters)
    ladder = summary.set_index("strategy").loc["ladder"]
    assert f"{ladder['cumulative_profit_mean']:,.0f}" in printed


def test_simulate_refuses_an_unknown_strategy_without_writing(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["simulate", str(BUNDLED_SCENARIO), *SMALL, "--strategies", "retain_al", "--out", str(out)]) == 2
    assert "unknown strategy 'retain_al'" in capsys.readouterr().err
    assert not out.exists()


def test_set_override_reaches_the_model(tmp_path):
    out = tmp_path / "closed"
    main(["simulate", str(BUNDLED_SCENARIO), *SMALL, "--set", "market.acquisition_enabled=false",
          "--set", "word_of_mouth.referrals=false", "--strategies", "retain_all", "--replications", "2",
          "--workers", "1", "--out", str(out), "--quiet"])
    assert pd.read_parquet(out / "results.parquet")["acquired"].sum() == 0


@pytest.mark.parametrize("flag", ["--customers", "--transactions"])
def test_missing_input_file_is_named(tmp_path, capsys, flag):
    missing = tmp_path / "nope.csv"
    assert main(["simulate", str(BUNDLED_SCENARIO), *SMALL, flag, str(missing), "--out", str(tmp_path / "o")]) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_a_book_where_every_customer_loses_money_prints_a_dash_not_nan(tmp_path, capsys):
    """No profitable customer: profit concentration is undefined, and the summary says so with a dash."""
    code = main(["simulate", str(BUNDLED_SCENARIO), "--set", "population.customers=300", "--set", "market.size=6000",
                 "--set", "horizon_quarters=2", "--set", "population.account_management=10000", "--strategies",
                 "retain_all", "--replications", "2", "--workers", "1", "--quiet", "--out", str(tmp_path / "run")])
    assert code == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if line.startswith("retain_all") and "%" in line and "—" in line)
    assert not re.search(r"\bnan", printed, re.IGNORECASE) and row.split()[-2:] == ["—", "—"]
