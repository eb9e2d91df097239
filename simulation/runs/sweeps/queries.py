"""Reading a sweep store with DuckDB (embedded, in-process): status, the rows, one-file export.

DuckDB reads every chunk's Parquet file as one table without loading the store into memory,
so ``status`` on a 10,000-point store is a query, not a pandas concat. Only files whose name is
final are read: a half-written file has a temporary name. No name or value becomes SQL text:
files are opened through DuckDB's relation API and registered as views, values are parameters,
and the strategies' order is a registered table — an edited ``sweep.json`` or a name with a quote
cannot change a query.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.core.errors import ClienteleError
from simulation.runs.sweeps.store import FAILURES_FOLDER, LOG_FOLDER, MANIFEST_FILE, POINTS_FILE, RESULTS_FOLDER


def _connect() -> Any:
    import duckdb

    return duckdb.connect(database=":memory:")


def _files(folder: Path, sub: str) -> list[str]:
    return sorted(str(path) for path in (folder / sub).glob("*.parquet")) if (folder / sub).is_dir() else []


def _view(connection: Any, name: str, files: list[str], kind: str = "parquet") -> None:
    """Register ``files`` as the view ``name`` through the relation API: a file name never becomes SQL text."""
    if kind == "parquet":
        relation = connection.read_parquet(files, union_by_name=True)
    else:
        relation = connection.read_json(files, format="newline_delimited", union_by_name=True)
    relation.create_view(name)


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
        _view(connection, "results", files)
        rows = connection.execute("SELECT DISTINCT point_id FROM results").fetchall()
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
        _view(connection, "points", [str(folder / POINTS_FILE)])
        connection.execute("CREATE VIEW design AS SELECT DISTINCT point_id FROM points")
        if results:
            _view(connection, "results", results)
            connection.execute("CREATE VIEW done AS SELECT DISTINCT point_id FROM results WHERE point_id IN "
                               "(SELECT point_id FROM design)")
        else:
            connection.execute("CREATE VIEW done AS SELECT NULL::VARCHAR AS point_id WHERE false")
        if failures:
            _view(connection, "failures", failures)
            connection.execute("CREATE VIEW failed AS SELECT * FROM failures WHERE point_id IN "
                               "(SELECT point_id FROM design) AND point_id NOT IN (SELECT point_id FROM done)")
        else:
            connection.execute("CREATE VIEW failed AS SELECT NULL::VARCHAR AS point_id, NULL::VARCHAR AS error, "
                               "NULL::VARCHAR AS message WHERE false")
        points = connection.execute("SELECT count(*) FROM design").fetchall()[0][0]
        done = connection.execute("SELECT count(*) FROM done").fetchall()[0][0]
        failed = connection.execute("SELECT count(DISTINCT point_id) FROM failed").fetchall()[0][0]
        errors = [{"point_id": row[0], "error": row[1], "message": row[2]} for row in connection.execute(
            "SELECT point_id, any_value(error), any_value(message) FROM failed GROUP BY point_id ORDER BY point_id "
            "LIMIT 5").fetchall()]
        logs = sorted((folder / LOG_FOLDER).glob("*.jsonl"))
        chunks, seconds, hosts = 0, 0.0, []
        if logs:
            _view(connection, "logs", [str(path) for path in logs], kind="json")
            found = connection.execute(
                "SELECT count(*), coalesce(sum(seconds), 0), list(DISTINCT host ORDER BY host) FROM logs "
                "WHERE chunk IS NOT NULL").fetchall()[0]
            chunks, seconds, hosts = int(found[0]), float(found[1]), list(found[2] or [])
    return SweepStatus(described["name"], int(points), int(done), int(failed), int(points) - int(done) - int(failed),
                       errors, chunks, seconds, hosts)


def sweep_rows(folder: str | Path, horizon_only: bool = False) -> pd.DataFrame:
    """Every result row of the store's design points, in a fixed order (point, strategy, replication, quarter)."""
    folder = Path(folder)
    described = read_manifest(folder)
    with _connect() as connection:
        query = _rows_query(folder, described, connection)
        if query is None:
            return pd.DataFrame()
        if horizon_only:  # the horizon a parameter, not text
            return connection.execute(f"SELECT * EXCLUDE (strategy_rank) FROM ({query}) WHERE quarter = ?",
                                      [_horizon(described)]).df()
        return connection.execute(f"SELECT * EXCLUDE (strategy_rank) FROM ({query})").df()


