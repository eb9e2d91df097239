"""A report from scenario to PDF: check, execute the notebook, export HTML, render the PDF.

Each stage reads only what the previous one wrote (the checked parameters → the executed
notebook → the HTML → the PDF) and each is timed, so ``clientele report`` and the benchmark can
say where the time goes. Bad input stops the run before a kernel starts; a failing notebook
stops it before any HTML or PDF is written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import nbformat

from simulation.errors import ReportError, ScenarioError
from simulation.experiment import DEFAULT_SEED, PopulationSource, check_replications, select_strategies
from simulation.periods import quarter_label
from simulation.results import check_output_folder, remove_stale_temporaries
from simulation.scenario import load_scenario

from . import notebook_run, render
from .numbers import check_quarter

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {
    "board": PROJECT_ROOT / "notebooks" / "board_report.ipynb",
    "comparison": PROJECT_ROOT / "notebooks" / "comparison_report.ipynb",
}
# Sized so the default board report of the bundled scenario (20,000 customers, 7 strategies,
# 12 quarters) finishes in under a minute on 2 cores; see the benchmark table in the README.
DEFAULT_REPORT_REPLICATIONS = 30


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
    messages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckedRequest:
    kind: str
    quarter: str
    out: Path
    notebook: Path
    parameters: dict[str, Any]

    def output(self, suffix: str) -> Path:
        return self.out / f"{self.kind}_report{suffix}"


def check_request(request: ReportRequest) -> CheckedRequest:
    """Everything that can be wrong before a kernel starts: scenario, strategies, quarter, parameters."""
    if request.kind not in NOTEBOOKS:
        raise ReportError(f"'kind' must be one of {', '.join(NOTEBOOKS)}: got {request.kind!r}")
    scenario = load_scenario(request.scenario, request.overrides)
    chosen = list(select_strategies(scenario, request.strategies))
    if request.kind == "comparison" and len(chosen) < 2:
        raise ScenarioError(f"a comparison needs at least two strategies: got {', '.join(chosen)}")
    try:
        quarter = check_quarter(request.quarter) if request.quarter else quarter_label(scenario.start_date)
    except ValueError as exc:
        raise ScenarioError(str(exc).replace("'quarter'", "--quarter", 1)) from None
    replications = DEFAULT_REPORT_REPLICATIONS if request.replications is None else request.replications
    if replications < 1:
        raise ScenarioError(f"'replications' must be >= 1: {replications}")
    seed = DEFAULT_SEED if request.seed is None else request.seed
    if seed < 0:
        raise ScenarioError(f"'seed' must be >= 0: {seed}")
    if request.workers is not None and request.workers < 1:
        raise ScenarioError(f"'workers' must be >= 1: {request.workers}")
    check_replications(replications, len(chosen), scenario.horizon_quarters)
    # One of them, it exists, and every row reads: a bad CSV is named before a kernel starts.
    PopulationSource.from_paths(request.customers, request.transactions).load(scenario, seed)
    out = Path(request.out) if request.out else Path("out") / (quarter if request.kind == "board" else f"{quarter}-comparison")
    check_output_folder(out)
    for other in NOTEBOOKS:
        if other != request.kind and (out / f"{other}_report.ipynb").exists():
            raise ReportError(
                f"{out} already holds a {other} report, whose charts/ and results/ a {request.kind} report "
                f"would overwrite: choose another --out"
            )
    notebook = Path(request.notebook) if request.notebook else NOTEBOOKS[request.kind]
    parameters: dict[str, Any] = {
        "scenario_path": str(Path(request.scenario).resolve()),
        "customers_path": str(Path(request.customers).resolve()) if request.customers else "",
        "transactions_path": str(Path(request.transactions).resolve()) if request.transactions else "",
        "overrides": list(request.overrides),
        "quarter": quarter,
        "strategies": chosen if request.strategies else [],
        "replications": replications,
        "seed": seed,
        "workers": request.workers or 0,
        "output_dir": str(out.resolve()),
    }
    notebook_run.check_parameters(notebook, parameters)
    return CheckedRequest(request.kind, quarter, out, notebook, parameters)


def _remove_stale(checked: CheckedRequest) -> None:
    """An earlier PDF or HTML of this report must not survive a run that fails."""
    for suffix in (".pdf", ".html"):
        checked.output(suffix).unlink(missing_ok=True)


def _cell_seconds(notebook: nbformat.NotebookNode) -> float:
    return sum(float(cell.metadata.get("papermill", {}).get("duration") or 0.0) for cell in notebook.cells)


def build_report(request: ReportRequest) -> ReportOutcome:
    """Check, execute, export and render one report; a ClienteleError if any stage fails."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    checked = check_request(request)
    timings["check"] = time.perf_counter() - started

    checked.out.mkdir(parents=True, exist_ok=True)
    for folder in (checked.out, checked.out / "charts", checked.out / "results"):
        remove_stale_temporaries(folder)
    _remove_stale(checked)
    executed = checked.output(".ipynb")
    stage = time.perf_counter()
    try:
        notebook_run.execute(checked.notebook, executed, checked.parameters, cwd=checked.out, progress=request.progress)
    except KeyboardInterrupt:
        # An interrupted notebook is no audit trail (papermill marks its cells completed): remove it.
        executed.unlink(missing_ok=True)
        raise
    timings["notebook"] = time.perf_counter() - stage
    notebook = nbformat.read(executed, as_version=4)
    info = render.report_info(notebook, executed)
    timings["simulation"] = float(info.get("results_seconds", 0.0))
    timings["kernel_start"] = max(0.0, timings["notebook"] - _cell_seconds(notebook))

    stage = time.perf_counter()
    html = render.export_html(executed, checked.output(".html"))
    timings["html"] = time.perf_counter() - stage

    stage = time.perf_counter()
    pdf = checked.output(".pdf")
    result = render.write_pdf(html, pdf)
    timings["pdf"] = time.perf_counter() - stage
    timings["total"] = time.perf_counter() - started
    return ReportOutcome(pdf, html, executed, result.pages, bool(info.get("results_reused", False)), timings,
                         result.refused, result.messages)
