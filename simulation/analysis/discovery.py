"""Scenario discovery: the parameter ranges in which the recommended strategy stops being best.

A shallow classification tree (CART, scikit-learn) splits the sampled futures into boxes by
the parameters; the leaves where the recommendation mostly loses are read back as plain ranges
— "word_of_mouth.first_hand from 11.2 to 15" — each with how many futures it holds, how often
the recommendation loses there (density) and what share of all its losses it catches
(coverage), the two numbers PRIM and CART are judged by in the scenario-discovery literature.
A shallow tree keeps each box to a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_DEPTH = 2  # at most two conditions a box: what a sentence can carry
MIN_LEAF_SHARE = 0.05  # a box holds at least 5 % of the futures (and at least 3 of them)


@dataclass(frozen=True)
class Condition:
    """One parameter's range inside a box; a choice lists the values it takes there."""

    parameter: str
    low: float | None = None  # None: the bottom of the sampled range
    high: float | None = None  # None: the top of the sampled range
    values: tuple[Any, ...] = ()  # for a choice
    range_low: float | None = None  # the sampled range, for saying "above"/"below"
    range_high: float | None = None

    @property
    def text(self) -> str:
        """The range in plain terms: "from 11.2 to 15", "above 11.2", "below 1.5", "true or false"."""
        if self.values:
            return " or ".join(str(value) for value in self.values)
        if self.low is not None and self.high is not None:
            return f"from {self.low:.3g} to {self.high:.3g}"
        if self.low is not None:
            return f"above {self.low:.3g}"
        return f"below {self.high:.3g}"


@dataclass(frozen=True)
class FlipBox:
    """Where the recommendation stops being best: its conditions, futures, density and coverage."""

    conditions: tuple[Condition, ...]
    futures: int  # sampled futures in the box
    flips: int  # of which the recommendation is not best
    density: float  # flips / futures
    coverage: float  # flips / all flips
    winners: dict[str, int] = field(default_factory=dict)  # who is best there instead, and how often


def flip_boxes(inputs: pd.DataFrame, flipped: np.ndarray, winners: pd.Series | None = None,
               kinds: dict[str, str] | None = None, seed: int = 0) -> list[FlipBox]:
    """Boxes of the parameter space where ``flipped`` (the recommendation is not best) mostly holds.

    ``inputs`` has one column per parameter (numbers, or a choice's values); ``kinds`` marks the
    choices. Returns the boxes with a majority of flips, most flips first; none if nothing flips.
    """
    from sklearn.tree import DecisionTreeClassifier

    flipped = np.asarray(flipped, dtype=bool)
    if not flipped.any() or flipped.all():
        everywhere = [] if not flipped.any() else [FlipBox((), len(flipped), len(flipped), 1.0, 1.0,
                                                           _count(winners, np.ones(len(flipped), bool)))]
        return everywhere
    kinds = kinds or {}
    encoded, codes = _encode(inputs, kinds)
    leaf = max(3, int(np.ceil(MIN_LEAF_SHARE * len(flipped))))
    tree = DecisionTreeClassifier(max_depth=MAX_DEPTH, min_samples_leaf=leaf, random_state=seed)
    tree.fit(encoded, flipped)  # a frame: the tree keeps the parameters' names
    leaves = tree.apply(encoded)
    total_flips = int(flipped.sum())
    boxes = []
    for node, path in _leaf_paths(tree).items():
        inside = leaves == node
        flips = int(flipped[inside].sum())
        if flips * 2 <= int(inside.sum()):
            continue
        conditions = tuple(_condition(name, bounds, inputs[name], codes.get(name)) for name, bounds in path.items())
        boxes.append(FlipBox(conditions, int(inside.sum()), flips, flips / int(inside.sum()), flips / total_flips,
                             _count(winners, inside & flipped)))
    return sorted(boxes, key=lambda box: (-box.flips, -box.density))


def _count(winners: pd.Series | None, mask: np.ndarray) -> dict[str, int]:
    if winners is None:
        return {}
    return {str(name): int(count) for name, count in winners[mask].value_counts().items()}


def _encode(inputs: pd.DataFrame, kinds: dict[str, str]) -> tuple[pd.DataFrame, dict[str, list[Any]]]:
    """Choices as their position among the sorted values; numbers as they are."""
    encoded = inputs.copy()
    codes: dict[str, list[Any]] = {}
    for name in inputs:
        if kinds.get(name) == "choice" or not pd.api.types.is_numeric_dtype(inputs[name]):
            values = sorted(inputs[name].unique(), key=str)
            codes[name] = values
            encoded[name] = inputs[name].map({value: i for i, value in enumerate(values)})
    return encoded.astype(float), codes


def _leaf_paths(tree: Any) -> dict[int, dict[str, tuple[float | None, float | None]]]:
    """Each leaf's bounds per feature index name, from the root's splits: (above, at most)."""
    structure = tree.tree_
    names = list(tree.feature_names_in_) if hasattr(tree, "feature_names_in_") else None
    paths: dict[int, dict[str, tuple[float | None, float | None]]] = {}

    def walk(node: int, bounds: dict[str, tuple[float | None, float | None]]) -> None:
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf
            paths[node] = bounds
            return
        feature = int(structure.feature[node])
        name = names[feature] if names else str(feature)
        threshold = float(structure.threshold[node])
        low, high = bounds.get(name, (None, None))
        walk(left, {**bounds, name: (low, threshold if high is None else min(high, threshold))})
        walk(right, {**bounds, name: (threshold if low is None else max(low, threshold), high)})

    walk(0, {})
    return paths


def _condition(name: str, bounds: tuple[float | None, float | None], column: pd.Series,
               codes: list[Any] | None) -> Condition:
    low, high = bounds
    if codes is not None:
        inside = [value for i, value in enumerate(codes) if (low is None or i > low) and (high is None or i <= high)]
        return Condition(name, values=tuple(inside))
    return Condition(name, low, high, range_low=float(column.min()), range_high=float(column.max()))
