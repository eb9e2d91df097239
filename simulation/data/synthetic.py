"""The synthetic customer population, drawn from the scenario when no company data is given.

Heavy-tailed revenue and gamma-distributed contact rates, so that with the bundled scenario about
95 % of profit comes from the top 10 % of customers while a real share of customers lose money
(Goonan, "Departments Work Together When They Have Real Numbers To Work With", Inforte, undated);
medium spenders refer most ("What's the best way to manage unprofitable customers?", undated).
"""

from __future__ import annotations

import numpy as np

from simulation.book.population import Population
from simulation.scenario.spec import Scenario


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
    # Medium spenders refer most ("What's the best way to manage unprofitable customers?"): weight peaks at the median revenue rank.
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
