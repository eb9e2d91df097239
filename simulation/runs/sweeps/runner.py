"""Running a sweep: validate, write the design, skip what is done, run the rest in chunks, write each as it lands.

Chunks are sized from the points' cost (customers × months × strategies × replications) to run
a couple of seconds each — Dask's guidance is 200 µs–1 ms of overhead a task, so milliseconds of
work would be mostly overhead — and cut the same whatever runs them, so 1 worker, N workers and
Dask write the same files.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from simulation.runs.results import check_output_folder, code_version
from simulation.runs.sweeps.execution import make_executor
from simulation.runs.sweeps.plan import PlannedPoint, SweepPlan
from simulation.runs.sweeps.store import open_store
from simulation.runs.sweeps.tasks import ChunkTask, chunk_id
from simulation.scenario.spec import scenario_from_dict

# One task ≈ this many customer-months × strategies × replications: about 2 s at the engine's
# 8–10 M a second on this machine's cores (the 5,000-customer word-of-mouth point, 4 strategies ×
# 8 replications × 36 months, is 11 M and runs in 1.3 s).
TARGET_TASK_WORK = 20_000_000
MIN_CHUNKS = 64  # a sweep of cheap points still splits into enough tasks to keep a cluster busy


@dataclass(frozen=True)
class SweepRun:
    """What one run of a sweep did: points in the design, done before, run now, failed now, wall time."""

    folder: Path
    points: int
    done_before: int
    ran: int
    failed: int
    seconds: float
    workers: int


def point_work(plan: SweepPlan, point: PlannedPoint) -> float:
    scenario = scenario_from_dict(point.scenario, source="sweep point")
    return float(scenario.reserved_rows() * scenario.horizon_months * len(point.strategies or plan.strategies)
                 * plan.spec.replications)


def chunk_size(plan: SweepPlan) -> int:
    """Points per task: the sweep file's ``chunk_points``, else enough for about ``TARGET_TASK_WORK``."""
    if plan.spec.chunk_points:
        return plan.spec.chunk_points
    if not plan.points:
        return 1
    heaviest = max(point_work(plan, point) for point in plan.points[:: max(1, len(plan.points) // 50)])
    by_work = max(1, int(TARGET_TASK_WORK // max(heaviest, 1.0)))
    return max(1, min(by_work, math.ceil(len(plan.points) / MIN_CHUNKS)))


def chunk_tasks(plan: SweepPlan, points: list[PlannedPoint], size: int) -> Iterator[ChunkTask]:
    """Tasks of ``size`` points in design order, a task's points all running the same strategies."""
    for strategies, same in itertools.groupby(points, key=lambda point: point.strategies or plan.strategies):
        grouped = list(same)
        for start in range(0, len(grouped), size):
            group = grouped[start:start + size]
            yield ChunkTask(chunk_id([point.point_id for point in group]),
                            tuple((point.point_id, point.scenario, point.explicit) for point in group),
                            strategies, plan.spec.seed, plan.spec.replications, plan.population,
                            plan.input_data.get("sha256"))


def run_sweep(plan: SweepPlan, out: str | Path, *, workers: int | None = None, dask: str | None = None,
              progress: bool = False, discard_other_code: bool = False, executor: Any = None) -> SweepRun:
    """Run the plan's points not yet done into the store at ``out``; failures are recorded, not raised.

    A store another version of the code wrote is refused, or (``discard_other_code``: a store the tool keeps inside a
    report's results) emptied and run again. ``executor``: one already started (``make_executor``), for a caller
    that runs many small plans — an optimisation's batches — without starting a pool or cluster for each."""
    started = time.perf_counter()
    folder = check_output_folder(out)
    with open_store(folder) as store:
        store.refuse_other_code(discard=discard_other_code)
        store.write_plan(plan)
        done = store.done_ids()
        remaining = [point for point in plan.points if point.point_id not in done]
        size = chunk_size(plan)
        failed = ran = 0
        bar = tqdm(total=len(plan.points), initial=len(plan.points) - len(remaining), desc="points", unit="pt",
                   disable=not progress, file=sys.stderr, dynamic_ncols=True)
        try:
            with (contextlib.nullcontext(executor) if executor is not None else make_executor(workers, dask)) as running:
                store.log({"run": "start", "host": socket.gethostname(), "executor": dask or "pool",
                           "workers": running.workers, "chunk_points": size, "to_run": len(remaining),
                           "code_version": code_version(), "started": time.time()})
                for result in running.results(chunk_tasks(plan, remaining, size)):
                    store.write_chunk(result)
                    ran += len(result.timing.get("point_seconds", ())) or len(result.failures)
                    failed += len(result.failures)
                    bar.update(result.timing.get("points", len(result.failures)))
                    bar.set_postfix(failed=failed, refresh=False)
                worker_count = running.workers
        finally:
            bar.close()
        store.log({"run": "end", "ran": ran, "failed": failed, "wall_seconds": time.perf_counter() - started})
    return SweepRun(folder, len(plan.points), len(plan.points) - len(remaining), ran, failed,
                    time.perf_counter() - started, worker_count)
