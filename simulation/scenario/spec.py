"""The scenario: every parameter of a run, typed, with units and ranges, validated on load.

A scenario is an immutable pydantic model. It comes from a YAML file, optionally changed by
``--set dotted.path=value`` overrides (the same paths sweeps vary). Every mechanism has an
``enabled`` switch so the model can be reduced to textbook cases.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Iterable, Literal, Mapping

from pydantic import BaseModel, Field, StringConstraints, ValidationError, create_model, field_validator, model_validator

from simulation.core.errors import ScenarioError
from simulation.core.formulas import churn_per_month
from simulation.core.parameter_paths import is_step_setting, resolve_path, set_path
from simulation.core.schema import Name, Real, Section, Switch, Text, Whole, in_plain_words
from simulation.core.segments import SEGMENT_COUNT
from simulation.mechanisms import mechanism_sections
from simulation.scenario.file import parse_yaml, read_text
from simulation.scenario.strategy import StrategySpec

# Whatever validates must run: the limits below are what the engine and this machine can take.
EARLIEST_START, LATEST_START = dt.date(1900, 1, 1), dt.date(2200, 1, 1)  # calendar arithmetic stays in range
MAX_MARKET_SIZE = 10_000_000_000  # more than the world's population
# A run's process is LOADED_BYTES (the interpreter, numpy, pandas, SimPy and the kernels) plus
# BYTES_PER_ROW for each reserved customer row at its peak (the columns, the month's temporaries, the
# quarter's outcomes): both measured by benchmarks/memory_rule.py, rounded up.
LOADED_BYTES = 320 << 20
BYTES_PER_ROW = 450
MEMORY_BUDGET_BYTES = 6 << 30  # one run's process; a 2-core, 24 GiB machine runs two at once
MAX_ROWS = (MEMORY_BUDGET_BYTES - LOADED_BYTES) // BYTES_PER_ROW
MAX_STRATEGIES = 50
MAX_CUSTOMERS = 5_000_000  # a population, synthetic or a company's own


MAX_SEGMENT_MULTIPLIER = 100.0  # a hazard multiplier past this makes every customer leave in the first month


class ChannelSpec(Section):
    cost_per_contact: Real = Field(ge=0, le=1e6, description="Cost of one service contact, currency per contact")
    staffed: Switch = Field(
        True, description="Contacts in this channel are answered by people and use service capacity"
    )


def _default_channels() -> dict[str, ChannelSpec]:
    # Fidelity's figures (Mittal, Sarkees & Murshed, HBR 2008): about $13 a call answered by a person, $1 automated.
    return {
        "call_centre": ChannelSpec(cost_per_contact=13.0, staffed=True),
        "online": ChannelSpec(cost_per_contact=1.0, staffed=False),
    }


class PopulationSpec(Section):
    """The synthetic customer population (used when no ledger or transaction log is given)."""

    customers: Whole = Field(20_000, ge=1, le=MAX_CUSTOMERS, description="Starting customers, count")
    revenue_median: Real = Field(40.0, gt=0, le=1e9, description="Median revenue, currency per month")
    revenue_sigma: Real = Field(
        1.8, ge=0, le=4, description="Spread of log revenue (lognormal sigma); 0 gives every customer the median"
    )
    cost_of_goods_share: Real = Field(
        0.7, ge=0, le=1, description="Cost of goods as a share of revenue, fraction",
        json_schema_extra=in_plain_words("Cost of goods, as a share of revenue", (0.8, 1.25)),
    )
    account_management: Real = Field(
        6.0, ge=0, le=1e9, description="Sales and marketing (account management) cost, currency per customer per month",
        json_schema_extra=in_plain_words("Cost of managing an account", (0.5, 2.0)),
    )
    contacts_mean: Real = Field(
        1.35, ge=0, le=1000, description="Mean service contacts, contacts per customer per month",
        json_schema_extra=in_plain_words("How often customers contact service", (0.5, 2.0)),
    )
    contacts_shape: Real = Field(
        0.4, gt=0, le=1e4, description="Gamma shape of contact rates; smaller means a few customers call very often"
    )
    contacts_revenue_elasticity: Real = Field(
        0.2, ge=0, le=1, description="How contacts grow with revenue: contacts ∝ revenue^elasticity"
    )
    channel_mix: dict[str, Real] = Field(
        default_factory=lambda: {"call_centre": 0.7, "online": 0.3},
        description="Share of customers served in each channel, fractions summing to 1",
    )
    late_payment_share: Real = Field(
        0.2, ge=0, le=1, description="Share of customers who pay late, fraction"
    )
    days_late_mean: Real = Field(30.0, ge=0, le=365, description="Mean delay of late payers, days")
    growth_mean: Real = Field(
        0.02, ge=-1, le=5, description="Mean expected revenue growth (potential value), fraction per year",
        json_schema_extra=in_plain_words("How fast customers' spending grows"),
    )
    growth_sd: Real = Field(0.10, ge=0, le=5, description="Spread of expected revenue growth, fraction per year")
    referrals_per_year: Real = Field(
        0.05, ge=0, le=10, description="Mean referrals a customer brings, new customers per year"
    )
    contract_term_months: Whole = Field(
        12, ge=1, le=120, description="Contract length; terminations wait for contract end, months"
    )

    @field_validator("channel_mix")
    @classmethod
    def _mix_sums_to_one(cls, mix: dict[str, Real]) -> dict[str, Real]:
        if not mix:
            raise ValueError("must name at least one channel")
        if any(share < 0 for share in mix.values()):
            raise ValueError(f"shares must be >= 0: {mix}")
        total = sum(mix.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1, they sum to {total:g}")
        return mix


class ChurnSpec(Section):
    """Churn: shifted-beta-geometric heterogeneity (Fader & Hardie) times hazard multipliers."""

    enabled: Switch = Field(True, description="Switch churn off entirely")
    beta_alpha: Real = Field(
        1.0, gt=0, le=1e4, description="Beta alpha of the per-customer churn probability per churn.period"
    )
    beta_beta: Real = Field(
        60.0, gt=0, le=1e4, description="Beta beta of the per-customer churn probability per churn.period"
    )
    period: Literal["month", "quarter", "year"] = Field(
        "month", description="Period the beta's churn probability is stated in (as fitted); the engine converts "
                             "each customer's θ exactly: 1 − (1 − θ)^(1/12) a month for a year, 1/3 for a quarter"
    )
    heterogeneous: Switch = Field(
        True, description="Draw each customer's churn probability from the beta; off gives all the mean"
    )
    segment_multipliers: tuple[Real, ...] = Field(
        (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4),
        description="Hazard multiplier per value segment, most profitable (S1) first, 8 values from 0 to 100",
    )
    satisfaction_sensitivity: Real = Field(
        3.0, ge=0, le=50, description="Hazard × exp(sensitivity × (baseline − satisfaction)); 0 switches it off",
        json_schema_extra=in_plain_words("How strongly dissatisfaction drives customers away", (0.5, 2.0)),
    )
    trust_sensitivity: Real = Field(
        2.0, ge=0, le=50, description="Hazard × exp(sensitivity × (1 − trust)); 0 switches it off",
        json_schema_extra=in_plain_words("How strongly lost trust drives customers away", (0.5, 2.0)),
    )
    price_elasticity: Real = Field(
        2.0, ge=0, le=20, description="Hazard × price_multiplier^elasticity; 0 means price never moves churn",
        json_schema_extra=in_plain_words("How strongly price rises drive customers away", (0.5, 2.0)),
    )

    @field_validator("segment_multipliers")
    @classmethod
    def _eight_segments(cls, values: tuple[Real, ...]) -> tuple[Real, ...]:
        if len(values) != SEGMENT_COUNT:
            raise ValueError(f"must have {SEGMENT_COUNT} values, one per segment, got {len(values)}")
        if any(not 0 <= v <= MAX_SEGMENT_MULTIPLIER for v in values):
            raise ValueError(f"must all be from 0 to {MAX_SEGMENT_MULTIPLIER:g} (a hazard multiplier): {values}")
        return values

    @property
    def mean_monthly_churn(self) -> float:
        """The beta's mean churn probability, as a monthly probability (exact at whole periods)."""
        return float(churn_per_month(self.beta_alpha / (self.beta_alpha + self.beta_beta), self.period))


