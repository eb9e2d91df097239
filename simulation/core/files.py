"""Input files are regular files: a folder, pipe or device given as input is named as such.

Opening a FIFO blocks until a writer comes; reading /dev/zero never ends. Both are refused from
their ``stat`` before they are opened. Outputs are written whole (``write_atomically``) and inputs named
by their content (``file_sha256``): helpers every layer uses, so they live here rather than beside the
results folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path
from typing import Iterable

from simulation.core.errors import ClienteleError


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


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


def spreadsheet_safe(values: Iterable[object]) -> list[str]:
    """Text cells a spreadsheet shows as text: one starting like a formula gets a leading apostrophe (OWASP's rule)."""
    return [f"'{text}" if text.startswith(FORMULA_PREFIXES) else text for text in (str(value) for value in values)]


def refuse_overwriting_inputs(outputs: Iterable[Path], inputs: Iterable[Path | str | None], option: str = "--out") -> None:
    """Refuse, before any work, to write an output where one of the command's inputs lives: an output file that is
    an input, or an output folder (a report's results/, a store's results/) that holds one."""
    sources = {Path(path).resolve(): Path(path) for path in inputs if path}
    for output in outputs:
        where = Path(output).resolve()
        for resolved, given in sources.items():
            if resolved == where or resolved.is_relative_to(where):
                replaced = f"writing {Path(output).name} there would replace the input {given}" if resolved == where \
                    else f"its {Path(output).name}/ is written anew and holds the input {given}"
                raise ClienteleError(f"{option} {Path(output).parent}: {replaced}; expected another folder")


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary name in the same folder, then a rename."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise ClienteleError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def content_stamp(path: Path | str) -> tuple[str, int, int, int, int]:
    """What stands for a file's content in a process's caches without reading it: its absolute path, device and
    inode (the same name from another folder, or a file replaced under it, is another file), size and modification
    time. A file rewritten with its size and time put back (``cp -p``) within one process is not seen as changed."""
    resolved = Path(path).resolve()
    status = resolved.stat()
    return str(resolved), status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def file_sha256(path: Path) -> str:
    """The file's SHA-256 in hex, as ``sha256sum`` prints it, read a mebibyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
