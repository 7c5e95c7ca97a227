"""Sections 7 and 8 of the report: questions for discussion (with the folder's own numbers)
and the model assumptions that matter most, each linked to its section of docs/model.md and
with the parameter values that ran and where they come from."""

from __future__ import annotations

from simulator.model.population import NATIONAL
from simulator.scenario.schema import Behaviour, Campaign, Processes, Scenario
from simulator.scenario.sources import SOURCES
from simulator.views.report.loading import Folder
from simulator.views.report.prose import exclusivity_words, region_words, topic_words
from simulator.views.report.render import Section
from simulator.views.report.tables import Table, means
from simulator.views.report.vocabulary import compare_list, fmt_value, model_link


def section_discussion(f: Folder, sc: Scenario | None, table: Table) -> Section:
    """Section 7: questions for discussion, with this folder's numbers for the first campaign
    (in general words when the folder records no scenario)."""
    s = Section("7. Questions for discussion", "discussion")
    c = sc.campaigns[0] if sc else None
    brand = c.brand if c else "the brand"
    topic = topic_words(c.topic if c else "its topic")
    region = region_words(c.region if c else NATIONAL)
    exclusivity = c.exclusivity if c else Campaign.model_fields["exclusivity"].default
    point = table.points[0] if table.sweep else None
    pout = means(table, brand, "pout_fans", point) if brand in table.brands else {}
    auth = means(table, brand, "authenticity", point) if brand in table.brands else {}
    pout_text = f" (here: {compare_list(pout)})" if pout else ""
    auth_text = f" (here: {compare_list(auth)})" if auth else ""
    s.ul([
        f"**Exclusivity.** {brand}'s offer is {exclusivity_words(exclusivity)}. "
        "Does feeling chosen make people talk more about a brand? Is that worth the frustration of "
        "those who see the perk and did not get it? What would you measure in the real world to "
        "find out (the model's `exclusivity_boost` has no empirical anchor)?",
        f"**Fairness.** A score threshold, a search for {topic} fans in {region}, and a lottery "
        "exclude different people. Which exclusion is fair: by score, by interest, by place, or by "
        "chance? Users who never post cannot be found by search at all — does that matter?",
        f"**Authenticity.** Authenticity is the organic share of positive exposures{auth_text}. "
        "Is a paid mention by a real fan more authentic than one by a high scorer? Should it be "
        "labelled #ad even if the fan would have posted anyway?",
        f"**The people left out.** The mean pout of excluded fans{pout_text}. Pick one user from "
        "'Telling users' below: what would you say to them? Would published rules, or a lottery, "
        "feel fairer even if it reaches fewer fans?",
        "**Measuring influence.** The score measures volume and reach, not relevance. What should "
        "an 'influence' score measure, and who would game it?",
        "**Trusting the model.** Which assumption in section 8 would you change first, and which "
        "way would you expect the answer to move? Try it with `--set`.",
    ])
    return s


def section_assumptions(sc: Scenario | None, base: str | None = None) -> Section:
    """Section 8: the model assumptions that matter most, with the values that ran (``?`` when
    the folder records no scenario); the links go to the report's glossary, or with an
    absolute ``base`` to that page (:func:`~simulator.views.report.vocabulary.model_href`)."""
    s = Section("8. The model assumptions that matter most here", "assumptions")
    b = sc.behaviour if sc else Behaviour()
    procs = sc.processes if sc else Processes()
    campaigns = sc.campaigns if sc else []
    g = lambda key: fmt_value(getattr(b, key)) if sc else "?"  # noqa: E731

    def src(key: str) -> str:
        """``name = value (assumed)``: the parameter, its value here and where it comes from."""
        source = SOURCES.get(f"behaviour.{key}")
        kind = f", {source.kind}" if source else ""
        return f"{key} = {g(key)}{kind}"
    items = [
        ("The score measures volume and reach, never relevance: posts, followers and reactions "
         "per post, mapped so the mean is about 40 and about 5% score 63 or more.", "score"),
        ("Brands see only public signals: the score, follower counts, and what users post about "
         "and where they live; users who do not post cannot be found by search.", "strategies"),
        (f"A recipient mentions the brand with a chance that grows with the mention policy and with "
         f"how well the perk fits them; clear rules dampen it ({src('transparency_target_loss')}); "
         f"an exclusive framing raises it only if exclusivity_boost is above 0 (here: "
         f"{src('exclusivity_boost')}; Steinhoff & Palmatier 2016 found no effect on "
         "recipients).", "mentions"),
        (f"Fans talk about the brand on their own ({src('brand_talk')}): most adopters are "
         "persuaded by that talk, not by the campaign.", "mentions"),
        (f"Attention is limited: a follower sees a post with a chance that falls with the author's "
         f"audience ({src('attention_beta')}, from Markerly 2016 above 1k followers, extrapolated "
         f"below); paid mentions persuade less than organic ones ({src('persuasion_paid')} against "
         f"{src('persuasion_organic')}).", "exposure"),
        (f"Pout is relative deprivation: it needs seeing others' perks (in one's feed; hearing of "
         f"the programme: {src('publicity')}), wanting the product, feeling entitled — as a fan "
         f"({src('entitlement_fan')}) or after almost making it — and being left out; published "
         f"rules lower it ({src('transparency_relief')}) and so does an exclusive framing "
         f"({src('exclusivity_pout')}), as Steinhoff & Palmatier (2016) found; 'pouting' means pout "
         f"≥ {src('pout_threshold')}. Its size rests on assumptions: read it relative to other "
         "variants, not as an absolute.", "pout"),
    ]
    steps = sc.steps if sc else Scenario.model_fields["steps"].default
    long_campaign = steps > 90 or any(c.waves > 1 for c in campaigns)
    if procs.gaming:
        items.append((("Excluded users with a gaming habit post more and worse in proportion to their "
                       "pout" + (" — over a long campaign with several waves this can inflate scores."
                                 if long_campaign else " (small in a short, single-wave campaign).")),
                      "gaming"))
    items += [
        (f"Fans are the {fmt_value(100 * b.fan_quantile)}% most relevant users; "
         f"relevance outside the brand's region is scaled by region_mismatch = "
         f"{g('region_mismatch')}; interests are homophilous on the graph.", "initialization"),
        ("What each metric counts — reach counts only the campaign's own positive mentions, "
         "complaints are backlash (`reach_negative`, a cost), engaged reach counts fans beyond the "
         "recipients.", "observation"),
        ("Where every parameter comes from: measured, calibrated to a published target, or assumed "
         "with a plausible range to vary.", "calibration"),
    ]
    s.ul([f"{text} — {model_link(key, base)}" for text, key in items])
    return s
