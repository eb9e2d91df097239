"""Reading a scenario (or sweep) file safely: a regular file, UTF-8, bounded, plain YAML.

A scenario file is a few kilobytes of hand-written YAML. Anything else gets a message, not a
hang or a traceback: a FIFO or device is refused before it is opened (reading one blocks or
never ends), the size is capped before reading, text must be UTF-8 (a BOM is allowed), and the
YAML may not expand — through aliases — beyond a bounded number of nodes (351 bytes of nested
aliases once expanded to 5.7 GB on copying). Duplicate keys are refused with both lines (the last
one silently won: 2,000 customers became 5,000,000), keys must be names, and dates stay text
until the schema reads them, so `start_date: 2026-02-30` is a validation message, not a crash.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from simulation.core.errors import ScenarioError
from simulation.core.files import regular_file

MAX_FILE_BYTES = 1 << 20  # 1 MiB; the bundled scenario is 6 KB
MAX_EXPANDED_NODES = 100_000  # YAML nodes after aliases are expanded; the bundled scenario has about 400
UTF16_32_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16",
                 b"\xfe\xff": "UTF-16"}


def read_text(path: str | Path, what: str = "scenario file") -> str:
    """The file's text, or a ScenarioError naming the file and what was wrong with it."""
    path = Path(path)
    info = regular_file(path, what, "YAML", ScenarioError)
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: is {info.st_size:,} bytes; a {what} is at most {MAX_FILE_BYTES:,} bytes")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read {what}: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: is more than {MAX_FILE_BYTES:,} bytes; a {what} is at most that")
    for bom, encoding in UTF16_32_BOMS.items():
        if data.startswith(bom):
            raise ScenarioError(f"{path}: is {encoding} text; save the {what} as UTF-8")
    if b"\x00" in data:
        raise ScenarioError(f"{path}: holds NUL bytes (a binary file?); expected a {what} as UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}: is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}, perhaps Latin-1 or "
            f"Windows-1252); save the {what} as UTF-8"
        ) from None


class _ScenarioLoader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps, refusing duplicate and non-text keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(
                    None, None, f"merge keys (<<) are not supported (line {key_node.start_mark.line + 1}); "
                    "write the values out", key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} on line {line} is not a name (keys are field or strategy names)",
                    key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice, on lines {seen[key]} and {line} (which one is meant?)",
                    key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


    def construct_yaml_binary(self, node: yaml.Node) -> Any:
        raise yaml.constructor.ConstructorError(
            None, None, f"binary data (!!binary, line {node.start_mark.line + 1}) is not a scenario value; write text",
            node.start_mark)


# Numbers as YAML 1.2's core schema writes them, decimal only: `1e6` is a number as a reader expects,
# while PyYAML's YAML 1.1 forms — `1:00` (sexagesimal, 60), `0x10`, `010`, `1_000` — stay text, which
# the schema refuses as "a number, not text". Dates stay text too (the schema parses them, with a
# message for 2026-02-30).
_REPLACED = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ScenarioLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                                      list("-+0123456789"))
_ScenarioLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)
_ScenarioLoader.add_constructor("tag:yaml.org,2002:binary", _ScenarioLoader.construct_yaml_binary)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes the document has once every alias is expanded (an alias is the same node object again)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = MAX_EXPANDED_NODES + 1  # a node that contains itself expands without end
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(key, sizes) + _expanded_size(value, sizes) for key, value in node.value)
    else:
        size = 1
    sizes[id(node)] = min(size, MAX_EXPANDED_NODES + 1)
    return sizes[id(node)]


def parse_yaml(text: str, source: str) -> Any:
    """Plain data from YAML text; ``source`` (a file name, or `--set a.b=…`) names it in messages."""
    control = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise ScenarioError(f"{source}: holds a control character ({control.group()!r}) on line {line}; expected "
                            "printable text")
    undecodable = re.search(r"[\udc80-\udcff]", text)  # a byte the terminal's encoding could not decode
    if undecodable:
        raise ScenarioError(f"{ascii(source)}: holds a byte that is not UTF-8 (0x{ord(undecodable.group()) - 0xDC00:02x}); "
                            "expected UTF-8 text")
    loader = _ScenarioLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise ScenarioError(
                f"{source}: expands to more than {MAX_EXPANDED_NODES:,} values through YAML aliases (&anchor/*alias); "
                "write the values out instead")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply to be a scenario") from None
    finally:
        loader.dispose()
