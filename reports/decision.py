"""The board's decision, computed: which strategies lead, whether the lead is real, what each one trades.

Options are judged by the scenario's ``report.objective``: by default the net present value plus
the value of the book left at the horizon, in today's money (``npv_plus_book``), so an option that
earns a little more now by giving away the customers who would earn later does not win on that
alone; or the net present value alone (``npv``).

A lead is real only if it is both outside the simulation's noise (the paired 95 % interval of
the difference, replication by replication, excludes zero) and material (at least the scenario's
``report.materiality`` share of the leader's value, and at least its ``report.materiality_amount``).
Otherwise the leaders are a choice, and the report sets out what separates them instead of naming
a winner. With one replication there is no interval: only materiality can separate strategies,
and the report says so. An option whose steps reached no customer in any simulated future is no
option: it is never a leader.

Even a real lead is no recommendation when the inputs behind it are implausible (``gates``): most
of today's book (over four in five) losing money at the assumed costs, every option losing value,
a backtest that missed, little of the book supported by the data, or the leader's range of futures
spanning both a gain and a loss. The decision page then says "No recommendation", and why, first.

Everything here is numbers; the sentences are the templates' (``templates/sections``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.analysis.summary import horizon_values, mean_interval
from simulation.data.calibration.notes import LOSS_MAKING_WARNING
from simulation.model.outcomes import DERIVED_OUTCOMES, DerivedOutcome, Outcome, board_outcomes
from simulation.scenario.spec import Scenario

CONFIDENCE = 0.95


@dataclass(frozen=True)
class ObjectiveWords:
    """How the report names an objective (``report.objective``, an outcome): in a heading, a sentence, a table."""

    title: str  # "Expected value"
    phrase: str  # "expected value" (in a sentence)
    meaning: str  # what it counts, for the method notes


OBJECTIVES = {
    "npv_plus_book": ObjectiveWords(
        "Expected value", "expected value",
        "the net present value of the profit over the horizon plus the book left — each remaining customer's expected "
        "margin over the next ten years, at their own rate of leaving — in today's money"),
    "npv": ObjectiveWords(
        "Expected NPV", "expected net present value",
        "the profit over the horizon in today's money, without the customers still on the books at its end (the book "
        "left)"),
}


@dataclass(frozen=True)
class Difference:
    """``strategy − other`` of one outcome, paired by replication: mean, interval (None with one replication)."""

    mean: float
    low: float | None
    high: float | None
    wins: int  # replications in which ``strategy`` is ahead
    replications: int

    @property
    def has_interval(self) -> bool:
        return self.low is not None

    @property
    def beyond_noise(self) -> bool:
        """The interval excludes zero (never true with one replication)."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def horizon_totals(quarters: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` summed over the horizon: replications down, strategies across."""
    return quarters.groupby(["replication", "strategy"])[column].sum().unstack("strategy")


def paired(values: pd.DataFrame, strategy: str, other: str) -> Difference:
    """The paired difference ``strategy − other`` across replications (common random numbers)."""
    difference = (values[strategy] - values[other]).dropna().to_numpy(dtype=float)
    wins = int((difference > 0).sum())
    if len(difference) < 2:
        return Difference(float(difference.mean()) if len(difference) else float("nan"), None, None, wins,
                          len(difference))
    mean, low, high = mean_interval(difference, CONFIDENCE)
    return Difference(mean, low, high, wins, len(difference))


@dataclass(frozen=True)
class Decision:
    """The ranking by the expected objective and what it supports: one recommendation, or a choice between leaders."""

    ranking: list[str]  # every strategy, highest expected objective first
    leaders: list[str]  # the recommended strategy alone, or the strategies the board must choose between
    margin: Difference | None  # leader − closest co-leader (a choice) or runner-up (None with one strategy)
    margin_share: float | None  # the margin as a share of the leader's value
    materiality: float  # the scenario's threshold, a share of the leader's NPV
    replications: int
    why_tied: dict[str, str] = field(default_factory=dict)  # strategy → 'noise' | 'materiality'
    inert: frozenset[str] = frozenset()  # strategies whose steps reached no customer in any future
    objective: str = "npv"  # the outcome the ranking, margin and materiality are in

    @property
    def recommended(self) -> str | None:
        return self.leaders[0] if len(self.leaders) == 1 else None

    @property
    def is_choice(self) -> bool:
        return len(self.leaders) > 1


