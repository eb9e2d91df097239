"""The base of every validated input model, and number types that take only numbers.

YAML and ``--set`` turn `yes`, `true` and quoted text into values pydantic would happily read as
numbers (`customers: true` became 1 customer). A ``Real`` or ``Whole`` field takes only numbers,
and a ``StrictModel`` only finite ones: NaN silently matches no customer, and infinity prints as
"EUR inf m" in a board report.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StrictBool, StringConstraints


def _number_only(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not a yes/no value ({str(value).lower()})")
    if isinstance(value, str):
        raise ValueError("must be a number, not text (a decimal number, written without quotes)")
    return value


Real = Annotated[float, BeforeValidator(_number_only)]  # a number, never a boolean or text
Whole = Annotated[int, BeforeValidator(_number_only)]  # a whole number, never a boolean or text
Switch = StrictBool  # yes/no, true/false: never "off" as text, never 0 or 1
def _a_name(value: str) -> str:
    if not value or len(value) > 64 or "," in value or "=" in value:
        raise ValueError("must be a name of 1 to 64 characters without ',' or '=' (so --strategies a,b can list it)")
    return value


Name = Annotated[str, StringConstraints(strict=True, strip_whitespace=True), AfterValidator(_a_name)]
Text = Annotated[str, StringConstraints(strict=True, max_length=300)]  # a title or a line of a report


def in_plain_words(label: str, screen: tuple[float, float] | None = None) -> dict[str, Any]:
    """A field's metadata for board pages: its ``label`` in plain words (never the dotted path), and ``screen``, the
    multiples of the scenario's value a robustness check's screening moves it between (None: not screened)."""
    return {"label": label, **({"screen": list(screen)} if screen else {})}


class StrictModel(BaseModel):
    """Immutable; unknown keys refused; numbers finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Section(StrictModel):
    """Base of every scenario section: immutable, unknown keys refused, numbers strict and finite."""

    def problem_in(self, scenario: Any) -> str | None:
        """Why this section does not fit the scenario around it (a mechanism's check across sections), or None."""
        return None