class SatisfactionSpec(Section):
    baseline: Real = Field(0.8, ge=0, le=1, description="Satisfaction customers return to, 0–1")
    recovery_rate: Real = Field(
        0.3, ge=0, le=1, description="Share of the gap to baseline closed each month, fraction",
        json_schema_extra=in_plain_words("How fast satisfaction recovers"),
    )


class MarketSpec(Section):
    """A market of fixed size shared with competitors; leavers go to competitors."""

    size: Whole = Field(400_000, ge=1, le=MAX_MARKET_SIZE,
                      description="Customers in the whole market, ours and competitors', count")
    acquisition_enabled: Switch = Field(True, description="Switch acquisition of new customers off")
    acquisition_rate: Real = Field(
        0.0006, ge=0, le=1, description="Share of competitors' customers we win each month at reputation 1, fraction",
        json_schema_extra=in_plain_words("How fast we win new customers", (0.5, 2.0)),
    )
    acquisition_cost: Real = Field(120.0, ge=0, le=1e9, description="Cost of winning one new customer, currency",
            json_schema_extra=in_plain_words("Cost of winning a new customer", (0.5, 2.0)))


class EconomicsSpec(Section):
    discount_rate: Real = Field(
        0.10, ge=0, le=1, description="Discount rate for NPV and lifetime values, fraction per year",
        json_schema_extra=in_plain_words("Discount rate"),
    )
    cost_of_capital: Real = Field(
        0.12, ge=0, le=1, description="Carrying cost of late payments, fraction per year"
    )

    @property
    def monthly_discount_rate(self) -> float:
        return (1.0 + self.discount_rate) ** (1.0 / 12.0) - 1.0


