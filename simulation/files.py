"""Input files are regular files: a folder, pipe or device given as input is named as such.

Opening a FIFO blocks until a writer comes; reading /dev/zero never ends. Both are refused from
their ``stat`` before they are opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ClienteleError


def regular_file(path: Path, what: str, kind: str, error: type[ClienteleError]) -> os.stat_result:
    """``path``'s stat if it is a regular file, else ``error`` naming the file and what it is instead.

    ``what`` names the file's role ("scenario file", "customer ledger"), ``kind`` its format ("YAML").
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a folder; expected a {what} ({kind})")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: is not a regular file (a pipe, device or socket); expected a {what} ({kind})")
    return info
