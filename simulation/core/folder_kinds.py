"""The kinds of folder the tool writes, one declaration each, and the rule that keeps them apart.

A results folder, a sweep store, a report folder, a calibration and a backtest each own their
files: writing one kind into (or inside) another would replace or mix them — a run written into a
sweep store's ``results/`` looks like a chunk of points, a sweep into a report folder leaves a
``sweep.json`` beside the board's PDF. A command names the kind it writes and the folder is
refused, before any work, when it already holds another kind or lies inside a folder of any kind.
(Nesting the tool does itself — a report's ``results/``, a results folder's ``backtest/`` — is
written by the command that owns the outer folder and never goes through this check.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulation.core.errors import ClienteleError


@dataclass(frozen=True)
class FolderKind:
    """A kind of folder: the files that mark it, and the command that makes it."""

    name: str
    markers: tuple[str, ...]  # paths inside the folder; any one present marks it
    made_by: str


FOLDER_KINDS = {
    kind.name: kind
    for kind in (
        FolderKind("results", ("provenance.json",), "clientele simulate"),
        FolderKind("sweep store", ("sweep.json", "points.parquet"), "clientele sweep"),
        FolderKind("report", ("board_report.ipynb", "comparison_report.ipynb", "results/provenance.json"),
                   "clientele report"),
        FolderKind("calibration", ("calibration.json", "overlay.yaml"), "clientele calibrate"),
        FolderKind("backtest", ("backtest.json",), "clientele backtest"),
        FolderKind("optimization", ("optimize.json",), "clientele optimize"),
    )
}


def kind_of(folder: Path) -> FolderKind | None:
    """The kind a folder's files mark it as, or None for a new or unmarked folder."""
    if not folder.is_dir():
        return None
    for kind in FOLDER_KINDS.values():
        if any((folder / marker).exists() for marker in kind.markers):
            return kind
    return None


def check_folder_kind(folder: str | Path, writes: str, flag: str = "--out") -> None:
    """Refuse to write a ``writes`` folder where another kind lives, or inside a folder of any kind."""
    folder = Path(folder)
    wanted = FOLDER_KINDS[writes]
    found = kind_of(folder)
    if found is not None and found is not wanted:
        raise ClienteleError(f"{flag} {folder}: holds a {found.name} (made by {found.made_by}), which {wanted.made_by} "
                             f"would overwrite or mix with a {wanted.name}; expected a new folder or a {wanted.name}")
    for outer in Path(folder).absolute().parents:
        around = kind_of(outer)
        if around is not None:
            raise ClienteleError(f"{flag} {folder}: is inside {outer.name or outer}, a {around.name} (made by "
                                 f"{around.made_by}), whose files {wanted.made_by} must not change; "
                                 f"expected a folder outside it")
