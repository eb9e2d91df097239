"""Reading a transaction log fast: pyarrow's multithreaded CSV reader, vectorised checks, a progress bar.

A 2-million-row log is read in about 1.5 s, a 20-million-row one in about 15 s, most of it pyarrow
numbering the customer identifiers (docs/benchmarks/calibration_speed.json). The checks here are the
same rules as ``simulation.data.ingest`` (ISO dates 1900–2200, amounts within ±1e12, a customer id on
every row) but run on whole columns, or on their distinct values where those repeat (identifiers,
dates); when any fails, or pyarrow cannot parse the file, the log is read again by
``ingest.read_transactions``, which names every bad row by its line in the file. A valid log is
read once; an invalid one gets the same messages whichever reader found it.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from tqdm import tqdm

from simulation.core.errors import DataError
from simulation.core.files import regular_file
from simulation.data.ingest import EARLIEST_DATE, ISO_DATE, LATEST_DATE, MAX_AMOUNT, TRANSACTION_REQUIRED, read_transactions
from simulation.data.tables import AS_NAMED, ColumnMap, is_parquet, parquet_as_text, parquet_column_names

BLOCK_BYTES = 4 << 20  # pyarrow reads and parses the file in blocks of this size (one progress step each)
EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class TransactionLog:
    """A checked log as columns: each row's customer (a code into ``ids``), day and amount."""

    path: Path
    ids: np.ndarray  # customer identifiers as written, one per customer code
    customer: np.ndarray  # int64 code of each row's customer
    day: np.ndarray  # int64 days since 1970-01-01 (the date as written, time and offset ignored)
    amount: np.ndarray  # float64, currency; negative for a refund
    columns: ColumnMap = AS_NAMED  # how the file names its columns (to read it again: row numbers, backtests)

    def __len__(self) -> int:
        return len(self.day)

    def date(self, day: int) -> np.datetime64:
        return EPOCH + np.timedelta64(int(day), "D")


class _CountingReader(io.RawIOBase):
    """A binary file that reports how many bytes pyarrow has taken, for the progress bar."""

    def __init__(self, handle: Any, bar: tqdm) -> None:
        self.handle, self.bar = handle, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.handle.readinto(buffer)
        self.bar.update(count or 0)
        return count or 0


def read_log(path: str | Path, progress: bool = False, columns: ColumnMap = AS_NAMED) -> TransactionLog:
    """The log at ``path`` (CSV or Parquet, its columns named by ``columns``), checked; a DataError naming the
    file, row, column, value and what was expected."""
    try:
        return _read_log(Path(path), progress, columns)
    finally:
        # Arrow's allocator keeps the memory of the text it parsed for its next table: 1.1 GiB after a log of 25
        # million rows (measured), which a report's process would hold, and its workers inherit, for the whole run.
        pa.default_memory_pool().release_unused()


def _read_log(path: Path, progress: bool, columns: ColumnMap) -> TransactionLog:
    regular_file(path, "transaction log", "CSV or Parquet", DataError)
    parquet = is_parquet(path)
    names = parquet_column_names(path) if parquet else _header(path)
    if names is None:
        return _from_reference(path, columns)  # no header line: the reference reader says what is wrong
    try:
        tool_names = columns.rename(names, path)
    except DataError:
        return _from_reference(path, columns)  # the reference reader names what is wrong with the mapping
    wanted = {tool: name for tool, name in zip(tool_names, names, strict=True)}
    if len(wanted) != len(names) or any(required not in wanted for required in TRANSACTION_REQUIRED):
        return _from_reference(path, columns)
    wanted_columns = [wanted[required] for required in TRANSACTION_REQUIRED]
    if parquet:
        parsed = _parse(parquet_as_text(path, wanted_columns), wanted_columns)
        if parsed is None or len(parsed[1]) == 0:
            return _from_reference(path, columns)
        customer, day, amount, ids = parsed
        return TransactionLog(path, ids, customer, day, amount, columns)
    bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=f"reading {path.name}",
               disable=not progress, file=sys.stderr)
    try:
        with open(path, "rb") as handle:
            table = pacsv.read_csv(
                _CountingReader(handle, bar),
                read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES, encoding="utf8"),
                convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in wanted_columns},
                                                     include_columns=wanted_columns, strings_can_be_null=False),
            )
    except (pa.ArrowInvalid, pa.ArrowKeyError, UnicodeDecodeError):
        return _from_reference(path, columns)  # a row of the wrong length, a bad byte, a quote left open: named there
    finally:
        bar.close()
    parsed = _parse(table, wanted_columns)
    if parsed is None:
        return _from_reference(path, columns)
    customer, day, amount, ids = parsed
    if len(day) == 0:
        return _from_reference(path, columns)
    return TransactionLog(path, ids, customer, day, amount, columns)


