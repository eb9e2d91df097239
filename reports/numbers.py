"""How the report writes quarters, money, shares and counts — one definition for text and tables.

The executive summary, the KPI table, the charts' axes and the tests all format through these
functions, so a number in a sentence is the same string as the number in the table.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

QUARTER_PATTERN = re.compile(r"(?P<year>[0-9]{4})Q(?P<quarter>[1-4])")  # ASCII digits, matched whole
MILLIONS_FROM = 1_000_000.0  # reports whose largest amount is this large or larger are written in millions
THOUSANDS_FROM = 10_000.0  # … in thousands; smaller books in whole units
NBSP = "\u00a0"  # between a number and its unit, so "95 %" never breaks across lines
MISSING = "n/a"  # what a board reads where a number cannot be computed (no profitable customer, say)


def check_quarter(text: str) -> str:
    """The quarter label if it reads YYYYQn (n 1–4); a ValueError naming the value otherwise."""
    if not QUARTER_PATTERN.fullmatch(text):
        raise ValueError(f"'quarter' must look like 2026Q4 (a year, 'Q', a quarter 1-4): got {text!r}")
    return text


def _finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or infinite."""
    if value is None or isinstance(value, (bool, str)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _clean(text: str) -> str:
    """A formatted number that rounds to zero reads 0 — never '-0.00' or '+0.000'."""
    if text and text[0] in "+-\u2212" and text[1:].strip("0.,") == "":
        return text[1:]
    return text


def number(value: Any, digits: int = 0, signed: bool = False) -> str:
    """A plain number with thousands separators: 1234.5 → '1,234.5' (digits=1); never '-0.0', 'nan' or '1e+05'."""
    finite = _finite(value)
    if finite is None:
        return MISSING
    return _clean(f"{finite:{'+' if signed else ''},.{digits}f}")


def plain(value: Any, significant: int = 3) -> str:
    """A parameter's value as written by a person: 20000 → '20,000', 0.0003 → '0.0003', 2.5 → '2.5', True → 'yes'.

    Never scientific notation: a board page does not read '2e+04'.
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return yes_no(bool(value))
    finite = _finite(value)
    if finite is None:
        return MISSING if value is None or not isinstance(value, str) else value
    if finite == int(finite) and abs(finite) < 1e15:
        return number(finite)
    magnitude = math.floor(math.log10(abs(finite)))
    decimals = max(0, significant - 1 - magnitude)
    text = _clean(f"{finite:,.{decimals}f}")
    return text.rstrip("0").rstrip(".") if "." in text else text


def yes_no(value: Any) -> str:
    """A flag in words: 'yes' or 'no' (never True/False)."""
    return "yes" if value else "no"


def share(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage, spaced as the report's words are: 0.0398 → '3.98 %' with digits=2.

    The space is a no-break space; a missing share reads 'n/a'.
    """
    finite = _finite(value)
    if finite is None:
        return MISSING
    return f"{number(finite * 100, digits)}{NBSP}%"


def points(value: Any, digits: int = 2, signed: bool = True) -> str:
    """A difference of two shares, already in percentage points: 0.031 → '+0.03 pts', a rounded zero '0.00 pts'."""
    text = number(value, digits, signed)
    return text if text == MISSING else f"{text}{NBSP}pts"


def count(value: Any, signed: bool = False) -> str:
    """A (mean) count of customers or people: 19595.6 → '19,596'; a difference '+12' or '0'."""
    return number(value, 0, signed)


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
        largest = max((abs(f) for f in (_finite(a) for a in amounts) if f is not None), default=0.0)
        return cls(currency, "m" if largest >= MILLIONS_FROM else "k" if largest >= THOUSANDS_FROM else "")

    @property
    def divisor(self) -> float:
        return {"m": 1e6, "k": 1e3, "": 1.0}[self.scale]

    @property
    def decimals(self) -> int:
        return {"m": 2, "k": 1, "": 0}[self.scale]

    @property
    def unit(self) -> str:
        """Column-header unit of ``bare`` numbers: 'EUR m', 'EUR k' or 'EUR'."""
        return f"{self.currency} {self.scale}" if self.scale else self.currency

    def bare(self, value: float, signed: bool = False) -> str:
        """The number alone, in the report's unit: '36.89' (millions), '298.4' (thousands) or '2,984'."""
        finite = _finite(value)
        if finite is None:
            return MISSING
        return number(finite / self.divisor, self.decimals, signed)

    def __call__(self, value: float, signed: bool = False) -> str:
        """The amount with its currency for sentences: 'EUR 36.89 m', '+EUR 4.2 k', 'EUR 298'.

        An amount too small to show in the report's unit is written whole ('EUR 42', not 'EUR 0.0 k');
        nothing at all is 'EUR 0'.
        """
        finite = _finite(value)
        if finite is None:
            return MISSING
        bare = self.bare(finite, signed)
        if self.scale and bare.strip("+-0.,") == "":  # 'EUR 0.0 k' says nothing: give the amount itself
            return MoneyFormat(self.currency)(finite, signed)
        sign = bare[0] if bare[0] in "+-" else ""
        number_text = bare[len(sign):]
        return f"{sign}{self.currency}{NBSP}{number_text}{NBSP + self.scale if self.scale else ''}"

    def axis(self, value: float, decimals: int | None = None) -> str:
        """Tick label for chart axes: the bare number, without forced decimals (``decimals`` to tell ticks apart)."""
        return number(value / self.divisor, (1 if self.scale else 0) if decimals is None else decimals)


def date_text(moment: str) -> str:
    """An ISO timestamp as a report's date: '2026-11-23T21:19:56+00:00' → '23 November 2026' (else as given)."""
    try:
        date = dt.datetime.fromisoformat(moment).date()
    except ValueError:
        return moment
    return f"{date.day} {date:%B %Y}"


def quarter_tick(label: str) -> str:
    """A quarter label as a chart tick: '2027Q1' → 'Q1 27' (one short line; never stacked years)."""
    match = QUARTER_PATTERN.fullmatch(str(label))
    return f"Q{match['quarter']} {match['year'][2:]}" if match else str(label)


def shorten(text: str, limit: int = 60) -> str:
    """A label cut to ``limit`` characters at a word, with an ellipsis: a 300-character name fits a chart or a column."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"
