"""``clientele targets``: the customers a decided option acts on — the simulation's own, in its first future.

The list is read back from the CSV the command writes and checked against what a user can check
elsewhere: the run's own results (``simulate``, the same seed: replication 0's treated customers
in the first quarter), the ledger's ids and profits, and each step's target.
"""

from __future__ import annotations

import csv
import html

import pandas as pd

from reports.commands.cli import main
from simulation.runs.results import load_results

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT

LEDGER = PROJECT_ROOT / "examples" / "ledger.csv"
NO_NEWCOMERS = ["--set", "market.acquisition_enabled=false", "--set", "population.referrals_per_year=0"]


def test_the_list_is_the_customers_the_first_review_treats_and_adds_up_to_the_counts(tmp_path, capsys):
    out = tmp_path / "targets.csv"
    args = [str(BUNDLED_SCENARIO), "--customers", str(LEDGER), *NO_NEWCOMERS]
    assert main(["targets", *args, "--strategy", "ladder", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    listed = pd.read_parquet(out.with_suffix(".parquet"))
    ledger = pd.read_csv(LEDGER)
    assert set(listed["customer_id"]) <= set(ledger["customer_id"]) and listed["customer_id"].is_unique

    # The run itself, on the same seed: replication 0's first quarter treats exactly the first review's customers
    # (later steps wait three months; no newcomers join).
    assert main(["simulate", *args, "--replications", "1", "--workers", "1", "--quiet", "--strategies", "ladder",
                 "--out", str(tmp_path / "run")]) == 0
    results = load_results(tmp_path / "run")
    quarters = results.quarters
    first = quarters[(quarters["replication"] == 0) & (quarters["quarter"] == 1)]["treated"].iloc[0]
    at_first_review = listed[listed["first_month"] == 0]
    assert len(at_first_review) == first > 0
    assert f"{int(first):,} at the first review" in printed

    # Each customer the first review reaches meets step 1's target today: losing money, no future value.
    assert (at_first_review["monthly_profit"] < 0).all()
    assert (at_first_review["lifetime_value"] < 0).all() and (at_first_review["lifetime_value_with_option"] == 0).all()
    assert list(at_first_review["monthly_profit"]) == sorted(at_first_review["monthly_profit"])  # least profitable first
    assert "monthly profit EUR" in at_first_review["reason"].iloc[0] and "below EUR 0.00" in at_first_review["reason"].iloc[0]

    # The counts per step add up: step 1 reaches everyone listed, each later step a subset of the one before.
    steps = [int(line.split("reaches ")[1].replace(",", "")) for line in printed.splitlines() if "reaches" in line]
    assert steps[0] == len(listed) and steps == sorted(steps, reverse=True)
    assert [(listed["last_step"] >= number).sum() for number in range(1, 6)] == steps

    # The board report's options appendix gives the same counts, from the run's results.
    from reports.document import Report

    report = Report.open(tmp_path / "run", kind="board", quarter="2026Q4", output_dir=tmp_path)
    appendix = " ".join(html.unescape(str(report.strategies_appendix())).split())
    assert f"Reaches {steps[0]:,} of today's customers by the horizon, {int(first):,} at the first review" in appendix
    for count in steps[1:]:
        assert f"Reaches {count:,} of today's customers by the horizon." in appendix


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(tmp_path):
    rows = list(csv.DictReader(LEDGER.open()))
    for row, planted in zip(rows[:4], ["=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1)", "-2+3"], strict=True):
        row["customer_id"] = planted
        row["revenue"] = "1.0"  # losing money: on the list
    ledger = tmp_path / "ledger.csv"
    with ledger.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "targets.csv"
    assert main(["targets", str(BUNDLED_SCENARIO), "--customers", str(ledger), "--strategy", "ladder",
                 "--out", str(out)]) == 0
    text = out.read_text()
    for planted in ["=HYPERLINK", "+1+1", "@SUM(A1)", "-2+3"]:
        assert f"\n'{planted}" in text or f"\n\"'{planted}" in text, planted
    assert "\n=HYPERLINK" not in text and "\"=HYPERLINK" not in text
    typed = pd.read_parquet(out.with_suffix(".parquet"))  # the Parquet copy keeps the ids as they are
    assert "=HYPERLINK(\"http://x\")" in set(typed["customer_id"])
    numbers = pd.read_csv(out)["monthly_profit"]
    assert numbers.dtype == float and (numbers < 0).any()  # negative amounts stay numbers


def test_an_option_that_is_not_there_or_acts_on_no_one_is_refused(tmp_path, capsys):
    for strategy, words in (("nonesuch", "is not a strategy of"), ("retain_all", "has no steps")):
        assert main(["targets", str(BUNDLED_SCENARIO), "--strategy", strategy, "--out", str(tmp_path / "t.csv")]) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()
    assert main(["targets", str(BUNDLED_SCENARIO), "--strategy", "ladder", "--out", str(tmp_path / "t.txt")]) == 2
    assert "expected a .csv file" in capsys.readouterr().err
