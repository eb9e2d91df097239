"""Logs shaped like real exports: free items, refunds, one-time buyers and impossible dates.

A purchase day whose amounts add up to zero is a purchase for BG/NBD; Gamma-Gamma is fitted on
the customers with repeat purchases and a positive mean spend, and the rest are counted. Both
readers (pyarrow's and the row-by-row reference) refuse the same dates and read the rest alike.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.commands.cli import main
from simulation.core.errors import DataError
from simulation.data.calibration import bgnbd, gamma_gamma
from simulation.data.calibration.fits import fit_log
from simulation.data.calibration.log import read_log
from simulation.data.calibration.synthetic import draw_log
from simulation.data.ingest import read_transactions

PURCHASING = {"r": 0.8, "alpha": 6.0, "a": 0.9, "b": 3.0}
SPENDING = {"p": 6.0, "q": 4.0, "v": 15.0}


def drawn_log(customers: int = 1500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return draw_log(rng, customers, PURCHASING, SPENDING, dt.date(2024, 1, 1), 120, dt.date(2025, 12, 31))


def messy(log: pd.DataFrame) -> pd.DataFrame:
    """The drawn log with what real exports have: free items, same-day refunds, returns of an earlier purchase."""
    rows = [log]
    ids = log["customer_id"].drop_duplicates().to_numpy()
    repeaters = log["customer_id"].value_counts()
    busy = log.loc[log["date"].astype(str).isin(["2025-06-15", "2025-07-01", "2025-08-01"]), "customer_id"]
    repeaters = repeaters[(repeaters >= 3) & ~repeaters.index.isin(busy)].index.to_numpy()  # those days are theirs alone
    # A free sample on a day of its own for 40 repeat buyers (a purchase day adding up to 0).
    rows.append(pd.DataFrame({"customer_id": repeaters[:40], "date": "2025-06-15", "amount": 0.0}))
    # A promotion that cancels a whole basket: +25 and −25 on one day for 30 others.
    both = np.repeat(repeaters[40:70], 2)
    rows.append(pd.DataFrame({"customer_id": both, "date": "2025-07-01", "amount": np.tile([25.0, -25.0], 30)}))
    # A return days after a purchase, netted against the customer's repeat spend.
    rows.append(pd.DataFrame({"customer_id": repeaters[70:90], "date": "2025-08-01", "amount": -5.0}))
    # Someone whose only repeat purchases were free: left out of the spend model.
    rows.append(pd.DataFrame({"customer_id": ["FREE"] * 3, "date": ["2024-02-01", "2024-05-01", "2024-09-01"],
                              "amount": [30.0, 0.0, 0.0]}))
    # Someone with nothing but a refund of a purchase older than the log.
    rows.append(pd.DataFrame({"customer_id": ["REFUND"], "date": ["2024-03-03"], "amount": [-12.0]}))
    assert len(ids) > 100
    return pd.concat(rows, ignore_index=True)


def test_a_log_with_free_days_refunds_and_one_time_buyers_fits_and_counts_what_it_left_out(tmp_path, capsys):
    clean, real = tmp_path / "clean.csv", tmp_path / "real.csv"
    log = drawn_log()
    log.to_csv(clean, index=False)
    messy(log).to_csv(real, index=False)
    assert (log.groupby("customer_id").size() == 1).any()  # one-time buyers are in it
    assert main(["calibrate", "--transactions", str(real), "--out", str(tmp_path / "calib"), "--quiet"]) == 0
    out = capsys.readouterr().out
    record = json.loads((tmp_path / "calib" / "calibration.json").read_text())
    counts = record["counts"]
    assert counts["free_purchase_days"] == 40 + 30 + 1 + 1  # the samples, the cancelled baskets, FREE's two days
    assert counts["return_days"] == 20 + 1
    assert counts["refund_only_customers"] == 1
    assert counts["left_out_of_spend_model"] == {"free_repeat_purchases_only": 1, "refunds_exceed_repeat_spend": 0}
    assert counts["spend_model_customers"] == counts["repeat_customers"] - 1
    assert "1 repeat buyer is left out of it (1 bought again only for free, 0 refunded more" in out
    assert "21 days add up to less than zero (refunds): not purchases" in out
    customers = pd.read_csv(tmp_path / "calib" / "customers.csv", dtype={"customer_id": str}).set_index("customer_id")
    assert "REFUND" not in customers.index
    assert customers.loc["FREE", "frequency"] == 2 and customers.loc["FREE", "spend_per_purchase"] == 0.0
    # The zero days are purchases: each of the 40 sampled customers has one more repeat purchase than in the clean log.
    clean_fit, real_fit = fit_log(clean, None, "week"), fit_log(real, None, "week")
    clean_x = pd.Series(clean_fit.summary.frequency, index=clean_fit.summary.ids)
    real_x = pd.Series(real_fit.summary.frequency, index=real_fit.summary.ids)
    sampled = messy(log).iloc[len(log):len(log) + 40]["customer_id"]
    assert (real_x[sampled] - clean_x[sampled]).min() >= 0 and (real_x[sampled] - clean_x[sampled]).sum() >= 39
    # A refund nets against the customer's repeat spend: 5 less in total over their repeat purchases.
    returned = messy(log).iloc[len(log) + 100:len(log) + 120]["customer_id"].to_numpy()
    clean_mean = pd.Series(clean_fit.summary.mean_repeat_spend, index=clean_fit.summary.ids)[returned]
    real_mean = pd.Series(real_fit.summary.mean_repeat_spend, index=real_fit.summary.ids)[returned]
    x = real_x[returned]
    assert np.allclose(real_mean * x, clean_mean * x - 5.0)
    # The parameters still come back: within three standard errors of the drawing ones.
    for name, truth in PURCHASING.items():
        fitted, error = real_fit.purchasing[name], real_fit.purchasing.standard_errors[name]
        assert abs(fitted - truth) < 3 * error, (name, fitted, error)
    for name, truth in SPENDING.items():
        fitted, error = real_fit.spending[name], real_fit.spending.standard_errors[name]
        assert abs(fitted - truth) < 3 * error, (name, fitted, error)


def test_the_spend_model_is_fitted_on_positive_repeat_spenders_only(tmp_path):
    path = tmp_path / "real.csv"
    messy(drawn_log()).to_csv(path, index=False)
    fit = fit_log(path, None, "week")
    s = fit.summary
    sample = (s.frequency > 0) & (s.mean_repeat_spend > 0)
    expected = gamma_gamma.fit(s.frequency[sample], s.mean_repeat_spend[sample], "reference")
    assert fit.spending.parameters == pytest.approx(expected.parameters, rel=1e-9)
    assert fit.spending.observations == int(sample.sum())
    # BG/NBD sees every customer who bought, the free buyer included.
    assert fit.purchasing.observations == len(s)
    assert fit.purchasing.log_likelihood == pytest.approx(
        float(np.sum(bgnbd.log_likelihood_terms(np.array([fit.purchasing[n] for n in bgnbd.NAMES]),
                                                s.frequency, s.recency, s.age))), rel=1e-9)


def test_a_log_of_nothing_but_refunds_is_refused_by_name(tmp_path):
    path = tmp_path / "refunds.csv"
    path.write_text("customer_id,date,amount\nA,2025-01-01,-3\nB,2025-02-01,-4\n")
    with pytest.raises(DataError, match=r"refunds.csv: every one of the log's 2 customer days adds up to less than zero"):
        fit_log(path, None, "week")


# ---------------------------------------------------------------------------- dates are dates
@pytest.mark.parametrize("written", ["2026-02-30", "2025-02-29", "2026-04-31", "2026-13-01", "2026-00-10",
                                     "2026-01-00", "2026-01-05T25:00:00", "2026-01-05T23:60", "2026-01-05T23:59:61",
                                     "2026-01-05T25:99:00+99:99", "2026-01-05T10:00+15:00", "2026-01-05T10:00+01:60"])
def test_impossible_dates_and_times_are_refused_by_both_readers_naming_the_row(written, tmp_path):
    rows = "".join(f"C{i},2025-0{1 + i % 9}-1{i % 10},10\n" for i in range(60))
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n" + rows + f"BAD,{written},10\n")
    for reader in (read_log, read_transactions):
        with pytest.raises(DataError) as error:
            reader(path)
        assert f"row 62, column 'date': '{written}'" in str(error.value)
        assert "expected a date as YYYY-MM-DD" in str(error.value)


@pytest.mark.parametrize("written, day", [("2024-02-29", "2024-02-29"), ("2026-01-05T23:59:60Z", "2026-01-05"),
                                          ("2026-01-05 07:30+14:00", "2026-01-05"), ("2026-12-31T00:00-1200", "2026-12-31")])
def test_real_dates_and_times_are_read_as_written(written, day, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(f"customer_id,date,amount\nA,{written},1\n")
    assert str(read_log(path).date(int(read_log(path).day[0]))) == day


DATE_PARTS = st.tuples(st.integers(1890, 2210), st.integers(0, 13), st.integers(0, 32))
TIME_PARTS = st.one_of(st.none(), st.tuples(st.integers(0, 25), st.integers(0, 61), st.one_of(st.none(), st.integers(0, 61)),
                                            st.sampled_from(["", "Z", "+01:00", "-05:30", "+14:00", "+15:00", "+0130",
                                                             "+01:75"])))


def _written(date: tuple[int, int, int], time: tuple | None, separator: str) -> str:
    text = f"{date[0]:04d}-{date[1]:02d}-{date[2]:02d}"
    if time is not None:
        hour, minute, second, offset = time
        text += f"{separator}{hour:02d}:{minute:02d}" + (f":{second:02d}" if second is not None else "") + offset
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(DATE_PARTS, TIME_PARTS, st.sampled_from(["T", " "])), min_size=1, max_size=6))
def test_the_fast_reader_and_the_row_by_row_reader_agree_on_every_file(cells):
    written = [_written(date, time, separator) for date, time, separator in cells]
    text = "customer_id,date,amount\n" + "".join(f"C{index % 3},{value},{index}\n" for index, value in enumerate(written))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_text(text)
        try:
            reference = read_transactions(path)
        except DataError as error:
            with pytest.raises(DataError) as fast_error:
                read_log(path)
            assert str(fast_error.value) == str(error)
            return
        fast = read_log(path)
        expected = reference["date"].to_numpy().astype("datetime64[D]")
        assert [str(fast.date(int(day))) for day in fast.day] == [str(day) for day in expected]


# ---------------------------------------------------------------------------- an export's own names and formats
def test_an_export_with_its_own_column_names_and_as_parquet_fits_as_the_csv_does(tmp_path, capsys):
    log = drawn_log(800, 5)
    canonical, renamed, parquet = tmp_path / "log.csv", tmp_path / "export.csv", tmp_path / "export.parquet"
    log.to_csv(canonical, index=False)
    export = log.rename(columns={"customer_id": "Cust", "date": "order_date", "amount": "total"})
    export.insert(1, "channel_note", "web")
    export.to_csv(renamed, index=False)
    export.assign(order_date=pd.to_datetime(export["order_date"]).dt.date).to_parquet(parquet, index=False)
    mapping = "customer_id=cust,date=order_date,amount=total"
    reference = fit_log(canonical, None, "week")
    for path in (renamed, parquet):
        out = tmp_path / f"calib-{path.suffix[1:]}"
        assert main(["calibrate", "--transactions", str(path), "--columns", mapping, "--out", str(out), "--quiet"]) == 0
        record = json.loads((out / "calibration.json").read_text())
        assert record["models"]["purchasing"]["parameters"] == pytest.approx(reference.purchasing.parameters, rel=1e-9)
        assert record["models"]["spending"]["parameters"] == pytest.approx(reference.spending.parameters, rel=1e-9)
    capsys.readouterr()
    assert main(["calibrate", "--transactions", str(renamed), "--out", str(tmp_path / "no"), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "missing columns 'customer_id', 'date', 'amount'; found columns: Cust, channel_note" in error
    assert "--columns customer_id=their_name" in error


@pytest.mark.parametrize("mapping, words", [
    ("customer_id=cust,date=order_date,amount=price", "the file has no column 'price'; found columns: Cust"),
    ("customer=cust", "'customer' is not a column the tool reads; known: customer_id, date, amount"),
    ("customer_id", "expected name=their_name pairs"),
    ("customer_id=cust,amount=cust", "the file's column 'cust' is given to two names"),
])
def test_a_column_mapping_that_does_not_fit_the_file_is_named(mapping, words, tmp_path, capsys):
    path = tmp_path / "export.csv"
    drawn_log(100, 2).rename(columns={"customer_id": "Cust", "date": "order_date", "amount": "total"}).to_csv(path, index=False)
    code = main(["calibrate", "--transactions", str(path), "--columns", mapping, "--out", str(tmp_path / "c"), "--quiet"])
    assert code == 2
    assert words in capsys.readouterr().err


def test_a_bad_parquet_record_is_named_by_its_row(tmp_path):
    log = drawn_log(100, 2)
    log.loc[3, "date"] = "2025-02-30"
    path = tmp_path / "log.parquet"
    log.to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"rows are records, the first = row 2\):\n  row 5, column 'date': '2025-02-30'"):
        read_log(path)


def test_simulate_reads_a_renamed_parquet_ledger_as_the_csv_it_came_from(tmp_path):
    from simulation.runs.experiment import run_experiment

    from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT

    ledger = pd.read_csv(PROJECT_ROOT / "examples" / "ledger.csv", dtype={"customer_id": str})
    renamed = tmp_path / "crm.parquet"
    ledger.rename(columns={"customer_id": "Account", "revenue": "Monthly Revenue"}).to_parquet(renamed, index=False)
    options = {"strategies": ["retain_all", "ladder"], "replications": 2, "seed": 3,
               "overrides": ["horizon_quarters=2", "market.size=20000"]}
    expected = run_experiment(BUNDLED_SCENARIO, tmp_path / "a", customers=PROJECT_ROOT / "examples" / "ledger.csv", **options)
    mapped = run_experiment(BUNDLED_SCENARIO, tmp_path / "b", customers=renamed,
                            columns="customer_id=account,revenue=monthly revenue", **options)
    columns = ["strategy", "replication", "quarter", "npv", "active_customers", "revenue"]
    pd.testing.assert_frame_equal(mapped.quarters[columns], expected.quarters[columns])
    assert mapped.provenance["input_data"]["columns"] == "customer_id=account,revenue=monthly revenue"


def test_ids_that_a_spreadsheet_would_run_as_formulas_are_written_as_text(tmp_path, capsys):
    log = drawn_log(300, 4)
    evil = ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(A1)"]
    extra = pd.DataFrame({"customer_id": evil * 2, "date": ["2024-03-01"] * 4 + ["2024-09-01"] * 4, "amount": 5.0})
    path = tmp_path / "sales.csv"
    pd.concat([log, extra]).to_csv(path, index=False)
    assert main(["calibrate", "--transactions", str(path), "--out", str(tmp_path / "c"), "--quiet"]) == 0
    capsys.readouterr()
    written = pd.read_csv(tmp_path / "c" / "customers.csv", dtype=str, keep_default_na=False)["customer_id"]
    assert set(f"'{name}" for name in evil) <= set(written)
    assert not written.str.match(r"^[=+\-@]").any()


def test_a_file_name_with_a_newline_stays_a_comment_in_the_overlay(tmp_path, capsys):
    import yaml

    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "sales\nchurn:\n  beta_alpha: 99\n.csv"
    drawn_log(300, 4).to_csv(path, index=False)
    assert main(["calibrate", "--transactions", str(path), "--out", str(tmp_path / "c"), "--quiet"]) == 0
    out = capsys.readouterr().out
    overlay = yaml.safe_load((tmp_path / "c" / "overlay.yaml").read_text())
    assert overlay["churn"]["beta_alpha"] != 99
    assert "beta_alpha: 99" not in (tmp_path / "c" / "overlay.yaml").read_text().split("\n", 3)[-1]
    line = next(text for text in out.splitlines() if text.startswith("apply the overlay like --set: "))
    assert "'churn.segment_multipliers=[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]'" in line  # pastes into a shell
