"""What a dotted scenario path (``word_of_mouth.first_hand``) holds: a real number, a whole number or a choice.

Sweeps and a scenario's ``uncertainties`` name parameters by the same dotted paths as ``--set``.
The path's type in the schema decides how a design samples it: a real number anywhere in its
range, a whole number on the integers, a switch or a named choice (``Literal``) among its values.
Read from the pydantic models themselves, so a new scenario field is sweepable without a list.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from simulation.core.errors import ScenarioError

Kind = Literal["real", "integer", "choice"]


@dataclass(frozen=True)
class ParameterPath:
    """A dotted path resolved against the schema: its kind, the choices it allows and its description."""

    path: str
    kind: Kind
    choices: tuple[Any, ...] = ()  # for a switch or a Literal: every value it may take
    description: str = ""
    label: str = ""  # in plain words, for board pages (``schema.in_plain_words``); "" when none is declared
    screen: tuple[float, float] | None = None  # multiples of its value a robustness screening tries (None: not screened)
    minimum: float | None = None  # the schema's bounds (ge/gt, le/lt), for checking a range without a run
    minimum_inclusive: bool = True
    maximum: float | None = None
    maximum_inclusive: bool = True

    def out_of_bounds(self, value: float) -> str | None:
        """Why ``value`` is outside the schema's bounds for this path, or None."""
        if self.minimum is not None and (value < self.minimum or (value == self.minimum and not self.minimum_inclusive)):
            return f"must be {'>=' if self.minimum_inclusive else '>'} {self.minimum:g}"
        if self.maximum is not None and (value > self.maximum or (value == self.maximum and not self.maximum_inclusive)):
            return f"must be {'<=' if self.maximum_inclusive else '<'} {self.maximum:g}"
        return None


def is_step_setting(path: str) -> bool:
    """Whether ``path`` names a setting of a strategy's step, ``strategies.NAME.steps.N.field``: a lever."""
    parts = path.split(".")
    return len(parts) >= 5 and parts[0] == "strategies" and parts[2] == "steps" and parts[3].isdigit()


def _unwrap(annotation: Any) -> Any:
    """``Annotated[float, …]`` → ``float``; ``X | None`` → ``X`` (a path sets a value, never None)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def resolve_path(root: type[BaseModel], dotted: str, instance: BaseModel | None = None) -> ParameterPath:
    """The kind of value at ``dotted`` under ``root``; a ValueError saying why it is not a sweepable number or choice.

    With ``instance`` (a scenario), a path may go through a list by position — a strategy's step,
    ``strategies.ladder.steps.2.surcharge`` — and the step found there decides which fields it has (a lever).
    """
    parts = dotted.split(".")
    if not dotted or any(not part for part in parts):
        raise ValueError("must be a dotted path with names between the dots, e.g. word_of_mouth.first_hand")
    annotation: Any = root
    value: Any = instance
    description = ""
    metadata: list[Any] = []
    words: dict[str, Any] = {}
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the scenario"
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                known = ", ".join(sorted(annotation.model_fields))
                raise ValueError(f"'{part}' is not a field of {where} (known: {known})")
            annotation, description, metadata = field.annotation, field.description or "", list(field.metadata)
            words = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            value = getattr(value, part, None)
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]  # a named entry: a channel, a channel's share
            metadata = []
            if value is not None:
                if part not in value:
                    raise ValueError(f"'{part}' is not an entry of {where} (it has: {', '.join(value) or 'none'})")
                value = value[part]
        elif typing.get_origin(annotation) in (tuple, list):
            if instance is None:
                raise ValueError(f"{where} is a list: name an entry by its position, checked against the scenario")
            if not part.isdigit() or value is None or int(part) >= len(value):
                count = len(value) if value is not None else 0
                raise ValueError(f"'{part}' is not a position in {where}, which has {count} entr"
                                 f"{'y' if count == 1 else 'ies'} (0 to {count - 1})" if count else
                                 f"'{part}' is not a position in {where}, which is empty")
            value = value[int(part)]
            annotation = type(value)  # the entry itself says what it is: a step's action decides its fields
        else:
            raise ValueError(f"{where} is a value, not a section")
    annotation = _unwrap(annotation)
    range_ = words.get("screen")
    label, screen = str(words.get("label", "")), (float(range_[0]), float(range_[1])) if range_ else None
    if annotation is bool:
        return ParameterPath(dotted, "choice", (False, True), description, label, screen)
    if annotation in (int, float):
        return ParameterPath(dotted, "integer" if annotation is int else "real", (), description, label, screen,
                             **_bounds(metadata))
    if typing.get_origin(annotation) is Literal:
        return ParameterPath(dotted, "choice", typing.get_args(annotation), description, label, screen)
    if annotation is str:
        return ParameterPath(dotted, "choice", (), description, label, screen)
    raise ValueError("is a section or a list, not one number or choice; name a field inside it")


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    """The schema's numeric bounds from a field's annotated-types metadata (Ge, Gt, Le, Lt)."""
    bounds: dict[str, Any] = {}
    for constraint in metadata:
        for name, key, inclusive in (("ge", "minimum", True), ("gt", "minimum", False),
                                     ("le", "maximum", True), ("lt", "maximum", False)):
            limit = getattr(constraint, name, None)
            if limit is not None:
                bounds[key] = float(limit)
                bounds[f"{key}_inclusive"] = inclusive
    return bounds


def set_path(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``dotted`` in a raw scenario mapping, making sections on the way (as ``--set`` does); a list's entry is
    named by its position (``strategies.ladder.steps.0.surcharge``)."""
    keys = dotted.split(".")
    node: Any = raw
    for depth, key in enumerate(keys[:-1]):
        if isinstance(node, list):
            node = _entry(node, key, keys[:depth], dotted)
            continue
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, (dict, list)):
            raise ScenarioError(f"'{'.'.join(keys[: depth + 1])}' is a value, not a section (setting {dotted})")
        node = child
    if isinstance(node, list):
        node[_position(node, keys[-1], keys[:-1], dotted)] = value
    else:
        node[keys[-1]] = value


def _position(entries: list[Any], key: str, above: list[str], dotted: str) -> int:
    if not key.isdigit() or int(key) >= len(entries):
        raise ScenarioError(f"'{key}' is not a position in {'.'.join(above)}, which has {len(entries)} entries "
                            f"(setting {dotted})")
    return int(key)


def _entry(entries: list[Any], key: str, above: list[str], dotted: str) -> Any:
    entry = entries[_position(entries, key, above, dotted)]
    if not isinstance(entry, dict):
        raise ScenarioError(f"'{'.'.join([*above, key])}' is a value, not a section (setting {dotted})")
    return entry
