"""Run a benchmark with ``--json`` and store its result for the documentation's speed page.

    .venv/bin/python benchmarks/record.py engine_throughput [-- extra arguments]

Writes ``docs/benchmarks/NAME.json``: the JSON object the benchmark printed on its last line, with
``_docs`` saying the command, the date, the wall time and the machine (cores, load average), which
``docs/generate.py`` renders on the speed page. The figures are the current code's as long as the
file is refreshed whenever the code they measure changes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "docs" / "benchmarks"


def main() -> None:
    if len(sys.argv) < 2 or not (ROOT / "benchmarks" / f"{sys.argv[1]}.py").is_file():
        known = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem not in ("__init__", "record"))
        sys.exit(f"usage: record.py NAME [-- arguments]; NAME one of {', '.join(known)}")
    name, extra = sys.argv[1], [a for a in sys.argv[2:] if a != "--"]
    command = [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *extra, "--json"]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if finished.returncode != 0:
        sys.exit(f"{name} failed (exit {finished.returncode}):\n{finished.stderr[-4000:]}")
    wall = time.perf_counter() - started
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    shown = " ".join(["python", f"benchmarks/{name}.py", *extra, "--json"])
    result = {"_docs": {
        "command": shown, "measured": dt.date.today().isoformat(), "wall time": f"{wall:.0f} s",
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
                   f"load average {load:.1f} at the start",
    }, **result}
    STORED.mkdir(parents=True, exist_ok=True)
    (STORED / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {STORED / f'{name}.json'} ({wall:.0f} s)")


if __name__ == "__main__":
    main()
