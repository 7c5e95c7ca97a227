"""Observation (MODEL.md §6): names, ranges, identities and monotonicity of the metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator import PerkCampaignModel

# The metric names of MODEL.md §6, copied from its table.
SPEC_METRICS = [
    "reach", "reach_organic", "reach_paid", "engaged_reach", "adopters",
    "mentions_paid", "mentions_organic", "mentions_negative", "authenticity",
    "recipient_fit", "perks_given", "cost", "cost_per_engaged_reach", "fan_coverage",
    "pout_mean", "pout_fans", "pouting_share", "coverage_ratio", "reach_maximin",
    "score_mean", "gaming_share",
]
CUMULATIVE = ["reach", "reach_organic", "reach_paid", "reach_negative", "engaged_reach",
              "adopters", "mentions_paid", "mentions_organic", "mentions_negative",
              "perks_given", "contacts", "cost", "fan_coverage"]
UNIT_OR_NAN = ["authenticity", "recipient_fit", "fan_coverage", "pout_mean", "pout_fans",
               "pouting_share", "coverage_ratio", "reach_maximin", "gaming_share"]

STRATEGIES = {
    "score_threshold": {"kind": "score_threshold", "threshold": 50},
    "top_score": {"kind": "top_score"},
    "relevance": {"kind": "relevance"},
    "hybrid": {"kind": "hybrid", "alpha": 0.5},
    "lottery": {"kind": "lottery"},
    "outreach": {"kind": "outreach", "contacts": 15, "contact_cost": 20.0},
}
PAID = [k for k in STRATEGIES if k != "outreach"]
PERK_VALUE = 75.0
STEPS = 25


@pytest.fixture(scope="module")
def runs(make_scenario):
    """One 25-step run per strategy; persuasion raised so organic cascades do happen."""
    out = {}
    for name, strategy in STRATEGIES.items():
        sc = make_scenario(
            population={"size": 600}, steps=STEPS,
            behaviour={"persuasion_organic": 0.6, "persuasion_paid": 0.4, "publicity": 0.2},
            campaign={"strategy": strategy, "perks": 40, "waves": 2, "wave_every": 6,
                      "perk_value": PERK_VALUE, "mention": "required", "disclosure": name != "lottery"},
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


def test_reach_contains_organic_and_paid_reach(model):
    s = model.steps_frame()
    assert (s["reach"] >= s["reach_organic"]).all()
    assert (s["reach"] >= s["reach_paid"]).all()
    assert (s["reach"] >= s["reach_negative"]).all()
    assert (s["reach"] <= s["reach_organic"] + s["reach_paid"] + s["reach_negative"]).all()
    assert (s["reach"] <= model.n).all()


def test_engaged_reach_is_at_most_reach_and_the_number_of_fans(model):
    s = model.steps_frame()
    assert (s["engaged_reach"] <= s["reach"]).all()
    assert (s["engaged_reach"] <= s["fans"]).all()
    assert (s["fans"] == model.brands[0].fans.sum()).all()


def test_ratios_are_in_the_unit_interval_or_nan(model):
    s = model.steps_frame()
    for col in UNIT_OR_NAN:
        values = s[col].astype(float)
        ok = values.isna() | ((values >= 0) & (values <= 1))
        assert ok.all(), (col, values[~ok].tolist())
    assert ((s["score_mean"] >= 1) & (s["score_mean"] <= 100)).all()


def test_authenticity_is_nan_before_any_positive_exposure_and_defined_after(model):
    s = model.steps_frame()
    silent = (s["reach_organic"] == 0) & (s["reach_paid"] == 0)
    assert s.loc[silent, "authenticity"].isna().all()
    assert s.loc[~silent, "authenticity"].notna().all()


def test_cumulative_counters_never_decrease(model):
    s = model.steps_frame().sort_values("step")
    for col in CUMULATIVE:
        assert (s[col].diff().dropna() >= 0).all(), col


@pytest.mark.parametrize("name", PAID)
def test_cost_is_perks_given_times_perk_value_for_paid_strategies(runs, name):
    s = runs[name].steps_frame()
    np.testing.assert_allclose(s["cost"], s["perks_given"] * PERK_VALUE)
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
    reached = model.reached_paid[:, 0] | model.reached_organic[:, 0] | model.reached_negative[:, 0]
    assert row["reach"] == reached.sum()
    assert row["engaged_reach"] <= (reached & brand.fans).sum()
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
                       behaviour={"recognition": 1.0},
                       campaign={"disclosure": False, "mention": "required", "perks": 30})
    model = PerkCampaignModel(sc, rng=0)
    model.run()
    row = model.summary().iloc[0]
    assert row["mentions_paid"] > 0 and row["reach_paid"] > 0
    assert row["reach_negative"] == row["reach_paid"], "every paid exposure was recognised"
    assert row["adopters"] == 0 and row["reach_organic"] == 0
    assert pd.isna(row["authenticity"]), row["authenticity"]