def _header(path: Path) -> list[str] | None:
    with open(path, encoding="utf-8-sig", newline="", errors="replace") as handle:
        for row in csv.reader(handle):
            if row and any(cell.strip() for cell in row):
                return row
            break
    return None


def _parse(table: pa.Table, columns: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Customer codes, days and amounts; None if any cell breaks a rule (the reference reader names it).

    Identifiers and dates repeat (a log has thousands of rows per day, dozens per customer): each column is
    dictionary-encoded once and every check and conversion runs on its distinct values, not on every row.
    """
    identifier, date, amount_text = (table.column(name) for name in columns)
    codes = _customer_codes(identifier)
    day = _days(date)
    amount = _amounts(amount_text)
    if codes is None or day is None or amount is None:
        return None
    if day.min() < EARLIEST_DATE.to_datetime64() or day.max() > LATEST_DATE.to_datetime64():
        return None
    if not np.all(np.isfinite(amount)) or np.any(np.abs(amount) > MAX_AMOUNT):
        return None
    customer, ids = codes
    # A copy numpy owns: arrow's buffer would go back to arrow's allocator, which keeps it (see read_log).
    return customer, (day - EPOCH).astype(np.int64), np.array(amount), ids


def _customer_codes(identifier: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """Each row's customer code, in order of first appearance, and the identifiers (whitespace trimmed: " C1"
    and "C1" are one customer); None if an identifier is blank."""
    encoded = pc.dictionary_encode(identifier).combine_chunks()
    written = encoded.dictionary
    trimmed = pc.utf8_trim_whitespace(written)
    if pc.any(pc.equal(pc.utf8_length(trimmed), 0)).as_py():
        return None
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if not trimmed.equals(written):  # two spellings of one customer: their codes merged, still by first appearance
        merged = pc.dictionary_encode(trimmed)
        codes = merged.indices.to_numpy(zero_copy_only=False).astype(np.int64)[codes]
        trimmed = merged.dictionary
    return codes, trimmed.to_numpy(zero_copy_only=False).astype(object)


def _days(date: pa.ChunkedArray) -> np.ndarray | None:
    """Each row's calendar day as written (time and offset ignored); None if a cell is not an ISO date."""
    encoded = pc.dictionary_encode(date).combine_chunks()
    written = pc.utf8_trim_whitespace(encoded.dictionary)
    if not pc.all(pc.match_substring_regex(written, f"^(?:{ISO_DATE.pattern})$")).as_py():
        return None
    calendar = pc.utf8_slice_codeunits(written, 0, 10)
    try:
        stamps = pc.strptime(calendar, format="%Y-%m-%d", unit="s")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if stamps.null_count:
        return None
    # strptime moves a day past its month's end on (2026-02-30 → 03-02); a real date reads back as written.
    if not pc.all(pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), calendar)).as_py():
        return None
    distinct_days = stamps.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    return distinct_days[encoded.indices.to_numpy(zero_copy_only=False)]


def _amounts(text: pa.ChunkedArray) -> np.ndarray | None:
    """The amounts as numbers (surrounding whitespace allowed); None if a cell is not one."""
    try:
        return pc.cast(text, pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:  # the common log has none: trimming every cell is paid only by logs that need it
        return pc.cast(pc.utf8_trim_whitespace(text), pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _from_reference(path: Path, columns: ColumnMap = AS_NAMED) -> TransactionLog:
    """The reference reader: it raises the named problems; if it finds none, its reading is used."""
    frame = read_transactions(path, columns)
    codes, ids = _codes(frame["customer_id"].to_numpy(dtype=object))
    day = (frame["date"].to_numpy().astype("datetime64[D]") - EPOCH).astype(np.int64)
    return TransactionLog(path, ids, codes, day, frame["amount"].to_numpy(dtype=float), columns)


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids, first, codes = np.unique(values.astype(str), return_index=True, return_inverse=True)
    order = np.argsort(first)  # codes in order of first appearance, as the fast reader gives them
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[codes].astype(np.int64), ids[order].astype(object)
