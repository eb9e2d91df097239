"""A company's own customers: a per-customer ledger or a raw transaction log, checked row by row.

Both files are CSV with a header line. What the data lacks (contacts, channel, late payment,
growth, referrals, contract end) is filled from the scenario's population assumptions, so a
ledger with only ``customer_id`` and ``revenue`` is enough to run. Every bad row is reported with
the file, the row (its line number in the file, the header being line 1), the column, the value
and what was expected — all of them at once, so the analyst fixes the file in one pass.

Ledger columns (amounts in the scenario's currency per month):
    customer_id (required, unique), revenue (required, >= 0), cost_of_goods, account_management,
    contacts (per month), channel (a channel of the scenario), days_late (days), growth (fraction
    per year), referrals_per_year, contract_end (ISO date).
Transaction log columns: customer_id, date (ISO date), amount (currency; negative = refund);
other columns are ignored.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.book.population import Population
from simulation.core.errors import DataError
from simulation.core.files import content_stamp, regular_file
from simulation.data.tables import AS_NAMED, ColumnMap, is_parquet, parquet_as_text, parquet_column_names
from simulation.scenario.spec import MAX_CUSTOMERS, Scenario

PARQUET_FIRST_ROW = 2  # a Parquet file's first record is row 2 in messages, as a CSV's first data line is

MAX_LISTED_PROBLEMS = 20  # more than this and the message lists the first ones and a count
MAX_AMOUNT = 1e12  # currency or count per cell; larger values are typing errors, and sums of them overflow
# Dates are ISO calendar dates; a time and a UTC offset may follow, and the date is read as written
# (one policy for every row: the day the record says, in the record's own time zone).
# Hours 00–23, minutes 00–59, seconds 00–60 (a leap second), offsets −14:00 to +14:00; the day must
# exist in its month (checked by parsing: 2026-02-30 and 2025-02-29 are refused, not moved on).
ISO_DATE = re.compile(r"(?P<date>[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]))"
                      r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60)(?:\.[0-9]+)?)?"
                      r"(?:Z|[+-](?:0[0-9]|1[0-3]):?[0-5][0-9]|[+-]14:?00)?)?")
EARLIEST_DATE, LATEST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31")
DATE_EXPECTED = "a date as YYYY-MM-DD (a time and UTC offset may follow), between 1900 and 2200"

LEDGER_REQUIRED = ("customer_id", "revenue")
# Optional numeric ledger columns: (lowest allowed value, what is expected, for messages).
LEDGER_NUMERIC = {  # the scenario's own ceilings where it has one, else MAX_AMOUNT
    "revenue": (0.0, MAX_AMOUNT, "a number from 0 to 1e12 (currency per month)"),
    "cost_of_goods": (0.0, MAX_AMOUNT, "a number from 0 to 1e12 (currency per month)"),
    "account_management": (0.0, MAX_AMOUNT, "a number from 0 to 1e12 (currency per month)"),
    "contacts": (0.0, 1000.0, "a number from 0 to 1000 (contacts per month)"),
    "days_late": (0.0, 365.0, "a number from 0 to 365 (days)"),
    "growth": (-0.99, 5.0, "a number from -0.99 to 5 (fraction per year)"),
    "referrals_per_year": (0.0, 10.0, "a number from 0 to 10 (new customers per year)"),
}
TRANSACTION_REQUIRED = ("customer_id", "date", "amount")
# Every column a ledger may have (--columns may map any of them): the numbers above, then the rest.
LEDGER_COLUMNS = ("customer_id", *LEDGER_NUMERIC, "channel", "contract_end", "start_date", "end_date")


@dataclass(frozen=True)
class Problem:
    """One bad cell (or a whole-row problem when ``column`` is None)."""

    row: int
    column: str | None
    value: str
    expected: str

    def describe(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        value = self.value if len(self.value) <= 80 else self.value[:77] + "…"
        return f"{where}: {value!r} — expected {self.expected}"


def _raise_problems(path: Path, problems: list[Problem]) -> None:
    if not problems:
        return
    problems = sorted(problems, key=lambda p: (p.row, p.column or ""))
    listed = [f"  {p.describe()}" for p in problems[:MAX_LISTED_PROBLEMS]]
    more = len(problems) - MAX_LISTED_PROBLEMS
    if more > 0:
        listed.append(f"  … and {more} more")
    noun = "problem" if len(problems) == 1 else "problems"
    rows = "records, the first = row 2" if is_parquet(path) else "file lines, header = row 1"
    raise DataError(f"{path}: {len(problems)} {noun} (rows are {rows}):\n" + "\n".join(listed))


MAX_SHOWN_COLUMNS = 30  # header names a message lists


@dataclass(frozen=True)
class CsvShape:
    header: list[str]  # column names as written
    lines: np.ndarray  # the file line each data row starts on (blank lines skipped, as pandas does)
    problems: list[Problem]  # rows of the wrong length: shown only once the header is the kind's


def _scan(path: Path, what: str) -> CsvShape:
    """One pass with the csv module: the header, each row's file line, and every problem of shape.

    Rows must have the header's number of fields (pandas would pad a short row with empty cells);
    a column may appear once (also by case); an unclosed quote or a non-UTF-8 byte is named by line.
    """
    header: list[str] | None = None
    lines: list[int] = []
    problems: list[Problem] = []
    line = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                if header is None:
                    header = _check_header(path, [name.strip() for name in row])
                elif len(row) != len(header):
                    problems.append(Problem(start, None, ",".join(row), f"{len(header)} fields, as in the header"))
                    if len(problems) > MAX_LISTED_PROBLEMS:
                        break
                else:
                    lines.append(start)
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not UTF-8 text (line {_first_undecodable_line(path)}: perhaps Latin-1 or "
                        f"Windows-1252); save the {what} as UTF-8") from None
    except csv.Error as exc:
        raise DataError(f"{path}: cannot read from line {line + 1}: {exc} (an unclosed quote?)") from None
    return CsvShape(header or [], np.array(lines, dtype=np.int64), problems)


def _first_undecodable_line(path: Path) -> int:
    """The first line that is not UTF-8 (the decoder fails on a whole buffer, not on a line)."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _check_header(path: Path, names: list[str]) -> list[str]:
    if any("\x00" in name for name in names):
        raise DataError(f"{path}: the header holds NUL bytes (UTF-16 without a byte-order mark?); save the file as UTF-8")
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        key = name.lower()
        if key in seen:
            earlier = names[seen[key] - 1]
            raise DataError(f"{path}: columns {seen[key]} ('{earlier}') and {position} ('{name}') of the header name "
                            f"the same column; each column may appear once (names ignore case)")
        seen[key] = position
    return names