class UncertaintySpec(Section):
    """A plausible range for a parameter whose value is not measured, and where the range comes from."""

    low: Real = Field(description="Lowest plausible value")
    high: Real = Field(description="Highest plausible value")
    source: Text = Field(min_length=1, description="Where the range comes from: a study, a benchmark, or the reasoning")

    @model_validator(mode="after")
    def _ordered(self) -> "UncertaintySpec":
        if not self.low < self.high:
            raise ValueError(f"low must be below high: got low {self.low:g}, high {self.high:g}")
        return self


class LeverSpec(Section):
    """A setting of a strategy's step the company may choose, and the values worth trying: a range or a list."""

    low: Real | None = Field(None, description="Lowest value worth trying")
    high: Real | None = Field(None, description="Highest value worth trying")
    values: tuple[Any, ...] | None = Field(None, min_length=1, max_length=100,
                                           description="The values worth trying (a choice's, or a few numbers)")
    why: Text = Field("", description="Why the company may choose it, and why in this range")

    @model_validator(mode="after")
    def _range_or_values(self) -> "LeverSpec":
        if (self.values is None) == (self.low is None and self.high is None):
            raise ValueError("give low and high (a range) or values (a list), one of the two")
        if self.values is None and (self.low is None or self.high is None or not self.low < self.high):
            raise ValueError(f"a range needs low below high: got low {self.low}, high {self.high}")
        return self


Objective = Literal["npv_plus_book", "npv"]  # each the name of an outcome (simulation/model/outcomes.py)


