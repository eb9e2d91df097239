"""Bad scenario input gets a message naming the file, the field, the value and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.core.errors import ScenarioError
from simulation.runs.experiment import select_strategies
from simulation.scenario.spec import load_scenario

from .conftest import BUNDLED_SCENARIO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_bundled_scenario_is_valid_and_defines_the_seven_strategies():
    scenario = load_scenario(BUNDLED_SCENARIO)
    assert list(scenario.strategies) == [
        "retain_all", "educate", "reprice", "migrate", "divest_graceful", "divest_abrupt", "ladder",
    ]


def test_unknown_key_suggests_the_likely_typo(tmp_path):
    path = write(tmp_path, "name: x\nchurn:\n  beta_alpah: 2\n")
    with pytest.raises(ScenarioError, match=r"scenario\.yaml: 'churn\.beta_alpah' is not a known field; did you mean 'beta_alpha'\?"):
        load_scenario(path)


def test_out_of_range_value_names_field_rule_and_value(tmp_path):
    path = write(tmp_path, "name: x\nmarket:\n  size: -5\n")
    with pytest.raises(ScenarioError, match=r"'market\.size' input should be greater than or equal to 1: got -5"):
        load_scenario(path)


def test_wrong_type_is_reported_with_the_value(tmp_path):
    path = write(tmp_path, "name: x\npopulation:\n  customers: lots\n")
    with pytest.raises(ScenarioError, match=r"'population\.customers' must be a number, not text .*: got 'lots'"):
        load_scenario(path)


def test_start_date_must_begin_a_calendar_quarter(tmp_path):
    path = write(tmp_path, "name: x\nstart_date: 2026-11-15\n")
    with pytest.raises(ScenarioError, match=r"'start_date' must be the first day of a calendar quarter"):
        load_scenario(path)


def test_unknown_action_lists_the_known_actions(tmp_path):
    path = write(tmp_path, "name: x\nstrategies:\n  s:\n    steps:\n      - action: fire\n")
    with pytest.raises(ScenarioError, match=r"'strategies\.s\.steps\[0\]'.*'fire'.*'educate', 'renegotiate', 'migrate_channel'"):
        load_scenario(path)


def test_strategy_targeting_an_undefined_channel_is_refused(tmp_path):
    path = write(tmp_path, "name: x\nstrategies:\n  s:\n    steps:\n      - action: educate\n        target: {channels: [fax]}\n")
    with pytest.raises(ScenarioError, match=r"strategy 's': target channel 'fax' is not defined"):
        load_scenario(path)


def test_missing_file_and_bad_yaml_name_the_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"nowhere\.yaml: scenario file not found"):
        load_scenario(tmp_path / "nowhere.yaml")
    with pytest.raises(ScenarioError, match=r"scenario\.yaml: not valid YAML"):
        load_scenario(write(tmp_path, "name: [unclosed\n"))


def test_override_changes_a_nested_value_and_is_validated_the_same_way():
    scenario = load_scenario(BUNDLED_SCENARIO, ["market.size=500000", "churn.enabled=false"])
    assert scenario.market.size == 500000 and scenario.churn.enabled is False
    with pytest.raises(ScenarioError, match=r"'market\.size' input should be greater than or equal to 1: got 0"):
        load_scenario(BUNDLED_SCENARIO, ["market.size=0"])
    with pytest.raises(ScenarioError, match=r"'market\.sise' is not a known field; did you mean 'size'\?"):
        load_scenario(BUNDLED_SCENARIO, ["market.sise=5"])
    with pytest.raises(ScenarioError, match=r"expected dotted\.path=value"):
        load_scenario(BUNDLED_SCENARIO, ["market.size"])


def test_unknown_strategy_name_lists_the_defined_ones():
    scenario = load_scenario(BUNDLED_SCENARIO)
    with pytest.raises(ScenarioError, match=r"unknown strategy 'ladderr'; the scenario defines: retain_all, educate"):
        select_strategies(scenario, ["retain_all", "ladderr"])


def test_scenario_hash_changes_with_any_parameter():
    base = load_scenario(BUNDLED_SCENARIO)
    assert base.content_hash() == load_scenario(BUNDLED_SCENARIO).content_hash()
    assert base.content_hash() != load_scenario(BUNDLED_SCENARIO, ["market.size=400001"]).content_hash()


def test_a_section_set_with_set_is_attributed_to_the_set_in_the_appendix(tmp_path):
    from reports.appendix import SOURCE_DEFAULT, SOURCE_FILE, SOURCE_OVERRIDE, parameter_sources
    from simulation.runs.results import scenario_file_keys

    sources = parameter_sources({"scenario_file_keys": scenario_file_keys(BUNDLED_SCENARIO),
                                 "overrides": ["capacity={agents: 30, handle_minutes: 6}", "market.size=500000"]})
    assert sources.of("capacity.agents") == SOURCE_OVERRIDE and sources.of("capacity.handle_minutes") == SOURCE_OVERRIDE
    assert sources.of("market.size") == SOURCE_OVERRIDE
    assert sources.of("market.acquisition_rate") == SOURCE_FILE
    assert sources.of("reputation.initial") == SOURCE_DEFAULT
    assert sources.of("capacityx") == SOURCE_DEFAULT  # a prefix of a name is not its section


def test_an_error_in_a_section_set_with_set_names_the_set():
    with pytest.raises(ScenarioError, match=r"^--set capacity=\{agents: 0\}: 'capacity\.agents'"):
        load_scenario(BUNDLED_SCENARIO, ["capacity={agents: 0}"])
