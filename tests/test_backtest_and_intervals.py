"""Does the simulation predict? Backtests on logs drawn from known parameters, and forecast intervals that cover.

A log drawn from BG/NBD and Gamma-Gamma, fitted on its first part and simulated on, must land inside
the simulation's interval; a log whose customers drop out twice as fast after the calibration end
must be reported as a miss. Over many drawn logs, the 90 % interval of the next 26 weeks' repeat
purchases — the book and the parameters drawn anew in every replication — must hold the truth
about 90 % of the time.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from reports.commands.cli import main
from simulation.data.calibration.synthetic import draw_log
from simulation.data.sources import PopulationSource, start_run
from simulation.runs.experiment import select_strategies, simulate
from simulation.scenario.spec import scenario_from_dict

from .conftest import TEXTBOOK, merge

PURCHASING = {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}
SPENDING = {"p": 6.0, "q": 4.0, "v": 15.0}
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
CALIBRATION_END = "2025-03-31"  # nine whole months after it


def changing_log(customers: int, seed: int, dropout_after: float) -> pd.DataFrame:
    """A BG/NBD log whose customers' dropout probability is multiplied by ``dropout_after`` after the calibration end."""
    rng = np.random.default_rng(seed)
    switch = (dt.date.fromisoformat(CALIBRATION_END) - FIRST).days
    span = (LAST - FIRST).days
    birth = rng.integers(0, 300, customers)
    rate = rng.gamma(PURCHASING["r"], 1.0 / PURCHASING["alpha"], customers) / 7.0  # per day
    dropout = rng.beta(PURCHASING["a"], PURCHASING["b"], customers)
    nu = rng.gamma(SPENDING["q"], 1.0 / SPENDING["v"], customers)
    rows = []
    for customer in range(customers):
        day = float(birth[customer])
        rows.append((customer, int(day)))
        while True:
            day += rng.exponential(1.0 / rate[customer])
            if day > span:
                break
            rows.append((customer, int(day)))
            p = min(1.0, dropout[customer] * (dropout_after if day > switch else 1.0))
            if rng.random() < p:
                break
    owner = np.array([row[0] for row in rows])
    days = np.array([row[1] for row in rows])
    return pd.DataFrame({"customer_id": [f"C{i:05d}" for i in owner],
                         "date": [str(FIRST + dt.timedelta(days=int(d))) for d in days],
                         "amount": np.round(np.maximum(rng.gamma(SPENDING["p"], 1.0 / nu[owner]), 0.01), 2)})


