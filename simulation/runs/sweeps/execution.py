"""Where chunks run: in this process, in a process pool sized to the cores, or on a Dask cluster.

Each executor is a context manager whose ``results(tasks)`` yields finished chunks as they come;
the command writes each one as it arrives, so an interrupt loses only chunks in flight. No
process outlives the command: pool workers and a ``LocalCluster``'s workers ask the kernel to
kill them when the command dies (PR_SET_PDEATHSIG), and on Ctrl-C or SIGTERM the command kills
them itself. A few tasks per worker are in flight at a time: nothing long is queued, so nothing
is left to cancel.
"""

from __future__ import annotations

import contextlib
import logging
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Iterable, Iterator, Protocol

from simulation.core.errors import ClienteleError
from simulation.runs.processes import cores, kill_workers, worker_setup
from simulation.runs.sweeps.tasks import ChunkResult, ChunkTask, run_chunk

IN_FLIGHT_PER_WORKER = 2
NO_WORKER_SECONDS = 120.0  # a Dask scheduler with no worker this long: stop with the finished points kept
WORKER_CHECK_SECONDS = 2.0


class Executor(Protocol):
    workers: int

    def results(self, tasks: Iterable[ChunkTask]) -> Iterator[ChunkResult]: ...


class SerialExecutor:
    """Chunks run one after another in this process (``--workers 1``)."""

    workers = 1

    def results(self, tasks: Iterable[ChunkTask]) -> Iterator[ChunkResult]:
        from simulation.model.kernels import warm_up

        warm_up()  # numba's start-up before the first chunk, so the progress bar's estimate is the chunks' own
        for task in tasks:
            yield run_chunk(task)


def _failed_chunk(task: ChunkTask, reason: str) -> ChunkResult:
    """Every point of a chunk whose worker was lost, recorded as failed: a re-run retries them."""
    import pandas as pd

    from simulation.runs.sweeps.tasks import FAILURE_COLUMNS

    failures = pd.DataFrame([{"point_id": identity, "error": "WorkerLost", "message": reason, "where": ""}
                             for identity, *_ in task.points], columns=list(FAILURE_COLUMNS))
    return ChunkResult(task.chunk_id, pd.DataFrame(), failures, {"chunk": task.chunk_id, "lost": reason})


