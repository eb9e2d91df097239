"""``clientele optimize``: search a strategy's levers for its best settings, resumably.

    clientele optimize FILE --out DIR [--workers N] [--dask local|ADDRESS]

Writes ``DIR/optimize.json`` (every trial, the best settings, their value on fresh replications
against the declared options), ``DIR/best_strategy.yaml`` (the tuned strategy, ready to paste under
the scenario's ``strategies:``) and the trials' store ``DIR/trials``. Running it again resumes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports.commands.options import output_folder, set_command, workers_type
from reports.numbers import MoneyFormat
from simulation.core.errors import ClienteleError
from simulation.runs.processes import cores


def add_optimize_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``optimize`` on the ``clientele`` command's subparsers."""
    command = subparsers.add_parser(
        "optimize", help="search a strategy's levers for its best settings (or resume the search)",
        description="Search the levers an optimisation file names — settings of one strategy's steps — for the best "
                    "expected objective under its constraints, with a seeded sampler on common random numbers; every "
                    "trial is stored like a sweep point, so running it again resumes. The best settings are re-run "
                    "on fresh replications beside the declared options.",
    )
    command.add_argument("file", metavar="FILE", help="an optimisation file (YAML)")
    command.add_argument("--out", type=output_folder, help="its folder (default out/optimize/<file name>)")
    command.add_argument("--dask", metavar="local|ADDRESS", help="run the trials on Dask, as `sweep` does")
    command.add_argument("--workers", type=workers_type, help=f"worker processes, 1 to {cores()} (default: all cores)")
    command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    set_command(command, _optimize, "simulation.analysis.optimize")


def _optimize(args: argparse.Namespace) -> int:
    from simulation.analysis.optimize import BEST_FILE, RESULT_FILE, TRIALS_FOLDER, run_optimization
    from simulation.core.files import refuse_overwriting_inputs
    from simulation.core.folder_kinds import check_folder_kind

    path = Path(args.file)
    if args.dask is not None and not args.dask.strip():
        raise ClienteleError("--dask: expected `local` or a scheduler address such as tcp://scheduler:8786, got ''")
    out = Path(args.out) if args.out else Path("out") / "optimize" / path.stem
    check_folder_kind(out, "optimization")
    refuse_overwriting_inputs([out / RESULT_FILE, out / BEST_FILE, out / TRIALS_FOLDER], [path])
    record = run_optimization(path, out, workers=args.workers, dask=args.dask)
    feasible = sum(trial["feasible"] for trial in record["trials"])
    print(f"{out}: {len(record['trials'])} trials of {record['strategy']} ({feasible} feasible), judged by "
          f"{record['objective']}")
    if record["best"] is None:
        why = ("no trial kept every constraint" if any(trial["objective"] is not None for trial in record["trials"])
               else "the schema refused every setting tried")
        print(f"clientele: {why}; see optimize.json for each trial's problem", file=sys.stderr)
        return 1
    fresh = record["fresh"]
    money = MoneyFormat.for_amounts([fresh["objective"]["mean"]], record["currency"])
    print("best settings:")
    for lever, value in record["best"].items():
        print(f"  {lever} = {value:.6g}" if isinstance(value, float) else f"  {lever} = {value}")
    print(f"on fresh replications (seed {fresh['seed']}): {money(fresh['objective']['mean'])} "
          f"(95 % CI {money(fresh['objective']['low'])} to {money(fresh['objective']['high'])}); "
          f"chosen on {money(fresh['chosen_on'])}")
    for name, difference in fresh["versus"].items():
        print(f"  against {name}: {money(difference['mean'], True)} "
              f"(95 % CI {money(difference['low'], True)} to {money(difference['high'], True)})")
    if "pareto" in record:
        print(f"{len(record['pareto'])} trials on the Pareto front of the objective against the constrained outcomes "
              f"(optimize.json: pareto)")
    print(f"wrote {out / RESULT_FILE} and {out / BEST_FILE} (a board report takes it with --tuned {out / BEST_FILE}, "
          f"or report.tuned: in the scenario; or paste its block under the scenario's strategies:)")
    return 0
