"""Options that reached no one: which step's target matched nobody, and how near today's book came.

A strategy whose steps reached no customer in any replication is no option for a board: it only
repeats keeping everyone under another name. The run records it, and says, step by step, which
condition of the target no customer of today's book meets and the nearest value any customer has
(the lowest monthly profit against a profit ceiling, the most contacts against a floor). Read off
a model at month 0 through its public columns, as the starting position is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.book.population import Population
from simulation.scenario.spec import Scenario
from simulation.scenario.strategy import StrategySpec


def unreached(quarters: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Strategies with steps whose ``treated`` outcome is zero in every replication and quarter."""
    if "treated" not in quarters:
        return []
    reached = quarters.groupby("strategy", sort=False)["treated"].sum()
    return [str(name) for name, total in reached.items()
            if total <= 0 and name in scenario.strategies and scenario.strategies[name].steps]


def why_unreached(scenario: Scenario, population: Population, seed: int, strategy: str, replications: int) -> str:
    """One warning line: the strategy reached no one, and per step what of its target today's book does not meet."""
    from simulation.model.engine import CustomerModel  # the engine imports the scenario's modules; keep this module light

    customers = CustomerModel(scenario, population, "today", StrategySpec(), seed, 0).customers
    profit, contacts = np.asarray(customers.last_profit), np.asarray(customers.contacts)
    parts = []
    for number, step in enumerate(scenario.strategies[strategy].steps, start=1):
        target, found = step.target, []
        if target.max_monthly_profit is not None and not (profit < target.max_monthly_profit).any():
            lowest = float(profit.min()) if len(profit) else float("nan")
            found.append(f"monthly profit below {target.max_monthly_profit:,.2f} (the lowest today is {lowest:,.2f})")
        if target.min_contacts is not None and not (contacts >= target.min_contacts).any():
            most = float(contacts.max()) if len(contacts) else float("nan")
            found.append(f"at least {target.min_contacts:g} contacts a month (the most today is {most:.2f})")
        if target.channels is not None:
            served = [name for name in target.channels if name in population.channel_names]
            codes = [population.channel_names.index(name) for name in served]
            if not np.isin(np.asarray(customers.channel), codes).any():
                found.append(f"served in {', '.join(target.channels)} (no customer is today)")
        parts.append(f"step {number} ({step.action}): " + ("; ".join(found) if found else
                                                          "its target matches customers today, but none "
                                                          "still qualified when the step's review came"))
    return (f"strategy '{strategy}' reached no customer in any of {replications} simulated futures, so the report "
            f"does not offer it as a choice — " + " | ".join(parts))
