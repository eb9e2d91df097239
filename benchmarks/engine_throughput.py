"""Engine throughput: customer-months per second, against two references measured in the same run.

  (a) a bare numpy churn loop over the same arrays (the floor: draw, compare, accumulate);
  (b) a naive SimPy model with one generator process per customer (what the design rules out: too slow);
  (c) the full engine, quarterly outcomes included: the baseline strategy (retain_all), and the
      divestment ladder with word of mouth.

Also: the cost per customer-month from 10,000 to 1,000,000 customers (is it flat?), and the
peak memory of a 1,000,000-customer run, each size in a child process of its own. All on one
core (BLAS limited to one thread). Best of ``--repeats``; the references are timed between the
engine's runs so that a busy machine slows all of them alike.

Run: ``make bench`` or ``.venv/bin/python benchmarks/engine_throughput.py [--json]``; ``--json``
prints one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulation.model import kernels  # noqa: E402
from simulation.model.engine import CustomerModel  # noqa: E402
from simulation.runs.experiment import PopulationSource  # noqa: E402
from simulation.scenario.spec import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "retail_bank.yaml"
MONTHS = 36


def scaled_scenario(customers: int):
    """The bundled scenario scaled: market and call centre grow with the customer count."""
    factor = customers / 20_000
    return load_scenario(
        SCENARIO,
        [f"population.customers={customers}", f"market.size={int(400_000 * factor)}",
         f"capacity.agents={max(1, int(20 * factor))}", "horizon_quarters=12"],
    )


def starting_margin(population, scenario) -> np.ndarray:
    """Monthly profit of each customer at the start: revenue less every cost to serve."""
    per_contact = np.array([scenario.channels[name].cost_per_contact for name in population.channel_names])
    late = population.revenue * scenario.economics.cost_of_capital * population.days_late / 365.0
    return (population.revenue - population.cost_of_goods - population.account_management
            - population.contacts * per_contact[population.channel] - late)


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


# The child's own peak: Linux keeps ru_maxrss across execve, so a child started by a large parent would report the
# parent's peak (576 MiB at 10,000 customers, measured); VmHWM belongs to the new address space.
PEAK_MIB = ("(next((int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM')), 0) "
            "if sys.platform == 'linux' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024")


def child_measurement(customers: int, repeats: int) -> dict:
    """Seconds per run (best of ``repeats``) and peak memory of an engine run in a fresh process."""
    code = (
        "import json, resource, sys; sys.path.insert(0, %r);"
        "from benchmarks.engine_throughput import scaled_scenario, engine_run;"
        "from simulation.runs.experiment import PopulationSource;"
        "s = scaled_scenario(%d); p = PopulationSource().load(s, 1);"
        "seconds = min(engine_run(s, p, 'retain_all') for _ in range(%d));"
        "print(json.dumps({'seconds': seconds, 'peak_mib': %s}))"
    ) % (str(ROOT), customers, repeats, PEAK_MIB)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--naive-customers", type=int, default=10_000,
                        help="the per-process SimPy reference is slow; its rate is measured on fewer customers")
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="customer counts for the cost curve (the largest also gives peak memory)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()

    scenario = scaled_scenario(args.customers)
    population = PopulationSource().load(scenario, 1)
    rng = np.random.default_rng(2)
    churn = rng.beta(scenario.churn.beta_alpha, scenario.churn.beta_beta, len(population))
    margin = starting_margin(population, scenario)
    customer_months = args.customers * MONTHS

    bare, baseline, ladder, reference = [], [], [], []
    engine_run(scenario, population, "retain_all")  # warm caches and compile the kernels
    for _ in range(args.repeats):
        bare.append(timed(bare_numpy_loop, churn, margin))
        baseline.append(engine_run(scenario, population, "retain_all"))
        ladder.append(engine_run(scenario, population, "ladder"))
        with kernels.use("numpy"):
            reference.append(engine_run(scenario, population, "retain_all"))
    naive_n = args.naive_customers
    naive = min(timed(naive_simpy, churn[:naive_n], margin[:naive_n]) for _ in range(2))
    rates = {
        "bare_numpy_customer_months_per_s": customer_months / min(bare),
        "per_customer_simpy_customer_months_per_s": naive_n * MONTHS / naive,
        "engine_customer_months_per_s": customer_months / min(baseline),
        "ladder_customer_months_per_s": customer_months / min(ladder),
        "numpy_kernels_customer_months_per_s": customer_months / min(reference),
    }
    sizes = [int(size) for size in args.sizes.split(",") if size]
    curve = {size: child_measurement(size, 1 if size >= 1_000_000 else 3) for size in sizes}
    result = {
        "customers": args.customers, "months": MONTHS, "repeats": args.repeats, **rates,
        "engine_slower_than_bare_numpy": rates["bare_numpy_customer_months_per_s"] / rates["engine_customer_months_per_s"],
        "engine_faster_than_per_customer_simpy": (rates["engine_customer_months_per_s"]
                                                  / rates["per_customer_simpy_customer_months_per_s"]),
        "ladder_throughput_vs_baseline": rates["ladder_customer_months_per_s"] / rates["engine_customer_months_per_s"],
        "ns_per_customer_month_by_customers": {str(size): m["seconds"] / (size * MONTHS) * 1e9 for size, m in curve.items()},
        "peak_memory_mib_by_customers": {str(size): m["peak_mib"] for size, m in curve.items()},
        "peak_memory_mib_1m_customers": curve[1_000_000]["peak_mib"] if 1_000_000 in curve else None,
    }

    print(f"{args.customers:,} customers × {MONTHS} months, one core, best of {args.repeats}\n")
    print(f"| {'model':<40} | {'customer-months/s':>18} | {'engine ÷ this':>13} |")
    print(f"|{'-' * 42}|{'-' * 20}|{'-' * 15}|")
    engine_rate = rates["engine_customer_months_per_s"]
    for name, key in (("(a) bare numpy churn loop", "bare_numpy_customer_months_per_s"),
                      (f"(b) SimPy process per customer ({naive_n:,})", "per_customer_simpy_customer_months_per_s"),
                      ("(c) engine, retain_all", "engine_customer_months_per_s"),
                      ("(c) engine, ladder + word of mouth", "ladder_customer_months_per_s"),
                      ("(c) engine, retain_all, numpy kernels", "numpy_kernels_customer_months_per_s")):
        print(f"| {name:<40} | {rates[key] / 1e6:>16.2f} M | {engine_rate / rates[key]:>13.2f} |")
    print()
    print(f"engine is {result['engine_slower_than_bare_numpy']:.1f}× slower than the bare loop (target ≤ 10×)")
    print(f"engine is {result['engine_faster_than_per_customer_simpy']:.0f}× faster than one process per customer "
          "(target ≥ 50×)")
    print(f"ladder + word of mouth runs at {result['ladder_throughput_vs_baseline']:.2f}× the baseline's throughput "
          "(target ≥ 0.5×)")
    print("\n| customers | ns per customer-month | peak memory |\n|---:|---:|---:|")
    for size, measured in curve.items():
        print(f"| {size:,} | {measured['seconds'] / (size * MONTHS) * 1e9:.1f} | {measured['peak_mib']:.0f} MiB |")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
