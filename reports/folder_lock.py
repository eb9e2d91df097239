"""One report at a time per output folder: a second run into the same folder is refused, not mixed in.

Two runs writing one folder could otherwise leave a PDF of one run's notebook with the other's
charts, both exiting 0. The lock is an ``flock`` on a file in the folder: the kernel releases it
when the process ends, however it ends, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from simulation.core.errors import ReportError

LOCK_FILE = ".clientele-report.lock"


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for the block; a ReportError naming the holder if another run has it.

    A run that fails in a folder it created itself leaves no folder behind (bad input writes
    nothing) — but only a run that held the lock cleans up, never one that was refused.
    """
    created = [parent for parent in [folder, *folder.parents] if not parent.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    try:  # never through a symbolic link: the lock file is written to
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise ReportError(f"{path}: cannot open the report lock ({exc.strerror}); expected a regular file") from None
    with os.fdopen(descriptor, "r+") as handle:  # closing releases the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "another process"
            raise ReportError(
                f"{folder}: another report is being written into this folder right now (process {holder}); "
                f"wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        except BaseException:
            if created and [p.name for p in folder.iterdir()] == [LOCK_FILE]:
                path.unlink(missing_ok=True)
                for made in created:  # innermost first
                    with contextlib.suppress(OSError):
                        made.rmdir()
            raise
