"""Run a report notebook with papermill — after checking its parameters, before any kernel starts.

papermill only *warns* about a parameter the notebook does not declare, and passes any type;
the mistake then surfaces minutes later inside the kernel, or never. Here the parameters the
CLI will pass are compared with the notebook's ``parameters`` cell (``papermill.inspect_notebook``):
an unknown name or a value whose type differs from the declared annotation is a ReportError
listing what the notebook declares. A failing cell becomes a ReportError naming the cell and the
error; papermill has already saved the partially executed notebook, which is kept for debugging.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

import papermill
from jupyter_client.kernelspec import KernelSpecManager
from papermill.exceptions import PapermillException, PapermillExecutionError

from simulation.core.errors import ReportError

KERNEL_NAME = "clientele"  # registered by `make setup` (ipykernel install --sys-prefix)
FALLBACK_KERNEL = "python3"  # ipykernel's own kernel: jupyter_client runs it with this interpreter
START_TIMEOUT_SECONDS = 60
# ipykernel warns on every start that its local TCP sockets are unencrypted (the messages are
# signed with a per-kernel key and the report kernel lives only for one run), and when the command
# is interrupted it logs a 20-line ZMQError for the reply it can no longer send. Cell errors reach
# the command through papermill; the kernel's own log adds nothing an analyst can act on.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
# The simulation runs one replication per worker process; BLAS threads on top of that only
# oversubscribe the cores, and OpenBLAS's waiting threads spin. Measured on a busy 2-core machine:
# 24 replications of the bundled scenario took 56–123 s with OpenBLAS's default threads, 16 s with
# one per process. Set for the kernel (and the workers it forks) unless the user chose otherwise.
ONE_THREAD_PER_PROCESS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# Annotation in the parameters cell → Python types a value may have. Notebooks take primitives
# (and lists of strings) only, so anything else declared there is refused.
DECLARED_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list, tuple),
}
UNDECLARED = "None"  # papermill's inferred_type_name for a parameter without annotation


def declared_parameters(notebook: str | Path) -> dict[str, dict[str, str]]:
    """The notebook's parameters as papermill infers them: name → {inferred_type_name, default, help}."""
    notebook = Path(notebook)
    if not notebook.is_file():
        raise ReportError(f"{notebook}: report notebook not found")
    try:
        declared = papermill.inspect_notebook(str(notebook))
    except (PapermillException, ValueError, OSError) as exc:
        raise ReportError(f"{notebook}: cannot read the notebook's parameters: {exc}") from None
    if not declared:
        raise ReportError(f"{notebook}: no cell tagged 'parameters' (or it declares nothing)")
    return declared


def _declared_text(declared: Mapping[str, Mapping[str, str]]) -> str:
    return ", ".join(f"{name} ({info['inferred_type_name']})" for name, info in declared.items())


def _type_matches(value: Any, type_name: str) -> bool:
    base = type_name.split("[", 1)[0].strip()
    if base == UNDECLARED:
        return value is None or isinstance(value, (str, int, float, bool, list, tuple))
    allowed = DECLARED_TYPES[base]
    if isinstance(value, bool) and bool not in allowed:
        return False  # True is an int to Python, but not to a notebook that declares int
    return isinstance(value, allowed)