def backtest(tmp_path: Path, log: pd.DataFrame, capsys) -> dict:
    path = tmp_path / "sales.csv"
    log.to_csv(path, index=False)
    out = tmp_path / "backtest"
    assert main(["backtest", "--transactions", str(path), "--calibration-end", CALIBRATION_END,
                 "--replications", "100", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    return json.loads((out / "backtest.json").read_text())


@pytest.mark.slow
def test_a_log_drawn_from_known_parameters_lands_inside_the_simulations_interval(tmp_path, capsys):
    record = backtest(tmp_path, changing_log(2500, 11, 1.0), capsys)
    for key in ("actual_repeat_purchases", "predicted_repeat_purchases", "actual_revenue", "predicted_revenue", "coverage"):
        assert key in record
    assert record["months"] == len(record["by_month"]) >= 8  # April to the last whole month the log covers
    low, high = record["predicted_repeat_purchases_interval"]
    assert low <= record["actual_repeat_purchases"] <= high
    assert abs(record["repeat_purchases_error"]) < 0.10
    low, high = record["predicted_revenue_interval"]
    assert low <= record["actual_revenue"] <= high
    assert record["coverage"]["repeat_purchases"] >= 0.75 and record["coverage"]["active_purchasers"] >= 0.75
    # The log's own months, counted independently: purchase days after the calibration end of customers known by then.
    log = pd.read_csv(tmp_path / "sales.csv")
    known = set(log.loc[log["date"] <= CALIBRATION_END, "customer_id"])
    last = record["by_month"][-1]["to"]
    after = log[(log["date"] > CALIBRATION_END) & (log["date"] <= last) & log["customer_id"].isin(known)]
    assert record["actual_repeat_purchases"] == len(after.drop_duplicates(["customer_id", "date"]))
    assert record["actual_revenue"] == pytest.approx(after["amount"].sum())
    april = after[after["date"].str.startswith("2025-04")]
    assert record["by_month"][0]["active_purchasers"]["actual"] == april["customer_id"].nunique()
    pages = PdfReader(tmp_path / "backtest" / "backtest.pdf").pages
    text = pages[0].extract_text()
    assert len(pages) == 1 and "Tracking: repeat purchases by week, cumulative" in text
    assert "Conditional expectations" in text and "7+" in text


@pytest.mark.slow
def test_a_log_whose_customers_leave_twice_as_fast_afterwards_is_reported_as_a_miss(tmp_path, capsys):
    record = backtest(tmp_path, changing_log(2500, 11, 2.0), capsys)
    low, high = record["predicted_repeat_purchases_interval"]
    assert record["actual_repeat_purchases"] < low  # fewer purchases than the model allowed
    assert record["repeat_purchases_error"] > 0.10  # the model predicted more than happened
    assert record["coverage"]["repeat_purchases"] < 0.5


def test_a_backtest_needs_a_whole_month_after_the_calibration_end(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    changing_log(300, 3, 1.0).to_csv(path, index=False)
    code = main(["backtest", "--transactions", str(path), "--calibration-end", "2025-12-15", "--out",
                 str(tmp_path / "out"), "--quiet"])
    assert code == 2
    assert "a backtest needs at least one whole month after it" in capsys.readouterr().err
    assert not (tmp_path / "out" / "backtest.json").exists()


@pytest.mark.slow
def test_the_90_percent_forecast_interval_of_the_next_26_weeks_covers_the_truth_about_90_percent_of_the_time():
    scenario = scenario_from_dict(merge(TEXTBOOK, {"horizon_quarters": 2, "market": {"size": 10_000_000}}))
    inside, logs = 0, 40
    for index in range(logs):
        log = draw_log(np.random.default_rng(1000 + index), 600, PURCHASING, SPENDING, dt.date(2024, 1, 1), 180,
                       dt.date(2025, 6, 30))
        end = "2024-12-30"  # 182 days (26 weeks) before the log's end: the engine's two quarters from 1 October
        calibration, after = log[log["date"] <= end], log[log["date"] > end]
        truth = len(after[after["customer_id"].isin(set(calibration["customer_id"]))]
                    .drop_duplicates(["customer_id", "date"]))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "log.csv"
            calibration.to_csv(path, index=False)
            start = start_run(scenario, PopulationSource("transactions", path), 7 + index)
            quarters = simulate(start.scenario, start.book, select_strategies(start.scenario, None), 40, 7 + index,
                                workers=1)["quarters"]
        forecast = quarters.groupby("replication")["purchases"].sum()
        low, high = np.percentile(forecast, [5, 95])
        inside += low <= truth <= high
    assert 0.8 <= inside / logs <= 0.98, inside


def drawn_ledger(customers: int, seed: int, churn_after: float) -> pd.DataFrame:
    """Monthly contracts with θ ~ Beta(0.9, 4) that start over three years; θ × ``churn_after`` after 2025-09-30."""
    rng = np.random.default_rng(seed)
    cut, seen = pd.Timestamp("2025-09-30"), pd.Timestamp("2026-09-30")
    start = pd.Timestamp("2022-10-01") + pd.to_timedelta(rng.integers(0, 36 * 30, customers), unit="D")
    theta = rng.beta(0.9, 4.0, customers)
    months_to_cut = ((cut - start).days / 30.4375).astype(int)
    before = np.minimum(rng.geometric(theta), 1200)  # months until they would leave at the old rate
    after = np.minimum(rng.geometric(np.minimum(1.0, theta * churn_after)), 1200)  # from the cut, at the new rate
    tenure = np.where(before <= months_to_cut, before, months_to_cut + after)
    end = start + pd.to_timedelta(np.round(tenure * 30.4375), unit="D")
    return pd.DataFrame({"customer_id": [f"S{i}" for i in range(customers)], "revenue": 20.0,
                         "start_date": start.strftime("%Y-%m-%d"),
                         "end_date": np.where(end <= seen, end.strftime("%Y-%m-%d"), "")})


@pytest.mark.parametrize("churn_after, miss", [(1.0, False), (2.0, True)])
def test_a_dated_ledger_backtests_its_churn_against_the_leavers_it_records(churn_after, miss, tmp_path, capsys):
    path = tmp_path / "ledger.csv"
    drawn_ledger(6000, 4, churn_after).to_csv(path, index=False)
    out = tmp_path / "backtest"
    assert main(["backtest", "--customers", str(path), "--calibration-end", "2025-09-30", "--replications", "100",
                 "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    record = json.loads((out / "backtest.json").read_text())
    low, high = record["predicted_leavers_interval"]
    ledger = pd.read_csv(path, keep_default_na=False)
    stayers = ledger[(ledger["start_date"] <= "2025-09-30") & ((ledger["end_date"] == "") | (ledger["end_date"] > "2025-09-30"))]
    left = stayers[(stayers["end_date"] != "") & (stayers["end_date"] <= record["by_month"][-1]["to"])]
    assert record["actual_leavers"] == len(left) and record["customers"] == len(stayers)
    if miss:
        assert record["actual_leavers"] > high and record["leavers_error"] < -0.2  # the model expected far fewer to go
    else:
        assert low <= record["actual_leavers"] <= high and abs(record["leavers_error"]) < 0.1


@pytest.mark.slow
def test_the_board_report_carries_the_backtest_page_and_a_line_on_the_decision_page(tmp_path, capsys):
    from .conftest import PROJECT_ROOT

    out = tmp_path / "report"
    code = main(["report", str(PROJECT_ROOT / "scenarios" / "retailer.yaml"), "--transactions",
                 str(PROJECT_ROOT / "examples" / "transactions.csv"), "--set", "report.backtest_months=9",
                 "--set", "uncertainties={}", "--set", "horizon_quarters=4", "--strategies", "retain_all,migrate",
                 "--replications", "4", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "results" / "backtest" / "backtest.json").read_text())
    assert record["calibration_end"] == "2025-12-31" and record["months"] == 9  # nine months before the last day, 30 Sep
    text = "\n".join(page.extract_text() for page in PdfReader(out / "board_report.pdf").pages)
    decision = text[text.index("Decision"):text.index("Starting position")]
    headline = record["headline"]
    assert "How well the model predicts:" in decision
    assert " ".join((headline[0].upper() + headline[1:]).split()[:8]) in " ".join(decision.split())
    page = text[text.index("Backtest\n"):]
    totals = record["totals"]["repeat_purchases"]
    assert f"{totals['predicted']:,.0f}" in page and f"{totals['actual']:,.0f}" in page
    assert "Tracking: repeat purchases by week, cumulative" in page


@pytest.mark.parametrize("last, months, end", [("2026-07-30", 1, "2026-06-29"), ("2026-03-30", 1, "2026-02-27"),
                                               ("2026-11-29", 9, "2026-02-27"), ("2026-09-30", 9, "2025-12-31"),
                                               ("2026-03-31", 1, "2026-02-28")])
def test_a_reports_backtest_window_leaves_exactly_the_months_asked_for(last, months, end, tmp_path):
    from simulation.runs.backtest import backtest_window, whole_months

    path = tmp_path / "log.csv"
    path.write_text(f"customer_id,date,amount\nA,2025-01-02,5\nB,{last},7\n")
    found = backtest_window(path, months)
    assert str(found) == end and len(whole_months(found, dt.date.fromisoformat(last))) == months


def test_a_backtest_longer_than_the_log_is_refused_before_anything_runs(tmp_path, capsys):
    from .conftest import PROJECT_ROOT

    code = main(["report", str(PROJECT_ROOT / "scenarios" / "retailer.yaml"), "--transactions",
                 str(PROJECT_ROOT / "examples" / "transactions.csv"), "--set", "report.backtest_months=24",
                 "--out", str(tmp_path / "report"), "--quiet"])
    assert code == 2
    assert "report.backtest_months 24 leaves" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()
