"""MODEL.md §7 reduction: with everything but diffusion off, the model is the textbook
independent cascade (Kempe, Kleinberg & Tardos 2003) with edge probability p.

The reduced setting (see ``conftest.REDUCED_YAML``): no posting, pout or gaming; attention 1;
one topic and one region, so every relevance is 1; susceptibility exactly 1; every exposure
persuades with the same p; every perk recipient mentions once (p_paid = 1) and every adopter
mentions exactly once, in the step after adopting. Perk recipients are the cascade's seeds
and cannot adopt, so the cascade is ``adopters ∪ seeds``.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

from simulator import PerkCampaignModel

# With fixed seeds every test is deterministic; the tolerances say how far an honest
# independent cascade could stray, so a failure means a modelling error, not bad luck.
Z = 4.0  # 4 standard errors: a correct model fails with probability < 1e-4 per comparison


def cascade(model: PerkCampaignModel) -> np.ndarray:
    """Users in the cascade: the seeds (perk recipients) and everyone who adopted."""
    return model.adopted[:, 0] | (model.perk[:, 0] > 0)


# --- (1) exact on a small tree --------------------------------------------------------------


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_tree_seeded_at_root_adopts_depth_d_with_probability_p_to_the_d(reduced_scenario, p):
    branching, height, runs = 2, 4, 300
    sc = reduced_scenario(p, {"kind": "balanced_tree", "branching": branching, "height": height},
                          seeds=[0], steps=height + 2)
    depth = None
    hits = np.zeros(height + 1)
    for seed in range(runs):
        model = PerkCampaignModel(sc, rng=seed)
        model.run()
        if depth is None:
            depth = nx.single_source_shortest_path_length(
                nx.from_scipy_sparse_array(model.graph.neighbours()), 0)
            depth = np.array([depth[i] for i in range(model.n)])
        assert model.perk[0, 0] == 1 and not model.adopted[0, 0], "the root is the seed"
        for d in range(1, height + 1):
            hits[d] += model.adopted[depth == d, 0].mean()
    for d in range(1, height + 1):
        expected = p ** d
        freq = hits[d] / runs
        # Each run gives the share of depth-d nodes adopted. Nodes at one depth are
        # positively correlated (shared ancestors), so the variance of that share is at most
        # that of a single node's Bernoulli(p^d) indicator: the binomial standard error
        # sqrt(p^d (1 - p^d) / runs) is a conservative bound. Tolerance: Z of them.
        se = math.sqrt(expected * (1 - expected) / runs)
        assert abs(freq - expected) <= Z * se, (d, freq, expected, se)


def test_tree_cascade_advances_one_level_per_step(reduced_scenario):
    """Adopters mention exactly once, in the step after adopting: depth d adopts at step d-1."""
    sc = reduced_scenario(1.0, {"kind": "balanced_tree", "branching": 3, "height": 3},
                          seeds=[0], steps=5)
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    depth = nx.single_source_shortest_path_length(
        nx.from_scipy_sparse_array(model.graph.neighbours()), 0)
    for i in range(1, model.n):
        assert model.adopted_at[i, 0] == depth[i] - 1


# --- (2) Monte-Carlo mean on a random graph vs the live-edge formulation --------------------


@pytest.fixture(scope="module")
def er_edgelist(tmp_path_factory):
    """A fixed Erdős–Rényi graph (300 users, mean degree 4) written as an edge list, so that
    every run of the model uses the same graph (generated graphs depend on the run's seed)."""
    g = nx.gnp_random_graph(300, 4 / 299, seed=20031)
    path = tmp_path_factory.mktemp("graphs") / "er.txt"
    path.write_text("".join(f"{u} {v}\n" for u, v in g.edges()))
    return str(path)


def live_edge_sizes(followers: sp.csr_array, seeds: list[int], p: float, draws: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Cascade sizes by percolation (Kempe et al. 2003, Claim 2.3): keep each directed
    follow edge live with probability p; the cascade is what is reachable from the seeds."""
    coo = followers.tocoo()  # row: author, col: follower — an edge author → follower
    sizes = np.empty(draws)
    for k in range(draws):
        live = rng.random(coo.nnz) < p
        mat = sp.csr_array((np.ones(int(live.sum())), (coo.row[live], coo.col[live])),
                           shape=followers.shape)
        reached = np.zeros(followers.shape[0], dtype=bool)
        for s in seeds:
            reached[breadth_first_order(mat, s, directed=True, return_predecessors=False)] = True
        sizes[k] = reached.sum()
    return sizes


@pytest.mark.slow
def test_random_graph_mean_cascade_size_matches_live_edge_percolation(reduced_scenario, er_edgelist):
    p, seeds, runs, draws = 0.3, [0, 1, 2], 200, 2000
    sc = reduced_scenario(p, {"kind": "edgelist", "path": er_edgelist}, seeds=seeds, steps=40)
    sizes = np.empty(runs)
    graph = None
    for r in range(runs):
        model = PerkCampaignModel(sc, rng=1000 + r)
        model.run()
        # the cascade must have died out before the run ended, or sizes would be truncated
        assert model.adopted_at[:, 0].max() < sc.steps - 2
        sizes[r] = cascade(model).sum()
        graph = model.graph
    reference = live_edge_sizes(graph.followers, seeds, p, draws, np.random.default_rng(2003))
    assert reference.mean() > 3 * len(seeds), "p and the graph must give real cascades"
    # Welch-style standard error of the difference of two independent sample means.
    se = math.sqrt(sizes.var(ddof=1) / runs + reference.var(ddof=1) / draws)
    assert abs(sizes.mean() - reference.mean()) <= Z * se, (sizes.mean(), reference.mean(), se)


# --- (3) the two deterministic extremes -----------------------------------------------------


def test_p_one_reaches_exactly_the_connected_component_of_the_seed(reduced_scenario):
    # mean degree 1.5: a giant component plus small ones, so "the component" is a real test
    sc = reduced_scenario(1.0, {"kind": "erdos_renyi", "mean_degree": 1.5}, seeds=[0],
                          steps=80, size=200)
    for seed in range(3):
        model = PerkCampaignModel(sc, rng=seed)
        model.run()
        _, label = connected_components(model.graph.neighbours(), directed=False)
        component = label == label[0]
        np.testing.assert_array_equal(cascade(model), component)
        assert model.adopted[:, 0].sum() == component.sum() - 1


def test_p_one_reaches_the_whole_component_even_when_it_is_not_the_giant_one(reduced_scenario):
    sc = reduced_scenario(1.0, {"kind": "erdos_renyi", "mean_degree": 1.5}, seeds=[0],
                          steps=80, size=200)
    model = PerkCampaignModel(sc, rng=0)
    _, label = connected_components(model.graph.neighbours(), directed=False)
    sizes = np.bincount(label)
    small = [i for i in range(model.n) if 2 <= sizes[label[i]] < sizes.max()]
    assert small, "the graph should have a small component with at least two users"
    seed_user = small[0]
    sc = reduced_scenario(1.0, {"kind": "erdos_renyi", "mean_degree": 1.5}, seeds=[seed_user],
                          steps=80, size=200)
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    np.testing.assert_array_equal(cascade(model), label == label[seed_user])


def test_p_zero_nobody_adopts(reduced_scenario):
    sc = reduced_scenario(0.0, {"kind": "erdos_renyi", "mean_degree": 6}, seeds=[0, 1, 2],
                          steps=10, size=200)
    for seed in range(3):
        model = PerkCampaignModel(sc, rng=seed)
        model.run()
        assert model.adopted.sum() == 0
        # the seeds did mention and expose their followers: nobody adopted despite exposure
        assert model.aware[:, 0].sum() > 0
