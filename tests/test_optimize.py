"""``clientele optimize``: a seeded search over a strategy's levers that finds a known optimum, gives the same trials
for the same seed, resumes, keeps its constraints and refuses a lever that does not exist before anything runs.

The known case: every mechanism off, margins spread around zero, one strategy that lets go every customer whose
lifetime value is at most a threshold. Letting a customer go changes the value of the book by minus their lifetime
value, so the best threshold is 0 — exactly the customers whose lifetime value is negative (Haenlein, Kaplan &
Schoder, "Valuing the real option of abandoning unprofitable customers when calculating customer lifetime value",
2006).
"""

from __future__ import annotations

import json

import pytest
import yaml

from reports.commands.cli import main
from simulation.analysis.optimize import run_optimization
from simulation.core.errors import ScenarioError

from .conftest import TEXTBOOK, merge

LEVER = "strategies.cut.steps.0.target.max_lifetime_value"
TOLERANCE = 10.0  # currency of lifetime value, in a search range of −300 to 300 (1.7 % of it)


def _files(folder, trials=24, **fields):
    scenario = merge(TEXTBOOK, {
        "horizon_quarters": 4,
        "population": {"revenue_sigma": 0.6, "account_management": 10.0},  # a margin of revenue − 10: both signs
        "strategies": {"retain_all": {}, "cut": {"steps": [
            {"action": "terminate", "target": {"max_lifetime_value": 0}, "cost_per_customer": 0}]}},
    })
    (folder / "textbook.yaml").write_text(yaml.safe_dump(scenario))
    search = {"name": "Where to cut", "scenario": "textbook.yaml", "strategy": "cut", "trials": trials,
              "replications": 2, "seed": 7, "levers": {LEVER: {"low": -300, "high": 300}}, **fields}
    path = folder / "search.yaml"
    path.write_text(yaml.safe_dump(search))
    return path


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search")
    return folder, run_optimization(_files(folder), folder / "out", workers=1)


@pytest.mark.slow
def test_the_search_finds_the_threshold_that_lets_go_exactly_the_negative_lifetime_values(searched):
    _, record = searched
    assert abs(record["best"][LEVER]) <= TOLERANCE, record["best"]
    best = record["trials"][record["best_trial"]]["objective"]
    far = [trial["objective"] for trial in record["trials"] if abs(trial["values"][LEVER]) > 100]
    assert far and max(far) < best  # cutting profitable customers, or keeping loss-makers, is worth less
    fresh = record["fresh"]  # on replications it was not chosen on: still ahead of keeping everyone
    assert fresh["seed"] == 8 and fresh["versus"]["retain_all"]["low"] > 0


@pytest.mark.slow
def test_the_same_seed_gives_the_same_trials_and_a_rerun_resumes(searched, tmp_path):
    folder, record = searched
    first = run_optimization(_files(tmp_path, trials=8), tmp_path / "out", workers=1)
    chunks = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "out" / "trials" / "results").iterdir()}
    resumed = run_optimization(_files(tmp_path, trials=24), tmp_path / "out", workers=1)
    assert [t["values"] for t in resumed["trials"]] == [t["values"] for t in record["trials"]]
    assert [t["objective"] for t in resumed["trials"]] == [t["objective"] for t in record["trials"]]
    assert resumed["trials"][:8] == first["trials"]
    after = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "out" / "trials" / "results").iterdir()}
    assert all(after[name] == stamp for name, stamp in chunks.items())  # the first eight were read, not run again


def test_a_constraint_is_kept_by_the_best_settings(tmp_path):
    record = run_optimization(_files(tmp_path, trials=12, constraints=[{"outcome": "divested", "at_most": 150}]),
                              tmp_path / "out", workers=1)
    best = record["trials"][record["best_trial"]]
    assert best["outcomes"]["divested"] <= 150 and best["feasible"]
    broken = [t for t in record["trials"] if t["outcomes"] and t["outcomes"]["divested"] > 150]
    assert broken and all(not t["feasible"] and "divested at most 150" in t["problem"] for t in broken)
    # the front: the feasible best and the best regardless of the bound are on it; no trial on it beats another
    front = [record["trials"][number] for number in record["pareto"]]
    unconstrained = max(record["trials"], key=lambda t: t["objective"])
    assert best in front and unconstrained in front
    for a in front:
        for b in front:
            assert not (a["objective"] >= b["objective"] and a["outcomes"]["divested"] <= b["outcomes"]["divested"]
                        and a is not b and (a["objective"], a["outcomes"]["divested"])
                        != (b["objective"], b["outcomes"]["divested"]))


