"""``clientele sweep``: run a sweep file into a store, ask where it stands, export its rows.

    clientele sweep FILE --out DIR [--dask local|ADDRESS] [--workers N]   run, or resume
    clientele sweep status DIR                                            done / failed / to do
    clientele sweep export DIR --to FILE.parquet                          every row, one file

A sweep that finishes with failed points exits with code 1 and their count; status lists them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports.commands.options import output_folder, set_command, workers_type
from simulation.core.errors import ClienteleError
from simulation.runs.processes import cores

ACTIONS = ("status", "export")


def add_sweep_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sweep`` on the ``clientele`` command's subparsers."""
    sweep = subparsers.add_parser(
        "sweep", help="run a parameter sweep (or resume it); `sweep status DIR`, `sweep export DIR --to FILE`",
        description="Run every point of a sweep file × strategies × replications into a store folder that survives "
                    "interruption; running it again resumes. `clientele sweep status DIR` says what is done, failed "
                    "and to do; `clientele sweep export DIR --to FILE.parquet` writes every row to one file.",
    )
    sweep.add_argument("target", metavar="FILE | status | export", help="a sweep file (YAML), or status or export")
    sweep.add_argument("folder", nargs="?", metavar="DIR", help="with status or export: the sweep's folder")
    sweep.add_argument("--out", type=output_folder, help="the sweep's folder (default out/sweeps/<file name>)")
    sweep.add_argument("--dask", metavar="local|ADDRESS",
                       help="run on Dask: `local` starts a LocalCluster, an address (tcp://host:8786) uses a scheduler")
    sweep.add_argument("--workers", type=workers_type,
                       help=f"worker processes, 1 to {cores()} (default: all cores; with --dask ADDRESS, the cluster's)")
    sweep.add_argument("--to", metavar="FILE", help="with export: the Parquet file to write")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    set_command(sweep, _sweep, "simulation.runs.sweeps.plan", "simulation.runs.sweeps.runner", "simulation.runs.sweeps.queries")


def _sweep(args: argparse.Namespace) -> int:
    if args.target in ACTIONS:
        if not args.folder:
            raise ClienteleError(f"sweep {args.target}: name the sweep's folder, e.g. clientele sweep {args.target} out/wom")
        return _status(Path(args.folder)) if args.target == "status" else _export(Path(args.folder), args.to)
    if args.folder:
        raise ClienteleError(f"sweep {args.target}: unexpected {args.folder!r}; the folder is given with --out DIR")
    if args.to:
        raise ClienteleError("--to is for `clientele sweep export DIR --to FILE`")
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from simulation.core.files import refuse_overwriting_inputs
    from simulation.core.folder_kinds import check_folder_kind
    from simulation.runs.sweeps import load_plan, run_sweep
    from simulation.runs.sweeps.store import STORE_PARTS

    sweep_file = Path(args.target)
    if args.dask is not None and not args.dask.strip():
        raise ClienteleError("--dask: expected `local` or a scheduler address such as tcp://scheduler:8786, got ''")
    out = Path(args.out) if args.out else Path("out") / "sweeps" / sweep_file.stem
    check_folder_kind(out, "sweep store")  # not a report, results, calibration or backtest folder, nor inside one
    refuse_overwriting_inputs([out / name for name in STORE_PARTS], [sweep_file])
    plan = load_plan(sweep_file)  # every point validated: nothing is written if one is not
    if not args.quiet:
        alone = sum(1 for point in plan.points if point.strategies and point.strategies != plan.strategies)
        runs = (f"{len(plan.points) - alone:,} points × {len(plan.strategies)} strategies and {alone:,} × "
                f"{plan.spec.lever_strategy} alone (the levers' later policies)" if alone
                else f"{len(plan.points):,} points × {len(plan.strategies)} strategies")
        print(f"{plan.spec.name}: {len(plan.rows):,} design rows, {runs} × {plan.spec.replications} replications "
              f"→ {out}", file=sys.stderr)
    run = run_sweep(plan, out, workers=args.workers, dask=args.dask, progress=not args.quiet)
    resumed = f", {run.done_before:,} already done" if run.done_before else ""
    print(f"{out}: {run.points - run.failed:,} of {run.points:,} points done{resumed}; ran {run.ran:,} in "
          f"{run.seconds:,.1f} s on {run.workers} worker{'s' if run.workers != 1 else ''}")
    if run.failed:
        print(f"clientele: {run.failed:,} point{'s' if run.failed != 1 else ''} failed; their errors: "
              f"clientele sweep status {out}; running the sweep again retries them", file=sys.stderr)
        return 1
    return 0


def _status(folder: Path) -> int:
    from simulation.runs.sweeps import sweep_status

    status = sweep_status(folder)
    print(f"{folder}: {status.name}")
    print(f"  points  {status.points:>8,}")
    print(f"  done    {status.done:>8,}")
    print(f"  failed  {status.failed:>8,}")
    print(f"  to do   {status.to_do:>8,}")
    if status.chunks_logged:
        print(f"  compute {status.compute_seconds:>8,.1f} s over {status.chunks_logged:,} tasks on "
              f"{', '.join(status.hosts)}")
    for error in status.errors:
        print(f"  failed point {error['point_id']}: {error['error']}: {error['message']}")
    if status.failed > len(status.errors):
        print(f"  … and {status.failed - len(status.errors):,} more failed points")
    return 0


def _export(folder: Path, to: str | None) -> int:
    from simulation.runs.sweeps import export_rows

    if not to:
        raise ClienteleError("sweep export: name the file to write with --to FILE.parquet")
    target = Path(to)
    if target.suffix != ".parquet":
        raise ClienteleError(f"--to {to}: expected a file name ending in .parquet")
    if target.is_dir():
        raise ClienteleError(f"--to {to}: is a folder; expected a file name ending in .parquet")
    if not target.parent.is_dir():
        raise ClienteleError(f"--to {to}: the folder {target.parent} does not exist")
    rows = export_rows(folder, target)
    print(f"wrote {target}: {rows:,} rows (point × strategy × replication × quarter, with each point's parameters)")
    return 0