class ReportSpec(Section):
    """How the board report reads the results: the baseline and what counts as a material difference."""

    question: Text = Field(
        "Should we keep, reprice, migrate or let go of our unprofitable customers?",
        description="The board's question, as the decision page states it (up to 300 characters)",
    )
    baseline: Name | None = Field(
        None, description="Strategy every other is compared with (empty: retain_all if defined, else the first)"
    )
    backtest_months: Whole | None = Field(
        None, ge=1, le=60,
        description="With a transaction log: fit it on all but its last this many months, simulate the baseline over "
                    "them and show the board how well the model predicted what happened (empty: no backtest)",
    )
    objective: Objective = Field(
        "npv_plus_book",
        description="What an option is judged by, on the decision page, in the robustness check and in a sweep of "
                    "the scenario: npv_plus_book (the profit over the horizon plus the value of the customers left "
                    "at its end, both in today's money) or npv (the profit over the horizon alone)",
    )
    materiality: Real = Field(
        0.01, ge=0, le=0.5,
        description="Smallest lead in the objective, as a share of the leader's value, the board treats as a real difference; "
                    "leaders closer than this (or within the simulation's noise) are a choice, not a winner",
    )
    tuned: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        None,
        description="A strategy file written by `clientele optimize` (best_strategy.yaml), relative to the scenario: "
                    "its tuned strategy joins the options, marked on the board's pages as found by search "
                    "(--tuned FILE on the command line)",
    )
    materiality_amount: Real = Field(
        0.0, ge=0, le=1e12,
        description="Smallest lead in the objective, in the scenario's currency, the board treats as real, beside the share: a "
                    "lead below either is a choice (0: the share alone)",
    )


class CalibrationSpec(Section):
    """How a run starts from a company's own data (``--transactions``, a dated ``--customers`` ledger)."""

    parameter_uncertainty: Switch = Field(
        True,
        description="Draw the fitted models' parameters from their estimated sampling distribution in every "
                    "replication, so a forecast's interval carries what the data cannot pin down (no: every "
                    "replication uses the estimates; each customer is still drawn from their own posterior)",
    )


class _ScenarioHead(Section):
    """The scenario's first fields: company, horizon, population and the core of the model."""

    name: Text = Field(description="Scenario title shown on the report (up to 300 characters)")
    company: Text = Field("Example company", description="Company named on the report cover (up to 300 characters)")
    currency: Text = Field("EUR", max_length=8, description="Currency of every amount")
    start_date: dt.date = Field(
        dt.date(2026, 10, 1), description="First day of the first simulated quarter (a calendar quarter)"
    )
    horizon_quarters: Whole = Field(12, ge=1, le=80, description="Length of the simulation, quarters")
    population: PopulationSpec = PopulationSpec()
    channels: dict[Name, ChannelSpec] = Field(default_factory=_default_channels)
    churn: ChurnSpec = ChurnSpec()
    satisfaction: SatisfactionSpec = SatisfactionSpec()
    market: MarketSpec = MarketSpec()
    sample_weight: Real = Field(
        1.0, ge=1, le=1000,
        description="Customers each simulated customer stands for: the book and the market are simulated as a sample "
                    "of one in this many (a company's data: every so many of its customers by revenue rank), the call "
                    "centre keeps its agents and meets the whole load, and money and counts are reported for the whole "
                    "book. 1 simulates every customer; a company-scale report's robustness futures use more",
    )

    if TYPE_CHECKING:  # the mechanisms' sections, added from their declarations below
        def __getattr__(self, name: str) -> Any: ...


if TYPE_CHECKING:
    _WithMechanisms = _ScenarioHead
else:  # each mechanism's sections (``mechanisms/``), in their order, with their defaults
    _WithMechanisms = create_model(
        "_WithMechanisms", __base__=_ScenarioHead, __module__=__name__,
        **{key: (section, section()) for key, section in mechanism_sections().items()},
    )


