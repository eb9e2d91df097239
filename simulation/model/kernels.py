"""The engine's two hot loops, written twice: numba-compiled loops, and the numpy reference.

A month touches every customer a dozen times (satisfaction, hazard, the churn draw, the
accounts); a quarter values every customer's lifetime and sums the segment tables. As numpy
expressions each step is a pass over arrays too large for the cache, so the month costs tens of
passes; the compiled loops make one or two each. The numpy versions are the reference: the tests
run the engine on both and compare (``use("numpy")``), and ``CLIENTELE_KERNELS=numpy`` selects
them for a whole run. The two agree to rounding (sums are added up in a different order, x^n is
taken by repeated squaring instead of exp(n·ln x), and exp is the kernels' own, within an ulp),
not to the last bit.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from typing import Iterator, NamedTuple

import numpy as np

from simulation.book.state import refresh_base_hazards
from simulation.book.valuation import LIFETIME_MONTHS, discounted_margin_sum, lifetime_values
from simulation.core import formulas as mech
from simulation.core.segments import SEGMENT_COUNT, segment_of

_LIFETIME_BITS = LIFETIME_MONTHS.bit_length()

try:  # numba is a pinned dependency; the numpy path still runs (slower) where it cannot be imported
    from numba import njit
except ImportError:  # pragma: no cover
    njit = None  # type: ignore[assignment]

KERNEL_NAMES = ("numba", "numpy")
_selected = os.environ.get("CLIENTELE_KERNELS", "numba" if njit is not None else "numpy")
if _selected not in KERNEL_NAMES:
    raise ValueError(f"CLIENTELE_KERNELS must be one of {', '.join(KERNEL_NAMES)}: {_selected!r}")


def selected() -> str:
    return _selected if njit is not None else "numpy"


@contextmanager
def use(name: str) -> Iterator[None]:
    """Run the block with the ``numba`` or ``numpy`` kernels (tests compare the two)."""
    global _selected
    if name not in KERNEL_NAMES:
        raise ValueError(f"kernels must be one of {', '.join(KERNEL_NAMES)}: {name!r}")
    previous, _selected = _selected, name
    try:
        yield
    finally:
        _selected = previous


class MonthSettings(NamedTuple):
    """The month's scalars the per-customer step needs."""

    update_satisfaction: bool
    recovery_rate: float  # share of the gap to the satisfaction target closed this month
    target_base: float  # satisfaction baseline × service quality
    penalty: float  # satisfaction lost by a customer fully exposed to the queue
    bad_service: bool  # abrupt treatment penalties apply
    churn: bool  # draw leavers this month
    satisfaction_sensitivity: float
    trust_on: bool
    trust_sensitivity: float
    distrust: float  # hazard uplift for customers below the threshold (0: none)
    distrust_threshold: float  # profit per month below which customers feel at risk
    trust_recovery: float  # share of each customer's lost trust regained after the draw (0: none)
    factored: bool  # the draw is against hazard × each customer's ``hazard_factor`` (a mechanism's, e.g. a price war)


class QuarterSums(NamedTuple):
    """The quarter's billed revenue and profit so far, per current and per starting segment, added as each month is
    booked (a segment changes only at a quarter's review, so the sums per segment are the quarter's per segment). Kept
    as nine numbers each instead of two columns of a million: the month's pass no longer streams them."""

    segment_revenue: np.ndarray  # index = current segment 1…8 (0 unused)
    segment_profit: np.ndarray
    start_revenue: np.ndarray  # index = starting segment, 0 for customers who joined later
    start_profit: np.ndarray

    @classmethod
    def zeros(cls) -> "QuarterSums":
        return cls(*(np.zeros(SEGMENT_COUNT + 1) for _ in range(4)))

    def add(self, segment: np.ndarray, start_segment: np.ndarray, billed: np.ndarray, profit: np.ndarray) -> None:
        """Book a month of these customers (the newcomers', and the numpy reference's whole month)."""
        bins = SEGMENT_COUNT + 1
        for total, by, weights in ((self.segment_revenue, segment, billed), (self.segment_profit, segment, profit),
                                   (self.start_revenue, start_segment, billed), (self.start_profit, start_segment, profit)):
            np.add(total, np.bincount(by, weights=weights, minlength=bins), out=total)

    def taken(self) -> "QuarterSums":
        """A copy of the sums, which start again from zero (a quarter's end)."""
        copy = QuarterSums(*(array.copy() for array in self))
        for array in self:
            array[:] = 0.0
        return copy


class MonthTotals(NamedTuple):
    leaving: np.ndarray  # rows whose draw fell below their hazard, ascending
    billed: float  # revenue billed to the customers who stayed
    profit: float  # their profit


