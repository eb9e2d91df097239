"""A report from scenario to PDF: check, simulate or reuse, execute the notebook, export HTML, render the PDF.

One way, each stage reading only what the previous one wrote: the checked request → the results
folder (simulated here, in the command, or reused when it holds this very run, its files
unchanged) → the executed notebook, which only reads that folder → the HTML → the PDF. A sweep
report is the same way from a sweep file: every point validated, then the sweep's store run or
resumed (its finished points kept) in the command, and the notebook reads the store. A board
report of a scenario that declares ``uncertainties:`` also runs (or resumes) a small Latin
hypercube over them into ``results/robustness`` for its robustness section. Each
stage is timed, so ``clientele report`` and the benchmark can say where the time goes. Bad input
stops the run before anything is simulated; a failing notebook stops it before any HTML or PDF.
While a report writes into a folder, the folder is locked: a second run into it is refused.
The notebook's kernel runs in an empty temporary folder, never the output folder, so nothing
placed there can be imported.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import nbformat
import pandas as pd

from reports import notebook_run, render
from reports.decision import Decision, board_decision, horizon_values
from reports.folder_lock import folder_lock
from reports.kinds import KINDS, ReportKind
from reports.numbers import check_quarter
from simulation.analysis.robustness import ROBUSTNESS_FOLDER, ScreeningRequest, run_robustness
from simulation.analysis.screening import SCREENING_FOLDER, read_screening
from simulation.core.errors import ClienteleError, ReportError, ScenarioError
from simulation.core.files import refuse_overwriting_inputs
from simulation.core.folder_kinds import check_folder_kind
from simulation.core.periods import add_months, quarter_label
from simulation.runs.experiment import (
    DEFAULT_REPLICATIONS,
    DEFAULT_SEED,
    PopulationSource,
    check_replications,
    run_or_reuse,
    select_strategies,
)
from simulation.runs.results import (
    BACKTEST_FOLDER,
    check_output_folder,
    load_results,
    read_provenance,
    remove_stale_temporaries,
)
from simulation.runs.sweeps import SweepPlan, load_plan, run_sweep
from simulation.runs.sweeps.spec import policy_count
from simulation.scenario.spec import Scenario, load_scenario

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {name: kind.notebook for name, kind in KINDS.items()}
DEFAULT_REPORT_REPLICATIONS = DEFAULT_REPLICATIONS  # one default for `simulate` and `report`
# The board report's robustness check, sized to keep the default `make report` (20,000 customers,
# 12 quarters) under a minute on 2 cores: the decision's leading strategies (at most three) and the
# baseline, in ROBUSTNESS_POINTS Latin-hypercube futures plus the base and each range's two ends
# (the swings that name the assumptions which flip the choice), ROBUSTNESS_REPLICATIONS each.
# Measured by benchmarks/report_pipeline.py; a fuller study is a sweep (`clientele report FILE --kind sweep`).
# A company's book runs them on a sample: a synthetic book of more than ROBUSTNESS_SAMPLE customers is simulated
# as ROBUSTNESS_SAMPLE of them, each standing for the rest (``sample_weight``): the options' leads agreed with the
# whole book's within their noise at 100,000 customers sampled one in ten (measured; the slow test checks 60,000
# sampled one in six), and at
# 1,000,000 the screening added the assumptions the whole book's did, where 50,000 added two of its four.
ROBUSTNESS_SAMPLE = 100_000
ROBUSTNESS_POINTS = 16
ROBUSTNESS_REPLICATIONS = 2
ROBUSTNESS_LEADERS = 3
# A --set, a seed or a ledger is the sweep file's to declare: a sweep report refuses them rather than ignore them.
SCENARIO_OPTIONS = (("strategies", "--strategies"), ("replications", "--replications"), ("seed", "--seed"),
                    ("customers", "--customers"), ("transactions", "--transactions"), ("columns", "--columns"),
                    ("overrides", "--set"))


@dataclass(frozen=True)
class ReportRequest:
    """What the analyst asked for; paths as given on the command line."""

    scenario: Path
    kind: str = "board"
    quarter: str | None = None
    strategies: Sequence[str] | None = None
    replications: int | None = None
    seed: int | None = None
    workers: int | None = None
    dask: str | None = None  # run the replications (and the robustness sweep) on Dask: local or an address
    previous: Path | None = None  # last quarter's report folder: a page of what changed since (reports.bridge)
    customers: Path | None = None
    transactions: Path | None = None
    columns: str | None = None  # the data file's own column names (--columns)
    overrides: Sequence[str] = ()
    out: Path | None = None
    notebook: Path | None = None  # another notebook of the same kind (tests, analysts' drafts)
    progress: bool = False


@dataclass
class ReportOutcome:
    pdf: Path
    html: Path
    notebook: Path
    pages: int
    results_reused: bool
    timings: dict[str, float] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # WeasyPrint's warnings
    simulated_because: str = ""
    results_dir: Path = Path()  # what the notebook read: a results folder or a sweep's store
    robustness: str = ""  # what the robustness stage did, for the summary line ("" when it did not run)
    backtest: str = ""  # what the backtest stage did ("" when it did not run)
    unreached: list[str] = field(default_factory=list)  # options that reached no one, and why (from the results)
    since_last_quarter: str = ""  # what the --previous stage did ("" when not asked)


@dataclass(frozen=True)
class CheckedRequest:
    kind: str
    quarter: str
    out: Path
    notebook: Path
    scenario: Scenario
    strategies: list[str]
    replications: int
    seed: int
    plan: SweepPlan | None = None  # a sweep report's validated sweep

    def output(self, suffix: str) -> Path:
        return self.out / f"{self.kind}_report{suffix}"

    @property
    def results_dir(self) -> Path:
        return self.out / KINDS[self.kind].results_folder

    def parameters(self) -> dict[str, Any]:
        """What the notebook is given: where the results are, where its charts go, and what to call it."""
        return {"results_dir": str(self.results_dir.resolve()), "output_dir": str(self.out.resolve()),
                "kind": self.kind, "quarter": self.quarter}


def horizon_quarters(scenario: Scenario) -> list[str]:
    """The scenario's quarters as labels, first to last."""
    return [quarter_label(add_months(scenario.start_date, 3 * q)) for q in range(scenario.horizon_quarters)]


