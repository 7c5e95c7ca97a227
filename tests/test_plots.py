"""Figures from result tables (simulator/views/plots/): contents, colours, intervals, files.

Synthetic tables have the columns of the results-folder contract (docs/reference/results.md):
``steps`` = [point, params…,] variant, replicate, step, brand, METRICS…; ``summary`` = the
last step of each run without ``step``; ``users``/``edges`` as written for small graphs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.container import ErrorbarContainer
from scipy import stats

from simulator import load_scenario
from simulator.experiment.plan import run_once
from simulator.experiment.statistics import bootstrap_bands, comparison_table
from simulator.model.metrics import METRICS
from simulator.views import plots

# NaN metrics (authenticity before any exposure, …) must be drawn without numpy warnings
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

REPO = Path(__file__).resolve().parents[1]
PARAM = "campaigns[0].strategy.threshold"
VARIANTS = ("klout_63", "relevance", "lottery")


def make_steps(variants=VARIANTS, replicates: int = 3, steps: int = 10, brands=("acme",),
               sweep: list[float] | None = None, seed: int = 0) -> pd.DataFrame:
    """A steps table with realistic columns; counts grow, ratios stay in 0–1, and authenticity
    is NaN (undefined) for the first two steps."""
    rng = np.random.default_rng(seed)
    rows = []
    points = list(enumerate(sweep)) if sweep is not None else [(None, None)]
    for point, value in points:
        for vi, variant in enumerate(variants):
            for rep in range(replicates):
                for brand in brands:
                    level = 20.0 * (vi + 1) + (value or 0) / 10
                    for t in range(steps):
                        row = {m: float(rng.random()) for m in METRICS}
                        row.update(reach=int(level * t + rng.integers(0, 10)),
                                   engaged_reach=int(level * t / 2 + rng.integers(0, 5)),
                                   adopters=int(t * (vi + 1)), mentions_negative=int(t * rng.random() * 3),
                                   authenticity=np.nan if t < 2 else float(rng.random()),
                                   pout_fans=0.05 * (vi + 1) + 0.01 * rng.random())
                        head = {"point": point, PARAM: value} if sweep is not None else {}
                        rows.append({**head, "variant": variant, "replicate": rep, "step": t,
                                     "brand": brand, **row})
    return pd.DataFrame(rows)


def summary_of(steps: pd.DataFrame) -> pd.DataFrame:
    return plots.final_rows(steps)


def small_network(n: int = 60, variants=("a", "b"), brand: str = "acme",
                  seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = nx.powerlaw_cluster_graph(n, 2, 0.3, seed=seed)
    pairs = np.array(list(g.edges()))
    edges = pd.DataFrame({"author": np.r_[pairs[:, 0], pairs[:, 1]],
                          "follower": np.r_[pairs[:, 1], pairs[:, 0]]})
    followers = np.bincount(edges["author"], minlength=n)
    rng = np.random.default_rng(seed)
    frames = []
    for variant in variants:
        frames.append(pd.DataFrame({
            "variant": variant, "id": np.arange(n), "archetype": "casual", "region": "here",
            "followers": followers, "post_rate": 1.0, "quality": 0.5, "score": 50.0,
            f"relevance_{brand}": rng.random(n), f"fan_{brand}": rng.random(n) < 0.2,
            f"perk_{brand}": (rng.random(n) < 0.1).astype(int), f"aware_{brand}": rng.random(n) < 0.5,
            f"adopted_{brand}": rng.random(n) < 0.1, f"pout_{brand}": rng.random(n) * 0.6,
        }))
    return pd.concat(frames, ignore_index=True), edges


def write_folder(folder: Path, **tables: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
    return folder


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def both(*stems: str) -> list[str]:
    return sorted(f"{s}.{ext}" for s in stems for ext in ("png", "svg"))


def marker_lines(ax) -> list:
    """The labelled lines of an axes (error-bar caps are unlabelled lines too)."""
    return [line for line in ax.lines if not line.get_label().startswith("_")]


def legend_labels(fig) -> list[str]:
    return [t.get_text() for t in fig.legends[0].get_texts()]


# ----------------------------------------------------------------------------- helpers

def test_variant_styles_follow_first_appearance_and_okabe_ito():
    table = pd.DataFrame({"variant": ["b", "a", "b", "c"]})
    styles = plots.variant_styles(table)
    assert list(styles) == ["b", "a", "c"]
    assert [s.color for s in styles.values()] == plots.PALETTE[:3]


def test_interval_table_is_the_comparison_interval_and_absent_for_one_value():
    frame = pd.DataFrame({"variant": ["x", "x", "x", "y", "z", "z"], "replicate": [0, 1, 2, 0, 0, 1],
                          "brand": "acme", "reach": [1.0, 2.0, 4.0, 5.0, 3.0, np.nan]})
    ci = plots.interval_table(frame, ["variant"], "reach").set_index("variant")
    table = comparison_table(frame, ["reach"]).set_index("variant")
    # the figure's interval is comparison.csv's: the same bootstrap, seeded by the same labels
    assert (ci.loc["x", "low"], ci.loc["x", "high"]) == (table.loc["x", "ci_low"], table.loc["x", "ci_high"])
    assert 1.0 <= ci.loc["x", "low"] < ci.loc["x", "high"] <= 4.0
    assert np.isnan(ci.loc["y", "low"]) and ci.loc["y", "n"] == 1
    assert ci.loc["z", "n"] == 1 and ci.loc["z", "mean"] == 3.0  # NaN left out, not counted


def test_error_bars_are_asymmetric_lengths_and_absent_without_interval():
    bars = plots.error_bars([2.0, 5.0, 1.0], [1.0, np.nan, 1.5], [4.0, np.nan, 3.0])
    assert bars[:, 0].tolist() == [1.0, 2.0]  # 1 below, 2 above: not symmetric
    assert np.isnan(bars[:, 1]).all()
    assert bars[:, 2].tolist() == [0.0, 2.0]  # an interval beside the mean: never a negative length


def test_every_metric_has_a_label_and_unit():
    assert set(METRICS) <= set(plots.METRIC_INFO)
    assert plots.metric_label("pout_fans", direction=True) == \
        "Pout of excluded fans (mean pout, 0–1) — less is better"


def test_pareto_dominated_needs_strictly_better_on_one_axis():
    # x more is better, y less is better
    dominated = plots.pareto_dominated([10, 8, 12, 10, np.nan], [0.2, 0.3, 0.4, 0.2, 0.0])
    assert dominated.tolist() == [False, True, False, False, False]


# ----------------------------------------------------------------------------- figures

def test_timeseries_panels_lines_bands_and_legend():
    steps = make_steps()
    fig = plots.plot_timeseries(steps, plots.TIMESERIES_METRICS)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 6
    for ax in axes:
        assert len(ax.lines) == 3  # one mean line per variant
        assert len(ax.collections) == 3  # one 95% band per variant
        assert ax.get_xlabel() == "step (day)"
    assert legend_labels(fig) == list(VARIANTS)
    # authenticity is NaN for the first two steps: the line has gaps, not zeros
    auth = axes[list(plots.TIMESERIES_METRICS).index("authenticity")]
    assert np.isnan(auth.lines[0].get_ydata()[:2]).all()


def test_timeseries_band_is_the_shared_bootstrap_and_absent_for_one_replicate():
    steps = make_steps(variants=("a",), replicates=6)
    steps.loc[steps["replicate"] < 3, "mentions_negative"] = 0  # mostly zero: a t-band dips below 0
    fig = plots.plot_timeseries(steps, ["reach", "mentions_negative"])
    for ax, metric in zip(fig.axes[:2], ["reach", "mentions_negative"], strict=True):
        band = ax.collections[0].get_paths()[0].vertices
        matrix = steps.pivot(index="replicate", columns="step", values=metric).to_numpy(dtype=float)
        low, high = bootstrap_bands(matrix, f"|a|acme|{metric}|step")
        for t in (5, 9):
            ys = band[np.isclose(band[:, 0], t), 1]
            assert min(ys) == pytest.approx(low[t]) and max(ys) == pytest.approx(high[t])
            assert matrix[:, t].min() <= low[t] <= high[t] <= matrix[:, t].max()
    single = plots.plot_timeseries(make_steps(replicates=1), ["reach"])
    assert len(single.axes[0].collections) == 0 and len(single.axes[0].lines) == 3


def test_timeseries_metric_undefined_everywhere_is_labelled_not_drawn_as_zero():
    steps = make_steps(variants=("a",), replicates=2)
    steps["cost_per_engaged_reach"] = np.nan
    fig = plots.plot_timeseries(steps, ["cost_per_engaged_reach"])
    assert [t.get_text() for t in fig.axes[0].texts] == ["not defined in any run"]


def test_several_brands_need_a_brand_and_sweeps_a_point():
    steps = make_steps(brands=("acme", "zeta"))
    with pytest.raises(ValueError, match="2 brands"):
        plots.plot_timeseries(steps, ["reach"])
    fig = plots.plot_timeseries(steps, ["reach"], brand="zeta")
    assert fig._suptitle.get_text().startswith("zeta")
    with pytest.raises(ValueError, match="sweep point"):
        plots.plot_timeseries(make_steps(sweep=[40, 63]), ["reach"])


def test_final_error_bars_are_the_comparison_intervals_low_to_high():
    values = {"a": [1.0, 2.0, 4.0, 3.0, 2.0], "b": [0.0, 0.0, 0.0, 0.0, 7.0]}
    summary = pd.DataFrame([{"variant": v, "replicate": r, "brand": "acme", "reach": x}
                            for v, xs in values.items() for r, x in enumerate(xs)])
    fig = plots.plot_final(summary, ["reach"])
    ax = fig.axes[0]
    [bars] = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    ends = [(seg[0, 1], seg[1, 1]) for seg in bars.lines[2][0].get_segments()]
    table = comparison_table(summary, ["reach"]).set_index("variant")
    assert np.ravel(ends) == pytest.approx(np.ravel(table.loc[list(values), ["ci_low", "ci_high"]]))
    # b is skewed: mean 1.4, and the symmetric t-interval would start below 0 — the bar does not
    assert stats.t.interval(0.95, 4, loc=1.4, scale=stats.sem(values["b"]))[0] < 0
    assert ends[1][0] >= 0 and ends[1][1] - 1.4 > 1.4 - ends[1][0]
    assert [p.get_height() for p in ax.patches] == pytest.approx([np.mean(x) for x in values.values()])
    assert legend_labels(fig) == ["a", "b"]


def test_final_groups_sweep_points_and_marks_undefined_metrics():
    summary = summary_of(make_steps(variants=("a", "b"), sweep=[40, 63, 75]))
    summary["recipient_fit"] = np.nan
    fig = plots.plot_final(summary, ["reach", "recipient_fit"])
    reach, fit = fig.axes[:2]
    assert len(reach.patches) == 6  # 3 points × 2 variants
    assert [t.get_text() for t in reach.get_xticklabels()] == ["threshold=40", "threshold=63",
                                                             "threshold=75"]
    assert sum(t.get_text() == "n/a" for t in fit.texts) == 6


def test_variant_keeps_its_colour_across_figures():
    steps = make_steps()
    summary = summary_of(steps)
    ts = plots.plot_timeseries(steps, ["reach"])
    final = plots.plot_final(summary, ["reach"])
    trade = plots.plot_tradeoff(summary)
    for i, variant in enumerate(VARIANTS):
        colour = to_hex(ts.axes[0].lines[i].get_color())
        assert to_hex(final.axes[0].patches[i].get_facecolor()) == colour
        assert to_hex(marker_lines(trade.axes[0])[i].get_color()) == colour
        assert colour == plots.PALETTE[i].lower(), variant


def test_tradeoff_marks_the_dominated_variant():
    rows = []
    # (engaged_reach, pout_fans) per variant: "worse" has less reach and more pout than "good"
    for variant, (x, y) in {"good": (100, 0.10), "worse": (80, 0.20), "reachy": (150, 0.40)}.items():
        for r in range(3):
            rows.append({"variant": variant, "replicate": r, "brand": "acme",
                         "engaged_reach": x + r, "pout_fans": y + 0.01 * r})
    fig = plots.plot_tradeoff(pd.DataFrame(rows))
    ax = fig.axes[0]
    assert legend_labels(fig) == ["good", "worse (dominated)", "reachy"]
    faces = [line.get_markerfacecolor() for line in marker_lines(ax)]
    assert faces[1] == "none" and faces[0] != "none" and faces[2] != "none"
    assert "more is better" in ax.get_xlabel() and "less is better" in ax.get_ylabel()
    # whiskers in both directions: x and y error bars for every variant
    whiskers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(whiskers) == 3 and all(c.has_xerr and c.has_yerr for c in whiskers)


def test_sweep_one_line_per_variant_over_sorted_parameter_values():
    summary = summary_of(make_steps(variants=("a", "b"), sweep=[63, 40, 75]))
    fig = plots.plot_sweep(summary, PARAM, "engaged_reach")
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    assert list(ax.lines[0].get_xdata()) == [40, 63, 75]
    # the swept path in words (without the scenario: the campaign by its number)
    assert ax.get_xlabel() == "threshold (campaign 1)" and "more is better" in ax.get_ylabel()
    assert "against threshold" in fig._suptitle.get_text()
    assert legend_labels(fig) == ["a", "b"]
    labelled = plots.plot_sweep(summary, PARAM, "engaged_reach", label="the bar")
    assert labelled.axes[0].get_xlabel() == "the bar"


def test_network_states_priority_legend_and_sizes():
    users, edges = small_network(n=40, variants=("a", "b"))
    state = plots.network_states(users[users["variant"] == "b"], "acme")
    part = users[users["variant"] == "b"]
    assert (state[part["perk_acme"].to_numpy() > 0] == "perk").all()
    pouting = (part["pout_acme"] >= 0.3) & (part["perk_acme"] == 0) & ~part["adopted_acme"]
    assert (state[pouting.to_numpy()] == "pouting").all()
    fig = plots.plot_network(users, edges, "acme", variant="b")
    ax = fig.axes[0]
    assert len(ax.collections) == 1 + len(plots.NETWORK_STATES)  # edges + one scatter per state
    labels = legend_labels(fig)
    assert labels[0] == f"got a perk ({(state == 'perk').sum()})"
    assert len(labels) == 5 and labels[-1].startswith("never heard of the brand")
    scatter = ax.collections[-1]  # perk recipients, drawn last
    top = part["followers"].to_numpy()[state == "perk"]
    sizes = scatter.get_sizes()
    assert np.argsort(sizes, kind="stable").tolist() == np.argsort(top, kind="stable").tolist()
    assert "variant b" in fig._suptitle.get_text()


def test_pouting_is_the_scenarios_threshold_per_variant_and_sweep_point(tmp_path, monkeypatch):
    import yaml

    assert plots.DEFAULT_POUT_THRESHOLD == 0.3  # the scenario format's default: the bundled ones
    assert plots.pout_threshold(tmp_path, "a") == 0.3  # no scenario.yaml: the default
    (tmp_path / "scenario.yaml").write_text("name: t\ncampaigns: oops\n", encoding="utf-8")
    assert plots.pout_threshold(tmp_path, "a") == 0.3  # a damaged scenario: the default too
    # a scenario.yaml is the whole resolved scenario, read like the report and explain read it
    doc = {"name": "t", "behaviour": {"pout_threshold": 0.2},
           "campaigns": [{"brand": "acme", "topic": "sports", "strategy": {"kind": "lottery"}}],
           "variants": {"strict": {"behaviour.pout_threshold": 0.6}, "other": {"seed": 3}}}
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert plots.pout_threshold(tmp_path, "other") == 0.2
    assert plots.pout_threshold(tmp_path, "strict") == 0.6
    assert plots.pout_threshold(tmp_path, "other", {"behaviour.pout_threshold": 0.45}) == 0.45
    users, edges = small_network(n=40, variants=("other", "strict"))
    steps = make_steps(variants=("other", "strict"), replicates=1)
    write_folder(tmp_path, steps=steps, users=users, edges=edges)
    strict = users[users["variant"] == "strict"]
    fig = plots.plot_network(users, edges, "acme", "strict", pout_threshold=0.6)
    pouting = (plots.network_states(strict, "acme", 0.6) == "pouting").sum()
    assert f"pouting, pout ≥ 0.6 ({pouting})" in legend_labels(fig)
    assert pouting < (plots.network_states(strict, "acme") == "pouting").sum()
    drawn = {}
    real = plots.plot_network

    def recording(users, edges, brand, variant, **kwargs):
        drawn[variant] = kwargs["pout_threshold"]
        return real(users, edges, brand, variant, **kwargs)

    monkeypatch.setattr(plots.folder, "plot_network", recording)  # where draw_all looks it up
    plots.draw_all(tmp_path)
    assert drawn == {"other": 0.2, "strict": 0.6}  # draw_all reads each variant's threshold


def test_timeseries_onto_a_given_figure_for_a_run_in_progress():
    from matplotlib.figure import Figure

    steps = make_steps(variants=("live",), replicates=1, steps=5)
    fig = Figure(figsize=(6, 5), layout="constrained")
    out = plots.plot_timeseries(steps, ["reach", "authenticity"], "acme", fig=fig, columns=1,
                                days=30, start=3, title="so far", title_width=1.0)
    assert out is fig and len(fig.axes) == 2 and fig._suptitle.get_text() == "so far"
    ax = fig.axes[0]
    assert ax.get_xlim() == (0, 30) and ax.lines[-1].get_xdata()[0] == 3  # the start mark
    assert "\n" in ax.get_title()  # the catalogue's label, wrapped to fit 1 inch
    assert ax.get_title().replace("\n", " ") == plots.METRIC_INFO["reach"][0]
    empty = plots.plot_timeseries(steps.iloc[:0], ["reach"], "acme", days=30)  # before day 1
    assert [line.get_linestyle() for line in empty.axes[0].lines] == [] and not empty.legends


def test_layout_is_cached_and_deterministic():
    edges = small_network(n=600)[1]
    plots._layout.cache_clear()
    first = plots.network_layout(edges, 600)
    shuffled = edges.sample(frac=1.0, random_state=1)
    assert plots.network_layout(shuffled, 600) is first  # same edges, any order: cache hit
    plots._layout.cache_clear()
    again = plots.network_layout(edges, 600)
    assert again is not first and np.array_equal(again, first)  # recomputed, identical


# ----------------------------------------------------------------------------- folders

@pytest.mark.slow
def test_draw_all_compare_like_folder(tmp_path):
    steps = make_steps()
    folder = write_folder(tmp_path / "compare", steps=steps, summary=summary_of(steps))
    paths = plots.draw_all(folder)
    assert names(paths) == both("final_metrics", "timeseries", "tradeoff")
    assert paths == sorted(paths) and all(p.parent == folder / "figures" for p in paths)


@pytest.mark.slow
def test_draw_all_sweep_like_folder_with_two_brands(tmp_path):
    steps = make_steps(variants=("a", "b"), replicates=2, brands=("acme", "zeta"), sweep=[40, 63])
    folder = write_folder(tmp_path / "sweep", steps=steps, summary=summary_of(steps))
    slug = "campaigns_0_strategy_threshold"
    stems = ("final_metrics", f"sweep_{slug}_engaged_reach", f"sweep_{slug}_pout_fans", "tradeoff")
    # no timeseries: a sweep's steps mix points; plot_run is the CLI's name for draw_all
    assert names(plots.plot_run(folder)) == both(*(f"{s}_{b}" for s in stems for b in ("acme", "zeta")))


@pytest.mark.slow
def test_draw_all_network_folder_and_byte_identical_redraw(tmp_path):
    steps = make_steps(variants=("a", "b"), replicates=2)
    users, edges = small_network(variants=("a", "b"))
    tables = {"steps": steps, "summary": summary_of(steps), "users": users, "edges": edges}
    one = write_folder(tmp_path / "one", **tables)
    first = plots.draw_all(one)
    assert names(first) == both("final_metrics", "network_a", "network_b", "timeseries", "tradeoff")
    two = tmp_path / "two"
    shutil.copytree(one, two, ignore=shutil.ignore_patterns("figures"))
    plots._layout.cache_clear()  # the layout too is recomputed
    second = plots.draw_all(two)
    assert names(second) == names(first)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_draw_all_empty_folder_draws_nothing(tmp_path):
    assert plots.draw_all(tmp_path) == []


def test_draw_all_run_like_folder_from_a_real_small_run(tmp_path):
    scenario = load_scenario(REPO / "scenarios" / "klout_pout.yaml",
                             overrides=["population.size=300", "steps=20"])
    result = run_once(scenario)
    steps = result.steps.assign(variant="base", replicate=0)
    summary = result.summary.assign(variant="base", replicate=0)
    folder = write_folder(tmp_path / "real", steps=steps, summary=summary)
    paths = plots.draw_all(folder)
    assert names(paths) == both("final_metrics", "timeseries", "tradeoff")
    assert all(p.stat().st_size > 1000 for p in paths)
