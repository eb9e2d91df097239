"""The ``clientele`` command: validate a scenario, simulate it, report on it.

Errors Clientele raises on purpose (bad scenario, bad CSV row, failed report) become one clear
message and exit code 2; a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from simulation.errors import ClienteleError


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--customers", metavar="CSV", help="per-customer ledger instead of the synthetic population")
    parser.add_argument("--transactions", metavar="CSV", help="transaction log (customer_id, date, amount)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario parameter, e.g. --set market.size=500000 (repeatable)")
    parser.add_argument("--strategies", help="comma-separated strategy names (default: all in the scenario)")
    parser.add_argument("--replications", type=int, help="replications per strategy (default 50)")
    parser.add_argument("--seed", type=int, help="root random seed (default 20261001)")
    parser.add_argument("--workers", type=int, help="worker processes (default: all cores)")


def strategy_list(text: str | None) -> list[str] | None:
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


def _validate(args: argparse.Namespace) -> int:
    from simulation.scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    print(
        f"{args.scenario}: valid — {scenario.name!r}, {scenario.population.customers:,} synthetic customers, "
        f"{scenario.horizon_quarters} quarters from {scenario.start_date}, "
        f"strategies: {', '.join(scenario.strategies)}"
    )
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from simulation.experiment import run_experiment
    from simulation.summary import strategy_summary

    results = run_experiment(
        args.scenario, args.out, strategies=strategy_list(args.strategies), replications=args.replications,
        seed=args.seed, customers=args.customers, transactions=args.transactions, overrides=args.overrides,
        workers=args.workers, progress=not args.quiet,
    )
    summary = strategy_summary(results.quarters)
    currency = results.scenario.currency
    print(f"{results.scenario.name}: {results.provenance['replications']} replications, seed "
          f"{results.provenance['seed']}, {results.scenario.horizon_quarters} quarters ({currency})")
    header = f"{'strategy':<18}{'cum. profit (95% CI)':>40}{'NPV':>16}{'share':>8}{'top10%':>8}{'divested':>10}{'WoM reach':>11}"
    print(header)
    for row in summary.itertuples():
        interval = f"{row.cumulative_profit_mean:,.0f} ({row.cumulative_profit_ci_low:,.0f}–{row.cumulative_profit_ci_high:,.0f})"
        print(f"{row.strategy:<18}{interval:>40}{row.npv_mean:>16,.0f}{row.market_share_end:>8.2%}"
              f"{row.top10_profit_share_end:>8.0%}{row.divested_total:>10,.0f}{row.wom_reach_total:>11,.0f}")
    print(f"wrote {Path(args.out) / 'results.parquet'} and {Path(args.out) / 'provenance.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientele",
        description="Simulate keeping, repricing, migrating or divesting unprofitable customers.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    validate.set_defaults(func=_validate)

    simulate = commands.add_parser("simulate", help="run the scenario's strategies and write the results table")
    _add_run_options(simulate)
    simulate.add_argument("--out", default="out/latest", help="results folder (default out/latest)")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.set_defaults(func=_simulate)

    try:
        from reports.report_command import add_report_command
    except ModuleNotFoundError as exc:  # only while the report pipeline is not part of the tree
        if exc.name != "reports.report_command":
            raise
    else:
        add_report_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ClienteleError as exc:
        if args.debug:
            raise
        print(f"clientele: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("clientele: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
