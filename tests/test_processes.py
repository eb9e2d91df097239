"""No process outlives ``clientele``: interrupt, terminate or kill it and every process it started
(pool workers, the report's kernel and the kernel's own workers) is gone within seconds; Ctrl-C
prints one line.

Each case starts the real command in a session of its own (so a Ctrl-C reaches it as it would
from a terminal, the whole process group), waits for its children, signals, and looks at /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import BUNDLED_SCENARIO, PROJECT_ROOT

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")

# Long enough to be caught in the middle: the bundled scenario, many replications, both cores.
LONG_RUN = ["--replications", "400", "--workers", "2", "--seed", "3"]


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, parent = text.rsplit(")", 1)[1].split()[:2]
    return state, int(parent)


def alive(pid: int) -> bool:
    found = _stat(pid)
    return found is not None and found[0] not in ("Z", "X")  # a zombie has exited; only its entry is left


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            children.setdefault(found[1], []).append(int(entry.name))
    found_all, frontier = set(), [root]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found_all:
                found_all.add(child)
                frontier.append(child)
    return {pid for pid in found_all if alive(pid)}


def start(arguments: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "reports.commands.cli", *arguments], cwd=PROJECT_ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting {seconds:.0f} s for {what}")


def gone_within(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.2)
    return {pid for pid in pids if alive(pid)}


def _cleanup(process: subprocess.Popen[str], pids: set[int]) -> None:
    for pid in pids | {process.pid}:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def _python_processes(pids: set[int]) -> set[int]:
    """The ones running Python: importing WeasyPrint briefly starts gcc to find its libraries, not a worker."""
    found = set()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == sys.executable.encode():
                found.add(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


def workers_of(process: subprocess.Popen[str], count: int, seconds: float = 60) -> set[int]:
    def enough() -> set[int] | None:
        found = _python_processes(descendants(process.pid))
        return found if len(found) >= count else None

    return wait_for(enough, seconds, f"{count} child processes")


@pytest.mark.parametrize("how, exit_code, word", [
    ("ctrl-c", 130, "interrupted"),
    ("ctrl-c twice", 130, "interrupted"),
    ("sigterm", 143, "terminated"),
    ("sigkill", -signal.SIGKILL, None),
])
def test_simulate_leaves_no_worker_behind(how, exit_code, word, tmp_path):
    process = start(["simulate", str(BUNDLED_SCENARIO), *LONG_RUN, "--out", str(tmp_path / "out"), "--quiet"], tmp_path)
    workers: set[int] = set()
    try:
        workers = workers_of(process, 2)
        time.sleep(1.0)  # in the middle of a replication
        if how.startswith("ctrl-c"):
            os.killpg(process.pid, signal.SIGINT)  # the whole group, as a terminal does
            if how == "ctrl-c twice":
                time.sleep(0.03)  # an impatient second press while the command unwinds
                os.killpg(process.pid, signal.SIGINT)
        else:
            os.kill(process.pid, signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        _, err = process.communicate(timeout=20)
        assert process.returncode == exit_code, err
        assert gone_within(workers, 5) == set()
        if word:
            assert err.strip().splitlines() == [f"clientele: {word}; nothing more was written"], err
        assert not (tmp_path / "out" / "provenance.json").exists()
    finally:
        _cleanup(process, workers)


def test_ctrl_c_while_the_command_starts_is_one_line(tmp_path):
    """Loading the libraries takes seconds; a Ctrl-C in them is the same one line as in a run, no traceback."""
    process = start(["simulate", str(BUNDLED_SCENARIO), *LONG_RUN, "--out", str(tmp_path / "out"), "--quiet"], tmp_path)
    try:
        # SciPy's special functions are loaded while the commands are being set up.
        wait_for(lambda: b"scipy/special" in Path(f"/proc/{process.pid}/maps").read_bytes(), 30, "SciPy to load")
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=20)
        assert process.returncode == 130, err
        assert err.strip().splitlines() == ["clientele: interrupted; nothing more was written"], err
    finally:
        _cleanup(process, set())


def a_kernel(process: subprocess.Popen[str]) -> set[int]:
    """The report's kernel has started (the simulation is over: it runs in the command, before the notebook)."""
    found = descendants(process.pid)
    kernels = [pid for pid in found if b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return found if kernels else set()


def _slow_notebook(tmp_path: Path) -> Path:
    """The board notebook with a cell that sleeps, so that the kernel can be caught running."""
    import nbformat

    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / "board_report.ipynb", as_version=4)
    notebook.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(120)"))
    path = tmp_path / "slow.ipynb"
    nbformat.write(notebook, path)
    return path


def _interrupt_report(process: subprocess.Popen[str], how: str) -> None:
    """Ctrl-C (exit 130 and one line) or SIGKILL the report command."""
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        assert err.strip().splitlines() == ["clientele: interrupted; nothing more was written"], err
    else:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.parametrize("how", ["ctrl-c", "sigkill"])
def test_report_leaves_no_simulation_worker_behind(how, tmp_path):
    process = start(["report", str(BUNDLED_SCENARIO), *LONG_RUN, "--out", str(tmp_path / "out"), "--quiet"], tmp_path)
    children: set[int] = set()
    try:
        children = workers_of(process, 2, 90)
        time.sleep(1.0)
        _interrupt_report(process, how)
        assert gone_within(children, 10) == set()
        assert not (tmp_path / "out" / "results" / "provenance.json").exists()
        assert not (tmp_path / "out" / "board_report.pdf").exists()
    finally:
        _cleanup(process, children)


@pytest.mark.parametrize("how", ["ctrl-c", "sigkill"])
@pytest.mark.slow
def test_report_leaves_no_kernel_behind(how, tmp_path):
    small = ["--set", "population.customers=600", "--set", "market.size=12000", "--set", "horizon_quarters=4",
             "--replications", "2", "--workers", "1"]
    process = start(["report", str(BUNDLED_SCENARIO), *small, "--notebook", str(_slow_notebook(tmp_path)),
                     "--out", str(tmp_path / "out"), "--quiet"], tmp_path)
    children: set[int] = set()
    try:
        children = wait_for(lambda: a_kernel(process), 90, "the report's kernel")
        time.sleep(1.0)
        _interrupt_report(process, how)
        # The kernel polls its parent once a second and exits when it is gone.
        assert gone_within(children, 10) == set()
        assert not (tmp_path / "out" / "board_report.pdf").exists()
        if how == "ctrl-c":  # a half-run notebook is not left to pass for an audit trail
            assert not (tmp_path / "out" / "board_report.ipynb").exists()
    finally:
        _cleanup(process, children)
