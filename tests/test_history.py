"""``clientele history DIR``: one row per quarter's report, oldest first — the recommendation, its forecast for the
quarter after, and the customers the next report started from — as a table, a CSV and a chart."""

from __future__ import annotations

import pandas as pd
import pytest

from reports.commands.cli import main
from simulation.runs.results import load_results

from .conftest import BUNDLED_SCENARIO, SMALL_RUN

pytestmark = pytest.mark.slow  # the whole file renders reports: the full suite's, not the fast tier's

RUN = [*SMALL_RUN, "--replications", "2", "--workers", "1", "--quiet", "--strategies", "retain_all,migrate"]


@pytest.fixture(scope="module")
def quarters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("history")
    for start, name in (("2027-01-01", "a"), ("2026-07-01", "b"), ("2026-10-01", "c")):  # names not in date order
        assert main(["simulate", str(BUNDLED_SCENARIO), *RUN, "--set", f"start_date={start}",
                     "--out", str(folder / name / "results")]) == 0
    return folder


def test_each_quarter_in_date_order_with_its_forecast_and_what_the_next_report_found(quarters, capsys):
    assert main(["history", str(quarters)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(quarters / "history.csv")
    assert list(table["quarter"]) == ["2026Q3", "2026Q4", "2027Q1"] and list(table["folder"]) == ["b", "c", "a"]
    first = load_results(quarters / "b" / "results")
    ladder = first.quarters[(first.quarters["strategy"] == table.loc[0, "option"]) & (first.quarters["quarter"] == 1)]
    assert table.loc[0, "forecast_customers"] == pytest.approx(ladder["active_customers"].mean(), rel=1e-12)
    following = load_results(quarters / "c" / "results")
    assert table.loc[0, "customers_next_quarter"] == following.provenance["customers_at_start"]
    assert table.loc[0, "within_forecast"] == (table.loc[0, "forecast_low"] <= table.loc[0, "customers_next_quarter"]
                                               <= table.loc[0, "forecast_high"])
    assert pd.isna(table.loc[2, "customers_next_quarter"])  # the latest quarter has no next report yet
    assert "2026Q3 (b):" in printed and "at the next report" in printed
    assert (quarters / "history.svg").read_text().lstrip().startswith("<?xml")


def test_a_quarter_of_another_scenario_or_after_a_gap_is_marked_not_compared(quarters, tmp_path, capsys):
    import shutil

    for name in ("b", "a"):  # 2026Q3 and 2027Q1: six months apart
        shutil.copytree(quarters / name, tmp_path / name)
    assert main(["simulate", str(BUNDLED_SCENARIO), *RUN, "--set", "start_date=2026-04-01", "--set", "name=Other",
                 "--out", str(tmp_path / "z" / "results")]) == 0
    assert main(["history", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "history.csv").set_index("folder")
    assert table.loc["z", "note"] == "another scenario: not compared"
    assert table.loc["b", "note"] == "the next report starts 6 months later, not one quarter"
    assert pd.isna(table.loc["b", "customers_next_quarter"])


def test_a_folder_without_reports_is_refused(tmp_path, capsys):
    assert main(["history", str(tmp_path)]) == 2
    assert "holds no report folder" in capsys.readouterr().err


def test_the_board_report_shows_the_quarters_once_three_exist(quarters, tmp_path):
    import html
    import shutil

    from pypdf import PdfReader

    from .conftest import pdf_text

    for name in ("a", "b", "c"):
        shutil.copytree(quarters / name, tmp_path / name)
    out = tmp_path / "d"
    assert main(["report", str(BUNDLED_SCENARIO), *RUN, "--set", "start_date=2027-04-01", "--set", "uncertainties={}",
                 "--previous", str(tmp_path / "a"), "--out", str(out)]) == 0
    text = " ".join(html.unescape(pdf_text(PdfReader(out / "board_report.pdf"))).split())
    assert "What changed since last quarter" in text and "Last quarter's report (2027Q1) advised" in text
    page = text[text.index("Quarter by quarter"):]
    assert [quarter for quarter in ("2026Q3", "2026Q4", "2027Q1", "2027Q2") if quarter in page.replace(" ", "")] == \
        ["2026Q3", "2026Q4", "2027Q1", "2027Q2"] and "not yet" in page


def test_last_quarters_report_beside_this_one_is_compared_by_default(quarters, tmp_path):
    import json
    import shutil

    shutil.copytree(quarters / "a", tmp_path / "2027Q1")  # starts 2027-01-01: a quarter before the report below
    out = tmp_path / "2027Q2"
    assert main(["report", str(BUNDLED_SCENARIO), *RUN, "--set", "start_date=2027-04-01", "--set", "uncertainties={}",
                 "--out", str(out)]) == 0
    record = json.loads((out / "results" / "bridge.json").read_text())
    assert record["previous"].endswith("2027Q1/results") and record["then_quarter"] == "2027Q1"


def test_the_quarters_page_stands_without_a_bridge_when_last_quarter_is_missing(quarters, tmp_path):
    import html
    import shutil

    from pypdf import PdfReader

    from .conftest import pdf_text

    for name in ("a", "b", "c"):
        shutil.copytree(quarters / name, tmp_path / name)
    out = tmp_path / "d"  # 2027Q3: the quarter before it (2027Q2) has no report, so nothing is bridged
    assert main(["report", str(BUNDLED_SCENARIO), *RUN, "--set", "start_date=2027-07-01", "--set", "uncertainties={}",
                 "--out", str(out)]) == 0
    text = " ".join(html.unescape(pdf_text(PdfReader(out / "board_report.pdf"))).split())
    assert "Quarter by quarter" in text and "Last quarter's report" not in text
