"""What the strategies and campaigns are, in plain words — and every other sentence of the
report that depends on which allocation strategy a campaign uses.

All strategy-specific prose lives here, keyed by the strategy's ``kind``, so that it can move
into the strategy classes (:mod:`simulator.model.strategies`) in one step; a plug-in strategy
gets the generic wording (its kind and parameters as written)."""

from __future__ import annotations

from typing import Any

import yaml

from simulator.views.report.vocabulary import fmt, fmt_value, join


def strategy_params(strategy: Any) -> dict[str, Any]:
    """A strategy's parameters with their defaults filled in (as the model uses them)."""
    if not isinstance(strategy, dict):
        return {"kind": str(strategy)}
    try:
        from simulator.model.strategies import validate_params

        return validate_params(strategy).model_dump()
    except Exception:  # an unknown custom strategy: describe what is written
        return dict(strategy)


def describe_strategy(strategy: Any, campaign: dict[str, Any] | None = None) -> str:
    """The allocation rule in plain words."""
    s = strategy_params(strategy)
    c = campaign or {}
    kind = s.get("kind")
    topic = topic_words(c.get("topic", "the brand's topic"))
    region = c.get("region", "national")
    if kind == "score_threshold":
        pick = ("the highest scores get them" if s.get("pick", "top") == "top"
                else "a random draw among them gets them")
        bar = fmt_value(s.get("threshold", 63))
        return (f"a score threshold: users whose Klout-like score is at least {bar} are eligible; "
                f"if more pass than there are perks, {pick}")
    if kind == "top_score":
        return "the highest scores: the users with the top Klout-like scores, whatever they post about"
    if kind == "relevance":
        if s.get("region_aware", True) and region != "national":
            where = f", users outside {region_words(region)} counting less"
        elif region != "national":
            where = ", ignoring where they live"
        else:
            where = ""
        return f"a search for engaged fans: the users whose recent posts are most about {topic}{where}"
    if kind == "hybrid":
        alpha = float(s.get("alpha", 0.5))
        rest = fmt_value(round(1 - alpha, 6))
        return f"a hybrid: users ranked by {fmt_value(alpha)} × score/100 + {rest} × observed relevance"
    if kind == "lottery":
        return "a lottery: a uniform random draw among all users"
    if kind == "outreach":
        return (f"personal outreach: staff contact the {s.get('contacts', 10)} users most relevant to "
                f"{topic} among those with at least the median number of followers; no perk is paid, "
                f"each contact costs {fmt_value(s.get('contact_cost', 25))}")
    if kind == "fixed":
        return f"hand-picked users: {', '.join(str(u) for u in s.get('users', []))}"
    params = {k: v for k, v in s.items() if k != "kind"}
    return f"the custom strategy '{kind}'" + (f" ({params})" if params else "")


def topic_words(topic: Any) -> str:
    if isinstance(topic, dict):
        return " and ".join(f"{k} ({fmt_value(v)})" for k, v in topic.items())
    return str(topic)


def region_words(region: str) -> str:
    return "the whole country (national)" if region == "national" else region.replace("_", " ").title()


def exclusivity_words(e: float) -> str:
    if e <= 0:
        return "framed as an open offer (exclusivity 0)"
    if e >= 1:
        return "framed as exclusive, invitation only (exclusivity 1)"
    return f"framed as partly exclusive (exclusivity {fmt_value(e)} on a 0–1 scale)"


def describe_campaign(c: dict[str, Any]) -> str:
    """One campaign (brand) in plain words."""
    waves = int(c.get("waves", 1))
    when = (f"on day {c.get('start', 14)}" if waves == 1 else
            f"in {waves} waves every {c.get('wave_every', 7)} days from day {c.get('start', 14)}")
    kind = strategy_params(c.get("strategy", {})).get("kind")
    if not pays_perks(kind):
        budget = "contacts users"
    else:
        budget = (f"hands out {c.get('perks', 50)} perks worth {fmt_value(c.get('perk_value', 100))} "
                  "each")
    mention = {"none": "does not ask recipients to mention it",
               "recommended": "recommends that recipients mention it",
               "required": "requires recipients to mention it"}.get(c.get("mention"), "")
    disclosed = "labelled as paid (#ad)" if c.get("disclosure", True) else "not labelled as paid"
    transparency = c.get("rule_transparency")
    rules = ("" if transparency is None else
             f"; rule transparency {fmt_value(transparency)} (0 opaque … 1 published)")
    return (f"**{c.get('brand')}** (topic {topic_words(c.get('topic'))}, region "
            f"{region_words(c.get('region', 'national'))}) {budget} {when}, {mention} "
            f"({disclosed}), {exclusivity_words(float(c.get('exclusivity', 0.5)))}{rules}. "
            f"Who gets them: {describe_strategy(c.get('strategy', {}), c)}.")


