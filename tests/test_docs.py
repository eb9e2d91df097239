"""The documentation builds strictly, its reference pages carry every declared name, and the README stays short.

The reference pages are generated from the code on every build (docs/hooks.py → docs/generate.py), so
these checks walk the declarations on their own and look for each name in the built site.
"""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from .conftest import PROJECT_ROOT

pytest.importorskip("mkdocs")
pytest.importorskip("material")


def build(tmp: Path, docs_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` into ``tmp``; with ``docs_dir``, a copy of the configuration pointing there."""
    config = PROJECT_ROOT / "mkdocs.yml"
    if docs_dir is not None:
        text = config.read_text(encoding="utf-8").replace("docs_dir: docs", f"docs_dir: {docs_dir}")
        text = text.replace("  - docs/hooks.py", f"  - {docs_dir / 'hooks.py'}")
        config = tmp / "mkdocs.yml"
        config.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(tmp / "site")],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                          env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("docs")
    result = build(tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "site"


def page_text(site: Path, page: str) -> str:
    return html.unescape((site / page / "index.html").read_text(encoding="utf-8"))


def leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field path of a pydantic model, sections walked into, mappings of sections as ``<placeholder>``."""
    placeholders = {"channels": "<channel>", "strategies": "<strategy>", "uncertainties": "<path>"}
    paths = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.append(path)
        annotation = info.annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
        inner = args[0] if typing.get_origin(annotation) is not dict else typing.get_args(annotation)[1]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            nested = f"{path}.{placeholders.get(name, '<name>')}." if typing.get_origin(annotation) is dict else f"{path}."
            paths += [p for p in leaf_paths(inner, nested) if not p.startswith(f"{nested}steps.")]
    return paths


@pytest.mark.slow
def test_the_site_builds_strictly_with_every_reference_page(site: Path) -> None:
    for page in ("reference/cli", "reference/scenario", "reference/outcomes", "reference/report-kinds",
                 "reference/sweep-files", "reference/speed", "simulate", "reports", "sweeps"):
        assert (site / page / "index.html").exists(), page


def test_the_outcomes_page_lists_every_declared_outcome(site: Path) -> None:
    from simulation.model.outcomes import OUTCOMES

    text = page_text(site, "reference/outcomes")
    missing = [o.name for o in OUTCOMES if f"<code>{o.name}</code>" not in text]
    assert not missing


def test_the_cli_page_lists_every_subcommand_and_option(site: Path) -> None:
    from reports.commands.cli import build_parser

    text = page_text(site, "reference/cli")
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        assert f"clientele {name}" in text, name
        section = text.split(f"<code>clientele {name}</code>", 1)[1]
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                assert option in section, f"{name} {option}"


def test_the_scenario_page_lists_every_field_path(site: Path) -> None:
    from simulation.scenario.actions import ACTIONS
    from simulation.scenario.spec import Scenario

    text = page_text(site, "reference/scenario")
    missing = [p for p in leaf_paths(Scenario) if f"<code>{p}</code>" not in text]
    for name, declaration in ACTIONS.items():
        assert f"<code>{name}</code>" in text, name
        missing += [p for p in leaf_paths(declaration.step, "steps[].") if f"<code>{p}</code>" not in text]
    assert not missing


def test_the_sweep_and_kind_pages_list_every_field_design_and_kind(site: Path) -> None:
    from reports.kinds import KINDS
    from simulation.runs.sweeps.spec import DESIGN_METHODS, SweepSpec

    sweep = page_text(site, "reference/sweep-files")
    assert not [p for p in leaf_paths(SweepSpec) if f"<code>{p}</code>" not in sweep]
    assert not [m for m in DESIGN_METHODS if f"<code>{m}</code>" not in sweep]
    kinds = page_text(site, "reference/report-kinds")
    assert not [k for k in KINDS if f"<code>{k}</code>" not in kinds]


def test_the_speed_page_renders_every_stored_benchmark(site: Path) -> None:
    text = page_text(site, "reference/speed")
    for stored in (PROJECT_ROOT / "docs" / "benchmarks").glob("*.json"):
        assert f"benchmarks/{stored.stem}.py" in text


@pytest.mark.slow
def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    subprocess.run(["cp", "-r", str(PROJECT_ROOT / "docs"), str(docs)], check=True)
    (docs / "reference").exists() and subprocess.run(["rm", "-r", str(docs / "reference")], check=True)
    page = docs / "limits.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nSee [nowhere](no-such-page.md).\n", encoding="utf-8")
    result = build(tmp_path, docs)
    assert result.returncode != 0
    assert "no-such-page.md" in result.stderr


def test_the_docs_cite_sources_not_internal_files() -> None:
    pages = [*(PROJECT_ROOT / "docs").glob("*.md"), PROJECT_ROOT / "README.md"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\bseeds? 0\d\d|DESIGN\.md", text, re.I), page.name


def test_the_readme_is_short_and_gives_the_two_commands() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    for command in ("report", "test"):
        assert re.search(rf"^{command}:", makefile, re.M)
        assert f"make {command}" in readme
    assert "out/default/board_report.pdf" in readme and "OUT    ?= out/default" in makefile
