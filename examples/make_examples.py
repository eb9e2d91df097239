"""Regenerate the example data files from known parameters (seeded: the same files every time).

``transactions.csv`` — an online retailer's log, two years to 2026-09-30: customers arrive
throughout, buy as the BG/NBD model says (per week: r 0.4, α 8, a 0.8, b 3) and spend as
Gamma-Gamma (p 6, q 4, v 15: EUR 30 a purchase on average). Calibrate it with
``clientele calibrate --transactions examples/transactions.csv --calibration-end 2026-06-30``:
the fitted parameters should come back near these.

``subscriptions.csv`` — a subscription business's ledger: 800 monthly contracts started over three
years, each customer leaving at a monthly renewal with their own θ ~ Beta(0.8, 8) (sBG); an
``end_date`` for those who left, blank for those still here, and a monthly revenue.

    python examples/make_examples.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from simulation.data.calibration.synthetic import draw_contracts, draw_log

HERE = Path(__file__).resolve().parent
SEED = 20261001


def main() -> None:
    rng = np.random.default_rng(SEED)
    log = draw_log(rng, 2000, {"r": 0.4, "alpha": 8.0, "a": 0.8, "b": 3.0}, {"p": 6.0, "q": 4.0, "v": 15.0},
                   dt.date(2024, 10, 1), 700, dt.date(2026, 9, 30), "week")
    log.to_csv(HERE / "transactions.csv", index=False)
    contracts = draw_contracts(rng, 800, 0.8, 8.0, dt.date(2023, 10, 1), 36, dt.date(2026, 9, 30))
    contracts["revenue"] = np.round(25.0 * np.exp(0.6 * rng.standard_normal(len(contracts))), 2)  # EUR per month
    contracts["channel"] = np.where(rng.random(len(contracts)) < 0.8, "online", "call_centre")
    contracts.to_csv(HERE / "subscriptions.csv", index=False)


if __name__ == "__main__":
    main()
