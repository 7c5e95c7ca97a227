"""Where every behavioural parameter comes from (docs/model.md §11).

A parameter is **measured** (its default reproduces a published number, or its direction is
a published finding and only its size is chosen), **calibrated** (set so the model reproduces
a published target; ``perksim check-model`` holds it), **assumed** (no empirical anchor: the
default is a choice and ``plausible`` is the range over which verdicts should be examined),
or a **setting** (a choice of what to study, not a claim about people). Every behavioural
field of a scenario has an entry here; the documentation's tables are checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("measured", "calibrated", "assumed", "setting")


@dataclass(frozen=True)
class Source:
    """The origin of one parameter's default."""

    kind: str
    anchor: str  # the citation and the number it rests on, or why nothing does
    plausible: tuple[float, float] | None = None  # range to examine (always for "assumed")


S = Source
MARKERLY = ("Markerly (2016), ~2 million Instagram accounts: like rate ≈ 8% below 1k followers, "
            "4% at 1k–10k, 2.4% at 10k–100k, 1.7% at 1M–10M — a log-log slope of 0.17–0.3")
SP2016 = "Steinhoff & Palmatier (2016), two experiments and a survey"
GOEL = ("Goel, Watts & Goldstein (2012): 70–95% of cascades are a single adoption and only "
        "1–4% reach beyond one degree (checked by perksim check-model)")