# ---------------------------------------------------------------------------- the month
def month_step(columns, draws: np.ndarray, settings: MonthSettings, hazard_factor: np.ndarray,
               sums: QuarterSums) -> MonthTotals:
    """Satisfaction drifts, hazards are set, leavers drawn, and the stayers' month booked.

    Leavers are not booked (they left before the month's accounts); every customer's revenue
    grows by its own monthly factor, on the books or not. ``columns`` is a ``CustomerColumns``;
    ``hazard_factor`` holds one multiplier per row when ``settings.factored`` (else it is not read); the stayers'
    month is added to the quarter's ``sums``.
    """
    c = columns
    if selected() == "numba":
        count, billed, profit, leaving = _month_pass(
            c.satisfaction, c.reference_satisfaction, c.exposure, c.treatment_penalty, c.base_hazard, c.trust,
            c.last_profit, c.hazard, draws, c.revenue, c.growth_factor, c.billing_rate, c.profit_rate, c.fixed_cost,
            c.segment, c.start_segment, *sums, settings.update_satisfaction, settings.recovery_rate,
            settings.target_base, settings.penalty, settings.bad_service, settings.churn,
            settings.satisfaction_sensitivity, settings.trust_on, settings.trust_sensitivity, settings.distrust,
            settings.distrust_threshold, settings.trust_recovery, settings.factored, hazard_factor)
        return MonthTotals(leaving[:count], billed, profit)
    return _month_numpy(c, draws, settings, hazard_factor, sums)


def _month_numpy(c, draws: np.ndarray, s: MonthSettings, hazard_factor: np.ndarray, sums: QuarterSums) -> MonthTotals:
    if s.update_satisfaction:
        target = c.exposure * -s.penalty
        target += s.target_base
        if s.bad_service:
            target -= c.treatment_penalty
        np.clip(target, 0.0, 1.0, out=target)
        target -= c.satisfaction
        target *= s.recovery_rate
        np.add(c.satisfaction, target, out=c.satisfaction)
    leaving = np.empty(0, dtype=np.intp)
    if s.churn:
        hazards(c, slice(None), s)
        drawn = np.minimum(c.hazard * hazard_factor, 1.0) if s.factored else c.hazard  # the month's temporary factors
        leaving = np.flatnonzero(draws < drawn)
    np.multiply(c.revenue, c.growth_factor, out=c.revenue)
    billed = c.revenue * c.billing_rate
    np.multiply(c.revenue, c.profit_rate, out=c.last_profit)
    np.subtract(c.last_profit, c.fixed_cost, out=c.last_profit)
    billed[leaving] = 0.0
    c.last_profit[leaving] = 0.0
    sums.add(c.segment, c.start_segment, billed, c.last_profit)
    if s.trust_recovery > 0.0:
        np.add(c.trust, s.trust_recovery * (1.0 - c.trust), out=c.trust)
    return MonthTotals(leaving, float(billed.sum()), float(c.last_profit.sum()))


def _churn_rate_python(base_hazard, satisfaction_gap, satisfaction_sensitivity, trust_on, trust, trust_sensitivity,
                       at_risk, distrust):  # pragma: no cover - compiled; formulas.churn_hazard is the reference
    """One customer's monthly churn probability: the base hazard × exp(satisfaction gap and lost trust) × the
    distrust uplift when at risk, capped at 1 (the one formula every compiled pass uses). A mechanism's temporary
    factor (a price war's) multiplies it for the month's draw only: the hazard kept, and valued, is this one.

    Without a branch, so that the month's first loop vectorises: a customer off the books has a base hazard of 0,
    and 0 × exp(x) is 0 for every exponent the scenario allows (sensitivities ≤ 50, so |x| ≤ 100)."""
    exponent = satisfaction_sensitivity * satisfaction_gap
    if trust_on:
        exponent += trust_sensitivity * (1.0 - trust)
    rate = base_hazard * _exp(exponent)
    if at_risk:
        rate *= 1.0 + distrust
    return min(rate, 1.0)


# exp(x) = 2^k · exp(r), k = round(x / ln 2), r = x − k·ln 2 (Cody & Waite's two-part ln 2, as in fdlibm), and
# exp(r) for |r| ≤ ln 2 / 2 by its Taylor polynomial to r^13 (the first term left out is below 2^-60 of it).
_LOG2_E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01  # ln 2's leading bits: k · _LN2_HIGH is exact for |k| < 2^11
_LN2_LOW = 1.90821492927058770002e-10
_EXP_TAYLOR = tuple(1.0 / math.factorial(n) for n in range(13, 1, -1))  # 1/13! … 1/2!


