"""``clientele targets``: the customers a decided option acts on, for the team that carries it out.

    clientele targets SCENARIO --strategy NAME [--customers CSV | --transactions CSV] --out targets.csv

Writes ``targets.csv`` (spreadsheet-safe: a text cell that would run as a formula starts with an
apostrophe) and ``targets.parquet`` beside it, the same rows with their types: today's customers
the option's steps reach in the report's first simulated future (``simulation.data.targets``), in the
order the reviews reach them, with the reason in words. Prints the counts per step.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

from reports.commands.options import add_columns_option, add_debug_option, output_folder, seed_type, set_command
from simulation.core.errors import ClienteleError


def add_targets_command(commands: Any) -> None:
    """Register ``clientele targets`` on the CLI's subparsers."""
    parser = commands.add_parser("targets", help="list today's customers an option's steps reach, and why",
                                 description="List today's customers the strategy's steps reach in the report's first "
                                             "simulated future (the same seed and book), in the order the reviews "
                                             "reach them, with the step, when, its effect and the reason in words.")
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--strategy", required=True, help="the option decided on (a strategy of the scenario)")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--customers", metavar="CSV", help="per-customer ledger instead of the synthetic population")
    data.add_argument("--transactions", metavar="CSV", help="transaction log (customer_id, date, amount)")
    add_columns_option(parser)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario parameter, as the report was run (repeatable)")
    parser.add_argument("--seed", type=seed_type, help="root random seed, as the report's (default 20261001)")
    parser.add_argument("--out", type=output_folder, default="targets.csv",
                        help="the CSV to write (default targets.csv); the Parquet copy goes beside it")
    add_debug_option(parser)
    set_command(parser, run_targets_command, "simulation.data.targets", "simulation.data.sources")


def run_targets_command(args: argparse.Namespace) -> int:
    from simulation.core.files import refuse_overwriting_inputs, write_atomically
    from simulation.data.sources import PopulationSource
    from simulation.data.targets import spreadsheet_safe, target_list
    from simulation.runs.preparation import DEFAULT_SEED
    from simulation.scenario.spec import load_scenario, override_sources

    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise ClienteleError(f"--out: expected a .csv file to write, got {args.out!r}")
    parquet = out.with_suffix(".parquet")
    refuse_overwriting_inputs([out, parquet], [args.scenario, args.customers, args.transactions])
    scenario = load_scenario(args.scenario, args.overrides)
    if args.strategy not in scenario.strategies:
        raise ClienteleError(f"--strategy: {args.strategy!r} is not a strategy of {args.scenario} (known: "
                             f"{', '.join(scenario.strategies)})")
    if not scenario.strategies[args.strategy].steps:
        raise ClienteleError(f"--strategy: {args.strategy!r} has no steps; it acts on no one, so there is no list")
    source = PopulationSource.from_paths(args.customers, args.transactions, args.columns)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    targets = target_list(scenario, source, args.strategy, seed, tuple(override_sources(args.overrides)))
    out.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    spreadsheet_safe(targets.table).to_csv(text, index=False)
    write_atomically(out, text.getvalue().encode("utf-8"))
    buffer = io.BytesIO()
    targets.table.to_parquet(buffer, index=False)
    write_atomically(parquet, buffer.getvalue())
    label = scenario.label(args.strategy)
    print(f"{out}: {len(targets.table):,} of today's {targets.today:,} customers reached by {label} "
          f"(seed {seed}, the report's first simulated future); {targets.first_review:,} at the first review")
    for number, step in enumerate(scenario.strategies[args.strategy].steps, start=1):
        print(f"  step {number} ({step.action}): reaches {targets.per_step[number]:,}")
    print(f"wrote {out} and {parquet}")
    return 0
