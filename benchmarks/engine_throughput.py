"""Engine throughput: customer-months per second, against two references measured in the same run.

  (a) a bare numpy churn loop over the same arrays (the floor: draw, compare, accumulate);
  (b) a naive SimPy model with one generator process per customer (what DESIGN.md rules out);
  (c) the full engine, baseline strategy (retain_all), and again with the ladder and word of mouth.

Also reports peak memory of a 1 M-customer run in a child process. All on one core.
Run: ``make bench`` or ``.venv/bin/python benchmarks/engine_throughput.py [--customers N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulation.engine import CustomerModel  # noqa: E402
from simulation.experiment import PopulationSource  # noqa: E402
from simulation.population import monthly_profit  # noqa: E402
from simulation.scenario import load_scenario  # noqa: E402

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "retail_bank.yaml"
MONTHS = 36


def scaled_scenario(customers: int, overrides: tuple[str, ...] = ()):
    """The bundled scenario scaled up: market and call centre grow with the customer count."""
    factor = customers / 20_000
    return load_scenario(
        SCENARIO,
        [f"population.customers={customers}", f"market.size={int(400_000 * factor)}",
         f"capacity.agents={max(1, int(20 * factor))}", "horizon_quarters=12", *overrides],
    )


def bare_numpy_loop(churn: np.ndarray, margin: np.ndarray, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    active = np.ones(len(churn), dtype=bool)
    total = 0.0
    for _ in range(MONTHS):
        active &= rng.random(len(churn)) >= churn
        total += float(np.dot(margin, active))
    return total


def naive_simpy(churn: np.ndarray, margin: np.ndarray, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    totals = [0.0]

    def customer(index: int):
        for _ in range(MONTHS):
            yield env.timeout(1)
            if rng.random() < churn[index]:
                return
            totals[0] += margin[index]

    for index in range(len(churn)):
        env.process(customer(index))
    env.run()
    return totals[0]


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def engine_run(scenario, population, strategy: str) -> float:
    model = CustomerModel(scenario, population, strategy, scenario.strategies[strategy], 1, 0)
    return timed(model.run)


def peak_memory_child(customers: int) -> dict:
    code = (
        "import json, resource, sys; sys.path.insert(0, %r);"
        "from benchmarks.engine_throughput import scaled_scenario, engine_run;"
        "from simulation.experiment import PopulationSource;"
        "s = scaled_scenario(%d); p = PopulationSource().load(s, 1);"
        "seconds = engine_run(s, p, 'retain_all');"
        "print(json.dumps({'seconds': seconds, 'peak_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    ) % (str(Path(__file__).resolve().parent.parent), customers)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--naive-customers", type=int, default=10_000,
                        help="the per-process SimPy reference is slow; its rate is measured on fewer customers")
    parser.add_argument("--memory-customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    scenario = scaled_scenario(args.customers)
    population = PopulationSource().load(scenario, 1)
    rng = np.random.default_rng(2)
    churn = rng.beta(scenario.churn.beta_alpha, scenario.churn.beta_beta, len(population))
    margin = monthly_profit(population, scenario)
    customer_months = args.customers * MONTHS

    rows = []
    bare = min(timed(bare_numpy_loop, churn, margin) for _ in range(args.repeats))
    rows.append(("(a) bare numpy churn loop", customer_months / bare))
    naive_n = args.naive_customers
    naive = timed(naive_simpy, churn[:naive_n], margin[:naive_n])
    rows.append((f"(b) SimPy process per customer ({naive_n:,})", naive_n * MONTHS / naive))
    baseline = min(engine_run(scenario, population, "retain_all") for _ in range(args.repeats))
    rows.append(("(c) engine, retain_all", customer_months / baseline))
    ladder = min(engine_run(scenario, population, "ladder") for _ in range(args.repeats))
    rows.append(("(c) engine, ladder + word of mouth", customer_months / ladder))

    engine_rate = customer_months / baseline
    print(f"{args.customers:,} customers × {MONTHS} months, one core, best of {args.repeats}\n")
    print(f"| {'model':<40} | {'customer-months/s':>18} | {'engine ÷ this':>13} |")
    print(f"|{'-' * 42}|{'-' * 20}|{'-' * 15}|")
    for name, rate in rows:
        print(f"| {name:<40} | {rate / 1e6:>16.2f} M | {engine_rate / rate:>13.2f} |")
    print()
    print(f"engine is {customer_months / bare / engine_rate:.1f}× slower than the bare loop (target ≤ 10×)")
    print(f"engine is {engine_rate / rows[1][1]:.0f}× faster than one process per customer (target ≥ 50×)")
    print(f"ladder + word of mouth runs at {baseline / ladder:.2f}× the baseline's throughput (target ≥ 0.5×)")
    if args.memory_customers:
        memory = peak_memory_child(args.memory_customers)
        print(f"{args.memory_customers:,} customers × {MONTHS} months: peak memory {memory['peak_mib']:.0f} MiB "
              f"(target < 1024 MiB), {memory['seconds']:.1f} s")
    print(f"(this process peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
