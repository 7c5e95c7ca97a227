"""The glossary embedded in every report: a few lines on each part of the model the report
links to (docs/model.md's sections), so that the links still work once the file has been
sent to students — they point to ``#glossary-<key>`` in the same file, never to a path on the
machine that wrote it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from simulator.views.report.render import Block, Section
from simulator.views.report.vocabulary import MODEL_DOC, MODEL_SECTIONS

GLOSSARY_ANCHOR = "glossary"

GLOSSARY: dict[str, str] = {  # key of MODEL_SECTIONS → what that part of the model says
    "score": (
        "Every user has a public 1–100 score, recomputed every day from how much they post "
        "(activity), how many follow them (reach), the reactions per post weighted by how many "
        "different people reacted (amplification) and their followers' scores (network), mapped "
        "so that the mean is about 40 and about 5% score 63 or more. It measures volume and "
        "reach, never relevance to a brand."),
    "strategies": (
        "How a brand picks who gets a perk, from public signals only — the score, follower "
        "counts, what users post about and where they live: a score threshold, the top scores, a "
        "search for relevant posters (relevance), a hybrid, a lottery, or personal outreach. Users "
        "who do not post cannot be found by a search."),
    "mentions": (
        "A recipient posts a paid mention with a chance set by the mention policy (none, "
        "recommended, required) and by how well the perk fits them; clear rules make a perk feel "
        "earned and dampen it; an exclusive framing raises it only if `exclusivity_boost` is above "
        "0 (0 by default, after Steinhoff & Palmatier 2016). Fans also talk about the brand on "
        "their own: organic mentions, whatever the campaign does."),
    "exposure": (
        "Limited attention: a follower sees a post with a chance that falls with the author's "
        "audience (0.56 at 10 followers, 0.18 at 1,000 with the defaults). A seen mention may "
        "persuade — a paid one less than an organic one — and users it persuades (adopters) may "
        "mention the brand in turn, so mentions spread through the follows graph."),
    "pout": (
        "Klout Pout is relative deprivation (Crosby 1976): it grows in a user left out who sees "
        "others get the perk (in paid mentions and on recipients' profiles), wants it (relevance to "
        "the brand) and feels entitled (as a fan, or after almost passing the bar); published rules "
        "and an exclusive framing lower it, and it fades every day. A user is 'pouting' when their "
        "pout reaches `pout_threshold`; only then may they post complaints."),
    "gaming": (
        "Excluded users with a gaming habit post more, and worse, in proportion to their pout, to "
        "raise their score before the next wave of perks."),
    "initialization": (
        "Each user gets a posting habit (broadcaster, enthusiast, casual, lurker, score chaser), "
        "a region and interests; with homophily, neighbours on the follows graph share their main "
        "topic. A user's relevance to a brand is their interest in its topic, scaled down outside "
        "the brand's region (`region_mismatch`); the brand's fans are the most relevant users "
        "(the top `fan_quantile`, 10% by default)."),
    "observation": (
        "What the metrics count: reach counts users reached by the campaign's own positive "
        "mentions (not by complaints, not by fans' own talk); engaged reach only the brand's fans "
        "among them, recipients not counted; complaints are counted apart, as `reach_negative`; "
        "authenticity is the share of positive exposures that were organic."),
    "calibration": (
        "Every behavioural parameter says where its value comes from: measured in a published "
        "study, calibrated to a published result, or assumed with a plausible range "
        "(`perksim robust` varies the assumed ones and says which verdicts survive)."),
}

_LINK = re.compile(r"\]\(#glossary-([a-z_]+)\)")


def glossary_href(key: str) -> str:
    """The link to a term of the embedded glossary (``#glossary-mentions``)."""
    return f"#{GLOSSARY_ANCHOR}-{key}"


def linked_keys(sections: Sequence[Section]) -> list[str]:
    """The glossary keys the sections link to, in order of first use."""
    keys: list[str] = []
    for s in sections:
        for text in _texts(s.blocks):
            keys += [k for k in _LINK.findall(text) if k in MODEL_SECTIONS]
    return list(dict.fromkeys(keys))


def _texts(blocks: Iterable[Block]) -> Iterable[str]:
    for b in blocks:
        if isinstance(b.content, str):
            yield b.content
        elif isinstance(b.content, list):
            yield from (i for i in b.content if isinstance(i, str))
        elif b.kind == "table":
            yield from (c for row in b.content["rows"] for c in row)


def section_glossary(sections: Sequence[Section]) -> Section | None:
    """The glossary of the model's parts the ``sections`` link to (None if they link to none)."""
    keys = linked_keys(sections)
    if not keys:
        return None
    s = Section("Glossary: the model in brief", GLOSSARY_ANCHOR)
    s.p(f"The parts of the model this report refers to. The full description is `{MODEL_DOC}` in "
        "perksim's source (section numbers as below).")
    s.blocks.append(Block("terms", [(glossary_href(k).lstrip("#"), MODEL_SECTIONS[k][1], GLOSSARY[k])
                                    for k in keys]))
    return s
