"""Behaviour rules as pure, vectorised functions (docs/model.md §5).

Arrays in, arrays out; the random generator is passed in. Each function is one rule of the
model, written once for all users.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

POUT_SOURCES = ("mentions", "displays", "publicity")  # what a user saw of the perks (§5.5)
# How an adopter was persuaded (the model's ``origin``): not adopted; by fans' own talk (or an
# adopter it persuaded); by the campaign directly (a paid mention or an outreach contact's
# mention); by the campaign through a chain of adopters (two or more steps from a seed).
ORIGIN_NONE, ORIGIN_TALK, ORIGIN_CAMPAIGN, ORIGIN_CHAIN = 0, 1, 2, 3
ORIGINS = ("none", "talk", "campaign", "chain")
# the exposure kinds credited by attribute_adoptions, in order — paid, seed (outreach contact),
# chain1 (an adopter the campaign persuaded directly), chain2 (through a chain), talk — and
# the origin each gives the adopter
CAUSE_ORIGIN = np.array([ORIGIN_CAMPAIGN, ORIGIN_CAMPAIGN, ORIGIN_CHAIN, ORIGIN_CHAIN, ORIGIN_TALK],
                        dtype=np.int8)


def view_probability(followers: np.ndarray, v0: float, beta: float) -> np.ndarray:
    """Limited attention: chance a given follower sees one post, ``min(1, v0·followers^−β)`` (§5.4)."""
    f = np.maximum(followers, 1).astype(float)
    return np.minimum(1.0, v0 * f ** (-beta))


def follower_overlap(followers: sp.csr_array, interests: np.ndarray) -> np.ndarray:
    """Σ over i's followers j of θ_i·θ_j — the topical fit of an author's audience (§3.2).

    One sparse product: (followers @ Θ) sums the followers' interests per author.
    """
    return np.einsum("ij,ij->i", followers @ interests, interests)


def sample_posts(rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Posts this step, Poisson(λ_i) (§3.1)."""
    return rng.poisson(rate)


def sample_reactions(posts: np.ndarray, view: np.ndarray, quality: np.ndarray,
                     overlap: np.ndarray, base_engage: float,
                     rng: np.random.Generator, posting: np.ndarray | None = None) -> np.ndarray:
    """Reactions received: Poisson with mean posts·view·base_engage·q_i·Σ_j θ_i·θ_j (§3.2).

    Drawn for the users who posted only: a Poisson draw with mean 0 is 0 and takes nothing
    from the generator, so this is the same draw as over all users, and cheaper. ``posting``:
    ``np.flatnonzero(posts)`` if already known.
    """
    reactions = np.zeros(posts.shape, dtype=np.int64)
    who = np.flatnonzero(posts) if posting is None else posting
    expected = posts[who] * view[who] * base_engage * quality[who] * overlap[who]
    reactions[who] = rng.poisson(expected)
    return reactions


def distinct_reactors(reactions: np.ndarray, followers: np.ndarray) -> np.ndarray:
    """Expected number of distinct followers among ``reactions`` reactions.

    Reactions spread over the audience like balls into bins: F·(1 − exp(−R/F)); no
    reactions, no reactors.
    """
    distinct = np.zeros(reactions.shape)
    who = np.flatnonzero(reactions)
    f = followers[who].astype(float)
    distinct[who] = np.where(f > 0, f * -np.expm1(-reactions[who] / np.maximum(f, 1.0)), 0.0)
    return distinct


def observed_topic_share(recent_posts: np.ndarray, interests: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    """Topic shares of each user's recent posts, as search would see them (§5.2).

    The topics of a user's posts are independent draws from θ_i, so the topic counts of
    their recent posts are Multinomial(recent posts, θ_i). Users with no posts get zeros.
    """
    counts = rng.multinomial(recent_posts.astype(np.int64), interests)
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, total, out=np.zeros(counts.shape), where=total > 0)


def relevance(interests: np.ndarray, topic: np.ndarray, region: np.ndarray,
              brand_region: int | None, region_mismatch: float) -> np.ndarray:
    """``cos(θ_i, τ_b) × region_factor`` (§2); ``brand_region`` None means national."""
    norm = np.linalg.norm(interests, axis=1) * np.linalg.norm(topic)
    cos = np.divide(interests @ topic, norm, out=np.zeros(interests.shape[0]), where=norm > 0)
    if brand_region is None:
        return cos
    return cos * np.where(region == brand_region, 1.0, region_mismatch)


def fan_mask(rel: np.ndarray, quantile: float) -> np.ndarray:
    """Fans: users whose relevance is in the top ``quantile`` (ties included)."""
    cut = np.quantile(rel, 1.0 - quantile)
    return (rel >= cut) & (rel > 0)


def fanness(rel: np.ndarray, fans: np.ndarray) -> np.ndarray:
    """How much of a fan a user is: relevance relative to the weakest fan, capped at 1."""
    cut = rel[fans].min() if fans.any() else 1.0
    return np.clip(rel / max(cut, 1e-12), 0.0, 1.0)