def _exp_python(x):  # pragma: no cover - compiled; np.exp is the reference
    """e^x within one unit in the last place (measured: 0.95 ulp; the C library's is 0.5), in straight-line code the
    compiler vectorises. numba's wheels come without Intel's vector maths library (``llvmlite.binding.config
    .has_svml`` is False), so ``math.exp`` in a loop is a call per customer: 4.3 ns against 1.2 ns for this one,
    and the call kept the month's pass from vectorising. Exponents are clamped to ±700 (a result of at most 1e304)."""
    x = min(max(x, -700.0), 700.0)
    k = math.floor(x * _LOG2_E + 0.5)
    r = (x - k * _LN2_HIGH) - k * _LN2_LOW
    p = 0.0
    for coefficient in _EXP_TAYLOR:
        p = p * r + coefficient
    return (1.0 + (r + (r * r) * p)) * _two_to(k)


def hazards(columns, rows: slice, settings: MonthSettings) -> None:
    """Set the churn probability of the customers at ``rows`` (a slice) as the month's pass would: at the start,
    and for newcomers as they join (their first month's hazard, valued at a quarter's end)."""
    c = columns
    start, stop, _ = rows.indices(len(c.hazard))
    if selected() == "numba":
        _hazards(start, stop, c.satisfaction, c.reference_satisfaction, c.base_hazard, c.trust, c.last_profit, c.hazard,
                 settings.satisfaction_sensitivity, settings.trust_on, settings.trust_sensitivity, settings.distrust,
                 settings.distrust_threshold)
        return
    s = settings
    mech.churn_hazard(
        c.base_hazard[rows],
        c.reference_satisfaction[rows] - c.satisfaction[rows] if s.satisfaction_sensitivity else None,
        s.satisfaction_sensitivity,
        c.trust[rows] if s.trust_on else None, s.trust_sensitivity,
        c.last_profit[rows] < s.distrust_threshold if s.distrust > 0 else None, s.distrust,
        out=c.hazard[rows],
    )


def _hazards_python(start, stop, satisfaction, reference_satisfaction, base_hazard, trust, last_profit, hazard,
                    satisfaction_sensitivity, trust_on, trust_sensitivity, distrust,
                    distrust_threshold):  # pragma: no cover - compiled; formulas.churn_hazard is the reference
    for i in range(start, stop):
        hazard[i] = _churn_rate(base_hazard[i], reference_satisfaction[i] - satisfaction[i], satisfaction_sensitivity,
                                trust_on, trust[i], trust_sensitivity,
                                distrust > 0.0 and last_profit[i] < distrust_threshold, distrust)


def _month_pass_python(satisfaction, reference_satisfaction, exposure, treatment_penalty, base_hazard, trust,
                       last_profit, hazard, draws, revenue, growth_factor, billing_rate, profit_rate, fixed_cost,
                       segment, start_segment, segment_revenue, segment_profit, start_revenue, start_profit,
                       update_satisfaction, recovery_rate, target_base, penalty,
                       bad_service, churn, satisfaction_sensitivity, trust_on, trust_sensitivity, distrust,
                       distrust_threshold, trust_recovery, factored,
                       hazard_factor):  # pragma: no cover - compiled; _month_numpy is the reference
    """The month over the book: satisfaction drifts to its target, the hazard is set and drawn against, and the
    stayers' month is booked.

    Two loops: the first, without a branch, moves satisfaction and trust and sets every hazard (the exp
    vectorised, ``_exp``); the second draws and books. One loop with the exp behind a branch for customers on
    the books took 14.7 ns a row, the branch mispredicted where leavers lie scattered; the two take 6.1 ns
    (measured on a 1,500,000-row book). Trust recovers after its hazard is set (the month's slow drift).
    """
    n = len(revenue)
    # A satisfaction that stays moves by 0 × the gap, which leaves it as it is: without the branch (3 ns a row
    # slower, measured) the loop vectorises whatever the settings.
    moved = recovery_rate if update_satisfaction else 0.0
    for i in range(n):  # straight-line: the compiler vectorises it (8 customers an instruction on AVX-512)
        target = target_base - exposure[i] * penalty
        if bad_service:
            target -= treatment_penalty[i]
        target = min(max(target, 0.0), 1.0)
        satisfaction[i] += moved * (target - satisfaction[i])
        if churn:
            hazard[i] = _churn_rate(base_hazard[i], reference_satisfaction[i] - satisfaction[i],
                                    satisfaction_sensitivity, trust_on, trust[i], trust_sensitivity,
                                    distrust > 0.0 and last_profit[i] < distrust_threshold, distrust)
        if trust_recovery > 0.0:
            trust[i] += trust_recovery * (1.0 - trust[i])
    leaving = np.empty(n, dtype=np.int64)
    count = 0
    billed_total = 0.0
    profit_total = 0.0
    for i in range(n):  # the draw, and the stayers' books
        left = False
        if churn:
            rate = hazard[i]
            if factored:  # drawn against this month only; the hazard kept (and valued) is without it
                rate = min(rate * hazard_factor[i], 1.0)
            if draws[i] < rate:
                left = True
                leaving[count] = i
                count += 1
        revenue[i] *= growth_factor[i]
        if left:
            last_profit[i] = 0.0
            continue
        billed = revenue[i] * billing_rate[i]
        profit = revenue[i] * profit_rate[i] - fixed_cost[i]
        last_profit[i] = profit
        segment_revenue[segment[i]] += billed
        segment_profit[segment[i]] += profit
        start_revenue[start_segment[i]] += billed
        start_profit[start_segment[i]] += profit
        billed_total += billed
        profit_total += profit
    return count, billed_total, profit_total, leaving