def decide(quarters: pd.DataFrame, materiality: float, materiality_amount: float = 0.0,
           inert: frozenset[str] | set[str] = frozenset(), objective: str = "npv") -> Decision:
    """Rank by the expected ``objective`` (an outcome: ``npv`` or ``npv_plus_book``); the leaders are the top one
    that acts and every acting strategy not clearly and materially behind it. ``inert`` strategies (steps that
    reached no one) are ranked but never lead."""
    values = horizon_values(quarters, objective)
    ranking = [str(name) for name in values.mean().sort_values(ascending=False, kind="stable").index]
    replications = len(values)
    candidates = [name for name in ranking if name not in inert] or ranking
    ranking = [*candidates, *(name for name in ranking if name not in candidates)]  # options that act first
    leader = candidates[0]
    if len(ranking) == 1:
        return Decision(ranking, [leader], None, None, materiality, replications, {}, frozenset(inert), objective)
    scale = abs(float(values[leader].mean()))
    threshold = max(materiality * scale, materiality_amount)
    leaders, why = [leader], {}
    for other in candidates[1:]:
        difference = paired(values, leader, other)
        if difference.has_interval and not difference.beyond_noise:
            leaders.append(other)
            why[other] = "noise"
        elif difference.mean < threshold:  # with one replication, materiality alone decides
            leaders.append(other)
            why[other] = "materiality"
    # The margin that matters: to the closest co-leader when it is a choice, else to the runner-up.
    closest = leaders[1] if len(leaders) > 1 else ranking[1]
    margin = paired(values, leader, closest)
    # A share of a value at or near zero (or below it) means nothing: no share then.
    meaningful = scale > 0 and float(values[leader].mean()) > 0 and abs(margin.mean) <= 10 * scale
    return Decision(ranking, leaders, margin, margin.mean / scale if meaningful else None, materiality, replications,
                    why, frozenset(name for name in inert if name in ranking), objective)


def board_decision(quarters: pd.DataFrame, scenario: Scenario) -> Decision:
    """The scenario's decision rule on its results: its objective and materiality as declared, options that reached
    no one set aside."""
    acting = {name for name, strategy in scenario.strategies.items() if strategy.steps}
    return decide(quarters, scenario.report.materiality, scenario.report.materiality_amount,
                  inert_strategies(quarters, acting), scenario.report.objective)


def inert_strategies(quarters: pd.DataFrame, acting: set[str]) -> set[str]:
    """Strategies with steps (``acting``) that reached no customer in any replication and quarter."""
    if "treated" not in quarters:
        return set()
    reached = quarters.groupby("strategy")["treated"].sum()
    return {str(name) for name, total in reached.items() if name in acting and total <= 0}


# Gates: when even a real lead is no recommendation. Each threshold is a judgement, stated here once.
# More than this share of today's customers losing money reads as a cost assumption gone wrong (the calibration's
# own warning): a bank may well have half its customers unprofitable, hardly four in five.
MOST_OF_THE_BOOK = LOSS_MAKING_WARNING
LITTLE_SUPPORT = 0.5  # less than half of the book supported by the data (alive, or still under contract)
BACKTEST_COVERAGE = 0.75  # a 90 % interval that held in fewer than 75 % of the backtest's months missed
BACKTEST_ERROR = 0.10  # or a total off by more than 10 %


@dataclass(frozen=True)
class Gate:
    """One reason the page withholds a recommendation: which, and the number behind it."""

    kind: str  # loss_making | all_losing | backtest | support | both_signs
    value: float | None = None
    detail: str = ""  # e.g. the backtest's measure


def backtest_missed(record: dict | None) -> bool:
    """Whether a backtest (backtest.json) shows the model predicting badly: coverage or total error beyond bounds."""
    if not record:
        return False
    measure = "leavers" if record.get("kind") == "ledger" else "repeat_purchases"
    coverage = float(record["coverage"][measure])
    error = abs(float(record["totals"][measure]["relative_error"]))
    return coverage < BACKTEST_COVERAGE or error > BACKTEST_ERROR