class PoolExecutor:
    """A process pool of ``workers`` processes; a worker that dies fails its chunk, and a fresh pool goes on."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        from simulation.model.kernels import warm_up

        warm_up()  # once here: the forked workers inherit the loaded kernels instead of each loading them
        self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=worker_setup, initargs=(os.getpid(),))
        return self._pool

    def __enter__(self) -> "PoolExecutor":
        self._start()
        return self

    def __exit__(self, kind: Any, value: Any, trace: Any) -> None:
        if self._pool is None:
            return
        if kind is None:
            self._pool.shutdown()
        else:  # interrupted, terminated or failed: no worker outlives the command
            kill_workers(self._pool)

    def results(self, tasks: Iterable[ChunkTask]) -> Iterator[ChunkResult]:
        from concurrent.futures.process import BrokenProcessPool

        queued = iter(tasks)
        running: dict[Future[ChunkResult], ChunkTask] = {}
        while True:
            assert self._pool is not None
            while len(running) < IN_FLIGHT_PER_WORKER * self.workers and (task := next(queued, None)) is not None:
                running[self._pool.submit(run_chunk, task)] = task
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                task = running.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    broken = True
                    yield _failed_chunk(task, "a worker process died (killed, or out of memory) while running this chunk")
            if broken:  # the pool is unusable: its other chunks are lost too; start a fresh one
                for task in running.values():
                    yield _failed_chunk(task, "a worker process died while this chunk was running beside it")
                running.clear()
                kill_workers(self._pool)
                self._start()


class DaskExecutor:
    """A Dask cluster: ``local`` starts a LocalCluster of ``workers`` single-threaded processes; else a scheduler address."""

    def __init__(self, address: str, workers: int | None) -> None:
        self.address = address
        self.workers = workers or cores()
        self._client: Any = None
        self._cluster: Any = None
        self._settings: Any = None  # the Dask settings a cluster of our own runs with

    def __enter__(self) -> "DaskExecutor":
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - pinned in requirements
            raise ClienteleError(f"--dask needs the distributed package: {exc}") from None
        for noisy in ("distributed", "tornado", "bokeh"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        if self.address == "local":
            import dask

            # Workers as the pool's: no statistical profiler sampling every 10 ms for a dashboard nobody opens, and
            # glibc's default trimming rather than Dask's MALLOC_TRIM_THRESHOLD_ of 64 KiB, which returned the
            # engine's freed arrays to the system only for it to fault them back in. Measured on 200 sweep points on
            # 2 workers, best of two: 14.9 s with Dask's defaults, 13.9 s without these two, the pool's 12.3 s.
            self._settings = dask.config.set({"distributed.worker.profile.enabled": False,
                                              "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
            self._settings.__enter__()  # for the cluster's lifetime: a worker Dask restarts gets them too
            try:
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
                from simulation.runs.sweeps.dask_plugin import DieWithCommand, WarmKernels

                self._client.register_plugin(DieWithCommand(os.getpid()))
                # Only on a cluster of our own: a scheduler keeps a plugin after its client leaves and sends it to
                # every worker that joins later, which fails to start if it lacks this code. A remote cluster's
                # workers load the kernels in their first task.
                self._client.register_plugin(WarmKernels())
            except BaseException:  # interrupted or failed while the cluster starts: none of it outlives the command
                self.__exit__(None, None, None)
                raise
        else:
            try:
                self._client = Client(self.address, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ClienteleError(f"--dask {self.address}: cannot reach the scheduler: {exc}") from None
            self.workers = max(1, sum(self._client.nthreads().values()))
        return self

    def __exit__(self, kind: Any, value: Any, trace: Any) -> None:
        logging.disable(logging.CRITICAL)  # closing a cluster under interrupt logs comm errors nobody can act on
        try:
            with contextlib.suppress(Exception):
                if self._client is not None:
                    self._client.close(timeout=5)
            with contextlib.suppress(Exception):
                if self._cluster is not None:
                    self._cluster.close(timeout=5)
            if self._settings is not None:
                self._settings.__exit__(None, None, None)
                self._settings = None
        finally:
            logging.disable(logging.NOTSET)

    def results(self, tasks: Iterable[ChunkTask]) -> Iterator[ChunkResult]:
        for task, future in self.completed(tasks, run_chunk, "chunk"):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 — a task the cluster could not finish (its worker lost twice)
                result = _failed_chunk(task, f"Dask could not run this chunk: {type(exc).__name__}: {exc}")
            future.release()
            yield result

    def completed(self, items: Iterable[Any], call: Any, what: str, *shared: Any) -> Iterator[tuple[Any, Any]]:
        """``call(item, *shared)`` for every item on the cluster, a few per worker in flight; each (item, future) as it
        finishes. ``shared`` values are sent to every worker once (scattered), not with every task."""
        import time

        from distributed import wait as dask_wait

        sent = [self._client.scatter(value, broadcast=True) for value in shared]
        run = os.urandom(6).hex()  # a fresh key per run: never collapse into another client's task
        queued = iter(items)
        in_flight: dict[str, tuple[Any, Any]] = {}

        def submit() -> bool:
            item = next(queued, _END)
            if item is _END:
                return False
            key = f"clientele-{what}-{getattr(item, 'chunk_id', item)}-{run}"
            in_flight[key] = (item, self._client.submit(call, item, *sent, key=key, pure=False, retries=1))
            return True

        while len(in_flight) < IN_FLIGHT_PER_WORKER * self.workers and submit():
            pass
        alone_since: float | None = None  # since when the scheduler has had no worker
        while in_flight:
            try:
                done = dask_wait([future for _, future in in_flight.values()], timeout=WORKER_CHECK_SECONDS,
                                 return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            if not done:
                if self._client.scheduler_info().get("workers"):
                    alone_since = None
                elif alone_since is None:
                    alone_since = time.monotonic()
                elif time.monotonic() - alone_since > NO_WORKER_SECONDS:
                    raise ClienteleError(
                        f"--dask {self.address}: no worker has been connected to the scheduler for "
                        f"{NO_WORKER_SECONDS:.0f} s; what finished so far is kept. Start workers "
                        f"(dask worker {self.address}) and run the command again to resume")
                continue
            for future in done:
                item, _ = in_flight.pop(future.key)
                yield item, future
                submit()


_END = object()


def make_executor(workers: int | None, dask: str | None) -> Any:
    """The executor the options ask for: Dask if ``--dask``, else a pool of ``workers`` (all cores) or this process."""
    if dask:
        return DaskExecutor(dask, workers)
    count = workers or cores()
    return contextlib.nullcontext(SerialExecutor()) if count == 1 else PoolExecutor(count)
