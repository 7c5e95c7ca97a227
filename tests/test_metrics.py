"""Observation (MODEL.md §6): names, ranges, identities and monotonicity of the metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator import PerkCampaignModel
from simulator.model.metrics import BY_NAME, CATALOGUE, METRICS

# The metric names of MODEL.md §6, copied from its table.
SPEC_METRICS = [
    "reach", "reach_organic", "reach_paid", "engaged_reach", "adopters",
    "mentions_paid", "mentions_organic", "mentions_negative", "authenticity",
    "recipient_fit", "perks_given", "cost", "cost_per_engaged_reach", "fan_coverage",
    "pout_mean", "pout_fans", "pouting_share", "coverage_ratio", "reach_maximin",
    "score_mean", "gaming_share",
]
CUMULATIVE = ["reach", "reach_organic", "reach_paid", "reach_all", "reach_negative",
              "engaged_reach", "adopters", "adopters_campaign", "mentions_paid",
              "mentions_organic", "mentions_negative", "perks_given", "contacts", "cost",
              "fan_coverage"]
UNIT_OR_NAN = [m.name for m in CATALOGUE if m.kind == "share"]

STRATEGIES = {
    "score_threshold": {"kind": "score_threshold", "threshold": 50},
    "top_score": {"kind": "top_score"},
    "relevance": {"kind": "relevance"},
    "hybrid": {"kind": "hybrid", "alpha": 0.5},
    "lottery": {"kind": "lottery"},
    "outreach": {"kind": "outreach", "contacts": 15, "contact_cost": 20.0},
}
PAID = [k for k in STRATEGIES if k != "outreach"]
PERK_FIXED, PER_FOLLOWER = 75.0, 2.0
STEPS = 25


@pytest.fixture(scope="module")
def runs(make_scenario):
    """One 25-step run per strategy; persuasion raised so organic cascades do happen."""
    out = {}
    for name, strategy in STRATEGIES.items():
        sc = make_scenario(
            population={"size": 600}, steps=STEPS,
            behaviour={"persuasion_organic": 0.6, "persuasion_paid": 0.4, "publicity": 0.2,
                       "brand_talk": 0.02},
            campaign={"strategy": strategy, "perks": 40, "waves": 2, "wave_every": 6,
                      "perk_cost": {"fixed": PERK_FIXED, "per_follower": PER_FOLLOWER},
                      "mention": "required", "disclosure": name != "lottery"},
        )
        model = PerkCampaignModel(sc, rng=12)
        model.run()
        out[name] = model
    return out


@pytest.fixture(params=list(STRATEGIES))
def model(request, runs) -> PerkCampaignModel:
    return runs[request.param]


def test_every_metric_of_the_spec_is_a_column_of_steps_and_summary(model):
    for frame in (model.steps_frame(), model.summary()):
        missing = [m for m in SPEC_METRICS if m not in frame.columns]
        assert not missing, missing
        assert {"step", "brand"} <= set(frame.columns)


def test_summary_of_an_unrun_model_has_the_same_columns(make_scenario):
    model = PerkCampaignModel(make_scenario(), rng=0)
    summary = model.summary()
    assert len(summary) == 1
    assert set(SPEC_METRICS) <= set(summary.columns)
    assert summary.iloc[0]["reach"] == 0


def test_every_metric_is_in_the_catalogue_once_with_a_direction_and_words():
    assert len(METRICS) == len(set(METRICS)) == len(CATALOGUE)
    for m in CATALOGUE:
        assert m.better in (-1, 0, 1) and m.words and m.label and m.unit
        assert m.kind in ("count", "share", "cost", "score")
    # backlash is a cost, never a success; all-exposure counts are not goals
    assert BY_NAME["reach_negative"].better == -1 and BY_NAME["mentions_negative"].better == -1
    assert BY_NAME["reach_all"].better == 0


def test_reach_counts_only_the_campaigns_own_positive_mentions(model):
    s = model.steps_frame()
    assert (s["reach"] >= s["reach_organic"]).all()
    assert (s["reach"] <= s["reach_organic"] + s["reach_paid"]).all()
    # every exposure of any origin, complaints included, is reach_all — never reach
    assert (s["reach_all"] >= s["reach"]).all()
    assert (s["reach_all"] >= s["reach_negative"]).all()
    assert (s["reach_all"] <= model.n).all()
    assert model.summary().iloc[0]["reach"] == model.reached_positive[:, 0].sum()


def test_engaged_reach_counts_reached_fans_who_are_not_recipients(model):
    s = model.steps_frame()
    brand = model.brands[0]
    recipients = model.perk[:, 0] > 0
    assert (s["engaged_reach"] <= s["reach"]).all()
    assert (s["fans"] == brand.fans.sum()).all()
    # reached while holding no perk: a fan reached before a later wave picked them still counts
    expected = (model.reached_without_perk[:, 0] & brand.fans).sum()
    assert s["engaged_reach"].iloc[-1] == expected
    assert expected <= (model.reached_positive[:, 0] & brand.fans).sum()
    # the first wave's recipients got their perk before any campaign mention existed
    first = recipients & (model.picked_at[:, 0] == model.picked_at[recipients, 0].min())
    assert first.any() and not (model.reached_without_perk[:, 0] & first).any()


def test_campaign_adopters_are_a_subset_and_chains_a_share(model):
    s = model.steps_frame()
    assert (s["adopters_campaign"] <= s["adopters"]).all()
    origin = model.origin[:, 0]
    assert ((origin > 0) == model.adopted[:, 0]).all()  # every adopter has an origin
    assert s["adopters_campaign"].iloc[-1] == np.isin(origin, (2, 3)).sum()


def test_ratios_are_in_the_unit_interval_or_nan(model):
    s = model.steps_frame()
    for col in UNIT_OR_NAN:
        values = s[col].astype(float)
        ok = values.isna() | ((values >= 0) & (values <= 1))
        assert ok.all(), (col, values[~ok].tolist())
    assert ((s["score_mean"] >= 1) & (s["score_mean"] <= 100)).all()


def test_authenticity_is_nan_before_any_positive_exposure_and_defined_after(make_scenario):
    sc = make_scenario(population={"size": 400}, steps=10, behaviour={"brand_talk": 0.0},
                       campaign={"start": 3, "mention": "required", "perks": 30})
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    s = model.steps_frame()
    silent = (s["reach_organic"] == 0) & (s["reach_paid"] == 0)
    assert silent.iloc[0] and not silent.iloc[-1]
    assert s.loc[silent, "authenticity"].isna().all()
    assert s.loc[~silent, "authenticity"].notna().all()


def test_fans_own_talk_is_organic_and_not_the_campaigns(make_scenario):
    # no perks: every mention is fans' own talk, every adopter was persuaded by it
    sc = make_scenario(population={"size": 600}, steps=20, behaviour={"brand_talk": 0.05},
                       campaign={"perks": 0})
    model = PerkCampaignModel(sc, rng=1)
    model.run()
    row = model.summary().iloc[0]
    assert row["mentions_organic"] > 0 and row["adopters"] > 0
    assert row["authenticity"] == 1.0
    assert row["reach"] == row["reach_organic"] == row["engaged_reach"] == 0
    assert row["adopters_campaign"] == 0 and row["reach_all"] > 0


def test_cumulative_counters_never_decrease(model):
    s = model.steps_frame().sort_values("step")
    for col in CUMULATIVE:
        assert (s[col].diff().dropna() >= 0).all(), col


@pytest.mark.parametrize("name", PAID)
def test_cost_is_the_fixed_part_plus_the_part_per_follower_for_paid_strategies(runs, name):
    model = runs[name]
    s = model.steps_frame()
    recipients = model.perk[:, 0] > 0
    followers = model.graph.followers_count[recipients].sum()
    assert s["cost"].iloc[-1] == pytest.approx(s["perks_given"].iloc[-1] * PERK_FIXED
                                               + PER_FOLLOWER * followers)
    assert s["perks_given"].iloc[-1] > 0
    assert (s["contacts"] == 0).all()


def test_outreach_cost_is_contacts_times_contact_cost_and_pays_no_perks(runs):
    s = runs["outreach"].steps_frame()
    assert (s["perks_given"] == 0).all()
    np.testing.assert_allclose(s["cost"], s["contacts"] * 20.0)
    assert s["contacts"].iloc[-1] == 30
    assert (s["mentions_paid"] == 0).all() and (s["reach_paid"] == 0).all()
    last = s.iloc[-1]
    if last["reach_organic"] > 0:
        assert last["authenticity"] == 1.0


def test_final_metrics_agree_with_the_model_state(model):
    row = model.summary().iloc[0]
    brand = model.brands[0]
    selected = model.perk[:, 0] > 0
    excluded = ~selected
    assert row["adopters"] == model.adopted[:, 0].sum()
    assert row["reach_paid"] == model.reached_paid[:, 0].sum()
    assert row["reach_organic"] == model.reached_organic[:, 0].sum()
    assert row["reach_all"] == model.aware[:, 0].sum()
    assert row["engaged_reach"] <= (model.reached_positive[:, 0] & brand.fans).sum()
    assert row["recipient_fit"] == pytest.approx(brand.relevance[selected].mean())
    assert row["fan_coverage"] == pytest.approx((selected & brand.fans).sum() / brand.fans.sum())
    assert row["pout_mean"] == pytest.approx(model.pout[excluded, 0].mean())
    assert row["score_mean"] == pytest.approx(model.score.mean())
    if row["engaged_reach"] > 0:
        assert row["cost_per_engaged_reach"] == pytest.approx(row["cost"] / row["engaged_reach"])
    else:
        assert pd.isna(row["cost_per_engaged_reach"])


def test_some_runs_have_organic_reach_so_the_checks_have_content(runs):
    assert any(m.summary().iloc[0]["reach_organic"] > 0 for m in runs.values())
    assert any(m.summary().iloc[0]["mentions_negative"] > 0 for m in runs.values())
    assert any(m.summary().iloc[0]["adopters_campaign"] > 0 for m in runs.values())
    assert all(m.summary().iloc[0]["adopters"] > m.summary().iloc[0]["adopters_campaign"]
               for m in runs.values()), "fans' own talk persuades people too"


def test_steps_are_numbered_from_zero_once_per_step(model):
    s = model.steps_frame()
    assert s["step"].tolist() == list(range(STEPS))


def test_same_seed_gives_identical_metrics_and_different_seeds_differ(make_scenario):
    sc = make_scenario(steps=15)
    frames = []
    for seed in (3, 3, 4):
        m = PerkCampaignModel(sc, rng=seed)
        m.run()
        frames.append(m.steps_frame())
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert not frames[0].equals(frames[2])


def test_recognised_undisclosed_paid_exposures_are_not_counted_as_positive(make_scenario):
    """MODEL.md §5.4: an undisclosed paid mention recognised as paid "counts against the brand
    like a negative mention"; §6: authenticity = organic / all *positive* exposures. With
    recognition 1 every paid exposure is recognised, nobody adopts, there is no organic
    exposure — so there are no positive exposures and authenticity is undefined (NaN)."""
    sc = make_scenario(population={"size": 400}, steps=10, processes={"pout": False},
                       behaviour={"recognition": 1.0, "brand_talk": 0.0},
                       campaign={"disclosure": False, "mention": "required", "perks": 30})
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    row = model.summary().iloc[0]
    assert row["mentions_paid"] > 0 and row["reach_paid"] > 0
    assert row["reach_negative"] == row["reach_paid"], "every paid exposure was recognised"
    assert row["adopters"] == 0 and row["reach_organic"] == 0
    assert pd.isna(row["authenticity"]), row["authenticity"]