def read_csv_text(path: Path, required: tuple[str, ...], what: str, columns: ColumnMap = AS_NAMED) -> pd.DataFrame:
    """Every cell as text (nothing guessed), header names trimmed, lower-cased and renamed by ``columns``;
    checks columns and row lengths. A Parquet file is read as text the same way (``tables.py``)."""
    regular_file(path, what, "CSV or Parquet", DataError)
    if is_parquet(path):
        return _parquet_text(path, required, what, columns)
    shape = _scan(path, what)
    header = shape.header
    if header:  # rows are echoed in messages only from a file whose header is this kind's
        _check_required_names(columns.rename(list(header), path), required, header, path, what)
    _raise_problems(path, shape.problems)
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: {what} file is empty; expected a header line with {', '.join(required)}") from None
    except pd.errors.ParserError as exc:  # row lengths were checked: quoting and the like
        raise DataError(f"{path}: not a readable CSV {what}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start}); save the {what} as UTF-8") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read {what}: {exc}") from None
    frame.columns = columns.rename([str(name) for name in frame.columns], path)
    _check_required(frame, required, header, path, what)
    if len(frame) != len(shape.lines):  # both skip blank lines and read quoted newlines alike
        raise DataError(f"{path}: read {len(frame)} rows where the csv module found {len(shape.lines)}; "
                        "check the quoting")
    frame.index = pd.Index(shape.lines)  # rows are named by their line in the file
    return frame.apply(lambda column: column.str.strip())


def _parquet_text(path: Path, required: tuple[str, ...], what: str, columns: ColumnMap) -> pd.DataFrame:
    names = parquet_column_names(path)
    _check_header(path, names)
    frame = parquet_as_text(path).to_pandas()
    frame.columns = columns.rename(names, path)
    _check_required(frame, required, names, path, what)
    frame.index = pd.RangeIndex(PARQUET_FIRST_ROW, PARQUET_FIRST_ROW + len(frame))  # as if the header were row 1
    return frame.apply(lambda column: column.str.strip())


