"""A report from scenario to PDF: check, simulate or reuse, execute the notebook, export HTML, render the PDF.

One way, each stage reading only what the previous one wrote: the checked request → the results
folder (simulated here, in the command, or reused when it holds this very run, its files
unchanged) → the executed notebook, which only reads that folder → the HTML → the PDF. Each
stage is timed, so ``clientele report`` and the benchmark can say where the time goes. Bad input
stops the run before anything is simulated; a failing notebook stops it before any HTML or PDF.
While a report writes into a folder, the folder is locked: a second run into it is refused.
The notebook's kernel runs in an empty temporary folder, never the output folder, so nothing
placed there can be imported.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import nbformat

from simulation.errors import ReportError, ScenarioError
from simulation.experiment import (
    DEFAULT_REPLICATIONS,
    DEFAULT_SEED,
    PopulationSource,
    check_replications,
    run_or_reuse,
    select_strategies,
)
from simulation.periods import quarter_label
from simulation.results import check_output_folder, remove_stale_temporaries
from simulation.scenario import Scenario, load_scenario

from . import notebook_run, render
from .folder_lock import folder_lock
from .kinds import KINDS
from .numbers import check_quarter

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {name: kind.notebook for name, kind in KINDS.items()}
DEFAULT_REPORT_REPLICATIONS = DEFAULT_REPLICATIONS  # one default for `simulate` and `report`


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
    customers: Path | None = None
    transactions: Path | None = None
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

    def output(self, suffix: str) -> Path:
        return self.out / f"{self.kind}_report{suffix}"

    @property
    def results_dir(self) -> Path:
        return self.out / "results"

    def parameters(self) -> dict[str, Any]:
        """What the notebook is given: where the results are, where its charts go, and what to call it."""
        return {"results_dir": str(self.results_dir.resolve()), "output_dir": str(self.out.resolve()),
                "kind": self.kind, "quarter": self.quarter}


def horizon_quarters(scenario: Scenario) -> list[str]:
    """The scenario's quarters as labels, first to last."""
    first = scenario.start_date
    return [quarter_label(first.replace(year=first.year + (first.month - 1 + 3 * q) // 12,
                                        month=(first.month - 1 + 3 * q) % 12 + 1))
            for q in range(scenario.horizon_quarters)]


def check_request(request: ReportRequest) -> CheckedRequest:
    """Everything that can be wrong before anything runs: kind, scenario, strategies, quarter, input file, folder."""
    kind = KINDS.get(request.kind)
    if kind is None:
        raise ReportError(f"'kind' must be one of {', '.join(KINDS)}: got {request.kind!r}")
    scenario = load_scenario(request.scenario, request.overrides)
    chosen = list(select_strategies(scenario, request.strategies))
    if len(chosen) < kind.min_strategies:
        raise ScenarioError(f"a {kind.name} report needs at least {kind.min_strategies} strategies: "
                            f"got {', '.join(chosen)}")
    quarters = horizon_quarters(scenario)
    if request.quarter:
        try:
            quarter = check_quarter(request.quarter)
        except ValueError as exc:
            raise ScenarioError(str(exc).replace("'quarter'", "--quarter", 1)) from None
        if quarter not in quarters:
            raise ScenarioError(f"--quarter {quarter} is outside the scenario's horizon, {quarters[0]} to "
                                f"{quarters[-1]}: the report's quarter must be one the simulation covers")
    else:
        quarter = quarters[0]
    replications = DEFAULT_REPORT_REPLICATIONS if request.replications is None else request.replications
    seed = DEFAULT_SEED if request.seed is None else request.seed
    check_replications(replications, len(chosen), scenario.horizon_quarters)
    PopulationSource.from_paths(request.customers, request.transactions)  # the file exists and is a file
    out = Path(request.out) if request.out else kind.default_folder(quarter)
    check_output_folder(out)
    for other in KINDS:
        if other != kind.name and (out / f"{other}_report.ipynb").exists():
            raise ReportError(
                f"{out} already holds a {other} report, whose charts/ and results/ a {kind.name} report "
                f"would overwrite: choose another --out"
            )
    notebook = Path(request.notebook) if request.notebook else kind.notebook
    checked = CheckedRequest(kind.name, quarter, out, notebook, scenario, chosen, replications, seed)
    notebook_run.check_parameters(notebook, checked.parameters())
    return checked


def _remove_stale(checked: CheckedRequest) -> None:
    """An earlier PDF or HTML of this report must not survive a run that fails."""
    for suffix in (".pdf", ".html"):
        checked.output(suffix).unlink(missing_ok=True)


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
        _remove_stale(checked)
        stage = time.perf_counter()
        record = run_or_reuse(
            request.scenario, checked.results_dir, strategies=checked.strategies, replications=checked.replications,
            seed=checked.seed, customers=request.customers, transactions=request.transactions,
            overrides=list(request.overrides), workers=request.workers, progress=request.progress,
            scenario=checked.scenario,
        )
        timings["simulation"] = time.perf_counter() - stage

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

        stage = time.perf_counter()
        html = render.export_html(executed, checked.output(".html"))
        timings["html"] = time.perf_counter() - stage

        stage = time.perf_counter()
        pdf = checked.output(".pdf")
        result = render.write_pdf(html, pdf)
        timings["pdf"] = time.perf_counter() - stage
    timings["total"] = time.perf_counter() - started
    return ReportOutcome(pdf, html, executed, result.pages, record.reused, timings, result.refused, result.messages,
                         record.reason)