def test_the_command_writes_the_tuned_strategy_ready_to_paste(searched, tmp_path, capsys):
    path = _files(tmp_path, trials=4)
    assert main(["optimize", str(path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "best settings:" in out and LEVER in out and "against retain_all" in out
    block = yaml.safe_load((tmp_path / "out" / "best_strategy.yaml").read_text())
    record = json.loads((tmp_path / "out" / "optimize.json").read_text())
    tuned = block["cut_tuned"]
    assert tuned["steps"][0]["target"]["max_lifetime_value"] == record["best"][LEVER]
    assert tuned["label"] == "cut, tuned" and "found by search" in tuned["description"]


@pytest.mark.parametrize("lever, words", [
    ("strategies.cut.steps.3.target.max_lifetime_value", "'3' is not a position in strategies.cut.steps"),
    ("strategies.cut.steps.0.surcharge", "'surcharge' is not a field of strategies.cut.steps.0"),
    ("strategies.retain_all.steps.0.surcharge", "a lever is a setting of the tuned strategy's steps"),
])
def test_a_lever_that_does_not_exist_is_refused_before_anything_runs(tmp_path, lever, words):
    path = _files(tmp_path, levers={lever: {"low": 0.1, "high": 0.2}})
    with pytest.raises(ScenarioError) as refused:
        run_optimization(path, tmp_path / "out", workers=1)
    assert words in str(refused.value) and lever in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_a_search_killed_mid_way_resumes_to_the_same_trials(searched, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    path = _files(tmp_path, trials=16)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "reports.commands.cli", "optimize", str(path), "--out", str(out),
                                "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list((out / "trials" / "results").glob("*.parquet"))) < 2:
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)  # kill -9, mid-search
    finally:
        process.wait(timeout=10)
    assert not (out / "optimize.json").exists()
    resumed = run_optimization(path, out, workers=1)
    assert [t["values"] for t in resumed["trials"]] == [t["values"] for t in searched[1]["trials"][:16]]
    assert [t["objective"] for t in resumed["trials"]] == [t["objective"] for t in searched[1]["trials"][:16]]


def _with_uncertainty(folder):
    path = folder / "textbook.yaml"
    scenario = yaml.safe_load(path.read_text())
    scenario["uncertainties"] = {"population.account_management": {
        "low": 8, "high": 12, "source": "A test's range: what serving an account costs is known to ±20 %"}}
    path.write_text(yaml.safe_dump(scenario))


@pytest.mark.slow
def test_a_robust_search_judges_each_setting_across_the_same_futures(tmp_path):
    path = _files(tmp_path, trials=16, robust={"points": 4, "measure": "mean"})
    _with_uncertainty(tmp_path)
    record = run_optimization(path, tmp_path / "out", workers=1)
    assert len(record["futures"]) == 4 and all(8 <= f["population.account_management"] <= 12
                                               for f in record["futures"])
    assert all(len(trial["point_ids"]) == 4 for trial in record["trials"])
    assert abs(record["best"][LEVER]) <= TOLERANCE  # in every future the answer is to let go the negative values
    assert record["fresh"]["futures"] == 4


@pytest.mark.slow
def test_a_p90_regret_search_finds_settings_that_never_lose_to_the_declared_options(tmp_path):
    path = _files(tmp_path, trials=8, compare=["retain_all"], robust={"points": 4, "measure": "p90_regret"})
    _with_uncertainty(tmp_path)
    record = run_optimization(path, tmp_path / "out", workers=1)
    assert all(trial["objective"] <= 0 for trial in record["trials"])  # minus a regret
    assert record["trials"][record["best_trial"]]["objective"] == 0.0  # ahead of keeping everyone in every future
    assert any(trial["objective"] < 0 for trial in record["trials"])  # cutting the wrong customers is regretted


def test_a_tuned_strategy_pasted_into_the_scenario_is_shown_to_the_board_as_found_by_search(searched, tmp_path):
    import re

    from reports.document import Report
    from simulation.runs.experiment import run_experiment

    folder, _ = searched
    block = yaml.safe_load((folder / "out" / "best_strategy.yaml").read_text()) if (
        folder / "out" / "best_strategy.yaml").exists() else None
    assert block is not None and block["cut_tuned"]["tuned"] == {"search": "search.yaml", "trials": 24, "seed": 7}
    scenario = yaml.safe_load((folder / "textbook.yaml").read_text())
    scenario["strategies"].update(block)  # pasted under strategies:, as the command says
    path = tmp_path / "with_tuned.yaml"
    path.write_text(yaml.safe_dump(scenario))

    def pages(seed):
        out = tmp_path / f"seed{seed}"
        run_experiment(path, out, replications=2, workers=1, seed=seed)
        report = Report.open(out, kind="board", quarter="2026Q4", output_dir=tmp_path)
        text = lambda fragment: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(fragment)))  # noqa: E731
        return text(report.decision_section()), text(report.strategies_appendix())

    decision, appendix = pages(seed=3)
    assert "cut, tuned was found by search, the best of 24 settings tried" in decision
    assert "re-estimated on this report's own simulated futures (another seed than the search's), not the ones it " \
           "was chosen on" in decision
    assert "found by search" in decision and "Settings found by search (search.yaml: the best of 24 tried, seed 7)" \
        in appendix
    decision, _ = pages(seed=7)  # the search's own futures
    assert "uses the search's seed (7), so its figures may come from the very futures it was chosen on" in decision


def test_a_whole_number_lever_is_searched_on_whole_numbers(tmp_path):
    path = _files(tmp_path, trials=4, levers={"strategies.cut.steps.0.review_months": {"low": 1, "high": 6}})
    record = run_optimization(path, tmp_path / "out", workers=1)
    values = [trial["values"]["strategies.cut.steps.0.review_months"] for trial in record["trials"]]
    assert all(isinstance(value, int) and 1 <= value <= 6 for value in values)
    assert all(trial["feasible"] for trial in record["trials"])


def test_p90_regret_without_declared_options_to_compare_is_refused(tmp_path):
    path = _files(tmp_path, compare=[], robust={"points": 2, "measure": "p90_regret"})
    _with_uncertainty(tmp_path)
    with pytest.raises(ScenarioError, match="there are none to compare with"):
        run_optimization(path, tmp_path / "out", workers=1)


def test_a_search_that_names_no_levers_searches_the_scenarios_own(searched, tmp_path):
    """The scenario declares what the company may choose (``levers:`` beside ``uncertainties:``); a search file that
    names no levers searches those, the same trials as when it names them itself."""
    _, record = searched
    path = _files(tmp_path, trials=4)
    scenario = yaml.safe_load((tmp_path / "textbook.yaml").read_text())
    scenario["levers"] = {LEVER: {"low": -300, "high": 300, "why": "how deep the cut may go"}}
    (tmp_path / "textbook.yaml").write_text(yaml.safe_dump(scenario))
    search = yaml.safe_load(path.read_text())
    del search["levers"]
    path.write_text(yaml.safe_dump(search))
    mine = run_optimization(path, tmp_path / "out", workers=1)
    assert [trial["values"] for trial in mine["trials"]] == [trial["values"] for trial in record["trials"][:4]]
    scenario["levers"] = {}
    (tmp_path / "textbook.yaml").write_text(yaml.safe_dump(scenario))
    with pytest.raises(ScenarioError, match="levers: none given, and the scenario textbook.yaml declares no levers of"):
        run_optimization(path, tmp_path / "out2", workers=1)


def test_a_board_report_takes_the_searchs_strategy_file_by_name(searched, tmp_path, capsys):
    """``--tuned FILE`` (or ``report.tuned:`` in the scenario) joins the search's strategy to the options without
    pasting; the file's fingerprint is in the run's inputs; a file that is not a search's, or a name the scenario
    already uses, is refused with the file named."""
    import shutil

    from simulation.runs.results import load_results

    folder, _ = searched
    best = folder / "out" / "best_strategy.yaml"
    assert main(["simulate", str(folder / "textbook.yaml"), "--tuned", str(best), "--replications", "2",
                 "--workers", "1", "--quiet", "--out", str(tmp_path / "by_option")]) == 0
    results = load_results(tmp_path / "by_option")
    assert "cut_tuned" in results.scenario.strategies and results.scenario.strategies["cut_tuned"].tuned is not None
    assert "tuned strategy file" in [entry["role"] for entry in results.provenance["input_files"]]

    shutil.copy(best, tmp_path / "best_strategy.yaml")  # named in the scenario, relative to it
    scenario = yaml.safe_load((folder / "textbook.yaml").read_text())
    (tmp_path / "named.yaml").write_text(yaml.safe_dump({**scenario, "report": {"tuned": "best_strategy.yaml"}}))
    assert main(["simulate", str(tmp_path / "named.yaml"), "--replications", "2", "--workers", "1", "--quiet",
                 "--out", str(tmp_path / "by_name")]) == 0
    named = load_results(tmp_path / "by_name")
    by_option = results.quarters[results.quarters["strategy"] == "cut_tuned"]["npv"].to_numpy()
    assert (named.quarters[named.quarters["strategy"] == "cut_tuned"]["npv"].to_numpy() == by_option).all()

    (tmp_path / "not_a_search.yaml").write_text(yaml.safe_dump({"cut": {"steps": []}}))
    (tmp_path / "clash.yaml").write_text(yaml.safe_dump({"cut": {"steps": [], "tuned": {"search": "x", "trials": 2,
                                                                                        "seed": 1}}}))
    for file, words in (("not_a_search.yaml", "expected the strategy file `clientele optimize` writes"),
                        ("clash.yaml", "adds the strategy 'cut', but the scenario defines one of that name already"),
                        ("missing.yaml", "missing.yaml")):
        capsys.readouterr()
        assert main(["validate", str(folder / "textbook.yaml"), "--tuned", str(tmp_path / file)]) != 0
        error = capsys.readouterr().err
        assert words in error and file in error, error


@pytest.mark.slow
def test_cma_es_finds_the_threshold_and_the_cost_with_the_same_trials_for_the_same_seed(tmp_path):
    """CMA-ES (``sampler: cmaes``) over two levers: the threshold (best at 0) and the cost of letting a customer go
    (best at its lowest, 0), in 60 trials; and it refuses a search it cannot adapt (one lever, or a list of values)."""
    cost = "strategies.cut.steps.0.cost_per_customer"
    levers = {LEVER: {"low": -300, "high": 300}, cost: {"low": 0, "high": 200}}
    path = _files(tmp_path, trials=60, sampler="cmaes", levers=levers)
    record = run_optimization(path, tmp_path / "out", workers=1)
    assert abs(record["best"][LEVER]) <= 2 * TOLERANCE and record["best"][cost] <= 10, record["best"]  # 9.8 and 2.0
    again = run_optimization(path, tmp_path / "out", workers=1)  # the sampler replayed: its trials read back
    assert [t["values"] for t in again["trials"]] == [t["values"] for t in record["trials"]]
    for lonely in ({LEVER: {"low": -300, "high": 300}}, {LEVER: {"low": -300, "high": 300}, cost: {"values": [0, 5]}}):
        with pytest.raises(ScenarioError, match="'sampler' cmaes adapts a search over two or more levers"):
            run_optimization(_files(tmp_path, trials=4, sampler="cmaes", levers=lonely), tmp_path / "x", workers=1)


def test_the_tuned_file_named_wins_over_an_earlier_block_and_its_errors_name_it(searched, tmp_path):
    from simulation.scenario.spec import load_scenario

    folder, _ = searched
    best = folder / "out" / "best_strategy.yaml"
    block = yaml.safe_load(best.read_text())
    scenario = yaml.safe_load((folder / "textbook.yaml").read_text())
    earlier = {**block["cut_tuned"], "steps": [{**block["cut_tuned"]["steps"][0], "target": {"max_lifetime_value": -250}}]}
    scenario["strategies"]["cut_tuned"] = earlier  # an earlier search's block, pasted
    path = tmp_path / "pasted.yaml"
    path.write_text(yaml.safe_dump(scenario))
    newer = load_scenario(path, [f"report.tuned={json.dumps(str(best))}"]).strategies["cut_tuned"]
    assert newer.steps[0].target.max_lifetime_value == block["cut_tuned"]["steps"][0]["target"]["max_lifetime_value"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump({"cut_tuned": {**block["cut_tuned"], "steps": [
        {**block["cut_tuned"]["steps"][0], "cost_per_customer": -5}]}}))
    with pytest.raises(ScenarioError) as error:
        load_scenario(folder / "textbook.yaml", [f"report.tuned={json.dumps(str(broken))}"])
    assert str(error.value).startswith(f"{broken}: 'cut_tuned.steps.0") and "-5" in str(error.value)
