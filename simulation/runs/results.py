"""The results folder: tidy Parquet tables, the validated scenario and provenance, written whole.

Every file is written under a temporary name and renamed into place, provenance last, so a
folder with ``provenance.json`` holds a complete run — and a reader never sees half a table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from simulation import __version__
from simulation.core.errors import ClienteleError
from simulation.core.files import file_sha256, write_atomically
from simulation.data.sources import PopulationSource
from simulation.scenario.spec import Scenario

TABLE_FILES = {"quarters": "results.parquet", "segments": "segments.parquet",
               "start_segments": "start_segments.parquet", "lorenz": "lorenz.parquet",
               "starting_position": "starting_position.parquet", "reach": "reach.parquet"}
PROVENANCE_FILE = "provenance.json"
SCENARIO_FILE = "scenario.json"
RESULT_FILES = (*TABLE_FILES.values(), SCENARIO_FILE, PROVENANCE_FILE)  # what a results folder holds
RECORDED_PACKAGES = (
    "simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "PyYAML", "papermill", "nbconvert",
    "matplotlib", "weasyprint", "Jinja2", "numba", "llvmlite",
)
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent

BACKTEST_FOLDER = "backtest"  # a board report's backtest of its log, inside the results folder (backtest.json)


@dataclass(frozen=True)
class Results:
    """A results folder read back: the tidy tables, the scenario that made them and provenance."""

    folder: Path
    quarters: pd.DataFrame
    segments: pd.DataFrame
    start_segments: pd.DataFrame
    lorenz: pd.DataFrame
    starting_position: pd.DataFrame
    reach: pd.DataFrame  # strategy, replication, step, first_review, within_horizon: today's customers each step reaches
    provenance: dict[str, Any]
    scenario: Scenario


TEMPORARY_NAME = re.compile(r"\..+\.tmp-(?P<pid>[0-9]+)")


def check_output_folder(folder: str | Path, flag: str = "--out") -> Path:
    """Refuse, before any work, an output folder that cannot be written: a file, under a file, read-only."""
    folder = Path(folder)
    existing = folder
    while not existing.exists():
        if existing.is_symlink():  # a dangling link: nothing can be created through it
            raise ClienteleError(f"{flag} {folder}: {existing} is a broken symbolic link")
        existing = existing.parent
    if not existing.is_dir():
        where = "is" if existing == folder else f"is under {existing}, which is"
        raise ClienteleError(f"{flag} {folder}: {where} a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == folder else f" ({existing} is where it would be made)"
        raise ClienteleError(f"{flag} {folder}: not writable{where}")
    # os.access cannot tell /proc, /sys or a read-only mount (and says yes to root): try it, leave nothing.
    made: list[Path] = []
    try:
        for missing in reversed([folder, *folder.parents][: len(folder.parts) - len(existing.parts)]):
            missing.mkdir()
            made.append(missing)
        probe = folder / f".probe.tmp-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ClienteleError(f"{flag} {folder}: cannot write there: {exc.strerror}") from None
    finally:
        for created in reversed(made):
            with contextlib.suppress(OSError):
                created.rmdir()
    return folder


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the half-written files a dead run left here (``.name.tmp-PID`` of a process that is gone)."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        found = TEMPORARY_NAME.fullmatch(path.name)
        if not found or int(found["pid"]) == os.getpid():
            continue
        try:
            os.kill(int(found["pid"]), 0)
            continue  # its writer is alive: maybe a run writing this folder right now
        except (ProcessLookupError, OverflowError, ValueError):
            pass  # gone, or a number no process can have
        except PermissionError:
            continue  # alive, someone else's
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def write_results(folder: Path, scenario: Scenario, tables: dict[str, pd.DataFrame], provenance: dict) -> Results:
    """Write every table and the scenario, then provenance with each file's SHA-256 (reuse checks them)."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    stale = folder / PROVENANCE_FILE
    if stale.exists():
        stale.unlink()  # the folder is incomplete until the new provenance lands
    contents = {name: tables[kind].to_parquet(index=False) for kind, name in TABLE_FILES.items()}
    contents[SCENARIO_FILE] = json.dumps(scenario.model_dump(mode="json"), indent=2).encode()
    for name, data in contents.items():
        write_atomically(folder / name, data)
    provenance = {**provenance, "files": {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}}
    provenance = {**provenance, SEAL_KEY: provenance_seal(provenance)}
    write_atomically(folder / PROVENANCE_FILE, json.dumps(provenance, indent=2, sort_keys=True).encode())
    return Results(folder=folder, provenance=provenance, scenario=scenario, **{kind: tables[kind] for kind in TABLE_FILES})


SEAL_KEY = "seal"  # SHA-256 of provenance's other fields, so an edited date, override or worker count is seen


def provenance_seal(provenance: dict[str, Any]) -> str:
    """The SHA-256 of provenance without its seal, as canonical JSON (sorted keys, no spaces)."""
    fields = {key: value for key, value in provenance.items() if key != SEAL_KEY}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def changed_files(folder: Path, provenance: dict[str, Any]) -> list[str]:
    """Result files (provenance.json included) that are missing or differ from what was recorded when written."""
    if provenance.get(SEAL_KEY) != provenance_seal(provenance):
        return ["provenance.json (its fields differ from those sealed when it was written: edited by hand?)"]
    recorded = provenance.get("files")
    if not isinstance(recorded, dict) or set(recorded) != {*TABLE_FILES.values(), SCENARIO_FILE}:
        return ["provenance.json (no file hashes: written by an older version)"]
    problems = []
    for name, digest in sorted(recorded.items()):
        path = folder / name
        try:
            actual = file_sha256(path)
        except OSError as exc:
            problems.append(f"{name} ({exc.strerror or 'unreadable'})")
            continue
        if actual != digest:
            problems.append(f"{name} (its SHA-256 differs from the one recorded when it was written)")
    return problems