def quarter_before(scenario: Scenario) -> str:
    """The quarter that ends when the simulation starts: a report for 'Q3' on a book as at 30 September."""
    return quarter_label(add_months(scenario.start_date, -3))


def check_request(request: ReportRequest) -> CheckedRequest:
    """Everything that can be wrong before anything runs: kind, scenario, strategies, quarter, input file, folder."""
    kind = KINDS.get(request.kind)
    if kind is None:
        raise ReportError(f"'kind' must be one of {', '.join(KINDS)}: got {request.kind!r}")
    plan = None
    if kind.reads == "sweep":
        given = [flag for name, flag in SCENARIO_OPTIONS if getattr(request, name) not in (None, [], (), "")]
        if given == ["--set"] and all(o.startswith("report.tuned=") for o in request.overrides):
            given = ["--tuned"]  # a tuned strategy for a sweep is named in its file: set: {report.tuned: FILE}
        if given:
            raise ReportError(f"{', '.join(given)}: a sweep report takes its strategies, replications, seed, input "
                              f"data and fixed values from the sweep file {request.scenario}; remove "
                              f"{'them' if len(given) > 1 else 'it'} (or change the sweep file)")
        plan = load_plan(request.scenario)  # every point validated: nothing runs if one is not
        scenario, chosen = plan.base, list(plan.strategies)
        replications, seed = plan.spec.replications, plan.spec.seed
    else:
        scenario = load_scenario(request.scenario, request.overrides)
        chosen = list(select_strategies(scenario, request.strategies))
        replications = DEFAULT_REPORT_REPLICATIONS if request.replications is None else request.replications
        seed = DEFAULT_SEED if request.seed is None else request.seed
        check_replications(replications, len(chosen), scenario.horizon_quarters)
        source = PopulationSource.from_paths(request.customers, request.transactions, request.columns)  # exists, columns known
        if kind.robustness and scenario.report.backtest_months:
            if source.kind != "transactions":
                raise ScenarioError(f"report.backtest_months {scenario.report.backtest_months}: the board report "
                                    "backtests a transaction log (--transactions); a dated ledger backtests with "
                                    "clientele backtest --customers")
            from simulation.runs.backtest import backtest_window

            assert request.transactions is not None
            backtest_window(request.transactions, scenario.report.backtest_months, source.columns)  # refused now
    options = len(chosen) + (policy_count(plan.spec) - 1 if plan is not None and plan.spec.levers else 0)
    if options < kind.min_strategies:  # a lever sweep's policies are options of their own
        raise ScenarioError(f"a {kind.name} report needs at least {kind.min_strategies} strategies: "
                            f"got {', '.join(chosen)}")
    quarters = horizon_quarters(scenario)
    if request.quarter:
        try:
            quarter = check_quarter(request.quarter)
        except ValueError as exc:
            raise ScenarioError(str(exc).replace("'quarter'", "--quarter", 1)) from None
        if quarter not in [quarter_before(scenario), *quarters]:
            raise ScenarioError(
                f"--quarter {quarter} is outside the scenario's horizon, {quarters[0]} to {quarters[-1]}: the "
                f"report's quarter must be one the simulation covers, or {quarter_before(scenario)}, the quarter "
                f"whose end is the simulation's start (today's book)")
    else:
        quarter = quarters[0]
    out = Path(request.out) if request.out else kind.default_folder(quarter, Path(request.scenario))
    check_output_folder(out)
    _check_folder_kind(out, kind)
    if request.previous is not None:  # read now: a folder that is no report is refused before anything runs
        if not kind.robustness:
            raise ScenarioError(f"--previous: last quarter beside this one is a board report's page, not a {kind.name}'s")
        if Path(request.previous).resolve() == out.resolve():
            raise ScenarioError(f"--previous {request.previous}: is this report's own --out; give last quarter's folder")
        load_results(Path(request.previous) / kind.results_folder)
    notebook = Path(request.notebook) if request.notebook else kind.notebook
    written = [out / f"{kind.name}_report{suffix}" for suffix in (".pdf", ".html", ".ipynb")]
    refuse_overwriting_inputs([*written, *(out / part for part in REPORT_PARTS)],
                              [request.scenario, request.customers, request.transactions, notebook])
    checked = CheckedRequest(kind.name, quarter, out, notebook, scenario, chosen, replications, seed, plan)
    notebook_run.check_parameters(notebook, checked.parameters())
    return checked