SOURCES: dict[str, Source] = {
    # --- attention and engagement -------------------------------------------------------------
    "behaviour.attention_beta": S(
        "measured", MARKERLY + ". Markerly's bins start at 1k followers; below that — most "
        "simulated users — the slope is extrapolated", (0.0, 0.5)),
    "behaviour.attention_v0": S(
        "calibrated", "with β = 0.25 a post reaches 32% of 100 followers and 25% of 250: page "
        "posts reached ≈ 16% of fans in 2012 (Ogilvy 2014); people's posts reach 61% of their "
        "friends over a month (Bernstein et al. 2013)", (0.3, 1.0)),
    "behaviour.base_engage": S(
        "assumed", "scales reactions; the score map is re-fitted to the population, so only "
        "differences between users matter", (0.5, 1.0)),
    # --- mentions -------------------------------------------------------------------------------
    "behaviour.base_paid": S("assumed", "scale of the paid-mention probability", (0.5, 1.0)),
    "behaviour.policy_paid.none": S(
        "assumed", "share of recipients who mention a perk nobody asked them to mention", (0.0, 0.3)),
    "behaviour.policy_paid.recommended": S(
        "assumed", "share who mention when asked to (Klout Perks asked recipients to)", (0.2, 0.7)),
    "behaviour.policy_paid.required": S(
        "assumed", "share who mention when it is a condition of the perk", (0.7, 1.0)),
    "behaviour.exclusivity_boost": S(
        "measured", SP2016 + ": exclusive rewards do not change the recipients' (targets') "
        "response, hence 0. Commodity theory (scarcity raises perceived value; Lynn 1991) "
        "argues for a positive effect: the defenders' case", (0.0, 1.0)),
    "behaviour.transparency_target_loss": S(
        "measured", SP2016 + ": rule clarity suppresses the recipients' positive response as "
        "well as bystanders' unfairness (direction published; size assumed)", (0.0, 0.6)),
    "behaviour.brand_talk": S(
        "assumed", "share of a fan's posts that mention this brand; 19% of tweets mention some "
        "brand (Jansen et al. 2009), so one brand's share is far lower", (0.002, 0.05)),
    "behaviour.base_organic": S(
        "calibrated", "with persuasion_organic and enthusiasm_decay sets how often an adopter "
        "passes it on: " + GOEL, (0.1, 0.6)),
    "behaviour.enthusiasm_decay": S(
        "calibrated", "how fast an adopter stops talking: " + GOEL, (0.5, 0.95)),
    "behaviour.organic_mentions": S(
        "setting", "'once' is the reduced setting of §10 (the textbook independent cascade)"),
    "behaviour.base_negative": S(
        "assumed", "chance per step that a pouting user complains, per unit of pout", (0.01, 0.2)),
    # --- persuasion -----------------------------------------------------------------------------
    "behaviour.persuasion_organic": S("calibrated", GOEL, (0.1, 0.5)),
    "behaviour.persuasion_paid": S(
        "measured", "paid endorsements persuade less than organic ones (Eisend et al. 2020: "
        "disclosed sponsorship lowers credibility); direction published, size assumed",
        (0.05, 0.25)),
    "behaviour.disclosure_discount": S(
        "measured", "Eisend et al. (2020) meta-analysis: disclosure has a small negative "
        "effect on credibility and brand responses (direction published, size assumed)",
        (0.7, 1.0)),
    "behaviour.recognition": S(
        "assumed", "share of viewers who see through an unlabelled paid mention; disclosure "
        "raises recognition (Eisend et al. 2020), so without it recognition is partial",
        (0.1, 0.6)),
    "behaviour.negative_impact": S(
        "assumed", "affinity lost per complaint seen", (0.1, 0.5)),
    "behaviour.region_mismatch": S(
        "assumed", "relevance of a Los Angeles perk to someone elsewhere (the Phoenix reader)",
        (0.0, 0.6)),
    "behaviour.fan_quantile": S(
        "setting", "who counts as the brand's target: the most relevant 10%", (0.05, 0.2)),
    # --- pout -----------------------------------------------------------------------------------
    "behaviour.publicity": S(
        "assumed", "chance per step to hear of a programme that gave perks (press, the "
        "programme's own page); no data: 0 makes pout come only from perks seen in one's feed",
        (0.0, 0.05)),
    "behaviour.pout_decay": S("assumed", "how long being passed over stays felt (half-life "
                              "13.5 steps at 0.95)", (0.85, 0.99)),
    "behaviour.pout_kappa": S("assumed", "how fast more sightings saturate", (0.2, 1.5)),
    "behaviour.pout_threshold": S("assumed", "pout at which users complain", (0.2, 0.5)),
    "behaviour.entitlement_fan": S(
        "assumed", "entitlement of a fan far from any bar, relative to a near miss (1); near "
        "misses hurt more (Medvec et al. 1995: silver medallists were less happy than bronze "
        "medallists; Crosby 1976: entitlement is a precondition)", (0.2, 0.9)),
    "behaviour.exclusivity_pout": S(
        "measured", SP2016 + ": exclusive rewards alleviate the negative bystander effect "
        "(direction published, size assumed); positive values are the specification's "
        "opposite sketch (exclusivity sharpens pout)", (-0.6, 0.5)),
    "behaviour.closeness_scale": S("assumed", "score points over which 'almost made it' fades",
                                   (2.0, 10.0)),
    "behaviour.transparency_relief": S(
        "measured", SP2016 + ": rule clarity suppresses the negative bystander effect "
        "(direction published, size assumed)", (0.3, 0.9)),
    # --- gaming ---------------------------------------------------------------------------------
    "behaviour.gaming_post_boost": S(
        "assumed", "extra posting of a pouting score-chaser; posting volume alone buys "
        "followers but Klout weighed reactions per post", (0.0, 2.0)),
    "behaviour.gaming_reciprocity": S(
        "assumed", "extra reactions elicited by @-mentions, follow-backs and 'engagement pods': "
        "the channel reported to move Klout scores (a bot with 118 followers reached 57 by "
        "@-mentioning people, 2011 trade press; Messias et al. 2013)", (0.0, 5.0)),
    "behaviour.gaming_quality_loss": S("assumed", "how much worse gamed posts are", (0.0, 0.8)),
    "behaviour.gaming_max_rate_factor": S("assumed", "bound on extra posting", (1.5, 5.0)),
    "behaviour.gaming_min_quality_factor": S("assumed", "bound on lost quality", (0.1, 0.6)),
    # --- the population -----------------------------------------------------------------------
    "population.homophily": S(
        "assumed", "no anchor for topical homophily among a brand's fans; the achieved "
        "assortativity is measured and reported for every run", (0.2, 1.0)),
    "population.homophily_passes": S("setting", "smoothing rounds that form a neighbourhood's "
                                     "topic"),
    "population.trait_concentration": S("assumed", "spread of traits around archetype means",
                                        (5.0, 30.0)),
    "population.pout_sensitivity": S("assumed", "mean of ρ_i, how much being passed over hurts",
                                     (0.2, 0.8)),
    "population.archetypes.*.post_rate": S(
        "assumed", "the specification's sketch (6 / 2 / 0.6 / 0.1 / 4 posts a day); posting "
        "is heavy-tailed on Twitter (the top 10% of users wrote about 90% of tweets; Heil & "
        "Piskorski 2009)"),
    "population.archetypes.*.share": S("assumed", "the mix of posting habits"),
    "population.archetypes.*.quality": S("assumed", "mean content quality by habit"),
    "population.archetypes.*.topic_spread": S("assumed", "how focused interests are by habit"),
    "population.archetypes.*.susceptibility": S("assumed", "mean persuadability by habit"),
    "population.archetypes.*.gaming": S("assumed", "readiness to chase the score by habit"),
    # --- the score ------------------------------------------------------------------------------
    "score.calibration.mean": S(
        "measured", "Klout after its 2012 recalibration: mean ≈ 40 (trade press; Klout said "
        "the average was about 20 before it)"),
    "score.calibration.top_score": S(
        "measured", "63 ≈ top 5% after the 2012 recalibration (trade press)"),
    "score.calibration.top_share": S("measured", "5% at 63 or more (trade press)"),
    "score.weights.activity": S(
        "assumed", "the weights set who ranks high, not the distribution (the map is fitted); "
        "Klout counted reactions per post and distinct reactors above volume", (0.1, 0.5)),
    "score.weights.reach": S(
        "assumed", "Klout: follower count is 'a tiny component' (Klout staff, 2012)", (0.1, 0.5)),
    "score.weights.amplification": S(
        "assumed", "reactions per post and distinct reactors (Klout's descriptions; Rao et "
        "al. 2015)", (0.3, 0.8)),
    "score.weights.network": S("assumed", "off by default (see §5.1's caution)", (0.0, 0.2)),
    "score.window": S("assumed", "Klout used a 90-day window; 14 steps keep runs short",
                      (7.0, 90.0)),
    "score.warmup": S("setting", "steps run before step 0 to start the score"),
    # --- strategies -----------------------------------------------------------------------------
    "strategy.score_threshold.threshold": S(
        "measured", "perk thresholds seen: 40 (a Cathay Pacific lounge, 2012), 55, and 63 ≈ "
        "the top 5%"),
    "strategy.hybrid.alpha": S("setting", "the weight a brand gives the score over relevance"),
    "strategy.outreach.contacts": S("setting", "how many people the brand's staff call per wave"),
    "strategy.outreach.response": S("assumed", "share of contacted people who mention, × fit",
                                    (0.3, 0.9)),
    "strategy.outreach.contact_cost": S("assumed", "staff cost of one contact, in perk units",
                                        (5.0, 100.0)),
}