# ---------------------------------------------------------------------------- the review's bookkeeping
def resegment(columns, cut_points: np.ndarray, segment_multiplier: np.ndarray, active_status: int) -> None:
    """Every customer's value segment from the ranking's cut points, its churn multiplier and the base hazard.

    One pass (numba) instead of a pass per cut point and three for the hazard; the numpy reference is
    ``segments.segment_of`` and ``state.refresh_base_hazards``, with the same operations in the same order.
    """
    c = columns
    if selected() == "numba":
        _resegment(c.last_profit, np.asarray(cut_points, dtype=np.float64), segment_multiplier, c.churn_probability,
                   c.price_hazard, c.status, active_status, c.segment, c.segment_hazard, c.base_hazard)
        return
    c.segment[:] = segment_of(c.last_profit, cut_points)
    np.take(segment_multiplier, c.segment - 1, out=c.segment_hazard)
    refresh_base_hazards(c)


def _resegment_python(profit, cut_points, segment_multiplier, churn_probability, price_hazard, status, active_status,
                      segment, segment_hazard, base_hazard):  # pragma: no cover - compiled by numba
    cuts = len(cut_points)
    for i in range(len(profit)):
        position = 1 if cuts else SEGMENT_COUNT
        for k in range(cuts):
            if profit[i] <= cut_points[k]:
                position += 1
        segment[i] = position
        multiplier = segment_multiplier[position - 1]
        segment_hazard[i] = multiplier
        hazard = churn_probability[i] * multiplier
        hazard *= price_hazard[i]
        hazard *= 1.0 if status[i] == active_status else 0.0
        base_hazard[i] = hazard


def contracts_due(columns, month: int, active_status: int) -> np.ndarray:
    """Rows of customers on the books whose contract ends in ``month``, ascending."""
    c = columns
    if selected() == "numba":
        rows, count = _contracts_due(c.contract_end, c.status, month, active_status)
        return rows[:count]
    due = np.flatnonzero(c.contract_end == month)
    return due[c.status[due] == active_status]


def _contracts_due_python(contract_end, status, month, active_status):  # pragma: no cover - compiled by numba
    count = 0
    for i in range(len(contract_end)):
        if contract_end[i] == month and status[i] == active_status:
            count += 1
    rows = np.empty(count, dtype=np.intp)
    found = 0
    for i in range(len(contract_end)):
        if contract_end[i] == month and status[i] == active_status:
            rows[found] = i
            found += 1
    return rows, count


# ---------------------------------------------------------------------------- a log's purchases
class PurchaseSums(NamedTuple):
    """Sums over the customers on the books that the month's purchase draws need (customers from a log)."""

    rate: float  # Σ purchase rate: the month's expected purchases
    sales: float  # Σ revenue billed: the month's expected sales
    spend_square: float  # Σ rate × (sales per purchase)²: the compound sum's second moment, before the amounts' spread


def purchase_sums(columns, active_status: int, detailed: bool) -> PurchaseSums:
    """One pass over the book (numba), or the numpy reference: the month's purchase sums; without ``detailed``
    only the expected purchases (the sales' sums are for a model that traces them)."""
    c = columns
    if selected() == "numba":
        return PurchaseSums(*_purchase_sums(c.status, c.purchases_per_month, c.revenue, c.billing_rate, active_status,
                                            detailed))
    on_books = c.status == active_status
    rates = c.purchases_per_month[on_books]
    if not detailed:
        return PurchaseSums(float(rates.sum()), 0.0, 0.0)
    billed = c.revenue[on_books] * c.billing_rate[on_books]
    with np.errstate(divide="ignore", invalid="ignore"):
        spend = np.where(rates > 0, billed / rates, 0.0)
    return PurchaseSums(float(rates.sum()), float(billed.sum()), float(np.dot(rates, spend * spend)))


