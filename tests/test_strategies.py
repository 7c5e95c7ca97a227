"""Allocation strategies (MODEL.md §5.2, checks of §7).

``StrategyContract`` holds the rules every strategy must obey (Axelrod-library style: each
strategy's test class inherits it and only says how to build the strategy). Below it, each
strategy's own semantics, and the plug-in mechanism for third-party strategies.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest

from simulator import PerkCampaignModel, load_scenario, scenario_from_text
from simulator.model import strategies as strat
from simulator.model.strategies import (
    Candidates,
    Strategy,
    StrategyParams,
    make_strategy,
    validate_params,
)

KLOUT_POUT = Path(__file__).resolve().parents[1] / "scenarios" / "klout_pout.yaml"
N = 400


def make_candidates(seed: int, n: int = N, eligible_share: float = 0.7) -> Candidates:
    """Synthetic public signals: scores 1–100 (with ties), a third of users silent."""
    g = np.random.default_rng(seed)
    score = np.round(g.uniform(1, 100, n), 0)  # rounding makes ties, as real scores have
    observed = np.where(g.random(n) < 0.33, 0.0, g.random(n))
    followers = g.geometric(0.05, n) - 1
    eligible = g.random(n) < eligible_share
    return Candidates(score=score, observed_relevance=observed, followers=followers,
                      eligible=eligible)


def build(params: dict) -> Strategy:
    return make_strategy(validate_params(params))


class StrategyContract:
    """Rules every allocation strategy obeys. Subclasses set ``params``."""

    params: ClassVar[dict]

    @pytest.fixture
    def strategy(self) -> Strategy:
        return build(self.params)

    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize("k", [0, 1, 17, N, 10 * N])
    def test_allocation_obeys_the_contract(self, strategy, seed, k):
        c = make_candidates(seed)
        picked = np.asarray(strategy.allocate(c, k, np.random.default_rng(seed)))
        assert picked.ndim == 1
        assert picked.size == 0 or np.issubdtype(picked.dtype, np.integer)
        assert picked.size <= k, "never more than k"
        assert np.all((picked >= 0) & (picked < N)), "indices in range"
        assert np.unique(picked).size == picked.size, "no duplicates"
        assert np.all(c.eligible[picked]), "never an ineligible user"

    def test_nobody_eligible_gives_nobody(self, strategy):
        c = make_candidates(3, eligible_share=0.0)
        assert np.asarray(strategy.allocate(c, 10, np.random.default_rng(0))).size == 0

    @pytest.mark.parametrize("seed", [0, 1])
    def test_allocation_is_deterministic_given_the_rng(self, strategy, seed):
        c = make_candidates(seed)
        first = strategy.allocate(c, 25, np.random.default_rng(seed))
        second = strategy.allocate(c, 25, np.random.default_rng(seed))
        np.testing.assert_array_equal(first, second)

    def test_allocation_does_not_modify_the_candidates(self, strategy):
        c = make_candidates(4)
        before = [a.copy() for a in (c.score, c.observed_relevance, c.followers, c.eligible)]
        strategy.allocate(c, 25, np.random.default_rng(0))
        for old, new in zip(before, (c.score, c.observed_relevance, c.followers, c.eligible),
                            strict=True):
            np.testing.assert_array_equal(old, new)

    def test_strategy_is_documented_and_registered(self, strategy):
        cls = type(strategy)
        assert cls.__doc__ and cls.__doc__.strip()
        assert strat.registry()[cls.name] is cls

    def test_strategy_is_usable_from_a_scenario(self, make_scenario):
        sc = make_scenario(campaign={"strategy": self.params, "perks": 10}, steps=6)
        model = PerkCampaignModel(sc, rng=0)
        model.run()
        row = model.summary().iloc[0]
        assert row["perks_given"] + row["contacts"] == (model.perk[:, 0] > 0).sum()


# --- each strategy: the contract, then its semantics ----------------------------------------


class TestScoreThresholdTop(StrategyContract):
    params: ClassVar[dict] = {"kind": "score_threshold", "threshold": 63, "pick": "top"}

    @pytest.mark.parametrize("seed", range(5))
    def test_never_picks_below_the_threshold(self, strategy, seed):
        c = make_candidates(seed)
        picked = strategy.allocate(c, N, np.random.default_rng(seed))
        assert np.all(c.score[picked] >= 63)
        # with room for everyone, everybody eligible at or above the threshold is picked
        assert set(picked) == set(np.flatnonzero(c.eligible & (c.score >= 63)))

    @pytest.mark.parametrize("seed", range(5))
    def test_with_too_few_perks_takes_the_highest_scores(self, strategy, seed):
        c = make_candidates(seed)
        picked = strategy.allocate(c, 20, np.random.default_rng(seed))
        assert picked.size == 20
        rest = np.setdiff1d(np.flatnonzero(c.eligible & (c.score >= 63)), picked)
        assert c.score[picked].min() >= c.score[rest].max()
        assert np.all(np.diff(c.score[picked]) <= 0), "best first"

    def test_threshold_picks_no_one_below_it_in_a_model_run(self, make_scenario):
        sc = make_scenario(campaign={"strategy": self.params, "perks": 300, "start": 3}, steps=5)
        model = PerkCampaignModel(sc, rng=1)
        model.run(steps=4)  # through the allocation step; model.score is what was used
        picked = model.perk[:, 0] > 0
        assert picked.any()
        assert np.all(model.score[picked] >= 63)
        assert np.all(model.score[~picked] < 63), "300 perks: room for every passing user"
        assert model.brands[0].cutoff == 63


class TestScoreThresholdRandom(StrategyContract):
    params: ClassVar[dict] = {"kind": "score_threshold", "threshold": 40, "pick": "random"}

    def test_random_pick_stays_above_the_threshold_and_varies_with_the_rng(self, strategy):
        c = make_candidates(0)
        draws = [strategy.allocate(c, 10, np.random.default_rng(s)) for s in range(5)]
        for picked in draws:
            assert np.all(c.score[picked] >= 40)
        assert len({tuple(sorted(d)) for d in draws}) > 1


class TestTopScore(StrategyContract):
    params: ClassVar[dict] = {"kind": "top_score"}

    def test_takes_the_k_highest_eligible_scores(self, strategy):
        c = make_candidates(5)
        picked = strategy.allocate(c, 30, np.random.default_rng(0))
        rest = np.setdiff1d(np.flatnonzero(c.eligible), picked)
        assert picked.size == 30
        assert c.score[picked].min() >= c.score[rest].max()


class TestRelevance(StrategyContract):
    params: ClassVar[dict] = {"kind": "relevance"}

    def test_takes_the_most_relevant_and_never_a_silent_user(self, strategy):
        c = make_candidates(6)
        picked = strategy.allocate(c, 10 * N, np.random.default_rng(0))
        assert np.all(c.observed_relevance[picked] > 0), "users who never post cannot be found"
        top = strategy.allocate(c, 25, np.random.default_rng(0))
        rest = np.setdiff1d(np.flatnonzero(c.eligible), top)
        assert c.observed_relevance[top].min() >= c.observed_relevance[rest].max()


class TestHybrid(StrategyContract):
    params: ClassVar[dict] = {"kind": "hybrid", "alpha": 0.5}

    @pytest.mark.parametrize("seed", range(4))
    def test_alpha_one_equals_top_score_ranking(self, seed):
        c = make_candidates(seed)
        hybrid = build({"kind": "hybrid", "alpha": 1.0})
        top = build({"kind": "top_score"})
        for k in (1, 10, 50, N):
            np.testing.assert_array_equal(hybrid.allocate(c, k, np.random.default_rng(seed)),
                                          top.allocate(c, k, np.random.default_rng(seed)))

    def test_alpha_zero_ranks_by_observed_relevance(self):
        c = make_candidates(7)
        picked = build({"kind": "hybrid", "alpha": 0.0}).allocate(c, 40, np.random.default_rng(0))
        rest = np.setdiff1d(np.flatnonzero(c.eligible), picked)
        assert c.observed_relevance[picked].min() >= c.observed_relevance[rest].max()


class TestLottery(StrategyContract):
    params: ClassVar[dict] = {"kind": "lottery"}

    def test_every_eligible_user_has_the_same_chance(self, strategy):
        c = make_candidates(8)
        eligible = np.flatnonzero(c.eligible)
        counts = np.zeros(N)
        draws = 2000
        for s in range(draws):
            counts[strategy.allocate(c, 50, np.random.default_rng(s))] += 1
        assert counts[~c.eligible].sum() == 0
        rate = 50 / eligible.size
        # each eligible user is picked Binomial(2000, rate) times (rate ≈ 0.18): SD ≈ 17,
        # so with ~280 users all within 5 SD of the mean unless the draw is not uniform
        sd = np.sqrt(draws * rate * (1 - rate))
        assert np.all(np.abs(counts[eligible] - draws * rate) < 5 * sd)


class TestTopFollowers(StrategyContract):
    params: ClassVar[dict] = {"kind": "top_followers"}

    @pytest.mark.parametrize("seed", range(3))
    def test_picks_the_largest_audiences(self, strategy, seed):
        c = make_candidates(seed)
        picked = strategy.allocate(c, 20, np.random.default_rng(seed))
        assert picked.size == 20
        left = c.eligible.copy()
        left[picked] = False
        assert c.followers[picked].min() >= c.followers[left].max()


class TestOutreach(StrategyContract):
    params: ClassVar[dict] = {"kind": "outreach", "contacts": 12, "contact_cost": 40.0}

    @pytest.mark.parametrize("seed", range(4))
    def test_contacts_only_relevant_users_with_at_least_median_followers(self, strategy, seed):
        c = make_candidates(seed)
        picked = strategy.allocate(c, N, np.random.default_rng(seed))
        assert picked.size > 0
        assert np.all(c.followers[picked] >= np.median(c.followers))
        assert np.all(c.observed_relevance[picked] > 0)

    def test_budget_is_contacts_not_perks(self, strategy):
        assert strategy.budget(500) == 12
        from simulator.scenario.schema import PerkCost

        followers = np.arange(12)
        assert strategy.cost(followers, PerkCost(fixed=1000.0, per_follower=5.0)) == 12 * 40.0


class TestFixed(StrategyContract):
    # ineligible-prone ids, a negative id and one out of range on purpose; repeated ids are
    # checked separately below
    params: ClassVar[dict] = {"kind": "fixed", "users": [5, 3, 17, 250, 399, 400, -1, 12]}

    def test_picks_the_listed_users_in_order(self):
        c = make_candidates(9, eligible_share=1.0)
        picked = build({"kind": "fixed", "users": [9, 2, 44]}).allocate(c, 10, np.random.default_rng(0))
        assert picked.tolist() == [9, 2, 44]

    def test_picks_each_listed_user_at_most_once(self):
        """A scenario listing a user twice must not yield a duplicate (the contract above)."""
        c = make_candidates(9, eligible_share=1.0)
        picked = build({"kind": "fixed", "users": [9, 9, 2]}).allocate(c, 10, np.random.default_rng(0))
        assert sorted(picked.tolist()) == [2, 9]

    def test_model_gives_perks_to_exactly_the_listed_users(self, make_scenario):
        users = [4, 8, 15, 16, 23, 42]
        sc = make_scenario(campaign={"strategy": {"kind": "fixed", "users": users}, "perks": 10})
        model = PerkCampaignModel(sc, rng=0)
        model.run()
        assert np.flatnonzero(model.perk[:, 0]).tolist() == users
        assert model.summary().iloc[0]["perks_given"] == len(users)

    def test_a_repeated_id_costs_one_perk(self, make_scenario):
        sc = make_scenario(campaign={"strategy": {"kind": "fixed", "users": [4, 4, 8]}, "perks": 10,
                                     "perk_cost": {"fixed": 100}})
        model = PerkCampaignModel(sc, rng=0)
        model.run()
        row = model.summary().iloc[0]
        assert (model.perk[:, 0] > 0).sum() == 2
        assert row["perks_given"] == 2
        assert row["cost"] == 200


# --- model-level semantics on the homophilous default population ------------------------------


def klout_pout(*overrides: str):
    return load_scenario(KLOUT_POUT, list(overrides))


SEEDS = [0, 1, 2]


def test_relevance_picks_recipients_with_higher_fit_than_score_threshold():
    fit = {}
    for kind in ("score_threshold", "relevance"):
        values = []
        for seed in SEEDS:
            model = PerkCampaignModel(klout_pout(f"campaigns[0].strategy={{kind: {kind}}}"), rng=seed)
            model.run(steps=16)  # allocation is at step 14
            values.append(model.summary().iloc[0]["recipient_fit"])
        fit[kind] = float(np.mean(values))
    # observed: ≈ 0.14 (threshold) vs ≈ 0.75 (relevance); require a gap of 0.2 — far larger
    # than the seed-to-seed spread (≈ 0.05 for both)
    assert fit["relevance"] > fit["score_threshold"] + 0.2, fit


def _null_coverage(model: PerkCampaignModel, k: int, draws: int, seed: int) -> np.ndarray:
    """coverage_ratio of uniformly random k-subsets of this model's users."""
    from simulator.model.metrics import coverage_ratio

    g = np.random.default_rng(seed)
    out = np.empty(draws)
    for d in range(draws):
        mask = np.zeros(model.n, dtype=bool)
        mask[g.choice(model.n, size=k, replace=False)] = True
        out[d] = coverage_ratio(model, mask)
    return out


