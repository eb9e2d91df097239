"""No process outlives the command that started it.

Worker processes of a pool block on a pipe; if the command is killed (SIGTERM, SIGKILL, a
closed terminal) nothing tells them, and they used to linger, re-parented, at about 178 MB each.
Here each worker asks the kernel to kill it when its parent dies (Linux's PR_SET_PDEATHSIG —
which also covers SIGKILL, where no cleanup code runs), ignores the terminal's Ctrl-C (the
parent handles it, once), and the parent kills its workers when it is interrupted rather than
waiting for their replications to finish.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # ctypes, logging and the pool load where they are used: `clientele --help` imports this module
    from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def cores() -> int:
    """The cores this process may run on (taskset, cgroups), not the machine's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def die_with_parent(parent_pid: int) -> None:
    """In a child process: be killed when ``parent_pid`` exits, however it exits."""
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os._exit(1)


def worker_setup(parent_pid: int) -> None:
    """Pool initializer: die with the parent, leave Ctrl-C to the parent (one message, not one per worker)."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def kill_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: kill its workers; what was queued fails with the pool, unwaited for.

    ``shutdown`` alone waits for running tasks (a replication takes seconds); the executor keeps
    its processes in ``_processes``, a private but long-stable attribute. Futures are not
    cancelled first: the pool's manager thread would then fail on them when it finds the
    workers gone (Python 3.11 prints an InvalidStateError traceback).
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
    for process in processes:
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False)


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so the command cleans up as it does for Ctrl-C."""


_interrupted = False


def _unwind(signum: int, frame: object) -> None:
    # From here on the libraries being interrupted (papermill, nbclient, asyncio) have nothing to
    # tell the user: "Kernel died while waiting…" and "Task exception was never retrieved" used to
    # follow a Ctrl-C. The command prints its one line itself, and a second Ctrl-C while it
    # unwinds is ignored (it once printed a traceback from the pool's exit handler).
    global _interrupted
    _interrupted = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging = sys.modules.get("logging")  # a library that has not imported logging has logged nothing
    if logging is not None:
        logging.disable(logging.CRITICAL)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


@contextlib.contextmanager
def unwind_on_interrupt() -> Iterator[None]:
    """While the command runs: Ctrl-C and SIGTERM unwind quietly (workers killed, nothing half-written)."""
    previous = {number: signal.signal(number, _unwind) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        if not _interrupted:  # interrupted: stay deaf to further signals until the process exits
            for number, handler in previous.items():
                signal.signal(number, handler)