def sample_exposures(followers: sp.csr_array, authors: np.ndarray, view: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Exposures per user from one mention by each author: each follower sees it with ``view``.

    Returns a count per user (a user following several mentioning authors can be exposed
    several times in one step). Cost is proportional to the authors' follower counts.
    """
    n = followers.shape[0]
    authors = np.asarray(authors, dtype=np.int64)
    if authors.size == 0:
        return np.zeros(n, dtype=np.int64)
    starts = followers.indptr[authors]
    lengths = followers.indptr[authors + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(n, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    edge = np.arange(total) + offsets
    seen = rng.random(total) < np.repeat(view[authors], lengths)
    return np.bincount(followers.indices[edge[seen]], minlength=n)


def mention_probability_paid(fit: np.ndarray, base_paid: float, policy: float,
                             exclusivity: float, exclusivity_boost: float,
                             transparency: float = 0.0, target_loss: float = 0.0) -> np.ndarray:
    """p_paid = base_paid · policy · fit · (1 + boost·ε) · (1 − T·target_loss), in [0, 1] (§5.3).

    Clear rules make a perk feel earned rather than a gift, which dampens the recipients'
    positive response (Steinhoff & Palmatier 2016): the factor (1 − T·target_loss).
    """
    p = (base_paid * policy * fit * (1 + exclusivity_boost * exclusivity)
         * (1 - transparency * target_loss))
    return np.clip(p, 0.0, 1.0)


def talk_probability(posts: np.ndarray, rel: np.ndarray, brand_talk: float,
                     pout: np.ndarray, log_silence: np.ndarray | None = None) -> np.ndarray:
    """Fans' own brand talk (§5.3): each post mentions the brand with brand_talk · rel_ib,
    and a pouting user talks less, × (1 − pout_ib): ``1 − (1 − brand_talk·rel)^posts``.

    ``log_silence``: :func:`talk_log_silence` of ``rel``, if already computed (it is fixed).
    """
    if log_silence is None:
        log_silence = talk_log_silence(rel, brand_talk)
    return -np.expm1(posts * log_silence) * (1.0 - pout)


def talk_log_silence(rel: np.ndarray, brand_talk: float) -> np.ndarray:
    """log(1 − brand_talk·rel): the log-chance that one post does not mention the brand."""
    per_post = np.clip(brand_talk * rel, 0.0, 1.0)
    return np.log1p(-np.minimum(per_post, 1 - 1e-12))


def attribute_adoptions(counts: list[np.ndarray], persuasion: list[float], base: np.ndarray,
                        rng: np.random.Generator) -> np.ndarray:
    """Which kind of exposure persuaded each new adopter (index into ``counts``) (§5.4).

    Each exposure is an independent chance, so the adoption is credited to kind k with
    probability h_k / Σ h, the kind's share of the hazard h_k = −x_k · log(1 − c·π_k).
    ``counts`` and ``base`` (c = s·rel·affinity) are for the new adopters only.
    """
    if base.size == 0:
        return np.empty(0, dtype=np.int64)
    hazard = np.stack([x * -np.log1p(-np.clip(base * pi, 0.0, 1 - 1e-12))
                       for x, pi in zip(counts, persuasion, strict=True)], axis=1)
    cumulative = np.cumsum(hazard, axis=1)
    u = rng.random(base.size) * cumulative[:, -1]
    return np.minimum((cumulative <= u[:, None]).sum(axis=1), len(counts) - 1)


def adoption_probability(susceptibility: np.ndarray, rel: np.ndarray, affinity: np.ndarray,
                         exposures: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """1 − Π over this step's exposures of (1 − s_j · persuasion_kind · relevance_jb · affinity) (§5.4).

    ``exposures`` pairs each kind's per-user exposure counts with its persuasion strength.
    """
    stay = np.ones_like(susceptibility)
    base = susceptibility * rel * affinity
    for counts, persuasion in exposures:
        p = np.clip(base * persuasion, 0.0, 1.0)
        stay = stay * (1.0 - p) ** counts
    return 1.0 - stay


def closeness(score: np.ndarray, cutoff: float | None, scale: float) -> np.ndarray:
    """"Almost made it": 1 at or above the cutoff, fading as exp(−gap/scale) below (§5.5)."""
    if cutoff is None:
        return np.zeros_like(score)
    return np.exp(-np.maximum(cutoff - score, 0.0) / scale)


def entitlement(fanness: np.ndarray, closeness: np.ndarray, entitlement_fan: float,
                transparency: float, relief: float) -> np.ndarray:
    """entitled_i = [1 − (1 − e_fan·fanness_i)(1 − closeness_i)] · (1 − T·relief) (§5.5).

    Being a fan and having almost made it are two reasons to feel entitled, combined as
    independent reasons: a fan far from any bar feels ``entitlement_fan``, a fan who almost
    made it feels more, up to 1. Transparent rules relieve both.
    """
    return (1.0 - (1.0 - entitlement_fan * fanness) * (1.0 - closeness)) * (1.0 - transparency * relief)


def pout_increment(visible: np.ndarray, sensitivity: np.ndarray, want: np.ndarray,
                   entitled: np.ndarray, kappa: float, factor: float) -> np.ndarray:
    """ρ_i · (1 − exp(−κ·visible_i)) · factor · want_i · entitled_i (§5.5); ``factor`` is
    (1 + exclusivity_pout · ε_b), the effect of an exclusive framing on bystanders."""
    return sensitivity * -np.expm1(-kappa * visible) * factor * want * entitled


def split_by_source(total: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Split each user's ``total`` over the columns of ``sources`` in proportion to them.

    Used to attribute a pout increment to what the user saw (§5.5); rows without any
    source get zeros.
    """
    seen = sources.sum(axis=1, keepdims=True)
    return np.divide(total[:, None] * sources, seen, out=np.zeros(sources.shape, dtype=float),
                     where=seen > 0)


def gaming_factors(gaming: np.ndarray, pout: np.ndarray, post_boost: float, reciprocity: float,
                   quality_loss: float, max_rate: float,
                   min_quality: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score chasing (§5.6), driven by g·pout: post rate × (1 + γ·drive), bounded; reactions
    elicited by reciprocity × (1 + r·drive); quality × (1 − δ·drive), bounded."""
    drive = gaming * pout
    return (np.minimum(max_rate, 1.0 + post_boost * drive),
            1.0 + reciprocity * drive,
            np.maximum(min_quality, 1.0 - quality_loss * drive))