def _purchase_sums_python(status, rates, revenue, billing_rate, active_status,
                          detailed):  # pragma: no cover - compiled by numba
    rate_total = sales = spend_square = 0.0
    for i in range(len(status)):
        if status[i] != active_status:
            continue
        rate = rates[i]
        rate_total += rate
        if not detailed:
            continue
        billed = revenue[i] * billing_rate[i]
        sales += billed
        if rate > 0.0:
            spend_square += billed * billed / rate
    return rate_total, sales, spend_square


# ---------------------------------------------------------------------------- the quarter
class QuarterScan(NamedTuple):
    """What one pass over the book at a quarter's end gathers for the outcomes and tables."""

    active: int  # customers on the books
    equity: float  # Σ plain lifetime values (0 off the books)
    option_value: float  # Σ (value with the option to abandon − plain value)
    turns_positive: int  # customers whose value turns from negative to positive with the option
    satisfaction: float  # Σ satisfaction of customers on the books
    profitable: np.ndarray  # monthly profits > 0 of customers on the books, ascending
    unprofitable: np.ndarray  # monthly profits ≤ 0 of customers on the books, ascending
    segment_customers: np.ndarray  # per current segment (index 1…8): customers seen this quarter
    segment_revenue: np.ndarray
    segment_profit: np.ndarray
    start_active: np.ndarray  # per starting segment (0 = joined later … 8): customers on the books
    start_revenue: np.ndarray  # … revenue and profit of those seen this quarter
    start_profit: np.ndarray


def quarter_scan(columns, month: int, monthly_discount: float, lifetime_months: int, sums: QuarterSums) -> QuarterScan:
    """Scan the book at the end of ``month`` (a quarter's last); the quarter's ``sums`` are taken and start again.

    A customer is *seen* if on the books for at least a month of the quarter: on them now, or
    left in its second or third month (a customer leaving in month m had no accounts in m).
    """
    c = columns
    if lifetime_months != LIFETIME_MONTHS:
        raise ValueError(f"the compiled valuation is built for {LIFETIME_MONTHS} months, not {lifetime_months}")
    if selected() == "numba":
        # Plain values in a straight-line loop the compiler vectorises (0.6 ms instead of 2.6 ms for
        # 110,000 customers); the counts, the option to abandon and the ranking's profits in a second.
        plain = np.empty(len(c.status))
        _plain_values(c.revenue, c.profit_rate, c.fixed_cost, c.growth_factor, c.hazard, c.status,
                      monthly_discount, plain)
        (active, option_value, turns, satisfaction, profitable, n_profitable, unprofitable, n_unprofitable,
         segment_customers, start_active) = _scan_loop(
            c.status, c.exit_month, c.last_profit, c.revenue, c.profit_rate, c.fixed_cost, c.growth_factor,
            c.log_growth, c.hazard, c.satisfaction, c.segment, c.start_segment,
            c.pending_exit, c.contract_end, plain, month, monthly_discount, SEGMENT_COUNT + 1)
        return QuarterScan(
            active=active, equity=float(plain.sum()), option_value=option_value, turns_positive=turns,
            satisfaction=satisfaction, profitable=_sort_positive(profitable[:n_profitable]),
            unprofitable=_sort_not_positive(unprofitable[:n_unprofitable]),
            segment_customers=segment_customers, start_active=start_active, **sums.taken()._asdict())
    return _scan_numpy(c, month, monthly_discount, lifetime_months, sums)


def _scan_numpy(c, month: int, monthly_discount: float, lifetime_months: int, sums: QuarterSums) -> QuarterScan:
    active = c.status == 0
    seen = active | (c.exit_month > month - 2)
    scaling, growth, retention = c.revenue * c.profit_rate, c.growth_factor - 1.0, 1.0 - c.hazard
    plain, with_option = lifetime_values(scaling, c.fixed_cost, growth, retention, monthly_discount, lifetime_months)
    leaving = np.flatnonzero(active & c.pending_exit)  # told to go: margins until the contract ends, no option
    remaining = np.maximum(c.contract_end[leaving] - month - 1, 0)
    plain[leaving] = discounted_margin_sum(scaling[leaving], c.fixed_cost[leaving], growth[leaving],
                                           retention[leaving] / (1.0 + monthly_discount), remaining)
    with_option[leaving] = plain[leaving]
    profit = c.last_profit[active]
    bins = SEGMENT_COUNT + 2  # a last bin collects customers not seen this quarter (their sums are zero)
    current = np.where(seen, c.segment, SEGMENT_COUNT + 1).astype(np.intp)
    scan = QuarterScan(
        int(active.sum()), float(plain.sum()), float((with_option - plain).sum()),
        int(((plain < 0) & (with_option > 0)).sum()), float(c.satisfaction[active].sum()),
        *ranked_profits(profit),
        np.bincount(current, minlength=bins)[: bins - 1].astype(np.int64),
        start_active=np.bincount(c.start_segment.astype(np.intp), weights=active.astype(float),
                                 minlength=bins - 1).astype(np.int64),
        **sums.taken()._asdict(),
    )
    return scan


