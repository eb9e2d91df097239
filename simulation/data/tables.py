"""A company's table as it comes: CSV or Parquet, with the export's own column names.

Exports name their columns their own way (``cust``, ``order_date``, ``total``); ``--columns
customer_id=cust,date=order_date,amount=total`` says which is which, and every reader renames
through the same ``ColumnMap``. A Parquet file (a warehouse export) is read as text cell by
cell, so the same checks and the same messages apply; its rows are named by record (the first
record is row 2, as if the header were row 1, so a message reads the same for both formats).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from simulation.core.errors import DataError

if TYPE_CHECKING:  # pyarrow loads when a Parquet file is read: a run on the synthetic book never needs it
    import pyarrow as pa

PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class ColumnMap:
    """Which of the file's columns holds each column the tool reads: canonical name → the file's name."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str | None, known: Iterable[str], option: str = "--columns") -> "ColumnMap":
        """``customer_id=cust,date=order_date``; an unknown name lists the known ones."""
        if not text:
            return cls()
        known = tuple(known)
        pairs: list[tuple[str, str]] = []
        for item in text.split(","):
            canonical, equals, theirs = (part.strip() for part in item.partition("="))
            if not equals or not canonical or not theirs:
                raise DataError(f"{option} {text!r}: expected name=their_name pairs separated by commas, e.g. "
                                "customer_id=cust,date=order_date,amount=total")
            if canonical.lower() not in known:
                raise DataError(f"{option}: {canonical!r} is not a column the tool reads; known: {', '.join(known)}")
            if any(canonical.lower() == seen for seen, _ in pairs):
                raise DataError(f"{option}: {canonical!r} is mapped twice")
            pairs.append((canonical.lower(), theirs.lower()))
        theirs_seen = [theirs for _, theirs in pairs]
        repeated = sorted({name for name in theirs_seen if theirs_seen.count(name) > 1})
        if repeated:
            raise DataError(f"{option}: the file's column {repeated[0]!r} is given to two names")
        return cls(tuple(pairs))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def text(self) -> str:
        return ",".join(f"{canonical}={theirs}" for canonical, theirs in self.pairs)

    def rename(self, names: list[str], path: Path) -> list[str]:
        """The file's header names (trimmed, lower-cased) as the tool's: mapped ones renamed, checked present."""
        lowered = [name.strip().lower() for name in names]
        for canonical, theirs in self.pairs:
            if theirs not in lowered:
                raise DataError(f"{path}: --columns {canonical}={theirs}: the file has no column {theirs!r}; "
                                f"found columns: {', '.join(names) or 'none'}")
            if canonical in lowered and canonical != theirs:
                raise DataError(f"{path}: --columns {canonical}={theirs}: the file also has a column {canonical!r}; "
                                f"say which one holds the {canonical} (rename or drop the other)")
        renamed = {theirs: canonical for canonical, theirs in self.pairs}
        return [renamed.get(name, name) for name in lowered]


AS_NAMED = ColumnMap()  # no mapping: the file uses the tool's names


def is_parquet(path: Path) -> bool:
    """By content, not by name: a Parquet file starts with its magic bytes."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def parquet_column_names(path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from None


def parquet_as_text(path: Path, names: list[str] | None = None) -> pa.Table:
    """The Parquet table's ``names`` columns (all by default) as text, as a CSV would hold them: dates as
    YYYY-MM-DD, timestamps with their time, numbers as written by pyarrow, nulls empty."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from None
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_date(kind):
            text = pc.strftime(column, format="%Y-%m-%d")
        elif pa.types.is_timestamp(kind):
            text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S" + ("%z" if kind.tz else ""))
        elif pa.types.is_dictionary(kind):
            text = pc.cast(pc.cast(column, kind.value_type), pa.string())
        else:
            try:
                text = pc.cast(column, pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise DataError(f"{path}: column {name!r} holds {kind}, which is not text, a number or a date") from None
        columns.append(pc.fill_null(text, ""))
    return pa.table(columns, names=table.column_names)
