"""A company's own customers: ledger and transaction-log imports, and every bad row named."""

from __future__ import annotations

import os

import numpy as np
import pytest

from reports.commands.cli import main
from simulation.core.errors import DataError
from simulation.data.ingest import load_ledger, read_transactions
from simulation.data.sources import start_run
from simulation.runs.experiment import PopulationSource

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT
from .oracles import cost_to_serve, monthly_profit


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_ledger_values_are_used_as_given(tmp_path, small_scenario, rng):
    path = write(
        tmp_path, "ledger.csv",
        "customer_id,revenue,cost_of_goods,account_management,contacts,channel,days_late,contract_end\n"
        "A1,100,60,5,2,call_centre,0,2027-03-15\n"
        "B2,20,14,5,6,online,36.5,2026-12-01\n",
    )
    population = load_ledger(path, small_scenario, rng)
    assert list(population.customer_id) == ["A1", "B2"]
    # A1: 100 − (60 + 5 + 2 × 13) = 9; B2: 20 − (14 + 5 + 6 × 1 + 20 × 0.12 × 36.5/365) = −5.24
    np.testing.assert_allclose(monthly_profit(population, small_scenario), [9.0, -5.24])
    assert [population.channel_names[c] for c in population.channel] == ["call_centre", "online"]
    # Contract ends in months from the scenario start (2026-10-01): March 2027 is month 5, December 2026 month 2.
    assert list(population.contract_end) == [5, 2]


def test_a_ledger_read_again_is_the_same_and_an_edited_one_is_read_anew(tmp_path, small_scenario, monkeypatch):
    """A ledger is read once per content (a report's robustness check starts a run for each future): a second
    load under another scenario gives that scenario's assumptions and the same draws, and an edit is seen."""
    path = write(tmp_path, "ledger.csv", "customer_id,revenue,channel\nA1,100,online\nB2,20,\n")
    first = load_ledger(path, small_scenario, np.random.default_rng(5))
    again = load_ledger(path, small_scenario, np.random.default_rng(5))
    for name in ("revenue", "cost_of_goods", "contacts", "channel", "contract_end"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    costlier = small_scenario.model_copy(update={"population": small_scenario.population.model_copy(
        update={"cost_of_goods_share": 0.9})})
    np.testing.assert_allclose(load_ledger(path, costlier, np.random.default_rng(5)).cost_of_goods, [90.0, 18.0])
    write(tmp_path, "ledger.csv", "customer_id,revenue,channel\nA1,100,online\nB2,20,\nC3,7.5,online\n")
    edited = load_ledger(path, small_scenario, np.random.default_rng(5))
    assert list(edited.customer_id) == ["A1", "B2", "C3"] and edited.revenue[2] == 7.5
    write(tmp_path, "ledger.csv", "customer_id,revenue,channel\nA1,100,online\nB2,20,shop\n")
    with pytest.raises(DataError, match="row 3.*channel.*'shop'"):
        load_ledger(path, small_scenario, np.random.default_rng(5))
    # The same name in another folder, with the same size and time, is another file.
    for folder, revenue in (("one", "100"), ("two", "900")):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder, "ledger.csv", f"customer_id,revenue\nA1,{revenue}\n")
        os.utime(tmp_path / folder / "ledger.csv", ns=(1_700_000_000_000_000_000,) * 2)
    seen = []
    for folder in ("one", "two"):
        monkeypatch.chdir(tmp_path / folder)
        seen.append(load_ledger("ledger.csv", small_scenario, np.random.default_rng(5)).revenue[0])
    assert seen == [100.0, 900.0]


def test_ledger_with_only_revenue_takes_the_rest_from_the_scenario(tmp_path, small_scenario, rng):
    path = write(tmp_path, "ledger.csv", "customer_id,revenue,region\nX,40,north\nY,400,south\nZ,0,east\n")
    population = load_ledger(path, small_scenario, rng)
    spec = small_scenario.population
    np.testing.assert_allclose(population.cost_of_goods, spec.cost_of_goods_share * population.revenue)
    np.testing.assert_allclose(population.account_management, spec.account_management)
    assert population.contacts.mean() == pytest.approx(spec.contacts_mean)
    assert population.contacts[1] > population.contacts[0]  # contacts rise with revenue, as in the generator
    np.testing.assert_allclose(population.days_late, spec.late_payment_share * spec.days_late_mean)
    assert ((population.contract_end >= 1) & (population.contract_end <= spec.contract_term_months)).all()
    assert len(cost_to_serve(population, small_scenario)) == 3


def test_contract_ends_before_the_start_roll_forward_by_whole_terms(tmp_path, small_scenario, rng):
    path = write(tmp_path, "ledger.csv", "customer_id,revenue,contract_end\nold,10,2025-11-20\n")
    # November 2025 is month −11 from October 2026; the 12-month contract renewed and ends at month 1.
    assert list(load_ledger(path, small_scenario, rng).contract_end) == [1]


