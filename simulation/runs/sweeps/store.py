"""The sweep store: a folder that survives interruption and is written by one command at a time.

    sweep.json              what this sweep is (the file, base scenario hash, seed, strategies, design)
    points.parquet          the design: one row per design point, its role, id, values and unit coordinates
    results/<chunk>.parquet the rows of a finished chunk of points (point_id first, then the quarters table)
    failures/<chunk>.parquet points that raised: id, error, message
    log/<run>.jsonl         timings and hosts, one line per chunk — never in the rows

Every file is written under a temporary name and renamed into place; a point is done when a
results file holds it. A chunk is named by its points, so a chunk run twice (Dask may) writes
the same file again. A lock (a POSIX ``lockf``, released by the kernel even on SIGKILL, and not
inherited by a worker process forked while it is held — a pool kept across several stores, as an
optimisation keeps one, would otherwise hold every store it ran in) keeps a second command out
while one writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import io
import json
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator

import pandas as pd

from simulation.core.errors import ClienteleError
from simulation.core.files import write_atomically
from simulation.runs.results import code_fingerprint, code_version, input_files, remove_stale_temporaries

if TYPE_CHECKING:  # the plan and the tasks run the engine: a reader of the store (a report, `sweep status`) never loads them
    from simulation.runs.sweeps.plan import SweepPlan
    from simulation.runs.sweeps.tasks import ChunkResult

MANIFEST_FILE = "sweep.json"
POINTS_FILE = "points.parquet"
RESULTS_FOLDER = "results"
FAILURES_FOLDER = "failures"
LOG_FOLDER = "log"
STORE_PARTS = (MANIFEST_FILE, POINTS_FILE, RESULTS_FOLDER, FAILURES_FOLDER, LOG_FOLDER)  # what a store writes
LOCK_FILE = ".lock"


def manifest(plan: SweepPlan) -> dict[str, Any]:
    """What the store holds a sweep of: enough to read it back without the sweep file."""
    spec = plan.spec
    return {
        "name": spec.name,
        "description": spec.description,
        "source": plan.source_name,
        "scenario_name": plan.base.name,
        "company": plan.base.company,  # the sweep report's cover and running header
        "baseline": plan.base.baseline if plan.base.baseline in plan.strategies else plan.strategies[0],
        "scenario_hash": plan.base_hash,
        "sample_weight": plan.base.sample_weight,  # customers each simulated one stood for (1: the whole book)
        "currency": plan.base.currency,
        "horizon_quarters": plan.base.horizon_quarters,
        "seed": spec.seed,
        "replications": spec.replications,
        "strategies": list(plan.strategies),
        "strategy_labels": {name: plan.base.strategies[name].label or name for name in plan.strategies},
        "input_data": plan.input_data,
        "input_files": input_files(list(plan.files)),  # sha256sum's fingerprint of each file, as every report shows
        "set": spec.set,
        "design": spec.design.model_dump(mode="json"),
        "parameter_order": list(spec.parameters),  # the design's column order (the JSON's keys are sorted)
        "parameters": {path: {**spec.parameters[path].model_dump(mode="json"), "kind": plan.resolved[path].kind,
                              "description": plan.resolved[path].description, "label": plan.resolved[path].label}
                       for path in spec.parameters},
        "levers": {path: {**spec.levers[path].model_dump(mode="json"), "kind": plan.resolved[path].kind,
                          "description": plan.resolved[path].description} for path in spec.levers},
        "lever_order": list(spec.levers),
        "lever_strategy": spec.lever_strategy,
        "decision_outcome": plan.decision_outcome,
        "satisficing": spec.satisficing.model_dump(mode="json") if spec.satisficing else None,
        "points": len(plan.points),
        "design_rows": len(plan.rows),
    }


def points_table(plan: SweepPlan) -> pd.DataFrame:
    """One row per design row: index, role, swing, point id, each parameter's value and unit coordinate."""
    records = []
    names = list(plan.spec.parameters)
    for row, identity in zip(plan.rows, plan.row_ids, strict=True):
        record: dict[str, Any] = {"design_index": row.index, "role": row.role, "swing": row.swing, "point_id": identity,
                                  "policy": row.policy}
        record |= {name: row.values[name] for name in [*names, *plan.spec.levers]}
        record |= {f"unit:{name}": (row.unit[i] if row.unit else float("nan")) for i, name in enumerate(names)}
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    for name in [*names, *plan.spec.levers]:  # a choice's values as text when they are not all numbers of one kind
        if frame[name].map(type).nunique() > 1:
            frame[name] = frame[name].map(str)
    return frame


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


