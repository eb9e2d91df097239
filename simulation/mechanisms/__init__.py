"""The model's mechanisms, each one declared unit (``base.Mechanism``): listed here once, in the order their
hooks run. The scenario's sections, the results' columns, the trace's fields and the documentation's
mechanism list are derived from this list; the engine calls the hooks and never names a mechanism."""

from __future__ import annotations

from simulation.mechanisms.base import Mechanism
from simulation.mechanisms.capacity import Capacity
from simulation.mechanisms.distrust import Distrust
from simulation.mechanisms.morale import Morale
from simulation.mechanisms.price_war import PriceWar
from simulation.mechanisms.reputation import Reputation
from simulation.mechanisms.word_of_mouth import WordOfMouth

MECHANISMS: tuple[type[Mechanism], ...] = (Capacity, Reputation, WordOfMouth, Distrust, Morale, PriceWar)


def mechanism_sections() -> dict[str, type]:
    """Every mechanism's scenario sections, by key, in ``MECHANISMS`` order (a key two mechanisms read, once)."""
    sections: dict[str, type] = {}
    for mechanism in MECHANISMS:
        for key, section in mechanism.sections.items():
            if sections.setdefault(key, section) is not section:
                raise TypeError(f"scenario section {key!r} is declared twice, by different classes")
    return sections
