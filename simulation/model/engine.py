"""The SimPy model of one strategy in one replication.

SimPy decides *when* things happen — the monthly tick, quarterly policy reviews, contract
renewals, ladder follow-ups, word-of-mouth waves arriving months after an exit, reached
prospects coming back to the market — and each event calls vectorized functions over the whole
population. No customer has a process of its own: that tops out near 0.4 M customer-months per
second, a numpy step over the arrays runs far faster (see benchmarks/).

The engine runs the month in fixed phases and owns the core: churn, acquisition, the strategy's
reviews and contracts, the accounts. Everything else that shapes a month — queueing, morale,
word of mouth, reputation, distrust, a price war — is a mechanism (``mechanisms/``), one declared
unit each, whose hooks the engine calls at each phase and whose contributions reach the month's
pass through typed slots; the engine never names one. Strategy actions return effects
(``actions.py``, ``effects.py``) that the engine applies; outcomes are declared in
``outcomes.py`` and the mechanisms, computed from a ``QuarterEnd``; what happened is recorded in
a public ``Trace``. Random numbers come from ``streams.py`` (common random numbers across
strategies). There is one scheduler, SimPy's queue: what falls due at a month's start is an
``URGENT`` event there, before the month itself (a ``NORMAL`` one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import simpy
from threadpoolctl import threadpool_limits

from simulation.book.effects import ActionContext, Effect
from simulation.book.outcome_types import QuarterEnd, QuarterFlows
from simulation.book.population import Population
from simulation.book.state import ACTIVE, CHURNED, DIVESTED, PARTNER, PARTNER_LEFT, CustomerColumns, CustomerState
from simulation.book.valuation import LIFETIME_MONTHS
from simulation.core import formulas as mech
from simulation.core.periods import Calendar
from simulation.core.segments import BookRanking, segment_of
from simulation.core.streams import RandomStreams, Stream
from simulation.mechanisms import MECHANISMS, Mechanism
from simulation.mechanisms.base import Acquisition, Market, MonthShape
from simulation.model.breakdowns import lorenz_records, segment_records, start_segment_records, whole_book
from simulation.model.kernels import (
    MonthSettings,
    MonthTotals,
    QuarterSums,
    contracts_due,
    hazards,
    month_step,
    purchase_sums,
    quarter_scan,
    ranked_profits,
    resegment,
)
from simulation.model.outcomes import quarter_record, record_keys
from simulation.model.targeting import matches
from simulation.model.trace import MonthTrace, Trace, TreatmentTrace
from simulation.scenario.actions import get_action
from simulation.scenario.spec import Scenario
from simulation.scenario.steps import StepBase
from simulation.scenario.strategy import StrategySpec


@dataclass
class RunOutput:
    """What one strategy × replication run returns: tidy records, ready to become tables."""

    quarters: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    start_segments: list[dict[str, Any]] = field(default_factory=list)
    lorenz: list[dict[str, Any]] = field(default_factory=list)
    reach: list[dict[str, Any]] = field(default_factory=list)  # per step: today's customers it reaches (targets)


class CustomerModel:
    """One strategy in one replication: state arrays plus the SimPy processes that drive them."""

    def __init__(
        self,
        scenario: Scenario,
        population: Population,
        strategy_name: str,
        strategy: StrategySpec,
        root_entropy: int,
        replication: int,
        trace_columns: Sequence[str] = (),
        trace_sales: bool = False,
        trace_treatments: bool = False,
    ) -> None:
        self.scenario = scenario = scenario.sampled()  # a sample's book and market (``sample_weight``); else as given
        self.population = population
        self.strategy_name = strategy_name
        self.strategy = strategy
        self.replication = replication
        self.env = simpy.Environment()
        self.calendar = Calendar(scenario.start_date, scenario.horizon_months)
        self.streams = RandomStreams(root_entropy, replication)
        self.output = RunOutput()
        self.trace = Trace(columns=tuple(trace_columns))
        self.months = scenario.horizon_months
        self.segment_multiplier = np.array(scenario.churn.segment_multipliers)
        self.monthly_discount = scenario.economics.monthly_discount_rate
        self.market_mean_revenue = float(population.revenue.mean()) if len(population) else 0.0
        self.counts_purchases = population.purchases_per_month is not None
        self.trace_sales = trace_sales  # draw each month's purchasers and sales into the trace (a backtest's)
        self.trace_treatments = trace_treatments  # record whom each step acts on (clientele targets)
        self.today_rows = len(population)  # today's customers are the first rows; later rows joined in the run
        self.reached_today = np.zeros((len(strategy.steps), 2), dtype=np.int64)  # per step: first review, horizon
        self._month_buying = (0.0, 0.0)  # Σ and variance of the month's purchasers, at its start
        self._month_purchasers, self._month_sales = 0, 0.0  # the month's, from a log's purchase rates

        channels = population.channel_names
        elasticity = scenario.churn.price_elasticity if scenario.churn.enabled else 0.0
        self.state = CustomerState(
            len(population) + scenario.reserved_rows() - scenario.population.customers,
            np.array([scenario.channels[name].cost_per_contact for name in channels]),
            np.array([scenario.channels[name].staffed for name in channels]),
            elasticity,
        )
        latent = self._latent_churn(self.streams.generator(Stream.LATENT_CHURN, 0), len(population))
        if population.churn_probability is not None and scenario.churn.enabled:
            latent = population.churn_probability  # calibrated: each customer's own hazard, fitted from the data
        self.state.append(population, latent, 0, 0, scenario.economics.cost_of_capital)

        # Scalars that evolve month by month.
        self.active_count = len(population)
        self.partner_rows = np.empty(0, dtype=np.intp)
        self.market = Market()
        self.cumulative_profit = 0.0
        self.npv = 0.0
        self.pending_cost = 0.0  # one-off costs, booked with the accounts of the month they are incurred in
        self.bad_service_in_use = False  # set once an abrupt divestment degrades someone's service
        self.flows = QuarterFlows()
        self._month_start_flows = QuarterFlows()
        self.quarter_sums = QuarterSums.zeros()  # revenue and profit per segment, as the quarter's months are booked
        self._action_draws: tuple[int, np.ndarray] | None = None
        self._active_rows: np.ndarray | None = None  # rows on the books, until someone leaves or joins
        self._month_acquisition: dict[str, float] = {}
        self.mechanisms: tuple[Mechanism, ...] = tuple(declared(self) for declared in MECHANISMS)

        self.state.refresh_profit()
        self.ranking = BookRanking.from_split(*ranked_profits(self.customers.last_profit))
        self._resegment()
        self.customers.start_segment[:] = self.customers.segment
        self._initialise_service_equilibrium()
        self._compute_hazard(slice(None), self.reference_shape)

    @property
    def customers(self) -> CustomerColumns:
        """Every customer ever on the books, one row each (read these; only the engine writes them)."""
        return self.state.columns

    @property
    def partner_count(self) -> int:
        """Customers served by partners."""
        return len(self.partner_rows)

    # ------------------------------------------------------------------ randomness
    def generator(self, stream: Stream, key: int) -> np.random.Generator:
        """The generator of ``stream`` for one month or event ``key`` (common to every strategy of the replication)."""
        return self.streams.generator(stream, key)

    def uniforms(self, stream: Stream, key: int) -> np.ndarray:
        """One uniform per customer row from ``stream`` (common to every strategy of the replication)."""
        return self.streams.uniforms(stream, key, self.state.cohorts, self.state.size)

    def action_draws(self, month: int) -> np.ndarray:
        """This month's uniform per customer for strategy actions (success, acceptance, leaving).

        A customer meets at most one step of a ladder in a month, so one draw each serves every step.
        """
        cached = self._action_draws
        if cached is None or cached[0] != month or len(cached[1]) != self.state.size:
            cached = self._action_draws = (month, self.uniforms(Stream.ACTIONS, month))
        return cached[1]

    def active_rows(self) -> np.ndarray:
        """Rows of the customers on the books, ascending (kept until someone leaves or joins: a month's waves of
        stories each pick their listeners among them)."""
        if self._active_rows is None:
            self._active_rows = np.flatnonzero(self.customers.status == ACTIVE)
        return self._active_rows

    def _latent_churn(self, rng: np.random.Generator, count: int) -> np.ndarray:
        churn = self.scenario.churn
        if not churn.enabled:
            return np.zeros(count)
        drawn = mech.beta_churn_probabilities(rng, count, churn.beta_alpha, churn.beta_beta, churn.heterogeneous)
        return drawn if churn.period == "month" else mech.churn_per_month(drawn, churn.period)

    # ------------------------------------------------------------------ time and processes
    def run(self) -> RunOutput:
        self.env.process(self._months())
        # The arrays are too small for threaded BLAS to pay: on two busy cores, letting OpenBLAS
        # spawn threads for each dot product made a replication 4.6× slower (3.42 s against 0.74 s).
        with threadpool_limits(limits=1, user_api="blas"):
            self.env.run(until=self.calendar.days_until(self.months))  # nothing at the horizon itself runs
        self.output.reach.extend(
            {"strategy": self.strategy_name, "replication": self.replication, "step": step,
             "first_review": whole_book(first, self.scenario.sample_weight),
             "within_horizon": whole_book(horizon, self.scenario.sample_weight)}
            for step, (first, horizon) in enumerate(self.reached_today, start=1))
        return self.output

    @property
    def current_month(self) -> int:
        return self.calendar.month_at(self.env.now)

    def _months(self):
        """Each month's start, in a fixed order: what fell due (waves, follow-ups, returning prospects,
        in the order they were set: ``URGENT`` events at this time), the quarterly review, contract
        renewals, then the month itself."""
        for month in range(self.months):
            yield self.env.timeout(self._delay_until(self.calendar.days_until(month)))
            if month % 3 == 0:
                self._review(month)
            self._renew_contracts(month)
            self._tick(month)

    def schedule(self, delay_months: float, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(*args)`` ``delay_months`` after the current month's start (calendar-correct).

        Whole months fall due at that month's start, before its review and its churn draw, whatever
        set them off (a wave after an exit at a renewal and one after an exit at the churn draw land
        alike): an ``URGENT`` event at the month's first moment, before the month's own (``NORMAL``)
        timeout; fractions of a month are ``NORMAL`` events inside the month. Events at one time and
        priority run in the order they were set (SimPy's queue).
        """
        target_month = self.current_month + delay_months
        whole = delay_months > 0 and float(target_month).is_integer()
        if whole and target_month >= self.months:
            return  # after the horizon
        target = self.calendar.days_until(target_month) if delay_months > 0 else self.env.now
        event = simpy.Event(self.env)
        event.callbacks.append(lambda _: callback(*args))
        event._ok, event._value = True, None  # triggered by being scheduled, as a Timeout is
        self.env.schedule(event, simpy.events.URGENT if whole else simpy.events.NORMAL, self._delay_until(target))

    def _delay_until(self, day: float) -> float:
        """The delay from now that lands exactly on ``day``: now + (day − now) can miss it by a rounding, and an
        event a rounding late would run after the month's start instead of before it."""
        now = self.env.now
        delay = max(0.0, day - now)
        while now + delay < day:
            delay = math.nextafter(delay, math.inf)
        while delay > 0 and now + delay > day:
            delay = math.nextafter(delay, 0.0)
        return delay

    # ------------------------------------------------------------------ mechanisms, satisfaction, hazard
    def _shape(self) -> MonthShape:
        """What the mechanisms make of the month's satisfaction and hazard, as things stand now."""
        shape = MonthShape()
        for mechanism in self.mechanisms:
            mechanism.shape_month(shape)
        return shape

    def _hazard_factor(self, shape: MonthShape) -> np.ndarray:
        """One multiplier per row from the mechanisms' ``hazard_factors`` (an empty array when there are none)."""
        if not shape.hazard_factors:
            return np.empty(0)
        factor = np.ones(self.state.size)
        for contribution in shape.hazard_factors:
            factor[contribution.rows] *= contribution.factor
        return factor

    def _pushed_out(self, count: int, abrupt: int, active_before: int) -> None:
        for mechanism in self.mechanisms:
            mechanism.pushed_out(count, abrupt, active_before)

    def _stories(self, tellers: float) -> None:
        for mechanism in self.mechanisms:
            mechanism.stories(tellers)

    def _satisfaction_target(self, rows: slice | np.ndarray, shape: MonthShape) -> np.ndarray:
        """Satisfaction the customers at ``rows`` drift to: baseline × quality, less queueing and bad treatment."""
        c = self.customers
        target = c.exposure[rows] * -shape.queue_penalty
        target += self.scenario.satisfaction.baseline * shape.quality
        if self.bad_service_in_use:
            target -= c.treatment_penalty[rows]
        return np.clip(target, 0.0, 1.0, out=target)

    def _initialise_service_equilibrium(self) -> None:
        """Start at today's service level: the scenario's churn rates are those observed now."""
        c = self.customers
        for mechanism in self.mechanisms:
            mechanism.start()
        self.reference_shape = self._shape()  # the service today's churn rates were observed at
        c.satisfaction[:] = c.reference_satisfaction[:] = self._satisfaction_target(slice(None), self.reference_shape)

    def _compute_hazard(self, rows: slice, shape: MonthShape) -> None:
        """The churn probability of ``rows`` under ``shape`` (the month's pass sets everyone's, by the same formula,
        each month): at the start, and for newcomers as they join."""
        hazards(self.customers, rows, self._month_settings(shape))

    def _month_settings(self, shape: MonthShape) -> MonthSettings:
        """The compiled month pass's settings, by name, from the core's and the mechanisms' (``shape``)."""
        spec = self.scenario
        return MonthSettings(
            update_satisfaction=shape.satisfaction_moves or self.bad_service_in_use,
            recovery_rate=spec.satisfaction.recovery_rate,
            target_base=spec.satisfaction.baseline * shape.quality,
            penalty=shape.queue_penalty,
            bad_service=self.bad_service_in_use,
            churn=spec.churn.enabled,
            satisfaction_sensitivity=spec.churn.satisfaction_sensitivity,
            trust_on=shape.trust_on,
            trust_sensitivity=spec.churn.trust_sensitivity,
            distrust=shape.at_risk_uplift,
            distrust_threshold=shape.at_risk_profit,
            # Trust's monthly recovery (part of the month's drift) rides on the month's pass over the book.
            trust_recovery=shape.trust_recovery,
            factored=bool(shape.hazard_factors),
        )

    def _churn(self, leaving: np.ndarray, draws: np.ndarray, month: int) -> None:
        """This month's leavers: partners' customers by their own hazard, ours by all multipliers.

        A customer the strategy has pushed out who leaves before the contract ends is divested,
        not churned: the strategy sent them.
        """
        c = self.customers
        if self.scenario.churn.enabled and len(self.partner_rows):
            partners = self.partner_rows
            lost = draws[partners] < c.churn_probability[partners]
            c.status[partners[lost]] = PARTNER_LEFT
            c.partner_fee[partners[lost]] = 0.0
            self.flows.partner_lost += int(lost.sum())
            self.partner_rows = partners[~lost]
        if len(leaving) == 0:
            return
        pushed_out = c.pending_exit[leaving]
        if pushed_out.any():
            self._divest(leaving[pushed_out], month)
            leaving = leaving[~pushed_out]
        self._leave(leaving, CHURNED, month)
        self.flows.churned += len(leaving)

    def _leave(self, rows: np.ndarray, status: int, month: int) -> None:
        """Customers at ``rows`` (all active) leave our books."""
        if len(rows) == 0:
            return
        self.state.leave_books(rows, status, month)
        self._active_rows = None
        self.active_count -= len(rows)
        if status == PARTNER:
            self.partner_rows = np.concatenate([self.partner_rows, rows])

    # ------------------------------------------------------------------ the month
    def _tick(self, month: int) -> None:
        """The month: service and satisfaction, leavers, newcomers, the accounts (kernels.py does the
        per-customer part in one pass), then slow drifts and, at a quarter's end, its record."""
        spec = self.scenario
        for mechanism in self.mechanisms:
            mechanism.begin_month(month)
        shape = self._shape()
        factor = self._hazard_factor(shape)
        draws = self.uniforms(Stream.CHURN, month) if spec.churn.enabled else np.empty(0)
        snapshot = {name: getattr(self.customers, name).copy() for name in self.trace.columns}
        if self.counts_purchases and self.trace_sales:  # who may buy this month: those on the books at its start
            c = self.customers
            chance = c.buying_probability[c.status == ACTIVE]
            self._month_buying = (float(chance.sum()), float(np.dot(chance, 1.0 - chance)))
        month_totals = month_step(self.customers, draws, self._month_settings(shape), factor, self.quarter_sums)
        if self.trace.columns and spec.churn.enabled:
            if "hazard" in snapshot:
                snapshot["hazard"] = self.customers.hazard.copy()  # the month's, kept (no temporary factor); the rest before it
            self.trace.snapshots.append(snapshot)
        for mechanism in self.mechanisms:
            mechanism.after_draw(month)
        self._churn(month_totals.leaving, draws, month)
        added = self._acquire(month)
        self._book_month(month, month_totals, added)
        for mechanism in self.mechanisms:
            mechanism.end_month(month)
        self._trace_month(month)
        if (month + 1) % 3 == 0:
            self._record_quarter(month)

    def _book_month(self, month: int, stayers: MonthTotals, newcomers: slice) -> None:
        """The month's accounts: the stayers' (booked in ``month_step``), the newcomers', partner fees and costs."""
        c = self.customers
        billed_total, profit_total = stayers.billed, stayers.profit
        if newcomers.stop > newcomers.start:
            np.multiply(c.revenue[newcomers], c.growth_factor[newcomers], out=c.revenue[newcomers])
            billed = c.revenue[newcomers] * c.billing_rate[newcomers]
            self.state.refresh_profit(newcomers)
            self.quarter_sums.add(c.segment[newcomers], c.start_segment[newcomers], billed, c.last_profit[newcomers])
            billed_total += float(billed.sum())
            profit_total += float(c.last_profit[newcomers].sum())
        fees = 0.0
        if len(self.partner_rows):
            partners = self.partner_rows
            c.partner_fee[partners] *= c.growth_factor[partners]  # the fee is a share of a growing margin
            fees = float(c.partner_fee[partners].sum())
        if self.counts_purchases:
            self._count_purchases(month)
        revenue_total = billed_total + fees
        cost_total = billed_total - profit_total + self.pending_cost
        self.pending_cost = 0.0
        month_profit = revenue_total - cost_total
        self.cumulative_profit += month_profit
        self.npv += month_profit / (1.0 + self.monthly_discount) ** (month + 1)
        self.flows.revenue += revenue_total
        self.flows.cost += cost_total
        self.flows.billed += billed_total
        self.flows.partner_fees += fees

    def _count_purchases(self, month: int) -> None:
        """The month's purchases as they might happen, drawn in aggregate from the customers' own rates.

        Customers from a log buy as Poisson processes at their drawn rates while on the books (the
        month's leavers' purchases carried by the stayers, as the revenue is), so the month's purchases
        are Poisson with the sum of the rates; the customers who buy at least once — of those on the
        books at the month's start, 1 − e^(−λm) each, a leaver having bought just before leaving — a sum
        of Bernoulli draws, from its normal limit; the sales — each purchase Gamma(p, ν) around the
        customer's mean — from a Gamma with the compound sum's mean and variance. One draw each instead
        of one per customer: a run with a log's customers costs a few passes more a month. The books
        keep expected revenue; these are what a forecast or a backtest compares with what happened.
        Purchasers and sales (an exp per customer) are drawn only for a model asked to trace them.
        """
        sums = purchase_sums(self.customers, ACTIVE, self.trace_sales)
        generator = self.streams.generator(Stream.PURCHASES, month)
        purchases = int(generator.poisson(sums.rate))
        if not self.trace_sales:
            self.flows.purchases += purchases
            return
        buying, variance = self._month_buying
        spread = math.sqrt(variance)
        purchasers = int(round(generator.normal(buying, spread) if spread > 0 else buying))
        sales, shape = sums.sales, self.population.spend_shape
        if shape is not None and sales > 0:
            variance = sums.spend_square * (1.0 + 1.0 / shape)  # compound Poisson of Gamma(p, ν) amounts
            sales = float(generator.gamma(sales * sales / variance, variance / sales)) if variance > 0 else sales
        self.flows.purchases += purchases
        self._month_purchasers, self._month_sales = min(max(purchasers, 0), purchases), sales

    def _acquire(self, month: int) -> slice:
        """New customers from competitors' (at reputation) and by referral; they join as one cohort.

        Returns their rows (empty if nobody joined), for the month's accounts.
        """
        spec = self.scenario
        slots = Acquisition(prospects=max(0.0, spec.market.size - self.active_count - len(self.partner_rows)))
        for mechanism in self.mechanisms:
            mechanism.shape_acquisition(slots)
        prospects, reputation_factor = slots.prospects, slots.reputation
        from_market = 0.0
        if spec.market.acquisition_enabled:
            from_market = spec.market.acquisition_rate * prospects * reputation_factor * slots.factor
            # Lost to word of mouth: reached prospects who would have come, and the reputation gap.
            self.flows.lost_acquisitions += spec.market.acquisition_rate * (
                slots.shut_out + prospects * max(0.0, 1.0 - reputation_factor)
            )
        referred = slots.referrals * reputation_factor
        self._month_acquisition = {"prospects": prospects, "expected_from_market": from_market,
                                   "expected_referrals": referred}
        expected = from_market + referred
        nobody = slice(self.state.size, self.state.size)
        if expected <= 0:
            return nobody
        count = int(min(self.streams.generator(Stream.ACQUISITION_COUNT, month).poisson(expected), prospects))
        if count == 0:
            return nobody
        # The k-th newcomer of a month is the same customer in every strategy that wins at least k.
        rows = self.streams.generator(Stream.ACQUISITION_ROWS, month).integers(0, len(self.population), count)
        newcomers = self.population.take(rows)
        latent = self._latent_churn(self.streams.generator(Stream.ACQUISITION_LATENT, month), count)
        added = self.state.append(
            newcomers, latent, month, month + 1, spec.economics.cost_of_capital,
            contract_term=spec.population.contract_term_months,
        )
        self._active_rows = None
        c = self.customers
        c.reference_satisfaction[added] = self._satisfaction_target(added, self.reference_shape)
        shape = self._shape()
        c.satisfaction[added] = self._satisfaction_target(added, shape)
        self.state.refresh_profit(added)
        self._set_segments(added, segment_of(c.last_profit[added], self.ranking.cut_points))
        self._compute_hazard(added, shape)  # valued with their own hazard from the month they join
        self.active_count += count
        self.pending_cost += count * spec.market.acquisition_cost
        self.flows.acquisition_cost += count * spec.market.acquisition_cost
        self.flows.acquired += count
        return added

    # ------------------------------------------------------------------ contracts and reviews
    def _renew_contracts(self, month: int) -> None:
        """Contracts ending this month: those told to go leave (divested), the rest renew for another term."""
        c = self.customers
        due = contracts_due(c, month, ACTIVE)
        exiting = c.pending_exit[due]
        self._divest(due[exiting], month)
        c.contract_end[due[~exiting]] += self.scenario.population.contract_term_months

    def _divest(self, rows: np.ndarray, month: int) -> None:
        """End the relationships of the (active) customers at ``rows`` now; word of mouth and distrust follow."""
        if len(rows) == 0:
            return
        active_before = self.active_count
        abrupt = int(self.customers.abrupt[rows].sum())
        self._leave(rows, DIVESTED, month)
        self.flows.divested += len(rows)
        self._pushed_out(len(rows), abrupt, active_before)

    def _resegment(self) -> None:
        """Eight value segments by profit rank among active customers (Goonan, Inforte, undated), from the latest ranking."""
        resegment(self.customers, self.ranking.cut_points, self.segment_multiplier, ACTIVE)

    def _set_segments(self, rows: slice | np.ndarray, segment: np.ndarray) -> None:
        c = self.customers
        c.segment[rows] = segment
        c.segment_hazard[rows] = self.segment_multiplier[segment - 1]
        self.state.refresh_hazards(rows)

    def _review(self, month: int) -> None:
        """Quarterly review: re-segment, then walk customers down the strategy's ladder.

        Customers enter the ladder at its first step; customers left waiting at a step whose
        review period has passed (they did not match the next step then) are looked at again.
        Steps are visited from last to first so no customer moves more than one step per review.
        """
        if month > 0:
            self._resegment()
        steps = self.strategy.steps
        if not steps:
            return
        c = self.customers
        active = self.active_rows()
        candidates = active[~c.pending_exit[active]]
        stage, since = c.ladder_stage[candidates], c.stage_since[candidates]
        context = self._action_context(month)
        for index in reversed(range(len(steps))):
            eligible = stage == index
            if index > 0:
                eligible &= (month - since) >= steps[index - 1].review_months
            rows = candidates[eligible]
            if len(rows):
                self._apply_step(index, matches(context, steps[index].target, rows), context)

    def _follow_up(self, index: int, rows: np.ndarray, acted_month: int) -> None:
        """The review period of step ``index − 1`` has passed for ``rows``: step ``index`` reaches those
        still on the books, still waiting at that step and still matching its target."""
        c = self.customers
        waiting = rows[(c.status[rows] == ACTIVE) & (c.ladder_stage[rows] == index) & (c.stage_since[rows] == acted_month)
                       & ~c.pending_exit[rows]]
        if len(waiting):
            month = self.current_month
            context = self._action_context(month)
            self._apply_step(index, matches(context, self.strategy.steps[index].target, waiting), context)

    def _action_context(self, month: int) -> ActionContext:
        spec = self.scenario
        return ActionContext(
            customers=self.customers.read_only(), month=month, channel_names=self.population.channel_names,
            monthly_discount=self.monthly_discount, acquisition_cost=spec.market.acquisition_cost,
            migration_word_of_mouth=spec.word_of_mouth.migration_fraction,
        )

    def _apply_step(self, index: int, rows: np.ndarray, context: ActionContext) -> None:
        """Step ``index`` of the ladder acts on ``rows``; the next step reviews them after this one's review period."""
        if len(rows) == 0:
            return
        steps = self.strategy.steps
        step: StepBase = steps[index]
        month = context.month
        effect = get_action(step.action).apply(context, step, rows, self.action_draws(month)[rows])
        c = self.customers
        c.ladder_stage[rows] = index + 1
        c.stage_since[rows] = month
        self.flows.treated += len(rows)
        today = int(np.count_nonzero(rows < self.today_rows))
        self.reached_today[index, 1] += today
        if month == 0:
            self.reached_today[index, 0] += today
        if self.trace_treatments:
            self.trace.treatments.append(TreatmentTrace(month, index + 1, rows.copy()))
        self._apply_effect(effect, month)
        if index + 1 < len(steps):
            self.schedule(step.review_months, self._follow_up, index + 1, rows, month)

    def _apply_effect(self, effect: Effect, month: int) -> None:
        """Carry out what an action decided: changes first, then exits, then word of mouth and costs."""
        c = self.customers
        if effect.price is not None:
            self.state.set_price(effect.price.rows, effect.price.values)
        if effect.contacts is not None:
            self.state.set_contacts(effect.contacts.rows, effect.contacts.values)
        if effect.channel is not None:
            self.state.move_to_channel(effect.channel.rows, effect.channel.values)
            self.flows.migrated_channel += len(effect.channel.rows)
        c.rewarded[effect.rewarded] = True
        if effect.treatment is not None:
            c.abrupt[effect.treatment.rows] = True
            c.treatment_penalty[effect.treatment.rows] = effect.treatment.values
            self.bad_service_in_use = self.bad_service_in_use or bool((effect.treatment.values > 0).any())
        if effect.to_partner is not None:
            c.partner_fee[effect.to_partner.rows] = effect.to_partner.values
            self._leave(effect.to_partner.rows, PARTNER, month)
            self.flows.migrated_partner += len(effect.to_partner.rows)
        self._leave(effect.walk_away, CHURNED, month)
        self.flows.churned += len(effect.walk_away)
        self._divest(effect.divest_now, month)
        c.pending_exit[effect.divest_at_contract_end] = True
        if effect.tellers > 0:
            self._stories(effect.tellers)
        self.pending_cost += effect.cost
        self.flows.action_cost += effect.cost

    # ------------------------------------------------------------------ records
    def _trace_month(self, month: int) -> None:
        flows, start = self.flows, self._month_start_flows
        acquisition = self._month_acquisition
        values = {name: value for mechanism in self.mechanisms for name, value in mechanism.month_values().items()}
        self.trace.months.append(MonthTrace(
            month=month, prospects=acquisition["prospects"], expected_from_market=acquisition["expected_from_market"],
            expected_referrals=acquisition["expected_referrals"], values=values,
            acquired=flows.acquired - start.acquired,
            churned=flows.churned - start.churned, divested=flows.divested - start.divested,
            active_customers=self.active_count, partner_customers=len(self.partner_rows),
            purchases=int(flows.purchases - start.purchases), purchasers=self._month_purchasers,
            sales=self._month_sales,
        ))
        self._month_start_flows = flows.copy()

    def _record_quarter(self, month: int) -> None:
        """The quarter ending with ``month``: one results row, the segment tables, the Lorenz curve at the horizon."""
        c = self.customers
        quarter = (month + 1) // 3
        scan = quarter_scan(c, month, self.monthly_discount, LIFETIME_MONTHS, self.quarter_sums)  # takes the sums
        self.ranking = BookRanking.from_split(scan.profitable, scan.unprofitable)  # also the next review's cut points
        end = QuarterEnd(
            quarter=quarter, flows=self.flows, customers=c, active_customers=self.active_count,
            partner_customers=len(self.partner_rows), market_size=self.scenario.market.size,
            market_mean_revenue=self.market_mean_revenue,
            cumulative_profit=self.cumulative_profit, npv=self.npv,
            discount_factor=1.0 / (1.0 + self.monthly_discount) ** (month + 1),
            values={name: value for mechanism in self.mechanisms for name, value in mechanism.quarter_values().items()},
            ranking=self.ranking, scan=scan, weight=self.scenario.sample_weight,
        )
        keys = record_keys(self.strategy_name, self.replication, quarter, self.calendar.quarter_label(month),
                           self.calendar.period_end(month))
        self.output.quarters.append(quarter_record(keys, end))
        table_keys = {"strategy": self.strategy_name, "replication": self.replication, "quarter": quarter}
        self.output.segments.extend(segment_records(table_keys, scan, self.scenario.sample_weight))
        self.output.start_segments.extend(start_segment_records(table_keys, scan, self.scenario.sample_weight))
        if quarter == self.scenario.horizon_quarters:
            self.output.lorenz.extend(lorenz_records({"strategy": self.strategy_name, "replication": self.replication},
                                                     np.concatenate([scan.unprofitable, scan.profitable]),
                                                     ascending=True))
        self.flows = QuarterFlows()
        self._month_start_flows = QuarterFlows()
        for mechanism in self.mechanisms:
            mechanism.end_quarter()