def check_parameters(notebook: str | Path, parameters: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Refuse unknown or ill-typed parameters with one message; returns the declared parameters."""
    declared = declared_parameters(notebook)
    problems = []
    for name, info in declared.items():
        base = info["inferred_type_name"].split("[", 1)[0].strip()
        if base != UNDECLARED and base not in DECLARED_TYPES:
            problems.append(
                f"the notebook declares '{name}: {info['inferred_type_name']}', but parameters must be "
                f"{', '.join(DECLARED_TYPES)} (primitives only)"
            )
    unknown = [name for name in parameters if name not in declared]
    if unknown:
        problems.append(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(repr(n) for n in unknown)}")
    for name, value in parameters.items():
        type_name = declared[name]["inferred_type_name"] if name in declared else None
        if type_name is None or type_name.split("[", 1)[0].strip() not in (*DECLARED_TYPES, UNDECLARED):
            continue  # unknown, or a declared type already reported above
        if not _type_matches(value, type_name):
            problems.append(
                f"parameter '{name}' must be {type_name} (as the notebook declares it): "
                f"got {value!r} ({type(value).__name__})"
            )
    if problems:
        raise ReportError(
            f"{notebook}: {'; '.join(problems)}. The notebook declares: {_declared_text(declared)}"
        )
    return declared


def kernel_name() -> str:
    """The project's kernel if registered, else the kernel of the interpreter running this code."""
    return KERNEL_NAME if KERNEL_NAME in KernelSpecManager().find_kernel_specs() else FALLBACK_KERNEL


PROJECT_ROOT = Path(__file__).resolve().parent.parent


# Where Jupyter and IPython write by default, under HOME: a kernel's connection file and IPython's folder.
HOME_FOLDERS = {"JUPYTER_RUNTIME_DIR": "jupyter-runtime", "IPYTHONDIR": "ipython"}


def _home_is_writable() -> bool:
    """Tried, not asked: root's ``os.access`` says yes for /proc, where no folder can be made."""
    home = os.environ.get("HOME") or ""
    if not home or not os.path.isdir(home):
        return False
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".clientele-probe-", dir=home))
    except OSError:
        return False
    return True


@contextlib.contextmanager
def kernel_environment(scratch: str | Path | None = None) -> Iterator[dict[str, str]]:
    """The environment a new kernel inherits: numeric libraries on one thread per process, and the
    project first on its import path (the kernel's working folder is an empty one, never the output
    folder, so only the project's own ``reports`` and ``simulation`` can be imported). With HOME
    unwritable (a service account, HOME=/proc), Jupyter's and IPython's folders go under ``scratch``."""
    added = {name: value for name, value in ONE_THREAD_PER_PROCESS.items() if name not in os.environ}
    if scratch is not None and not _home_is_writable():
        added.update({name: str(Path(scratch) / folder) for name, folder in HOME_FOLDERS.items()
                      if name not in os.environ})
    previous_path = os.environ.get("PYTHONPATH")
    os.environ.update(added)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *([previous_path] if previous_path else [])])
    try:
        yield added
    finally:
        for name in added:
            os.environ.pop(name, None)
        if previous_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous_path


def execute(
    notebook: str | Path,
    executed: str | Path,
    parameters: Mapping[str, Any],
    *,
    cwd: str | Path,
    progress: bool = False,
) -> None:
    """Execute ``notebook`` into ``executed``; a failing cell raises ReportError, the notebook stays."""
    notebook, executed = Path(notebook), Path(executed)
    kernel = FALLBACK_KERNEL
    try:
        with kernel_environment(scratch=cwd):
            kernel = kernel_name()
            papermill.execute_notebook(
                str(notebook), str(executed), parameters=dict(parameters), kernel_name=kernel,
                cwd=str(cwd), progress_bar=progress, log_output=False, request_save_on_cell_execute=True,
                start_timeout=START_TIMEOUT_SECONDS, extra_arguments=KERNEL_ARGUMENTS,
            )
    except PapermillExecutionError as exc:
        first_line = next((line.strip() for line in str(exc.source).splitlines() if line.strip()), "")
        raise ReportError(
            f"{notebook.name} failed in cell {exc.cell_index} (execution count {exc.exec_count}, "
            f"`{first_line[:80]}`): {exc.ename}: {exc.evalue}. The partially executed notebook is kept at "
            f"{executed} (its last output has the traceback); no new report was written."
        ) from None
    except (PapermillException, RuntimeError, TimeoutError) as exc:
        # Kernel that died or never started: there is no failing cell to name.
        raise ReportError(
            f"{notebook.name} could not be executed with kernel '{kernel}': {type(exc).__name__}: {exc}. "
            f"Whatever ran is in {executed}; no new report was written."
        ) from None