REPORT_PARTS = ("charts", "results")  # folders a report writes inside --out


def _check_folder_kind(out: Path, kind: ReportKind) -> None:
    """A folder holds one kind of report: another kind's charts/ and results/ would be overwritten."""
    for other in KINDS:
        if other != kind.name and (out / f"{other}_report.ipynb").exists():
            raise ReportError(
                f"{out} already holds a {other} report, whose charts/ and results/ a {kind.name} report "
                f"would overwrite: choose another --out"
            )
    # A scenario's report is a report folder; a sweep's report lives in the sweep's own store. Neither goes into,
    # or inside, a folder of another kind.
    check_folder_kind(out, "report" if kind.reads == "scenario" else "sweep store")
    for part in (REPORT_PARTS if kind.reads == "scenario" else ("charts",)):
        if (out / part).is_symlink():  # the charts would go where the link points, and the PDF would lack them
            raise ReportError(f"--out {out}: {part} is a symbolic link (to {os.readlink(out / part)}); the report "
                              f"writes its {part} there itself; expected a real folder or none")


def _cell_seconds(notebook: nbformat.NotebookNode) -> float:
    return sum(float(cell.metadata.get("papermill", {}).get("duration") or 0.0) for cell in notebook.cells)


def build_report(request: ReportRequest) -> ReportOutcome:
    """Check, simulate or reuse, execute, export and render one report; a ClienteleError if any stage fails."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    checked = check_request(request)
    timings["check"] = time.perf_counter() - started

    with folder_lock(checked.out):
        for folder in (checked.out, checked.out / "charts", checked.results_dir):
            remove_stale_temporaries(folder)
        stage = time.perf_counter()
        reused, reason = PREPARE[KINDS[checked.kind].reads](request, checked)
        timings["simulation"] = time.perf_counter() - stage
        robustness = ""
        if KINDS[checked.kind].robustness and checked.scenario.uncertainties:
            stage = time.perf_counter()
            robustness = run_report_robustness(request, checked)
            timings["robustness"] = time.perf_counter() - stage

        bridged = ""
        if KINDS[checked.kind].robustness:  # the board report: last quarter beside this one, when asked
            stage = time.perf_counter()
            bridged = run_report_bridge(request, checked)
            timings["since_last_quarter"] = time.perf_counter() - stage
        backtest = ""
        if not checked.scenario.report.backtest_months:  # no backtest asked: no earlier one's page either
            shutil.rmtree(checked.results_dir / BACKTEST_FOLDER, ignore_errors=True)
        elif KINDS[checked.kind].robustness and request.transactions:
            stage = time.perf_counter()
            backtest = run_report_backtest(request, checked)
            timings["backtest"] = time.perf_counter() - stage

        executed = checked.output(".ipynb")
        stage = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="clientele-kernel-") as clean_folder:
                notebook_run.execute(checked.notebook, executed, checked.parameters(), cwd=clean_folder,
                                     progress=request.progress)
        except KeyboardInterrupt:
            # An interrupted notebook is no audit trail (papermill marks its cells completed): remove it.
            executed.unlink(missing_ok=True)
            raise
        timings["notebook"] = time.perf_counter() - stage
        notebook = nbformat.read(executed, as_version=4)
        timings["kernel_start"] = max(0.0, timings["notebook"] - _cell_seconds(notebook))

        # The previous PDF and HTML stay until the new PDF is whole: the HTML is drafted beside them (its charts
        # are relative links), the PDF replaces the old one in one rename, then the draft takes the HTML's name.
        stage = time.perf_counter()
        html = checked.output(".html")
        draft = html.with_name(f".{html.name}.tmp-{os.getpid()}")  # a dead run's draft is removed as stale
        render.export_html(executed, draft)
        timings["html"] = time.perf_counter() - stage

        stage = time.perf_counter()
        pdf = checked.output(".pdf")
        try:
            result = render.write_pdf(draft, pdf)
            draft.replace(html)
        finally:
            draft.unlink(missing_ok=True)
        timings["pdf"] = time.perf_counter() - stage
    timings["total"] = time.perf_counter() - started
    recorded = read_provenance(checked.results_dir) or {} if KINDS[checked.kind].reads == "scenario" else {}
    return ReportOutcome(pdf, html, executed, result.pages, reused, timings, result.refused, result.messages,
                         reason, checked.results_dir, robustness, backtest, list(recorded.get("unreached", [])),
                         bridged)


# ---- the stage that prepares what the notebook reads, one per kind of input (ReportKind.reads)


def simulate_or_reuse(request: ReportRequest, checked: CheckedRequest) -> tuple[bool, str]:
    """A scenario's results folder: reused when it holds this very run, unchanged; else simulated."""
    record = run_or_reuse(
        request.scenario, checked.results_dir, strategies=checked.strategies, replications=checked.replications,
        seed=checked.seed, customers=request.customers, transactions=request.transactions, columns=request.columns,
        overrides=list(request.overrides), workers=request.workers, progress=request.progress,
        scenario=checked.scenario, dask=request.dask,
    )
    return record.reused, record.reason