def _whole_power(base: float, exponent: int) -> float:  # pragma: no cover - compiled
    """base^exponent for 0 ≤ exponent < 2^_LIFETIME_BITS by repeated squaring, without a branch.

    A fixed number of steps with a select instead of a test: exponents differ from customer to
    customer, and a mispredicted branch per bit cost more than the multiplications.
    """
    result = 1.0
    for _ in range(_LIFETIME_BITS):
        result *= base if exponent & 1 else 1.0
        base *= base
        exponent >>= 1
    return result


def _lifetime_power(base: float) -> float:  # pragma: no cover - compiled
    """base^LIFETIME_MONTHS with a trip count known when compiling: straight-line code that vectorises."""
    result = 1.0
    exponent = LIFETIME_MONTHS
    for _ in range(_LIFETIME_BITS):
        if exponent & 1:
            result *= base
        base *= base
        exponent >>= 1
    return result


def _plain_values_python(revenue, profit_rate, fixed_cost, growth_factor, hazard, status, monthly_discount,
                         out):  # pragma: no cover - compiled by numba; valuation.lifetime_values is the reference
    """Σ_{t=1..L} (a·G^t − c)·q^t of every customer into ``out`` (0 off the books)."""
    for i in range(len(revenue)):
        q = (1.0 - hazard[i]) / (1.0 + monthly_discount)
        grown = growth_factor[i] * q
        fixed_sum = q * (1.0 - _lifetime_power_compiled(q)) / (1.0 - q)
        scaling_sum = grown * (1.0 - _lifetime_power_compiled(grown)) / (1.0 - grown)
        if abs(1.0 - q) < 1e-12:
            fixed_sum = float(LIFETIME_MONTHS)
        if abs(1.0 - grown) < 1e-12:
            scaling_sum = float(LIFETIME_MONTHS)
        value = revenue[i] * profit_rate[i] * scaling_sum - fixed_cost[i] * fixed_sum
        out[i] = value if status[i] == 0 else 0.0


def _geometric_sum(ratio: float, periods: int) -> float:  # pragma: no cover - compiled
    """Σ_{t=1..periods} ratio^t."""
    if abs(1.0 - ratio) < 1e-12:
        return float(periods)
    return ratio * (1.0 - _whole_power_compiled(ratio, periods)) / (1.0 - ratio)


def _scan_loop_python(status, exit_month, last_profit, revenue, profit_rate, fixed_cost, growth_factor, log_growth,
                      hazard, satisfaction, segment, start_segment, pending_exit,
                      contract_end, plain_values, month, monthly_discount,
                      bins):  # pragma: no cover - compiled by numba; _scan_numpy is the reference
    """The quarter's sums in a first loop without a branch, and the few customers who need more in two short ones.

    The first loop counts and sums every row with masks instead of branches (who is on the books, who is
    profitable: both scattered through the book, so a branch on them mispredicted about every other row), and
    lists the rows the option to abandon has to value month by month and those told to go. On the rest the
    option is all or nothing: worth max(plain, 0), which never turns a negative value positive.
    """
    n = len(status)
    profitable = np.empty(n)
    unprofitable = np.empty(n)
    shrinking = np.empty(n, dtype=np.int64)  # margins positive now that shrink below zero: valued month by month
    told_to_go = np.empty(n, dtype=np.int64)
    n_profitable = n_unprofitable = n_shrinking = n_told = 0
    active = 0
    option_value = 0.0
    satisfaction_sum = 0.0
    segment_customers = np.zeros(bins, dtype=np.int64)
    start_active = np.zeros(bins, dtype=np.int64)
    for i in range(n):
        on_books = status[i] == 0
        segment_customers[segment[i]] += on_books | (exit_month[i] > month - 2)  # | and &, not or and and: no branch
        start_active[start_segment[i]] += on_books
        active += on_books
        satisfaction_sum += satisfaction[i] if on_books else 0.0
        profit = last_profit[i]
        profitable[n_profitable] = profit
        unprofitable[n_unprofitable] = profit
        gains = profit > 0.0
        n_profitable += on_books & gains
        n_unprofitable += on_books & (not gains)
        told = on_books & pending_exit[i]
        scaling = revenue[i] * profit_rate[i]
        fixed = fixed_cost[i]
        shrinks = on_books & (not told) & (growth_factor[i] < 1.0) & (scaling > fixed) & (fixed > 0.0)
        told_to_go[n_told] = i
        n_told += told
        shrinking[n_shrinking] = i
        n_shrinking += shrinks
        plain = plain_values[i]
        option_value += max(plain, 0.0) - plain if on_books & (not told) & (not shrinks) else 0.0
    turns_positive = 0
    for j in range(n_shrinking):
        i = shrinking[j]
        scaling = revenue[i] * profit_rate[i]
        fixed = fixed_cost[i]
        plain = plain_values[i]
        with_option = max(plain, 0.0)
        positive_months = math.ceil(math.log(fixed / scaling) / log_growth[i]) - 1.0
        if positive_months < LIFETIME_MONTHS:
            months = int(positive_months)
            q = (1.0 - hazard[i]) / (1.0 + monthly_discount)
            stopped = scaling * _geometric_sum_compiled(growth_factor[i] * q, months) - fixed * _geometric_sum_compiled(
                q, months)
            with_option = max(stopped, 0.0)
        option_value += with_option - plain
        if plain < 0.0 and with_option > 0.0:
            turns_positive += 1
    for j in range(n_told):
        # Told to go: worth their margins until the contract ends, and the option is already taken.
        i = told_to_go[j]
        remaining = max(contract_end[i] - month - 1, 0)
        q = (1.0 - hazard[i]) / (1.0 + monthly_discount)
        plain_values[i] = (revenue[i] * profit_rate[i] * _geometric_sum_compiled(growth_factor[i] * q, remaining)
                           - fixed_cost[i] * _geometric_sum_compiled(q, remaining))
    return (active, option_value, turns_positive, satisfaction_sum, profitable, n_profitable, unprofitable,
            n_unprofitable, segment_customers, start_active)


