"""Calibration from files: bad data named, the example files, the command's outputs, and a run that
starts from a company's own customers without being swamped by invented ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reports.commands.cli import main
from simulation.core.errors import DataError
from simulation.data.calibration.artifacts import overlay_overrides
from simulation.data.calibration.log import _from_reference, read_log
from simulation.data.sources import PopulationSource, start_run
from simulation.scenario.spec import load_scenario

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "examples"
RETAILER = PROJECT_ROOT / "scenarios" / "retailer.yaml"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def example_rows(count: int) -> str:
    """The first customers' rows of the example log: enough to fit, small enough to edit."""
    log = pd.read_csv(EXAMPLES / "transactions.csv")
    keep = log["customer_id"].isin(log["customer_id"].drop_duplicates()[:count])
    return log[keep].to_csv(index=False)


def calibrate(tmp_path: Path, capsys, *arguments: str) -> tuple[int, str, str]:
    code = main(["calibrate", *arguments, "--out", str(tmp_path / "calibration"), "--quiet"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------------------- bad data
def test_one_customer_with_a_single_transaction_is_fine(tmp_path, capsys):
    log = write(tmp_path, "log.csv", example_rows(600) + "ONCE,2025-03-04,12.5\n")
    code, out, err = calibrate(tmp_path, capsys, "--transactions", str(log))
    assert code == 0, err
    customers = pd.read_csv(tmp_path / "calibration" / "customers.csv", dtype={"customer_id": str})
    once = customers[customers["customer_id"] == "ONCE"].iloc[0]
    assert once["frequency"] == 0 and once["probability_alive"] == 1.0  # BG/NBD: no repeat, no chance to drop out


@pytest.mark.parametrize("rows, words", [
    ("".join(f"C{i},2025-0{1 + i % 9}-1{i % 10},10\n" for i in range(200)),
     ("every one of the 200 customers made only one purchase", "BG/NBD needs repeat purchases")),
    (None, ("--calibration-end 2030-01-01 is outside the log", "expected a date within it")),
    ("A,2025-01-01,10\nA,2025-01-04,10\nB,2025-01-06,4\n",
     ("is shorter than one week (7 days)", "expected a log spanning at least one time unit")),
], ids=["all customers with one purchase", "calibration end outside the log",
        "log shorter than the time unit"])
def test_bad_logs_get_a_message_naming_the_file_and_what_was_expected(rows, words, tmp_path, capsys):
    text = "customer_id,date,amount\n" + (rows if rows is not None else example_rows(300).split("\n", 1)[1])
    log = write(tmp_path, "sales.csv", text)
    extra = ["--calibration-end", "2030-01-01"] if rows is None else []
    code, out, err = calibrate(tmp_path, capsys, "--transactions", str(log), *extra)
    assert code == 2 and "Traceback" not in err
    assert f"{log}:" in err
    for expected in words:
        assert expected in err, err
    assert not (tmp_path / "calibration").exists()


def test_a_ledger_whose_end_comes_before_its_start_is_named(tmp_path, capsys):
    ledger = write(tmp_path, "ledger.csv", "customer_id,start_date,end_date\nA,2025-01-01,2024-12-01\nB,2025-01-01,\n")
    code, out, err = calibrate(tmp_path, capsys, "--customers", str(ledger))
    assert code == 2 and f"{ledger}: 1 problem" in err
    assert "row 2, column 'end_date': '2024-12-01' — expected a date on or after the start date (2025-01-01)" in err


def test_a_cohort_that_grows_is_named(tmp_path, capsys):
    table = write(tmp_path, "cohort.csv", "period,customers\n0,1000\n1,631\n2,700\n")
    code, out, err = calibrate(tmp_path, capsys, "--cohort", str(table))
    assert code == 2 and f"{table}: row 4, column 'customers': 700 — expected at most 631" in err


# ---------------------------------------------------------------------------- reading
def test_the_fast_reader_reads_what_the_reference_reader_reads(tmp_path):
    text = example_rows(50) + "Z,2026-01-05T23:10:00-08:00,5\nZ,2026-02-05 09:30,6\n"
    path = write(tmp_path, "log.csv", text)
    fast, reference = read_log(path), _from_reference(path)
    np.testing.assert_array_equal(fast.ids, reference.ids)
    np.testing.assert_array_equal(fast.customer, reference.customer)
    np.testing.assert_array_equal(fast.day, reference.day)
    np.testing.assert_array_equal(fast.amount, reference.amount)
    assert str(fast.date(fast.day[-2])) == "2026-01-05"  # the date as written, whatever the offset


def test_a_bad_cell_in_a_large_log_is_named_by_its_line(tmp_path):
    lines = example_rows(100).split("\n")
    lines.insert(40, "C9999,2025-13-01,5")  # file line 41
    path = write(tmp_path, "log.csv", "\n".join(lines))
    with pytest.raises(DataError, match=r"(?s)log.csv: 1 problem.*row 41, column 'date': '2025-13-01'"):
        read_log(path)


# ---------------------------------------------------------------------------- the command's outputs
def test_calibrate_writes_the_textbook_parameters_and_the_same_bytes_twice(tmp_path, capsys):
    arguments = ["--transactions", str(EXAMPLES / "transactions.csv"), "--calibration-end", "2026-06-30",
                 "--time-unit", "week", "--scenario", str(RETAILER)]
    code, out, err = calibrate(tmp_path, capsys, *arguments)
    assert code == 0, err
    record = json.loads((tmp_path / "calibration" / "calibration.json").read_text())
    assert record["models"]["purchasing"]["model"] == "BG/NBD"
    assert set(record["models"]["purchasing"]["parameters"]) == {"r", "alpha", "a", "b"}
    assert set(record["models"]["spending"]["parameters"]) == {"p", "q", "v"}
    assert record["time_unit"] == "week" and record["dates"]["calibration_end"] == "2026-06-30"
    assert record["holdout"]["actual_purchases"] > 0
    assert "standard error" in out and "Holdout check" in out
    assert "Costs taken from the scenario, not the data: cost_of_goods, account_management" in out
    first = (tmp_path / "calibration" / "calibration.json").read_bytes()
    calibrate(tmp_path, capsys, *arguments)
    assert (tmp_path / "calibration" / "calibration.json").read_bytes() == first


def test_the_bank_s_costs_on_a_retailer_s_log_are_called_implausible(tmp_path, capsys):
    code, out, err = calibrate(tmp_path, capsys, "--transactions", str(EXAMPLES / "transactions.csv"),
                               "--scenario", str(BUNDLED_SCENARIO))
    assert code == 0
    assert "of today's customers lose money at the scenario's cost assumptions (more than 80%)" in err


def test_the_overlay_applies_like_set(tmp_path, capsys):
    calibrate(tmp_path, capsys, "--customers", str(EXAMPLES / "subscriptions.csv"), "--period", "month")
    record = json.loads((tmp_path / "calibration" / "calibration.json").read_text())
    overrides = overlay_overrides(tmp_path / "calibration" / "overlay.yaml")
    scenario = load_scenario(BUNDLED_SCENARIO, overrides)
    assert scenario.churn.beta_alpha == pytest.approx(record["models"]["churn"]["parameters"]["alpha"], rel=1e-5)
    assert scenario.churn.period == "month" and scenario.population.customers == record["counts"]["stayers"]


def test_the_published_cohort_through_the_command(tmp_path, capsys):
    rows = "".join(f"{year},{share * 10:g}\n" for year, share in enumerate(
        [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3]))
    table = write(tmp_path, "regular.csv", "period,customers\n" + rows)
    code, out, err = calibrate(tmp_path, capsys, "--cohort", str(table), "--period", "year",
                               "--calibration-periods", "7")
    assert code == 0, err
    record = json.loads((tmp_path / "calibration" / "calibration.json").read_text())
    assert record["models"]["churn"]["parameters"]["alpha"] == pytest.approx(0.704, rel=0.01)
    assert record["overlay"]["churn"]["period"] == "year"


# ---------------------------------------------------------------------------- the run
def test_a_400_customer_ledger_keeps_its_book_and_reports_newcomers_apart(tmp_path):
    out = tmp_path / "run"
    code = main(["simulate", str(BUNDLED_SCENARIO), "--customers", str(EXAMPLES / "ledger.csv"),
                 "--strategies", "retain_all", "--replications", "3", "--workers", "1", "--out", str(out), "--quiet"])
    assert code == 0
    results = pd.read_parquet(out / "results.parquet")
    horizon = results[results["quarter"] == results["quarter"].max()]
    assert (horizon["todays_customers"] + horizon["newcomers"] == horizon["active_customers"]).all()
    assert horizon["active_customers"].between(200, 800).all()  # 400 at the start; the scenario alone grew it to 7,361
    assert horizon["newcomer_share"].between(0.05, 0.6).all()
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["starting_book"]["overrides"] == ["market.size=8000"]  # 400 at the scenario's 5 % share
    assert json.loads((out / "scenario.json").read_text())["market"]["size"] == 8000


def test_a_log_starts_the_run_from_its_calibrated_customers(tmp_path):
    scenario = load_scenario(RETAILER)
    source = PopulationSource.from_paths(None, EXAMPLES / "transactions.csv")
    first, second = (start_run(scenario, source, seed=11) for _ in range(2))
    np.testing.assert_array_equal(first.today.revenue, second.today.revenue)
    book = first.starting_book
    assert book is not None and 0.5 < book["supported_share"] < 1.0
    counts = [len(first.book.for_replication(11, replication)) for replication in range(40)]
    assert np.mean(counts) == pytest.approx(book["expected_active"], rel=0.02)  # counted by P(alive), drawn per replication
    assert len(set(counts)) > 1 and max(counts) <= book["customers_in_data"]
    assert first.today.churn_probability is not None
    assert first.scenario.churn.segment_multipliers == (1, 1, 1, 1, 1, 1, 1, 1)
    assert first.scenario.market.size == round(book["expected_active"] * 1_000_000 / 20_000)
    explicit = start_run(load_scenario(RETAILER, ["market.size=500000"]), source, 11, ["market.size"])
    assert explicit.scenario.market.size == 500_000  # the analyst's --set wins over the data's


def test_a_ledger_with_start_and_end_dates_starts_from_its_stayers(tmp_path):
    scenario = load_scenario(BUNDLED_SCENARIO)
    start = start_run(scenario, PopulationSource.from_paths(EXAMPLES / "subscriptions.csv", None), 3)
    stayers = pd.read_csv(EXAMPLES / "subscriptions.csv", keep_default_na=False)["end_date"].eq("").sum()
    assert len(start.today) == stayers
    churn = start.today.churn_probability
    assert churn is not None and np.unique(churn).size > 5  # each by their own tenure
    assert start.scenario.churn.period == "month"
