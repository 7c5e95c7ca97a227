"""Behaviour rules as pure, vectorised functions (docs/model.md §5).

Arrays in, arrays out; the random generator is passed in. Each function is one rule of the
model, written once for all users.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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
                     rng: np.random.Generator) -> np.ndarray:
    """Reactions received: Poisson with mean posts·view·base_engage·q_i·Σ_j θ_i·θ_j (§3.2)."""
    expected = posts * view * base_engage * quality * overlap
    return rng.poisson(expected)


def distinct_reactors(reactions: np.ndarray, followers: np.ndarray) -> np.ndarray:
    """Expected number of distinct followers among ``reactions`` reactions.

    Reactions spread over the audience like balls into bins: F·(1 − exp(−R/F)).
    """
    f = followers.astype(float)
    return np.where(f > 0, f * -np.expm1(-reactions / np.maximum(f, 1.0)), 0.0)


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
                             exclusivity: float, exclusivity_boost: float) -> np.ndarray:
    """p_paid = base_paid · policy · fit · (1 + exclusivity_boost · exclusivity), ≤ 1 (§5.3)."""
    return np.clip(base_paid * policy * fit * (1 + exclusivity_boost * exclusivity), 0.0, 1.0)


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


def pout_increment(visible: np.ndarray, sensitivity: np.ndarray, want: np.ndarray,
                   entitled: np.ndarray, kappa: float, amplification: float) -> np.ndarray:
    """ρ_i · (1 − exp(−κ·visible_i)) · amplification · want_i · entitled_i (§5.5)."""
    return sensitivity * -np.expm1(-kappa * visible) * amplification * want * entitled


def gaming_factors(gaming: np.ndarray, pout: np.ndarray, post_boost: float, quality_loss: float,
                   max_rate: float, min_quality: float) -> tuple[np.ndarray, np.ndarray]:
    """Score chasing (§5.6): post rate × (1 + γ·g·pout), quality × (1 − δ·g·pout), bounded."""
    drive = gaming * pout
    return (np.minimum(max_rate, 1.0 + post_boost * drive),
            np.maximum(min_quality, 1.0 - quality_loss * drive))
