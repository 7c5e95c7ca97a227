"""What the strategies and campaigns are, in plain words — and every other sentence of the
report that depends on which allocation strategy a campaign uses.

The strategy-specific words are the strategies' own (:mod:`simulator.model.strategies`):
these functions look the strategy up by its ``kind`` in the registry and ask it, so a
plug-in strategy is described in its own words. A kind that is not registered gets the
generic wording (its kind and parameters as written)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

from simulator.model.population import NATIONAL
from simulator.model.strategies import (
    Strategy,
    StrategyParams,
    make_strategy,
    registry,
    validate_params,
)
from simulator.views.report.vocabulary import fmt, fmt_value, join

if TYPE_CHECKING:
    from simulator.scenario.schema import Campaign


def strategy_params(strategy: Any) -> dict[str, Any]:
    """A strategy's parameters with their defaults filled in (as the model uses them): of a
    campaign's typed strategy, or of a ``{kind: …}`` mapping."""
    if isinstance(strategy, StrategyParams):
        return strategy.model_dump()
    if not isinstance(strategy, dict):
        return {"kind": str(strategy)}
    try:
        return validate_params(strategy).model_dump()
    except Exception:  # an unknown custom strategy: describe what is written
        return dict(strategy)


def strategy_class(kind: Any) -> type[Strategy] | None:
    """The registered strategy of this kind (None: not registered in this process)."""
    return registry().get(kind) if isinstance(kind, str) else None


def strategy_object(params: dict[str, Any]) -> Strategy | None:
    """The strategy of these parameters (as :func:`strategy_params` gives them), to ask for its
    words; None when its kind is not registered. Parameters that do not validate (a folder
    written by another version) are taken as written."""
    cls = strategy_class(params.get("kind"))
    if cls is None:
        return None
    try:
        return make_strategy(validate_params(params))
    except Exception:
        return cls(cls.Params.model_construct(**params))


def describe_strategy(strategy: Any, campaign: Campaign | None = None) -> str:
    """The allocation rule in plain words (the strategy's own, see ``Strategy.describe``), for
    ``campaign``'s topic and region (without one: the brand's topic, nationally)."""
    s = strategy_params(strategy)
    kind = s.get("kind")
    topic = topic_words(campaign.topic if campaign is not None else "the brand's topic")
    region = campaign.region if campaign is not None else NATIONAL
    rule = strategy_object(s)
    if rule is not None:
        return rule.describe(topic, "" if region == NATIONAL else region_words(region))
    params = {k: v for k, v in s.items() if k != "kind"}
    return f"the custom strategy '{kind}'" + (f" ({params})" if params else "")


def topic_words(topic: Any) -> str:
    """A campaign's topic in words: its name, or a mix with each topic's weight."""
    if isinstance(topic, dict):
        return " and ".join(f"{k} ({fmt_value(v)})" for k, v in topic.items())
    return str(topic)


def region_words(region: str) -> str:
    """A region in words (``los_angeles`` → ``Los Angeles``; national → the whole country)."""
    return "the whole country (national)" if region == NATIONAL else region.replace("_", " ").title()


def exclusivity_words(e: float) -> str:
    """How exclusive the offer is framed, in words, from ``exclusivity`` (0–1)."""
    if e <= 0:
        return "framed as an open offer (exclusivity 0)"
    if e >= 1:
        return "framed as exclusive, invitation only (exclusivity 1)"
    return f"framed as partly exclusive (exclusivity {fmt_value(e)} on a 0–1 scale)"


