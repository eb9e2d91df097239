"""The unit of work a worker runs: a chunk of points, each with every strategy × replication.

A task carries everything it needs — each point's scenario, the strategies, the root seed and
the replications — so any process on any host gives the same rows: replication r of every point
and strategy draws from the streams of (seed, r), common random numbers as in ``simulate``. A
point that raises is returned as a failure with its error; the chunk's other points still run.
Timings and the host go back beside the rows, never in them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.core.errors import DataError
from simulation.core.files import file_sha256
from simulation.data.sources import PopulationSource, start_run
from simulation.runs.experiment import run_replication, select_strategies
from simulation.scenario.spec import scenario_from_dict

FAILURE_COLUMNS = ("point_id", "error", "message", "where")


@dataclass(frozen=True)
class ChunkTask:
    """Points to run together, with their seeds: the task is the same wherever it runs."""

    chunk_id: str
    points: tuple[tuple[str, dict[str, Any], tuple[str, ...]], ...] = field(repr=False)  # (id, raw scenario, explicit)
    strategies: tuple[str, ...]
    seed: int
    replications: int
    population: PopulationSource
    data_sha256: str | None = None  # the data file's content as the plan read it: a worker checks it sees the same


@dataclass(frozen=True)
class ChunkResult:
    """A finished chunk: the rows of the points that ran, the failures of those that raised, and its timing."""

    chunk_id: str
    rows: pd.DataFrame = field(repr=False)
    failures: pd.DataFrame = field(repr=False)
    timing: dict[str, Any]


def chunk_id(point_ids: list[str]) -> str:
    """A chunk is named by its points: running it again writes the same file."""
    return hashlib.sha256(",".join(sorted(point_ids)).encode()).hexdigest()[:24]


def run_point(raw: dict[str, Any], strategies: tuple[str, ...], seed: int, replications: int,
              population_source: PopulationSource, explicit: tuple[str, ...] = ()) -> pd.DataFrame:
    """One point's quarters table: strategy × replication × quarter, in that order, led by nothing but its inputs.

    Today's customers come by the road every run takes (``start_run``): a company's data calibrated and
    scaled as ``simulate`` does, the paths the point sets (``explicit``) kept.
    """
    start = start_run(scenario_from_dict(raw, source="sweep point"), population_source, seed, explicit)
    scenario = start.scenario
    chosen = select_strategies(scenario, strategies)
    records = [record for replication in range(replications)
               for run in run_replication(scenario, start.book, chosen, seed, replication)
               for record in run.quarters]
    frame = pd.DataFrame.from_records(records)
    order = {name: rank for rank, name in enumerate(strategies)}
    frame = frame.sort_values(["strategy", "replication", "quarter"], key=lambda column: column.map(order)
                              if column.name == "strategy" else column, kind="stable")
    return frame.reset_index(drop=True)


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run every point of the chunk; a point that raises is recorded and the next one runs."""
    started = time.time()
    frames: list[pd.DataFrame] = []
    failures: list[dict[str, str]] = []
    seconds: list[dict[str, Any]] = []
    different = _different_data(task)
    for identity, raw, explicit in task.points:
        clock = time.perf_counter()
        try:
            if different:
                raise DataError(different)
            frame = run_point(raw, task.strategies, task.seed, task.replications, task.population, explicit)
        except Exception as exc:  # noqa: BLE001 — recorded with its error; the sweep goes on
            last = traceback.extract_tb(exc.__traceback__)[-1:]
            where = f"{os.path.basename(last[0].filename)}:{last[0].lineno}" if last else ""
            failures.append({"point_id": identity, "error": type(exc).__name__, "message": str(exc)[:2000],
                             "where": where})
        else:
            frame.insert(0, "point_id", identity)
            frames.append(frame)
        seconds.append({"point_id": identity, "seconds": time.perf_counter() - clock})
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    timing = {"chunk": task.chunk_id, "host": socket.gethostname(), "pid": os.getpid(), "started": started,
              "seconds": time.time() - started, "points": len(task.points), "failed": len(failures),
              "point_seconds": seconds}
    return ChunkResult(task.chunk_id, rows, pd.DataFrame(failures, columns=list(FAILURE_COLUMNS)), timing)


def _different_data(task: ChunkTask) -> str | None:
    """Why this worker must not run the chunk: its copy of the data file is missing or holds other content."""
    path = task.population.path
    if path is None or task.data_sha256 is None:
        return None
    try:
        status = os.stat(path)
        seen = _content_hash(str(path), status.st_size, status.st_mtime_ns)
    except OSError as exc:
        return f"{path}: this worker ({socket.gethostname()}) cannot read the sweep's data file: {exc.strerror}"
    if seen != task.data_sha256:
        return (f"{path}: this worker ({socket.gethostname()}) reads a file with SHA-256 {seen}, the sweep was "
                f"planned on {task.data_sha256}: the same path holds other data here")
    return None


@functools.lru_cache(maxsize=8)
def _content_hash(path: str, size: int, modified: int) -> str:
    """A data file's SHA-256, once per worker while its size and modification time stay the same."""
    return file_sha256(Path(path))
