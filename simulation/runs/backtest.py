"""Backtest: fit a log up to a date, simulate the status quo from there, and compare with what happened.

The fit's own holdout check (Fader, Hardie & Lee 2005, figure 4) tests BG/NBD; this tests the
simulation the board reads. The log is fitted on its purchases up to ``calibration_end``; the
scenario's baseline runs from there on the customers known then, each drawn from their posterior
with the models' parameters from their sampling distribution (``calibration.posterior``), and
month by month the simulated active purchasers, repeat purchases and sales — mean and 90 %
interval over the replications — are set against the log's. Customers who first bought after the
calibration end are in neither side (acquisition is off in the backtest's run).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import hyp2f1

from simulation.core.errors import DataError
from simulation.data.calibration.book import log_book
from simulation.data.calibration.fits import LogFit, fit_log
from simulation.data.calibration.holdout import holdout_check
from simulation.data.calibration.log import EPOCH, read_log
from simulation.data.calibration.posterior import LogPosterior
from simulation.data.calibration.units import DAYS_PER_MONTH
from simulation.data.sources import population_generator, with_changes
from simulation.data.tables import AS_NAMED, ColumnMap
from simulation.runs.results import BACKTEST_FOLDER as BACKTEST_FOLDER  # re-exported: where a report keeps its backtest
from simulation.scenario.spec import Scenario, scenario_from_dict
from simulation.scenario.strategy import StrategySpec

MEASURES = {  # a log's: name → what it counts, for the table, the JSON and the PDF
    "active_purchasers": "customers who bought at least once in the month",
    "repeat_purchases": "purchase days of customers known at the calibration end",
    "revenue": "what they spent, refunds netted, currency",
}
LEVELS = ("active_customers",)  # read at a month's end: their total is the last month's, not a sum
LEDGER_MEASURES = {  # a dated ledger's
    "leavers": "customers on the books at the calibration end who left in the month",
    "active_customers": "of them, still on the books at the month's end",
}
INTERVAL = (5.0, 95.0)  # percentiles of the replications: a 90 % interval
DEFAULT_REPLICATIONS = 200
BACKTEST_REPLICATIONS = 100  # the board report's backtest: a 90 % interval from 100 futures, in seconds

# Without a scenario: the fitted models alone (every mechanism that moves churn or spend off).
NEUTRAL_SCENARIO: dict[str, Any] = {
    "name": "Backtest: the fitted models alone",
    "population": {"cost_of_goods_share": 0.0, "account_management": 0.0, "contacts_mean": 0.0,
                   "late_payment_share": 0.0, "growth_mean": 0.0, "growth_sd": 0.0, "referrals_per_year": 0.0},
    "churn": {"satisfaction_sensitivity": 0.0, "trust_sensitivity": 0.0, "price_elasticity": 0.0},
    "capacity": {"enabled": False}, "word_of_mouth": {"enabled": False}, "distrust": {"enabled": False},
    "morale": {"enabled": False}, "strategies": {"status_quo": {"label": "Status quo"}},
}


@dataclass(frozen=True)
class Backtest:
    """What the model said of the months after the calibration end, and what the log shows."""

    source: Path
    fit: Any  # LogFit for a log, ContractFit for a dated ledger
    scenario: Scenario  # as run
    strategy: str
    seed: int
    months: list[tuple[dt.date, dt.date]]  # (first day, last day) of each whole month after the calibration end
    simulated: dict[str, np.ndarray]  # measure → replications × months
    actual: dict[str, np.ndarray]  # measure → months
    kind: str = "transactions"  # or "ledger"

    @property
    def measures(self) -> dict[str, str]:
        return MEASURES if self.kind == "transactions" else LEDGER_MEASURES

    @property
    def calibration_end(self) -> dt.date:
        return self.fit.summary.calibration_end if self.kind == "transactions" else self.fit.tenures.calibration_end

    @property
    def replications(self) -> int:
        return len(next(iter(self.simulated.values())))

    def interval(self, measure: str) -> tuple[np.ndarray, np.ndarray]:
        low, high = np.percentile(self.simulated[measure], INTERVAL, axis=0)
        return low, high

    def coverage(self, measure: str) -> float:
        """The share of months whose actual falls inside the simulated 90 % interval."""
        low, high = self.interval(measure)
        actual = self.actual[measure]
        return float(np.mean((actual >= low) & (actual <= high)))

    def totals(self, measure: str) -> dict[str, float]:
        """Over all the months (a level: at the last): predicted mean and 90 % interval, actual, and the relative error."""
        level = measure in LEVELS
        per_replication = self.simulated[measure][:, -1] if level else self.simulated[measure].sum(axis=1)
        predicted = float(per_replication.mean())
        actual = float(self.actual[measure][-1] if level else self.actual[measure].sum())
        low, high = np.percentile(per_replication, INTERVAL)
        return {"predicted": predicted, "low": float(low), "high": float(high), "actual": actual,
                "relative_error": (predicted - actual) / actual if actual else float("nan")}

    def by_month(self) -> list[dict[str, Any]]:
        intervals = {measure: self.interval(measure) for measure in self.measures}
        rows = []
        for index, (first, last) in enumerate(self.months):
            row: dict[str, Any] = {"month": index + 1, "from": first.isoformat(), "to": last.isoformat()}
            for measure in self.measures:
                low, high = intervals[measure]
                row[measure] = {"predicted": float(self.simulated[measure][:, index].mean()),
                                "low": float(low[index]), "high": float(high[index]),
                                "actual": float(self.actual[measure][index])}
            rows.append(row)
        return rows

    def tracking(self, points: int = 200) -> dict[str, Any]:
        """The tracking chart's series (Fader, Hardie & Lee 2005, figure 2), in weeks from the log's first purchase:
        actual and BG/NBD-expected cumulative repeat purchases, and the simulation's from the calibration end."""
        summary = self.fit.summary
        weeks = np.linspace(0.0, (summary.last_date - summary.first_date).days / 7.0, points)
        end_week = (summary.calibration_end - summary.first_date).days / 7.0
        actual = actual_cumulative_repeat_purchases(self.fit, np.r_[weeks, end_week])
        at_end = float(actual[-1])
        simulated = at_end + np.cumsum(self.simulated["repeat_purchases"], axis=1)
        low, high = np.percentile(simulated, INTERVAL, axis=0)
        month_ends = [(last - summary.first_date).days / 7.0 for _, last in self.months]
        return {"weeks": weeks.tolist(), "actual": actual[:-1].tolist(),
                "expected": expected_cumulative_repeat_purchases(self.fit, weeks).tolist(),
                "calibration_end_week": end_week,
                "simulated": {"weeks": [end_week, *month_ends], "mean": [at_end, *simulated.mean(axis=0).tolist()],
                              "low": [at_end, *low.tolist()], "high": [at_end, *high.tolist()]}}

    def record(self) -> dict[str, Any]:
        """backtest.json: the headline figures first, then month by month, the charts' series and the fit's check."""
        if self.kind == "ledger":
            return self._ledger_record()
        purchases, revenue = self.totals("repeat_purchases"), self.totals("revenue")
        summary = self.fit.summary
        holdout = holdout_check(summary, self.fit.purchasing)
        return {
            "file": str(self.source), "kind": "transactions", "calibration_end": summary.calibration_end.isoformat(),
            "log_end": summary.last_date.isoformat(), "months": len(self.months), "strategy": self.strategy,
            "scenario": self.scenario.name, "replications": self.replications, "seed": self.seed,
            "customers": len(summary), "interval": "90 % (5th to 95th percentile of the replications)",
            "actual_repeat_purchases": purchases["actual"], "predicted_repeat_purchases": purchases["predicted"],
            "predicted_repeat_purchases_interval": [purchases["low"], purchases["high"]],
            "repeat_purchases_error": purchases["relative_error"],
            "actual_revenue": revenue["actual"], "predicted_revenue": revenue["predicted"],
            "predicted_revenue_interval": [revenue["low"], revenue["high"]], "revenue_error": revenue["relative_error"],
            "totals": {measure: self.totals(measure) for measure in MEASURES},
            "coverage": {measure: self.coverage(measure) for measure in MEASURES},
            "headline": self.headline(),
            "by_month": self.by_month(),
            "tracking": self.tracking(),
            "fit": {"purchasing": self.fit.purchasing.as_dict(), "spending": self.fit.spending.as_dict(),
                    "holdout": holdout.as_dict() if holdout else None},
        }

    def _ledger_record(self) -> dict[str, Any]:
        tenures, leavers = self.fit.tenures, self.totals("leavers")
        return {
            "file": str(self.source), "kind": "ledger", "calibration_end": tenures.calibration_end.isoformat(),
            "log_end": tenures.latest.isoformat(), "months": len(self.months), "strategy": self.strategy,
            "scenario": self.scenario.name, "replications": self.replications, "seed": self.seed,
            "customers": int(tenures.stayers.sum()), "interval": "90 % (5th to 95th percentile of the replications)",
            "actual_leavers": leavers["actual"], "predicted_leavers": leavers["predicted"],
            "predicted_leavers_interval": [leavers["low"], leavers["high"]], "leavers_error": leavers["relative_error"],
            "totals": {measure: self.totals(measure) for measure in LEDGER_MEASURES},
            "coverage": {measure: self.coverage(measure) for measure in LEDGER_MEASURES},
            "headline": self.headline(), "by_month": self.by_month(), "fit": {"churn": self.fit.churn.as_dict()},
        }

    def headline(self) -> str:
        """The decision page's line: how far the model was off over the backtest's months."""
        measure, noun = ("repeat_purchases", "repeat purchases") if self.kind == "transactions" else ("leavers", "leavers")
        error = self.totals(measure)["relative_error"]
        direction = "fewer" if error < 0 else "more"
        end = self.calibration_end
        return (f"over the {len(self.months)} months after {end.day} {end:%B %Y} the model "
                f"predicted {abs(error):.0%} {direction} {noun} than happened "
                f"({self.coverage(measure):.0%} of months inside its 90 % interval)")