def test_lottery_coverage_ratio_is_near_one_when_perks_are_plentiful():
    ratios = []
    for seed in SEEDS:
        model = PerkCampaignModel(klout_pout("campaigns[0].strategy={kind: lottery}",
                                             "campaigns[0].perks=900"), rng=seed)
        model.run(steps=16)
        row = model.summary().iloc[0]
        assert row["perks_given"] == 900  # 30 % of 3,000 users
        ratios.append(row["coverage_ratio"])
        # A ratio of exactly 1 is not expected even for a perfectly uniform draw: the smallest
        # group (60 broadcasters) has a binomial SD of ≈ 0.06 on a rate of 0.3. The tolerance
        # is therefore the sampling distribution itself: the ratio must lie inside the central
        # 99.8 % of the ratios of 500 uniformly random 900-subsets of the same users.
        null = _null_coverage(model, 900, 500, seed)
        lo, hi = np.quantile(null, [0.001, 0.999])
        assert lo <= row["coverage_ratio"] <= hi, (row["coverage_ratio"], lo, hi)
    assert np.mean(ratios) >= 0.7, ratios
    threshold = PerkCampaignModel(klout_pout(), rng=0)
    threshold.run(steps=16)
    assert threshold.summary().iloc[0]["coverage_ratio"] < 0.3, "the score rule is uneven"