def describe_campaign(c: Campaign) -> str:
    """One campaign (brand) in plain words."""
    when = (f"on day {c.start}" if c.waves == 1 else
            f"in {c.waves} waves every {c.wave_every} days from day {c.start}")
    if not pays_perks(c.strategy.kind):
        budget = "contacts users"
    else:
        cost = c.perk_cost
        per_follower = (f" plus {fmt_value(cost.per_follower)} per follower of the recipient"
                        if cost.per_follower else "")
        budget = f"hands out {c.perks} perks worth {fmt_value(cost.fixed)}{per_follower} each"
    mention = {"none": "does not ask recipients to mention it",
               "recommended": "recommends that recipients mention it",
               "required": "requires recipients to mention it"}[c.mention]
    disclosed = "labelled as paid (#ad)" if c.disclosure else "not labelled as paid"
    rules = ("" if c.rule_transparency is None else
             f"; rule transparency {fmt_value(c.rule_transparency)} (0 opaque … 1 published)")
    return (f"**{c.brand}** (topic {topic_words(c.topic)}, region "
            f"{region_words(c.region)}) {budget} {when}, {mention} "
            f"({disclosed}), {exclusivity_words(c.exclusivity)}{rules}. "
            f"Who gets them: {describe_strategy(c.strategy, c)}.")


def describe_change(path: str, value: Any) -> str:
    """``campaigns[0].strategy = {kind: relevance}`` as inline Markdown."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    return f"`{path} = {text}`"


# --- what depends on the strategy elsewhere in the report -------------------------------------------


def pays_perks(kind: Any) -> bool:
    """Whether the strategy hands out the campaign's perks (outreach contacts users instead)."""
    cls = strategy_class(kind)
    return True if cls is None else cls.paid


def ranks_by_score(kind: Any) -> bool:
    """Whether the strategy picks by the Klout-like score, so that someone can just miss."""
    cls = strategy_class(kind)
    return False if cls is None else cls.ranks_by_score


def score_bar(params: dict[str, Any]) -> float | None:
    """The score a user needs to be eligible, for a strategy with a bar."""
    rule = strategy_object(params)
    return None if rule is None else rule.score_bar()


def miss_words(params: dict[str, Any], score: float) -> str:
    """How far the closest miss was from a perk (``score`` is theirs)."""
    bar = score_bar(params)
    if bar is None:
        return ", the highest score without a perk"
    return f", {fmt(bar - score)} points under the bar of {fmt_value(bar)}"


def allocation_words(kind: Any) -> tuple[str, str, str]:
    """(left out, chosen, the role of the least relevant one chosen) for telling users."""
    if not pays_perks(kind):
        return "not contacted", "contacted", "An irrelevant contact"
    return "no perk", "got a perk", "An irrelevant recipient"


def least_pout_words(kind: Any, variant: str, values: str) -> str:
    """Why ``variant``, whose excluded fans pout least (``values``: the `pout_fans` of each
    variant), does so — for the strategies that can say (the lottery), else ``""``."""
    cls = strategy_class(kind)
    return "" if cls is None else cls.why_least_pout(variant, values)


def coverage_gap_words(variants: list[str], kinds: dict[str, Any]) -> str:
    """Why a group got no perk under ``variants``: `` A search (…) can only find users who post
    about the topic, …`` when some of them search, else ``""``."""
    searched = [v for v in variants
                if (cls := strategy_class(kinds.get(v))) is not None and cls.finds_posters_only]
    return (f" A search ({join(searched)}) can only find users who post about the topic, "
            "and lurkers rarely post." if searched else "")


class OtherRules:
    """(kind, how to write it after --set campaigns[0].strategy=, why try it) of every
    registered strategy with a ``suggestion``, in the order offered (``suggestion_rank``, then
    registration) — read from the registry each time it is iterated, plug-ins included."""

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        ranked = sorted((cls for cls in registry().values() if cls.suggestion is not None),
                        key=lambda cls: cls.suggestion_rank)
        return iter([(cls.name, *cls.suggestion) for cls in ranked if cls.suggestion])


OTHER_RULES = OtherRules()


def another_setting(params: dict[str, Any]) -> tuple[str, str, Any] | None:
    """(why, parameter, value): another value of the strategy's own parameter worth a run, for
    strategies that have one to suggest."""
    rule = strategy_object(params)
    return None if rule is None else rule.another_setting()
