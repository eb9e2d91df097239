"""Last quarter beside this one: the recommendation then and now, and a bridge of the option's value whose parts —
each a run that changes one thing — add up to the change.

Two quarters of one log: the first report fits the log up to June and starts in July, the second the whole log (three
months more) and starts in October, with one assumption changed. Read back through the public road: results
folders written by ``simulate``, the bridge's record, and the page the board report renders from it.
"""

from __future__ import annotations

import html
import json

import pandas as pd
import pytest

from reports.bridge import read_bridge, value_bridge, write_bridge
from reports.commands.cli import main
from reports.document import Report
from simulation.data.sources import PopulationSource
from simulation.runs.results import load_results

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT

LOG = PROJECT_ROOT / "examples" / "transactions.csv"
RUN = ["--set", "uncertainties={}", "--replications", "3", "--workers", "1", "--quiet",
       "--strategies", "retain_all,migrate,ladder"]


@pytest.fixture(scope="module")
def quarters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quarters")
    log = pd.read_csv(LOG)
    log[log["date"] <= "2026-06-30"].to_csv(folder / "june.csv", index=False)
    log.to_csv(folder / "september.csv", index=False)
    assert main(["simulate", str(BUNDLED_SCENARIO), "--transactions", str(folder / "june.csv"), *RUN,
                 "--set", "start_date=2026-07-01", "--out", str(folder / "q3")]) == 0
    assert main(["simulate", str(BUNDLED_SCENARIO), "--transactions", str(folder / "september.csv"), *RUN,
                 "--set", "word_of_mouth.first_hand=12", "--out", str(folder / "q4")]) == 0
    return folder


@pytest.mark.slow
def test_the_bridge_adds_up_and_names_the_changed_assumption(quarters, tmp_path):
    current = load_results(quarters / "q4")
    record = value_bridge(quarters / "q3", current, PopulationSource.from_paths(None, quarters / "september.csv"),
                          workers=1)
    assert record["comparable"] and record["then_quarter"] == "2026Q3" and record["now_quarter"] == "2026Q4"
    parts = {part["part"]: part for part in record["parts"]}
    assert sum(part["value"] for part in record["parts"]) == pytest.approx(record["value_now"] - record["value_then"],
                                                                          abs=1e-6)
    assert parts["the rest: code version, seed and replications"]["value"] == 0.0  # same code, seed, replications
    assert parts["changed assumptions"]["changes"] == [{"path": "word_of_mouth.first_hand", "then": 9.0, "now": 12.0}]
    assert parts["changed assumptions"]["value"] != 0.0 and parts["new data"]["value"] != 0.0
    previous = load_results(quarters / "q3")
    option = record["option"]
    then = previous.quarters[previous.quarters["quarter"] == previous.quarters["quarter"].max()]
    assert record["value_then"] == pytest.approx(then[then["strategy"] == option]["npv_plus_book"].mean(), rel=1e-12)

    # Last quarter's forecast for July to September against what the whole log shows for those months.
    log = pd.read_csv(quarters / "september.csv")
    window = log[(log["date"] >= "2026-07-01") & (log["date"] <= "2026-09-30")]
    days = window.groupby(["customer_id", "date"])["amount"].sum()
    first = previous.quarters[(previous.quarters["strategy"] == then_baseline(previous))
                              & (previous.quarters["quarter"] == 1)]
    rows = {row["measure"]: row for row in record["forecast"]}
    assert rows["revenue"]["actual"] == pytest.approx(window["amount"].sum(), rel=1e-12)
    assert rows["purchases"]["actual"] == (days >= 0).sum()
    assert rows["revenue"]["forecast"] == pytest.approx(first["revenue"].mean(), rel=1e-12)
    assert rows["purchases"]["inside"] == (rows["purchases"]["low"] <= rows["purchases"]["actual"]
                                           <= rows["purchases"]["high"])

    write_bridge(quarters / "q4", record)
    page = html.unescape(" ".join(str(Report.open(quarters / "q4", kind="board", quarter="2026Q4",
                                                  output_dir=tmp_path).since_last_quarter_section()).split()))
    assert "What changed since last quarter" in page and "Last quarter's report (2026Q3) advised" in page
    assert "word_of_mouth.first_hand): 9 → 12" in page and "Change in the expected value" in page
    assert "Last quarter's forecast against what happened" in page and "What the log shows" in page
    chart = (tmp_path / "charts" / "bridge.svg").read_text()
    assert chart.lstrip().startswith("<?xml") and "expected value, EUR" in chart  # the waterfall, its axis in units
    (quarters / "q4" / "bridge.json").unlink()
    assert read_bridge(quarters / "q4") is None


def then_baseline(results):
    return results.scenario.baseline


@pytest.mark.slow
def test_another_seed_shows_in_the_rest_and_other_data_or_scenarios_are_not_compared(quarters, tmp_path):
    source = PopulationSource.from_paths(None, quarters / "september.csv")
    assert main(["simulate", str(BUNDLED_SCENARIO), "--transactions", str(quarters / "september.csv"), *RUN,
                 "--set", "word_of_mouth.first_hand=12", "--seed", "5", "--out", str(tmp_path / "seed5")]) == 0
    record = value_bridge(quarters / "q3", load_results(tmp_path / "seed5"), source, workers=1)
    rest = record["parts"][0]
    assert record["seed_then"] != record["seed_now"] and rest["value"] != 0.0
    assert sum(p["value"] for p in record["parts"]) == pytest.approx(record["value_now"] - record["value_then"],
                                                                    abs=1e-6)

    assert main(["simulate", str(BUNDLED_SCENARIO), *RUN, "--set", "name=Another review",
                 "--out", str(tmp_path / "other")]) == 0
    other = value_bridge(quarters / "q3", load_results(tmp_path / "other"), PopulationSource(), workers=1)
    assert not other["comparable"] and "another scenario" in other["why_not"]

    moved = tmp_path / "moved"
    (moved / "results").mkdir(parents=True)
    for path in (quarters / "q3").iterdir():
        (moved / "results" / path.name).write_bytes(path.read_bytes())
    provenance = json.loads((moved / "results" / "provenance.json").read_text())
    assert provenance["input_data"]["path"].endswith("june.csv")
    (quarters / "june.csv").rename(quarters / "june.moved")
    try:
        gone = value_bridge(moved / "results", load_results(quarters / "q4"), source, workers=1)
    finally:
        (quarters / "june.moved").rename(quarters / "june.csv")
    assert not gone["comparable"] and "is no longer there" in gone["why_not"]


def test_previous_must_be_a_report_folder(tmp_path, capsys):
    assert main(["report", str(BUNDLED_SCENARIO), "--previous", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no complete results here" in capsys.readouterr().err
