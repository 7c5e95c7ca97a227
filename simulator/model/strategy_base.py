"""The base of allocation strategies: what a brand observes (``Candidates``), a strategy's
parameters (``StrategyParams``) and the ``Strategy`` class with its hooks and their generic
defaults — what the model asks a strategy, and how the views describe it.

The built-in strategies and the registry are in :mod:`simulator.model.strategies`, which
re-exports these names: import them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Candidates:
    """What a brand can observe when it allocates (public signals only)."""

    score: np.ndarray  # current public score, 1–100
    observed_relevance: np.ndarray  # topic share of recent posts × region match; 0 if silent
    followers: np.ndarray  # follower counts
    eligible: np.ndarray  # bool: may still receive a perk from this brand
    observed_topic: np.ndarray | None = None  # topic share of recent posts alone (region ignored)

    @property
    def topic_only(self) -> np.ndarray:
        """Observed relevance ignoring where users live (falls back to observed_relevance)."""
        return self.observed_relevance if self.observed_topic is None else self.observed_topic


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: unknown keys are errors, values strict and finite
    (no ``true`` or ``'10'`` for a number, no ``.inf``/``.nan``), as in every scenario section."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    kind: str


@dataclass(frozen=True)
class Lever:
    """One strategy parameter the classroom dashboard shows as a control (its key is ``param``;
    strategies with a parameter of the same name share the control)."""

    param: str  # the parameter, a field of the strategy's Params
    label: str  # the control's label
    control: Literal["int", "float", "choice", "bool"] = "int"  # slider (int/float), select, box
    min: float = 0
    max: float = 100
    step: float = 1
    choices: tuple[Any, ...] = ()  # the values of a "choice" control
    follows: str = ""  # "perks": no control of its own, it takes the dashboard's Perks value


def words(value: Any) -> str:
    """A parameter value as written in a scenario (as the report's ``fmt_value``): 63.0 → 63."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


class Strategy:
    """Base class. Subclasses set ``name``, ``Params`` and ``argument`` and implement ``allocate``.

    Everything else has a generic default: what the model asks (``budget``, ``cost``,
    ``cutoff``, ``paid``, ``transparency``, ``mention_chance``) and how the views describe the
    strategy (``describe``, ``rule_sentence``, ``score_bar``, ``another_setting``,
    ``why_least_pout``, ``ranks_by_score``, ``finds_posters_only``, ``suggestion``, ``levers``,
    ``rule_label``, ``on_dashboard``) — docs/howto/custom-strategy.md lists them.
    """

    name: ClassVar[str]
    Params: ClassVar[type[StrategyParams]]
    argument: ClassVar[str] = ""  # which side of the debate the strategy stands for
    paid: ClassVar[bool] = True  # recipients get a paid perk (False: personal contact only)
    transparency: ClassVar[float] = 0.0  # default rule transparency (docs/model.md §5.5)
    ranks_by_score: ClassVar[bool] = False  # picks by the public score: someone can just miss
    finds_posters_only: ClassVar[bool] = False  # a search of posts: lurkers cannot be found
    # another rule for the report's "things to try": (the strategy as written after
    # ``--set campaigns[0].strategy=``, why try it); offered by ``suggestion_rank``, lowest first
    suggestion: ClassVar[tuple[str, str] | None] = None
    suggestion_rank: ClassVar[int] = 100
    levers: ClassVar[tuple[Lever, ...]] = ()  # the parameters the dashboard lets a class set
    on_dashboard: ClassVar[bool] = True  # offered in the dashboard's strategy list

    def __init__(self, params: StrategyParams):
        self.params = params

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        """Return the indices of up to ``k`` eligible users to pick, best first."""
        raise NotImplementedError

    def budget(self, perks: int) -> int:
        """How many users one wave contacts, given the campaign's perks per wave."""
        return perks

    def cost(self, followers: np.ndarray, perk_cost: Any) -> float:
        """What picking users with these follower counts costs.

        ``perk_cost`` is the campaign's ``perk_cost`` (``fixed`` + ``per_follower`` × followers
        per perk, docs/model.md §5.2).
        """
        return float(followers.size * perk_cost.fixed + perk_cost.per_follower * followers.sum())

    def cutoff(self, c: Candidates, picked: np.ndarray) -> float | None:
        """The score excluded users were measured against, if the rule is a score rule."""
        return None

    def mention_chance(self) -> float:
        """For a strategy that pays no perk (``paid = False``): the chance that a contact
        mentions the brand, before it is multiplied by their relevance (docs/model.md §5.3)."""
        return 1.0

    # --- how the views describe the strategy (plain words, no views imported) ---------------

    def describe(self, topic: str, region: str) -> str:
        """The rule in plain words, for the report ("Who gets them: …"). ``topic``: the brand's
        topic in words; ``region``: its region in words, ``""`` for a national campaign."""
        params = self.params.model_dump(exclude={"kind"})
        return f"the custom strategy '{self.name}'" + (f" ({params})" if params else "")

    def rule_sentence(self, facts: Mapping[str, Any]) -> str:
        """The rule in one user's explanation (``perksim explain``), from the facts of the wave
        that picked them (else the first): ``score``, ``picked`` (theirs), ``budget``,
        ``eligible_count``, ``picked_count``, ``cutoff``, ``at_or_above_cutoff``,
        ``lowest_picked_score``, ``lowest_picked_relevance`` (None when nobody was picked)."""
        return f"The rule: strategy '{self.name}'."

    def score_bar(self) -> float | None:
        """The score a user needs to be eligible, for a rule with a fixed bar (the report's
        closest miss is measured against it)."""
        return None

    def another_setting(self) -> tuple[str, str, Any] | None:
        """(why, parameter, value): another value of one of its own parameters worth a run, for
        the report's "things to try" (None: nothing to suggest)."""
        return None

    @classmethod
    def why_least_pout(cls, variant: str, values: str) -> str:
        """Why ``variant`` (this strategy), whose excluded fans pout least (``values``: the
        `pout_fans` of each variant), does so — a note for the report, or ``""``."""
        return ""

    def rule_label(self) -> str:
        """The rule in a few words, for the dashboard's "Running: …" line."""
        return self.name