def run_or_resume_sweep(request: ReportRequest, checked: CheckedRequest) -> tuple[bool, str]:
    """A sweep's store: points already done are kept, the rest run; a report on a sweep with failed points is refused."""
    assert checked.plan is not None  # check_request loads the plan of every sweep kind
    run = run_sweep(checked.plan, checked.results_dir, workers=request.workers, dask=request.dask,
                    progress=request.progress)
    if run.failed:
        raise ReportError(
            f"{request.scenario}: {run.failed:,} of {run.points:,} sweep points failed, so the analysis would leave them "
            f"out; no report was written. Their errors: clientele sweep status {checked.results_dir}; running the "
            f"report again retries them"
        )
    if not run.ran:
        return True, ""
    already = f", {run.done_before:,} were already done" if run.done_before else ""
    return False, f"ran {run.ran:,} of {run.points:,} points{already}"


PREPARE = {"scenario": simulate_or_reuse, "sweep": run_or_resume_sweep}


def robustness_strategies(decision: Decision, reference: str) -> list[str]:
    """The strategies the robustness check compares: the decision's leaders (at least the best two, at most
    ``ROBUSTNESS_LEADERS``) and the baseline; the others are behind on the central scenario already."""
    leading = list(decision.leaders) if len(decision.leaders) >= 2 else list(decision.ranking[:2])
    return list(dict.fromkeys([*leading[:ROBUSTNESS_LEADERS], reference]))


