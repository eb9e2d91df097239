"""The base of every validated input model, and number types that take only numbers.

YAML and ``--set`` turn `yes`, `true` and quoted text into values pydantic would happily read as
numbers (`customers: true` became 1 customer). A ``Real`` or ``Whole`` field takes only numbers,
and a ``StrictModel`` only finite ones: NaN silently matches no customer, and infinity prints as
"EUR inf m" in a board report.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _number_only(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not a yes/no value ({str(value).lower()})")
    if isinstance(value, str):
        raise ValueError("must be a number, not text (write it without quotes)")
    return value


Real = Annotated[float, BeforeValidator(_number_only)]  # a number, never a boolean or text
Whole = Annotated[int, BeforeValidator(_number_only)]  # a whole number, never a boolean or text


class StrictModel(BaseModel):
    """Immutable; unknown keys refused; numbers finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
