"""The kinds of report, each declared once: its name, title, notebook, how many strategies it needs
and which strategy the others are measured against.

The pipeline, the CLI's ``--kind`` choices and the report's cover all read this table; adding a
kind is adding a notebook and one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from simulation.scenario import Scenario

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

    def default_folder(self, quarter: str) -> Path:
        return Path("out") / (quarter if self.name == "board" else f"{quarter}-{self.name}")


KINDS = {
    kind.name: kind
    for kind in (
        ReportKind("board", "Quarterly board report", NOTEBOOKS_DIR / "board_report.ipynb", 1, scenario_baseline,
                   "the quarterly board report: the decision, today's book, trade-offs and risk"),
        ReportKind("comparison", "Strategy comparison", NOTEBOOKS_DIR / "comparison_report.ipynb", 2, first_named,
                   "strategies side by side, each against the first one named"),
    )
}
