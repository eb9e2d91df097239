"""The default board report end to end, timed by stage: where do the seconds of `make report` go?

Runs exactly what `make report` runs — the bundled scenario (20,000 customers, 7 strategies,
12 quarters) at the default replications, all cores — into a fresh folder, so the simulation is
not reused, and splits the wall time into: check (scenario, options, folder), simulation (in the
command; for a re-render, the check that the results are this run's and unchanged), the robustness
check over the scenario's uncertainties (in the command; resumed, so nothing runs on a re-render), kernel start,
the notebook's cells (tables, charts), HTML export and PDF rendering. Then once more on the same
folder, where the results are reused, to show the cost of a re-render. The stored figures are on the
documentation's speed page (``benchmarks/record.py report_pipeline``).

Run: ``.venv/bin/python benchmarks/report_pipeline.py [--runs N] [--replications R] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.pipeline import DEFAULT_REPORT_REPLICATIONS, ReportRequest, build_report  # noqa: E402

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "retail_bank.yaml"
STAGES = (
    ("check", "check"),
    ("simulation, or the reuse check", "simulation"),
    ("robustness check (uncertainties)", "robustness"),
    ("kernel start", "kernel_start"),
    ("notebook cells: tables, charts", "cells"),
    ("HTML export (nbconvert)", "html"),
    ("PDF rendering (WeasyPrint)", "pdf"),
)


def stage_seconds(timings: dict[str, float]) -> dict[str, float]:
    """The pipeline's timings as disjoint stages that add up to the total."""
    stages = dict(timings)
    stages.setdefault("robustness", 0.0)  # a scenario without uncertainties has no robustness stage
    stages["cells"] = max(0.0, timings["notebook"] - timings["kernel_start"])
    return stages


def table(runs: list[dict[str, float]], title: str) -> str:
    """A Markdown table: median seconds per stage and its share of the median total."""
    total = statistics.median(run["total"] for run in runs)
    lines = [f"**{title}** (median of {len(runs)} run{'s' if len(runs) > 1 else ''})", "",
             "| stage | seconds | share |", "|---|---:|---:|"]
    for label, key in STAGES:
        seconds = statistics.median(run[key] for run in runs)
        lines.append(f"| {label} | {seconds:.1f} | {seconds / total:.0%} |")
    lines.append(f"| **total** | **{total:.1f}** | 100% |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="fresh end-to-end runs (default 1)")
    parser.add_argument("--replications", type=int, default=DEFAULT_REPORT_REPLICATIONS)
    parser.add_argument("--keep", help="write the reports here instead of a temporary folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="clientele-bench-"))
    fresh, reused = [], []
    try:
        for run in range(args.runs):
            out = root / f"run{run}"
            shutil.rmtree(out, ignore_errors=True)
            request = ReportRequest(SCENARIO, replications=args.replications, out=out)
            outcome = build_report(request)
            assert not outcome.results_reused
            fresh.append(stage_seconds(outcome.timings))
            again = build_report(request)
            assert again.results_reused
            reused.append(stage_seconds(again.timings))
            print(f"run {run + 1}: {outcome.timings['total']:.1f} s fresh, {again.timings['total']:.1f} s reused, "
                  f"{outcome.pages} pages", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    print(f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}; bundled scenario, {args.replications} replications, all cores.\n")
    print(table(fresh, "Default board report, fresh (simulation included)"))
    print()
    print(table(reused, "Same report again, results reused"))
    if args.json:
        quietest = min(range(len(fresh)), key=lambda run: sum(fresh[run].values()))
        print(json.dumps({"replications": args.replications, "runs": args.runs,
                          "fresh_seconds": fresh[quietest], "reused_seconds": reused[quietest]}))


if __name__ == "__main__":
    main()
