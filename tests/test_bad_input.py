"""The bad-input corpus: every case a row — the command, the exit code, the words the message must
contain — and nothing written. A case found later is a new row, not a one-off test.

Cases that could hang or eat the machine (a FIFO, /dev/zero, nested aliases) run the real command
in a child process under a time and memory limit; the rest run ``clientele``'s ``main`` in-process.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from reports.commands.cli import main
from simulation.runs.results import remove_stale_temporaries

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT

QUICK = ["--replications", "1", "--workers", "1", "--quiet"]
SMALL = ["--set", "population.customers=300", "--set", "market.size=6000", "--set", "horizon_quarters=1", *QUICK]
BANK = str(BUNDLED_SCENARIO)


def scenario_file(text: str | bytes, name: str = "scenario.yaml") -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        path = folder / name
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return str(path)

    return make


def csv_file(text: str, name: str = "data.csv") -> Callable[[Path], str]:
    return scenario_file(text, name)


MINIMAL = "name: bad input\n"
LADDER_128 = MINIMAL + "strategies:\n  long:\n    steps:\n" + "      - action: educate\n" * 128
DUPLICATE_KEY = "name: x\npopulation:\n  customers: 2000\nmarket:\n  size: 9000\npopulation:\n  customers: 5000000\n"


@dataclass(frozen=True)
class Case:
    """One bad input: build files in a folder, run the command, expect this exit and these words."""

    name: str
    command: Callable[[Path], list[str]]
    words: tuple[str, ...]
    exit_code: int = 2
    files: dict[str, Callable[[Path], str]] = field(default_factory=dict)


def simulate(*extra: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["simulate", BANK, *SMALL, "--out", str(folder / "out"), *extra]


def simulate_with(scenario: Callable[[Path], str], *extra: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["simulate", scenario(folder), *QUICK, "--out", str(folder / "out"), *extra]


def simulate_csv(flag: str, data: Callable[[Path], str]) -> Callable[[Path], list[str]]:
    return lambda folder: ["simulate", BANK, *SMALL, flag, data(folder), "--out", str(folder / "out")]


def report(*extra: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["report", BANK, *SMALL, "--out", str(folder / "out"), *extra]


def ledger(rows: str) -> Callable[[Path], list[str]]:
    return simulate_csv("--customers", csv_file(rows))


def log(rows: str) -> Callable[[Path], list[str]]:
    return simulate_csv("--transactions", csv_file(rows))



def sweep_file(**fields: str) -> Callable[[Path], str]:
    """A small sweep over the bundled bank; ``fields`` are YAML lines put in (or replacing) the defaults."""
    lines = {"name": "bad sweep", "scenario": BANK, "strategies": "[retain_all]", "replications": "2", "seed": "1",
             "set": "{population.customers: 300, market.size: 20000, horizon_quarters: 4}",
             "design": "{method: lhs, points: 3}", "parameters": "{word_of_mouth.first_hand: {low: 3, high: 15}}",
             **fields}
    return scenario_file("".join(f"{key}: {value}\n" for key, value in lines.items()), "sweep.yaml")


def sweep(**fields: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["sweep", sweep_file(**fields)(folder), "--out", str(folder / "store"), "--quiet"]


def marked(folder: Path, *markers: str) -> Path:
    """A folder holding the files that mark one kind (a report's notebook, a store's sweep.json)."""
    for marker in markers:
        (folder / marker).parent.mkdir(parents=True, exist_ok=True)
        (folder / marker).write_text("{}")
    return folder


def cohort(rows: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["calibrate", "--cohort", csv_file("period,customers\n" + rows)(folder),
                           "--out", str(folder / "c")]


CASES = [
    # ------------------------------------------------------------------ scenario files
    Case("utf-16 scenario", simulate_with(scenario_file(MINIMAL.encode("utf-16"))), ("scenario.yaml", "UTF-16", "UTF-8")),
    Case("latin-1 scenario", simulate_with(scenario_file("name: Caf\u00e9 cr\u00e8me\n".encode("latin-1"))),
         ("scenario.yaml", "not UTF-8", "line 1")),
    Case("binary scenario", simulate_with(scenario_file(b"\x89PNG\r\n\x1a\n\x00\x00\x00")), ("NUL bytes",)),
    Case("scenario folder", lambda f: ["simulate", str(f), *SMALL, "--out", str(f / "out")], ("is a folder",)),
    Case("impossible date", simulate_with(scenario_file(MINIMAL + "start_date: 2026-02-30\n")),
         ("'start_date'", "2026-02-30")),
    Case("date as a key", simulate_with(scenario_file(MINIMAL + "2026-01-01: 5\n")),
         ("'2026-01-01' is not a known field",)),
    Case("year 9999", simulate_with(scenario_file(MINIMAL + "start_date: 9999-10-01\n")),
         ("'start_date' must be between 1900-01-01 and 2200-01-01",)),
    Case("market of 1e23", simulate_with(scenario_file(MINIMAL + "market: {size: 1e23}\n")),
         ("'market.size'", "exceeded maximum size", "1e+23")),
    Case("market of 2e10", simulate_with(scenario_file(MINIMAL + "market: {size: 2e10}\n")),
         ("'market.size'", "less than or equal to 10000000000")),
    Case("market smaller than the book", simulate("--set", "market.size=100"),
         ("market.size 100 must be at least population.customers (300)",)),
    Case("validate: market smaller than the book", lambda f: ["validate", BANK, "--set", "market.size=100"],
         ("market.size 100 must be at least population.customers (20,000)",)),
    Case("sexagesimal quarters", simulate_with(scenario_file(MINIMAL + "horizon_quarters: 1:00\n")),
         ("'horizon_quarters' must be a number, not text", "'1:00'")),
    Case("hexadecimal quarters", simulate_with(scenario_file(MINIMAL + "horizon_quarters: 0x10\n")),
         ("'horizon_quarters' must be a number, not text", "'0x10'")),
    Case("binary tag", simulate_with(scenario_file("name: !!binary aGVsbG8=\n")), ("binary data (!!binary, line 1)",)),
    Case("control character in a scenario", simulate_with(scenario_file("name: 'bell \a'\n")),
         ("holds a control character ('\\x07') on line 1",)),
    Case("control character in a --set", simulate("--set", "name=esc \x1b"), ("--set name=esc", "control character")),
    Case("undecodable byte in a --set", simulate("--set", "name=caf\udcff"), ("holds a byte that is not UTF-8 (0xff)",)),
    Case("name of 20,000 characters", simulate_with(scenario_file("name: " + "A" * 20_000 + "\n")),
         ("'name'", "at most 300 characters")),
    Case("strategy name with a comma", simulate_with(scenario_file(MINIMAL + "strategies:\n  'a,b': {}\n")),
         ("'strategies.a,b' must be a name of 1 to 64 characters without ','",)),
    Case("switch given as text", simulate("--set", "churn.enabled=off_please"), ("'churn.enabled'", "boolean")),
    Case("start date as a number", simulate("--set", "start_date=0"), ("'start_date' must be a date as YYYY-MM-DD",)),
    Case("merge key", simulate_with(scenario_file(MINIMAL + "base: &b {customers: 10}\npopulation:\n  <<: *b\n")),
         ("merge keys (<<) are not supported",)),
    Case("cross-field rule names the --set", lambda f: ["validate", BANK, "--set", "market.size=10000000000",
                                                       "--set", "market.acquisition_rate=1"],
         ("(with --set market.acquisition_rate=1, --set market.size=10000000000)", "fit a run")),
    Case("128-step ladder", simulate_with(scenario_file(LADDER_128)), ("'strategies.long.steps'", "at most 20")),
    Case("duplicate key", simulate_with(scenario_file(DUPLICATE_KEY)),
         ("key 'population' appears twice, on lines 2 and 6",)),
    Case("number as text", simulate_with(scenario_file(MINIMAL + "population: {customers: '2000'}\n")),
         ("'population.customers' must be a number, not text",)),
    Case("cost per contact of 1e308", simulate_with(scenario_file(
        MINIMAL + "channels: {call_centre: {cost_per_contact: 1e308}}\n")),
        ("'channels.call_centre.cost_per_contact'", "less than or equal to 1000000")),
    Case("segment multiplier of 1e300", simulate("--set", "churn.segment_multipliers=[1, 1, 1, 1, 1, 1, 1, 1e300]"),
         ("'churn.segment_multipliers'", "from 0 to 100")),
    Case("infinite cost", simulate_with(scenario_file(MINIMAL + "channels: {call_centre: {cost_per_contact: .inf}}\n")),
         ("'channels.call_centre.cost_per_contact'", "finite")),
    Case("NaN threshold", simulate_with(scenario_file(
        MINIMAL + "strategies:\n  s:\n    steps:\n      - {action: educate, target: {max_monthly_profit: .nan}}\n")),
        ("max_monthly_profit", "finite")),
    Case("memory of a run", simulate_with(scenario_file(MINIMAL + "population: {customers: 5000000}\n"
                                                        "market: {size: 5000000000, acquisition_rate: 0.01}\n")),
         ("customer rows", "GiB", "fit a run")),
    Case("oversized file", simulate_with(scenario_file("# padding\n" * 120_000)), ("bytes; a scenario file is at most",)),
    Case("nested too deep", simulate_with(scenario_file("name: " + "[" * 20_000 + "]" * 20_000 + "\n")),
         ("nested too deeply",)),
    # ------------------------------------------------------------------ --set
    Case("--set true as a count", simulate("--set", "population.customers=true"),
         ("--set population.customers=true", "'population.customers' must be a number, not a yes/no value")),
    Case("--set out of range names the --set", simulate("--set", "market.size=0"),
         ("--set market.size=0: 'market.size'", "greater than or equal to 1")),
    Case("--set bad YAML", simulate("--set", "market.size=[1"), ("--set market.size=[1: not valid YAML",)),
    Case("--set empty path", simulate("--set", "market..size=5"), ("names between the dots",)),
    # ------------------------------------------------------------------ options
    Case("--seed -1", simulate("--seed", "-1"), ("argument --seed", "between 0 and")),
    Case("--workers 100", simulate("--workers", "100"), ("argument --workers", "cores")),
    Case("--workers -1 (simulate)", simulate("--workers", "-1"), ("argument --workers",)),
    Case("--workers -1 (report)", report("--workers", "-1"), ("argument --workers",)),
    Case("--replications 1e9", simulate("--replications", "1000000000"), ("argument --replications", "1,000,000")),
    Case("--replications beyond memory", simulate("--replications", "900000"),
         ("--replications 900,000", "GiB of results", "at most")),
    Case("--replications abc", simulate("--replications", "abc"), ("argument --replications", "whole number")),
    Case("--quarter with a newline", report("--quarter", "2026Q4\n"), ("--quarter must look like 2026Q4",)),
    Case("--quarter in Arabic-Indic digits", report("--quarter", "\u0662\u0660\u0662\u0666Q4"),
         ("--quarter must look like 2026Q4",)),
    Case("--show unknown", simulate("--show", "npvv"), ("unknown outcome 'npvv'",)),
    Case("--out is a file", lambda f: ["simulate", BANK, *SMALL, "--out", scenario_file("x")(f)],
         ("--out", "is a file, not a folder")),
    Case("--out under a file", lambda f: ["simulate", BANK, *SMALL, "--out", scenario_file("x")(f) + "/out"],
         ("--out", "is under", "a file, not a folder")),
    Case("--out in /proc", lambda f: ["simulate", BANK, *SMALL, "--out", "/proc/clientele-out"],
         ("--out /proc/clientele-out: cannot write there",)),
    Case("--out /dev/null", lambda f: ["simulate", BANK, *SMALL, "--out", "/dev/null"], ("--out /dev/null", "not a folder")),
    Case("--out empty", lambda f: ["simulate", BANK, *SMALL, "--out", ""], ("argument --out: expected a folder name: got ''",)),
    Case("--out with a newline", lambda f: ["simulate", BANK, *SMALL, "--out", str(f / "a\nb")],
         ("argument --out: expected a folder name without control characters",)),
    Case("--strategies of nothing", simulate("--strategies", ","), ("argument --strategies", "got ','")),
    Case("--strategies empty", simulate("--strategies", ""), ("argument --strategies", "got ''")),
    Case("--strategies with a gap", simulate("--strategies", "retain_all,,ladder"), ("argument --strategies",)),
    Case("ledger calibration end 173 years past its data", lambda f: [
        "calibrate", "--customers", str(PROJECT_ROOT / "examples" / "subscriptions.csv"), "--calibration-end",
        "2199-01-01", "--out", str(f / "c")], ("--calibration-end 2199-01-01 is after the ledger's latest date",)),
    Case("calibrate --seed -1", lambda f: ["calibrate", "--transactions", str(PROJECT_ROOT / "examples" / "transactions.csv"),
                                           "--seed", "-1", "--out", str(f / "c")], ("argument --seed", "between 0 and")),
    Case("calibrate --seed 2^63", lambda f: ["calibrate", "--transactions", str(PROJECT_ROOT / "examples" / "transactions.csv"),
                                             "--seed", str(2**63), "--out", str(f / "c")], ("argument --seed",)),
    Case("calibrate into its own input's folder", lambda f: ["calibrate", "--transactions", csv_file(
        (PROJECT_ROOT / "examples" / "transactions.csv").read_text(), "customers.csv")(f), "--out", str(f)],
         ("writing customers.csv there would replace the input", "expected another folder")),
    Case("backtest into its own input's folder", lambda f: ["backtest", "--transactions", csv_file(
        (PROJECT_ROOT / "examples" / "transactions.csv").read_text(), "backtest.json")(f), "--calibration-end",
        "2025-12-31", "--out", str(f)], ("writing backtest.json there would replace the input",)),
    # ------------------------------------------------------------------ CSV files
    Case("duplicate header by case", ledger("customer_id,revenue,Revenue\nA,1,2\n"),
         ("columns 2 ('revenue') and 3 ('Revenue')", "name the same column")),
    Case("duplicate header", ledger("customer_id,revenue,revenue\nA,1,2\n"), ("columns 2 ('revenue') and 3 ('revenue')",)),
    Case("long row", ledger("customer_id,revenue\nA,1\nB,2,3\n"), ("row 3: 'B,2,3'", "2 fields, as in the header")),
    Case("short row", ledger("customer_id,revenue,contacts\nA,1,0.5\nB,2\n"), ("row 3", "3 fields, as in the header")),
    Case("rows are file lines, blank lines included", ledger("customer_id,revenue\nA,1\n\nB,x\n"),
         ("row 4, column 'revenue': 'x'",)),
    Case("non-UTF-8 byte far down", simulate_csv("--customers", scenario_file(
        ("customer_id,revenue\n" + "".join(f"C{i},1\n" for i in range(3000))).encode()
        + "Jos\u00e9,2\n".encode("latin-1"), "data.csv")), ("not UTF-8", "line 3002")),
    Case("stray quote", simulate_csv("--customers", csv_file(
        "customer_id,revenue\n" + "".join(f"C{i},1\n" for i in range(4)) + 'C5,"1\n' + "x" * 140_000 + "\n")),
        ("cannot read from line 6", "unclosed quote")),
    Case("UTF-16 CSV without a byte-order mark", simulate_csv("--customers", scenario_file(
        "customer_id,revenue\nA,1\n".encode("utf-16-le"), "data.csv")), ("NUL bytes",)),
    Case("ledger referrals beyond the scenario's ceiling", ledger("customer_id,revenue,referrals_per_year\nA,10,1e12\n"),
         ("row 2, column 'referrals_per_year'", "from 0 to 10")),
    Case("revenue 1e300", ledger("customer_id,revenue\nA,1e300\n"), ("row 2, column 'revenue'", "1e12")),
    Case("revenue inf", ledger("customer_id,revenue\nA,inf\n"), ("row 2, column 'revenue'", "'inf'")),
    Case("amounts that overflow", log("customer_id,date,amount\nA,2026-01-05,1e308\nA,2026-02-05,1e308\n"),
         ("row 2, column 'amount'", "between -1e12 and 1e12")),
    Case("slashed date", log("customer_id,date,amount\nA,2024/01/05,10\n"), ("'2024/01/05'", "YYYY-MM-DD")),
    Case("compact date", log("customer_id,date,amount\nA,20240105,10\n"), ("'20240105'", "YYYY-MM-DD")),
    Case("month only", log("customer_id,date,amount\nA,2024-03,10\n"), ("'2024-03'", "YYYY-MM-DD")),
    Case("year 1", log("customer_id,date,amount\nA,0001-01-01,10\nA,2024-01-01,10\n"), ("'0001-01-01'", "1900 and 2200")),
    Case("folder as CSV", lambda f: ["simulate", BANK, *SMALL, "--customers", str(f), "--out", str(f / "out")],
         ("is a folder; expected a customer ledger",)),
    Case("/dev/null as CSV", lambda f: ["simulate", BANK, *SMALL, "--transactions", "/dev/null", "--out", str(f / "out")],
         ("/dev/null: is not a regular file",)),
    Case("latin-1 CSV", simulate_csv("--customers", scenario_file("customer_id,revenue\nCaf\u00e9,1\n".encode("latin-1"),
                                                                   "data.csv")), ("not UTF-8",)),
    Case("bad CSV before the report's kernel", lambda f: ["report", BANK, *SMALL, "--customers",
                                                          csv_file("customer_id,revenue\nA,x\n")(f),
                                                          "--out", str(f / "out")],
         ("row 2, column 'revenue'",)),
    # ------------------------------------------------------------------ sweeps: files, sizes, folders
    Case("sweep ledger that is no ledger", sweep(customers="/etc/passwd"),
         ("/etc/passwd: its first line is not the header of a customer ledger", "the line is not shown")),
    Case("sweep ledger that is a folder", sweep(customers="/etc"), ("/etc", "is a folder; expected a customer ledger")),
    Case("sweep path both fixed and varied", sweep(set="{word_of_mouth.first_hand: 4, population.customers: 300}"),
         ("a path is either fixed or varied, not both", "'word_of_mouth.first_hand' (set)")),
    Case("sweep replications beyond memory", sweep(replications="10000", strategies="null",
                                                   set="{population.customers: 300, horizon_quarters: 80}"),
         ("sweep.yaml: 'replications' 10,000", "GiB of results")),
    Case("sweep into a report folder", lambda f: ["sweep", sweep_file()(f), "--out",
                                                  str(marked(f / "q4", "board_report.ipynb", "results/provenance.json")),
                                                  "--quiet"],
         ("holds a report (made by clientele report)", "expected a new folder or a sweep store")),
    Case("simulate into a sweep store", lambda f: ["simulate", BANK, *SMALL, "--out",
                                                   str(marked(f / "store", "sweep.json") / "results")],
         ("is inside store, a sweep store (made by clientele sweep)", "expected a folder outside it")),
    Case("report into a results folder", lambda f: ["report", BANK, *SMALL, "--out",
                                                    str(marked(f / "run", "provenance.json"))],
         ("holds a results (made by clientele simulate)",)),
    Case("calibrate into a sweep store", lambda f: ["calibrate", "--transactions", str(PROJECT_ROOT / "examples" /
                                                    "transactions.csv"), "--out", str(marked(f / "s", "sweep.json"))],
         ("holds a sweep store",)),
    Case("report whose charts are a link", lambda f: ["report", BANK, *SMALL, "--out", str(
        (lambda out: ((out / "charts").symlink_to(f), out)[1])(marked(f / "q4", "note.txt")))],
         ("charts is a symbolic link", "expected a real folder or none")),
    Case("--out name of 300 bytes", lambda f: ["simulate", BANK, *SMALL, "--out", str(f / ("x" * 300))],
         ("argument --out", "at most 255 bytes")),
    Case("simulate into its own input's folder", lambda f: ["simulate", BANK, *SMALL, "--transactions", csv_file(
        "customer_id,date,amount\n", "results.parquet")(f), "--out", str(f)],
         ("writing results.parquet there would replace the input",)),
    Case("report whose results/ holds its ledger", lambda f: ["report", BANK, *SMALL, "--customers", str(
        (lambda d: (d.mkdir(parents=True), csv_file("customer_id,revenue\nA,1\n")(d))[1])(f / "q4" / "results")),
        "--out", str(f / "q4")], ("its results/ is written anew and holds the input",)),
    Case("sweep whose store holds its file", lambda f: ["sweep", sweep_file()(marked(f / "s" / "results", "x")),
                                                        "--out", str(f / "s"), "--quiet"],
         ("its results/ is written anew and holds the input",)),
    # ------------------------------------------------------------------ cohort tables
    Case("cohort of 10.5 customers", cohort("0,10.5\n1,8\n2,6\n"),
         ("row 2, column 'customers': '10.5'", "a whole number of customers")),
    Case("cohort of 1e-300 customers", cohort("0,1e-300\n1,0\n2,0\n"), ("row 2, column 'customers': '1e-300'",)),
    Case("time of 99:99:99+99:99", log("customer_id,date,amount\nA,2026-01-05T99:99:99+99:99,10\nA,2026-02-05,10\n"),
         ("row 2, column 'date': '2026-01-05T99:99:99+99:99'", "YYYY-MM-DD")),
    Case("file name with a terminal escape", simulate_csv("--customers", csv_file("customer_id,revenue\nA,x\n",
                                                                                 "bad\x1b[31mred.csv")),
         ("bad\\x1b[31mred.csv: 1 problem",)),
    Case("scenario name with a bell", lambda f: ["simulate", str(f / "no\asuch.yaml"), "--out", str(f / "o")],
         ("no\\x07such.yaml: scenario file not found",)),
    Case("validate: the documented maximum market", lambda f: ["validate", BANK, "--set", "market.size=10000000000"],
         ("market.size 10,000,000,000", "GiB", "fit a run")),
]


def run_main(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(arguments)
    except SystemExit as exit_:  # argparse refuses options this way
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.slow
def test_bad_input_gets_one_clear_message_and_nothing_is_written(case: Case, tmp_path: Path, capsys):
    before = set(tmp_path.rglob("*"))
    arguments = case.command(tmp_path)
    created = set(tmp_path.rglob("*")) - before  # the input files the case made
    code, err = run_main(arguments, capsys)
    assert code == case.exit_code, err
    for words in case.words:
        assert words in err, f"{words!r} not in: {err}"
    assert "Traceback" not in err
    assert not [c for c in err if (ord(c) < 32 or 0x7f <= ord(c) < 0xa0) and c not in "\n\t"], "a raw control character"
    assert set(tmp_path.rglob("*")) - before == created, "the command wrote files"


def as_validate(case: Case) -> Case:
    """The same bad input given to ``validate``: every check simulate makes, short of simulating."""
    def command(folder: Path) -> list[str]:
        arguments = case.command(folder)
        kept, skip = ["validate"], False
        for argument in arguments[1:]:
            if skip:
                skip = False
            elif argument in ("--out", "--show"):
                skip = True  # validate writes nothing and prints no outcomes
            else:
                kept.append(argument)
        return kept

    return Case(f"validate: {case.name}", command, case.words, case.exit_code, case.files)


def _simulates(case: Case) -> bool:
    """Whether the case runs ``simulate`` and is refused for its input, not for its --out or --show."""
    with tempfile.TemporaryDirectory() as folder:
        arguments = case.command(Path(folder))
    words = " ".join(case.words)
    about_out = "--out" in words or " into " in case.name  # where results would go: validate writes nothing
    return arguments[0] == "simulate" and not about_out and "--show" not in arguments


VALIDATED = [as_validate(case) for case in CASES if _simulates(case)]


@pytest.mark.parametrize("case", VALIDATED, ids=[case.name for case in VALIDATED])
@pytest.mark.slow
def test_validate_refuses_what_simulate_refuses_with_the_same_words(case: Case, tmp_path: Path, capsys):
    test_bad_input_gets_one_clear_message_and_nothing_is_written(case, tmp_path, capsys)

# ---------------------------------------------------------------------------- what runs fine
@pytest.mark.parametrize("first, second", [
    ("2026-01-05T09:30:00+01:00", "2026-02-05T23:10:00-08:00"),  # mixed time zones: each record's own date
    ("2026-01-05 09:30", "2026-02-05T23:59:59.5Z"),
], ids=["mixed offsets", "space, fraction and Z"])
def test_dates_with_times_and_offsets_are_read_as_written(first, second, tmp_path, capsys):
    log = (PROJECT_ROOT / "examples" / "transactions.csv").read_text()  # enough customers for the fit
    data = csv_file(f"{log}A,{first},20\nA,{second},20\nB,2026-02-01,5\n")(tmp_path)
    code, err = run_main(["simulate", BANK, *SMALL, "--transactions", data, "--out", str(tmp_path / "out")], capsys)
    assert code == 0, err


def test_a_dead_runs_temporary_files_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = out / f".results.parquet.tmp-{int(dead.stdout)}"
    stale.write_bytes(b"half a table")
    mine = out / f".draft.tmp-{os.getpid()}"
    (out / ".odd.tmp-99999999999999999999").write_bytes(b"")  # no process can have this number
    mine.write_bytes(b"being written by this process")
    assert sorted(remove_stale_temporaries(out)) == sorted([stale, out / ".odd.tmp-99999999999999999999"])
    assert not stale.exists() and mine.exists()
    assert main(["simulate", BANK, *SMALL, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [mine.name]


# ---------------------------------------------------------------------------- hangs and memory
MEMORY_LIMIT = 3 << 30  # bytes of address space: the nested aliases once expanded to 5.7 GB


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(arguments: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "reports.commands.cli", *arguments], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=_limited)


BILLION_LAUGHS = "name: laughs\n" + "\n".join(
    [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" if i else "l0: &l0 [ha, ha, ha, ha, ha, ha, ha, ha, ha]"
     for i in range(10)]) + "\n"


@pytest.mark.parametrize("make, words", [
    (lambda f: (os.mkfifo(f / "fifo.yaml"), str(f / "fifo.yaml"))[1], "is not a regular file"),
    (lambda f: "/dev/zero", "is not a regular file"),
    (lambda f: scenario_file(BILLION_LAUGHS)(f), "expands to more than 100,000 values"),
], ids=["fifo", "dev-zero", "billion-laughs"])
@pytest.mark.slow
def test_inputs_that_could_hang_or_exhaust_memory_get_a_message_in_seconds(make, words, tmp_path):
    assert len(BILLION_LAUGHS) < 600  # 9^10 = 3.5 billion values once expanded
    scenario = make(tmp_path)
    for command in (["validate", scenario], ["simulate", scenario, "--out", str(tmp_path / "out")]):
        finished = run_limited(command, tmp_path, timeout=60)
        assert finished.returncode == 2, finished.stderr
        assert words in finished.stderr and "Traceback" not in finished.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only folder")
def test_a_read_only_output_folder_is_refused_before_simulating(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, err = run_main(["simulate", BANK, *SMALL, "--out", str(locked / "out")], capsys)
    finally:
        locked.chmod(0o755)
    assert code == 2 and "not writable" in err and not (locked / "out").exists()


# ---------------------------------------------------------------------------- the environment
def _clientele(*arguments: str, stdout=subprocess.PIPE, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "reports.commands.cli", *arguments], stdout=stdout, stderr=subprocess.PIPE,
                            cwd=PROJECT_ROOT, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("command", [["outcomes"], ["validate", BANK], ["simulate", BANK, *SMALL]],
                         ids=["outcomes", "validate", "simulate"])
@pytest.mark.slow
def test_output_to_a_reader_that_stops_ends_quietly_as_git_does(command, tmp_path):
    out = ["--out", str(tmp_path / "out")] if command[0] == "simulate" else []
    process = _clientele(*command, *out)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # `clientele … | head -0`: the reader is gone before the first line is written
    process.wait(timeout=120)
    assert process.returncode == 141 and b"Traceback" not in process.stderr.read()
    if out:  # the results were written before the summary met the closed pipe
        assert (tmp_path / "out" / "provenance.json").exists()


def test_output_to_a_full_device_is_one_clear_message():
    with open("/dev/full", "wb") as full:
        process = _clientele("outcomes", stdout=full)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and err.decode().strip() == "clientele: error: cannot write the output: No space left on device"


@pytest.mark.slow
def test_an_ascii_terminal_gets_the_message_with_its_dashes_escaped(tmp_path):
    bad = csv_file("customer_id,revenue\nA,x\n")(tmp_path)
    process = _clientele("simulate", BANK, *SMALL, "--customers", bad, "--out", str(tmp_path / "out"),
                         env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"})
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2 and b"Traceback" not in err
    assert b"row 2, column 'revenue': 'x' \\u2014 expected a number" in err


def test_a_report_refused_for_a_bad_ledger_row_keeps_the_previous_report(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "board_report.pdf").write_bytes(b"%PDF the previous quarter's report")
    (out / "board_report.html").write_text("<html>the previous quarter's report</html>")
    bad = csv_file("customer_id,revenue\nA,x\n")(tmp_path)
    code, err = run_main(["report", BANK, *SMALL, "--customers", bad, "--out", str(out)], capsys)
    assert code == 2 and "row 2, column 'revenue'" in err
    assert (out / "board_report.pdf").read_bytes() == b"%PDF the previous quarter's report"
    assert (out / "board_report.html").exists()


def test_an_unwritable_home_gives_the_report_kernel_folders_of_its_own(tmp_path, monkeypatch):
    from reports import notebook_run

    monkeypatch.setenv("HOME", "/proc")  # no folder can be made there, even by root
    for name in notebook_run.HOME_FOLDERS:
        monkeypatch.delenv(name, raising=False)
    with notebook_run.kernel_environment(scratch=tmp_path) as added:
        assert notebook_run.kernel_name() == "clientele"  # Jupyter found its kernels without writing under HOME
        assert added["IPYTHONDIR"].startswith(str(tmp_path))
    assert "IPYTHONDIR" not in os.environ
