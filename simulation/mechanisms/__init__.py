"""The model's mechanisms, each one declared unit (``base.Mechanism``): listed here once, in the order their
hooks run. The scenario's sections, the results' columns, the trace's fields and the documentation's
mechanism list are derived from this list; the engine calls the hooks and never names a mechanism."""

from __future__ import annotations

from .base import Mechanism
from .capacity import Capacity
from .distrust import Distrust
from .morale import Morale
from .price_war import PriceWar
from .reputation import Reputation
from .word_of_mouth import WordOfMouth

MECHANISMS: tuple[type[Mechanism], ...] = (Capacity, Reputation, WordOfMouth, Distrust, Morale, PriceWar)


def mechanism_sections() -> dict[str, type]:
    """Every mechanism's scenario sections, by key, in ``MECHANISMS`` order (a key two mechanisms read, once)."""
    sections: dict[str, type] = {}
    for mechanism in MECHANISMS:
        for key, section in mechanism.sections.items():
            if sections.setdefault(key, section) is not section:
                raise TypeError(f"scenario section {key!r} is declared twice, by different classes")
    return sections