def source(path: str) -> Source:
    """The source of a parameter, by dotted path (archetype fields as ``population.archetypes.*.x``)."""
    return SOURCES[path]


def default(path: str) -> str:
    """The default of a parameter, as the documentation shows it."""
    from simulator.model.strategies import registry
    from simulator.scenario import schema as sc

    parts = path.split(".")
    if parts[0] == "strategy":
        value = registry()[parts[1]].Params.model_fields[parts[2]].default
    elif parts[:2] == ["population", "archetypes"]:
        return " / ".join(f"{v[parts[3]]:g}" for v in sc.DEFAULT_ARCHETYPES.values())
    else:
        model: type = {"behaviour": sc.Behaviour, "population": sc.Population, "score": sc.Score}[parts[0]]
        value: object = None
        for i, name in enumerate(parts[1:], start=1):
            field = model.model_fields[name]
            value = field.get_default(call_default_factory=True)
            if i < len(parts) - 1:
                model = type(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def markdown_table() -> str:
    """docs/model.md §11's table: every parameter, its default, source kind, anchor and range."""
    lines = ["| parameter | default | source | anchor | plausible range |", "|---|---|---|---|---|"]
    for path, src in SOURCES.items():
        rng = f"{src.plausible[0]:g} – {src.plausible[1]:g}" if src.plausible else ""
        lines.append(f"| `{path}` | {default(path)} | {src.kind} | {src.anchor} | {rng} |")
    return "\n".join(lines)
