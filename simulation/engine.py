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

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from threadpoolctl import threadpool_limits

from . import mechanisms as mech
from .concentration import concentration_measures, lorenz_curve
from .population import SEGMENT_LABELS, SEGMENT_TOP_SHARES, Population, cost_per_contact, staffed_channels
from .scenario import SEGMENT_COUNT, Scenario
from .state import ACTIVE, CHURNED, DIVESTED, PARTNER, PARTNER_LEFT, CustomerState
from .strategy_spec import StrategySpec
from .valuation import lifetime_values

# Stream identifiers: one independent random stream per mechanism (and month).
STREAM_LATENT, STREAM_CHURN, STREAM_ACQUISITION_COUNT, STREAM_ACQUISITION_ROWS = 1, 2, 3, 4
STREAM_ACQUISITION_LATENT, STREAM_WORD_OF_MOUTH, STREAM_TRUST_TARGETS = 5, 6, 7
STREAM_ACTION_BASE = 100  # + step index: one stream per step of a strategy's ladder

LIFETIME_MONTHS = 120  # horizon of lifetime values and the option to abandon, months


def add_months(date: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``date`` (which is a first of month)."""
    index = date.year * 12 + (date.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_label(date: dt.date) -> str:
    return f"{date.year}Q{(date.month - 1) // 3 + 1}"


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
        self.channel_cost = cost_per_contact(scenario, population.channel_names)
        self.channel_staffed = staffed_channels(scenario, population.channel_names)
        self.segment_multiplier = np.array(scenario.churn.segment_multipliers)
        self.monthly_discount = scenario.economics.monthly_discount_rate
        self.market_mean_revenue = float(population.revenue.mean()) if len(population) else 0.0

        growth_room = int(len(population) * 0.5) + 1024
        self.state = CustomerState(len(population) + growth_room, self.channel_cost, self.channel_staffed)
        latent = self._latent_churn(self.rng(STREAM_LATENT, 0), len(population))
        self.state.append(population, latent, 0, scenario.economics.cost_of_capital, scenario.satisfaction.baseline)

        # Scalars that evolve month by month.
        self.month = 0
        self.morale = 1.0
        self.wait_minutes = 0.0
        self.reputation = scenario.reputation.initial
        self.distrust = 0.0
        self.blocked_prospects = 0.0
        self.cumulative_profit = 0.0
        self.npv = 0.0
        self.segment_cuts = np.array([])
        self.pending_cost = 0.0  # one-off action costs booked at the next month's accounts
        self.pending_revenue = 0.0
        self.wave_counter = 0
        self.bad_service_in_use = False  # set once an abrupt divestment degrades someone's service
        self.trust_dented = False  # set once word of mouth reaches a customer
        self.prices_changed = False  # set once a strategy moves a price off list
        self._reset_quarter()

        self._initialise_service_equilibrium()
        self._resegment()

    # ------------------------------------------------------------------ randomness
    def rng(self, stream: int, key: int) -> np.random.Generator:
        """The generator for one mechanism in one month of this replication (common to strategies)."""
        seed = np.random.SeedSequence(self.root_entropy, spawn_key=(self.replication, stream, key))
        return np.random.Generator(np.random.PCG64(seed))

    def _latent_churn(self, rng: np.random.Generator, count: int) -> np.ndarray:
        churn = self.scenario.churn
        if not churn.enabled:
            return np.zeros(count)
        return mech.beta_churn_probabilities(rng, count, churn.beta_alpha, churn.beta_beta, churn.heterogeneous)

    # ------------------------------------------------------------------ processes
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
        whole = int(month)
        days = float((self.month_starts[min(whole, self.months)] - self.month_starts[0]).days)
        if month > whole and whole < self.months:
            days += (month - whole) * (self.month_starts[whole + 1] - self.month_starts[whole]).days
        return days

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
            self.month = month
            self._tick(month)

    def schedule(self, delay_months: float, callback, *args) -> None:
        """Run ``callback(*args)`` ``delay_months`` from now (calendar-correct)."""

        def delayed():
            target = self._days_until(self.month + delay_months) if delay_months > 0 else self.env.now
            yield self.env.timeout(max(0.0, target - self.env.now))
            callback(*args)

        self.env.process(delayed())

    # ------------------------------------------------------------------ monthly dynamics
    def _current_profit(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-customer monthly (profit, billed revenue, cost to serve) at today's prices."""
        v = self.state.v
        billed = v.revenue * v.price
        cost = (
            v.revenue * v.cost_of_goods_share
            + v.account_management
            + v.contacts * v.contact_cost
            + billed * v.late_factor
        )
        return billed - cost, billed, cost

    def _service_conditions(self, active: np.ndarray) -> tuple[float, float]:
        """Queueing wait and service quality this month; updates staff morale."""
        v = self.state.v
        sc = self.scenario
        staffed = active & v.staffed
        staffed_contacts = float(np.dot(v.contacts, staffed))
        wait = 0.0
        penalty = 0.0
        if sc.capacity.enabled:
            cap = sc.capacity
            load = staffed_contacts * cap.handle_minutes / cap.agent_minutes_per_month
            wait = mech.erlang_c_wait(load, cap.agents, cap.handle_minutes, cap.max_wait_minutes)
            penalty = mech.wait_penalty(wait, cap.tolerated_wait_minutes, cap.satisfaction_loss_per_minute)
        quality = 1.0
        if sc.morale.enabled:
            loss_contacts = float(np.dot(v.contacts, staffed & (v.last_profit < 0)))
            share = loss_contacts / staffed_contacts if staffed_contacts > 0 else 0.0
            target = mech.morale_target(share, sc.morale.sensitivity)
            self.morale = float(mech.move_toward(self.morale, target, sc.morale.adjustment_rate))
            quality = 1.0 - sc.morale.quality_effect * (1.0 - self.morale)
        self.wait_minutes = wait
        return penalty, quality

    def _satisfaction_target(self, active: np.ndarray, penalty: float, quality: float) -> np.ndarray:
        v = self.state.v
        exposure = np.where(v.staffed, np.minimum(v.contacts, 1.0), 0.0) if penalty else 0.0
        target = self.scenario.satisfaction.baseline * quality - penalty * exposure - v.treatment_penalty
        return np.clip(target, 0.0, 1.0)

    def _initialise_service_equilibrium(self) -> None:
        """Start at today's service level: the scenario's churn rates are those observed now."""
        v = self.state.v
        profit, _, _ = self._current_profit()
        v.last_profit[:] = profit
        active = v.status == ACTIVE
        if self.scenario.morale.enabled:
            staffed = active & v.staffed
            total = float(v.contacts[staffed].sum())
            share = float(v.contacts[staffed & (profit < 0)].sum()) / total if total > 0 else 0.0
            self.morale = mech.morale_target(share, self.scenario.morale.sensitivity)
        penalty, quality = self._service_conditions(active)
        target = self._satisfaction_target(active, penalty, quality)
        v.satisfaction[:] = target
        v.reference_satisfaction[:] = target

    def _tick(self, month: int) -> None:
        sc = self.scenario
        v = self.state.v
        active = v.status == ACTIVE
        on_books_or_partner = active | (v.status == PARTNER)

        # 1. Service: queueing and morale set this month's satisfaction.
        penalty, quality = self._service_conditions(active)
        if sc.capacity.enabled or sc.morale.enabled or self.bad_service_in_use:
            target = self._satisfaction_target(active, penalty, quality)
            v.satisfaction[:] = mech.move_toward(v.satisfaction, target, sc.satisfaction.recovery_rate)

        # 2. Churn: each customer's sBG probability times satisfaction, trust, price and distrust.
        leaving = np.zeros(self.state.size, dtype=bool)
        if sc.churn.enabled:
            distrust = None
            if sc.distrust.enabled and self.distrust > 0:
                at_risk = v.last_profit < sc.distrust.near_threshold_profit
                distrust = np.where(at_risk, 1.0 + self.distrust, 1.0)
            v.hazard[:] = mech.churn_hazard(
                v.churn_probability,
                v.segment_hazard,
                v.reference_satisfaction - v.satisfaction,
                sc.churn.satisfaction_sensitivity,
                v.trust if self.trust_dented else None,
                sc.churn.trust_sensitivity,
                v.price if self.prices_changed else None,
                sc.churn.price_elasticity,
                distrust,
            )
            draws = self.rng(STREAM_CHURN, month).random(self.state.size)
            leaving = on_books_or_partner & (draws < v.hazard)
        else:
            v.hazard[:] = 0.0
        churned_now = leaving & active
        partner_lost = leaving & (v.status == PARTNER)
        v.status[churned_now] = CHURNED
        v.status[partner_lost] = PARTNER_LEFT
        v.exit_month[leaving] = month
        badly_treated = int((churned_now & v.abrupt).sum())
        self.q["churned"] += int(churned_now.sum())
        if badly_treated:
            self.word_of_mouth(badly_treated, month)
        pushed_out = int((churned_now & v.pending_exit).sum())  # left before the notice ran out
        if pushed_out:
            self.raise_distrust(pushed_out)

        # 3. Acquisition from the rest of the market, plus referrals from satisfied customers.
        self._acquire(month)
        v = self.state.v
        active = v.status == ACTIVE

        # 4. Accounts for the month.
        v.revenue *= 1.0 + v.monthly_growth
        profit, billed, cost = self._current_profit()
        on_books = active.astype(np.float64)
        billed_total = float(np.dot(billed, on_books))
        revenue_total = billed_total + float(np.dot(v.partner_fee, v.status == PARTNER)) + self.pending_revenue
        cost_total = float(np.dot(cost, on_books)) + self.pending_cost
        self.pending_cost = self.pending_revenue = 0.0
        month_profit = revenue_total - cost_total
        self.cumulative_profit += month_profit
        self.npv += month_profit / (1.0 + self.monthly_discount) ** (month + 1)
        v.last_profit[:] = profit
        v.quarter_revenue += billed * on_books
        v.quarter_cost += cost * on_books
        v.quarter_profit += profit * on_books
        v.seen_in_quarter |= active
        self.q["revenue"] += revenue_total
        self.q["cost"] += cost_total
        self.q["billed"] += billed_total

        # 5. Slow variables drift back: trust, reputation; distrust fades.
        recovery = sc.reputation.recovery_rate
        if recovery:
            if self.trust_dented:
                v.trust[:] = mech.move_toward(v.trust, 1.0, recovery)
            self.reputation = float(self.reputation + recovery * (sc.reputation.initial - self.reputation))
        self.distrust *= 1.0 - sc.distrust.decay

        if (month + 1) % 3 == 0:
            self._record_quarter(month)

    def _acquire(self, month: int) -> None:
        sc = self.scenario
        v = self.state.v
        active_count = int((v.status == ACTIVE).sum())
        partner_count = int((v.status == PARTNER).sum())
        prospects = max(0.0, sc.market.size - active_count - partner_count - self.blocked_prospects)
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
            referrals = float(np.dot(v.referrals_per_month * v.satisfaction, v.status == ACTIVE)) / baseline
            expected += referrals * reputation_factor
        if expected <= 0:
            return
        count = int(min(self.rng(STREAM_ACQUISITION_COUNT, month).poisson(expected), prospects))
        if count == 0:
            return
        rows = self.rng(STREAM_ACQUISITION_ROWS, month).integers(0, len(self.population), count)
        newcomers = self.population.take(rows)
        latent = self._latent_churn(self.rng(STREAM_ACQUISITION_LATENT, month), count)
        satisfaction = sc.satisfaction.baseline * (1.0 - sc.morale.quality_effect * (1.0 - self.morale)) \
            if sc.morale.enabled else sc.satisfaction.baseline
        added = self.state.append(
            newcomers, latent, month, sc.economics.cost_of_capital, satisfaction,
            contract_term=sc.population.contract_term_months,
        )
        v = self.state.v
        billed = v.revenue[added] * v.price[added]
        v.last_profit[added] = billed - (
            v.revenue[added] * v.cost_of_goods_share[added] + v.account_management[added]
            + v.contacts[added] * v.contact_cost[added] + billed * v.late_factor[added]
        )
        self._set_segments(added, self._segment_of(v.last_profit[added]))
        self.pending_cost += count * sc.market.acquisition_cost
        self.q["acquired"] += count

    # ------------------------------------------------------------------ contracts and reviews
    def _renew_contracts(self, month: int) -> None:
        v = self.state.v
        due = (v.status == ACTIVE) & (v.contract_end == month)
        exiting = due & v.pending_exit
        if exiting.any():
            self.divest(exiting, month)
        renewing = due & ~v.pending_exit
        v.contract_end[renewing] += self.scenario.population.contract_term_months

    def divest(self, rows: np.ndarray, month: int) -> None:
        """End the relationships of the customers in the boolean mask ``rows`` now; word of mouth and distrust follow."""
        v = self.state.v
        count = int(rows.sum())
        if count == 0:
            return
        active_before = int((v.status == ACTIVE).sum())
        abrupt = int(v.abrupt[rows].sum())
        v.status[rows] = DIVESTED
        v.exit_month[rows] = month
        self.q["divested"] += count
        wom = self.scenario.word_of_mouth
        self.word_of_mouth(abrupt + (count - abrupt) * wom.graceful_fraction, month)
        self.raise_distrust(count, active_before)

    def raise_distrust(self, leavers: int, active_before: int | None = None) -> None:
        """Remaining customers near the threshold sense they may be next (seed 000)."""
        if not self.scenario.distrust.enabled:
            return
        base = active_before if active_before is not None else int((self.state.v.status == ACTIVE).sum()) + leavers
        if base:
            self.distrust += self.scenario.distrust.strength * leavers / base

    def _segment_of(self, profit: np.ndarray) -> np.ndarray:
        """Segment of customers by the profit cut points of the last review (1 = most profitable)."""
        if len(self.segment_cuts) == 0:
            return np.full(len(profit), SEGMENT_COUNT, dtype=np.int8)
        return (1 + np.searchsorted(-self.segment_cuts, -profit, side="right")).astype(np.int8)

    def _resegment(self) -> None:
        v = self.state.v
        active = v.status == ACTIVE
        profit = v.last_profit[active]
        if len(profit) == 0:
            return
        self.segment_cuts = np.quantile(profit, 1.0 - np.array(SEGMENT_TOP_SHARES))
        self._set_segments(slice(None), self._segment_of(v.last_profit))

    def _set_segments(self, rows: slice | np.ndarray, segment: np.ndarray) -> None:
        v = self.state.v
        v.segment[rows] = segment
        v.segment_hazard[rows] = self.segment_multiplier[segment - 1]

    def _review(self, month: int) -> None:
        """Quarterly review: re-segment, then walk customers one step down the strategy's ladder."""
        from .policies import apply_strategy

        self._resegment()
        apply_strategy(self, month)

    # ------------------------------------------------------------------ word of mouth
    def word_of_mouth(self, tellers: float, month: int) -> None:
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
        if expected_people <= 0:
            return
        sc = self.scenario
        rng = self.rng(STREAM_WORD_OF_MOUTH, key)
        people = int(rng.poisson(expected_people))
        if people == 0:
            return
        v = self.state.v
        active_rows = np.flatnonzero(v.status == ACTIVE)
        customers = int(rng.binomial(people, min(1.0, len(active_rows) / sc.market.size)))
        prospects = people - customers
        if customers and len(active_rows):
            hit = self.rng(STREAM_TRUST_TARGETS, key).choice(active_rows, size=customers)
            np.subtract.at(v.trust, hit, sc.word_of_mouth.trust_loss)
            self.trust_dented = True
            np.maximum(v.trust, 0.0, out=v.trust)
        if prospects and sc.word_of_mouth.prospect_memory_months:
            self.blocked_prospects += prospects
            self.schedule(sc.word_of_mouth.prospect_memory_months, self._release_prospects, prospects)
        self.reputation = max(0.0, self.reputation - sc.word_of_mouth.reputation_loss * people / sc.market.size)
        self.q["wom_reach"] += people

    def _release_prospects(self, count: int) -> None:
        self.blocked_prospects = max(0.0, self.blocked_prospects - count)

    # ------------------------------------------------------------------ outcomes
    def _reset_quarter(self) -> None:
        self.q: dict[str, float] = dict.fromkeys(
            ("revenue", "cost", "billed", "acquired", "churned", "divested", "migrated", "wom_reach",
             "lost_acquisitions"), 0.0,
        )
        if hasattr(self, "state"):
            v = self.state.v
            v.quarter_revenue[:] = 0.0
            v.quarter_cost[:] = 0.0
            v.quarter_profit[:] = 0.0
            v.seen_in_quarter[:] = False

    def _record_quarter(self, month: int) -> None:
        sc = self.scenario
        v = self.state.v
        quarter = (month + 1) // 3
        active = v.status == ACTIVE
        seen = v.seen_in_quarter
        contributions = v.quarter_profit[seen]
        active_count = int(active.sum())

        # Lifetime values with and without the option to abandon, for customers still on the books.
        rows = np.flatnonzero(active)
        price, late, goods = v.price.take(rows), v.late_factor.take(rows), v.cost_of_goods_share.take(rows)
        plain, with_option = lifetime_values(
            scaling_margin=v.revenue.take(rows) * (price * (1.0 - late) - goods),
            fixed_cost=v.account_management.take(rows) + v.contacts.take(rows) * v.contact_cost.take(rows),
            monthly_growth=v.monthly_growth.take(rows),
            retention=1.0 - v.hazard.take(rows),
            monthly_discount_rate=self.monthly_discount,
            lifetime_months=LIFETIME_MONTHS,
        )
        competitors = max(0, sc.market.size - active_count)
        market_revenue = self.q["billed"] + competitors * self.market_mean_revenue * 3
        profit = self.q["revenue"] - self.q["cost"]
        period_end = self.month_starts[month + 1] - dt.timedelta(days=1)
        self.output.quarters.append(
            {
                "strategy": self.strategy_name,
                "replication": self.replication,
                "quarter": quarter,
                "quarter_label": quarter_label(self.month_starts[month - 2]),
                "period_end": period_end.isoformat(),
                "revenue": self.q["revenue"],
                "cost": self.q["cost"],
                "profit": profit,
                "cumulative_profit": self.cumulative_profit,
                "npv": self.npv,
                "customer_equity": float(plain.sum()),
                "active_customers": active_count,
                "acquired": int(self.q["acquired"]),
                "churned": int(self.q["churned"]),
                "divested": int(self.q["divested"]),
                "migrated": int(self.q["migrated"]),
                "market_share": active_count / sc.market.size,
                "revenue_market_share": self.q["billed"] / market_revenue if market_revenue > 0 else float("nan"),
                "reputation": self.reputation,
                "wom_reach": int(self.q["wom_reach"]),
                "lost_acquisitions": self.q["lost_acquisitions"],
                **concentration_measures(contributions),
                "option_value": float((with_option - plain).sum()),
                "option_turns_positive": int(((plain < 0) & (with_option > 0)).sum()),
                "satisfaction": float(np.dot(v.satisfaction, active)) / active_count if active_count else float("nan"),
                "morale": self.morale,
                "wait_minutes": self.wait_minutes,
            }
        )
        segment = np.where(seen, v.segment, 0)  # 0 collects customers not on the books this quarter
        bins = SEGMENT_COUNT + 1
        counts = np.bincount(segment, minlength=bins)
        revenue = np.bincount(segment, weights=v.quarter_revenue, minlength=bins)
        cost = np.bincount(segment, weights=v.quarter_cost, minlength=bins)
        profit_by_segment = np.bincount(segment, weights=v.quarter_profit, minlength=bins)
        for index in range(1, bins):
            self.output.segments.append(
                {
                    "strategy": self.strategy_name,
                    "replication": self.replication,
                    "quarter": quarter,
                    "segment": index,
                    "segment_label": SEGMENT_LABELS[index - 1],
                    "customers": int(counts[index]),
                    "revenue": float(revenue[index]),
                    "cost": float(cost[index]),
                    "profit": float(profit_by_segment[index]),
                }
            )
        if quarter == sc.horizon_quarters:
            share, cumulative = lorenz_curve(contributions, points=51)
            for customer_share, profit_share in zip(share, cumulative, strict=True):
                self.output.lorenz.append(
                    {
                        "strategy": self.strategy_name,
                        "replication": self.replication,
                        "customer_share": float(customer_share),
                        "profit_share": float(profit_share),
                    }
                )
        self._reset_quarter()
