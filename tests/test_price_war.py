"""The worked example of a mechanism added as one module (simulation/mechanisms/price_war.py): a competitor's
price war, found in the scenario schema, the results, the trace and the docs, and doing what it says."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.core.errors import ScenarioError
from simulation.mechanisms import MECHANISMS
from simulation.model import kernels
from simulation.model.outcomes import OUTCOMES
from simulation.scenario.spec import Scenario

from .behaviour_support import QUIET, build, column, merge, run_all, within_poisson
from .conftest import BUNDLED_SCENARIO

P, SHARE, MULTIPLIER, CUSTOMERS = 0.02, 0.25, 3.0, 20_000
# Everyone's monthly churn probability is P (no mixing: α / (α + β) = 0.02, the same for all); nothing else moves.
CHURNING = merge(QUIET, {"horizon_quarters": 3, "population": {"customers": CUSTOMERS},
                         "churn": {"enabled": True, "heterogeneous": False, "beta_alpha": 1.0, "beta_beta": 49.0},
                         "market": {"size": 400_000}})
WAR = {"price_war": {"enabled": True, "start_quarter": 2, "months": 3, "sensitive_share": SHARE,
                     "churn_multiplier": MULTIPLIER, "acquisition_cut": 0.4}}
KEEP = {"keep": {}}


def test_the_price_war_is_found_in_the_schema_the_results_the_trace_and_the_docs():
    assert "price_war" in Scenario.model_json_schema()["properties"]
    assert "price_war_churned" in [o.name for o in OUTCOMES]
    model = run_all(build(merge(CHURNING, WAR), KEEP))["keep"]
    assert list(model.trace.series("price_war")) == [0, 0, 0, 1, 1, 1, 0, 0, 0]
    assert column(model, "price_war_churned")[[0, 2]].tolist() == [0.0, 0.0]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs"))
    import generate

    page = generate.scenario_page()
    assert "`price_war.churn_multiplier`" in page and "| `price war` | `price_war` |" in page
    assert "`price_war_churned`" in generate.outcomes_page()
    assert any(m.name == "price war" for m in MECHANISMS)


def test_price_sensitive_customers_leave_at_the_multiplied_rate_during_the_war_only():
    models = run_all(build(merge(CHURNING, WAR), KEEP))
    churned = column(models["keep"], "churned")
    # Quarter 1: everyone at P. Quarter 2 (the war): the sensitive share at MULTIPLIER × P, the rest at P.
    left_1 = CUSTOMERS * (1 - (1 - P) ** 3)
    assert within_poisson(churned[0], left_1)
    on_books = CUSTOMERS * (1 - P) ** 3
    sensitive, rest = SHARE * on_books, (1 - SHARE) * on_books
    left_2 = sensitive * (1 - (1 - MULTIPLIER * P) ** 3) + rest * (1 - (1 - P) ** 3)
    # The Poisson spread, plus the binomial draw of who is sensitive (√(N s (1−s)) customers, each a
    # difference of the two quarters' leaving chances).
    spread = np.sqrt(left_2 + CUSTOMERS * SHARE * (1 - SHARE) * ((1 - (1 - P) ** 3) - (1 - (1 - MULTIPLIER * P) ** 3)) ** 2)
    assert abs(churned[1] - left_2) <= 4 * spread, (churned[1], left_2)
    # Without the war the same customers (the same draws) leave at P: the war's extra leavers are what it took.
    calm = column(run_all(build(CHURNING, KEEP))["keep"], "churned")
    assert churned[0] == calm[0]
    taken = churned[1] - calm[1]
    assert taken > 8 * np.sqrt(left_2)
    assert abs(column(models["keep"], "price_war_churned")[1] - taken) <= 0.1 * taken
    with kernels.use("numpy"):  # the numpy reference of the month's pass multiplies the same factors in
        reference = column(run_all(build(merge(CHURNING, WAR), KEEP))["keep"], "churned")
    assert reference.tolist() == churned.tolist()


def test_the_war_cuts_acquisition_from_the_market_by_its_share_while_it_lasts():
    settings = merge(QUIET, {"horizon_quarters": 3, "market": {"acquisition_enabled": True, "acquisition_rate": 0.001}})
    model = run_all(build(merge(settings, WAR), KEEP))["keep"]
    rate = model.trace.series("expected_from_market") / model.trace.series("prospects")
    np.testing.assert_allclose(rate, [0.001] * 3 + [0.0006] * 3 + [0.001] * 3, rtol=1e-12)


def test_the_book_is_valued_with_the_hazard_customers_keep_not_the_wars_temporary_one():
    # The war multiplies the month's draw only: the hazard kept — what lifetime values, the book's value and a
    # step's targeting read — is the same as without the war until the war has changed who is left.
    settings = merge(CHURNING, {"horizon_quarters": 2})
    war = merge(settings, {"price_war": {**WAR["price_war"], "start_quarter": 1, "months": 2}})
    traced = {name: build(s, KEEP, trace_columns=("hazard",))["keep"] for name, s in (("war", war), ("calm", settings))}
    run_all(traced)
    first_month = {name: model.trace.snapshots[0]["hazard"] for name, model in traced.items()}
    np.testing.assert_array_equal(first_month["war"], first_month["calm"])
    # ...and at the end of the quarter after the war, the remaining book is valued alike per customer.
    equity = {name: column(model, "customer_equity")[1] / column(model, "active_customers")[1]
              for name, model in traced.items()}
    assert equity["war"] == pytest.approx(equity["calm"], rel=0.01)


def test_a_switched_off_price_war_is_not_screened_and_one_after_the_horizon_is_refused():
    from simulation.analysis.screening import screening_ranges
    from simulation.scenario.spec import load_scenario

    bank = load_scenario(BUNDLED_SCENARIO)
    assert not [path for path in screening_ranges(bank, [*bank.uncertainties]) if path.startswith("price_war.")]
    at_war = load_scenario(BUNDLED_SCENARIO, ["price_war.enabled=true"])
    assert "price_war.sensitive_share" in screening_ranges(at_war, [*at_war.uncertainties])
    with pytest.raises(ScenarioError, match=r"price_war.start_quarter is 13, after the horizon's last quarter \(12\)"):
        load_scenario(BUNDLED_SCENARIO, ["price_war.enabled=true", "price_war.start_quarter=13"])
    load_scenario(BUNDLED_SCENARIO, ["price_war.start_quarter=13"])  # switched off: nothing to refuse