class Scenario(_WithMechanisms):
    """A whole scenario: company, horizon, population, mechanisms and strategies."""

    economics: EconomicsSpec = EconomicsSpec()
    report: ReportSpec = ReportSpec()
    calibration: CalibrationSpec = CalibrationSpec()
    citations: dict[Annotated[str, StringConstraints(min_length=1, max_length=200)], Text] = Field(
        default_factory=dict, max_length=500,
        description="Where values come from, by dotted path (e.g. channels.call_centre.cost_per_contact): "
                    "author, title, year — shown beside the value in the report's appendix",
    )
    uncertainties: dict[Annotated[str, StringConstraints(min_length=1, max_length=200)], UncertaintySpec] = Field(
        default_factory=dict, max_length=50,
        description="Parameters whose values are uncertain, by dotted path, each with a plausible range and its "
                    "source: the board report tests whether the recommendation holds across them",
    )
    levers: dict[Annotated[str, StringConstraints(min_length=1, max_length=200)], LeverSpec] = Field(
        default_factory=dict, max_length=20,
        description="Settings of a strategy's steps the company may choose, by path (strategies.NAME.steps.N.field), "
                    "each with the values worth trying: what `clientele optimize` searches when its file names none",
    )
    strategies: dict[Name, StrategySpec] = Field(
        default_factory=lambda: {"retain_all": StrategySpec(description="Keep everyone, serve everyone alike")},
        description="Strategies to compare, by name",
    )

    @property
    def baseline(self) -> str:
        """The strategy others are compared with: ``report.baseline``, else retain_all if defined, else the first."""
        if self.report.baseline is not None:
            return self.report.baseline
        return "retain_all" if "retain_all" in self.strategies else next(iter(self.strategies))

    def has_path(self, path: str) -> bool:
        """Whether a dotted path names a parameter (or section) of this scenario."""
        node: Any = self
        for part in path.split("."):
            if isinstance(node, BaseModel) and part in type(node).model_fields:
                node = getattr(node, part)
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return False
        return True

    def tuned_file(self, scenario_path: str | Path) -> Path | None:
        """The strategy file ``report.tuned`` names, where it lies (relative to the scenario file), or None."""
        return Path(scenario_path).parent / self.report.tuned if self.report.tuned else None

    def label(self, strategy: str) -> str:
        """The strategy's plain-English name for the board (its id when it has no label)."""
        spec = self.strategies.get(strategy)
        return spec.label if spec is not None and spec.label else strategy

    @field_validator("start_date", mode="before")
    @classmethod
    def _a_date(cls, value: Any) -> Any:
        """A date or YYYY-MM-DD text: not a number (pydantic would read 0 as 1970-01-01, a Unix time)."""
        if isinstance(value, dt.date) or (isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
            return value
        raise ValueError(f"must be a date as YYYY-MM-DD, got {value!r}")

    @field_validator("start_date")
    @classmethod
    def _quarter_start(cls, value: dt.date) -> dt.date:
        if value.day != 1 or value.month not in (1, 4, 7, 10):
            raise ValueError(
                f"must be the first day of a calendar quarter (Jan, Apr, Jul or Oct 1), got {value}"
            )
        if not EARLIEST_START <= value <= LATEST_START:
            raise ValueError(f"must be between {EARLIEST_START} and {LATEST_START}, got {value}")
        return value

    @field_validator("strategies")
    @classmethod
    def _not_too_many(cls, value: dict[str, StrategySpec]) -> dict[str, StrategySpec]:
        if len(value) > MAX_STRATEGIES:
            raise ValueError(f"must define at most {MAX_STRATEGIES} strategies, got {len(value)}")
        return value

    @model_validator(mode="after")
    def _channels_known(self) -> "Scenario":
        unknown = sorted(set(self.population.channel_mix) - set(self.channels))
        if unknown:
            raise ValueError(
                f"population.channel_mix names channels {unknown} not defined under channels "
                f"(known: {sorted(self.channels)})"
            )
        if not self.strategies:
            raise ValueError("strategies must define at least one strategy")
        for name, strategy in self.strategies.items():
            for step in strategy.steps:
                step.check_channels(self.channels, name)
        labels = [self.label(name) for name in self.strategies]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"strategies must have different labels: {', '.join(repr(r) for r in repeated)} "
                             f"is used more than once (a label defaults to the strategy's id)")
        unknown = [path for path in self.citations if not self.has_path(path)]
        if unknown:
            raise ValueError(f"citations name {', '.join(repr(p) for p in unknown)}, which "
                             f"{'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of the scenario "
                             f"(expected dotted paths such as 'word_of_mouth.first_hand')")
        for path, uncertainty in self.uncertainties.items():
            problem = _uncertainty_problem(path, uncertainty)
            if problem:
                raise ValueError(f"uncertainties.{path}: {problem}")
        for path, lever in self.levers.items():
            problem = _lever_problem(self, path, lever)
            if problem:
                raise ValueError(f"levers.{path}: {problem}")
        if self.report.baseline is not None and self.report.baseline not in self.strategies:
            raise ValueError(f"report.baseline names {self.report.baseline!r}, which is not a strategy "
                             f"(known: {', '.join(self.strategies)})")
        for key in mechanism_sections():
            problem = getattr(self, key).problem_in(self)
            if problem:
                raise ValueError(problem)
        problem = self.memory_problem()
        if problem:
            raise ValueError(problem)
        return self

    def sampled(self) -> "Scenario":
        """The scenario as the engine runs a sample of it: one customer in ``sample_weight`` and the market divided
        alike (the agents stay: capacity meets the whole load), so that shares, waits and word of mouth's reach are the
        whole book's. Everything outside the engine and the synthetic draw keeps the scenario as given (the whole book).
        """
        weight = self.sample_weight
        if weight == 1.0:
            return self
        customers = max(1, round(self.population.customers / weight))
        market = max(customers, round(self.market.size / weight))
        return self.model_copy(update={"population": self.population.model_copy(update={"customers": customers}),
                                       "market": self.market.model_copy(update={"size": market})})

    def reserved_rows(self, customers: int | None = None, referrals_per_year: float | None = None) -> int:
        """Rows of customer columns a run reserves: today's customers and the newcomers it expects.

        ``customers`` and ``referrals_per_year`` (the whole book's) default to the synthetic population's.
        """
        customers = self.population.customers if customers is None else customers
        if referrals_per_year is None:
            referrals_per_year = customers * self.population.referrals_per_year
        months = self.horizon_months
        won = self.market.acquisition_rate * self.market.size * months if self.market.acquisition_enabled else 0.0
        return customers + int(1.25 * (won + referrals_per_year * months / 12)) + 1024

    def memory_problem(self, customers: int | None = None, referrals_per_year: float | None = None) -> str | None:
        """Why a run of this scenario (on these customers) would not fit in memory, or None."""
        rows = self.reserved_rows(customers, referrals_per_year)
        needed = LOADED_BYTES + rows * BYTES_PER_ROW
        if needed <= MEMORY_BUDGET_BYTES:
            return None
        customers = self.population.customers if customers is None else customers
        return (f"{customers:,} customers with market.size {self.market.size:,}, market.acquisition_rate "
                f"{self.market.acquisition_rate:g} and {self.horizon_quarters} quarters need about {rows:,} customer "
                f"rows ({needed / 2**30:.1f} GiB with the program itself); at most {MAX_ROWS:,} rows "
                f"({MEMORY_BUDGET_BYTES / 2**30:.0f} GiB) fit a run")

    @property
    def horizon_months(self) -> int:
        return 3 * self.horizon_quarters

    @property
    def market_share_at_start(self) -> float:
        return self.population.customers / self.market.size

    def content_hash(self) -> str:
        """SHA-256 of the validated scenario: two runs with the same hash ran the same model."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _uncertainty_problem(path: str, uncertainty: UncertaintySpec) -> str | None:
    """Why a declared uncertainty cannot be swept: not a number of the scenario, or a range the schema refuses."""
    try:
        resolved = resolve_path(Scenario, path)
    except ValueError as exc:
        return f"'{path}' {exc}"
    if resolved.kind == "choice":
        return f"'{path}' is a choice, not a number; an uncertainty is a range of numbers"
    for end, value in (("low", uncertainty.low), ("high", uncertainty.high)):
        if resolved.kind == "integer" and value != int(value):
            return f"{end} must be a whole number ({path} counts): got {value:g}"
        rule = resolved.out_of_bounds(value)
        if rule:
            return f"{end} {rule} (the range of {path}): got {value:g}"
    return None


def _lever_problem(scenario: "Scenario", path: str, lever: LeverSpec) -> str | None:
    """Why a declared lever cannot be searched: not a setting of a strategy's step, or values its type refuses."""
    if not is_step_setting(path):
        return f"'{path}' is not a setting of a strategy's step (expected strategies.NAME.steps.N.field)"
    try:
        resolved = resolve_path(Scenario, path, scenario)
    except ValueError as exc:
        return f"'{path}' {exc}"
    tried = list(lever.values) if lever.values is not None else [lever.low, lever.high]
    if resolved.kind == "choice":
        if lever.values is None:
            return f"'{path}' is a choice: give values ({', '.join(map(repr, resolved.choices))}), not low and high"
        bad = [value for value in tried if resolved.choices and value not in resolved.choices]
        return f"'{path}' takes {', '.join(map(repr, resolved.choices))}: got {', '.join(map(repr, bad))}" if bad else None
    for value in tried:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"'{path}' takes numbers: got {value!r}"
        if resolved.kind == "integer" and value != int(value):
            return f"'{path}' takes whole numbers: got {value:g}"
        rule = resolved.out_of_bounds(value)
        if rule:
            return f"'{path}' {rule}: got {value:g}"
    return None


