"""Word of mouth: a badly treated leaver tells about 9 people, each of whom tells about 4 more (Hitt 2003),
in two waves months apart. Reached customers lose trust, reached prospects will not buy for a while, and
the market's heard share grows; satisfied customers refer new ones."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from simulation.book.outcome_types import Board, Outcome
from simulation.core.schema import Real, Section, Switch, Whole, in_plain_words
from simulation.core.streams import Stream
from simulation.mechanisms.base import Acquisition, Mechanism, Run


class WordOfMouthSpec(Section):
    """Word of mouth after badly treated exits: each tells about 9 people, each of whom tells 4 more (Mohl, The Boston Globe)."""

    enabled: Switch = Field(True, description="Switch word of mouth off: no stories, good or bad, and no referrals")
    referrals: Switch = Field(True, description="Satisfied customers refer new customers (positive word of mouth)")
    first_hand: Real = Field(9.0, ge=0, le=1000, description="People a badly treated leaver tells, people",
            json_schema_extra=in_plain_words("People a badly treated leaver tells", (0.5, 2.0)))
    second_hand: Real = Field(4.0, ge=0, le=1000, description="People each first-hand listener tells, people",
            json_schema_extra=in_plain_words("People each listener to a bad story tells in turn", (0.5, 2.0)))
    first_wave_months: Real = Field(1.0, ge=0, le=24, description="Delay of the first wave, months")
    second_wave_months: Real = Field(2.0, ge=0, le=24, description="Delay of the second wave, months")
    graceful_fraction: Real = Field(
        0.1, ge=0, le=1, description="Reach of a graceful exit relative to an abrupt one, fraction",
        json_schema_extra=in_plain_words("How far word of a graceful exit spreads", (0.5, 2.0)),
    )
    migration_fraction: Real = Field(
        0.05, ge=0, le=1, description="Reach of a migration relative to an abrupt exit, fraction",
        json_schema_extra=in_plain_words("How far word of a move to another channel spreads", (0.5, 2.0)),
    )
    prospect_memory_months: Whole = Field(
        24, ge=0, le=240, description="How long a reached prospect will not buy from us, months"
    )
    trust_loss: Real = Field(
        0.2, ge=0, le=1, description="Trust a reached customer loses, on a 0–1 scale",
        json_schema_extra=in_plain_words("Trust lost by a customer who hears a bad story", (0.5, 2.0)),
    )
    reputation_loss: Real = Field(
        5.0, ge=0, le=100,
        description="How fast reputation falls with the share of the market that has heard a bad story: "
                    "reputation = initial × exp(−reputation_loss × share)",
        json_schema_extra=in_plain_words("How fast bad stories erode reputation", (0.5, 2.0)),
    )


@dataclass(frozen=True)
class WaveTrace:
    """A wave of stories: told after exits in ``told_month``, landing in ``landed_month``."""

    wave: int  # waves are numbered in the order they are set off; the first and second of one telling share ``telling``
    telling: int
    told_month: int
    landed_month: int
    tellers: float  # abrupt-exit equivalents who set it off
    expected_people: float
    people: int  # people reached (Poisson draw)
    customers_reached: int
    prospects_reached: int


class WordOfMouth(Mechanism[WordOfMouthSpec]):
    """Waves of stories after exits, prospects shut out while they remember, and referrals."""

    name = "word of mouth"
    sections = {"word_of_mouth": WordOfMouthSpec}
    outcomes = (
        Outcome("wom_heard_share", "level", "share",
                "share of the market that has heard a bad story and not yet forgotten it (a person told twice has "
                "heard once); saturates at 1", lambda e: e.values["heard_share"]),
        Outcome("wom_reach", "flow", "people", "people reached by stories of bad treatment (told twice, counted twice)",
                lambda e: e.flows.wom_reach,
                better="lower",
                board=Board(11, "People hearing bad stories", panel="People hearing bad stories")),
    )
    traced = ("heard_share",)

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self.wave_count = 0
        self.telling_count = 0
        self._heard_at_acquisition = 0.0

    def pushed_out(self, count: int, abrupt: int, active_before: int) -> None:
        self.stories(abrupt + (count - abrupt) * self.settings.graceful_fraction)

    def stories(self, tellers: float) -> None:
        """Schedule the waves of stories ``tellers`` badly treated leavers set off."""
        spec = self.settings
        if not spec.enabled or tellers <= 0:
            return
        total = tellers * spec.first_hand * spec.second_hand
        first = min(tellers * spec.first_hand, total)
        self.telling_count += 1
        told = self.run.current_month
        for delay, people in ((spec.first_wave_months, first), (spec.second_wave_months, total - first)):
            self.wave_count += 1
            self.run.schedule(delay, self._wave_arrives, self.wave_count, self.telling_count, told, tellers, people)

    def _wave_arrives(self, wave: int, telling: int, told_month: int, tellers: float, expected_people: float) -> None:
        """A wave of stories reaches people: customers lose trust, prospects won't buy, the market hears."""
        run, spec, market = self.run, self.settings, self.run.market
        size = run.scenario.market.size
        people = customers = 0
        if expected_people > 0:
            rng = run.generator(Stream.WORD_OF_MOUTH, wave)
            people = int(rng.poisson(expected_people))
        if people:
            customers = int(rng.binomial(people, min(1.0, run.active_count / size)))
        prospects = people - customers
        run.trace.waves.append(WaveTrace(wave, telling, told_month, run.current_month, tellers, expected_people,
                                         people, customers, prospects))
        if people == 0:
            return
        if customers and run.active_count:
            trust = run.customers.trust
            hit = run.generator(Stream.TRUST_TARGETS, wave).choice(run.active_rows(), size=customers)
            np.subtract.at(trust, hit, spec.trust_loss)
            np.maximum(trust, 0.0, out=trust)
            market.trust_gap = max(market.trust_gap, 1.0 - float(trust[hit].min()))
        pool = size - run.active_count - run.partner_count
        if prospects and spec.prospect_memory_months and pool > 0:
            # People already put off by an earlier story are reached again, not put off twice.
            fresh = prospects * max(0.0, 1.0 - market.blocked_prospects / pool)
            market.blocked_prospects += fresh
            run.schedule(spec.prospect_memory_months, self._release_prospects, fresh)
        # People are reached at random across the market: the share who have heard saturates at 1.
        market.heard_share = 1.0 - (1.0 - market.heard_share) * math.exp(-people / size)
        run.flows.wom_reach += people

    def _release_prospects(self, count: float) -> None:
        market = self.run.market
        market.blocked_prospects = max(0.0, market.blocked_prospects - count)

    def shape_acquisition(self, acquisition: Acquisition) -> None:
        """Prospects who remember a story will not come; satisfied customers refer (positive word of mouth)."""
        run, market = self.run, self.run.market
        self._heard_at_acquisition = market.heard_share
        acquisition.prospects = max(0.0, acquisition.prospects - market.blocked_prospects)
        acquisition.shut_out += min(market.blocked_prospects, run.scenario.market.size)
        if self.settings.enabled and self.settings.referrals:
            baseline = max(run.scenario.satisfaction.baseline, 1e-9)  # satisfied customers refer more
            c = run.customers
            acquisition.referrals += float(np.dot(c.referral_rate, c.satisfaction)) / baseline

    def month_values(self) -> dict[str, float]:
        return {"heard_share": self._heard_at_acquisition}

    def quarter_values(self) -> dict[str, float]:
        return {"heard_share": self.run.market.heard_share}
