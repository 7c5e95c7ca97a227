"""Allocation strategies: who gets the perks (docs/model.md §5.2).

Each strategy is a small class with a ``Params`` model (its scenario parameters, with
ranges and defaults — unknown parameters are errors) and an ``allocate`` method that sees
only what a brand could see: public scores, follower counts, regions and what users post
about (never their true interests). Third parties add strategies with the
``simulator.model.strategies`` entry point (see docs/howto/custom-strategy.md).

A strategy also describes itself — the report's sentence about its rule, the rule sentence of
one user's explanation, the dashboard's levers — so that a plug-in strategy is described in
its own words everywhere. That wording is data of the strategy: plain strings, no imports from
the views. The base class and its hooks are in :mod:`simulator.model.strategy_base`; this
module re-exports them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Annotated, Any, Literal, override

import numpy as np
from pydantic import Field
from pydantic_core import PydanticCustomError

from simulator.model.strategy_base import Candidates, Lever, Strategy, StrategyParams, words

__all__ = ["ENTRY_POINT_GROUP", "MAX_COST", "Candidates", "Fixed", "Hybrid", "Lever", "Lottery",
           "Outreach", "Relevance", "ScoreThreshold", "Strategy", "StrategyParams", "TopFollowers",
           "TopScore", "make_strategy", "register", "registry", "validate_params", "words"]

ENTRY_POINT_GROUP = "simulator.strategies"
MAX_COST = 1e12  # as simulator.scenario.schema.MAX_COST (which imports this module)
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
    ranks_by_score = True
    levers = (Lever("threshold", "Score threshold", min=1, max=100, step=1),)

    class Params(StrategyParams):
        kind: Literal["score_threshold"]
        threshold: float = Field(63.0, ge=1.0, le=100.0, description="minimum score")
        pick: Literal["top", "random"] = Field("top", description="who gets a perk if too many pass")

    @override
    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        passing = c.eligible & (c.score >= self.params.threshold)
        if self.params.pick == "random":
            idx = np.flatnonzero(passing)
            return rng.permutation(idx)[:k]
        return _top(c.score, passing, k, rng)

    @override
    def cutoff(self, c: Candidates, picked: np.ndarray) -> float | None:
        return float(self.params.threshold)

    @override
    def describe(self, topic: str, region: str) -> str:
        pick = ("the highest scores get them" if self.params.pick == "top"
                else "a random draw among them gets them")
        return (f"a score threshold: users whose Klout-like score is at least "
                f"{words(self.params.threshold)} are eligible; if more pass than there are perks, "
                f"{pick}")

    @override
    def rule_sentence(self, facts: Mapping[str, Any]) -> str:
        bar = self.params.threshold
        gap = facts["score"] - bar
        where = (f"{-gap:.1f} points below it" if gap < 0 else f"{gap:.1f} points above it")
        extra = ""
        if gap >= 0 and not facts["picked"]:
            extra = (f"; {facts['at_or_above_cutoff']} users passed for {facts['budget']} perks, "
                     f"so not everyone who passed got one")
        return f"The rule: a score of at least {bar:g} — they were {where}{extra}."

    @override
    def score_bar(self) -> float | None:
        return float(self.params.threshold)

    @override
    def another_setting(self) -> tuple[str, str, Any] | None:
        bar = 55 if float(self.params.threshold) != 55 else 40
        return (f"Another bar in a single run: a score of at least {bar} "
                "(the airline-club threshold is 55, the lounge one 40):", "threshold", bar)

    @override
    def rule_label(self) -> str:
        return f"{self.name} ≥ {self.params.threshold:g}"


@register
class TopScore(Strategy):
    """Perks to the ``perks`` highest scores — pure reach buying, no fixed bar.

    Stands for: the influentials hypothesis (a few high-reach users drive spread).
    """

    name = "top_score"
    argument = "buy the biggest scores"
    ranks_by_score = True
    suggestion = ("{kind: top_score}", "simply the highest scores")
    suggestion_rank = 4

    class Params(StrategyParams):
        kind: Literal["top_score"]

    @override
    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        return _top(c.score, c.eligible, k, rng)

    @override
    def cutoff(self, c: Candidates, picked: np.ndarray) -> float | None:
        return float(c.score[picked].min()) if picked.size else None

    @override
    def describe(self, topic: str, region: str) -> str:
        return "the highest scores: the users with the top Klout-like scores, whatever they post about"

    @override
    def rule_sentence(self, facts: Mapping[str, Any]) -> str:
        low = facts.get("lowest_picked_score")
        return (f"The rule: the {facts['budget']} highest scores; the lowest recipient scored "
                f"{low:.1f}, a gap of {facts['score'] - low:+.1f}." if low is not None
                else "The rule: the highest scores.")


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

    @override
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
    finds_posters_only = True
    suggestion = ("{kind: relevance}", "the critics' search for engaged fans")
    suggestion_rank = 1

    class Params(StrategyParams):
        kind: Literal["relevance"]
        region_aware: bool = Field(True, description="false: ignore where users live")

    @override
    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        rel = c.observed_relevance if self.params.region_aware else c.topic_only
        return _top(rel, c.eligible & (rel > 0), k, rng)

    @override
    def describe(self, topic: str, region: str) -> str:
        if self.params.region_aware and region:
            where = f", users outside {region} counting less"
        elif region:
            where = ", ignoring where they live"
        else:
            where = ""
        return f"a search for engaged fans: the users whose recent posts are most about {topic}{where}"

    @override
    def rule_sentence(self, facts: Mapping[str, Any]) -> str:
        return "The rule: the users whose posts are most about the brand's topic."


@register
class Hybrid(Strategy):
    """Rank by ``alpha·score/100 + (1−alpha)·observed relevance``.

    Stands for: a compromise — some reach, some fit. ``alpha=1`` is ``top_score``,
    ``alpha=0`` is ``relevance`` (but without excluding silent users).
    """

    name = "hybrid"
    argument = "a mix of reach and relevance"
    suggestion = ("{kind: hybrid, alpha: 0.5}", "a compromise between score and relevance")
    suggestion_rank = 2

    class Params(StrategyParams):
        kind: Literal["hybrid"]
        alpha: float = Field(0.5, ge=0.0, le=1.0, description="weight of the score")

    @override
    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        a = self.params.alpha
        return _top(a * c.score / 100.0 + (1 - a) * c.observed_relevance, c.eligible, k, rng)

    @override
    def describe(self, topic: str, region: str) -> str:
        alpha = float(self.params.alpha)
        return (f"a hybrid: users ranked by {words(alpha)} × score/100 + "
                f"{words(round(1 - alpha, 6))} × observed relevance")

    @override
    def rule_sentence(self, facts: Mapping[str, Any]) -> str:
        return f"The rule: a mix of score and observed relevance (alpha {self.params.alpha})."


@register
class Lottery(Strategy):
    """A uniform draw among all eligible users — the inclusive baseline.

    Stands for: fairness of opportunity; everyone has the same chance, and the rule is
    public, so being left out feels less like a verdict (rule transparency 0.8 by default).
    """

    name = "lottery"
    argument = "inclusive: everyone has the same chance"
    transparency = 0.8
    suggestion = ("{kind: lottery}", "a lottery, the inclusive baseline")
    suggestion_rank = 3

    class Params(StrategyParams):
        kind: Literal["lottery"]

    @override
    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        return rng.permutation(np.flatnonzero(c.eligible))[:k]

    @override
    def describe(self, topic: str, region: str) -> str:
        return "a lottery: a uniform random draw among all users"

    @override
    def rule_sentence(self, facts: Mapping[str, Any]) -> str:
        chance = facts["picked_count"] / max(facts["eligible_count"], 1)
        return (f"The rule: a lottery — {facts['picked_count']} of {facts['eligible_count']} "
                f"eligible users drawn at random, a chance of {chance:.1%} each.")

    @classmethod
    @override
    def why_least_pout(cls, variant: str, values: str) -> str:
        name = "The lottery" + ("" if variant == "lottery" else f" ({variant})")
        return (f"{name} leaves the excluded fans least frustrated "
                f"(`pout_fans` {values}). In the model a lottery's "
                "recipients are drawn at random — mostly users with small audiences, so "
                "few fans see a perk — its rules are public unless set otherwise (rule "
                "transparency 0.8), which lowers the feeling of entitlement, and nobody "
                "'almost made it' past a score bar. Compare a lottery with opaque rules "
                "(`rule_transparency: 0`) to tell the allocation from the rule.")


@register
class Outreach(Strategy):
    """"Pick up the phone": contact a few of the most relevant users with at least median reach.

    Stands for: the critics' personal alternative. No perk is paid, so the mentions it
    yields are organic; its cost is staff time per contact (``contact_cost``).
    """

    name = "outreach"
    argument = "personal outreach to a few relevant people"
    paid = False
    finds_posters_only = True
    suggestion = ("{kind: outreach}", "'pick up the phone': contact ten relevant users, no perk paid")
    suggestion_rank = 5
    levers = (Lever("contacts", "Perks", min=0, max=150, follows="perks"),)  # contacts play the perks' part

    class Params(StrategyParams):
        kind: Literal["outreach"]
        contacts: int = Field(10, ge=0, le=100_000, description="people contacted per wave")
        contact_cost: float = Field(25.0, ge=0.0, le=MAX_COST, description="staff cost of one contact")
        response: float = Field(0.6, ge=0.0, le=1.0, description="chance a contact mentions (× fit)")

    @override
    def budget(self, perks: int) -> int:
        return self.params.contacts

    @override
    def cost(self, followers: np.ndarray, perk_cost: Any) -> float:
        return float(followers.size * self.params.contact_cost)

    @override
    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        reach_ok = c.followers >= np.median(c.followers)
        return _top(c.observed_relevance, c.eligible & reach_ok & (c.observed_relevance > 0), k, rng)

    @override
    def mention_chance(self) -> float:
        return self.params.response

    @override
    def describe(self, topic: str, region: str) -> str:
        return (f"personal outreach: staff contact the {self.params.contacts} users most relevant to "
                f"{topic} among those with at least the median number of followers; no perk is paid, "
                f"each contact costs {words(self.params.contact_cost)}")

    @override
    def rule_sentence(self, facts: Mapping[str, Any]) -> str:
        return ("The rule: the users whose posts are most about the brand's topic"
                " (with at least median followers).")


@register
class Fixed(Strategy):
    """Perks to a fixed list of user ids (for checks, teaching and what-if questions)."""

    name = "fixed"
    argument = "a hand-picked list"
    on_dashboard = False  # a list of user ids is no lever for a class

    class Params(StrategyParams):
        kind: Literal["fixed"]
        users: list[Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]] = Field(
            default_factory=list, description="user ids (0-based rows); ids that do not exist are skipped")

    @override
    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        ids = np.asarray(list(dict.fromkeys(u for u in self.params.users if 0 <= u < c.eligible.size)),
                         dtype=np.int64)  # each listed user once, in the order given
        return ids[c.eligible[ids]][:k] if ids.size else ids

    @override
    def describe(self, topic: str, region: str) -> str:
        return f"hand-picked users: {', '.join(str(u) for u in self.params.users)}"
