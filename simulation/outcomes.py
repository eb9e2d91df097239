"""What a run reports each quarter: the tidy rows of the results, segment and Lorenz tables.

Each outcome column is computed here from the model's state at quarter end and the flows it
counted during the quarter (``QUARTER_FLOWS``). To add an outcome: add its key to the record
below (and to ``QUARTER_FLOWS`` if the model counts it as it happens), and a line to the README's
outcome table.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from .concentration import concentration_measures, lorenz_curve
from .periods import quarter_label
from .population import SEGMENT_LABELS
from .scenario import SEGMENT_COUNT
from .state import ACTIVE
from .valuation import LIFETIME_MONTHS, lifetime_values

if TYPE_CHECKING:  # pragma: no cover
    from .engine import CustomerModel

# Counted by the model as things happen, reset every quarter.
QUARTER_FLOWS = (
    "revenue", "cost", "billed", "acquired", "churned", "divested", "migrated", "partner_lost", "partner_fees",
    "wom_reach", "lost_acquisitions",
)


def customer_values(
    model: "CustomerModel", rows: np.ndarray, retention: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Lifetime value of the customers at ``rows``, plain and with the option to abandon.

    From their economics today; ``retention`` defaults to one minus this month's hazard.
    """
    v = model.state.v
    return lifetime_values(
        scaling_margin=v.revenue.take(rows) * v.profit_rate.take(rows),
        fixed_cost=v.fixed_cost.take(rows),
        monthly_growth=v.growth_factor.take(rows) - 1.0,
        retention=1.0 - v.hazard.take(rows) if retention is None else retention,
        monthly_discount_rate=model.monthly_discount,
        lifetime_months=LIFETIME_MONTHS,
    )


def record_quarter(model: "CustomerModel", month: int) -> None:
    """Append the quarter ending with ``month`` to the model's output tables."""
    sc = model.scenario
    v = model.state.v
    q = model.q
    quarter = (month + 1) // 3
    active = v.status == ACTIVE
    # On the books for at least a month of the quarter: a customer leaving in month m had no
    # accounts in m (churn and exits come before the books).
    seen = active | (v.exit_month > month - 2)
    contributions = v.quarter_profit[seen]
    active_count = model.active_count
    plain, with_option = customer_values(model, np.flatnonzero(active))
    competitors = max(0, sc.market.size - active_count)
    market_revenue = q["billed"] + competitors * model.market_mean_revenue * 3
    period_end = model.month_starts[month + 1] - dt.timedelta(days=1)
    record: dict[str, Any] = {
        "strategy": model.strategy_name,
        "replication": model.replication,
        "quarter": quarter,
        "quarter_label": quarter_label(model.month_starts[month - 2]),
        "period_end": period_end.isoformat(),
        "revenue": q["revenue"],
        "cost": q["cost"],
        "profit": q["revenue"] - q["cost"],
        "cumulative_profit": model.cumulative_profit,
        "npv": model.npv,
        "customer_equity": float(plain.sum()),
        "active_customers": active_count,
        "acquired": int(q["acquired"]),
        "churned": int(q["churned"]),
        "divested": int(q["divested"]),
        "migrated": int(q["migrated"]),
        "partner_customers": len(model.partner_rows),
        "partner_lost": int(q["partner_lost"]),
        "partner_fees": q["partner_fees"],
        "market_share": active_count / sc.market.size,
        "revenue_market_share": q["billed"] / market_revenue if market_revenue > 0 else float("nan"),
        "reputation": model.reputation,
        "wom_reach": int(q["wom_reach"]),
        "lost_acquisitions": q["lost_acquisitions"],
        **concentration_measures(contributions),
        "option_value": float((with_option - plain).sum()),
        "option_turns_positive": int(((plain < 0) & (with_option > 0)).sum()),
        "satisfaction": float(np.dot(v.satisfaction, active.astype(float))) / active_count
        if active_count else float("nan"),
        "morale": model.morale,
        "wait_minutes": model.wait_minutes,
    }
    model.output.quarters.append(record)
    model.output.segments.extend(segment_records(model, quarter, seen))
    if quarter == sc.horizon_quarters:
        model.output.lorenz.extend(lorenz_records(model, contributions))


def segment_records(model: "CustomerModel", quarter: int, seen: np.ndarray) -> list[dict[str, Any]]:
    """Customers, revenue, cost and profit of the quarter per value segment (seed 004)."""
    v = model.state.v
    segment = np.where(seen, v.segment, 0).astype(np.intp)  # 0 collects customers not on the books this quarter
    bins = SEGMENT_COUNT + 1
    counts = np.bincount(segment, minlength=bins)
    revenue = np.bincount(segment, weights=v.quarter_revenue, minlength=bins)
    profit = np.bincount(segment, weights=v.quarter_profit, minlength=bins)
    return [
        {
            "strategy": model.strategy_name,
            "replication": model.replication,
            "quarter": quarter,
            "segment": index,
            "segment_label": SEGMENT_LABELS[index - 1],
            "customers": int(counts[index]),
            "revenue": float(revenue[index]),
            "cost": float(revenue[index] - profit[index]),
            "profit": float(profit[index]),
        }
        for index in range(1, bins)
    ]


def lorenz_records(model: "CustomerModel", contributions: np.ndarray) -> list[dict[str, Any]]:
    """The Lorenz curve of customer profit in the last quarter, at 51 points."""
    share, cumulative = lorenz_curve(contributions, points=51)
    return [
        {
            "strategy": model.strategy_name,
            "replication": model.replication,
            "customer_share": float(customer_share),
            "profit_share": float(profit_share),
        }
        for customer_share, profit_share in zip(share, cumulative, strict=True)
    ]
