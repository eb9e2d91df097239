"""Reading a sweep store with DuckDB (embedded, in-process): status, the rows, one-file export.

DuckDB reads every chunk's Parquet file as one table without loading the store into memory,
so ``status`` on a 10,000-point store is a query, not a pandas concat. Only files whose name is
final are read: a half-written file has a temporary name.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ClienteleError
from .store import FAILURES_FOLDER, LOG_FOLDER, MANIFEST_FILE, POINTS_FILE, RESULTS_FOLDER


def _connect() -> Any:
    import duckdb

    return duckdb.connect(database=":memory:")


def _files(folder: Path, sub: str) -> list[str]:
    return sorted(str(path) for path in (folder / sub).glob("*.parquet")) if (folder / sub).is_dir() else []


def _quoted(name: str | Path) -> str:
    return "'" + str(name).replace("'", "''") + "'"


def _sql_list(files: list[str]) -> str:
    return "[" + ", ".join(_quoted(name) for name in files) + "]"


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The store's ``sweep.json``; a ClienteleError when the folder holds no sweep."""
    path = Path(folder) / MANIFEST_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClienteleError(f"{folder}: not a sweep folder ({MANIFEST_FILE} missing); run `clientele sweep FILE --out "
                             f"{folder}` first") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ClienteleError(f"{path}: cannot read the sweep's description: {exc}") from None


def parameter_names(described: dict[str, Any]) -> list[str]:
    """The varied parameters in the design's order: Sobol's and Morris' estimators read the columns by position."""
    return list(described["parameter_order"])


def done_point_ids(folder: Path) -> set[str]:
    """Point ids that some results file holds."""
    files = _files(folder, RESULTS_FOLDER)
    if not files:
        return set()
    with _connect() as connection:
        rows = connection.execute(f"SELECT DISTINCT point_id FROM read_parquet({_sql_list(files)})").fetchall()
    return {row[0] for row in rows}


@dataclass(frozen=True)
class SweepStatus:
    """Where a sweep stands: points done, failed (and not done since), to do; the last errors; the hosts."""

    name: str
    points: int
    done: int
    failed: int
    to_do: int
    errors: list[dict[str, str]]
    chunks_logged: int
    compute_seconds: float
    hosts: list[str]


def sweep_status(folder: str | Path) -> SweepStatus:
    folder = Path(folder)
    described = read_manifest(folder)
    results, failures = _files(folder, RESULTS_FOLDER), _files(folder, FAILURES_FOLDER)
    with _connect() as connection:
        connection.execute(f"CREATE VIEW design AS SELECT DISTINCT point_id FROM read_parquet({_quoted(folder / POINTS_FILE)})")
        done_query = (f"SELECT DISTINCT point_id FROM read_parquet({_sql_list(results)}) WHERE point_id IN "
                      f"(SELECT point_id FROM design)" if results else "SELECT NULL::VARCHAR AS point_id WHERE false")
        connection.execute(f"CREATE VIEW done AS {done_query}")
        if failures:
            connection.execute(f"CREATE VIEW failed AS SELECT * FROM read_parquet({_sql_list(failures)}) WHERE point_id IN "
                               "(SELECT point_id FROM design) AND point_id NOT IN (SELECT point_id FROM done)")
        else:
            connection.execute("CREATE VIEW failed AS SELECT NULL::VARCHAR AS point_id, NULL::VARCHAR AS error, "
                               "NULL::VARCHAR AS message WHERE false")
        points = connection.execute("SELECT count(*) FROM design").fetchone()[0]
        done = connection.execute("SELECT count(*) FROM done").fetchone()[0]
        failed = connection.execute("SELECT count(DISTINCT point_id) FROM failed").fetchone()[0]
        errors = [{"point_id": row[0], "error": row[1], "message": row[2]} for row in connection.execute(
            "SELECT point_id, any_value(error), any_value(message) FROM failed GROUP BY point_id ORDER BY point_id "
            "LIMIT 5").fetchall()]
        logs = sorted((folder / LOG_FOLDER).glob("*.jsonl"))
        chunks, seconds, hosts = 0, 0.0, []
        if logs:
            found = connection.execute(
                f"SELECT count(*), coalesce(sum(seconds), 0), list(DISTINCT host ORDER BY host) FROM read_json_auto("
                f"{_sql_list([str(p) for p in logs])}, format='newline_delimited', union_by_name = true) WHERE chunk IS NOT NULL"
            ).fetchone()
            chunks, seconds, hosts = int(found[0]), float(found[1]), list(found[2] or [])
    return SweepStatus(described["name"], int(points), int(done), int(failed), int(points) - int(done) - int(failed),
                       errors, chunks, seconds, hosts)


