"""The analysis kernel of ``perksim robust`` (simulator/experiment/robust), on planted structure.

Statistical tests use fixed seeds, so they are deterministic; the tolerances stated with each
are what the method should meet at that size, not what this seed happens to give.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.experiment.results import FLOAT_FORMAT
from simulator.experiment.robust import (
    BOOTSTRAP_FROM,
    NO_WINNER,
    ROBUST_SHARE,
    Problem,
    Uncertainty,
    flip_conditions,
    lhs_design,
    morris_design,
    most_influential,
    paired_differences,
    sample_verdicts,
    sensitivity_indices,
    sobol_design,
    verdict,
    verdict_map,
    verdict_shares,
)
from simulator.views.report.robust import flip_sentences

# --- designs ------------------------------------------------------------------------------------


def _problem(d: int) -> Problem:
    return Problem(tuple(Uncertainty.uniform(f"p{i}", 0, 1) for i in range(1, d + 1)))


def test_uncertainty_maps_the_unit_interval_to_its_own_units():
    u = np.array([0.0, 0.5, 0.999999, 1.0])
    assert Uncertainty.uniform("a", 2, 4).value(u).tolist() == pytest.approx([2, 3, 4, 4], abs=1e-5)
    assert Uncertainty.log_uniform("b", 0.01, 1).value(u).tolist() == pytest.approx(
        [0.01, 0.1, 1, 1], rel=1e-4)
    choice = Uncertainty.choice("c", ["er", "ba", "ws"])
    assert choice.value(np.array([0.0, 0.34, 0.67, 0.999, 1.0])).tolist() == [
        "er", "ba", "ws", "ws", "ws"]
    assert not choice.numeric and Uncertainty.choice("d", [1, 2.5]).numeric
    assert Uncertainty.uniform("w", 2, 9, integer=True).value(np.array([0, 0.5, 1])).tolist() == [
        2, 6, 9]
    graphs = Uncertainty.choice("g", [{"kind": "ws"}, {"kind": "ba"}]).value(np.array([0.2, 0.7]))
    assert graphs.tolist() == [{"kind": "ws"}, {"kind": "ba"}]
    for bad in (lambda: Uncertainty.uniform("x", 1, 1),
                lambda: Uncertainty.log_uniform("x", 0, 1),
                lambda: Uncertainty.choice("x", []),
                lambda: Uncertainty("x", "normal", 0, 1),
                lambda: Problem((Uncertainty.uniform("x", 0, 1),) * 2)):
        with pytest.raises(ValueError):
            bad()


def test_design_sizes_and_the_budget():
    p = _problem(5)
    assert sobol_design(p, 64, seed=1).evaluations == 64 * 7
    m = morris_design(p, 10, levels=4, seed=1)
    assert m.evaluations == 10 * 6 and np.allclose(np.round(m.unit * 3), m.unit * 3)
    lhs = lhs_design(p, 100, seed=1)
    assert lhs.runs(variants=3, replicates=5) == 1500
    table = lhs.table()
    assert list(table.columns) == ["sample", "p1", "p2", "p3", "p4", "p5"]
    assert table["sample"].tolist() == list(range(100))
    with pytest.raises(ValueError, match="power of two"):
        sobol_design(p, 100, seed=1)
    with pytest.raises(ValueError, match="even"):
        morris_design(p, 10, levels=3, seed=1)


@settings(max_examples=25, deadline=None, database=None)
@given(d=st.integers(1, 6), log_n=st.integers(1, 7), seed=st.integers(0, 2**32 - 1))
def test_design_matrices_are_in_the_unit_interval_sized_and_seeded(d, log_n, seed):
    p = _problem(d)
    n = 2 ** log_n
    designs = {"sobol": (lambda s: sobol_design(p, n, s), n * (d + 2)),
               "lhs": (lambda s: lhs_design(p, n, s), n),
               "morris": (lambda s: morris_design(p, max(n, 2), 4, s), max(n, 2) * (d + 1))}
    for method, (make, rows) in designs.items():
        a, b = make(seed), make(seed)
        assert a.unit.shape == (rows, d) == (a.evaluations, d), method
        assert np.array_equal(a.unit, b.unit), method
        if method == "morris":  # a grid with its ends: [0, 1]
            assert a.unit.min() >= 0 and a.unit.max() <= 1
        else:
            assert a.unit.min() >= 0 and a.unit.max() < 1, method


# --- Sobol' indices of the Ishigami function ----------------------------------------------------

ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def _verdict_rows(y: np.ndarray) -> pd.DataFrame:
    """A sample_verdicts-shaped table carrying one output ``y`` per sample."""
    return pd.DataFrame({"variant": "b", "reference": "a", "metric": "reach", "direction": 1,
                         "sample": np.arange(y.size), "n": 1, "mean_difference": y,
                         "ci_low": np.nan, "ci_high": np.nan, "interval": "",
                         "verdict": "undefined"})


def test_sobol_indices_recover_the_ishigami_function():
    # n = 1024: 5120 evaluations, well under a second; analytic values for a = 7, b = 0.1
    p = Problem(tuple(Uncertainty.uniform(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)))
    design = sobol_design(p, 1024, seed=11)
    x = design.problem.values(design.unit).to_numpy()
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    ind = sensitivity_indices(design, _verdict_rows(y)).set_index(["parameter", "index"])
    for j, name in enumerate(p.names):
        for index, truth in (("S1", ISHIGAMI_S1[j]), ("ST", ISHIGAMI_ST[j])):
            row = ind.loc[(name, index)]
            assert row["conf_low"] <= truth <= row["conf_high"], (name, index, row.to_dict())
            assert abs(row["value"] - truth) < 0.05, (name, index, row["value"])
    ranks = ind.xs("ST", level="index")["rank"]
    assert ranks.to_dict() == {"x1": 1, "x2": 2, "x3": 3}


# --- a planted winner -----------------------------------------------------------------------------

NOISE = 0.02  # sd of the per-replicate noise of each variant's metric
BOUNDARY = 0.3  # the variant is better where p2 > 0.3: 70% of the space


def _runs(values: pd.DataFrame, replicates: int, seed: int = 5) -> pd.DataFrame:
    """Per (sample, variant, replicate): reach = 1 + noise for the reference, 1 + (p2 − 0.3)
    + noise for the variant; cost = 1 + noise and 1 + (p2 − 0.3) + noise (less is better);
    paid (direction 0) the same as reach. Only p2 matters; p1, p3, p4, p5 are irrelevant."""
    rng = np.random.default_rng(seed)
    rows = []
    for sample, p2 in zip(values["sample"], values["p2"], strict=True):
        for variant, shift in (("lottery", 0.0), ("relevance", p2 - BOUNDARY)):
            for r in range(replicates):
                e = rng.normal(0, NOISE, 2)
                rows.append({"sample": sample, "variant": variant, "replicate": r,
                             "reach": 1 + shift + e[0], "cost": 1 + shift + e[1],
                             "reach_paid": 1 + shift + e[0]})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def planted():
    design = sobol_design(_problem(5), 256, seed=3)  # 1792 samples
    values = design.table()
    runs = _runs(values, replicates=5)
    verdicts = sample_verdicts(runs, "lottery", ["reach", "cost", "reach_paid"])
    return design, values, runs, verdicts


def test_planted_winner_shares(planted):
    _, values, _, verdicts = planted
    shares = verdict_shares(verdicts).set_index(["metric", "verdict"])
    above = float((values["p2"] > BOUNDARY).mean())  # the planted share in this design
    assert abs(above - 0.7) < 0.02
    # t-intervals of 5 replicates at sd 0.02·√2 have a half-width of ~0.033: samples within
    # about that of the boundary are indistinguishable (expected share ~0.066), so better and
    # worse fall short of 70 / 30% by ~0.033 each; tolerance 0.05
    reach = shares.loc["reach", "share"]
    assert above - 0.05 <= reach["better"] <= above, reach.to_dict()
    assert (1 - above) - 0.05 <= reach["worse"] <= 1 - above, reach.to_dict()
    assert reach["indistinguishable"] < 0.08 and reach["undefined"] == 0
    assert math.isclose(reach.sum(), 1)
    # a split is never robust, whatever its majority
    assert not shares["robust"].any()
    # cost: less is better, so the same difference is now worse ~70% of the time
    cost = shares.loc["cost", "share"]
    assert above - 0.05 <= cost["worse"] <= above and cost["better"] <= 1 - above
    # direction 0: higher / lower, never better / worse
    paid = shares.loc["reach_paid"]
    assert set(paid.index) == {"higher", "lower", "indistinguishable", "undefined"}
    assert paid.loc["higher", "count"] == shares.loc[("reach", "better"), "count"]
    assert set(verdicts["interval"]) == {"t"}  # 5 < BOOTSTRAP_FROM replicates


def test_planted_winner_sensitivity_ranks_p2_first(planted):
    design, _, _, verdicts = planted
    ind = sensitivity_indices(design, verdicts[verdicts["metric"] == "reach"])
    st_ = ind[ind["index"] == "ST"].set_index("parameter")
    assert st_.loc["p2", "rank"] == 1
    # the mean difference is p2 − 0.3 plus noise of sd 0.02·√(2/5) ≈ 0.013: p2 explains
    # 99.8% of its variance, the other four parameters nothing but noise
    assert st_.loc["p2", "value"] > 0.95 and st_.loc["p2", "conf_low"] > 0.8
    assert (st_.drop("p2")["value"] < 0.02).all(), st_["value"].to_dict()
    assert st_.loc["p2", "conf_low"] > st_.drop("p2")["conf_high"].max()
    assert most_influential(ind, "reach")[0] == "p2"


def test_planted_winner_flip_box(planted):
    design, values, _, verdicts = planted
    flips = flip_conditions(design.problem, values, verdicts[verdicts["metric"] == "reach"])
    boxes, bounds = flips.boxes, flips.bounds
    assert set(bounds["parameter"]) == {"p2"}  # only the planted parameter is ever split on
    worse = boxes[boxes["verdict"] == "worse"]
    better = boxes[boxes["verdict"] == "better"]
    assert len(worse) == 1 and len(better) == 1
    w = bounds[(bounds["box"] == worse["box"].iloc[0])].iloc[0]
    b = bounds[(bounds["box"] == better["box"].iloc[0])].iloc[0]
    assert abs(w["upper"] - BOUNDARY) <= 0.05 and abs(b["lower"] - BOUNDARY) <= 0.05
    assert boxes["accuracy"].iloc[0] > 0.95
    assert worse["condition"].iloc[0].startswith("p2 ≤ 0.")
    sentences = flip_sentences(flips)
    assert any(s.startswith("relevance vs lottery, reach: p2 ≤ 0.") and "→ worse (" in s
               for s in sentences), sentences


def test_verdict_map_over_the_two_most_influential(planted):
    design, values, _, verdicts = planted
    ind = sensitivity_indices(design, verdicts[verdicts["metric"] == "reach"])
    axes = most_influential(ind, "reach")
    m = verdict_map(values, verdicts, "reach", axes)
    assert axes[0] == "p2" and len(m) == design.evaluations
    high = m[m["x"] > BOUNDARY + 0.05]
    low = m[m["x"] < BOUNDARY - 0.05]
    # away from the boundary the planted winner wins; a t-interval of 5 replicates now and
    # then (≤ 1%) is too wide to tell, but never picks the other variant
    assert (high["winner"] == "relevance").mean() > 0.99 and (low["winner"] == "lottery").mean() > 0.98
    assert not (high["winner"] == "lottery").any() and not (low["winner"] == "relevance").any()
    assert set(m["winner"]) <= {"relevance", "lottery", NO_WINNER}
    with pytest.raises(ValueError, match="no better direction"):
        verdict_map(values, verdicts, "reach_paid", axes)


def test_morris_screening_ranks_p2_first():
    design = morris_design(_problem(5), 20, levels=4, seed=2)
    values = design.table()
    verdicts = sample_verdicts(_runs(values, replicates=3), "lottery", ["reach"])
    ind = sensitivity_indices(design, verdicts)
    mu = ind[ind["index"] == "mu_star"].set_index("parameter")
    assert mu.loc["p2", "rank"] == 1
    # the elementary effect of p2 on p2 − 0.3 is 1 per whole range, noise aside
    assert abs(mu.loc["p2", "value"] - 1) < 0.1, mu["value"].to_dict()
    with pytest.raises(ValueError, match="no sensitivity"):
        sensitivity_indices(lhs_design(_problem(5), 10, seed=1), verdicts)


# --- verdict logic ------------------------------------------------------------------------------


def test_verdict_words_follow_the_metric_direction():
    assert verdict(0.1, 0.2, 1) == "better" and verdict(-0.2, -0.1, 1) == "worse"
    assert verdict(0.1, 0.2, -1) == "worse" and verdict(-0.2, -0.1, -1) == "better"
    assert verdict(0.1, 0.2, 0) == "higher" and verdict(-0.2, -0.1, 0) == "lower"
    assert verdict(-0.1, 0.2, 1) == verdict(-0.1, 0.2, 0) == "indistinguishable"
    assert verdict(np.nan, np.nan, 1) == "undefined"


def _two(ref: list[float], var: list[float], metric: str = "reach") -> pd.DataFrame:
    rows = [{"sample": 0, "variant": v, "replicate": r, metric: x}
            for v, xs in (("a", ref), ("b", var)) for r, x in enumerate(xs)]
    return pd.DataFrame(rows)


def test_an_interval_holding_zero_is_indistinguishable():
    v = sample_verdicts(_two([1, 2, 3], [1.5, 1.5, 3.5]), "a").iloc[0]
    assert v["mean_difference"] == pytest.approx(1 / 6)
    assert v["ci_low"] < 0 < v["ci_high"] and v["verdict"] == "indistinguishable"
    assert v["interval"] == "t" and v["n"] == 3
    # the t-interval of the paired differences (0.5, −0.5, 0.5): mean ± t(2)·sd/√3
    half = 4.302652729911275 * np.std([0.5, -0.5, 0.5], ddof=1) / math.sqrt(3)
    assert v["ci_high"] == pytest.approx(1 / 6 + half)


def test_less_is_better_flips_and_direction_zero_says_higher():
    runs = _two([1, 2, 3], [2, 3, 4.1])
    assert sample_verdicts(runs, "a").iloc[0]["verdict"] == "better"  # reach: +1
    cost = runs.rename(columns={"reach": "cost"})
    assert sample_verdicts(cost, "a").iloc[0]["verdict"] == "worse"  # cost: −1
    paid = runs.rename(columns={"reach": "reach_paid"})
    assert sample_verdicts(paid, "a").iloc[0]["verdict"] == "higher"  # reach_paid: 0
    own = runs.rename(columns={"reach": "mine"})
    assert sample_verdicts(own, "a", ["mine"], {"mine": -1}).iloc[0]["verdict"] == "worse"
    with pytest.raises(KeyError, match="direction"):
        sample_verdicts(own, "a", ["mine"])


def test_pairing_uses_the_same_replicate_and_bootstrap_from_enough_replicates():
    n = BOOTSTRAP_FROM
    ref = [float(i) for i in range(n)]  # a large spread, shared by the pair
    runs = _two(ref, [x + 0.1 + 0.01 * (i % 2) for i, x in enumerate(ref)])
    v = sample_verdicts(runs, "a").iloc[0]
    assert v["interval"] == "bootstrap" and v["verdict"] == "better"
    assert 0.1 <= v["ci_low"] <= v["ci_high"] <= 0.11
    d = paired_differences(runs, "a")
    assert d["difference"].tolist() == pytest.approx([0.1 + 0.01 * (i % 2) for i in range(n)])
    missing = runs[~((runs["variant"] == "a") & (runs["replicate"] >= 1))]
    v = sample_verdicts(missing, "a").iloc[0]
    assert v["n"] == 1 and v["verdict"] == "undefined"


def test_robust_only_from_the_threshold():
    rows = [{"variant": "b", "reference": "a", "metric": "reach", "direction": 1, "sample": s,
             "n": 3, "mean_difference": 1.0, "ci_low": 0.5, "ci_high": 1.5, "interval": "t",
             "verdict": "better" if s < 9 else "indistinguishable"} for s in range(10)]
    shares = verdict_shares(pd.DataFrame(rows)).set_index("verdict")
    assert shares.loc["better", "share"] == 0.9 >= ROBUST_SHARE and shares.loc["better", "robust"]
    assert not verdict_shares(pd.DataFrame(rows), robust_share=0.95)["robust"].any()
    assert not shares.loc["indistinguishable", "robust"]


def test_flips_everywhere_and_categorical_values():
    graphs = [{"kind": "er"}, {"kind": "ba"}, "ws"]  # listed values as a scenario lists them
    p = Problem((Uncertainty.choice("graph", graphs), Uncertainty.uniform("h", 0, 1)))
    design = lhs_design(p, 60, seed=4)
    values = design.table()
    rows = [{"variant": "b", "reference": "a", "metric": "reach", "direction": 1, "sample": s,
             "n": 3, "mean_difference": 1.0, "ci_low": 0.5, "ci_high": 1.5, "interval": "t",
             "verdict": "worse" if g == {"kind": "ba"} else "better"}
            for s, g in zip(values["sample"], values["graph"], strict=True)]
    flips = flip_conditions(p, values, pd.DataFrame(rows))
    worse = flips.boxes[flips.boxes["verdict"] == "worse"]
    assert worse["condition"].tolist() == ['graph in {{"kind": "ba"}}']
    assert worse["agreeing"].iloc[0] == 20
    assert set(flips.bounds["values"]) == {'{"kind": "er"}', '{"kind": "ba"}', "ws"}
    assert flips.boxes["accuracy"].iloc[0] == 1
    same = flip_conditions(p, values, pd.DataFrame(rows).assign(verdict="better"))
    assert same.boxes["condition"].tolist() == ["everywhere"] and same.bounds.empty


# --- reproducibility -------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def test_same_inputs_give_byte_identical_tables():
    def once() -> list[str]:
        design = sobol_design(_problem(3), 32, seed=9)
        values = design.table()
        runs = _runs(values, replicates=BOOTSTRAP_FROM, seed=1).query("sample < 40")
        full = _runs(values, replicates=3, seed=1)
        boot = sample_verdicts(runs, "lottery", ["reach"])
        verdicts = sample_verdicts(full, "lottery", ["reach", "cost"])
        flips = flip_conditions(design.problem, values, verdicts)
        ind = sensitivity_indices(design, verdicts)
        return [_csv(t) for t in (values, boot, verdicts, verdict_shares(verdicts), ind,
                                  flips.boxes, flips.bounds,
                                  verdict_map(values, verdicts, "reach", ["p2", "p1"]))]

    first, second = once(), once()
    assert first == second
    assert "bootstrap" in first[1]


def test_winner_among_several_variants_and_other_keys_pass_through():
    # sample 0: b and c both better, c by more; sample 1: both worse → the reference a;
    # sample 2: b better, c worse → b; sample 3: b indistinguishable, c worse → no clear winner
    shift = {0: (0.1, 0.2), 1: (-0.1, -0.2), 2: (0.1, -0.1), 3: (0.0, -0.1)}
    rows = []
    for s, (b, c) in shift.items():
        for r, e in enumerate((-0.01, 0.0, 0.01)):
            for variant, d in (("a", 0.0), ("b", b + (e if b == 0 else 0)), ("c", c)):
                rows.append({"brand": "courtside", "sample": s, "variant": variant, "replicate": r,
                             "reach": 1 + d + e})
    verdicts = sample_verdicts(pd.DataFrame(rows), "a")
    assert set(verdicts["brand"]) == {"courtside"}
    values = pd.DataFrame({"sample": range(4), "p1": [0.1, 0.2, 0.3, 0.4], "p2": 0.5})
    m = verdict_map(values, verdicts, "reach", ["p1", "p2"])
    assert m["winner"].tolist() == ["c", "a", "b", NO_WINNER]
    assert m["margin"].tolist()[:3] == pytest.approx([0.2, 0.0, 0.1])
    assert list(m.columns[:2]) == ["brand", "metric"]


def test_figures_draw_from_the_tables(planted):
    from simulator.views.plots.robust import plot_indices, plot_verdict_map

    design, values, _, verdicts = planted
    reach = verdicts[verdicts["metric"] == "reach"]
    ind = sensitivity_indices(design, reach)
    fig = plot_verdict_map(verdict_map(values, reach, "reach", ["p2", "p1"]),
                           variants=["lottery", "relevance"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "p2" and len(ax.collections) == 3  # two winners, no clear winner
    bars = plot_indices(ind, "reach")
    assert bars.axes[0].get_title() == "relevance − lottery"
    assert bars.axes[0].get_yticklabels()[0].get_text() == "p2"
