"""Sweep files and designs: sizes SALib documents, types from the dotted path, every point validated first."""

from __future__ import annotations

import pytest

from reports.commands.cli import main
from simulation.core.errors import ScenarioError
from simulation.runs.sweeps import load_plan

from .sweep_support import write_sweep


def test_sobol_design_has_saltellis_n_times_d_plus_2_points_and_swings(tmp_path):
    plan = load_plan(write_sweep(tmp_path, {"method": "sobol", "points": 8}))
    roles = [row.role for row in plan.rows]
    assert roles.count("design") == 8 * (2 + 2)
    assert roles.count("base") == 1 and roles.count("swing") == 4


def test_sobol_points_must_be_a_power_of_two(tmp_path):
    with pytest.raises(ScenarioError, match=r"power of two.*got 12; try 8 or 16"):
        load_plan(write_sweep(tmp_path, {"method": "sobol", "points": 12}))


def test_integer_and_choice_parameters_take_values_of_their_type(tmp_path):
    plan = load_plan(write_sweep(tmp_path, {"method": "lhs", "points": 20}, {
        "population.contract_term_months": {"low": 6, "high": 18},
        "word_of_mouth.enabled": {"values": [True, False]},
    }))
    terms = {row.values["population.contract_term_months"] for row in plan.rows}
    assert all(isinstance(term, int) and 6 <= term <= 18 for term in terms) and len(terms) > 5
    assert {row.values["word_of_mouth.enabled"] for row in plan.rows} == {True, False}


def test_a_range_for_a_choice_and_a_fractional_range_for_a_count_are_refused(tmp_path):
    with pytest.raises(ScenarioError) as refused:
        load_plan(write_sweep(tmp_path, parameters={"word_of_mouth.enabled": {"low": 0, "high": 1},
                                                    "population.customers": {"low": 100.5, "high": 300}}))
    assert "'word_of_mouth.enabled' is a choice, not a number" in str(refused.value)
    assert "'population.customers' takes whole numbers" in str(refused.value) and "100.5" in str(refused.value)


def test_grid_points_and_ids_are_stable(tmp_path):
    design = {"method": "grid"}
    parameters = {"word_of_mouth.first_hand": {"values": [3, 9]}, "churn.price_elasticity": {"low": 1, "high": 3, "levels": 3}}
    first = load_plan(write_sweep(tmp_path, design, parameters))
    assert len([row for row in first.rows if row.role == "design"]) == 6
    again = load_plan(write_sweep(tmp_path, design, parameters))
    assert [point.point_id for point in first.points] == [point.point_id for point in again.points]
    reseeded = load_plan(write_sweep(tmp_path, design, parameters, seed=12))
    assert not {point.point_id for point in first.points} & {point.point_id for point in reseeded.points}


def test_invalid_points_are_listed_together_and_nothing_is_written(tmp_path, capsys):
    sweep = write_sweep(tmp_path, {"method": "grid"}, {"word_of_mouth.first_hand": {"values": [3, 2000, -1]},
                                                       "churn.price_elasticity": {"values": [1, 30]}})
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--quiet"]) == 2
    message = capsys.readouterr().err
    assert "8 of 11 points are not valid scenarios; nothing was run or written" in message
    assert ("point 3 (word_of_mouth.first_hand=2000, churn.price_elasticity=30): 'churn.price_elasticity' input should "
            "be less than or equal to 20: got 30; 'word_of_mouth.first_hand' input should be less than or equal to "
            "1000: got 2000") in message
    assert not out.exists()


def test_unknown_sweep_field_names_the_known_ones(tmp_path):
    with pytest.raises(ScenarioError, match=r"'design.point' is not a known field \(known: method, points"):
        load_plan(write_sweep(tmp_path, {"method": "lhs", "point": 6}))