def _check_required_names(names: list[str], required: tuple[str, ...], header: list[str], path: Path,
                          what: str) -> None:
    """The header holds the kind's columns; a first line that is no header of this kind is not shown."""
    missing = [name for name in required if name not in names]
    if not missing:
        return
    if len(header) < len(required) and len(missing) == len(required):  # not a CSV of this kind: say so, show nothing
        raise DataError(f"{path}: its first line is not the header of a {what}: {len(header)} column{'s' if len(header) != 1 else ''} "
                        f"where {', '.join(required)} are needed (the line is not shown); expected a CSV whose first line "
                        f"names its columns, separated by commas")
    shown = ", ".join(name if len(name) <= 40 else f"{name[:40]}…" for name in header[:MAX_SHOWN_COLUMNS])
    more = f", … ({len(header):,} in all)" if len(header) > MAX_SHOWN_COLUMNS else ""
    raise DataError(
        f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}; "
        f"found columns: {shown or 'none'}{more} (a {what} needs {', '.join(required)}; "
        f"--columns {required[0]}=their_name,… maps an export's own names)"
    )


def _check_required(frame: pd.DataFrame, required: tuple[str, ...], header: list[str], path: Path, what: str) -> None:
    _check_required_names([str(name) for name in frame.columns], required, header, path, what)
    if frame.empty:
        raise DataError(f"{path}: {what} has a header but no rows")


def _file_rows(frame: pd.DataFrame) -> np.ndarray:
    return frame.index.to_numpy()  # the line each row starts on (read_csv_text's index)


def _check_ids(frame: pd.DataFrame, problems: list[Problem], unique: bool) -> None:
    rows = _file_rows(frame)
    ids = frame["customer_id"]
    for row in rows[(ids == "").to_numpy()]:
        problems.append(Problem(int(row), "customer_id", "", "a customer identifier"))
    if unique:
        repeated = (ids.duplicated(keep="first") & (ids != "")).to_numpy()
        first_row = pd.Series(rows, index=frame.index).groupby(ids).transform("min").to_numpy()
        for row, value, first in zip(rows[repeated], ids[repeated], first_row[repeated], strict=True):
            problems.append(Problem(int(row), "customer_id", value, f"a unique identifier (already used on row {first})"))


def _numbers(frame: pd.DataFrame, column: str, lowest: float, expected: str, problems: list[Problem],
             required: bool, highest: float = MAX_AMOUNT) -> np.ndarray:
    """The column as floats; bad cells become problems. Blank optional cells are NaN (filled later)."""
    text = frame[column]
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)  # a writable copy
    blank = (text == "").to_numpy()
    with np.errstate(invalid="ignore"):
        out_of_range = np.isfinite(values) & ((values < lowest) | (values > highest) | (np.abs(values) > MAX_AMOUNT))
    bad = (~np.isfinite(values) & (~blank | required)) | out_of_range
    for row, value in zip(_file_rows(frame)[bad], text[bad], strict=True):
        problems.append(Problem(int(row), column, value, expected))
    values[blank] = np.nan
    return values


def _dates(frame: pd.DataFrame, column: str, problems: list[Problem], required: bool) -> pd.Series:
    """The column's calendar dates: ISO only (2024/01/05, 20240105 and 2024-03 are refused), 1900–2200."""
    text = frame[column]
    parts = text.str.fullmatch(ISO_DATE.pattern)
    day = text.str.slice(0, 10).where(parts, "")
    dates = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    blank = (text == "").to_numpy()
    outside = ((dates < EARLIEST_DATE) | (dates > LATEST_DATE)).to_numpy()
    bad = (dates.isna().to_numpy() & (~blank | required)) | outside
    for row, value in zip(_file_rows(frame)[bad], text[bad], strict=True):
        problems.append(Problem(int(row), column, value, DATE_EXPECTED))
    return dates.where(~outside)


