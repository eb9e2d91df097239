"""Customer populations as columns of numpy arrays: synthetic, or built from a company's own data.

A ``Population`` is the company's customers at the start: what each one brings in and costs
to serve. Cost to serve = cost of goods + account management + contacts × the channel's cost
per contact + the carrying cost of late payment (seeds 000, 002, 004). The synthetic generator
is heavy-tailed so that, with the bundled scenario, about 95 % of profit comes from the top 10 %
of customers while a real share of customers lose money.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .scenario import SEGMENT_COUNT, Scenario

# Segment boundaries as shares of customers counted from the most profitable (S1) down.
SEGMENT_TOP_SHARES = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90)
SEGMENT_LABELS = (
    "S1 top 1 %",
    "S2 1–5 %",
    "S3 5–10 %",
    "S4 10–25 %",
    "S5 25–50 %",
    "S6 50–75 %",
    "S7 75–90 %",
    "S8 bottom 10 %",
)
assert len(SEGMENT_LABELS) == SEGMENT_COUNT


@dataclass(frozen=True)
class Population:
    """One row per customer; amounts are currency per month, contacts are per month."""

    customer_id: np.ndarray  # str or int identifiers, as in the source data
    revenue: np.ndarray
    cost_of_goods: np.ndarray
    account_management: np.ndarray
    contacts: np.ndarray
    channel: np.ndarray  # int16 index into channel_names
    days_late: np.ndarray
    growth: np.ndarray  # expected revenue growth, fraction per year (potential value)
    referrals_per_year: np.ndarray  # new customers referred per year (referral value)
    contract_end: np.ndarray  # int32, months from start at which the current contract ends
    channel_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.revenue)

    def take(self, rows: np.ndarray) -> "Population":
        """The customers at ``rows`` (used to bootstrap new customers from the existing mix)."""
        values = {name: getattr(self, name).take(rows) for name in _COLUMN_NAMES}
        return Population(**values, channel_names=self.channel_names)


_COLUMN_NAMES = tuple(f.name for f in fields(Population) if f.name != "channel_names")


def cost_per_contact(scenario: Scenario, channel_names: tuple[str, ...]) -> np.ndarray:
    return np.array([scenario.channels[name].cost_per_contact for name in channel_names])


def staffed_channels(scenario: Scenario, channel_names: tuple[str, ...]) -> np.ndarray:
    return np.array([scenario.channels[name].staffed for name in channel_names])


def carrying_cost(revenue: np.ndarray, days_late: np.ndarray, cost_of_capital: float) -> np.ndarray:
    """Monthly cost of financing late payments: revenue × annual rate × days late / 365."""
    return revenue * cost_of_capital * days_late / 365.0


def cost_to_serve(population: Population, scenario: Scenario, contacts: np.ndarray | None = None,
                  channel: np.ndarray | None = None) -> np.ndarray:
    """Monthly cost to serve each customer; ``contacts``/``channel`` override the population's."""
    contacts = population.contacts if contacts is None else contacts
    channel = population.channel if channel is None else channel
    per_contact = cost_per_contact(scenario, population.channel_names)
    return (
        population.cost_of_goods
        + population.account_management
        + contacts * per_contact[channel]
        + carrying_cost(population.revenue, population.days_late, scenario.economics.cost_of_capital)
    )


def monthly_profit(population: Population, scenario: Scenario) -> np.ndarray:
    return population.revenue - cost_to_serve(population, scenario)


def assign_segments(profit: np.ndarray) -> np.ndarray:
    """Eight value-based segments by profit rank: 1 = top 1 % … 8 = bottom 10 % (seed 004)."""
    n = len(profit)
    segment = np.full(n, SEGMENT_COUNT, dtype=np.int8)
    if n == 0:
        return segment
    order = np.argsort(-profit, kind="stable")
    rank_share = np.empty(n)
    rank_share[order] = (np.arange(n) + 0.5) / n
    for index, top_share in reversed(list(enumerate(SEGMENT_TOP_SHARES, start=1))):
        segment[rank_share < top_share] = index
    return segment


def synthetic_population(scenario: Scenario, rng: np.random.Generator) -> Population:
    """Draw the scenario's synthetic customers: heavy-tailed revenue, contacts that make some lose money."""
    spec = scenario.population
    n = spec.customers
    revenue = spec.revenue_median * np.exp(spec.revenue_sigma * rng.standard_normal(n))
    # Contact rates: gamma-distributed (a few customers call very often), mildly rising with revenue.
    scale = (revenue / spec.revenue_median) ** spec.contacts_revenue_elasticity
    propensity = rng.gamma(spec.contacts_shape, 1.0 / spec.contacts_shape, n) * scale
    mean_propensity = propensity.mean() if n and propensity.mean() > 0 else 1.0
    contacts = spec.contacts_mean * propensity / mean_propensity
    channel_names = tuple(scenario.channels)  # every defined channel, so customers can migrate
    mix = np.array([spec.channel_mix.get(name, 0.0) for name in channel_names])
    channel = rng.choice(len(channel_names), size=n, p=mix / mix.sum()).astype(np.int16)
    late = rng.random(n) < spec.late_payment_share
    days_late = np.where(late, rng.exponential(spec.days_late_mean, n), 0.0) if spec.days_late_mean > 0 else np.zeros(n)
    growth = spec.growth_mean + spec.growth_sd * rng.standard_normal(n)
    # Medium spenders refer most (seed 002): weight peaks at the median revenue rank.
    revenue_rank = (np.argsort(np.argsort(revenue)) + 0.5) / max(n, 1)
    referral_weight = 4.0 * revenue_rank * (1.0 - revenue_rank)
    referral_weight /= referral_weight.mean() if n and referral_weight.mean() > 0 else 1.0
    referrals = spec.referrals_per_year * referral_weight * rng.gamma(2.0, 0.5, n)
    contract_end = rng.integers(1, spec.contract_term_months + 1, n).astype(np.int32)
    return Population(
        customer_id=np.arange(1, n + 1),
        revenue=revenue,
        cost_of_goods=spec.cost_of_goods_share * revenue,
        account_management=np.full(n, spec.account_management),
        contacts=contacts,
        channel=channel,
        days_late=days_late,
        growth=growth,
        referrals_per_year=referrals,
        contract_end=contract_end,
        channel_names=channel_names,
    )
