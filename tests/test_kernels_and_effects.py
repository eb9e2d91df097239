"""The compiled kernels against the numpy reference, and actions as plain functions returning effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.book.effects import ActionContext
from simulation.core.errors import ScenarioError
from simulation.model import kernels
from simulation.runs.experiment import PopulationSource, simulate
from simulation.scenario.actions import ACTIONS, EducateStep, TerminateStep, educate, get_action, terminate
from simulation.scenario.spec import load_scenario
from simulation.scenario.strategy import StrategySpec

from .behaviour_support import QUIET, build
from .conftest import BUNDLED_SCENARIO

SMALL = ["population.customers=1500", "market.size=30000", "horizon_quarters=4"]


@pytest.mark.skipif(kernels.njit is None, reason="numba is not installed")
def test_compiled_kernels_give_the_numpy_reference_results_for_every_bundled_strategy():
    scenario = load_scenario(BUNDLED_SCENARIO, SMALL)
    population = PopulationSource().load(scenario, 9)
    tables = {}
    for name in ("numpy", "numba"):
        with kernels.use(name):
            tables[name] = simulate(scenario, population, dict(scenario.strategies), 2, 9, workers=1)
    for kind in ("quarters", "segments", "start_segments", "lorenz"):
        reference, compiled = tables["numpy"][kind], tables["numba"][kind]
        assert list(reference.columns) == list(compiled.columns)
        for column in reference.columns:
            if pd.api.types.is_float_dtype(reference[column]):
                # Sums in another order and x^n by squaring: agreement to rounding, not to the last bit.
                np.testing.assert_allclose(compiled[column], reference[column], rtol=1e-9, atol=1e-6, err_msg=column)
            else:  # every count, every customer's fate: identical
                pd.testing.assert_series_equal(compiled[column], reference[column], check_exact=True)


def test_kernel_names_are_checked():
    with pytest.raises(ValueError, match="kernels must be one of numba, numpy: 'fortran'"):
        with kernels.use("fortran"):
            pass


def context_for(model) -> ActionContext:
    return ActionContext(customers=model.customers.read_only(), month=0, channel_names=("call_centre", "online"),
                         monthly_discount=0.008, acquisition_cost=120.0, migration_word_of_mouth=0.05)


def test_an_action_is_a_plain_function_from_customers_to_an_effect():
    model = build(QUIET, {"probe": {}})["probe"]
    context = context_for(model)
    rows = np.arange(100)
    draws = np.linspace(0.0, 0.99, 100)
    before = model.customers.contacts.copy()
    effect = educate(context, EducateStep(action="educate", success_rate=0.3, contact_reduction=0.5), rows, draws)
    np.testing.assert_array_equal(effect.contacts.rows, rows[draws < 0.3])
    np.testing.assert_allclose(effect.contacts.values, model.customers.contacts[rows[draws < 0.3]] * 0.5)
    assert effect.cost == 25.0 * 100 and effect.tellers == 0.0 and len(effect.divest_now) == 0
    np.testing.assert_array_equal(model.customers.contacts, before)  # nothing applied until the engine does
    ended = terminate(context, TerminateStep(action="terminate", pay_exit_cost=True, exit_cost=10.0), rows, draws)
    np.testing.assert_array_equal(ended.divest_now, rows)
    remaining = np.maximum(model.customers.contract_end[rows], 0).sum()
    assert ended.cost == pytest.approx(15.0 * 100 + 10.0 * remaining)


def test_actions_cannot_write_the_engines_state():
    model = build(QUIET, {"probe": {}})["probe"]
    context = context_for(model)
    with pytest.raises(ValueError, match="read-only"):
        context.customers.contacts[0] = 0.0


def test_the_step_union_and_the_registry_are_one_declaration():
    union_actions = {step.action for step in StrategySpec.model_validate(
        {"steps": [{"action": name} for name in ACTIONS]}).steps}
    assert union_actions == set(ACTIONS) == {"educate", "renegotiate", "migrate_channel", "migrate_partner", "terminate"}
    for declaration in ACTIONS.values():
        assert declaration.step.model_fields["action"].annotation.__args__ == (declaration.name,)
    with pytest.raises(ScenarioError, match="unknown action 'retire'; known actions: educate, migrate_channel"):
        get_action("retire")


@pytest.mark.skipif(kernels.selected() != "numba", reason="the compiled kernels are not in use")
def test_the_warm_up_loads_the_very_kernels_the_runs_use_so_no_process_compiles_twice():
    """``kernels.warm_up`` runs in a parent before its workers fork: if its argument types differed from a run's, each
    worker would compile (or load) a second version in its first replication, which is what the warm-up removes."""
    import subprocess
    import sys

    code = """
from simulation.model import kernels
from simulation.runs.experiment import run_replication
from simulation.scenario.spec import load_scenario
from simulation.data.sources import PopulationSource, start_run
kernels.warm_up()
warmed = {name: len(getattr(kernels, name).signatures) for name in kernels.COMPILED}
for path, overrides, source in (
        ("scenarios/retail_bank.yaml", ["population.customers=600", "market.size=12000", "horizon_quarters=4"],
         PopulationSource()),
        ("scenarios/retailer.yaml", ["horizon_quarters=2"], PopulationSource.from_paths(None, "examples/transactions.csv"))):
    start = start_run(load_scenario(path, overrides), source, 3)
    run_replication(start.scenario, start.book, dict(start.scenario.strategies), 3, 0)
after = {name: len(getattr(kernels, name).signatures) for name in kernels.COMPILED}
print(warmed, after)
assert warmed == after == {name: 1 for name in kernels.COMPILED}, (warmed, after)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=BUNDLED_SCENARIO.parent.parent, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_finished_model_is_freed_at_once_without_waiting_for_the_cyclic_collector():
    # A worker runs one model after another: a model kept alive by a reference cycle stays in memory until the cyclic
    # collector happens to run, and at a million customers a worker held several at once (4.5 GB against 0.9 GB).
    import gc
    import weakref

    from simulation.model.engine import CustomerModel

    scenario = load_scenario(BUNDLED_SCENARIO, ["population.customers=1500", "market.size=30000", "horizon_quarters=4"])
    population = PopulationSource().load(scenario, 1)
    gc.disable()
    try:
        for name, spec in scenario.strategies.items():
            model = CustomerModel(scenario, population, name, spec, 1, 0)
            model.run()
            finished = weakref.ref(model)
            del model
            assert finished() is None, f"{name}: the finished model is still referenced (a reference cycle)"
    finally:
        gc.enable()