def run_report_bridge(request: ReportRequest, checked: CheckedRequest) -> str:
    """Last quarter beside this one, into ``results/bridge.json``: the bridge of the option's value from ``--previous``
    (by default the report folder beside this one starting a quarter earlier) and, once three quarters of the
    scenario sit beside this report, their table; with neither, no earlier record stands."""
    from reports.bridge import BRIDGE_FILE, value_bridge, write_bridge

    (checked.results_dir / BRIDGE_FILE).unlink(missing_ok=True)
    siblings = _sibling_quarters(checked)  # the folder beside this report's, read once for both
    history = (json.loads(siblings.to_json(orient="records"))
               if siblings["quarter"].nunique() >= HISTORY_PAGE_QUARTERS else [])  # three quarters, not three reports
    previous = request.previous if request.previous is not None else _previous_quarter(checked, siblings)
    if previous is None:
        if history:  # three quarters of this scenario beside this report: the page shows them, without a bridge
            write_bridge(checked.results_dir, {"history": history})
            return f"quarter by quarter: {len(history)} quarters"
        return ""
    source = PopulationSource.from_paths(request.customers, request.transactions, request.columns)
    record = value_bridge(previous / KINDS[checked.kind].results_folder, load_results(checked.results_dir), source,
                          workers=request.workers)
    write_bridge(checked.results_dir, {**record, "history": history})
    return ("since last quarter: " + ("bridged" if record["comparable"] else f"not compared ({record['why_not']})"))


HISTORY_PAGE_QUARTERS = 3  # the board sees its quarters side by side once this many quarters of the scenario exist


def _sibling_quarters(checked: CheckedRequest) -> pd.DataFrame:
    """This scenario's reports in the folder beside this report's (``clientele history``'s table), this one included."""
    from reports.history import COLUMNS, quarter_history

    try:
        table = quarter_history(checked.out.resolve().parent).table
    except ClienteleError:
        return pd.DataFrame(columns=list(COLUMNS))
    return table[table["scenario"] == checked.scenario.name]


def _previous_quarter(checked: CheckedRequest, siblings: pd.DataFrame) -> Path | None:
    """The report folder among ``siblings`` starting exactly a quarter before this one: last quarter's, compared by
    default."""
    start = checked.scenario.start_date
    index = start.year * 12 + start.month - 1 - 3
    wanted = f"{index // 12}Q{(index % 12) // 3 + 1}"
    found = siblings[(siblings["quarter"] == wanted) & (siblings["folder"] != checked.out.resolve().name)]
    return checked.out.resolve().parent / str(found["folder"].iloc[0]) if not found.empty else None


