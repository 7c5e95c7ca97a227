"""Users as columns: one numpy array per trait (docs/model.md §2).

Every draw comes from the generator passed in; nothing here touches global random state.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from simulator.model.graphs import Graph

if TYPE_CHECKING:  # the model reads a validated scenario; it never imports the scenario layer
    from simulator.scenario.schema import Population as PopulationSpec

NATIONAL = "national"  # the region of a campaign with no region: everyone is in it


@dataclass
class Population:
    """Static traits of every user (rows) — dynamic state lives in the model."""

    archetype_names: list[str]
    region_names: list[str]
    topics: list[str]
    archetype: np.ndarray  # int index into archetype_names
    region: np.ndarray  # int index into region_names
    post_rate: np.ndarray  # λ_i, mean posts per step
    quality: np.ndarray  # q_i ∈ [0, 1]
    interests: np.ndarray  # θ_i, rows on the simplex (n × K)
    susceptibility: np.ndarray  # s_i ∈ [0, 1]
    pout_sensitivity: np.ndarray  # ρ_i ∈ [0, 1]
    gaming: np.ndarray  # g_i ∈ [0, 1]
    assortativity: dict[str, float] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """The number of users."""
        return int(self.archetype.size)

    @functools.cached_property
    def groupings(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(labels, group sizes) for the fairness groups: archetypes, then regions."""
        return [(self.archetype, np.bincount(self.archetype, minlength=len(self.archetype_names))),
                (self.region, np.bincount(self.region, minlength=len(self.region_names)))]


def exact_counts(shares: np.ndarray, n: int) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``shares`` (largest remainder)."""
    shares = np.asarray(shares, dtype=float)
    shares = shares / shares.sum()
    raw = shares * n
    counts = np.floor(raw).astype(np.int64)
    short = n - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def assign_groups(shares: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Group labels with exactly the given shares (to the nearest user), in random order."""
    labels = np.repeat(np.arange(len(shares)), exact_counts(shares, n))
    return rng.permutation(labels)


def beta_around(mean: np.ndarray, concentration: float, rng: np.random.Generator) -> np.ndarray:
    """Beta draws with the given means; a mean of exactly 0 or 1 gives that constant."""
    mean = np.asarray(mean, dtype=float)
    a = np.clip(mean, 1e-9, 1 - 1e-9) * concentration
    b = np.clip(1 - mean, 1e-9, 1 - 1e-9) * concentration
    draws = rng.beta(a, b)
    return np.where(mean <= 0, 0.0, np.where(mean >= 1, 1.0, draws))


def gamma_around(mean: np.ndarray, shape: float, rng: np.random.Generator) -> np.ndarray:
    """Gamma draws with the given means and a common shape (CV = 1/sqrt(shape))."""
    mean = np.asarray(mean, dtype=float)
    return rng.gamma(shape, 1.0, size=mean.shape) * mean / shape