def test_outreach_contacts_users_with_at_least_median_followers_and_costs_staff_time(make_scenario):
    sc = make_scenario(campaign={"strategy": {"kind": "outreach", "contacts": 15, "contact_cost": 30.0},
                                 "perks": 50, "perk_cost": {"fixed": 500}, "waves": 2, "wave_every": 3})
    model = PerkCampaignModel(sc, rng=2)
    model.run()
    contacted = model.perk[:, 0] > 0
    assert contacted.sum() == 30  # two waves of 15
    followers = model.graph.followers_count
    assert np.all(followers[contacted] >= np.median(followers))
    row = model.summary().iloc[0]
    assert row["perks_given"] == 0
    assert row["contacts"] == 30
    assert row["cost"] == 30 * 30.0
    assert row["mentions_paid"] == 0, "no perk is paid, so its mentions are organic"


# --- third-party strategies -----------------------------------------------------------------


class LowestScore(Strategy):
    """Perks to the lowest scores (a deliberately contrarian third-party strategy)."""

    name = "lowest_score"
    argument = "the overlooked"

    class Params(StrategyParams):
        kind: Literal["lowest_score"]
        skip: int = 0

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        idx = np.flatnonzero(c.eligible)
        return idx[np.argsort(c.score[idx], kind="stable")][self.params.skip:self.params.skip + k]