# ---------------------------------------------------------------------------- filling the gaps
def assumed_contacts(revenue: np.ndarray, scenario: Scenario) -> np.ndarray:
    """Contacts per month where the data has none: the scenario's mean, rising with revenue as in the generator."""
    spec = scenario.population
    if len(revenue) == 0 or spec.contacts_mean == 0:
        return np.zeros(len(revenue))
    scale = (np.maximum(revenue, 0.0) / spec.revenue_median) ** spec.contacts_revenue_elasticity
    mean_scale = scale.mean()
    return spec.contacts_mean * (scale / mean_scale if mean_scale > 0 else np.ones(len(revenue)))


def _fill(values: np.ndarray, default: np.ndarray | float) -> np.ndarray:
    return np.where(np.isnan(values), default, values)


def _contract_months(dates: pd.Series, scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Months from the scenario start to each contract's end; past ends roll forward by whole terms."""
    term = scenario.population.contract_term_months
    drawn = rng.integers(1, term + 1, len(dates))  # contracts end spread over one term, as in the generator
    start = scenario.start_date.year * 12 + scenario.start_date.month - 1
    known = dates.notna().to_numpy()
    months = drawn.astype(np.int64)
    if known.any():
        given = (dates[known].dt.year * 12 + dates[known].dt.month - 1 - start).to_numpy().astype(np.int64)
        overdue = given < 0
        given[overdue] += term * (-given[overdue] // term + 1)  # renewed since: next end after the start
        months[known] = given
    return months.astype(np.int32)


def _population(scenario: Scenario, rng: np.random.Generator, customer_id: np.ndarray, revenue: np.ndarray,
                columns: dict[str, np.ndarray], channel: np.ndarray, contract_end: np.ndarray) -> Population:
    """Assemble a Population, taking each missing value from the scenario's population assumptions."""
    spec = scenario.population
    n = len(revenue)
    nan = np.full(n, np.nan)
    contacts = _fill(columns.get("contacts", nan), assumed_contacts(revenue, scenario))
    days_late = _fill(columns.get("days_late", nan), spec.late_payment_share * spec.days_late_mean)
    return Population(
        customer_id=customer_id,
        revenue=revenue,
        cost_of_goods=_fill(columns.get("cost_of_goods", nan), spec.cost_of_goods_share * revenue),
        account_management=_fill(columns.get("account_management", nan), spec.account_management),
        contacts=contacts,
        channel=channel,
        days_late=days_late,
        growth=_fill(columns.get("growth", nan), spec.growth_mean),
        referrals_per_year=_fill(columns.get("referrals_per_year", nan), spec.referrals_per_year),
        contract_end=contract_end,
        channel_names=tuple(scenario.channels),
    )


def _channels(frame: pd.DataFrame | None, scenario: Scenario, rng: np.random.Generator, count: int,
              problems: list[Problem]) -> np.ndarray:
    """Channel codes: the ledger's where given, else drawn from the scenario's channel mix."""
    names = tuple(scenario.channels)
    mix = np.array([scenario.population.channel_mix.get(name, 0.0) for name in names])
    channel = rng.choice(len(names), size=count, p=mix / mix.sum()).astype(np.int16)
    if frame is None or "channel" not in frame.columns:
        return channel
    text = frame["channel"]
    for code, name in enumerate(names):
        channel[(text == name).to_numpy()] = code
    unknown = ((text != "") & ~text.isin(names)).to_numpy()
    for row, value in zip(_file_rows(frame)[unknown], text[unknown], strict=True):
        problems.append(Problem(int(row), "channel", value, f"one of the scenario's channels: {', '.join(names)}"))
    return channel


def assumed_population(scenario: Scenario, rng: np.random.Generator, customer_id: np.ndarray,
                       revenue: np.ndarray) -> Population:
    """Customers known only by their revenue: every cost column, the channel and the contract end from the
    scenario's population assumptions (channels and contract ends drawn from ``rng``)."""
    channel = _channels(None, scenario, rng, len(revenue), [])
    ends = _contract_months(pd.Series(pd.NaT, index=range(len(revenue))), scenario, rng)
    return _population(scenario, rng, customer_id, revenue, {}, channel, ends)


def ledger_columns(path: Path, columns: ColumnMap = AS_NAMED) -> list[str]:
    """The ledger's column names as the tool's (which costs the data gives, which are assumed)."""
    if is_parquet(path):
        return columns.rename(parquet_column_names(path), path)
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        return columns.rename(next(csv.reader(handle), []), path)


# ---------------------------------------------------------------------------- the two formats
def load_ledger(path: str | Path, scenario: Scenario, rng: np.random.Generator,
                columns: ColumnMap = AS_NAMED) -> Population:
    """A per-customer ledger: one row per customer, monthly amounts; missing columns from the scenario."""
    path = Path(path)
    regular_file(path, "customer ledger", "CSV or Parquet", DataError)
    cells, found = _ledger_cells(str(path), content_stamp(path), columns)
    problems = list(found)
    channel = _channels(cells.channel, scenario, rng, len(cells.customer_id), problems)
    _raise_problems(path, problems)
    return _population(scenario, rng, cells.customer_id, cells.numbers["revenue"], cells.numbers, channel,
                       _contract_months(cells.contract_end, scenario, rng))


@dataclass(frozen=True)
class LedgerCells:
    """What a ledger's file says, read and checked cell by cell: all of it that no scenario changes."""

    customer_id: np.ndarray
    numbers: dict[str, np.ndarray]  # the numeric columns the file has (NaN where a cell is blank)
    contract_end: pd.Series  # dates, NaT where blank or without the column
    channel: pd.DataFrame | None  # the channel column's text, rows named by their line in the file


@functools.lru_cache(maxsize=2)
def _ledger_cells(path: str, stamp: tuple[object, ...], columns: ColumnMap) -> tuple[LedgerCells, tuple[Problem, ...]]:
    """The file's cells and the problems found in them (named by ``path`` as given), once per process for the same
    content stamp (``files.content_stamp``): a report's robustness check starts a run for each of its futures, and
    its workers, forked from the command, find the file read (a ledger of 1,000,000 rows takes 9.5 s to read and
    check)."""
    frame = read_csv_text(Path(path), LEDGER_REQUIRED, "customer ledger", columns)
    if len(frame) > MAX_CUSTOMERS:
        raise DataError(f"{path}: {len(frame):,} customers; a run takes at most {MAX_CUSTOMERS:,}, as a scenario's population")
    problems: list[Problem] = []
    _check_ids(frame, problems, unique=True)
    numbers = {
        name: _numbers(frame, name, lowest, expected, problems, required=name == "revenue", highest=highest)
        for name, (lowest, highest, expected) in LEDGER_NUMERIC.items()
        if name in frame.columns
    }
    ends = _dates(frame, "contract_end", problems, required=False) if "contract_end" in frame.columns \
        else pd.Series(pd.NaT, index=frame.index)
    channel = frame[["channel"]] if "channel" in frame.columns else None
    return LedgerCells(frame["customer_id"].to_numpy(dtype=object), numbers, ends, channel), tuple(problems)


def read_transactions(path: Path, columns: ColumnMap = AS_NAMED) -> pd.DataFrame:
    """A transaction log checked cell by cell: customer_id, date, amount and each row's file line.

    The reference reader: ``calibration.log`` reads large logs faster and comes here for the
    messages when anything is wrong.
    """
    frame = read_csv_text(path, TRANSACTION_REQUIRED, "transaction log", columns)
    problems: list[Problem] = []
    _check_ids(frame, problems, unique=False)
    amount = _numbers(frame, "amount", -np.inf, "a number between -1e12 and 1e12 (currency; negative for a refund)",
                      problems, required=True)
    dates = _dates(frame, "date", problems, required=True)
    _raise_problems(path, problems)
    return pd.DataFrame({"customer_id": frame["customer_id"], "date": dates, "amount": amount,
                         "row": _file_rows(frame)})


def date_column(frame: pd.DataFrame, column: str, problems: list[Problem], required: bool) -> pd.Series:
    """A column of ISO dates, bad cells added to ``problems`` (the rules of every date in a CSV)."""
    return _dates(frame, column, problems, required)


def number_column(frame: pd.DataFrame, column: str, lowest: float, highest: float, expected: str,
                  problems: list[Problem]) -> np.ndarray:
    """A required numeric column, bad cells added to ``problems``."""
    return _numbers(frame, column, lowest, expected, problems, required=True, highest=highest)


def raise_problems(path: Path, problems: list[Problem]) -> None:
    """Raise one DataError listing ``problems`` (file lines, columns, values, what was expected)."""
    _raise_problems(path, problems)
