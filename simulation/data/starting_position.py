"""Today's book before any strategy acts: who loses money, how much, and which costs make the losses.

Read off a model at month 0 through its public columns, so the figures are the engine's own
(the same profit that ranks the segments), not a second calculation. The population is drawn
once per run, so the table is the same for every strategy and replication: it is written once
per results folder (``starting_position.parquet``), one row per value segment.

Cost to serve splits into the seeds' four drivers: cost of goods, account management (sales and
marketing), service contacts × the channel's cost per contact, and the carrying cost of late
payment. Amounts are currency per month at today's rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.book.population import Population
from simulation.core.segments import SEGMENT_LABELS
from simulation.scenario.spec import Scenario
from simulation.scenario.strategy import StrategySpec

COST_DRIVERS = {  # column → what the report calls it
    "cost_of_goods": "cost of goods",
    "account_management": "account management",
    "service_contacts": "service contacts",
    "late_payment": "late payment",
}


def starting_position(scenario: Scenario, population: Population, seed: int) -> pd.DataFrame:
    """One row per value segment at month 0: customers, loss-makers, revenue, each cost driver, profit —
    and the loss-making customers' own revenue and cost drivers (``…_of_loss_making``)."""
    from simulation.model.engine import CustomerModel  # the engine imports the scenario's modules; keep this module light

    model = CustomerModel(scenario, population, "today", StrategySpec(), seed, 0)
    c = model.customers
    revenue = c.revenue * c.price
    frame = pd.DataFrame({
        "segment": c.segment.astype(int),
        "customers": 1,
        "revenue": revenue,
        "cost_of_goods": c.revenue * c.cost_of_goods_share,
        "account_management": c.account_management.copy(),
        "service_contacts": c.contacts * c.contact_cost,
        "late_payment": revenue * c.late_factor,
        "profit": c.last_profit.copy(),
    })
    losing = frame["profit"] < 0
    frame["loss_making"] = losing.astype(int)
    frame["loss"] = np.minimum(frame["profit"], 0.0)
    for column in ("revenue", *COST_DRIVERS):  # the loss-makers' own revenue and costs: where the losses come from
        frame[f"{column}_of_loss_making"] = np.where(losing, frame[column], 0.0)
    table = frame.groupby("segment", sort=True).sum().reset_index()
    table["segment_label"] = [SEGMENT_LABELS[segment - 1] for segment in table["segment"]]
    columns = ["segment", "segment_label", "customers", "loss_making", "revenue", *COST_DRIVERS, "profit", "loss",
               *(f"{column}_of_loss_making" for column in ("revenue", *COST_DRIVERS))]
    weight = scenario.sample_weight  # a sample's customers each stand for this many of the book's
    if weight != 1.0:
        for column in columns[2:]:
            scaled = table[column] * weight
            table[column] = scaled.round().astype(int) if column in ("customers", "loss_making") else scaled
    return table[columns]