def sweep_rows(folder: str | Path, horizon_only: bool = False) -> pd.DataFrame:
    """Every result row of the store's design points, in a fixed order (point, strategy, replication, quarter)."""
    folder = Path(folder)
    described = read_manifest(folder)
    with _connect() as connection:
        query = _rows_query(folder, described, horizon_only, connection)
        return connection.execute(f"SELECT * EXCLUDE (strategy_rank) FROM ({query})").df() if query else pd.DataFrame()


def _rows_query(folder: Path, described: dict[str, Any], horizon_only: bool, connection: Any) -> str | None:
    """The query of the store's rows; the strategies' order is a table registered on ``connection``, never SQL text
    (a name with a quote, or an edited sweep.json, cannot change the query)."""
    results = _files(folder, RESULTS_FOLDER)
    if not results:
        return None
    names = [str(name) for name in described["strategies"]]
    connection.register("strategy_ranks", pd.DataFrame({"strategy_name": names, "strategy_rank": range(len(names))}))
    where = f"WHERE quarter = {int(described['horizon_quarters'])}" if horizon_only else ""
    # One copy of each point: a point's rows are the same whichever chunk holds them.
    return (f"WITH rows AS (SELECT * FROM read_parquet({_sql_list(results)}, union_by_name = true) {where}), "
            "ranks AS (SELECT strategy_name, strategy_rank FROM strategy_ranks), "
            f"wanted AS (SELECT DISTINCT point_id FROM read_parquet({_quoted(folder / POINTS_FILE)})) "
            "SELECT rows.*, ranks.strategy_rank FROM rows JOIN ranks ON rows.strategy = ranks.strategy_name "
            "WHERE rows.point_id IN (SELECT point_id FROM wanted) "
            "QUALIFY row_number() OVER (PARTITION BY rows.point_id, rows.strategy, rows.replication, rows.quarter) = 1 "
            "ORDER BY rows.point_id, ranks.strategy_rank, rows.replication, rows.quarter")


def design_table(folder: str | Path) -> pd.DataFrame:
    """The store's ``points.parquet``: the design rows with their roles, ids and values."""
    path = Path(folder) / POINTS_FILE
    if not path.exists():
        raise ClienteleError(f"{folder}: not a sweep folder ({POINTS_FILE} missing)")
    return pd.read_parquet(path)


def export_rows(folder: str | Path, to: str | Path) -> int:
    """Every result row with its point's parameter values, as one Parquet file written whole; returns the row count."""
    folder, to = Path(folder), Path(to)
    described = read_manifest(folder)
    if to.resolve().is_relative_to(folder.resolve()):
        raise ClienteleError(f"--to {to}: is inside the sweep's folder {folder}, whose files it could replace; "
                             "expected a path outside it")
    names = parameter_names(described)
    columns = ", ".join('"' + name.replace('"', '""') + '"' for name in names)
    values = ", ".join('design."' + name.replace('"', '""') + '"' for name in names)
    temporary = to.with_name(f".{to.name}.tmp-{os.getpid()}")
    with _connect() as connection:
        query = _rows_query(folder, described, False, connection)
        if query is None:
            raise ClienteleError(f"{folder}: no finished points to export yet")
        connection.execute(f"CREATE VIEW result_rows AS {query}")
        connection.execute(f"CREATE VIEW design AS SELECT DISTINCT ON (point_id) point_id, {columns} "
                           f"FROM read_parquet({_quoted(folder / POINTS_FILE)}) ORDER BY point_id")
        count = connection.execute("SELECT count(*) FROM result_rows").fetchone()[0]
        try:
            connection.execute(f"COPY (SELECT result_rows.point_id, {values}, result_rows.* EXCLUDE (point_id, strategy_rank) "
                               f"FROM result_rows JOIN design USING (point_id) ORDER BY result_rows.point_id, "
                               f"result_rows.strategy_rank, result_rows.replication, result_rows.quarter) "
                               f"TO {_quoted(temporary)} (FORMAT parquet)")
            os.replace(temporary, to)
        except Exception as exc:  # duckdb.IOException and friends: a message naming the file
            raise ClienteleError(f"{to}: cannot write the export: {exc}") from None
        finally:
            temporary.unlink(missing_ok=True)
    return int(count)
