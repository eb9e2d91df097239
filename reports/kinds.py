"""The kinds of report, each declared once: its name, title, notebook, how many strategies it needs,
which strategy the others are measured against, and what the command's file is.

The pipeline, the CLI's ``--kind`` choices and the report's cover all read this table; adding a
kind is adding a notebook and one entry here. A kind ``reads`` either a scenario (the command
checks it, then simulates or reuses its results folder) or a sweep file (the command validates
every point, then runs or resumes the sweep's store): the pipeline keeps one check and one
preparing stage per input, and the kind names which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Sequence

if TYPE_CHECKING:  # `--kind`'s help reads this table: it loads no scenario schema
    from simulation.scenario.spec import Scenario

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def scenario_baseline(scenario: Scenario, compared: Sequence[str]) -> str:
    """The scenario's baseline (``report.baseline``, else retain_all) if compared, else the first compared."""
    return scenario.baseline if scenario.baseline in compared else compared[0]


def first_named(scenario: Scenario, compared: Sequence[str]) -> str:
    """The first strategy the analyst named: a comparison is 'these against that'."""
    return compared[0]


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str  # on the cover and in the running header
    notebook: Path
    min_strategies: int
    reference: Callable[[Scenario, Sequence[str]], str]  # the strategy the others are compared with
    description: str  # for --help
    reads: Literal["scenario", "sweep"] = "scenario"  # the command's file, and so the stage that prepares results
    results_folder: str = "results"  # what the notebook reads, inside --out ("" for --out itself: a sweep's store)
    robustness: bool = False  # also run (or reuse) the scenario's uncertainties into results/robustness

    def default_folder(self, quarter: str, source: Path | None = None) -> Path:
        """Where a report goes without --out: one folder per scenario, one per quarter in it (out/retail_bank/2026Q4),
        so one scenario's report never replaces another's."""
        if self.reads == "sweep" and source is not None:
            return Path("out") / "sweeps" / source.stem  # where `clientele sweep FILE` puts the same store
        folder = quarter if self.name == "board" else f"{quarter}-{self.name}"
        return Path("out") / source.stem / folder if source is not None else Path("out") / folder


KINDS = {
    kind.name: kind
    for kind in (
        ReportKind("board", "Quarterly board report", NOTEBOOKS_DIR / "board_report.ipynb", 2, scenario_baseline,
                   "the quarterly board report: the decision, today's book, trade-offs, risk and robustness",
                   robustness=True),
        ReportKind("comparison", "Strategy comparison", NOTEBOOKS_DIR / "comparison_report.ipynb", 2, first_named,
                   "strategies side by side, each against the first one named"),
        ReportKind("sweep", "Sweep report", NOTEBOOKS_DIR / "sweep_report.ipynb", 2, scenario_baseline,
                   "the FILE is a sweep file: runs or resumes the sweep into --out, then reports which assumption "
                   "moves the answer, which strategy wins where, regret, and when the recommendation flips",
                   reads="sweep", results_folder=""),
    )
}
