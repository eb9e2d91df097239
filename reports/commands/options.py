"""The command line's options, defined once for every command that takes them.

Each numeric option has a range and says why: ``--workers`` at most the machine's cores (more
processes on 2 cores only queue for them), ``--seed`` a non-negative 63-bit integer (what
NumPy's SeedSequence and the JSON provenance both hold), ``--replications`` at least 1 (the
upper bound depends on the scenario's strategies and quarters: see
``simulation.runs.preparation.check_replications``). A value out of range is refused by argparse with
the option's name, the value and the range, exit code 2, before anything runs.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Callable

from simulation.runs.processes import cores

MAX_SEED = 2**63 - 1
NAME_MAX, PATH_MAX = 255, 4096  # Linux's limits for one name and a whole path, in bytes
MAX_REPLICATIONS_ARGUMENT = 1_000_000  # a first bound before the scenario is read; the real one is memory


def bounded_int(low: int, high: Callable[[], int], reason: str) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high()], refused with the range and ``reason`` otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number: got {text!r}") from None
        top = high()
        if not low <= value <= top:
            raise argparse.ArgumentTypeError(f"must be between {low:,} and {top:,} ({reason}): got {text}")
        return value

    return parse


def strategy_names(text: str) -> list[str]:
    """An argparse type: ``a,b`` as names; an empty name (``--strategies ,``, ``""``, ``a,,b``) is refused, not read as all."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected strategy names separated by commas, e.g. retain_all,ladder: got {text!r}")
    return list(dict.fromkeys(names))


def output_folder(text: str) -> str:
    """An argparse type: a folder to write into; an empty name (which would mean the working folder) is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a folder name: got {text!r} (the working folder is '.')")
    if any(ord(character) < 32 for character in text):
        raise argparse.ArgumentTypeError(f"expected a folder name without control characters: got {text!r}")
    for part in text.split("/"):
        if len(os.fsencode(part)) > NAME_MAX:
            raise argparse.ArgumentTypeError(f"each folder name in the path is at most {NAME_MAX} bytes (the file "
                                             f"system's limit): got one of {len(os.fsencode(part)):,}, {part[:40]!r}…")
    if len(os.fsencode(text)) > PATH_MAX:
        raise argparse.ArgumentTypeError(f"expected a path of at most {PATH_MAX:,} bytes: got {len(os.fsencode(text)):,}")
    return text


replications_type = bounded_int(1, lambda: MAX_REPLICATIONS_ARGUMENT, "results are held in memory until written")
seed_type = bounded_int(0, lambda: MAX_SEED, "a non-negative 63-bit integer")
workers_type = bounded_int(1, cores, "the cores this machine gives the command; more processes only queue")


class TunedStrategyFile(argparse.Action):
    """``--tuned FILE``: the scenario's ``report.tuned``, set as a ``--set`` is (the path made absolute, since the
    scenario reads it relative to its own folder)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if not str(values).strip():
            parser.error("--tuned: expected a strategy file (best_strategy.yaml), got ''")
        overrides = list(getattr(namespace, "overrides", None) or [])
        namespace.overrides = [*overrides, f"report.tuned={json.dumps(str(Path(values).resolve()))}"]


def dask_address(text: str) -> str:
    """An argparse type: ``local`` or a scheduler address; an empty one is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected `local` or a scheduler address such as tcp://scheduler:8786, got ''")
    return text


def add_run_options(parser: argparse.ArgumentParser, default_replications: int) -> None:
    """The scenario and the options ``simulate`` and ``report`` share."""
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--customers", metavar="CSV", help="per-customer ledger instead of the synthetic population")
    parser.add_argument("--transactions", metavar="CSV", help="transaction log (customer_id, date, amount)")
    add_columns_option(parser)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario parameter, e.g. --set market.size=500000 (repeatable)")
    parser.add_argument("--tuned", action=TunedStrategyFile, metavar="YAML",
                        help="a best_strategy.yaml from `clientele optimize`: its tuned strategy joins the options "
                             "(as report.tuned in the scenario)")
    parser.add_argument("--strategies", type=strategy_names,
                        help="comma-separated strategy names (default: all in the scenario)")
    parser.add_argument("--replications", type=replications_type,
                        help=f"replications per strategy (default {default_replications})")
    parser.add_argument("--seed", type=seed_type, help="root random seed, 0 to 2^63 − 1 (default 20261001)")
    parser.add_argument("--workers", type=workers_type, help=f"worker processes, 1 to {cores()} (default: all cores)")
    parser.add_argument("--dask", type=dask_address, metavar="local|ADDRESS",
                        help="run the replications on Dask: `local` starts a cluster of --workers processes here, an "
                             "address (tcp://scheduler:8786) uses a running one; the numbers are the pool's, bit for bit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_debug_option(parser)


def add_scenario_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--scenario`` for a data command (``calibrate``, ``backtest``), with its ``--set``s."""
    parser.add_argument("--scenario", metavar="YAML", help=what)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a field of --scenario (repeatable)")


def add_columns_option(parser: argparse.ArgumentParser) -> None:
    """``--columns``: the export's own column names for the columns the tool reads."""
    parser.add_argument("--columns", metavar="NAME=THEIRS,…",
                        help="which of the file's columns holds each column the tool reads, e.g. "
                             "customer_id=cust,date=order_date,amount=total (the file may be CSV or Parquet)")


def set_command(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int], *modules: str) -> None:
    """The function that runs the command, and the modules it loads (each command imports its libraries itself,
    so ``--help`` loads none of them). ``main`` imports ``modules`` before the command begins, while a Ctrl-C
    still leaves at once: a KeyboardInterrupt raised inside a library's import can be swallowed by its own
    bare ``except:``."""
    parser.set_defaults(func=run, modules=modules)


def add_debug_option(parser: argparse.ArgumentParser) -> None:
    """``--debug`` after the command as well as before it (``clientele report … --debug``)."""
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
