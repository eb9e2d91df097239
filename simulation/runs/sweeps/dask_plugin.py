"""Dask worker plugins: each worker of a LocalCluster dies with the command that started it; every worker loads the
compiled kernels when it joins, before its first task.

In its own module so that importing the sweeps never imports ``distributed``.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

from distributed import WorkerPlugin

from simulation.runs.processes import die_with_parent


class DieWithCommand(WorkerPlugin):
    """PR_SET_PDEATHSIG in each worker process whose parent is the command; the terminal's Ctrl-C left to the command."""

    name = "clientele-die-with-command"

    def __init__(self, command_pid: int) -> None:
        self.command_pid = command_pid

    def setup(self, worker: Any) -> None:
        if os.getppid() == self.command_pid:  # a LocalCluster's worker: its nanny lives in the command
            die_with_parent(self.command_pid)
        with contextlib.suppress(ValueError):  # only the main thread may set a handler
            signal.signal(signal.SIGINT, signal.SIG_IGN)


class WarmKernels(WorkerPlugin):
    """Load the engine's compiled kernels when a worker starts (numba's start-up, 1.5–5 s, is not a task's)."""

    name = "clientele-warm-kernels"

    def setup(self, worker: Any) -> None:
        from simulation.model.kernels import warm_up

        warm_up()