# --------------------------------------------------------------------------------------------
# Loading, overrides and error messages


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate a scenario file; every problem is a ScenarioError naming its source
    (the file, or the ``--set`` that set the value)."""
    path = Path(path)
    raw = parse_yaml(read_text(path), str(path))
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of scenario fields at top level, got {type(raw).__name__}")
    overrides = list(overrides)
    raw = apply_overrides(raw, overrides, source=str(path))
    return scenario_from_dict(with_tuned(raw, path), source=str(path), overrides=overrides)


def with_tuned(raw: dict[str, Any], scenario_path: str | Path) -> dict[str, Any]:
    """The scenario with the strategy file ``report.tuned`` names joined to its strategies (a path relative to the
    scenario file); unchanged when it names none, or when its strategies are in already (a scenario read back)."""
    report = raw.get("report")
    named = report.get("tuned") if isinstance(report, dict) else None
    if named is None:
        return raw
    if not isinstance(named, str) or not named.strip():
        raise ScenarioError(f"{scenario_path}: 'report.tuned' must name a strategy file (best_strategy.yaml), got "
                            f"{named!r}")
    path = Path(scenario_path).parent / named
    found = parse_yaml(read_text(path, "tuned strategy file"), str(path))
    if not isinstance(found, dict) or not found or not all(isinstance(block, dict) and "tuned" in block
                                                          for block in found.values()):
        raise ScenarioError(f"{path}: 'report.tuned' expected the strategy file `clientele optimize` writes "
                            f"(best_strategy.yaml: a strategy name, then its steps and a tuned: entry)")
    strategies = dict(raw.get("strategies") or {})
    for name, block in found.items():
        if name in strategies and strategies[name] != block and not (isinstance(strategies[name], dict)
                                                                     and strategies[name].get("tuned")):
            raise ScenarioError(f"{path}: 'report.tuned' adds the strategy {name!r}, but the scenario defines one of "
                                f"that name already; rename one of them")
        try:
            StrategySpec.model_validate(block)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ScenarioError(f"{path}: '{name}.{where}' {first['msg'].removeprefix('Value error, ')}: got "
                                f"{first.get('input')!r}") from None
        strategies[name] = block  # the file named wins over an earlier search's block pasted under the same name
    return {**raw, "strategies": strategies}


def scenario_from_dict(raw: Mapping[str, Any], source: str = "<scenario>", overrides: Iterable[str] = ()) -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, override_sources(overrides))) from None


def override_sources(overrides: Iterable[str]) -> dict[str, str]:
    """Dotted path → the ``--set`` that gave it, for messages and the report's appendix."""
    return {override.partition("=")[0].strip(): f"--set {override}" for override in overrides if "=" in override}


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str], source: str) -> dict[str, Any]:
    """Apply ``dotted.path=value`` overrides to the raw mapping; values are parsed as YAML."""
    result = json.loads(json.dumps(raw, default=str))  # deep copy of plain data (aliases were bounded on reading)
    for override in overrides:
        if "=" not in override:
            raise ScenarioError(f"--set {override!r}: expected dotted.path=value, e.g. market.size=500000")
        dotted, _, text = override.partition("=")
        keys = [k.strip() for k in dotted.strip().split(".")]
        if not dotted.strip() or any(not key for key in keys):
            raise ScenarioError(f"--set {override!r}: expected dotted.path=value with names between the dots")
        value = parse_yaml(text, f"--set {override}")
        try:
            set_path(result, ".".join(keys), value)
        except ScenarioError as exc:
            raise ScenarioError(f"--set {override}: {str(exc).split(' (setting ')[0]}") from None
    return result


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc`` (used to suggest typo fixes)."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            # dict keys (strategy names, channel names): descend into the dict's value type
            return None
        annotation = field.annotation
        model = _innermost_model(annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _innermost_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if args:
        for arg in reversed(args):
            found = _innermost_model(arg)
            if found is not None:
                return found
    return None


def _path_text(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "<top level>"


def _source_of(path: str, file_source: str, overrides: Mapping[str, str]) -> str:
    """The ``--set`` that gave the value at ``path`` (or the section holding it), else the file."""
    for dotted, override in sorted(overrides.items(), key=lambda item: -len(item[0])):
        if path == dotted or path.startswith(dotted + ".") or path.startswith(dotted + "["):
            return override
    return file_source


def format_validation_error(exc: ValidationError, source: str, overrides: Mapping[str, str] | None = None) -> str:
    """One line per problem in the attrs pattern: source (file or --set), field path, rule, value received."""
    lines = []
    file_source = source
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        loc = tuple(p for p in loc if p not in {"tagged-union", "union"})
        if loc and loc[-1] == "[key]":  # a name used as a key (a strategy's, a channel's)
            loc = loc[:-1]
        path = _path_text(loc)
        source = _source_of(path, file_source, overrides or {})
        value = error.get("input")
        if error["type"] == "extra_forbidden":
            owner = _model_at(loc[:-1])
            known = sorted(owner.model_fields) if owner else []
            guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            listing = f" (known fields: {', '.join(known)})" if known else ""
            lines.append(f"{source}: '{path}' is not a known field{hint}{listing}")
            continue
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if error["type"] == "missing":
            lines.append(f"{source}: '{path}' is required but missing")
        elif not loc:  # a rule across fields: the message names them; the input is the whole scenario
            sets = f" (with {', '.join(sorted((overrides or {}).values()))})" if overrides else ""
            lines.append(f"{source}{sets}: {message}")
        else:
            shown = repr(value) if not isinstance(value, (dict, list)) else json.dumps(value, default=str)[:120]
            lines.append(f"{source}: '{path}' {message[0].lower() + message[1:]}: got {shown}")
    return "\n".join(lines)
