"""Several brands in one run (MODEL.md §2 brands, §6 per-brand observation)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import PerkCampaignModel

BRANDS = [
    {"brand": "courtside", "topic": "sports", "region": "los_angeles", "perks": 20, "start": 2,
     "strategy": {"kind": "score_threshold", "threshold": 50}},
    {"brand": "bytes", "topic": "tech", "perks": 20, "start": 2, "strategy": {"kind": "relevance"}},
    {"brand": "brunch", "topic": {"food": 2, "travel": 1}, "perks": 20, "start": 7,
     "strategy": {"kind": "lottery"}},
]
NAMES = [b["brand"] for b in BRANDS]
STEPS = 12


@pytest.fixture(scope="module")
def model(make_scenario):
    sc = make_scenario(campaigns=BRANDS, steps=STEPS, population={"size": 500})
    m = PerkCampaignModel(sc, rng=4)
    m.run()
    return m


def test_steps_frame_has_one_row_per_step_and_brand(model):
    steps = model.steps_frame()
    assert len(steps) == STEPS * len(BRANDS)
    assert sorted(steps.groupby(["step", "brand"]).size().unique()) == [1]
    assert set(steps["brand"]) == set(NAMES)
    assert sorted(steps["step"].unique()) == list(range(STEPS))


def test_summary_has_one_row_per_brand_with_its_final_values(model):
    summary = model.summary()
    assert summary["brand"].tolist() == NAMES
    steps = model.steps_frame()
    for name in NAMES:
        last = steps[steps.brand == name].iloc[-1]
        row = summary[summary.brand == name].iloc[0]
        assert row["step"] == STEPS - 1
        assert row["perks_given"] == last["perks_given"] == 20
        assert row["reach"] == last["reach"]


def test_users_frame_has_per_brand_columns(model):
    users = model.users_frame()
    assert len(users) == model.n
    for name in NAMES:
        for prefix in ("relevance", "fan", "perk", "aware", "adopted", "pout"):
            assert f"{prefix}_{name}" in users.columns
        c = NAMES.index(name)
        np.testing.assert_array_equal(users[f"perk_{name}"], model.perk[:, c])
        np.testing.assert_array_equal(users[f"adopted_{name}"], model.adopted[:, c])


def test_brands_have_their_own_relevance_and_fans(model):
    rel = [b.relevance for b in model.brands]
    assert not np.allclose(rel[0], rel[1])
    assert not np.array_equal(model.brands[0].fans, model.brands[1].fans)
    # a regional brand: users outside Los Angeles are damped by region_mismatch
    pop = model.population
    la = pop.region == pop.region_names.index("los_angeles")
    assert rel[0][~la].max() <= model.spec.behaviour.region_mismatch + 1e-12


def test_brands_with_different_strategies_get_different_recipients(model):
    picked = [set(np.flatnonzero(model.perk[:, c])) for c in range(len(BRANDS))]
    assert all(len(p) == 20 for p in picked)
    assert picked[0] != picked[1] and picked[1] != picked[2] and picked[0] != picked[2]
    # a score rule and a topic search pick mostly different people
    assert len(picked[0] & picked[1]) < 10


def test_a_brand_starting_later_allocates_only_at_its_start(model):
    c = NAMES.index("brunch")
    got = model.picked_at[:, c][model.perk[:, c] > 0]
    assert np.all(got == 7)
    steps = model.steps_frame()
    brunch = steps[steps.brand == "brunch"].set_index("step")
    assert (brunch.loc[:6, "perks_given"] == 0).all()
    assert (brunch.loc[7:, "perks_given"] == 20).all()
    assert (brunch.loc[:6, "reach"] == 0).all(), "no mentions before the campaign exists"
    early = steps[steps.brand == "courtside"].set_index("step")
    assert (early.loc[2:, "perks_given"] == 20).all() and (early.loc[:1, "perks_given"] == 0).all()

