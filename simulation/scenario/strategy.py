"""How strategies are declared in a scenario file: a list of steps, each one action with a target.

With several steps a strategy is a *divestment ladder*: step k+1 acts only on customers that
step k reached, once step k's review period has passed, and only if they still match step
k+1's target (still unprofitable, say). The step union is derived from the actions declared in
``actions.py``, so the scenario schema and the registry cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from simulation.core.schema import StrictModel, Text, Whole
from simulation.scenario.actions import ACTIONS
from simulation.scenario.steps import StepBase

MAX_LADDER_STEPS = 20  # a customer's ladder stage is one byte; no ladder in the literature has more than six

if TYPE_CHECKING:
    StepSpec = StepBase
else:
    StepSpec = Annotated[Union[tuple(d.step for d in ACTIONS.values())], Field(discriminator="action")]


class TunedSpec(StrictModel):
    """Where a strategy's settings came from when a search chose them (``clientele optimize`` writes it)."""

    search: Text = Field(description="The optimisation file that searched them")
    trials: Whole = Field(ge=1, le=10_000, description="Settings tried: the more, the more the best one flatters")
    seed: Whole = Field(ge=0, le=2**32 - 1, description="The search's seed: its simulated futures")


class StrategySpec(StrictModel):
    """A named strategy: no steps is *retain by all means*; several steps form a ladder."""

    label: Text = Field("", description="The strategy's name in plain English for the board, e.g. 'Divestment ladder' "
                                        "(up to 300 characters; empty: the strategy's id)")
    description: Text = Field("", description="One line for the report (up to 300 characters)")
    source: Text = Field("", description="Where the idea comes from: author, title, year (up to 300 characters)")
    steps: tuple[StepSpec, ...] = Field((), max_length=MAX_LADDER_STEPS,
                                        description=f"The ladder's steps, in order (at most {MAX_LADDER_STEPS})")
    tuned: TunedSpec | None = Field(None, description="Set when a search chose the steps' settings (clientele "
                                                      "optimize): the report then says so, and how far to trust it")
