"""Users' traits and homophily (MODEL.md §2, §4 stochasticity, §7 homophily check)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from simulator import PerkCampaignModel
from simulator.model.population import beta_around, exact_counts

HOMOPHILY = [0.0, 0.3, 0.6, 0.9]
SEEDS = [0, 1, 2]


def test_achieved_assortativity_rises_monotonically_with_homophily(make_scenario):
    means = []
    for h in HOMOPHILY:
        sc = make_scenario(population={"size": 1500, "homophily": h}, steps=3,
                           processes={"posting": False}, score={"warmup": 1})
        values = [PerkCampaignModel(sc, rng=s).population.assortativity["assortativity"]
                  for s in SEEDS]
        means.append(float(np.mean(values)))
    # Observed means ≈ 0.005, 0.038, 0.073, 0.10 (steps of ≈ 0.03). Per-seed noise of the
    # measurement is ≈ 0.008 (so ≈ 0.005 for a mean of three), and the graph and draws are
    # shared across h (independent streams), so each step must rise by at least 0.01.
    assert np.all(np.diff(means) >= 0.01), means
    assert abs(means[0]) < 0.02, "no homophily: edges are no more alike than random pairs"


def test_assortativity_report_has_edge_and_random_cosines(make_scenario):
    model = PerkCampaignModel(make_scenario(population={"homophily": 1.0}), rng=0)
    a = model.population.assortativity
    assert set(a) == {"edge_cosine", "random_cosine", "assortativity"}
    assert a["assortativity"] == pytest.approx(a["edge_cosine"] - a["random_cosine"])
    assert a["edge_cosine"] > a["random_cosine"]


ODD_SHARES = {
    "population": {
        "size": 997,
        "regions": {"north": 0.333, "south": 0.333, "east": 0.334},
        "archetypes": {
            "a": {"share": 0.125, "post_rate": 3.0, "quality": 0.2},
            "b": {"share": 0.5, "post_rate": 1.0, "quality": 0.7},
            "c": {"share": 0.375, "post_rate": 0.0, "quality": 0.5},
        },
    }
}


@pytest.mark.parametrize("seed", [0, 1])
def test_archetype_and_region_shares_are_exact_to_the_nearest_user(make_scenario, seed):
    model = PerkCampaignModel(make_scenario(**ODD_SHARES), rng=seed)
    pop = model.population
    n = model.n
    assert n == 997
    for names, labels, shares in (
        (pop.archetype_names, pop.archetype, {k: v["share"] for k, v in
                                              ODD_SHARES["population"]["archetypes"].items()}),
        (pop.region_names, pop.region, ODD_SHARES["population"]["regions"]),
    ):
        counts = np.bincount(labels, minlength=len(names))
        assert counts.sum() == n
        for name, count in zip(names, counts, strict=True):
            assert abs(count - shares[name] * n) < 1, (name, count, shares[name] * n)


def test_exact_counts_uses_largest_remainders():
    assert exact_counts(np.array([1, 1, 1]), 10).tolist() == [4, 3, 3]
    counts = exact_counts(np.array([0.02, 0.15, 0.45, 0.33, 0.05]), 101)
    assert counts.sum() == 101
    assert np.all(np.abs(counts - np.array([0.02, 0.15, 0.45, 0.33, 0.05]) * 101) < 1)


def test_traits_are_in_range(make_scenario):
    model = PerkCampaignModel(make_scenario(population={"size": 2000}), rng=3)
    pop = model.population
    for trait in (pop.quality, pop.susceptibility, pop.pout_sensitivity, pop.gaming):
        assert trait.shape == (model.n,)
        assert np.all((trait >= 0) & (trait <= 1))
    assert np.all(pop.post_rate >= 0) and np.isfinite(pop.post_rate).all()
    assert pop.interests.shape == (model.n, len(pop.topics))
    assert np.all(pop.interests >= 0)
    np.testing.assert_allclose(pop.interests.sum(axis=1), 1.0, atol=1e-12)


def test_traits_follow_archetype_means(make_scenario):
    model = PerkCampaignModel(make_scenario(population={"size": 3000}), rng=4)
    pop = model.population
    spec = model.spec.population.archetypes
    for i, name in enumerate(pop.archetype_names):
        mine = pop.archetype == i
        # Gamma(shape 2) and Beta(concentration 10) draws: standard errors of these means are
        # below 0.25·mean/sqrt(60) for the smallest group (60 users); 30 % slack is > 3 SE
        assert pop.post_rate[mine].mean() == pytest.approx(spec[name].post_rate, rel=0.3)
        assert pop.quality[mine].mean() == pytest.approx(spec[name].quality, rel=0.3)


def test_beta_around_gives_constants_at_means_zero_and_one(rng):
    mean = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    for concentration in (0.5, 10.0, 1000.0):
        draws = beta_around(np.tile(mean, 200), concentration, rng).reshape(200, 5)
        assert np.all(draws[:, [0, 2]] == 0.0)
        assert np.all(draws[:, [1, 3]] == 1.0)
        assert np.all((draws[:, 4] > 0) & (draws[:, 4] < 1))


def test_susceptibility_one_is_exactly_one_for_every_user(make_scenario):
    sc = make_scenario(population={"archetypes": {
        "only": {"share": 1.0, "post_rate": 1.0, "quality": 0.5, "susceptibility": 1.0,
                 "gaming": 0.0}}})
    pop = PerkCampaignModel(sc, rng=0).population
    assert np.all(pop.susceptibility == 1.0)
    assert np.all(pop.gaming == 0.0)


# --- no global random state ------------------------------------------------------------------


def _fingerprint(model: PerkCampaignModel):
    return (model.steps_frame().to_csv(), model.users_frame().to_csv(),
            model.population.interests.tobytes())


def _run(sc):
    model = PerkCampaignModel(sc, rng=11)
    model.run()
    return _fingerprint(model)


def test_results_do_not_depend_on_global_random_seeds(make_scenario):
    sc = make_scenario(steps=12)
    np.random.seed(1)
    random.seed(1)
    first = _run(sc)
    np.random.seed(2)
    random.seed(2)
    second = _run(sc)
    third = _run(sc)
    assert first == second == third


def test_a_run_does_not_touch_numpy_or_stdlib_global_random_state(make_scenario):
    sc = make_scenario(steps=12)
    np.random.seed(123)
    random.seed(123)
    np_state = np.random.get_state()
    py_state = random.getstate()
    _run(sc)
    after = np.random.get_state()
    assert after[0] == np_state[0]
    np.testing.assert_array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]
    assert random.getstate() == py_state


@pytest.mark.parametrize("graph", [
    {"kind": "barabasi_albert", "m": 2}, {"kind": "watts_strogatz", "k": 4, "p": 0.2},
    {"kind": "erdos_renyi", "mean_degree": 4}, {"kind": "stochastic_block", "blocks": 3},
])
def test_graph_generators_do_not_touch_global_random_state(make_scenario, graph):
    np.random.seed(5)
    random.seed(5)
    np_before, py_before = np.random.get_state()[1].copy(), random.getstate()
    PerkCampaignModel(make_scenario(population={"graph": graph}), rng=0)
    np.testing.assert_array_equal(np.random.get_state()[1], np_before)
    assert random.getstate() == py_before


def test_same_seed_same_population_and_different_seed_different(make_scenario):
    sc = make_scenario()
    a, b, c = (PerkCampaignModel(sc, rng=s).population for s in (1, 1, 2))
    np.testing.assert_array_equal(a.interests, b.interests)
    np.testing.assert_array_equal(a.archetype, b.archetype)
    assert not np.array_equal(a.interests, c.interests)
