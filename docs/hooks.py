"""MkDocs hook: write the generated reference pages before MkDocs gathers the files, on every build.

Nothing generated is committed, so the reference cannot drift from the code it is read from.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

_spec = importlib.util.spec_from_file_location("clientele_docs_generate", Path(__file__).with_name("generate.py"))
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)


def on_pre_build(config: Any, **kwargs: Any) -> None:
    generate.write_pages(Path(config["docs_dir"]) / "reference")