def months_later(date: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later; a month's last day stays its month's last day (31 Jan → 28 Feb)."""
    year, month = divmod(date.month - 1 + months, 12)
    length = calendar.monthrange(date.year + year, month + 1)[1]
    at_end = date.day == calendar.monthrange(date.year, date.month)[1]
    return dt.date(date.year + year, month + 1, length if at_end else min(date.day, length))


def whole_months(calibration_end: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Calendar months after the calibration end that the log covers whole: (end + k − 1 months, end + k months]."""
    months: list[tuple[dt.date, dt.date]] = []
    while (stop := months_later(calibration_end, len(months) + 1)) <= last:
        first = months_later(calibration_end, len(months)) + dt.timedelta(days=1)
        months.append((first, stop))
    return months


def backtest_window(path: str | Path, months: int, columns: ColumnMap = AS_NAMED) -> dt.date:
    """The calibration end that leaves exactly ``months`` whole months to a log's last day (a report's
    ``report.backtest_months``); refused by name when the log is too short to leave a calibration period."""
    log = read_log(path, columns=columns)
    first, last = (log.date(int(day)).astype(dt.date) for day in (log.day.min(), log.day.max()))
    end = months_later(last, -months)
    while len(whole_months(end, last)) < months:  # 30 July less a month is 30 June, whose month runs to 31 July
        end -= dt.timedelta(days=1)
    if (end - first).days < 28:
        raise DataError(f"{path}: report.backtest_months {months} leaves {max((end - first).days, 0)} days of the log "
                        f"({first} to {last}) to fit; expected fewer months, or a longer log (at least four weeks "
                        "before the backtest's months)")
    return end


def run_backtest(path: str | Path, calibration_end: dt.date, scenario: Scenario | None = None,
                 replications: int = DEFAULT_REPLICATIONS, seed: int = 20261001, progress: bool = False,
                 columns: ColumnMap = AS_NAMED, explicit: tuple[str, ...] = ()) -> Backtest:
    """Fit ``path`` up to ``calibration_end``, simulate the baseline over the whole months after it, compare.

    ``explicit``: the paths the analyst set (``--set``), which the data's changes leave alone.
    """
    path = Path(path)
    fit = fit_log(path, calibration_end, "week", progress=progress, columns=columns)
    months = whole_months(fit.summary.calibration_end, fit.summary.last_date)
    if not months:
        raise DataError(f"{path}: the log runs {(fit.summary.last_date - fit.summary.calibration_end).days} days past "
                        f"--calibration-end {calibration_end}; a backtest needs at least one whole month after it "
                        "(expected an earlier --calibration-end)")
    given = scenario if scenario is not None else scenario_from_dict(NEUTRAL_SCENARIO, source="backtest")
    book = log_book(fit, given, population_generator(seed))
    run_scenario = _backtest_scenario(given, book.changes, months, explicit, path)
    assert isinstance(book.draws, LogPosterior)
    draws = dataclasses.replace(book.draws, scenario=run_scenario)
    simulated = _simulate_months(run_scenario, draws, months, replications, seed, LOG_TRACE)
    return Backtest(path, fit, run_scenario, run_scenario.baseline, seed, months, simulated, _actual(fit, months))


LOG_TRACE = {"active_purchasers": "purchasers", "repeat_purchases": "purchases", "revenue": "sales"}  # measure → trace
LEDGER_TRACE = {"leavers": "churned", "active_customers": "active_customers"}


def _backtest_scenario(given: Scenario, changes: dict[str, Any], months: list[tuple[dt.date, dt.date]],
                       explicit: tuple[str, ...], path: Path) -> Scenario:
    """The scenario a backtest runs: the data's changes, quarters enough for the months, nobody new acquired."""
    horizon = {"horizon_quarters": -(-len(months) // 3), "market.acquisition_enabled": False}
    return with_changes(given, {**changes, **horizon}, explicit, f"{path} (backtest)")


def _simulate_months(scenario: Scenario, book: Any, months: list[tuple[dt.date, dt.date]], replications: int,
                     seed: int, fields: dict[str, str]) -> dict[str, np.ndarray]:
    """The baseline's public monthly trace, replications × months for each measure (``fields``: measure → trace
    field), scaled from the engine's average months to the calendar's."""
    from simulation.model.engine import CustomerModel  # the engine loads the kernels: only when a backtest runs

    strategy = scenario.baseline
    spec: StrategySpec = scenario.strategies[strategy]
    simulated = {measure: np.zeros((replications, len(months))) for measure in fields}
    for replication in range(replications):
        model = CustomerModel(scenario, book.for_replication(seed, replication), strategy, spec, seed, replication,
                              trace_sales="purchasers" in fields.values())
        model.run()
        trace = model.trace.months[: len(months)]
        for measure, name in fields.items():
            simulated[measure][replication] = [getattr(month, name) for month in trace]
    return _calendar(simulated, months)


def _calendar(simulated: dict[str, np.ndarray], months: list[tuple[dt.date, dt.date]]) -> dict[str, np.ndarray]:
    """The engine's months are the Gregorian average (rates per 365.25/12 days); the log's are calendar months:
    each simulated month's counts scaled to its days (February 8 % fewer, a 31-day month 1.8 % more)."""
    days = np.array([(last - first).days + 1 for first, last in months], dtype=float) / DAYS_PER_MONTH
    return {measure: values if measure in LEVELS else values * days for measure, values in simulated.items()}


def _customer_days(fit: LogFit) -> tuple[np.ndarray, np.ndarray]:
    """The log's (customer, day) pairs of the customers known at the calibration end, sorted, and each day's net amount."""
    log = read_log(fit.source, columns=fit.columns)
    known = np.isin(log.ids[log.customer], fit.summary.ids)
    pairs, inverse = np.unique(np.column_stack([log.customer[known], log.day[known]]), axis=0, return_inverse=True)
    return pairs, np.bincount(inverse.ravel(), weights=log.amount[known], minlength=len(pairs))


def _actual(fit: LogFit, months: list[tuple[dt.date, dt.date]]) -> dict[str, np.ndarray]:
    """The log's months: purchasers, purchase days and net spend of the customers known at the calibration end."""
    pairs, net = _customer_days(fit)
    actual = {measure: np.zeros(len(months)) for measure in MEASURES}
    for index, (first, last) in enumerate(months):
        lo, hi = (int((np.datetime64(date, "D") - EPOCH).astype(np.int64)) for date in (first, last))
        inside = (pairs[:, 1] >= lo) & (pairs[:, 1] <= hi)
        purchases = inside & (net >= 0)
        actual["repeat_purchases"][index] = purchases.sum()
        actual["active_purchasers"][index] = len(np.unique(pairs[purchases, 0]))
        actual["revenue"][index] = net[inside].sum()
    return actual


def expected_cumulative_repeat_purchases(fit: LogFit, weeks: np.ndarray) -> np.ndarray:
    """BG/NBD's expected cumulative repeat purchases of the calibration customers by week (the tracking
    chart, Fader, Hardie & Lee 2005, figure 2): equation 9 for each customer from their first purchase."""
    s, params = fit.summary, fit.purchasing.parameters
    r, alpha, a, b = (params[name] for name in ("r", "alpha", "a", "b"))
    birth_unit = ((s.calibration_end - s.first_date).days / 7.0) - s.age  # first purchase, weeks after the log's start
    births, counts = np.unique(np.round(birth_unit, 6), return_counts=True)
    total = np.zeros(len(weeks))
    for birth, count in zip(births, counts, strict=True):
        t = np.maximum(weeks - birth, 0.0)
        z = t / (alpha + t)
        expected = (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, z))
        total += count * np.where(t > 0, expected, 0.0)
    return total


def actual_cumulative_repeat_purchases(fit: LogFit, weeks: np.ndarray) -> np.ndarray:
    """The log's cumulative repeat purchases (purchase days after each customer's first) of the same customers."""
    pairs, net = _customer_days(fit)
    pairs = pairs[net >= 0]
    first = np.r_[True, pairs[1:, 0] != pairs[:-1, 0]]  # sorted by customer, then day
    repeat_days = pairs[~first, 1]
    start = int((np.datetime64(fit.summary.first_date, "D") - EPOCH).astype(np.int64))
    return np.searchsorted(np.sort((repeat_days - start) / 7.0), weeks, side="right").astype(float)


def run_ledger_backtest(path: str | Path, calibration_end: dt.date, scenario: Scenario | None = None,
                        replications: int = DEFAULT_REPLICATIONS, seed: int = 20261001,
                        columns: ColumnMap = AS_NAMED, explicit: tuple[str, ...] = ()) -> Backtest:
    """A dated ledger's backtest: sBG fitted to the contracts up to ``calibration_end``, the stayers simulated on,
    their leavers month by month against the end dates the ledger records after it."""
    from simulation.data.calibration.book import ledger_book
    from simulation.data.calibration.fits import fit_contracts

    path = Path(path)
    given = scenario if scenario is not None else scenario_from_dict(NEUTRAL_SCENARIO, source="backtest")
    fit = fit_contracts(path, given.churn.period, calibration_end, columns)
    tenures = fit.tenures
    assert tenures.latest is not None and tenures.end is not None
    months = whole_months(tenures.calibration_end, tenures.latest)
    if not months:
        raise DataError(f"{path}: the ledger's dates run {(tenures.latest - tenures.calibration_end).days} days past "
                        f"--calibration-end {calibration_end}; a backtest needs at least one whole month after it "
                        "(expected an earlier --calibration-end)")
    book = ledger_book(path, given, population_generator(seed), fit, columns)
    run_scenario = _backtest_scenario(given, book.changes, months, explicit, path)
    simulated = _simulate_months(run_scenario, book.draws, months, replications, seed, LEDGER_TRACE)
    ends = tenures.end[tenures.stayers]
    actual = {measure: np.zeros(len(months)) for measure in LEDGER_MEASURES}
    for index, (first, last) in enumerate(months):
        actual["leavers"][index] = np.count_nonzero((ends >= np.datetime64(first)) & (ends <= np.datetime64(last)))
        actual["active_customers"][index] = len(ends) - np.count_nonzero(ends <= np.datetime64(last))
    return Backtest(path, fit, run_scenario, run_scenario.baseline, seed, months, simulated, actual, kind="ledger")
