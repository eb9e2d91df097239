"""Plain, slow second implementations the tests check the engine against.

The engine computes these from cached columns in one pass; here they are written the textbook
way, straight from a population or a list of profits, so that a disagreement means a bug.
"""

from __future__ import annotations

import numpy as np

from simulation.book.population import Population
from simulation.core.segments import SEGMENT_COUNT, SEGMENT_TOP_SHARES
from simulation.scenario.spec import Scenario


def cost_to_serve(population: Population, scenario: Scenario) -> np.ndarray:
    """Monthly cost to serve: cost of goods + account management + contacts × cost per contact + late payment."""
    per_contact = np.array([scenario.channels[name].cost_per_contact for name in population.channel_names])
    return (
        population.cost_of_goods
        + population.account_management
        + population.contacts * per_contact[population.channel]
        + population.revenue * scenario.economics.cost_of_capital * population.days_late / 365.0
    )


def monthly_profit(population: Population, scenario: Scenario) -> np.ndarray:
    return population.revenue - cost_to_serve(population, scenario)


def assign_segments(profit: np.ndarray) -> np.ndarray:
    """Eight value-based segments by profit rank: 1 = top 1 % … 8 = bottom 10 % (Goonan, Inforte, undated)."""
    n = len(profit)
    segment = np.full(n, SEGMENT_COUNT, dtype=np.int8)
    order = np.argsort(-profit, kind="stable")
    rank_share = np.empty(n)
    rank_share[order] = (np.arange(n) + 0.5) / n
    for index, top_share in reversed(list(enumerate(SEGMENT_TOP_SHARES, start=1))):
        segment[rank_share < top_share] = index
    return segment


def net_top_profit_share(profit: np.ndarray, share: float = 0.10) -> float:
    """Share of total *net* profit earned by the top ``share`` of customers (the seeds' 95 % figure)."""
    n = len(profit)
    k = max(1, int(round(share * n)))
    return float(np.sort(profit)[n - k:].sum() / profit.sum())


def profitable(profit: np.ndarray) -> np.ndarray:
    return np.sort(profit[profit > 0])


def top_positive_share(profit: np.ndarray, share: float) -> float:
    """Share of profitable customers' profit earned by the top ``share`` of them."""
    positive = profitable(profit)
    k = max(1, int(round(share * len(positive))))
    return float(positive[len(positive) - k:].sum() / positive.sum())


def herfindahl(profit: np.ndarray) -> float:
    positive = profitable(profit)
    return float(((positive / positive.sum()) ** 2).sum())


def gini(profit: np.ndarray) -> float:
    """Gini of profitable customers' profit, as the mean absolute difference over twice the mean."""
    positive = profitable(profit)
    differences = np.abs(positive[:, None] - positive[None, :]).sum()
    return float(differences / (2.0 * len(positive) ** 2 * positive.mean()))


def top_customers_loss(profit: np.ndarray, share: float = 0.01) -> float:
    positive = profitable(profit)
    k = max(1, int(round(share * len(positive))))
    return float(positive[len(positive) - k:].sum())