def gates(*, loss_making_share: float, npv_means: pd.Series, leader_range: tuple[float, float] | None,
          supported_share: float | None, backtest: dict | None) -> list[Gate]:
    """Every reason the inputs do not support a recommendation, most fundamental first (empty: none)."""
    found = []
    if loss_making_share > MOST_OF_THE_BOOK:
        found.append(Gate("loss_making", loss_making_share))
    if len(npv_means) and bool((npv_means < 0).all()):
        found.append(Gate("all_losing", float(npv_means.max())))
    if supported_share is not None and supported_share < LITTLE_SUPPORT:
        found.append(Gate("support", supported_share))
    if backtest_missed(backtest):
        found.append(Gate("backtest"))
    if leader_range is not None and leader_range[0] < 0 < leader_range[1]:
        found.append(Gate("both_signs"))
    return found


# Trade-offs: what a board weighs beside NPV, each strategy against the baseline; the rows are the outcomes declared
# with a ``Board`` (simulation/model/outcomes.py), a flow totalled over the horizon, the rest read at its end.
Measure = Outcome | DerivedOutcome


def trade_off_measures() -> list[Measure]:
    """The trade-offs table's rows, in order, from the declarations as they stand."""
    return board_outcomes()


@dataclass(frozen=True)
class TradeOff:
    """One measure for one strategy: its mean, and its paired difference from the baseline."""

    measure: Measure
    mean: float
    versus_baseline: Difference | None  # None for the baseline itself


def with_derived_outcomes(quarters: pd.DataFrame) -> pd.DataFrame:
    """The results with what the board asks of them in money (``DERIVED_OUTCOMES``: ``book_left``, the book's value in
    today's money; ``wom_lost_value``, what bad stories cost), each when the results hold what it needs."""
    derived = {o.name: o.derive(quarters) for o in DERIVED_OUTCOMES if set(o.needs) <= set(quarters.columns)}
    return quarters.assign(**derived) if derived else quarters


def survivorship(table: dict[str, dict[str, TradeOff]], measures: tuple[str, ...] = ("satisfaction", "morale")
                 ) -> dict[str, list[str]]:
    """Options whose satisfaction or morale is higher than the baseline's while customers left because of them:
    the average rises partly because the unhappy are gone (measure → strategies)."""
    found: dict[str, list[str]] = {}
    for strategy, rows in table.items():
        let_go = rows.get("divested")
        if let_go is None or let_go.versus_baseline is None or let_go.versus_baseline.mean <= 0:
            continue
        for name in measures:
            row = rows.get(name)
            if row is not None and row.versus_baseline is not None and row.versus_baseline.mean > 0:
                found.setdefault(name, []).append(strategy)
    return found


def measure_values(quarters: pd.DataFrame, measure: Measure) -> pd.DataFrame:
    return (horizon_values if measure.over_horizon == "end" else horizon_totals)(quarters, measure.name)


def trade_offs(quarters: pd.DataFrame, strategies: list[str], baseline: str) -> dict[str, dict[str, TradeOff]]:
    """Every trade-off measure (by name) for every strategy, with the paired difference from the baseline."""
    table: dict[str, dict[str, TradeOff]] = {strategy: {} for strategy in strategies}
    for measure in trade_off_measures():
        if measure.name not in quarters:
            continue
        values = measure_values(quarters, measure)
        for strategy in strategies:
            versus = None if strategy == baseline or baseline not in values else paired(values, strategy, baseline)
            table[strategy][measure.name] = TradeOff(measure, float(values[strategy].mean()), versus)
    return table


def constant_measures(table: dict[str, dict[str, TradeOff]]) -> set[str]:
    """Measures with the same value for every strategy: a column that tells the board nothing."""
    by_measure: dict[str, list[float]] = {}
    for rows in table.values():
        for name, row in rows.items():
            by_measure.setdefault(name, []).append(row.mean)
    return {name for name, values in by_measure.items() if np.allclose(values, values[0], rtol=1e-9, atol=1e-9)}


def timing(quarters: pd.DataFrame, strategy: str, share: float = 0.9) -> tuple[str, str] | None:
    """First quarter a strategy acts and the quarter by which ``share`` of its treatments are done (None: it never acts)."""
    rows = quarters[quarters["strategy"] == strategy]
    per_quarter = rows.groupby(["quarter", "quarter_label"])["treated"].mean().reset_index().sort_values("quarter")
    total = float(per_quarter["treated"].sum())
    if total <= 0:
        return None
    cumulative = per_quarter["treated"].cumsum() / total
    first = per_quarter.loc[per_quarter["treated"] > 0, "quarter_label"].iloc[0]
    done = per_quarter.loc[cumulative >= share - 1e-12, "quarter_label"].iloc[0]
    return str(first), str(done)