def read_provenance(folder: Path) -> dict[str, Any] | None:
    path = folder / PROVENANCE_FILE
    if not path.exists():
        return None
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None  # anything else is no provenance of ours


def load_results(folder: str | Path) -> Results:
    """Read a results folder written by ``write_results``; a ClienteleError if it is incomplete."""
    folder = Path(folder)
    provenance = read_provenance(folder)
    if provenance is None:
        raise ClienteleError(f"{folder}: no complete results here (provenance.json missing); run `clientele simulate`")
    changed = changed_files(folder, provenance)
    if changed:
        raise ClienteleError(f"{folder}: results changed since they were written: {'; '.join(changed)}; "
                             f"run the simulation again")
    tables = {kind: pd.read_parquet(folder / name) for kind, name in TABLE_FILES.items()}
    scenario = Scenario.model_validate(json.loads((folder / SCENARIO_FILE).read_text()))
    return Results(folder=folder, provenance=provenance, scenario=scenario, **tables)


def shown_path(path: str | Path) -> str:
    """A path as provenance and reports show it: relative to the working folder when inside it, else its name.

    An absolute local path (a home folder, a user name) does not belong in a board's PDF.
    """
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name if path.is_absolute() else str(path)


# What computes a store's numbers. The report pipeline (reports/, templates/, notebooks/) draws its words and charts
# from a store afresh at every report, so a fix there does not make a long sweep "other code" to be run again.
CODE_FOLDERS = ("simulation",)


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the code's own files (not the scenarios, data or documentation beside them): what a sweep point's
    identity holds, so that editing a scenario file or committing a document never makes a store "other code"."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".j2", ".css", ".ipynb",
                                                                                       ".json"):
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus the git commit (and '-dirty' for uncommitted changes) when known; asked of git once per
    process (a sweep asks at every run, an optimisation at every batch)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        if not dirty:
            return f"{__version__}+g{commit}"
        # Uncommitted edits are code too: name them by a hash of the diff, so editing the engine and
        # running again never reuses results of the code before the edit.
        diff = subprocess.run(["git", "-C", str(PROJECT_ROOT), "diff", "HEAD", "--no-ext-diff"],
                              capture_output=True, timeout=10, check=True).stdout
        return f"{__version__}+g{commit}-dirty.{hashlib.sha256(diff).hexdigest()[:12]}"
    except (OSError, subprocess.SubprocessError):
        return __version__


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def input_files(files: list[tuple[str, str | Path | None]]) -> list[dict[str, str]]:
    """Each input file a run read — its role, its name as shown, its SHA-256 as ``sha256sum`` prints it — so every
    report kind shows the same fingerprint of the same file."""
    return [{"role": role, "path": shown_path(path), "sha256": file_sha256(Path(path))}
            for role, path in files if path is not None and Path(path).is_file()]


class _ProvenanceRecord:
    """Builds provenance.json; ``input_data`` is shared with the reuse check."""

    @staticmethod
    def input_data(source: PopulationSource) -> dict[str, Any]:
        if source.path is None:
            return {"kind": source.kind}
        record = {"kind": source.kind, "path": shown_path(source.path), "sha256": file_sha256(source.path)}
        return {**record, "columns": source.columns.text()} if source.columns else record

    def __call__(
        self,
        *,
        scenario: Scenario,
        scenario_path: Path,
        overrides: list[str],
        source: PopulationSource,
        customers_at_start: int,
        seed: int,
        replications: int,
        strategies: list[str],
        workers: int,
        wall_time_seconds: float,
    ) -> dict[str, Any]:
        return {
            "scenario_name": scenario.name,
            "scenario_file": shown_path(scenario_path),
            "scenario_file_keys": scenario_file_keys(scenario_path),
            "scenario_hash": scenario.content_hash(),
            "overrides": overrides,
            "input_data": self.input_data(source),
            "input_files": input_files([("scenario file", scenario_path), (source.kind_label, source.path),
                                        ("tuned strategy file", scenario.tuned_file(scenario_path))]),
            "customers_at_start": customers_at_start,
            "seed": seed,
            "replications": replications,
            "strategies": strategies,
            "workers": workers,
            "code_version": code_version(),
            "kernels": _kernels_selected(),  # compiled or numpy: the same numbers to rounding, not to the bit
            "packages": package_versions(),
            "wall_time_seconds": round(wall_time_seconds, 3),
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }


def _kernels_selected() -> str:
    """Which month kernels ran; imported here only, so reading results never loads numba."""
    from simulation.model import kernels

    return kernels.selected()


provenance_record = _ProvenanceRecord()


def scenario_file_keys(scenario_path: str | Path) -> list[str]:
    """Every dotted path the scenario file itself sets (sections included), for the report's 'source' column.

    Read at simulation time, so the report never re-reads the YAML (which may have changed since).
    """
    from simulation.scenario.file import parse_yaml, read_text

    def paths(raw: Any, prefix: str = "") -> list[str]:
        found: list[str] = []
        if isinstance(raw, dict):
            for key, value in raw.items():
                path = f"{prefix}.{key}" if prefix else str(key)
                found += [path, *paths(value, path)]
        return found

    return sorted(paths(parse_yaml(read_text(scenario_path), str(scenario_path))))
