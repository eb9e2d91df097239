"""Fitting each kind of data end to end: read, summarise, fit, check — one function per kind.

What comes back holds everything calibration.json, the overlay and the simulation's starting
book need, so the command and the simulation fit the same way.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulation.core.errors import DataError
from simulation.data.calibration import bgnbd, gamma_gamma, sbg
from simulation.data.calibration.contracts import Cohort, Tenures, read_cohort, read_tenures
from simulation.data.calibration.holdout import HoldoutCheck, holdout_check
from simulation.data.calibration.log import read_log
from simulation.data.calibration.mle import Fit
from simulation.data.calibration.summary import CustomerSummary, summarise
from simulation.data.calibration.units import DAYS_PER_MONTH, to_monthly, unit_days
from simulation.data.tables import AS_NAMED, ColumnMap

MIN_CUSTOMERS = 30  # fewer cannot pin four BG/NBD parameters down
ACQUISITION_WINDOW_DAYS = 365  # new customers per month are counted over the calibration period's last year


@dataclass(frozen=True)
class Posteriors:
    """Per customer of a log: what their own history says about them at the calibration end."""

    ids: np.ndarray
    probability_alive: np.ndarray
    monthly_dropout: np.ndarray  # probability of dropping out within a month, if active now
    purchases_per_month: np.ndarray  # expected purchase days per month while active
    spend_per_purchase: np.ndarray  # conditional expected spend (Gamma-Gamma)

    @property
    def revenue_per_month(self) -> np.ndarray:
        """Expected purchases × conditional expected spend: currency per month while active."""
        return self.purchases_per_month * self.spend_per_purchase


@dataclass(frozen=True)
class LogFit:
    """BG/NBD and Gamma-Gamma fitted to a transaction log, with the holdout check."""

    summary: CustomerSummary
    purchasing: Fit
    spending: Fit
    holdout: HoldoutCheck | None
    source: Path
    seconds: dict[str, float] = field(default_factory=dict)
    columns: ColumnMap = AS_NAMED  # how the log names its columns (to read it again)

    @property
    def units_per_month(self) -> float:
        return DAYS_PER_MONTH / unit_days(self.summary.time_unit)

    def posteriors(self) -> Posteriors:
        s, params = self.summary, self.purchasing.parameters
        per_month = self.units_per_month
        return Posteriors(
            ids=s.ids,
            probability_alive=bgnbd.probability_alive(params, s.frequency, s.recency, s.age),
            monthly_dropout=bgnbd.dropout_hazard(params, s.frequency, s.age, per_month),
            purchases_per_month=bgnbd.purchase_rate_given_alive(params, s.frequency, s.age) * per_month,
            spend_per_purchase=self.spend_per_purchase(),
        )

    def spend_per_purchase(self) -> np.ndarray:
        """Gamma-Gamma's conditional mean spend; customers the spend model leaves out keep their own mean (≥ 0)."""
        s = self.summary
        modelled = gamma_gamma.conditional_mean_spend(self.spending.parameters, s.frequency, s.mean_repeat_spend)
        left_out = (s.frequency > 0) & ~s.spend_sample
        return np.where(left_out, np.maximum(s.mean_repeat_spend, 0.0), modelled)

    def new_customers_per_month(self) -> float:
        """First purchases per month over the calibration period's last year (or all of it, if shorter)."""
        s = self.summary
        window = min(ACQUISITION_WINDOW_DAYS, (s.calibration_end - s.first_date).days)
        recent = np.count_nonzero(s.age * unit_days(s.time_unit) < window)
        return recent / (window / DAYS_PER_MONTH) if window > 0 else 0.0

    def newcomer_churn(self) -> tuple[float, float]:
        """Beta(α, β) with the mean and variance of a new customer's monthly dropout probability."""
        mean, variance = bgnbd.new_customer_hazard_moments(self.purchasing.parameters, self.units_per_month)
        return moment_matched_beta(mean, variance)


