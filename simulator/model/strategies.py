"""Allocation strategies: who gets the perks (docs/model.md §5.2).

Each strategy is a small class with a ``Params`` model (its scenario parameters, with
ranges and defaults — unknown parameters are errors) and an ``allocate`` method that sees
only what a brand could see: public scores, follower counts, regions and what users post
about (never their true interests). Third parties add strategies with the
``simulator.model.strategies`` entry point (see docs/howto/custom-strategy.md).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

ENTRY_POINT_GROUP = "simulator.strategies"


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


MAX_COST = 1e12  # as simulator.scenario.schema.MAX_COST (which imports this module)


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: unknown keys are errors, values strict and finite
    (no ``true`` or ``'10'`` for a number, no ``.inf``/``.nan``), as in every scenario section."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    kind: str


class Strategy:
    """Base class. Subclasses set ``name``, ``Params`` and ``argument`` and implement ``allocate``."""

    name: ClassVar[str]
    Params: ClassVar[type[StrategyParams]]
    argument: ClassVar[str] = ""  # which side of the debate the strategy stands for
    paid: ClassVar[bool] = True  # recipients get a paid perk (False: personal contact only)
    transparency: ClassVar[float] = 0.0  # default rule transparency (docs/model.md §5.5)

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


_REGISTRY: dict[str, type[Strategy]] = {}
_ENTRY_POINTS_LOADED = False


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy available to scenario files by its ``name``."""
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__name__} needs a class attribute 'name'")
    _REGISTRY[cls.name] = cls
    return cls


def registry() -> dict[str, type[Strategy]]:
    """All strategies: built-ins plus those registered through entry points."""
    global _ENTRY_POINTS_LOADED
    if not _ENTRY_POINTS_LOADED:
        _ENTRY_POINTS_LOADED = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            cls = ep.load()
            _REGISTRY.setdefault(getattr(cls, "name", ep.name), cls)
    return dict(_REGISTRY)