@pytest.fixture
def clean_registry(monkeypatch):
    """Registrations inside a test do not leak into other tests."""
    monkeypatch.setattr(strat, "_REGISTRY", dict(strat._REGISTRY))
    return strat


SCENARIO_WITH_CUSTOM = """
name: custom
steps: 5
score: {warmup: 3}
population: {size: 200, graph: {kind: barabasi_albert, m: 2}}
campaigns:
  - brand: b
    topic: sports
    perks: 7
    start: 1
    strategy: {kind: lowest_score, skip: 2}
"""


def test_a_strategy_registered_in_python_is_usable_from_a_scenario(clean_registry):
    clean_registry.register(LowestScore)
    sc = scenario_from_text(SCENARIO_WITH_CUSTOM)
    assert sc.campaigns[0].strategy.skip == 2
    model = PerkCampaignModel(sc, rng=0)
    model.run(steps=2)  # through the allocation at step 1
    picked = model.perk[:, 0] > 0
    assert picked.sum() == 7
    # the 7 picked users are the 3rd…9th lowest scores at allocation
    order = np.sort(model.score)
    assert model.score[picked].max() <= order[8]


def test_unknown_parameters_of_a_registered_strategy_are_errors(clean_registry):
    from simulator import ScenarioError

    clean_registry.register(LowestScore)
    with pytest.raises(ScenarioError, match="skp"):
        scenario_from_text(SCENARIO_WITH_CUSTOM.replace("skip: 2", "skp: 2"))