def dirichlet_rows(alpha: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """One Dirichlet(alpha_i · 1_K) draw per row (vectorised via normalised Gammas)."""
    g = rng.standard_gamma(np.repeat(alpha[:, None], k, axis=1))
    total = g.sum(axis=1, keepdims=True)
    empty = total[:, 0] <= 0  # all components underflowed: put the mass on one topic
    if empty.any():
        g[empty] = np.eye(k)[rng.integers(k, size=int(empty.sum()))]
        total = g.sum(axis=1, keepdims=True)
    return g / total


def spread_topics(primary: np.ndarray, adjacency: sp.csr_array, k: int, h: float, passes: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Homophily: make users' main topics agree along edges (docs/model.md §2).

    A neighbourhood consensus is formed by ``passes`` rounds of lazy smoothing of one-hot
    topic preferences, P ← ½·P + ½·mean(P of neighbours); each user then takes the
    consensus topic (the argmax, ties at random) with probability ``h`` and keeps their own
    independent draw otherwise. ``h = 0``: topics independent of the graph; ``h = 1``:
    every user shares their neighbourhood's topic. Assortativity rises with ``h``.
    """
    if h <= 0 or passes <= 0:
        return primary
    n = primary.size
    pref = np.zeros((n, k))
    pref[np.arange(n), primary] = 1.0
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    inv = np.where(degree > 0, 1.0 / np.maximum(degree, 1), 0.0)
    has = (degree > 0)[:, None]
    for _ in range(passes):
        mean_nb = (adjacency @ pref) * inv[:, None]
        pref = np.where(has, 0.5 * pref + 0.5 * mean_nb, pref)
    consensus = np.argmax(pref + 1e-9 * rng.random(pref.shape), axis=1)
    return np.where(rng.random(n) < h, consensus, primary)


def align_interests(theta: np.ndarray, primary: np.ndarray) -> np.ndarray:
    """Swap each row's largest component onto its ``primary`` topic.

    The user's focus (how concentrated θ_i is, set by the archetype) is unchanged; only
    which topic they care most about follows the graph.
    """
    theta = theta.copy()
    rows = np.arange(theta.shape[0])
    top = theta.argmax(axis=1)
    top_val = theta[rows, top]
    theta[rows, top] = theta[rows, primary]
    theta[rows, primary] = top_val
    return theta


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two equally shaped matrices."""
    num = np.einsum("ij,ij->i", a, b)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def measure_assortativity(theta: np.ndarray, graph: Graph, rng: np.random.Generator,
                          sample: int = 200_000) -> dict[str, float]:
    """Mean cosine of interests across edges vs across random pairs (docs/model.md §2)."""
    coo = graph.followers.tocoo()
    n_edges = coo.nnz
    if n_edges == 0:
        return {"edge_cosine": float("nan"), "random_cosine": float("nan"), "assortativity": float("nan")}
    pick = rng.choice(n_edges, size=min(sample, n_edges), replace=False) if n_edges > sample else slice(None)
    edge_cos = cosine_rows(theta[coo.row[pick]], theta[coo.col[pick]]).mean()
    m = min(sample, n_edges)
    i = rng.integers(theta.shape[0], size=m)
    j = rng.integers(theta.shape[0], size=m)
    rand_cos = cosine_rows(theta[i], theta[j]).mean()
    return {"edge_cosine": float(edge_cos), "random_cosine": float(rand_cos),
            "assortativity": float(edge_cos - rand_cos)}


def build_population(spec: PopulationSpec, graph: Graph, rng: np.random.Generator) -> Population:
    """Draw every user's traits for the users of ``graph`` (docs/model.md §2)."""
    n = graph.n
    names = list(spec.archetypes)
    arche = [spec.archetypes[k] for k in names]
    archetype = assign_groups(np.array([a.share for a in arche]), n, rng)
    regions = list(spec.regions)
    region = assign_groups(np.array([spec.regions[r] for r in regions]), n, rng)

    def per_user(attr: str) -> np.ndarray:
        return np.array([getattr(a, attr) for a in arche], dtype=float)[archetype]

    c = spec.trait_concentration
    post_rate = gamma_around(per_user("post_rate"), shape=2.0, rng=rng)
    quality = beta_around(per_user("quality"), c, rng)
    susceptibility = beta_around(per_user("susceptibility"), c, rng)
    gaming = beta_around(per_user("gaming"), c, rng)
    pout_sensitivity = beta_around(np.full(n, spec.pout_sensitivity), c, rng)
    k = len(spec.topics)
    theta = dirichlet_rows(per_user("topic_spread"), k, rng)
    primary = spread_topics(rng.integers(k, size=n), graph.neighbours(), k, spec.homophily,
                            spec.homophily_passes, rng)
    theta = align_interests(theta, primary)
    measure_rng = rng.spawn(1)[0]  # measuring must not shift the draws that follow
    return Population(
        archetype_names=names,
        region_names=regions,
        topics=list(spec.topics),
        archetype=archetype,
        region=region,
        post_rate=post_rate,
        quality=quality,
        interests=theta,
        susceptibility=susceptibility,
        pout_sensitivity=pout_sensitivity,
        gaming=gaming,
        assortativity=measure_assortativity(theta, graph, measure_rng),
    )