def run_report_robustness(request: ReportRequest, checked: CheckedRequest) -> str:
    """Run or resume the scenario's uncertainties into ``results/robustness``; what was done, for the summary."""
    results = load_results(checked.results_dir)
    decision = board_decision(results.quarters, checked.scenario)
    compared = list(dict.fromkeys(results.quarters["strategy"]))
    strategies = robustness_strategies(decision, KINDS[checked.kind].reference(checked.scenario, compared))
    if len(strategies) < 2:
        return "robustness: one strategy, nothing to compare across futures"
    folder = checked.results_dir / ROBUSTNESS_FOLDER
    started = time.perf_counter()
    report = checked.scenario.report
    leader_value = abs(float(horizon_values(results.quarters, decision.objective)[strategies[0]].mean()))
    screening = ScreeningRequest(strategies[0], strategies[1], max(report.materiality * leader_value,
                                                                   report.materiality_amount))
    sample = robustness_sample(checked.scenario, int(results.provenance.get("customers_at_start", 0)))
    run_robustness(request.scenario, folder, overrides=[*request.overrides, *sample], strategies=strategies,
                   customers=request.customers, transactions=request.transactions, columns=request.columns,
                   points=ROBUSTNESS_POINTS,
                   replications=ROBUSTNESS_REPLICATIONS, seed=checked.seed, workers=request.workers,
                   progress=request.progress, screening=screening, dask=request.dask)
    screened = read_screening(folder.with_name(SCREENING_FOLDER)) or {"screened": []}
    added = sum(entry["added"] for entry in screened["screened"])
    return (f"robustness: screened {len(screened['screened'])} undeclared assumptions ({added} added); "
            f"{len(strategies)} strategies × {ROBUSTNESS_POINTS} futures and the swings of "
            f"{len(checked.scenario.uncertainties) + added} assumptions into {folder} "
            f"({time.perf_counter() - started:.1f} s)")


def robustness_sample(scenario: Scenario, customers: int) -> list[str]:
    """The ``--set`` that runs the robustness futures of a book of more than ``ROBUSTNESS_SAMPLE`` of today's
    ``customers`` on a sample of that many (none for a smaller book, or a scenario that sets its own weight)."""
    if customers <= ROBUSTNESS_SAMPLE or scenario.sample_weight != 1.0:
        return []
    return [f"sample_weight={customers / ROBUSTNESS_SAMPLE!r}"]


def run_report_backtest(request: ReportRequest, checked: CheckedRequest) -> str:
    """Backtest the log over its last ``report.backtest_months`` into ``results/backtest``; reused when it is this one."""
    import json

    from simulation.core.errors import DataError
    from simulation.core.files import file_sha256, write_atomically
    from simulation.runs.backtest import BACKTEST_FOLDER, BACKTEST_REPLICATIONS, backtest_window, run_backtest
    from simulation.runs.results import code_version
    from simulation.scenario.spec import override_sources

    assert request.transactions is not None
    months = int(checked.scenario.report.backtest_months or 0)
    source = PopulationSource.from_paths(None, request.transactions, request.columns)
    calibration_end = backtest_window(request.transactions, months, source.columns)
    identity = {"file_sha256": file_sha256(Path(request.transactions)), "columns": source.columns.text(),
                "calibration_end": calibration_end.isoformat(),
                "scenario_hash": checked.scenario.content_hash(), "set_paths": sorted(override_sources(request.overrides)),
                "seed": checked.seed,
                "replications": BACKTEST_REPLICATIONS, "code_version": code_version()}
    path = checked.results_dir / BACKTEST_FOLDER / "backtest.json"
    try:
        if json.loads(path.read_text()).get("identity") == identity:
            return f"backtest: reused {path}"
    except (OSError, ValueError, AttributeError):
        pass
    started = time.perf_counter()
    try:
        backtest = run_backtest(request.transactions, calibration_end, checked.scenario, BACKTEST_REPLICATIONS,
                                checked.seed, columns=source.columns, explicit=tuple(override_sources(request.overrides)))
    except DataError as exc:
        raise DataError(f"report.backtest_months {months}, fitting to {calibration_end}: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps({**backtest.record(), "identity": identity}, indent=2).encode())
    return f"backtest: {months} months after {calibration_end} into {path} ({time.perf_counter() - started:.1f} s)"