def test_bundled_example_files_load(small_scenario, rng):
    ledger = load_ledger(PROJECT_ROOT / "examples" / "ledger.csv", small_scenario, rng)
    log = read_transactions(PROJECT_ROOT / "examples" / "transactions.csv")
    assert len(ledger) == 400 and log["customer_id"].nunique() == 2000
    assert (monthly_profit(ledger, small_scenario) < 0).any()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("customer_id,amount\nA,1\n", r"missing column 'revenue'; found columns: customer_id, amount"),
        ("customer_id,revenue\nA,12\nB,abc\n", r"row 3, column 'revenue': 'abc' — expected a number from 0 to 1e12"),
        ("customer_id,revenue\nA,12\nB,-4\n", r"row 3, column 'revenue': '-4' — expected a number from 0 to 1e12"),
        ("customer_id,revenue\nA,12\nB,5\nA,7\n",
         r"row 4, column 'customer_id': 'A' — expected a unique identifier \(already used on row 2\)"),
        ("customer_id,revenue,contract_end\nA,12,2027-02-31\n",
         r"row 2, column 'contract_end': '2027-02-31' — expected a date as YYYY-MM-DD"),
        ("customer_id,revenue,channel\nA,12,fax\n",
         r"row 2, column 'channel': 'fax' — expected one of the scenario's channels: call_centre, online"),
        ("customer_id,revenue\n,12\n", r"row 2, column 'customer_id': '' — expected a customer identifier"),
        ("customer_id,revenue,contacts\nA,12,\nB,,1\n", r"row 3, column 'revenue': '' — expected a number"),
        ("", r"file is empty"),
        ("customer_id,revenue\n", r"has a header but no rows"),
    ],
    ids=["missing-column", "non-numeric", "negative-revenue", "duplicate-id", "bad-date", "unknown-channel",
         "blank-id", "blank-revenue", "empty-file", "no-rows"],
)
def test_bad_ledger_rows_are_named(tmp_path, small_scenario, rng, text, expected):
    path = write(tmp_path, "ledger.csv", text)
    with pytest.raises(DataError, match=expected) as caught:
        load_ledger(path, small_scenario, rng)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("customer_id,when,amount\nA,2026-01-01,1\n", r"missing column 'date'"),
        ("customer_id,date,amount\nA,2026-01-01,1\nA,15/01/2026,2\n",
         r"row 3, column 'date': '15/01/2026' — expected a date as YYYY-MM-DD"),
        ("customer_id,date,amount\nA,2026-01-01,1\nA,2026-01-02,two\n", r"row 3, column 'amount': 'two' — expected a number"),
        ("customer_id,date,amount\nA,2026-01-01,10\nA,2026-02-01,1e13\n",
         r"row 3, column 'amount': '1e13' — expected a number between -1e12 and 1e12"),
    ],
    ids=["missing-column", "bad-date", "non-numeric", "too-large"],
)
def test_bad_transaction_rows_are_named(tmp_path, text, expected):
    with pytest.raises(DataError, match=expected):
        read_transactions(write(tmp_path, "log.csv", text))


def test_every_bad_row_is_reported_at_once_up_to_a_limit(tmp_path, small_scenario, rng):
    rows = "".join(f"C{i},bad\n" for i in range(30))
    with pytest.raises(DataError) as caught:
        load_ledger(write(tmp_path, "ledger.csv", "customer_id,revenue\n" + rows), small_scenario, rng)
    message = str(caught.value)
    assert "30 problems" in message and "row 2," in message and "row 21," in message and "… and 10 more" in message


def test_the_same_file_and_seed_give_the_same_population(tmp_path, small_scenario):
    path = write(tmp_path, "ledger.csv", "customer_id,revenue\n" + "".join(f"C{i},{i}\n" for i in range(50)))
    first, second = (start_run(small_scenario, PopulationSource("ledger", path), seed=3).today for _ in range(2))
    np.testing.assert_array_equal(first.channel, second.channel)
    np.testing.assert_array_equal(first.contract_end, second.contract_end)


@pytest.mark.parametrize("flag, name", [("--customers", "ledger.csv"), ("--transactions", "transactions.csv")])
def test_simulate_runs_on_the_example_files(tmp_path, flag, name):
    out = tmp_path / "out"
    code = main(["simulate", str(BUNDLED_SCENARIO), flag, str(PROJECT_ROOT / "examples" / name),
                 "--set", "market.size=8000", "--set", "horizon_quarters=2", "--strategies", "retain_all",
                 "--replications", "2", "--workers", "1", "--out", str(out), "--quiet"])
    assert code == 0
    assert (out / "provenance.json").exists()


def test_a_bad_ledger_stops_the_cli_before_anything_is_written(tmp_path, capsys):
    ledger = write(tmp_path, "ledger.csv", "customer_id,revenue\nA,ten\n")
    out = tmp_path / "out"
    assert main(["simulate", str(BUNDLED_SCENARIO), "--customers", str(ledger), "--out", str(out)]) == 2
    assert "ledger.csv: 1 problem" in capsys.readouterr().err
    assert not out.exists()
