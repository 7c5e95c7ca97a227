"""Behaviour rules of simulator/model/dynamics.py (MODEL.md §5.3–§5.6) and the pout checks of §7.

Kernels are tested directly (several with hypothesis, property-based); the pout rules are
also checked in model runs.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator import PerkCampaignModel
from simulator.model import dynamics as dyn

unit = st.floats(0.0, 1.0, allow_nan=False)
counts = st.integers(0, 50)
small_settings = settings(max_examples=200, deadline=None)


# --- attention ------------------------------------------------------------------------------


def test_view_probability_falls_with_followers_and_is_capped_at_one():
    followers = np.array([0, 1, 10, 100, 1_000, 10_000, 1_000_000])
    view = dyn.view_probability(followers, v0=1.0, beta=0.25)
    assert np.all(view <= 1.0) and np.all(view > 0)
    assert view[0] == 1.0 and view[1] == 1.0  # a tiny audience sees everything
    assert np.all(np.diff(view[1:]) < 0)
    # the documented power law: v0 · followers^(−β)
    assert view[4] == pytest.approx(1_000 ** -0.25)


def test_view_probability_is_constant_without_attention_limits():
    view = dyn.view_probability(np.array([0, 5, 5000]), v0=0.7, beta=0.0)
    np.testing.assert_allclose(view, 0.7)


@small_settings
@given(f=arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 10**7)),
       v0=unit, beta=st.floats(0.0, 2.0))
def test_view_probability_is_a_probability_and_never_rises_with_audience(f, v0, beta):
    view = dyn.view_probability(np.sort(f), v0, beta)
    assert np.all((view >= 0) & (view <= 1))
    assert np.all(np.diff(view) <= 1e-12)


# --- exposures -------------------------------------------------------------------------------


def random_follows(n: int, density: float, seed: int) -> sp.csr_array:
    g = np.random.default_rng(seed)
    dense = (g.random((n, n)) < density).astype(float)
    np.fill_diagonal(dense, 0.0)
    return sp.csr_array(dense)


@pytest.mark.parametrize("seed", range(5))
def test_sample_exposures_with_view_one_counts_every_follower_of_every_author(seed):
    n = 60
    followers = random_follows(n, 0.1, seed)
    g = np.random.default_rng(seed)
    authors = g.integers(n, size=15)  # repeats allowed: two mentions expose twice
    got = dyn.sample_exposures(followers, authors, np.ones(n), g)
    dense = followers.toarray()
    expected = np.zeros(n, dtype=np.int64)
    for a in authors:  # brute force, edge by edge: followers[a, j] == 1 means j sees a
        for j in range(n):
            if dense[a, j]:
                expected[j] += 1
    np.testing.assert_array_equal(got, expected)


def test_sample_exposures_with_view_zero_or_no_authors_exposes_nobody():
    followers = random_follows(40, 0.2, 1)
    g = np.random.default_rng(0)
    assert dyn.sample_exposures(followers, np.arange(40), np.zeros(40), g).sum() == 0
    assert dyn.sample_exposures(followers, np.array([], dtype=np.int64), np.ones(40), g).sum() == 0


def test_sample_exposures_sees_each_follow_edge_with_the_view_probability():
    n = 80
    followers = random_follows(n, 0.15, 2)
    authors = np.arange(0, n, 2)
    full = dyn.sample_exposures(followers, authors, np.ones(n), np.random.default_rng(0))
    g = np.random.default_rng(1)
    draws = 400
    total = sum(dyn.sample_exposures(followers, authors, np.full(n, 0.3), g) for _ in range(draws))
    # Binomial(draws · full.sum(), 0.3) in total: SD ≈ sqrt(400·~500·0.21) ≈ 200; use 5 SD
    trials = draws * full.sum()
    assert abs(total.sum() - 0.3 * trials) < 5 * np.sqrt(trials * 0.3 * 0.7)
    assert np.all(total <= draws * full)


# --- persuasion --------------------------------------------------------------------------


def test_adoption_probability_combines_exposures_as_one_minus_product():
    s = np.array([0.5, 0.8])
    rel = np.array([1.0, 0.5])
    aff = np.array([1.0, 1.0])
    exposures = [(np.array([2, 1]), 0.25), (np.array([1, 3]), 0.1)]
    got = dyn.adoption_probability(s, rel, aff, exposures)
    p_org = s * rel * 0.25
    p_paid = s * rel * 0.1
    expected = 1 - (1 - p_org) ** np.array([2, 1]) * (1 - p_paid) ** np.array([1, 3])
    np.testing.assert_allclose(got, expected)


@small_settings
@given(s=unit, rel=unit, aff=unit, p1=unit, p2=unit, c1=counts, c2=counts, extra=st.integers(1, 5))
def test_adoption_probability_is_a_probability_and_rises_with_exposures(s, rel, aff, p1, p2, c1, c2,
                                                                       extra):
    def prob(a, b):
        return dyn.adoption_probability(np.array([s]), np.array([rel]), np.array([aff]),
                                        [(np.array([a]), p1), (np.array([b]), p2)])[0]

    base = prob(c1, c2)
    assert 0.0 <= base <= 1.0
    assert prob(c1 + extra, c2) >= base
    assert prob(c1, c2 + extra) >= base
    assert prob(0, 0) == 0.0
    # the closed form 1 − Π(1 − p)
    expected = 1 - (1 - s * rel * aff * p1) ** c1 * (1 - s * rel * aff * p2) ** c2
    assert base == pytest.approx(expected, abs=1e-12)


@small_settings
@given(fit=unit, policy=unit, excl=unit, boost=st.floats(0.0, 5.0))
def test_paid_mention_probability_is_bounded_and_raised_by_exclusivity(fit, policy, excl, boost):
    p = dyn.mention_probability_paid(np.array([fit]), 1.0, policy, excl, boost)[0]
    assert 0.0 <= p <= 1.0
    assert p >= dyn.mention_probability_paid(np.array([fit]), 1.0, policy, 0.0, boost)[0]


# --- reactions ----------------------------------------------------------------------------


@small_settings
@given(reactions=arrays(np.int64, 10, elements=st.integers(0, 10**6)),
       followers=arrays(np.int64, 10, elements=st.integers(0, 10**6)))
def test_distinct_reactors_never_exceed_reactions_or_followers(reactions, followers):
    d = dyn.distinct_reactors(reactions, followers)
    assert np.all(d >= 0)
    # relative slack 1e-9 for floating-point rounding of F·(1 − exp(−R/F))
    assert np.all(d <= reactions * (1 + 1e-9))
    assert np.all(d <= followers * (1 + 1e-9))


def test_distinct_reactors_approach_reactions_when_the_audience_is_large():
    d = dyn.distinct_reactors(np.array([10.0]), np.array([1_000_000]))
    assert d[0] == pytest.approx(10.0, rel=1e-4)
    assert dyn.distinct_reactors(np.array([10**6]), np.array([50]))[0] == pytest.approx(50.0)


def test_relevance_is_cosine_times_region_factor():
    theta = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    region = np.array([0, 1, 0])
    national = dyn.relevance(theta, np.array([1.0, 0.0]), region, None, 0.3)
    np.testing.assert_allclose(national, [1.0, np.sqrt(0.5), 0.0])
    local = dyn.relevance(theta, np.array([1.0, 0.0]), region, 0, 0.3)
    np.testing.assert_allclose(local, [1.0, 0.3 * np.sqrt(0.5), 0.0])


def test_fans_are_the_top_quantile_of_relevance():
    rel = np.linspace(0, 1, 101)
    fans = dyn.fan_mask(rel, 0.1)
    assert fans.sum() == 11 and fans[-11:].all()
    np.testing.assert_array_equal(dyn.fanness(rel, fans)[fans], 1.0)


# --- pout: the kernels ---------------------------------------------------------------------


def test_closeness_is_one_at_the_threshold_and_fades_below():
    score = np.array([20.0, 55.0, 60.0, 62.0, 63.0, 80.0])
    c = dyn.closeness(score, 63.0, 5.0)
    assert c[-1] == c[-2] == 1.0
    assert np.all(np.diff(c) >= 0)
    assert c[3] > 0.8 > c[0]  # "almost made it" hurts most
    assert np.all(dyn.closeness(score, None, 5.0) == 0.0)


def test_pout_increment_is_zero_when_nothing_is_visible():
    inc = dyn.pout_increment(np.zeros(3), np.ones(3), np.ones(3), np.ones(3), kappa=0.5, factor=2.0)
    np.testing.assert_array_equal(inc, 0.0)


def test_near_threshold_users_pout_more_than_far_below_ones_at_equal_fanness():
    score = np.array([61.0, 30.0])  # near the threshold vs far below it
    fanness = np.array([0.2, 0.2])
    entitled = dyn.entitlement(fanness, dyn.closeness(score, 63.0, 5.0), 0.5, 0.0, 0.7)
    inc = dyn.pout_increment(np.array([2.0, 2.0]), np.full(2, 0.5), np.full(2, 0.6), entitled,
                             kappa=0.5, factor=1.0)
    assert inc[0] > 2 * inc[1] > 0


def test_a_fan_who_almost_made_it_feels_more_entitled_than_a_fan_far_below():
    # the specification's max(fanness, closeness) was 1 for every fan, so closeness never
    # mattered for fans; combined as independent reasons it does
    closeness = dyn.closeness(np.array([62.0, 20.0]), 63.0, 5.0)
    fan = np.ones(2)
    entitled = dyn.entitlement(fan, closeness, 0.5, 0.0, 0.7)
    assert entitled[1] == pytest.approx(0.5, abs=1e-3)  # a fan far from any bar: entitlement_fan
    assert entitled[0] > 0.9  # a fan who almost made it
    # transparent rules relieve both reasons alike
    np.testing.assert_allclose(dyn.entitlement(fan, closeness, 0.5, 1.0, 0.7), 0.3 * entitled)


@small_settings
@given(fanness=unit, closeness=unit, e_fan=unit, transparency=unit, relief=unit)
def test_entitlement_is_a_share_and_rises_with_both_reasons(fanness, closeness, e_fan, transparency,
                                                            relief):
    def ent(f, c):
        return dyn.entitlement(np.array([f]), np.array([c]), e_fan, transparency, relief)[0]

    e = ent(fanness, closeness)
    assert 0.0 <= e <= 1.0
    assert ent(min(1.0, fanness + 0.1), closeness) >= e - 1e-12
    assert ent(fanness, min(1.0, closeness + 0.1)) >= e - 1e-12
    assert e >= closeness * (1 - transparency * relief) - 1e-12


@small_settings
@given(visible=st.floats(0, 100), rho=unit, want=unit, entitled=unit, kappa=st.floats(0.01, 5),
       excl=unit, effect=st.floats(-1.0, 1.0), more=st.floats(0.01, 10))
def test_pout_increment_rises_with_visibility_and_follows_the_exclusivity_effect(
        visible, rho, want, entitled, kappa, excl, effect, more):
    def inc(v, factor):
        return dyn.pout_increment(np.array([v]), np.array([rho]), np.array([want]),
                                  np.array([entitled]), kappa, factor)[0]

    factor = 1.0 + effect * excl  # exclusivity_pout < 0 relieves bystanders (the default)
    base = inc(visible, factor)
    assert 0.0 <= base <= rho * want * entitled * factor + 1e-12
    assert inc(visible + more, factor) >= base
    plain = inc(visible, 1.0)  # an open offer
    if effect * excl < 0:
        assert base <= plain  # exclusivity relieves bystanders (Steinhoff & Palmatier 2016)
    else:
        assert base >= plain


@small_settings
@given(total=arrays(np.float64, 6, elements=st.floats(0, 1)),
       sources=arrays(np.int64, (6, 3), elements=st.integers(0, 50)))
def test_pout_split_by_source_adds_up(total, sources):
    sources = sources.astype(float)  # sightings are counts
    parts = dyn.split_by_source(total, sources)
    seen = sources.sum(axis=1) > 0
    np.testing.assert_allclose(parts.sum(axis=1)[seen], total[seen], rtol=1e-9, atol=1e-12)
    assert np.all(parts[~seen] == 0) and np.all(parts >= 0)


@small_settings
@given(fit=unit, policy=unit, transparency=unit, loss=unit)
def test_clear_rules_dampen_the_recipients_mentions(fit, policy, transparency, loss):
    # Steinhoff & Palmatier (2016): rule clarity suppresses the target's positive effect too
    def p(t):
        return dyn.mention_probability_paid(np.array([fit]), 1.0, policy, 0.0, 0.0, t, loss)[0]

    assert p(transparency) <= p(0.0)
    assert p(transparency) == pytest.approx(p(0.0) * (1 - transparency * loss))


def test_brand_talk_needs_posts_and_falls_with_pout():
    posts = np.array([0, 1, 5, 5])
    rel = np.array([1.0, 1.0, 1.0, 1.0])
    pout = np.array([0.0, 0.0, 0.0, 1.0])
    p = dyn.talk_probability(posts, rel, 0.1, pout)
    assert p[0] == 0.0 and p[3] == 0.0
    assert p[1] == pytest.approx(0.1)
    assert p[2] == pytest.approx(1 - 0.9**5)


def test_adoptions_are_credited_in_proportion_to_each_kinds_hazard():
    # 1 paid exposure at p = 0.1 against 3 organic ones at p = 0.2: hazards
    # −log(0.9) = 0.105 and −3·log(0.8) = 0.669, so the paid share is 0.136. With 20,000 draws
    # the standard error is 0.0024: a tolerance of 0.01 is over 4 standard errors.
    n = 20_000
    counts = [np.ones(n), np.full(n, 3.0)]
    cause = dyn.attribute_adoptions(counts, [0.1, 0.2], np.ones(n), np.random.default_rng(5))
    share = -np.log(0.9) / (-np.log(0.9) - 3 * np.log(0.8))
    assert abs((cause == 0).mean() - share) < 0.01
    # a kind nobody was exposed to is never credited
    cause = dyn.attribute_adoptions([np.zeros(50), np.ones(50)], [0.5, 0.5], np.ones(50),
                                    np.random.default_rng(1))
    assert np.all(cause == 1)


@small_settings
@given(g=arrays(np.float64, 8, elements=unit), pout=arrays(np.float64, 8, elements=unit),
       boost=st.floats(0, 10), reciprocity=st.floats(0, 10), loss=unit, max_rate=st.floats(1, 100),
       min_q=unit, bump=st.floats(0.0, 1.0))
def test_gaming_factors_are_bounded_and_increase_with_pout(g, pout, boost, reciprocity, loss,
                                                           max_rate, min_q, bump):
    rate, react, quality = dyn.gaming_factors(g, pout, boost, reciprocity, loss, max_rate, min_q)
    assert np.all((rate >= 1.0) & (rate <= max_rate))
    assert np.all(react >= 1.0)
    assert np.all((quality >= min_q) & (quality <= 1.0))
    more = np.minimum(pout + bump, 1.0)
    rate2, react2, quality2 = dyn.gaming_factors(g, more, boost, reciprocity, loss, max_rate, min_q)
    assert np.all(rate2 >= rate) and np.all(react2 >= react) and np.all(quality2 <= quality)


def test_gaming_factors_are_neutral_without_pout():
    factors = dyn.gaming_factors(np.ones(3), np.zeros(3), 1.0, 2.0, 0.5, 3.0, 0.3)
    for f in factors:
        np.testing.assert_array_equal(f, 1.0)


# --- pout in model runs ----------------------------------------------------------------------

POUT_BEHAVIOUR = {"base_negative": 0.0, "publicity": 0.3}


def test_pout_stays_zero_all_run_when_no_perks_are_given(make_scenario):
    sc = make_scenario(campaign={"perks": 0, "start": 1}, behaviour={"publicity": 1.0}, steps=15)
    model = PerkCampaignModel(sc, rng=0)
    for _ in range(sc.steps):
        model.step()
        assert np.all(model.pout == 0.0)
    assert (model.steps_frame()["pout_mean"] == 0).all()
    assert (model.steps_frame()["pouting_share"] == 0).all()


def test_pout_stays_zero_when_the_campaign_pays_no_perks(make_scenario):
    sc = make_scenario(campaign={"strategy": {"kind": "outreach", "contacts": 20}},
                       behaviour={"publicity": 1.0}, steps=15)
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    assert np.all(model.pout == 0.0)


def test_pout_rises_once_perks_are_visible(make_scenario):
    sc = make_scenario(behaviour=POUT_BEHAVIOUR, steps=15)
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    steps = model.steps_frame()
    assert (steps.loc[steps.step < 2, "pout_mean"] == 0).all()  # before the campaign starts
    assert steps["pout_mean"].iloc[-1] > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_near_threshold_users_pout_more_than_far_below_ones_in_a_run(make_scenario, seed):
    # two topics without homophily: relevance (hence fan-ness and want) is unrelated to score
    sc = make_scenario(population={"size": 2000, "topics": ["a", "b"], "homophily": 0.0},
                       processes={"gaming": False}, behaviour=POUT_BEHAVIOUR, steps=25,
                       campaign={"topic": "a", "perks": 60, "start": 3,
                                 "strategy": {"kind": "score_threshold", "threshold": 55}})
    model = PerkCampaignModel(sc, rng=seed)
    model.run()
    brand = model.brands[0]
    excluded = model.perk[:, 0] == 0
    low_fan = brand.fanness < 0.35  # equal (low) fan-ness: entitlement comes from closeness
    near = excluded & low_fan & (model.score >= 50) & (model.score < 55)
    far = excluded & low_fan & (model.score < 35)
    assert near.sum() >= 50 and far.sum() >= 50
    # the near group is no more relevant (observed ≈ 0.09 vs 0.11), so its higher pout is the
    # "almost made it" term; observed ratios 2.0–2.5 over seeds 0–3, required: 1.5
    assert brand.relevance[near].mean() <= brand.relevance[far].mean() + 0.02
    assert model.pout[near, 0].mean() > 1.5 * model.pout[far, 0].mean()


def test_recipients_pout_only_decays(make_scenario):
    sc = make_scenario(behaviour=POUT_BEHAVIOUR, steps=20,
                       campaign={"strategy": {"kind": "lottery"}, "perks": 90, "waves": 3,
                                 "wave_every": 5, "start": 1, "exclusivity": 1.0})
    model = PerkCampaignModel(sc, rng=3)
    decay = sc.behaviour.pout_decay
    before = model.pout[:, 0].copy()
    had_pout_when_picked = 0
    for _ in range(sc.steps):
        model.step()
        now = model.pout[:, 0]
        recipient = model.perk[:, 0] > 0
        had_pout_when_picked += int((before[recipient & (model.picked_at[:, 0] == model.t - 1)] > 0).sum())
        np.testing.assert_allclose(now[recipient], decay * before[recipient], rtol=1e-12, atol=0)
        before = now.copy()
    assert had_pout_when_picked > 0, "later waves must pick some users who already pouted"


def _mean_excluded_pout(make_scenario, seed, behaviour=None, **campaign):
    sc = make_scenario(population={"size": 1000}, processes={"gaming": False},
                       behaviour={**POUT_BEHAVIOUR, "exclusivity_boost": 0.0, **(behaviour or {})},
                       steps=20, campaign={"perks": 40, **campaign})
    model = PerkCampaignModel(sc, rng=seed)
    model.run()
    return model.summary().iloc[0]["pout_mean"]


@pytest.mark.parametrize("seed", [0, 1])
def test_exclusive_framing_relieves_bystanders_by_default(make_scenario, seed):
    # exclusivity_pout = −0.3 (Steinhoff & Palmatier 2016): the increment is × 0.7 at full
    # exclusivity. Observed ratios 0.71–0.72 (seeds 0–3); required: below 0.85
    open_offer = _mean_excluded_pout(make_scenario, seed, exclusivity=0.0)
    exclusive = _mean_excluded_pout(make_scenario, seed, exclusivity=1.0)
    assert 0 < exclusive < 0.85 * open_offer


@pytest.mark.parametrize("seed", [0, 1])
def test_the_opposite_assumption_sharpens_pout(make_scenario, seed):
    # exclusivity_pout = +1: the specification's first sketch (× 2 at full exclusivity).
    # Observed ratios 1.76–1.80 (seeds 0–3; saturation keeps them below 2); required: 1.3
    sharpen = {"exclusivity_pout": 1.0}
    open_offer = _mean_excluded_pout(make_scenario, seed, sharpen, exclusivity=0.0)
    exclusive = _mean_excluded_pout(make_scenario, seed, sharpen, exclusivity=1.0)
    assert exclusive > 1.3 * open_offer > 0


def test_pout_is_the_sum_of_its_sources(make_scenario):
    sc = make_scenario(population={"size": 1000}, behaviour={"publicity": 0.05}, steps=20,
                       campaign={"perks": 60, "start": 2})
    model = PerkCampaignModel(sc, rng=2)
    model.run()
    np.testing.assert_allclose(model.pout_parts.sum(axis=2), model.pout, rtol=1e-12, atol=1e-15)
    assert np.all(model.pout_parts >= 0)
    seen = model.pout_parts[:, 0, :].sum(axis=0)
    assert np.all(seen > 0)  # mentions, displays and publicity all contributed
    row = model.summary().iloc[0]
    shares = [row["pout_from_mentions"], row["pout_from_displays"], row["pout_from_publicity"]]
    assert sum(shares) == pytest.approx(1.0)


def test_without_publicity_no_pout_comes_from_publicity(make_scenario):
    sc = make_scenario(population={"size": 1000}, behaviour={"publicity": 0.0}, steps=20)
    model = PerkCampaignModel(sc, rng=2)
    model.run()
    assert model.pout[:, 0].max() > 0  # seeing perks still hurts
    assert np.all(model.pout_parts[:, 0, 2] == 0)
    assert model.summary().iloc[0]["pout_from_publicity"] == 0.0


def test_pout_of_excluded_fans_rises_with_the_number_of_visible_perks(make_scenario):
    # publicity off: pout comes only from perks seen. 20 → 160 perks: observed pout_fans rises
    # 6–28 fold (seeds 0–3, e.g. 0.0006 → 0.0045); required: more than twice as much
    def pout_fans(perks):
        sc = make_scenario(population={"size": 2000}, behaviour={"publicity": 0.0}, steps=20,
                           processes={"gaming": False},
                           campaign={"perks": perks, "strategy": {"kind": "lottery"}})
        model = PerkCampaignModel(sc, rng=0)
        model.run()
        return model.summary().iloc[0]["pout_fans"]

    assert pout_fans(160) > 2 * pout_fans(20) > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_transparent_rules_lower_pout(make_scenario, seed):
    # transparency 1 multiplies entitlement by 1 − relief (0.3 by default). Observed ratios
    # 0.30–0.32 (seeds 0–3); required: below 0.7
    opaque = _mean_excluded_pout(make_scenario, seed, rule_transparency=0.0)
    transparent = _mean_excluded_pout(make_scenario, seed, rule_transparency=1.0)
    assert transparent < 0.7 * opaque


def test_gaming_raises_post_rates_of_pouting_score_chasers(make_scenario):
    sc = make_scenario(population={"size": 1000}, behaviour={**POUT_BEHAVIOUR, "publicity": 1.0},
                       campaign={"perks": 30, "exclusivity": 1.0}, steps=20)
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    worst = model.pout.max(axis=1)
    b = sc.behaviour
    rate, react, quality = dyn.gaming_factors(model.population.gaming, worst, b.gaming_post_boost,
                                              b.gaming_reciprocity, b.gaming_quality_loss,
                                              b.gaming_max_rate_factor, b.gaming_min_quality_factor)
    np.testing.assert_allclose(model.post_factor, rate)
    np.testing.assert_allclose(model.reaction_factor, react)
    np.testing.assert_allclose(model.quality_factor, quality)
    assert model.post_factor.max() > 1.0