def validate_params(value: Any) -> StrategyParams:
    """Validate a scenario's ``strategy:`` mapping against the named strategy's parameters."""
    if isinstance(value, StrategyParams):
        return value
    known = sorted(registry())
    if not isinstance(value, dict) or "kind" not in value:
        raise PydanticCustomError(
            "strategy_kind", "a strategy is a mapping with 'kind: NAME'; kinds: {kinds}",
            {"kinds": ", ".join(known)},
        )
    kind = value["kind"]
    if not isinstance(kind, str):
        raise PydanticCustomError(
            "strategy_kind", "a strategy's kind is a name; kinds: {kinds}", {"kinds": ", ".join(known)})
    if kind not in _REGISTRY and kind not in registry():
        close = difflib.get_close_matches(str(kind), known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise PydanticCustomError(
            "strategy_kind", "unknown strategy kind '{kind}'; allowed: {kinds}{hint}",
            {"kind": str(kind), "kinds": ", ".join(known), "hint": hint},
        )
    return registry()[kind].Params.model_validate(value)


def make_strategy(params: StrategyParams) -> Strategy:
    """Instantiate the strategy that ``params`` belongs to."""
    return registry()[params.kind](params)


def _top(values: np.ndarray, eligible: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``k`` largest eligible values; ties broken at random."""
    idx = np.flatnonzero(eligible)
    if k <= 0 or idx.size == 0:
        return np.empty(0, dtype=np.int64)
    jitter = rng.random(idx.size)
    order = np.lexsort((jitter, -values[idx]))
    return idx[order[:k]]


# --- the built-in strategies ------------------------------------------------------------------


@register
class ScoreThreshold(Strategy):
    """Perks to users whose score passes a threshold — the Klout Perks rule.

    Stands for: influence measured as volume and reach is what a brand should buy.
    If more users pass than there are perks, the highest scores (``pick: top``) or a random
    draw among the eligible (``pick: random``) get them. Thresholds seen in real programmes:
    40 (an airline lounge), 55 (an airline club), 63 (≈ top 5% after Klout's 2012 recalibration).
    """

    name = "score_threshold"
    argument = "exclusivity by influence score (the Klout Perks model)"

    class Params(StrategyParams):
        kind: Literal["score_threshold"]
        threshold: float = Field(63.0, ge=1.0, le=100.0, description="minimum score")
        pick: Literal["top", "random"] = Field("top", description="who gets a perk if too many pass")

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        passing = c.eligible & (c.score >= self.params.threshold)
        if self.params.pick == "random":
            idx = np.flatnonzero(passing)
            return rng.permutation(idx)[:k]
        return _top(c.score, passing, k, rng)

    def cutoff(self, c: Candidates, picked: np.ndarray) -> float | None:
        return float(self.params.threshold)


@register
class TopScore(Strategy):
    """Perks to the ``perks`` highest scores — pure reach buying, no fixed bar.

    Stands for: the influentials hypothesis (a few high-reach users drive spread).
    """

    name = "top_score"
    argument = "buy the biggest scores"

    class Params(StrategyParams):
        kind: Literal["top_score"]

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        return _top(c.score, c.eligible, k, rng)

    def cutoff(self, c: Candidates, picked: np.ndarray) -> float | None:
        return float(c.score[picked].min()) if picked.size else None


@register
class TopFollowers(Strategy):
    """Perks to the users with the most followers — the high-degree heuristic.

    Stands for: buying the biggest audiences outright (the "influentials" of Watts & Dodds
    2007; the high-degree seeding of Kempe, Kleinberg & Tardos 2003). Unlike ``top_score`` it
    ignores activity and reactions: a silent user with many followers is picked too.
    """

    name = "top_followers"
    argument = "buy the biggest audiences"

    class Params(StrategyParams):
        kind: Literal["top_followers"]

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        return _top(c.followers.astype(float), c.eligible, k, rng)


@register
class Relevance(Strategy):
    """Perks to the users whose posts are most about the brand's topic, in its region.

    Stands for: the critics' "plain search for engaged fans". Search sees only what users
    post: people who never post (most lurkers) cannot be found. With ``region_aware: false``
    the search ignores where people live — the Los Angeles game offered in Phoenix.
    """

    name = "relevance"
    argument = "search for engaged fans (the critics' alternative)"

    class Params(StrategyParams):
        kind: Literal["relevance"]
        region_aware: bool = Field(True, description="false: ignore where users live")

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        rel = c.observed_relevance if self.params.region_aware else c.topic_only
        return _top(rel, c.eligible & (rel > 0), k, rng)


@register
class Hybrid(Strategy):
    """Rank by ``alpha·score/100 + (1−alpha)·observed relevance``.

    Stands for: a compromise — some reach, some fit. ``alpha=1`` is ``top_score``,
    ``alpha=0`` is ``relevance`` (but without excluding silent users).
    """

    name = "hybrid"
    argument = "a mix of reach and relevance"

    class Params(StrategyParams):
        kind: Literal["hybrid"]
        alpha: float = Field(0.5, ge=0.0, le=1.0, description="weight of the score")

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        a = self.params.alpha
        return _top(a * c.score / 100.0 + (1 - a) * c.observed_relevance, c.eligible, k, rng)


@register
class Lottery(Strategy):
    """A uniform draw among all eligible users — the inclusive baseline.

    Stands for: fairness of opportunity; everyone has the same chance, and the rule is
    public, so being left out feels less like a verdict (rule transparency 0.8 by default).
    """

    name = "lottery"
    argument = "inclusive: everyone has the same chance"
    transparency = 0.8

    class Params(StrategyParams):
        kind: Literal["lottery"]

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        return rng.permutation(np.flatnonzero(c.eligible))[:k]


@register
class Outreach(Strategy):
    """"Pick up the phone": contact a few of the most relevant users with at least median reach.

    Stands for: the critics' personal alternative. No perk is paid, so the mentions it
    yields are organic; its cost is staff time per contact (``contact_cost``).
    """

    name = "outreach"
    argument = "personal outreach to a few relevant people"
    paid = False

    class Params(StrategyParams):
        kind: Literal["outreach"]
        contacts: int = Field(10, ge=0, le=100_000, description="people contacted per wave")
        contact_cost: float = Field(25.0, ge=0.0, le=MAX_COST, description="staff cost of one contact")
        response: float = Field(0.6, ge=0.0, le=1.0, description="chance a contact mentions (× fit)")

    def budget(self, perks: int) -> int:
        return self.params.contacts

    def cost(self, followers: np.ndarray, perk_cost: Any) -> float:
        return float(followers.size * self.params.contact_cost)

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        reach_ok = c.followers >= np.median(c.followers)
        return _top(c.observed_relevance, c.eligible & reach_ok & (c.observed_relevance > 0), k, rng)


@register
class Fixed(Strategy):
    """Perks to a fixed list of user ids (for checks, teaching and what-if questions)."""

    name = "fixed"
    argument = "a hand-picked list"

    class Params(StrategyParams):
        kind: Literal["fixed"]
        users: list[Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]] = Field(
            default_factory=list, description="user ids (0-based rows); ids that do not exist are skipped")

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        ids = np.asarray(list(dict.fromkeys(u for u in self.params.users if 0 <= u < c.eligible.size)),
                         dtype=np.int64)  # each listed user once, in the order given
        return ids[c.eligible[ids]][:k] if ids.size else ids
