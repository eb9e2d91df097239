"""What a run reports each quarter, each outcome declared once.

An ``Outcome`` is a name, a kind, a unit, a one-line meaning and a function from the quarter's
end state (``QuarterEnd``) to a number, with whether more is better and, when a report shows it,
how (``Board``: a row of the board report's trade-offs table; ``Sweep``: an outcome sweeps analyse).
From the ``OUTCOMES`` list come the columns of ``results.parquet``, the across-replication summary
(``summary.py``), the columns the CLI can show, the board's trade-offs table, the outcomes a sweep
analyses and names, and the documentation's outcome reference (generated from this list). A
``DERIVED_OUTCOMES`` entry is computed from the results' columns instead (what the board asks of
them in money). Adding an outcome is adding one declaration here, or in the mechanism it belongs to.

Kinds: a *flow* is counted during the quarter (summed over the horizon in the summary); a
*level* is read at quarter end (the summary takes the horizon's value); a *running* total
accumulates from the start (the summary takes the horizon's value as the run's total).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from simulation.book.outcome_types import (
    COUNTED_UNITS as COUNTED_UNITS,  # re-exported: the reports' one vocabulary of counted units
)
from simulation.book.outcome_types import Board, DerivedOutcome, Outcome, QuarterEnd, Sweep
from simulation.mechanisms import MECHANISMS


def _safe_ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def _revenue_market_share(end: QuarterEnd) -> float:
    competitors = max(0, end.market_size - end.active_customers)
    market_revenue = end.flows.billed + competitors * end.market_mean_revenue * 3
    return _safe_ratio(end.flows.billed, market_revenue)


def _satisfaction(end: QuarterEnd) -> float:
    return _safe_ratio(end.scan.satisfaction, end.active_customers)


CORE_OUTCOMES: list[Outcome] = [
    Outcome("revenue", "flow", "currency", "the quarter's revenue: billed to our customers plus partner fees",
            lambda e: e.flows.revenue,
            better="higher", board=Board(3, "Revenue over the horizon")),
    Outcome("cost", "flow", "currency", "the quarter's cost: cost to serve, acquisition and action costs",
            lambda e: e.flows.cost,
            better="lower"),
    Outcome("profit", "flow", "currency", "revenue − cost", lambda e: e.flows.revenue - e.flows.cost,
            better="higher"),
    Outcome("cumulative_profit", "running", "currency", "profit since the start", lambda e: e.cumulative_profit,
            better="higher", sweep=Sweep(3, "Cumulative profit", "cumulative profit")),
    Outcome("npv", "running", "currency", "profit since the start, discounted monthly at `economics.discount_rate`",
            lambda e: e.npv,
            better="higher", board=Board(1, "Net present value", separates=False, panel="NPV"),
            sweep=Sweep(2, "Expected NPV", "expected NPV")),
    Outcome("customer_equity", "level", "currency",
            "the value of the book left: sum of active customers' lifetime values (120 months, growth, each "
            "customer's own churn hazard, newcomers included; customers told to go, until their contract ends)",
            lambda e: e.scan.equity,
            better="higher"),
    Outcome("npv_plus_book", "running", "currency",
            "npv plus the value of the book left (customer_equity) discounted to today: what an option is worth, "
            "the profit it makes and the customers it leaves; the board report's default objective",
            lambda e: e.npv + e.scan.equity * e.discount_factor,
            better="higher",
            sweep=Sweep(1, "Expected value (NPV plus the book left)", "expected value")),
    Outcome("active_customers", "level", "customers", "customers on our books at quarter end",
            lambda e: e.active_customers,
            better="higher",
            board=Board(4, "Customers at the horizon", separates=False, panel="Customers at the horizon"),
            sweep=Sweep(5, "Customers at the horizon", "customers at the horizon")),
    Outcome("acquired", "flow", "customers", "new customers won (from competitors and by referral)",
            lambda e: e.flows.acquired,
            better="higher"),
    Outcome("todays_customers", "level", "customers",
            "customers on our books at quarter end who were already customers at the start (today's book)",
            lambda e: int(e.scan.start_active[1:].sum())),
    Outcome("newcomers", "level", "customers", "customers on our books at quarter end who joined during the run",
            lambda e: int(e.scan.start_active[0])),
    Outcome("newcomer_share", "level", "share",
            "newcomers ÷ customers on our books: how much of the book rests on customers who do not exist yet "
            "(0 when the book is empty)",
            lambda e: float(e.scan.start_active[0]) / e.active_customers if e.active_customers else 0.0,
            board=Board(6, "Share of them who joined during the horizon", separates=False)),
    Outcome("todays_customers_profit", "flow", "currency",
            "the quarter's profit from today's customers: their revenue − cost to serve (action costs and partner "
            "fees in neither this nor the next)", lambda e: float(e.scan.start_profit[1:].sum())),
    Outcome("newcomers_profit", "flow", "currency",
            "the quarter's profit from newcomers: their revenue − cost to serve − the cost of winning them",
            lambda e: float(e.scan.start_profit[0]) - e.flows.acquisition_cost),
    Outcome("purchases", "flow", "purchases",
            "purchases (purchase days) of the customers on our books, drawn at their fitted purchase rates: customers "
            "from a transaction log and the newcomers drawn like them (0 without a log)", lambda e: e.flows.purchases),
    Outcome("churned", "flow", "customers", "customers who left of their own accord", lambda e: e.flows.churned,
            better="lower"),
    Outcome("divested", "flow", "customers",
            "customers the strategy pushed out, whether they left at contract end or walked away before it",
            lambda e: e.flows.divested,
            board=Board(8, "Customers let go")),
    Outcome("migrated", "flow", "customers", "customers moved to another channel or handed to a partner",
            lambda e: e.flows.migrated_channel + e.flows.migrated_partner),
    Outcome("migrated_channel", "flow", "customers", "customers moved to a cheaper channel (they stay ours)",
            lambda e: e.flows.migrated_channel,
            board=Board(9, "Customers moved online")),
    Outcome("migrated_partner", "flow", "customers", "customers handed to a partner (they leave our books)",
            lambda e: e.flows.migrated_partner,
            board=Board(10, "Customers handed to partners")),
    Outcome("partner_customers", "level", "customers", "customers served by partners at quarter end",
            lambda e: e.partner_customers),
    Outcome("treated", "flow", "customers",
            "customers a strategy step reached: trained, repriced, moved or let go (each step counts once)",
            lambda e: e.flows.treated,
            board=Board(7, "Customers its steps reached (each step counted)", separates=False)),
    Outcome("action_cost", "flow", "currency",
            "one-off cost of the strategy's actions (training, exit payments; included in cost)",
            lambda e: e.flows.action_cost,
            better="lower", board=Board(16, "Cost of carrying it out")),
    Outcome("partner_lost", "flow", "customers", "partner customers who left the partner",
            lambda e: e.flows.partner_lost),
    Outcome("partner_fees", "flow", "currency", "fees partners paid us (included in revenue)",
            lambda e: e.flows.partner_fees,
            better="higher"),
    Outcome("market_share", "level", "share", "our customers ÷ market size",
            lambda e: e.active_customers / e.market_size,
            better="higher", board=Board(5, "Market share at the horizon", panel="Market share"),
            sweep=Sweep(4, "Market share", "market share")),
    Outcome("revenue_market_share", "level", "share",
            "our billed revenue ÷ the market's (competitors' customers at the population's mean revenue)",
            _revenue_market_share,
            better="higher"),
    Outcome("lost_acquisitions", "flow", "customers",
            "expected acquisitions lost to word of mouth: prospects who would not listen, and the reputation gap",
            lambda e: e.flows.lost_acquisitions,
            better="lower"),
    Outcome("top10_positive_profit_share", "level", "share",
            "share of the profitable customers' profit earned by the top 10 % of them; a rise means profit rests "
            "on fewer customers", lambda e: e.concentration["top10_positive_profit_share"]),
    Outcome("hhi", "level", "index",
            "Herfindahl index of profitable customers' profit shares (1/n when even, 1 when one customer earns "
            "it all); a rise means more concentration", lambda e: e.concentration["hhi"],
            scales=-1),  # 1/n: a sample of one customer in w has w times the whole book's
    Outcome("effective_customers", "level", "customers",
            "1 / HHI: how many equal customers would earn the profit as concentrated; a fall means more concentration",
            lambda e: e.concentration["effective_customers"],
            better="higher",
            sweep=Sweep(6, "Effective number of customers", "effective number of customers")),
    Outcome("gini", "level", "index",
            "Gini coefficient of profit among profitable customers (0 even, → 1 one customer); a rise means more "
            "concentration", lambda e: e.concentration["gini"]),
    Outcome("top1_loss", "level", "currency",
            "stress: a quarter's profit at the current rate lost if the top 1 % of profitable customers left",
            lambda e: 3.0 * e.concentration["top1_loss"]),
    Outcome("top1_profit_at_risk", "level", "share",
            "the same as a share of the book's net profit (above 1: losing them makes a loss; empty when the book "
            "makes none); a rise means more risk", lambda e: e.concentration["top1_profit_at_risk"]),
    Outcome("option_value", "level", "currency",
            "the option to abandon (Haenlein, Kaplan & Schoder 2006): value added by letting customers go when "
            "their future margins turn negative", lambda e: e.scan.option_value),
    Outcome("option_turns_positive", "level", "customers",
            "customers whose value turns from negative to positive with the option to abandon",
            lambda e: e.scan.turns_positive),
    Outcome("satisfaction", "level", "index", "mean satisfaction of active customers, 0–1", _satisfaction,
            better="higher", board=Board(13, "Customer satisfaction (0–1)", panel="Satisfaction")),
]

# The results' columns: the core outcomes, then each mechanism's (``mechanisms/``), in their order.
OUTCOMES: list[Outcome] = [*CORE_OUTCOMES, *(o for m in MECHANISMS for o in m.outcomes)]

DERIVED_OUTCOMES: list[DerivedOutcome] = [
    DerivedOutcome("book_left", "level", "currency",
                   "the value of the book left in today's money: npv_plus_book − npv", ("npv_plus_book", "npv"),
                   lambda t: t["npv_plus_book"] - t["npv"], better="higher",
                   board=Board(2, "Value of the book left, today's money", separates=False,
                               panel="Value of the book left")),
    DerivedOutcome("wom_lost_value", "flow", "currency",
                   "what bad stories cost: the acquisitions word of mouth lost each quarter, valued at that quarter's "
                   "average customer value (customer_equity ÷ active_customers)",
                   ("lost_acquisitions", "customer_equity", "active_customers"),
                   lambda t: (t["lost_acquisitions"]
                              * (t["customer_equity"] / t["active_customers"].where(t["active_customers"] > 0))
                              ).fillna(0.0),
                   better="lower", board=Board(12, "What bad stories cost")),
]


def board_outcomes() -> list[Outcome | DerivedOutcome]:
    """The rows of the board report's trade-offs table, in order."""
    declared: list[Outcome | DerivedOutcome] = [*OUTCOMES, *DERIVED_OUTCOMES]
    shown = [o for o in declared if o.board is not None]
    return sorted(shown, key=lambda o: o.board.row if o.board else 0)