def moment_matched_beta(mean: float, variance: float) -> tuple[float, float]:
    """The Beta with this mean and variance, kept within the scenario's ranges (0, 1e4]."""
    mean = min(max(mean, 1e-9), 1.0 - 1e-9)
    spread = mean * (1.0 - mean) / max(variance, 1e-300) - 1.0
    spread = min(max(spread, 1e-6), 1e4 / max(mean, 1.0 - mean))
    return mean * spread, (1.0 - mean) * spread


def fit_log(path: str | Path, calibration_end: dt.date | None, time_unit: str, progress: bool = False,
            columns: ColumnMap = AS_NAMED) -> LogFit:
    """Read the log, summarise each customer, fit BG/NBD and Gamma-Gamma, compare with the holdout."""
    path = Path(path)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    log = read_log(path, progress=progress, columns=columns)
    seconds["read"] = time.perf_counter() - clock
    clock = time.perf_counter()
    summary = summarise(log, calibration_end, time_unit)
    seconds["summarise"] = time.perf_counter() - clock
    if len(summary) < MIN_CUSTOMERS:
        raise DataError(f"{path}: {len(summary)} customers bought before the calibration end; expected at least "
                        f"{MIN_CUSTOMERS} (hundreds, for standard errors worth reading) to fit BG/NBD and Gamma-Gamma; "
                        "a few customers are better given as a ledger (--customers)")
    clock = time.perf_counter()
    purchasing = bgnbd.fit(summary.frequency, summary.recency, summary.age, str(path))
    sample = summary.spend_sample
    spending = gamma_gamma.fit(summary.frequency[sample], summary.mean_repeat_spend[sample], str(path))
    seconds["fit"] = time.perf_counter() - clock
    clock = time.perf_counter()
    holdout = holdout_check(summary, purchasing)
    seconds["holdout"] = time.perf_counter() - clock
    return LogFit(summary, purchasing, spending, holdout, path, seconds, columns)


@dataclass(frozen=True)
class ContractFit:
    """The shifted-beta-geometric model fitted to a ledger's start and end dates."""

    tenures: Tenures
    churn: Fit

    def monthly_churn(self) -> np.ndarray:
        """Each stayer's own monthly churn probability: E[θ | survived n periods], converted exactly to a month."""
        survived = self.tenures.survived[self.tenures.stayers]
        return to_monthly(sbg.churn_given_survived(self.churn.parameters, survived), self.tenures.period)


def fit_contracts(path: str | Path, period: str, calibration_end: dt.date | None = None,
                  columns: ColumnMap = AS_NAMED) -> ContractFit:
    tenures = read_tenures(path, period, calibration_end, columns)
    churn = sbg.fit(tenures.lost_in[tenures.leavers], tenures.survived[tenures.stayers], str(tenures.path))
    return ContractFit(tenures, churn)


@dataclass(frozen=True)
class CohortFit:
    """The shifted-beta-geometric model fitted to a cohort's first periods; the rest is the holdout."""

    cohort: Cohort
    churn: Fit
    calibration_periods: int

    def comparison(self) -> list[dict[str, float | int | bool]]:
        fitted = sbg.survival(self.churn.parameters, len(self.cohort.periods) - 1)
        return [{"period": int(period), "actual": float(actual), "fitted": float(expected),
                 "holdout": bool(period > self.calibration_periods)}
                for period, actual, expected in zip(self.cohort.periods, self.cohort.survival, fitted, strict=True)]


def fit_cohort(path: str | Path, calibration_periods: int | None = None) -> CohortFit:
    cohort = read_cohort(path)
    last = len(cohort.periods) - 1
    periods = last if calibration_periods is None else calibration_periods
    if not 2 <= periods <= last:
        raise DataError(f"{cohort.path}: --calibration-periods {periods}; expected 2 to {last} (the table's periods)")
    churn = sbg.fit_cohort(cohort.survival[: periods + 1], float(cohort.customers[0]), str(cohort.path))
    return CohortFit(cohort, churn, periods)
