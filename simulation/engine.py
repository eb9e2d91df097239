"""The SimPy model of one strategy in one replication.

SimPy decides *when* things happen — the monthly tick, quarterly policy reviews, contract
renewals, word-of-mouth waves arriving months after an exit, reached prospects coming back to
the market — and each event calls vectorized functions over the whole population. No
customer has a process of its own: that tops out near 0.4 M customer-months per second, a
numpy step over the arrays runs far faster (see benchmarks/).

Time runs in days from the scenario's start date, and months are calendar months, so a tick
lands on the first of each month whatever its length.

Random numbers come from one stream per (replication, mechanism, month): every strategy of a
replication sees the same draws for the same customers (common random numbers), so that a
difference between strategies is the strategy and not noise.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import simpy
from threadpoolctl import threadpool_limits

from . import mechanisms as mech
from .outcomes import QUARTER_FLOWS, record_quarter
from .periods import add_months
from .population import SEGMENT_TOP_SHARES, Population, cost_per_contact, staffed_channels
from .scenario import SEGMENT_COUNT, Scenario
from .state import ACTIVE, CHURNED, DIVESTED, PARTNER, PARTNER_LEFT, CustomerState
from .strategy_spec import StrategySpec

# Stream identifiers: one independent random stream per mechanism (and month).
STREAM_LATENT, STREAM_CHURN, STREAM_ACQUISITION_COUNT, STREAM_ACQUISITION_ROWS = 1, 2, 3, 4
STREAM_ACQUISITION_LATENT, STREAM_WORD_OF_MOUTH, STREAM_TRUST_TARGETS, STREAM_ACTIONS = 5, 6, 7, 8

COHORT_SPACING = 1 << 40  # stream positions reserved per cohort: far more than any cohort's customers


@dataclass
class RunOutput:
    """What one strategy × replication run returns: tidy records, ready to become tables."""

    quarters: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    lorenz: list[dict[str, Any]] = field(default_factory=list)


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
    ) -> None:
        self.scenario = scenario
        self.population = population
        self.strategy_name = strategy_name
        self.strategy = strategy
        self.root_entropy = root_entropy
        self.replication = replication
        self.env = simpy.Environment()
        self.output = RunOutput()
        self.months = scenario.horizon_months
        self.month_starts = [add_months(scenario.start_date, m) for m in range(self.months + 1)]
        self.day_offsets = [float((day - self.month_starts[0]).days) for day in self.month_starts]
        self.segment_multiplier = np.array(scenario.churn.segment_multipliers)
        self.monthly_discount = scenario.economics.monthly_discount_rate
        self.market_mean_revenue = float(population.revenue.mean()) if len(population) else 0.0

        elasticity = scenario.churn.price_elasticity if scenario.churn.enabled else 0.0
        self.state = CustomerState(
            len(population) + expected_newcomers(scenario, len(population)),
            cost_per_contact(scenario, population.channel_names),
            staffed_channels(scenario, population.channel_names),
            elasticity,
        )
        latent = self._latent_churn(self.rng(STREAM_LATENT, 0), len(population))
        self.state.append(population, latent, 0, 0, scenario.economics.cost_of_capital)

        # Scalars that evolve month by month.
        self.active_count = len(population)
        self.partner_rows = np.empty(0, dtype=np.intp)
        self.morale = 1.0
        self.wait_minutes = 0.0
        self.penalty = 0.0  # satisfaction lost per month by a customer fully exposed to the queue
        self.quality = 1.0  # service quality (morale), scales the satisfaction baseline
        self.reputation = scenario.reputation.initial
        self.distrust = 0.0
        self.blocked_prospects = 0.0
        self.cumulative_profit = 0.0
        self.npv = 0.0
        self.segment_cuts = np.array([])
        self.pending_cost = 0.0  # one-off action costs booked at the next month's accounts
        self.wave_counter = 0
        self.bad_service_in_use = False  # set once an abrupt divestment degrades someone's service
        self.trust_gap = 0.0  # the largest 1 − trust of any customer; 0 once trust has recovered
        self._action_draws: tuple[int, np.ndarray] | None = None
        self._reset_quarter()

        self._initialise_service_equilibrium()
        self._resegment()

    # ------------------------------------------------------------------ randomness
    def rng(self, stream: int, key: int) -> np.random.Generator:
        """The generator for one mechanism in one month of this replication (common to strategies)."""
        seed = np.random.SeedSequence(self.root_entropy, spawn_key=(self.replication, stream, key))
        return np.random.Generator(np.random.PCG64(seed))

    def uniforms(self, stream: int, key: int) -> np.ndarray:
        """One uniform draw per row, the same for the same customer in every strategy of the replication.

        A customer is its cohort and its position in it: cohort c's draws start at position
        c × 2^40 of the stream, so cohorts of different sizes in different strategies (more or
        fewer acquisitions) never shift another cohort's draws (common random numbers).
        """
        bits = np.random.PCG64(np.random.SeedSequence(self.root_entropy, spawn_key=(self.replication, stream, key)))
        generator = np.random.Generator(bits)
        draws = np.empty(self.state.size)
        position = 0
        for start, stop, cohort in self.state.cohorts:
            offset = cohort * COHORT_SPACING
            bits.advance(offset - position)
            draws[start:stop] = generator.random(stop - start)
            position = offset + (stop - start)
        return draws

    def action_draws(self, month: int) -> np.ndarray:
        """This month's uniform per customer for strategy actions (success, acceptance, leaving).

        A customer meets at most one step of a ladder in a month, so one draw each serves every step.
        """
        cached = self._action_draws
        if cached is None or cached[0] != month or len(cached[1]) != self.state.size:
            cached = self._action_draws = (month, self.uniforms(STREAM_ACTIONS, month))
        return cached[1]

    def _latent_churn(self, rng: np.random.Generator, count: int) -> np.ndarray:
        churn = self.scenario.churn
        if not churn.enabled:
            return np.zeros(count)
        return mech.beta_churn_probabilities(rng, count, churn.beta_alpha, churn.beta_beta, churn.heterogeneous)

    # ------------------------------------------------------------------ time and processes
    def run(self) -> RunOutput:
        # Creation order is the order of same-time events: review, renewals, then the tick.
        self.env.process(self._quarterly_reviews())
        self.env.process(self._contract_renewals())
        self.env.process(self._monthly_ticks())
        # The arrays are too small for threaded BLAS to pay: on two busy cores, letting OpenBLAS
        # spawn threads for each dot product made a replication 4.6× slower (3.42 s against 0.74 s).
        with threadpool_limits(limits=1, user_api="blas"):
            self.env.run(until=self._days_until(self.months) + 0.5)
        return self.output

    def _days_until(self, month: float) -> float:
        """Days from the start to ``month`` (fractions fall inside that calendar month)."""
        whole = min(int(month), self.months)
        days = self.day_offsets[whole]
        if month > whole and whole < self.months:
            days += (month - whole) * (self.day_offsets[whole + 1] - self.day_offsets[whole])
        return days

    @property
    def current_month(self) -> int:
        """The calendar month the simulation clock is in (0 = the first month)."""
        return bisect.bisect_right(self.day_offsets, self.env.now + 1e-6) - 1

    def _wait_until_month(self, month: int) -> simpy.Timeout:
        return self.env.timeout(max(0.0, self._days_until(month) - self.env.now))

    def _quarterly_reviews(self):
        for month in range(0, self.months, 3):
            yield self._wait_until_month(month)
            self._review(month)

    def _contract_renewals(self):
        for month in range(self.months):
            yield self._wait_until_month(month)
            self._renew_contracts(month)

    def _monthly_ticks(self):
        for month in range(self.months):
            yield self._wait_until_month(month)
            self._tick(month)

    def schedule(self, delay_months: float, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(*args)`` ``delay_months`` after the current month's start (calendar-correct)."""
        target = self._days_until(self.current_month + delay_months) if delay_months > 0 else self.env.now

        def delayed():
            yield self.env.timeout(max(0.0, target - self.env.now))
            callback(*args)

        self.env.process(delayed())

    # ------------------------------------------------------------------ service, satisfaction, churn
    def _service_conditions(self) -> None:
        """This month's queueing wait, the satisfaction it costs, and staff morale (service quality)."""
        v = self.state.v
        sc = self.scenario
        staffed_contacts = float(v.staffed_load.sum())
        self.wait_minutes = self.penalty = 0.0
        if sc.capacity.enabled:
            cap = sc.capacity
            load = staffed_contacts * cap.handle_minutes / cap.agent_minutes_per_month
            self.wait_minutes = mech.erlang_c_wait(load, cap.agents, cap.handle_minutes, cap.max_wait_minutes)
            self.penalty = mech.wait_penalty(self.wait_minutes, cap.tolerated_wait_minutes, cap.satisfaction_loss_per_minute)
        if sc.morale.enabled:
            target = mech.morale_target(self._loss_effort_share(staffed_contacts), sc.morale.sensitivity)
            self.morale = float(mech.move_toward(self.morale, target, sc.morale.adjustment_rate))
            self.quality = 1.0 - sc.morale.quality_effect * (1.0 - self.morale)

    def _loss_effort_share(self, staffed_contacts: float) -> float:
        """Share of staffed contacts spent on customers who lose us money (what lowers morale)."""
        v = self.state.v
        if staffed_contacts <= 0:
            return 0.0
        return float(np.dot(v.staffed_load, (v.last_profit < 0).astype(float))) / staffed_contacts

    def _satisfaction_target(self, rows: slice | np.ndarray, penalty: float, quality: float) -> np.ndarray:
        """Satisfaction the customers at ``rows`` drift to: baseline × quality, less queueing and bad treatment."""
        v = self.state.v
        target = v.exposure[rows] * -penalty
        target += self.scenario.satisfaction.baseline * quality
        if self.bad_service_in_use:
            target -= v.treatment_penalty[rows]
        return np.clip(target, 0.0, 1.0, out=target)

    def _initialise_service_equilibrium(self) -> None:
        """Start at today's service level: the scenario's churn rates are those observed now."""
        v = self.state.v
        self.state.refresh_profit()
        if self.scenario.morale.enabled:
            share = self._loss_effort_share(float(v.staffed_load.sum()))
            self.morale = mech.morale_target(share, self.scenario.morale.sensitivity)
        self._service_conditions()
        self.reference_penalty, self.reference_quality = self.penalty, self.quality
        v.satisfaction[:] = v.reference_satisfaction[:] = self._satisfaction_target(slice(None), self.penalty, self.quality)

    def _update_satisfaction(self) -> None:
        v = self.state.v
        step = self._satisfaction_target(slice(None), self.penalty, self.quality)
        step -= v.satisfaction
        step *= self.scenario.satisfaction.recovery_rate
        v.satisfaction += step

    def _churn(self, month: int) -> None:
        """Draw this month's leavers: partners' customers by their own hazard, ours by all multipliers."""
        sc = self.scenario
        v = self.state.v
        distrusting = sc.distrust.enabled and self.distrust > 0
        gap = v.reference_satisfaction - v.satisfaction if sc.churn.satisfaction_sensitivity else None
        mech.churn_hazard(
            v.base_hazard, gap, sc.churn.satisfaction_sensitivity,
            v.trust if self.trust_gap > 0 else None, sc.churn.trust_sensitivity,
            v.last_profit < sc.distrust.near_threshold_profit if distrusting else None, self.distrust,
            out=v.hazard,
        )
        draws = self.uniforms(STREAM_CHURN, month)
        leaving = np.flatnonzero(draws < v.hazard)  # off-books rows have hazard 0
        if len(self.partner_rows):
            partners = self.partner_rows
            lost = draws[partners] < v.churn_probability[partners]
            v.status[partners[lost]] = PARTNER_LEFT
            v.partner_fee[partners[lost]] = 0.0
            self.q["partner_lost"] += int(lost.sum())
            self.partner_rows = partners[~lost]
        if len(leaving) == 0:
            return
        badly_treated = int(v.abrupt[leaving].sum())
        pushed_out = int(v.pending_exit[leaving].sum())  # left before their notice ran out
        self.remove(leaving, CHURNED, month)
        self.q["churned"] += len(leaving)
        if badly_treated:
            self.word_of_mouth(badly_treated)
        if pushed_out:
            self.raise_distrust(pushed_out, self.active_count + len(leaving))

    def remove(self, rows: np.ndarray, status: int, month: int) -> None:
        """Customers at ``rows`` (all active) leave our books."""
        self.state.leave_books(rows, status, month)
        self.active_count -= len(rows)
        if status == PARTNER:
            self.partner_rows = np.concatenate([self.partner_rows, rows])

    # ------------------------------------------------------------------ the month
    def _tick(self, month: int) -> None:
        sc = self.scenario
        self._service_conditions()
        if sc.capacity.enabled or sc.morale.enabled or self.bad_service_in_use:
            self._update_satisfaction()
        if sc.churn.enabled:
            self._churn(month)
        self._acquire(month)
        self._book_month(month)
        self._drift()
        if (month + 1) % 3 == 0:
            record_quarter(self, month)
            self._reset_quarter()

    def _book_month(self, month: int) -> None:
        """The month's accounts: revenue grows, then profit = revenue × profit rate − fixed costs."""
        v = self.state.v
        v.revenue *= v.growth_factor
        billed = v.revenue * v.billing_rate
        self.state.refresh_profit()
        v.quarter_revenue += billed
        v.quarter_profit += v.last_profit
        billed_total = float(billed.sum())
        fees = 0.0
        if len(self.partner_rows):
            partners = self.partner_rows
            v.partner_fee[partners] *= v.growth_factor[partners]  # the fee is a share of a growing margin
            fees = float(v.partner_fee[partners].sum())
        revenue_total = billed_total + fees
        cost_total = billed_total - float(v.last_profit.sum()) + self.pending_cost
        self.pending_cost = 0.0
        month_profit = revenue_total - cost_total
        self.cumulative_profit += month_profit
        self.npv += month_profit / (1.0 + self.monthly_discount) ** (month + 1)
        self.q["revenue"] += revenue_total
        self.q["cost"] += cost_total
        self.q["billed"] += billed_total
        self.q["partner_fees"] += fees

    def _drift(self) -> None:
        """Slow variables drift back: trust and reputation recover, distrust fades."""
        sc = self.scenario
        recovery = sc.reputation.recovery_rate
        if recovery:
            if self.trust_gap > 0:
                v = self.state.v
                v.trust += recovery * (1.0 - v.trust)
                self.trust_gap *= 1.0 - recovery
                if self.trust_gap < 1e-9:
                    v.trust[:] = 1.0
                    self.trust_gap = 0.0
            self.reputation = float(self.reputation + recovery * (sc.reputation.initial - self.reputation))
        self.distrust *= 1.0 - sc.distrust.decay

    def _acquire(self, month: int) -> None:
        """New customers from competitors' (at reputation) and by referral; they join as one cohort."""
        sc = self.scenario
        v = self.state.v
        prospects = max(0.0, sc.market.size - self.active_count - len(self.partner_rows) - self.blocked_prospects)
        reputation_factor = self.reputation / sc.reputation.initial if sc.reputation.initial > 0 else 0.0
        expected = 0.0
        if sc.market.acquisition_enabled:
            expected += sc.market.acquisition_rate * prospects * reputation_factor
            # Lost to word of mouth: reached prospects who would have come, and the reputation gap.
            self.q["lost_acquisitions"] += sc.market.acquisition_rate * (
                min(self.blocked_prospects, sc.market.size) + prospects * max(0.0, 1.0 - reputation_factor)
            )
        if sc.word_of_mouth.enabled and sc.word_of_mouth.referrals:
            baseline = max(sc.satisfaction.baseline, 1e-9)  # satisfied customers refer more
            expected += float(np.dot(v.referral_rate, v.satisfaction)) / baseline * reputation_factor
        if expected <= 0:
            return
        count = int(min(self.rng(STREAM_ACQUISITION_COUNT, month).poisson(expected), prospects))
        if count == 0:
            return
        # The k-th newcomer of a month is the same customer in every strategy that wins at least k.
        rows = self.rng(STREAM_ACQUISITION_ROWS, month).integers(0, len(self.population), count)
        newcomers = self.population.take(rows)
        latent = self._latent_churn(self.rng(STREAM_ACQUISITION_LATENT, month), count)
        added = self.state.append(
            newcomers, latent, month, month + 1, sc.economics.cost_of_capital,
            contract_term=sc.population.contract_term_months,
        )
        v = self.state.v
        v.reference_satisfaction[added] = self._satisfaction_target(added, self.reference_penalty, self.reference_quality)
        v.satisfaction[added] = self._satisfaction_target(added, self.penalty, self.quality)
        self.state.refresh_profit(added)
        self._set_segments(added, self._segment_of(v.last_profit[added]))
        self.active_count += count
        self.pending_cost += count * sc.market.acquisition_cost
        self.q["acquired"] += count

    # ------------------------------------------------------------------ contracts and reviews
    def _renew_contracts(self, month: int) -> None:
        v = self.state.v
        due = np.flatnonzero(v.contract_end == month)
        due = due[v.status[due] == ACTIVE]
        exiting = v.pending_exit[due]
        self.divest(due[exiting], month)
        v.contract_end[due[~exiting]] += self.scenario.population.contract_term_months

    def divest(self, rows: np.ndarray, month: int) -> None:
        """End the relationships of the (active) customers at ``rows`` now; word of mouth and distrust follow."""
        if len(rows) == 0:
            return
        v = self.state.v
        active_before = self.active_count
        abrupt = int(v.abrupt[rows].sum())
        self.remove(rows, DIVESTED, month)
        self.q["divested"] += len(rows)
        self.word_of_mouth(abrupt + (len(rows) - abrupt) * self.scenario.word_of_mouth.graceful_fraction)
        self.raise_distrust(len(rows), active_before)

    def raise_distrust(self, leavers: int, active_before: int) -> None:
        """Remaining customers near the threshold sense they may be next (seed 000)."""
        if self.scenario.distrust.enabled and active_before:
            self.distrust += self.scenario.distrust.strength * leavers / active_before

    def _segment_of(self, profit: np.ndarray) -> np.ndarray:
        """Segment of customers by the profit cut points of the last review (1 = most profitable)."""
        if len(self.segment_cuts) == 0:
            return np.full(len(profit), SEGMENT_COUNT, dtype=np.int8)
        segment = np.ones(len(profit), dtype=np.int8)
        for cut in self.segment_cuts:  # one pass per cut point: faster than a binary search per customer
            segment += profit <= cut
        return segment

    def _resegment(self) -> None:
        """Eight value segments by this month's profit rank among active customers (seed 004)."""
        v = self.state.v
        profit = np.sort(v.last_profit[v.status == ACTIVE])
        if len(profit) == 0:
            return
        self.segment_cuts = sorted_quantiles(profit, 1.0 - np.array(SEGMENT_TOP_SHARES))
        v.segment[:] = self._segment_of(v.last_profit)
        np.take(self.segment_multiplier, v.segment - 1, out=v.segment_hazard)
        self.state.refresh_hazards()

    def _set_segments(self, rows: slice | np.ndarray, segment: np.ndarray) -> None:
        v = self.state.v
        v.segment[rows] = segment
        v.segment_hazard[rows] = self.segment_multiplier[segment - 1]
        self.state.refresh_hazards(rows)

    def _review(self, month: int) -> None:
        """Quarterly review: re-segment, then walk customers down the strategy's ladder."""
        from .policies import apply_strategy

        self._resegment()
        apply_strategy(self, month)

    # ------------------------------------------------------------------ word of mouth
    def word_of_mouth(self, tellers: float) -> None:
        """Schedule the waves of stories ``tellers`` badly treated leavers set off (seed 001)."""
        wom = self.scenario.word_of_mouth
        if not wom.enabled or tellers <= 0:
            return
        total = tellers * wom.first_hand * wom.second_hand
        first = min(tellers * wom.first_hand, total)
        self.wave_counter += 1
        self.schedule(wom.first_wave_months, self._wave_arrives, first, 2 * self.wave_counter)
        self.schedule(wom.second_wave_months, self._wave_arrives, total - first, 2 * self.wave_counter + 1)

    def _wave_arrives(self, expected_people: float, key: int) -> None:
        """A wave of stories reaches people: customers lose trust, prospects won't buy, reputation falls."""
        if expected_people <= 0:
            return
        sc = self.scenario
        rng = self.rng(STREAM_WORD_OF_MOUTH, key)
        people = int(rng.poisson(expected_people))
        if people == 0:
            return
        v = self.state.v
        customers = int(rng.binomial(people, min(1.0, self.active_count / sc.market.size)))
        prospects = people - customers
        if customers and self.active_count:
            hit = self.rng(STREAM_TRUST_TARGETS, key).choice(np.flatnonzero(v.status == ACTIVE), size=customers)
            np.subtract.at(v.trust, hit, sc.word_of_mouth.trust_loss)
            np.maximum(v.trust, 0.0, out=v.trust)
            self.trust_gap = max(self.trust_gap, 1.0 - float(v.trust[hit].min()))
        pool = sc.market.size - self.active_count - len(self.partner_rows)
        if prospects and sc.word_of_mouth.prospect_memory_months and pool > 0:
            # People already put off by an earlier story are reached again, not put off twice.
            fresh = prospects * max(0.0, 1.0 - self.blocked_prospects / pool)
            self.blocked_prospects += fresh
            self.schedule(sc.word_of_mouth.prospect_memory_months, self._release_prospects, fresh)
        self.reputation = max(0.0, self.reputation - sc.word_of_mouth.reputation_loss * people / sc.market.size)
        self.q["wom_reach"] += people

    def _release_prospects(self, count: float) -> None:
        self.blocked_prospects = max(0.0, self.blocked_prospects - count)

    # ------------------------------------------------------------------ quarters
    def _reset_quarter(self) -> None:
        self.q: dict[str, float] = dict.fromkeys(QUARTER_FLOWS, 0.0)
        if hasattr(self, "state"):
            self.state.v.quarter_revenue[:] = 0.0
            self.state.v.quarter_profit[:] = 0.0


def sorted_quantiles(ordered: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """``np.quantile`` (linear interpolation) of an already sorted array, without partitioning it again."""
    position = shares * (len(ordered) - 1)
    below = np.floor(position).astype(int)
    above = np.minimum(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def expected_newcomers(scenario: Scenario, customers: int) -> int:
    """Rows to reserve for acquisitions, so the arrays rarely have to grow mid-run."""
    months = scenario.horizon_months
    market = scenario.market
    won = market.acquisition_rate * market.size * months if market.acquisition_enabled else 0.0
    referred = customers * scenario.population.referrals_per_year * months / 12
    return int(1.25 * (won + referred)) + 1024
