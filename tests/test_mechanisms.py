"""The pure functions behind the model, against textbook values and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.book.valuation import lifetime_values
from simulation.core.concentration import concentration_measures, lorenz_curve
from simulation.core.formulas import churn_hazard, erlang_c_wait, price_hazard

from .oracles import gini, herfindahl, top_customers_loss, top_positive_share


def test_erlang_c_matches_the_textbook_value():
    # Two erlangs offered to three agents: P(wait) = 4/9, mean wait = P × h / (c − A).
    assert erlang_c_wait(2.0, 3, handle_minutes=1.0, max_wait=60) == pytest.approx(4 / 9, rel=1e-12)


def test_erlang_c_is_capped_when_demand_exceeds_capacity():
    assert erlang_c_wait(5.0, 5, handle_minutes=8, max_wait=60) == 60
    assert erlang_c_wait(0.0, 5, handle_minutes=8, max_wait=60) == 0


def test_switched_off_mechanisms_leave_the_hazard_untouched():
    base = np.array([0.01, 0.2, 0.05])
    hazard = churn_hazard(base, np.array([0.3, -0.2, 0.1]), 0.0, np.array([0.5, 1, 0]), 0.0,
                          np.array([True, False, True]), 0.0)
    np.testing.assert_array_equal(hazard, base)
    np.testing.assert_array_equal(price_hazard(np.array([1.5, 1, 2]), 0.0), [1, 1, 1])


def test_price_elasticity_scales_the_hazard_and_caps_at_one():
    base = np.array([0.02, 0.5]) * price_hazard(np.array([1.15, 2.0]), 2.0)
    np.testing.assert_allclose(churn_hazard(base), [0.02 * 1.15**2, 1.0])


def test_hazard_multipliers_compose():
    base = np.array([0.01, 0.02, 0.03])
    hazard = churn_hazard(base, np.array([0.1, 0.0, -0.1]), 3.0, np.array([1.0, 0.8, 1.0]), 2.0,
                          np.array([False, True, True]), 0.5)
    expected = base * np.exp(3.0 * np.array([0.1, 0.0, -0.1])) * np.exp(2.0 * np.array([0, 0.2, 0])) * [1, 1.5, 1.5]
    np.testing.assert_allclose(hazard, expected, rtol=1e-12)


def brute_force(a: float, c: float, growth: float, q: float, months: int) -> tuple[float, float]:
    margins = np.array([a * (1 + growth) ** t - c for t in range(1, months + 1)])
    weights = q ** np.arange(1, months + 1)
    plain = float(np.sum(margins * weights))
    # Deterministic margins: the best stopping month is the best prefix sum (0 = let go now).
    best = max(0.0, float(np.max(np.cumsum(margins * weights))))
    return plain, best


@settings(max_examples=200, deadline=None)
@given(
    a=st.floats(0.1, 200), c=st.floats(0.0, 200), growth=st.floats(-0.05, 0.05),
    retention=st.floats(0.80, 0.999), months=st.integers(1, 150),
)
def test_option_to_abandon_matches_brute_force_optimal_stopping(a, c, growth, retention, months):
    i = 0.008
    plain, with_option = lifetime_values(np.array([a]), np.array([c]), np.array([growth]), np.array([retention]), i, months)
    expected_plain, expected_option = brute_force(a, c, growth, retention / (1 + i), months)
    assert plain[0] == pytest.approx(expected_plain, rel=1e-6, abs=1e-6)
    assert with_option[0] == pytest.approx(expected_option, rel=1e-6, abs=1e-6)
    assert with_option[0] >= plain[0] - 1e-9


def test_growing_loss_maker_can_turn_positive_with_the_option():
    # Loses 2 a month now, margin grows 3 % a month: plain value positive; a shrinking one is cut off.
    plain, option = lifetime_values(np.array([8.0, 8.0]), np.array([10.0, 6.0]), np.array([0.03, -0.03]),
                                    np.array([0.99, 0.99]), 0.008, 120)
    assert plain[0] > 0 and option[0] == pytest.approx(plain[0])
    assert option[1] > plain[1]


def measures_of(profit: np.ndarray) -> dict[str, float]:
    return concentration_measures(np.sort(profit[profit > 0]), float(profit.sum()))


def test_concentration_measures_on_known_inputs():
    even = measures_of(np.ones(100))
    assert even["hhi"] == pytest.approx(0.01) and even["effective_customers"] == pytest.approx(100)
    assert even["gini"] == pytest.approx(0.0, abs=1e-12)
    assert even["top10_positive_profit_share"] == pytest.approx(0.10)
    assert even["top1_profit_at_risk"] == pytest.approx(0.01)
    one_earner = np.zeros(100)
    one_earner[7] = 50.0
    single = measures_of(one_earner)
    assert single["hhi"] == 1.0 and single["effective_customers"] == 1.0 and single["gini"] == 0.0
    mixed = np.array([100.0, 10.0, -30.0, 5.0] + [1.0] * 96)  # 99 profitable customers earning 211
    measures = measures_of(mixed)
    assert measures["top10_positive_profit_share"] == pytest.approx((100 + 10 + 5 + 7 * 1) / 211)
    assert measures["top1_loss"] == 100.0
    assert measures["top1_profit_at_risk"] == pytest.approx(100 / 181)
    share, curve = lorenz_curve(np.ones(100), points=11)
    np.testing.assert_allclose(curve, share)


def test_concentration_is_defined_for_a_loss_making_book_and_unmoved_by_its_loss_makers():
    book = np.array([50.0, 20.0, 10.0] + [-30.0] * 10)  # net −220
    measures = measures_of(book)
    assert measures["top10_positive_profit_share"] == pytest.approx(50 / 80)
    assert np.isnan(measures["top1_profit_at_risk"])  # no profit to put at risk
    without_loss_makers = measures_of(book[:3])
    for name in ("top10_positive_profit_share", "hhi", "effective_customers", "gini", "top1_loss"):
        assert measures[name] == pytest.approx(without_loss_makers[name])
    # Letting the loss-makers go puts the (now positive) profit at risk: 50 of 80.
    assert without_loss_makers["top1_profit_at_risk"] == pytest.approx(50 / 80)


def test_one_sort_concentration_measures_agree_with_the_textbook_formulas(rng):
    profit = rng.lognormal(2, 1.5, 3000) - rng.gamma(0.5, 20, 3000)
    measures = measures_of(profit)
    assert measures["top10_positive_profit_share"] == pytest.approx(top_positive_share(profit, 0.10), rel=1e-12)
    assert measures["hhi"] == pytest.approx(herfindahl(profit), rel=1e-12)
    assert measures["gini"] == pytest.approx(gini(profit), rel=1e-9)
    assert measures["top1_loss"] == pytest.approx(top_customers_loss(profit, 0.01), rel=1e-12)
    assert measures["effective_customers"] == pytest.approx(1 / herfindahl(profit), rel=1e-12)
    assert measures["top1_profit_at_risk"] == pytest.approx(top_customers_loss(profit, 0.01) / profit.sum(), rel=1e-12)