class SweepStore:
    """A sweep's folder, opened for writing under its lock."""

    def __init__(self, folder: Path, lock: IO[str]) -> None:
        self.folder = folder
        self._lock = lock
        self._log: IO[str] | None = None

    def write_plan(self, plan: SweepPlan) -> None:
        """The design and what the sweep is, written before any point runs (a re-run replaces them)."""
        from simulation.model import kernels  # here only: reading a store never loads numba

        record = manifest(plan) | {"code_version": code_version(), "code_fingerprint": code_fingerprint(),
                                   "kernels": kernels.selected()}
        write_atomically(self.folder / POINTS_FILE, to_parquet_bytes(points_table(plan)))
        write_atomically(self.folder / MANIFEST_FILE, json.dumps(record, indent=2, sort_keys=True, default=str).encode())

    def refuse_other_code(self, discard: bool = False) -> None:
        """A store whose points another version of the code (or the other kernels) computed is never added to: its
        old points would be served, and relabelled, as this code's. A ClienteleError names both; with ``discard``
        (a store the tool keeps inside a report's results) the old points are removed and run again instead."""
        path = self.folder / MANIFEST_FILE
        if not path.is_file() or not any((self.folder / RESULTS_FOLDER).glob("*.parquet")):
            return
        try:
            written = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # an unreadable manifest is rewritten by the plan; its points' ids hold the code anyway
        from simulation.model import kernels

        then = (str(written.get("code_fingerprint")), str(written.get("kernels", "numba")))
        now = (code_fingerprint(), kernels.selected())
        if then != now and discard:
            for sub in (RESULTS_FOLDER, FAILURES_FOLDER):
                for stale in (self.folder / sub).glob("*.parquet"):
                    stale.unlink()
        elif then != now:
            raise ClienteleError(
                f"{self.folder}: holds points computed by other code: clientele {written.get('code_version')} (code "
                f"{then[0]}, {then[1]} kernels); this is {code_version()} (code {now[0]}, {now[1]} kernels), and its "
                f"numbers would be credited to code that did not compute them. Sweep into a new folder, or remove "
                f"{self.folder} to run the sweep again")

    def done_ids(self) -> set[str]:
        """Points a results file holds."""
        from simulation.runs.sweeps.queries import done_point_ids

        return done_point_ids(self.folder)

    def write_chunk(self, result: ChunkResult) -> None:
        """A finished chunk's rows and failures, each whole or not at all."""
        if not result.rows.empty:
            write_atomically(self.folder / RESULTS_FOLDER / f"{result.chunk_id}.parquet", to_parquet_bytes(result.rows))
        if not result.failures.empty:
            write_atomically(self.folder / FAILURES_FOLDER / f"{result.chunk_id}.parquet",
                             to_parquet_bytes(result.failures))
        self.log(result.timing | {"finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})

    def log(self, record: dict[str, Any]) -> None:
        """Timings and hosts: a line per chunk in this run's log (not part of the results)."""
        if self._log is None:
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            self._log = open(self.folder / LOG_FOLDER / f"{stamp}-{os.getpid()}.jsonl", "a", encoding="utf-8")
        self._log.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        self._log.flush()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
        self._lock.close()  # releases the lock


@contextlib.contextmanager
def open_store(folder: str | Path) -> Iterator[SweepStore]:
    """The store at ``folder``, made if needed and locked; a ClienteleError if another command writes it."""
    folder = Path(folder)
    for sub in ("", RESULTS_FOLDER, FAILURES_FOLDER, LOG_FOLDER):
        try:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ClienteleError(f"--out {folder}: cannot make the sweep folder: {exc.strerror}") from None
    lock = open(folder / LOCK_FILE, "a+", encoding="utf-8")
    try:
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EAGAIN):
            raise
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise ClienteleError(f"--out {folder}: another sweep is writing this folder ({holder}); wait for it or "
                             "choose another folder") from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"pid {os.getpid()}")
    lock.flush()
    for written in (folder, folder / RESULTS_FOLDER, folder / FAILURES_FOLDER):
        remove_stale_temporaries(written)
    store = SweepStore(folder, lock)
    try:
        yield store
    finally:
        store.close()
