"""How long the command line takes to start: ``clientele --help`` and ``clientele validate``, against ``python -c pass``.

Issue 19 asks that both start in under a tenth of the time they took when the parser was built
by importing the whole pipeline (pandas, papermill, nbconvert, SciPy, the engine and numba: 2.4 s
for ``--help`` on an idle 2-core machine). Each command runs in a fresh process, best of
``--repeats``, and every time is also given as a multiple of ``python -c pass`` measured in the
same run, so a busy machine shifts the seconds but not much the ratios. Two references:

- ``old imports``: today's code, but with the modules the CLI imported before the change
  (``simulation.runs.experiment``, ``reports.pipeline``) loaded first — what ``--help`` and
  ``validate`` cost then, reconstructed without checking anything out;
- ``--before COMMIT``: the command line of an earlier commit itself, extracted with ``git archive``
  into a temporary folder (commit 133c83c is the last before issue 19's change).

Run: ``.venv/bin/python benchmarks/startup.py [--repeats N] [--before COMMIT] [--json]``; ``--json``
prints one JSON object on the last line (``benchmarks/record.py startup -- --before 133c83c``
stores it for the speed page).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "scenarios/retail_bank.yaml"
# What `clientele --help` imported before issue 19: the report command's pipeline and the experiment.
OLD_IMPORTS = "import simulation.runs.experiment, reports.pipeline"
CLI = "import sys; from reports.commands.cli import main; sys.exit(main())"
VALIDATE_LIBRARIES = "import numpy, pydantic, yaml; from pydantic import BaseModel, Field, create_model"


def commands(before: Path | None) -> dict[str, list[str]]:
    """Label → the command line to time (each in a fresh process, from the project's folder)."""
    python = sys.executable
    script = Path(python).with_name("clientele")
    clientele = [str(script)] if script.is_file() else [python, "-c", CLI]
    timed = {
        "python -c pass": [python, "-c", "pass"],
        "clientele --help": [*clientele, "--help"],
        f"clientele validate {SCENARIO}": [*clientele, "validate", SCENARIO],
        # The floor of validate: importing the libraries a validation needs (the schema is pydantic, the file YAML,
        # the book's columns numpy) and nothing of ours.
        "libraries validate needs": [python, "-c", VALIDATE_LIBRARIES],
        "old imports, then --help": [python, "-c", f"{OLD_IMPORTS}; {CLI}", "--help"],
        "old imports, then validate": [python, "-c", f"{OLD_IMPORTS}; {CLI}", "validate", SCENARIO],
    }
    if before is not None:
        old_cli = f"import sys; sys.path.insert(0, {str(before)!r}); from reports.cli import main; sys.exit(main())"
        timed["before: clientele --help"] = [python, "-c", old_cli, "--help"]
        timed["before: clientele validate"] = [python, "-c", old_cli, "validate", SCENARIO]
    return timed


def seconds(command: list[str]) -> float:
    """One run's wall time; a non-zero exit stops the benchmark with the command's message."""
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env={**os.environ, "COLUMNS": "100"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {finished.returncode}):\n{finished.stderr[-2000:]}")
    return time.perf_counter() - started


def best_seconds(timed: dict[str, list[str]], repeats: int) -> dict[str, float]:
    """Each command's fastest of ``repeats`` runs (the least disturbed by other work on the machine). The commands
    take turns, round after round, so a busy spell on the machine falls on all of them rather than on one."""
    for command in timed.values():  # once each first: .pyc files written, the disk cache warm
        seconds(command)
    times: dict[str, list[float]] = {label: [] for label in timed}
    for _ in range(repeats):
        for label, command in timed.items():
            times[label].append(seconds(command))
    return {label: min(values) for label, values in times.items()}


def extract(commit: str, folder: Path) -> Path:
    """The project's files at ``commit``, from git's object store (the working tree is not touched)."""
    archive = folder / "before.tar"
    with open(archive, "wb") as handle:
        subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "tree", filter="data")
    return folder / "tree"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9, help="runs of each command; the fastest counts (default 9)")
    parser.add_argument("--before", metavar="COMMIT", help="also time the command line of this earlier commit")
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before = extract(args.before, Path(scratch)) if args.before else None
        best = best_seconds(commands(before), args.repeats)
    python = best["python -c pass"]
    rows = [{"command": label, "best_seconds": round(value, 3), "times_python": round(value / python, 1)}
            for label, value in best.items()]
    help_now, validate_now = best["clientele --help"], best[f"clientele validate {SCENARIO}"]
    reference = "before" if args.before else "old imports"
    help_then = best["before: clientele --help" if args.before else "old imports, then --help"]
    validate_then = best["before: clientele validate" if args.before else "old imports, then validate"]
    result = {
        "benchmark": "startup",
        "repeats": args.repeats,
        "before_commit": args.before or "",
        "commands": rows,
        "help_share_of_before": round(help_now / help_then, 3),
        "validate_share_of_before": round(validate_now / validate_then, 3),
        "help_share_of_before_over_python": round((help_now - python) / (help_then - python), 3),
        "validate_share_of_before_over_python": round((validate_now - python) / (validate_then - python), 3),
        "libraries_share_of_before_validate": round(best["libraries validate needs"] / validate_then, 3),
    }
    width = max(len(label) for label in best)
    for row in rows:
        print(f"{row['command']:<{width}}  {row['best_seconds']:6.3f} s  {row['times_python']:6.1f} × python -c pass")
    print(f"against {reference}: --help takes {result['help_share_of_before']:.1%} of the time, validate "
          f"{result['validate_share_of_before']:.1%} (beyond python's own start: {result['help_share_of_before_over_python']:.1%}"
          f" and {result['validate_share_of_before_over_python']:.1%})")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