def sweep_outcomes() -> list[Outcome]:
    """The outcomes every sweep analyses, in order (recorded ones: a sweep's store holds the results' columns)."""
    analysed = [o for o in OUTCOMES if o.sweep is not None]
    return sorted(analysed, key=lambda o: o.sweep.order if o.sweep else 0)


def outcome(name: str) -> Outcome:
    for declared in OUTCOMES:
        if declared.name == name:
            return declared
    raise KeyError(f"unknown outcome {name!r}; known outcomes: {', '.join(o.name for o in OUTCOMES)}")


def quarter_record(keys: dict[str, Any], end: QuarterEnd) -> dict[str, Any]:
    """One row of ``results.parquet``: the keys, then every declared outcome in declaration order.

    Outcomes are computed from the simulated customers, then, when each stands for ``end.weight`` of the book's,
    scaled to the whole book by their ``weight_power`` (money and counts × weight; ratios as they are).
    """
    record = dict(keys)
    for declared in OUTCOMES:
        value = declared.compute(end)
        record[declared.name] = value if end.weight == 1.0 else value * end.weight ** declared.weight_power
    return record


def record_keys(strategy: str, replication: int, quarter: int, label: str, period_end: dt.date) -> dict[str, Any]:
    return {"strategy": strategy, "replication": replication, "quarter": quarter, "quarter_label": label,
            "period_end": period_end.isoformat()}


def outcome_table_markdown() -> str:
    """The outcome table of the documentation (docs/generate.py), from the declarations: the results' columns, then
    what the reports derive from them."""
    lines = ["| column | kind | unit | more is | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{o.name}` | {o.kind} | {o.unit} | {_better_words(o.better)} | {o.meaning} |" for o in OUTCOMES]
    lines += [f"| `{o.name}` (reports) | {o.kind} | {o.unit} | {_better_words(o.better)} | {o.meaning} |"
              for o in DERIVED_OUTCOMES]
    return "\n".join(lines)


def _better_words(better: str) -> str:
    return {"higher": "better", "lower": "worse"}.get(better, "—")


if __name__ == "__main__":  # python -m simulation.model.outcomes: the outcome table in Markdown
    print(outcome_table_markdown())
