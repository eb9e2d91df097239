"""What drawing today's customers from their posterior costs a run.

A log of 50,000 customers drawn from CDNOW's published parameters (Fader, Hardie & Lee 2005) is
calibrated once (not timed); then the retailer scenario's five strategies run over 12 quarters,
one process, in three ways, each best of ``--repeats``:
  (a) the reference: one fixed book (replication 0's draw) in every replication, purchases not
      counted — what a run did before customers were drawn from their posterior;
  (b) the posterior book: every replication draws who is on the book, each customer's purchase
      rate, dropout and spend, and the models' parameters (``calibration.posterior``);
  (c) (b) with each month's purchases and amounts drawn (the ``purchases`` outcome and the trace).
The figures are ratios against (a) measured in the same run: the target is (c) ≤ 1.10.

Run: ``.venv/bin/python benchmarks/posterior_overhead.py [--json]``; ``--json`` prints one JSON
object on the last line.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulation.data.calibration.synthetic import draw_log  # noqa: E402
from simulation.data.sources import PopulationSource, start_run  # noqa: E402
from simulation.runs.experiment import select_strategies, simulate  # noqa: E402
from simulation.scenario.spec import load_scenario  # noqa: E402

CDNOW_PURCHASING = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # per week
CDNOW_SPENDING = {"p": 6.25, "q": 3.74, "v": 15.44}
CUSTOMERS, REPLICATIONS, SEED = 50_000, 4, 11


class WithoutPurchases:
    """The posterior book with purchase counting off: each replication's draw, no purchase rates."""

    def __init__(self, book):
        self.book = book

    def for_replication(self, seed: int, replication: int):
        return dataclasses.replace(self.book.for_replication(seed, replication), purchases_per_month=None)


def best(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "retailer.yaml", ["market.acquisition_rate=0.0005"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        draw_log(np.random.default_rng(3), CUSTOMERS, CDNOW_PURCHASING, CDNOW_SPENDING, dt.date(1997, 1, 1), 84,
                 dt.date(1998, 6, 30)).to_csv(path, index=False)
        start = start_run(scenario, PopulationSource("transactions", path), SEED)
    strategies = select_strategies(start.scenario, None)
    fixed = dataclasses.replace(start.today, purchases_per_month=None)

    def run(book) -> None:
        simulate(start.scenario, book, strategies, REPLICATIONS, SEED, workers=1)

    run(fixed)  # compile the kernels and warm the caches before timing anything
    seconds = {"fixed_book": best(lambda: run(fixed), args.repeats),
               "posterior_book": best(lambda: run(WithoutPurchases(start.book)), args.repeats),
               "posterior_book_and_purchases": best(lambda: run(start.book), args.repeats)}
    result = {"machine": {"cores": os.cpu_count()}, "customers_in_log": CUSTOMERS, "book": len(start.today),
              "replications": REPLICATIONS, "strategies": list(strategies), "quarters": start.scenario.horizon_quarters,
              "seconds": {name: round(value, 3) for name, value in seconds.items()},
              "ratio_to_fixed_book": {name: round(value / seconds["fixed_book"], 3) for name, value in seconds.items()}}
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in seconds.items():
            print(f"{name}: {value:.2f} s ({value / seconds['fixed_book']:.2f}× the fixed book)")


if __name__ == "__main__":
    main()