def describe_change(path: str, value: Any) -> str:
    """``campaigns[0].strategy = {kind: relevance}`` as inline Markdown."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    return f"`{path} = {text}`"


# --- what depends on the strategy elsewhere in the report -------------------------------------------


def pays_perks(kind: Any) -> bool:
    """Whether the strategy hands out the campaign's perks (outreach contacts users instead)."""
    return kind != "outreach"


def ranks_by_score(kind: Any) -> bool:
    """Whether the strategy picks by the Klout-like score, so that someone can just miss."""
    return kind in ("score_threshold", "top_score")


def score_bar(params: dict[str, Any]) -> float | None:
    """The score a user needs to be eligible, for a strategy with a bar."""
    return float(params.get("threshold", 63)) if params.get("kind") == "score_threshold" else None


def miss_words(params: dict[str, Any], score: float) -> str:
    """How far the closest miss was from a perk (``score`` is theirs)."""
    bar = score_bar(params)
    if bar is None:
        return ", the highest score without a perk"
    return f", {fmt(bar - score)} points under the bar of {fmt_value(bar)}"


def allocation_words(kind: Any) -> tuple[str, str, str]:
    """(left out, chosen, the role of the least relevant one chosen) for telling users."""
    if kind == "outreach":
        return "not contacted", "contacted", "An irrelevant contact"
    return "no perk", "got a perk", "An irrelevant recipient"


def least_pout_words(kind: Any, variant: str, values: str) -> str:
    """Why ``variant``, whose excluded fans pout least (``values``: the `pout_fans` of each
    variant), does so — for the strategies the report can explain (the lottery), else ``""``."""
    if kind != "lottery":
        return ""
    name = "The lottery" + ("" if variant == "lottery" else f" ({variant})")
    return (f"{name} leaves the excluded fans least frustrated "
            f"(`pout_fans` {values}). In the model a lottery's "
            "recipients are drawn at random — mostly users with small audiences, so "
            "few fans see a perk — its rules are public unless set otherwise (rule "
            "transparency 0.8), which lowers the feeling of entitlement, and nobody "
            "'almost made it' past a score bar. Compare a lottery with opaque rules "
            "(`rule_transparency: 0`) to tell the allocation from the rule.")


def coverage_gap_words(variants: list[str], kinds: dict[str, Any]) -> str:
    """Why a group got no perk under ``variants``: `` A search (…) can only find users who post
    about the topic, …`` when some of them search, else ``""``."""
    searched = [v for v in variants if kinds.get(v) in ("relevance", "outreach")]
    return (f" A search ({join(searched)}) can only find users who post about the topic, "
            "and lurkers rarely post." if searched else "")


# (kind, how to write it after --set campaigns[0].strategy=, why try it), in the order offered
OTHER_RULES = [("relevance", "{kind: relevance}", "the critics' search for engaged fans"),
               ("hybrid", "{kind: hybrid, alpha: 0.5}", "a compromise between score and relevance"),
               ("lottery", "{kind: lottery}", "a lottery, the inclusive baseline"),
               ("top_score", "{kind: top_score}", "simply the highest scores"),
               ("outreach", "{kind: outreach}", "'pick up the phone': contact ten relevant users, "
                                                "no perk paid")]


def another_setting(params: dict[str, Any]) -> tuple[str, str, Any] | None:
    """(why, parameter, value): another value of the strategy's own parameter worth a run, for
    strategies that have one to suggest."""
    if params.get("kind") != "score_threshold":
        return None
    bar = 55 if float(params.get("threshold", 63)) != 55 else 40
    return (f"Another bar in a single run: a score of at least {bar} "
            "(the airline-club threshold is 55, the lounge one 40):", "threshold", bar)