def test_register_needs_a_name(clean_registry):
    class Nameless(Strategy):
        """No name."""

    with pytest.raises(TypeError):
        clean_registry.register(Nameless)


class FakeEntryPoint:
    def __init__(self, name, obj):
        self.name, self._obj = name, obj
        self.loaded = False

    def load(self):
        self.loaded = True
        return self._obj


def test_strategies_are_discovered_through_the_simulator_strategies_entry_point_group(
        clean_registry, monkeypatch):
    seen_groups = []
    ep = FakeEntryPoint("lowest_score", LowestScore)

    def fake_entry_points(*, group):
        seen_groups.append(group)
        return [ep] if group == "simulator.strategies" else []

    monkeypatch.setattr(strat, "entry_points", fake_entry_points)
    monkeypatch.setattr(strat, "_ENTRY_POINTS_LOADED", False)
    assert "lowest_score" not in strat._REGISTRY
    assert strat.ENTRY_POINT_GROUP == "simulator.strategies"
    registry = strat.registry()
    assert seen_groups == ["simulator.strategies"]
    assert ep.loaded and registry["lowest_score"] is LowestScore
    sc = scenario_from_text(SCENARIO_WITH_CUSTOM)
    model = PerkCampaignModel(sc, rng=0)
    model.run(steps=2)
    assert (model.perk[:, 0] > 0).sum() == 7
    strat.registry()
    assert seen_groups == ["simulator.strategies"], "entry points are loaded once"


def test_an_entry_point_cannot_replace_a_built_in_strategy(clean_registry, monkeypatch):
    class Impostor(LowestScore):
        """Claims a built-in name."""

        name = "lottery"

    monkeypatch.setattr(strat, "entry_points", lambda *, group: [FakeEntryPoint("lottery", Impostor)])
    monkeypatch.setattr(strat, "_ENTRY_POINTS_LOADED", False)
    assert strat.registry()["lottery"] is strat.Lottery


# --- waves and repeats -------------------------------------------------------------------------


def test_a_budget_split_in_waves_gives_each_user_at_most_one_perk(make_scenario):
    sc = make_scenario(steps=12, campaign={"strategy": {"kind": "lottery"}, "perks": 300, "waves": 3,
                                           "wave_every": 3})
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    assert model.n == 300
    assert np.all(model.perk[:, 0] == 1), "300 perks for 300 users: everyone exactly once"
    steps, counts = np.unique(model.picked_at[:, 0], return_counts=True)
    assert steps.tolist() == [2, 5, 8] and counts.tolist() == [100, 100, 100]
    assert model.summary().iloc[0]["perks_given"] == 300


def test_uneven_wave_budgets_add_up_to_the_perks(make_scenario):
    sc = make_scenario(steps=12, campaign={"strategy": {"kind": "lottery"}, "perks": 50, "waves": 3,
                                           "wave_every": 3})
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    per_wave = np.unique(model.picked_at[:, 0][model.perk[:, 0] > 0], return_counts=True)[1]
    assert per_wave.sum() == 50 and per_wave.max() - per_wave.min() <= 1


def test_repeats_are_possible_only_when_allowed(make_scenario):
    sc = make_scenario(steps=12, campaign={"strategy": {"kind": "top_score"}, "perks": 30, "waves": 3,
                                           "wave_every": 3, "allow_repeats": True})
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    assert model.perk[:, 0].max() > 1
    assert model.summary().iloc[0]["perks_given"] == model.perk[:, 0].sum() == 30
