"""How the report writes quarters, money, shares and counts — one definition for text and tables.

The executive summary, the KPI table, the charts' axes and the tests all format through these
functions, so a number in a sentence is the same string as the number in the table.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable

QUARTER_PATTERN = re.compile(r"(?P<year>[0-9]{4})Q(?P<quarter>[1-4])")  # ASCII digits, matched whole
MILLIONS_FROM = 1_000_000.0  # reports whose largest amount is this large or larger are written in millions
THOUSANDS_FROM = 10_000.0  # … in thousands; smaller books in whole units


def check_quarter(text: str) -> str:
    """The quarter label if it reads YYYYQn (n 1–4); a ValueError naming the value otherwise."""
    if not QUARTER_PATTERN.fullmatch(text):
        raise ValueError(f"'quarter' must look like 2026Q4 (a year, 'Q', a quarter 1-4): got {text!r}")
    return text


@dataclass(frozen=True)
class MoneyFormat:
    """Amounts in one unit for the whole report — millions, thousands or whole units — chosen by its largest amount.

    One unit per report keeps a confidence interval from reading '987,654 to 1.02 m', and keeps
    whole-euro figures with seven significant digits out of a board's page. Negative amounts
    carry a minus sign, differences an explicit plus.
    """

    currency: str
    scale: str = ""  # "m", "k" or "" (whole units)

    @classmethod
    def for_amounts(cls, amounts: Iterable[float], currency: str) -> "MoneyFormat":
        largest = max((abs(float(a)) for a in amounts if a == a), default=0.0)
        return cls(currency, "m" if largest >= MILLIONS_FROM else "k" if largest >= THOUSANDS_FROM else "")

    @property
    def divisor(self) -> float:
        return {"m": 1e6, "k": 1e3, "": 1.0}[self.scale]

    @property
    def unit(self) -> str:
        """Column-header unit of ``bare`` numbers: 'EUR m', 'EUR k' or 'EUR'."""
        return f"{self.currency} {self.scale}" if self.scale else self.currency

    def bare(self, value: float, signed: bool = False) -> str:
        """The number alone, in the report's unit: '36.89' (millions), '298.4' (thousands) or '2,984'."""
        value = float(value)
        sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
        magnitude = abs(value) / self.divisor
        if self.scale == "m":
            text = f"{magnitude:,.2f}"
        elif self.scale == "k":
            text = f"{magnitude:,.1f}"
        else:
            text = f"{magnitude:,.0f}"
        if text.strip("0.,") == "":
            sign = ""  # a difference that rounds to nothing reads 0, not +0.00
        return sign + text

    def __call__(self, value: float, signed: bool = False) -> str:
        """The amount with its currency for sentences: 'EUR 36.89 m', '+EUR 4.2 k', 'EUR 298'.

        An amount too small to show in the report's unit is written whole ('EUR 42', not 'EUR 0.0 k').
        """
        bare = self.bare(value, signed)
        if self.scale and value and bare.strip("+-0.,") == "":  # 'EUR 0.0 k' says nothing: give the amount itself
            return MoneyFormat(self.currency)(value, signed)
        sign = bare[0] if bare[0] in "+-" else ""
        number = bare[len(sign):]
        return f"{sign}{self.currency}\u00a0{number}{chr(0xa0) + self.scale if self.scale else ''}"

    def axis(self, value: float) -> str:
        """Tick label for chart axes: the bare number, without forced decimals."""
        return f"{value / self.divisor:,.{1 if self.scale else 0}f}"


def date_text(moment: str) -> str:
    """An ISO timestamp as a report's date: '2026-11-23T21:19:56+00:00' → '23 November 2026' (else as given)."""
    try:
        date = dt.datetime.fromisoformat(moment).date()
    except ValueError:
        return moment
    return f"{date.day} {date:%B %Y}"


def share(value: float, digits: int = 1) -> str:
    """A fraction as a percentage: 0.0398 → '3.98%' with digits=2."""
    return f"{float(value):.{digits}%}"


def count(value: float) -> str:
    """A (mean) count of customers or people: 19595.6 → '19,596'."""
    return f"{float(value):,.0f}"