def ranked_profits(profit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The profits > 0 and the rest, each in ascending order (``BookRanking.from_split``'s arguments)."""
    positive = profit > 0
    if selected() == "numba":
        return _sort_positive(profit[positive]), _sort_not_positive(profit[~positive])
    return np.sort(profit[positive]), np.sort(profit[~positive])


def _sort_not_positive(values: np.ndarray) -> np.ndarray:
    """``values`` (all ≤ 0) ascending, by the radix sort of their negations (0.0 − x: never −0.0)."""
    return 0.0 - _sort_positive(0.0 - values)[::-1]


def _sort_positive_python(values):  # pragma: no cover - compiled; np.sort is the reference
    """``values`` (all ≥ +0.0) in ascending order: the same array as ``np.sort``, three times as fast on a million.

    A positive float's bits, read as an unsigned integer, order as the float does, so a least-significant-digit
    radix sort on them (six passes of 11 bits, one counting pass for all six, skipping a digit every key shares)
    sorts in linear time. The quarter's ranking needs the profitable customers in order: it was a sixth of the
    engine's time at a million customers as ``np.sort``.
    """
    n = len(values)
    keys = values.view(np.uint64)
    first = np.empty(n, dtype=np.uint64)
    second = np.empty(n, dtype=np.uint64)
    counts = np.zeros((_RADIX_PASSES, 1 << _RADIX_BITS), dtype=np.int64)
    mask = np.uint64((1 << _RADIX_BITS) - 1)
    for i in range(n):
        key = keys[i]
        for digit in range(_RADIX_PASSES):
            counts[digit, (key >> np.uint64(digit * _RADIX_BITS)) & mask] += 1
    source, target = keys, first
    for digit in range(_RADIX_PASSES):
        shift = np.uint64(digit * _RADIX_BITS)
        if n == 0 or counts[digit, (keys[0] >> shift) & mask] == n:
            continue
        offsets = np.empty(1 << _RADIX_BITS, dtype=np.int64)
        total = 0
        for bucket in range(1 << _RADIX_BITS):
            offsets[bucket] = total
            total += counts[digit, bucket]
        for i in range(n):
            key = source[i]
            bucket = (key >> shift) & mask
            target[offsets[bucket]] = key
            offsets[bucket] += 1
        source, target = target, (second if target is first else first)
    if n == 0 or source is keys:  # every key shared every digit: already in order
        return values.copy()
    return source.view(np.float64)


_RADIX_BITS = 11
_RADIX_PASSES = 6  # 6 × 11 bits cover a float's 64


# The kernels a run calls (``warm_up`` loads each; helpers inlined or called from them are not listed).
COMPILED = ("_month_pass", "_hazards", "_purchase_sums", "_plain_values", "_scan_loop", "_resegment", "_contracts_due",
            "_sort_positive")

if njit is not None:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _float_from_bits(typing_context, bits):  # pragma: no cover - runs while compiling
        """The double whose 64 bits are ``bits`` (a bit cast the compiler vectorises, where ``math.ldexp`` is a call)."""
        def lower(context, builder, signature, arguments):
            return builder.bitcast(arguments[0], ir.DoubleType())
        return types.float64(types.int64), lower

    def _two_to_bits(k):  # pragma: no cover - compiled
        return _float_from_bits((np.int64(k) + 1023) << 52)  # the exponent field of 2^k, its mantissa 0

    _whole_power_compiled = njit(cache=True, nogil=True, error_model="numpy")(_whole_power)
    _geometric_sum_compiled = njit(cache=True, nogil=True, error_model="numpy")(_geometric_sum)
    _two_to = njit(cache=True, nogil=True, inline="always")(_two_to_bits)
    _exp = njit(cache=True, nogil=True, error_model="numpy", inline="always")(_exp_python)
    _churn_rate = njit(cache=True, nogil=True, error_model="numpy", inline="always")(_churn_rate_python)
    _month_pass = njit(cache=True, nogil=True, error_model="numpy")(_month_pass_python)
    _hazards = njit(cache=True, nogil=True, error_model="numpy")(_hazards_python)
    _lifetime_power_compiled = njit(cache=True, nogil=True, error_model="numpy", inline="always")(_lifetime_power)
    _plain_values = njit(cache=True, nogil=True, error_model="numpy")(_plain_values_python)
    _scan_loop = njit(cache=True, nogil=True, error_model="numpy")(_scan_loop_python)
    _resegment = njit(cache=True, nogil=True, error_model="numpy")(_resegment_python)
    _contracts_due = njit(cache=True, nogil=True, error_model="numpy")(_contracts_due_python)
    _purchase_sums = njit(cache=True, nogil=True, error_model="numpy")(_purchase_sums_python)
    _sort_positive = njit(cache=True, nogil=True, error_model="numpy")(_sort_positive_python)


def warm_up() -> None:
    """Load every compiled kernel into this process now (from numba's cache on disk, compiling only the first time).

    A process's first use of numba loads its typing and lowering registries (scipy.linalg among them): about
    1.5 s on an idle core, measured at 3–5 s on a busy one, paid by the first replication of every process.
    Called in the parent before a process pool starts, every worker forked from it inherits the loaded
    kernels; a Dask worker calls it when it starts, before its first task.

    Ctrl-C and SIGTERM wait until it is done: numba's compiler calls back into Python through ctypes, and an
    interrupt raised inside such a callback is printed and dropped, so the command went on running (seen once in
    CI, with numba's cache empty in a fresh clone).
    """
    if selected() != "numba":
        return
    with _interrupts_deferred():
        _load_every_kernel()


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM noted, not acted on, for the block, then raised again as they came. Blocking them in this
    thread was not enough: the kernel hands a signal to any thread that does not block it (OpenBLAS's, say), and
    Python then ran the handler in this one, inside numba's callback (seen in CI while the kernels compiled on a
    busy machine). Outside the main thread, where handlers cannot be set, signals are blocked in the thread."""
    import signal
    import threading

    wanted = (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread():
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, set(wanted))
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        return
    arrived: list[int] = []
    previous = {number: signal.signal(number, lambda number, _frame: arrived.append(number)) for number in wanted}
    try:
        yield
    finally:
        for wanted_signal, handler in previous.items():
            signal.signal(wanted_signal, handler)
        for number in dict.fromkeys(arrived):
            signal.raise_signal(number)


def _load_every_kernel() -> None:
    one, flag, whole = np.ones(1), np.zeros(1, dtype=np.bool_), np.zeros(1, dtype=np.int32)
    small, segment = np.zeros(1, dtype=np.int8), np.ones(1, dtype=np.int8)
    sums = QuarterSums.zeros()
    _month_pass(one.copy(), one, one, one, one, one.copy(), one.copy(), one.copy(), one, one.copy(), one, one, one, one,
                segment, segment, *sums, True, 0.1, 0.5, 0.0, True, True, 1.0, True, 1.0, 0.1, 0.0, 0.1, True, one)
    _hazards(0, 1, one, one, one, one, one, one.copy(), 1.0, True, 1.0, 0.1, 0.0)
    _purchase_sums(small, one, one, one, 0, True)
    _plain_values(one, one, one, one, one * 0.01, small, 0.001, one.copy())
    _scan_loop(small, whole - 1, one, one, one, one * 0.5, one * 0.99, np.log(one * 0.99), one * 0.01, one, segment,
               segment, flag, whole + 5, one.copy(), 2, 0.001, SEGMENT_COUNT + 1)
    _resegment(one, np.zeros(7), np.ones(SEGMENT_COUNT), one, one, small, 0, segment.copy(), one.copy(), one.copy())
    _contracts_due(whole, small, 0, 0)
    _sort_positive(one.copy())
