"""Whatever validates, runs: scenarios with every number at an edge of its range, run for a quarter.

Each numeric field of the scenario and of every step — nested sections, optional thresholds, each
channel of the channel table and each of the eight segment multipliers included — takes its lowest
allowed value, its highest (a large one where the schema sets no ceiling), or its default;
hypothesis picks the mix. A scenario that the schema refuses is fine (its message is tested
elsewhere); one it accepts must run without an error or a numeric warning (pytest turns
RuntimeWarning into an error).
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from simulation.core.errors import ScenarioError
from simulation.data.sources import PopulationSource
from simulation.model import kernels
from simulation.model.engine import CustomerModel
from simulation.scenario.actions import ACTIONS
from simulation.scenario.spec import MAX_SEGMENT_MULTIPLIER, SEGMENT_COUNT, Scenario, scenario_from_dict

UNBOUNDED_HIGH = 1e6  # where the schema sets no ceiling: a value far beyond any real scenario
SMALL_WORLD = {"population": {"customers": st.sampled_from([1, 2, 40])},
               "market": {"size": st.sampled_from([1, 40, 100_000])}}
SKIPPED = {("", "horizon_quarters"), ("", "start_date")}  # one quarter, the default start: the run stays short
# Numbers the schema holds in tables and lists, whose ranges live in validators rather than field metadata.
TABLES = {
    ("", "channels"): st.fixed_dictionaries({}, optional={
        name: st.fixed_dictionaries({}, optional={
            "cost_per_contact": st.sampled_from([0.0, 1.0, 1e6]), "staffed": st.booleans()})
        for name in Scenario(name="defaults").channels}),
    ("churn", "segment_multipliers"): st.lists(st.sampled_from([0.0, 1.0, MAX_SEGMENT_MULTIPLIER]),
                                               min_size=SEGMENT_COUNT, max_size=SEGMENT_COUNT),
    ("population", "channel_mix"): st.sampled_from([{"call_centre": 1.0}, {"online": 1.0},
                                                    {"call_centre": 0.0, "online": 1.0}]),
}


def _unwrapped(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``Optional[...]`` (and whether it was optional)."""
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(arguments) == 1:
        return arguments[0], True
    return annotation, False


def _edges(field: Any, annotation: Any) -> list[float] | None:
    """Lowest, highest and default values of a numeric field; None for a field that is not a number."""
    annotation, optional = _unwrapped(annotation)
    base = typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation
    if base not in (int, float):
        return None
    low = high = None
    constraints = [*field.metadata, *(typing.get_args(annotation)[1:] if optional else ())]
    for constraint in constraints:
        if isinstance(constraint, Ge):
            low = constraint.ge
        elif isinstance(constraint, Gt):
            low = constraint.gt + (1 if base is int else 1e-3)
        elif isinstance(constraint, Le):
            high = constraint.le
        elif isinstance(constraint, Lt):
            high = constraint.lt - (1 if base is int else 1e-3)
    low = low if low is not None else -UNBOUNDED_HIGH
    high = high if high is not None else UNBOUNDED_HIGH
    values = [low, high, field.default]
    return [base(v) if base is int else float(v) for v in values if v is not None and math.isfinite(v)]


def section_strategy(model: type[BaseModel], prefix: str = "") -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in model.model_fields.items():
        if (prefix, name) in SKIPPED:
            continue
        if prefix in SMALL_WORLD and name in SMALL_WORLD[prefix]:
            fields[name] = SMALL_WORLD[prefix][name]
            continue
        if (prefix, name) in TABLES:
            fields[name] = TABLES[prefix, name]
            continue
        edges = _edges(field, field.annotation)
        inner, _ = _unwrapped(field.annotation)
        if edges:
            fields[name] = st.sampled_from(edges)
        elif field.annotation is bool:
            fields[name] = st.booleans()
        elif isinstance(inner, type) and issubclass(inner, BaseModel):  # a section, at any depth
            fields[name] = section_strategy(inner, f"{prefix}.{name}" if prefix else name)
    return st.fixed_dictionaries({}, optional=fields)


def ladder_strategy() -> st.SearchStrategy[list[dict[str, Any]]]:
    steps = []
    for name, declaration in ACTIONS.items():
        step = section_strategy(declaration.step, f"step:{name}").map(lambda values, n=name: {**values, "action": n})
        steps.append(step.map(lambda values: {**values, "target": {"max_monthly_profit": 0, **values.get("target", {})}}))
    return st.tuples(*steps).map(list)


@settings(max_examples=80, deadline=None, derandomize=True,  # the same examples on every machine: CI cannot be surprised
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(section_strategy(Scenario), ladder_strategy(), st.sampled_from(kernels.KERNEL_NAMES))
def test_every_scenario_that_validates_runs_a_quarter(values, ladder, kernel):
    values = {**values, "name": "edges", "horizon_quarters": 1}
    values.setdefault("population", {})
    values["population"].setdefault("customers", 40)
    values["strategies"] = {"ladder": {"steps": [{**step, "review_months": 1} for step in ladder]}}
    try:
        scenario = scenario_from_dict(values, "edges")
        population = PopulationSource().load(scenario, 1)  # checks the book against the market
    except ScenarioError:
        return  # refused with a message: nothing to run
    for name, strategy in scenario.strategies.items():
        model = CustomerModel(scenario, population, name, strategy, 1, 0)
        with kernels.use(kernel):
            output = model.run()
        assert len(output.quarters) == 1
        record = output.quarters[0]
        for key, value in record.items():
            if isinstance(value, float) and key not in ("top1_profit_at_risk", "revenue_market_share", "satisfaction",
                                                        "hhi", "effective_customers", "gini",
                                                        "top10_positive_profit_share"):
                assert math.isfinite(value), (key, value)