def _horizon(described: dict[str, Any]) -> int:
    horizon = described.get("horizon_quarters")
    if not isinstance(horizon, int) or isinstance(horizon, bool):
        raise ClienteleError(f"{MANIFEST_FILE}: 'horizon_quarters' is {horizon!r}; expected a whole number "
                             "(the file was edited: run the sweep again into a new folder)")
    return horizon


def _rows_query(folder: Path, described: dict[str, Any], connection: Any) -> str | None:
    """The query of the store's rows over views registered on ``connection`` (the chunks, the design and the
    strategies' order, a table), so its text holds no name or value from the store."""
    results = _files(folder, RESULTS_FOLDER)
    if not results:
        return None
    names = [str(name) for name in described["strategies"]]
    connection.register("strategy_ranks", pd.DataFrame({"strategy_name": names, "strategy_rank": range(len(names))}))
    _view(connection, "chunk_rows", results)
    _view(connection, "design_points", [str(folder / POINTS_FILE)])
    # One copy of each point: a point's rows are the same whichever chunk holds them.
    return ("WITH ranks AS (SELECT strategy_name, strategy_rank FROM strategy_ranks), "
            "wanted AS (SELECT DISTINCT point_id FROM design_points) "
            "SELECT chunk_rows.*, ranks.strategy_rank FROM chunk_rows JOIN ranks ON chunk_rows.strategy = ranks.strategy_name "
            "WHERE chunk_rows.point_id IN (SELECT point_id FROM wanted) "
            "QUALIFY row_number() OVER (PARTITION BY chunk_rows.point_id, chunk_rows.strategy, chunk_rows.replication, "
            "chunk_rows.quarter) = 1 "
            "ORDER BY chunk_rows.point_id, ranks.strategy_rank, chunk_rows.replication, chunk_rows.quarter")


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
    names = [*parameter_names(described), *described.get("lever_order", [])]
    if described.get("levers"):
        names.append("policy")  # which combination of the levers' values the row ran
    columns = ", ".join('"' + name.replace('"', '""') + '"' for name in names)
    values = ", ".join('design."' + name.replace('"', '""') + '"' for name in names)
    temporary = to.with_name(f".{to.name}.tmp-{os.getpid()}")
    with _connect() as connection:
        query = _rows_query(folder, described, connection)
        if query is None:
            raise ClienteleError(f"{folder}: no finished points to export yet")
        connection.execute(f"CREATE VIEW result_rows AS {query}")
        # Column names are identifiers, which SQL cannot take as parameters: quoted as identifiers ("" for ").
        connection.execute(f"CREATE VIEW design AS SELECT DISTINCT ON (point_id) point_id, {columns} "
                           "FROM design_points ORDER BY point_id")
        count = connection.execute("SELECT count(*) FROM result_rows").fetchall()[0][0]
        try:
            connection.sql(f"SELECT result_rows.point_id, {values}, result_rows.* EXCLUDE (point_id, strategy_rank) "
                           "FROM result_rows JOIN design USING (point_id) ORDER BY result_rows.point_id, "
                           "result_rows.strategy_rank, result_rows.replication, result_rows.quarter"
                           ).write_parquet(str(temporary))
            os.replace(temporary, to)
        except Exception as exc:  # duckdb.IOException and friends: a message naming the file
            raise ClienteleError(f"{to}: cannot write the export: {exc}") from None
        finally:
            temporary.unlink(missing_ok=True)
    return int(count)
