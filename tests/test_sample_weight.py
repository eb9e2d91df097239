"""A company-scale book simulated as a sample (``sample_weight``): one customer in w, each standing for w.

What a user relies on: the sample's money and counts are the whole book's (a run of N customers sampled one
in w reports what N customers would), ratios are untouched, the call centre meets the whole book's load
(Erlang C's waits for a tenth of the load on a tenth of the agents are not the same), and the options'
leads agree with the whole book's within the noise a sample adds. The board report's robustness futures
run a synthetic book of more than ``ROBUSTNESS_SAMPLE`` customers this way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.core.errors import ScenarioError
from simulation.data.sources import PopulationSource, start_run
from simulation.data.starting_position import starting_position
from simulation.data.targets import target_list
from simulation.model.outcomes import OUTCOMES
from simulation.runs.experiment import simulate
from simulation.scenario.spec import load_scenario

from .conftest import BUNDLED_SCENARIO


def run(overrides: list[str], replications: int = 1, seed: int = 3, strategies: tuple[str, ...] = ()):
    scenario = load_scenario(BUNDLED_SCENARIO, [*overrides, "uncertainties={}"])
    start = start_run(scenario, PopulationSource(), seed)
    chosen = {name: spec for name, spec in start.scenario.strategies.items() if not strategies or name in strategies}
    return start, simulate(start.scenario, start.book, chosen, replications, seed, workers=1)


def test_a_sample_reports_money_and_counts_for_the_whole_book_and_ratios_as_they_are():
    """Without the call centre, a book of 8,000 sampled one in four is the run of its 2,000 customers, scaled."""
    quiet = ["capacity.enabled=false", "horizon_quarters=4"]
    start, sampled = run([*quiet, "population.customers=8000", "market.size=160000", "sample_weight=4"])
    assert len(start.today) == 2000  # the sample; the scenario as run is the whole book, stored and shown as such
    assert (start.scenario.population.customers, start.scenario.market.size) == (8000, 160000)
    again = start_run(start.scenario, PopulationSource(), 3)  # what a stored scenario gives when run again (a bridge)
    assert len(again.today) == 2000
    small_start, small = run([*quiet, "population.customers=2000", "market.size=40000"])
    got, plain = sampled["quarters"], small["quarters"]
    assert len(got) == len(plain) > 0
    for declared in OUTCOMES:
        expected = plain[declared.name].to_numpy(float) * 4.0 ** declared.weight_power
        np.testing.assert_allclose(got[declared.name].to_numpy(float), expected, rtol=1e-12, atol=0,
                                   err_msg=declared.name)
    assert {o.name: o.weight_power for o in OUTCOMES if o.name in ("npv", "churned", "market_share", "hhi",
                                                                  "effective_customers", "gini")} == {
        "npv": 1, "churned": 1, "market_share": 0, "hhi": -1, "effective_customers": 1, "gini": 0}
    for table in ("segments", "start_segments"):
        for name in ("customers", "revenue", "profit"):
            np.testing.assert_allclose(sampled[table][name].to_numpy(float), 4.0 * small[table][name].to_numpy(float),
                                       rtol=1e-12, err_msg=f"{table}.{name}")
    assert sampled["segments"]["customers"].dtype.kind == "i"  # whole customers, as in an unsampled run
    assert (sampled["reach"]["first_review"].to_numpy() == 4 * small["reach"]["first_review"].to_numpy()).all()
    today, whole = (starting_position(scenario, population, 3) for scenario, population in (
        (start.scenario, start.today), (load_scenario(BUNDLED_SCENARIO, [*quiet, "population.customers=2000",
                                                                          "market.size=40000"]), small_start.today)))
    assert today["customers"].sum() == 8000 and today["customers"].dtype.kind == "i"
    np.testing.assert_allclose(today["profit"], 4.0 * whole["profit"], rtol=1e-12)


def test_the_call_centre_meets_the_whole_books_load():
    """A tenth of the customers on all the agents: the wait is the whole book's, not the near-zero a tenth of the
    load would meet, nor the longer wait of a tenth of the agents."""
    # Every customer calls alike, so that the sample's load is the whole book's to within a percent (with the
    # bundled spread of contacts a sample of 4,000 carries a few percent of noise, which Erlang C near saturation
    # turns into tens of percent of wait).
    even = ["population.contacts_shape=10000", "population.contacts_revenue_elasticity=0",
            "population.channel_mix={call_centre: 1.0}", "horizon_quarters=1"]
    busy = [*even, "capacity.agents=50", "population.customers=40000", "market.size=800000"]
    _, whole = run(busy, strategies=("retain_all",))
    _, sample = run([*busy, "sample_weight=10"], strategies=("retain_all",))
    _, small_centre = run([*even, "capacity.agents=5", "population.customers=4000", "market.size=80000"],
                          strategies=("retain_all",))
    wait, sampled_wait = (float(t["quarters"]["wait_minutes"].iloc[0]) for t in (whole, sample))
    assert wait > 1.0  # a queue worth measuring (2.4 minutes)
    assert sampled_wait == pytest.approx(wait, rel=0.2)  # measured 2.1
    assert float(small_centre["quarters"]["wait_minutes"].iloc[0]) > 5 * wait  # 26 minutes: why agents stay


@pytest.mark.slow
def test_the_options_leads_on_a_sample_agree_with_the_whole_book_within_the_samples_noise():
    """Every option's lead over the baseline (horizon NPV plus the book's value), over three books and two
    replications each: the sample's within three standard errors of the whole book's."""
    book = ["population.customers=60000", "market.size=1200000", "capacity.agents=60"]

    def leads(extra: list[str]) -> pd.DataFrame:
        frames = []
        for seed in range(3):  # each seed draws another book: the sample's noise includes the book's draw
            _, tables = run([*book, *extra], replications=2, seed=seed)
            at_end = tables["quarters"][tables["quarters"]["quarter"] == tables["quarters"]["quarter"].max()]
            value = at_end.groupby("strategy")["npv_plus_book"].mean()
            frames.append((value - value["retain_all"]).rename(seed))
        return pd.concat(frames, axis=1)

    whole, sample = leads([]), leads(["sample_weight=6"])
    error = np.sqrt((whole.var(axis=1) + sample.var(axis=1)) / 3).drop("retain_all")
    difference = (sample.mean(axis=1) - whole.mean(axis=1)).drop("retain_all")
    assert (difference.abs() <= 3 * error + 1.0).all(), pd.DataFrame({"difference": difference, "error": error})
    ranked = whole.mean(axis=1).sort_values(ascending=False)
    assert sample.mean(axis=1)[ranked.index[0]] > 0  # the whole book's leader leads the baseline on the sample too


def test_a_company_scale_reports_robustness_runs_on_a_sample():
    from reports.pipeline import ROBUSTNESS_SAMPLE, robustness_sample

    def scenario(*overrides: str):
        return load_scenario(BUNDLED_SCENARIO, list(overrides))

    assert robustness_sample(scenario(), 1_000_000) == [f"sample_weight={1_000_000 / ROBUSTNESS_SAMPLE!r}"]
    assert robustness_sample(scenario(), 20_000) == []  # the bundled book: whole
    assert robustness_sample(scenario("sample_weight=2"), 1_000_000) == []  # the analyst's own weight stands
    with pytest.raises(ScenarioError, match=r"sample_weight.*greater than or equal to 1"):
        scenario("sample_weight=0.5")
    with pytest.raises(ScenarioError, match=r"sample_weight 4: the list names today's customers one by one"):
        target_list(scenario("sample_weight=4"), PopulationSource(), "ladder", 1)


@pytest.mark.parametrize("data", ["ledger.csv", "transactions.csv"])
def test_a_companys_data_is_sampled_every_so_many_customers_by_revenue_rank(data: str):
    """A ledger's or a log's customers, one in four by revenue rank: the revenue spreads as the book's does, the
    market and the scenario as run stay the whole book's, and the outcomes are reported for it."""
    folder = BUNDLED_SCENARIO.parent.parent / "examples"
    source = PopulationSource.from_paths(folder / data if data == "ledger.csv" else None,
                                         folder / data if data == "transactions.csv" else None)
    whole = start_run(load_scenario(BUNDLED_SCENARIO, ["horizon_quarters=2"]), source, 1)
    sample = start_run(load_scenario(BUNDLED_SCENARIO, ["horizon_quarters=2", "sample_weight=4"]), source, 1)
    assert len(sample.book) == round(len(whole.book) / 4)
    assert sample.scenario.market.size == whole.scenario.market.size  # the whole book's, divided by the engine
    revenue = np.sort(getattr(whole.book, "template", whole.book).revenue)
    sampled = np.sort(getattr(sample.book, "template", sample.book).revenue)
    step = 2 / len(sampled)  # every fourth by rank: the sample's quantile is the book's within a stretch of ranks
    for share in (0.1, 0.5, 0.9):
        assert np.quantile(revenue, share - step) <= np.quantile(sampled, share) <= np.quantile(revenue, share + step)
    # Its total misses by what the top stretch's largest customers earn above its middle one: 5 % on this small
    # ledger's heavy tail (about 500 customers sampled one in four); a company-scale sample has 100,000.
    assert 4 * sampled.sum() == pytest.approx(revenue.sum(), rel=0.1)
    first = [simulate(start.scenario, start.book, {"retain_all": start.scenario.strategies["retain_all"]}, 1, 1,
                      workers=1)["quarters"].iloc[0] for start in (whole, sample)]
    for name in ("active_customers", "revenue"):  # the book's, not the sample's (a quarter of it)
        assert first[1][name] == pytest.approx(first[0][name], rel=0.15), name
