"""Experiments: paired seeds, identical tables whatever the executor, resume, honest intervals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulator import compare, load_scenario, sweep
from simulator.cli import cli
from simulator.experiment.plan import plan, replicate_seed, run_once, sweep_points
from simulator.experiment.statistics import (
    BOOTSTRAP_SEED,
    MIN_NONZERO,
    N_RESAMPLES,
    bootstrap_bands,
    bootstrap_interval,
    comparison_table,
    interval_label,
    mean_interval,
    rarity,
)
from simulator.scenario.loader import scenario_from_text
from simulator.scenario.schema import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["population.size=300", "steps=20"]
TABLES = ["steps.csv", "summary.csv", "comparison.csv", "users.csv", "edges.csv"]

SCENARIO = """\
name: tiny
seed: 11
steps: 20
replicates: 3
population: {size: 300}
campaigns:
  - {brand: courtside, topic: sports, region: los_angeles, perks: 15, start: 5,
     strategy: {kind: score_threshold, threshold: 55}}
variants:
  threshold: {}
  lottery: {campaigns.0.strategy: {kind: lottery}}
sweep:
  grid: {campaigns.0.perks: [5, 15]}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    return path


def folder_of(out: Path) -> Path:
    [scenario_dir] = [p for p in out.iterdir() if p.is_dir()]
    [folder] = list(scenario_dir.iterdir())
    return folder


def invoke(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.slow
def test_every_variant_reuses_the_same_replicate_seeds(tiny, tmp_path):
    result = invoke("compare", tiny, "--executor", "serial", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    folder = folder_of(tmp_path / "out")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 11
    assert [s["spawn_key"] for s in manifest["derived_seeds"].values()] == [[0], [1], [2]]
    # common random numbers: the same graph and population in every variant
    users = pd.read_csv(folder / "users.csv")
    static = ["id", "archetype", "region", "followers", "post_rate", "quality", "relevance_courtside",
              "fan_courtside"]  # traits; the final score and perks differ by strategy
    by_variant = {v: part[static].reset_index(drop=True) for v, part in users.groupby("variant")}
    pd.testing.assert_frame_equal(by_variant["threshold"], by_variant["lottery"])


@pytest.mark.slow
def test_a_replicate_rerun_alone_reproduces_it_exactly(tiny, tmp_path):
    sc = load_scenario(tiny)
    full = compare(sc)
    alone = invoke("run", tiny, "--variant", "lottery", "--replicate", "2", "--out", tmp_path / "one")
    assert alone.exit_code == 0, alone.output
    one = pd.read_csv(folder_of(tmp_path / "one") / "summary.csv")
    expected = full.summary[(full.summary.variant == "lottery") & (full.summary.replicate == 2)]
    pd.testing.assert_frame_equal(one.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "dask"])
def test_tables_are_byte_identical_whatever_the_executor(tiny, tmp_path, executor):
    serial = invoke("compare", tiny, "--executor", "serial", "--out", tmp_path / "serial")
    other = invoke("compare", tiny, "--executor", executor, "--workers", "2", "--out", tmp_path / executor)
    assert serial.exit_code == 0 and other.exit_code == 0, other.output
    a, b = folder_of(tmp_path / "serial"), folder_of(tmp_path / executor)
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.slow
def test_resume_after_a_kill_gives_the_tables_of_an_uninterrupted_run(tiny, tmp_path):
    """Kill a sweep half-way (SIGKILL: no chance to clean up), resume it, compare tables."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    whole = invoke("sweep", tiny, "--executor", "serial", "--out", tmp_path / "whole")
    assert whole.exit_code == 0, whole.output
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "sweep", str(tiny), "--executor",
                             "serial", "--out", str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    runs = None
    while time.monotonic() < deadline:
        partial = list(out.glob("tiny/*.partial/runs"))
        if partial and len([p for p in partial[0].iterdir() if not p.name.startswith(".")]) >= 3:
            runs = partial[0]
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert runs is not None, "the sweep never saved a run"
    saved = {p.name for p in runs.iterdir() if not p.name.startswith(".")}
    assert 3 <= len(saved) < 12, "the kill should land half-way"
    resumed = invoke("sweep", "--resume", runs.parent)
    assert resumed.exit_code == 0, resumed.output
    a, b = folder_of(tmp_path / "whole"), folder_of(out)
    assert not b.name.endswith(".partial") and not (b / "runs").exists()
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.slow
def test_resume_refuses_a_finished_folder_or_another_command(tiny, tmp_path):
    invoke("compare", tiny, "--executor", "serial", "--out", tmp_path / "out")
    done = folder_of(tmp_path / "out")
    result = invoke("compare", "--resume", done)
    assert result.exit_code == 2 and "not an unfinished results folder" in result.output


@pytest.mark.slow
def test_a_failing_run_is_recorded_and_does_not_take_the_others_down(tmp_path):
    # lottery has no threshold: the sweep's threshold values fail for that variant only
    path = tmp_path / "mixed.yaml"
    path.write_text(SCENARIO.replace("grid: {campaigns.0.perks: [5, 15]}",
                                     "grid: {campaigns.0.strategy.threshold: [40, 60]}"))
    result = invoke("sweep", path, "--executor", "serial", "--out", tmp_path / "out")
    assert result.exit_code == 1
    folder = folder_of(tmp_path / "out")
    failures = pd.read_csv(folder / "failures.csv")
    assert len(failures) == 2 * 3 and failures["run"].str.contains("lottery").all()
    assert failures["error"].str.contains("threshold").all()
    summary = pd.read_csv(folder / "summary.csv")
    assert set(summary["variant"]) == {"threshold"} and len(summary) == 2 * 3


def test_bootstrap_interval_is_scipy_bca_seeded_by_its_label():
    rng = np.random.default_rng(3)
    values = rng.gamma(0.8, 5.0, size=20)  # skewed, non-negative, like a count or a cost
    low, high = bootstrap_interval(values, "|relevance|courtside|reach")
    seed = [BOOTSTRAP_SEED, zlib.crc32(b"|relevance|courtside|reach")]
    ref = stats.bootstrap((values,), np.mean, n_resamples=N_RESAMPLES, method="BCa",
                          rng=np.random.default_rng(seed)).confidence_interval
    assert (low, high) == pytest.approx((ref.low, ref.high))
    # asymmetric around the mean, as a skewed sample's interval should be
    assert high - values.mean() > values.mean() - low > 0
    # deterministic: the label, not global state or call order, decides the resamples
    np.random.seed(1)
    assert bootstrap_interval(values, "|relevance|courtside|reach") == (low, high)
    assert bootstrap_interval(values, "|lottery|courtside|reach") != (low, high)


def test_bootstrap_interval_degenerate_cases():
    assert all(np.isnan(bootstrap_interval([], "x")))  # n = 0
    assert all(np.isnan(bootstrap_interval([4.0, np.nan], "x")))  # one finite value: no interval
    assert bootstrap_interval([2.5] * 7, "x") == (2.5, 2.5)  # all equal: [v, v]
    mean, sd, lo, hi, n = mean_interval(np.array([1.0, np.nan, 3.0]), "x")
    assert n == 2 and mean == 2.0 and sd == pytest.approx(np.sqrt(2))  # NaN left out, not zeros
    assert 1.0 <= lo <= hi <= 3.0
    assert mean_interval(np.array([4.0]), "x")[:2] == (4.0, pytest.approx(np.nan, nan_ok=True))
    assert np.isnan(mean_interval(np.array([np.nan]), "x")[0])


def test_bootstrap_falls_back_to_percentile_where_bca_is_undefined():
    # one value 1 among zeros at n = 2: BCa's acceleration is undefined; the percentile
    # interval of the same resamples is the whole range
    assert bootstrap_interval([0.0, 1.0], "x") == (0.0, 1.0)


def test_skewed_counts_get_no_negative_bound_where_the_t_interval_has_one():
    counts = np.array([0.0] * 14 + [1, 2, 0, 3, 0, 1])  # mean 0.35
    t_low = stats.t.interval(0.95, df=19, loc=counts.mean(), scale=stats.sem(counts))[0]
    low, high = bootstrap_interval(counts, "x")
    assert t_low < 0 <= low < counts.mean() < high <= counts.max()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=2, max_size=25),
       st.text(max_size=12))
def test_interval_of_non_negative_values_stays_within_their_range(values, label):
    low, high = bootstrap_interval(values, label)
    assert min(values) <= low <= high <= max(values)
    assert low >= 0


def test_bands_are_the_same_bootstrap_per_column_and_respect_nan():
    rng = np.random.default_rng(5)
    matrix = rng.poisson(3, size=(12, 6)).astype(float)
    matrix[:4, 0] = np.nan  # early steps: a ratio not yet defined in some runs
    matrix[:, 1] = 7.0  # constant column
    matrix[1:, 2] = np.nan  # one value: no interval
    low, high = bootstrap_bands(matrix, "band")
    assert (low[1], high[1]) == (7.0, 7.0) and np.isnan(low[2]) and np.isnan(high[2])
    finite = matrix[4:, 0]
    assert finite.min() <= low[0] <= high[0] <= finite.max()
    for j in range(3, 6):
        assert matrix[:, j].min() <= low[j] < high[j] <= matrix[:, j].max()
    again = bootstrap_bands(matrix, "band")
    assert np.array_equal(low, again[0], equal_nan=True) and np.array_equal(high, again[1], equal_nan=True)


def test_paired_difference_interval_bootstraps_the_per_replicate_differences():
    rng = np.random.default_rng(4)
    a = rng.normal(10, 3, size=8)
    b = a + rng.normal(1.5, 0.5, size=8)  # strongly paired: the paired interval is narrow
    summary = pd.DataFrame({"variant": ["a"] * 8 + ["b"] * 8, "replicate": list(range(8)) * 2,
                            "brand": "x", "reach": np.concatenate([a, b])})
    table = comparison_table(summary, ["reach"]).set_index("variant")
    d = b - a
    assert table.loc["b", "diff_mean"] == pytest.approx(d.mean())
    ref = bootstrap_interval(d, interval_label(None, "b", "x", "reach", "diff", "a"))
    assert (table.loc["b", "diff_ci_low"], table.loc["b", "diff_ci_high"]) == ref
    assert np.isnan(table.loc["a", "diff_mean"])
    assert ref[1] - ref[0] < table.loc["b", "ci_high"] - table.loc["b", "ci_low"]
    # replicates are paired by number, not by row order
    shuffled = comparison_table(summary.iloc[[*range(8), *range(15, 7, -1)]], ["reach"])
    assert shuffled.set_index("variant").loc["b", "diff_mean"] == pytest.approx(d.mean())


def test_rarity_and_replicates_needed():
    r = rarity([0.0] * 18 + [1.0, 2.0])
    assert r == {"runs": 20, "nonzero": 2, "rare": True, "replicates_needed": 50,
                 "replicates_needed_is_lower_bound": False}
    none = rarity([0.0] * 20)  # rule of three: rate < 3/20, so at least 5·20/3 runs
    assert none["rare"] and none["replicates_needed"] == 34 and none["replicates_needed_is_lower_bound"]
    undefined = rarity([np.nan] * 17 + [1.0, 2.0, 3.0])  # NaN runs count as runs, not as non-zero
    assert undefined["nonzero"] == 3 and undefined["replicates_needed"] == 34
    common = rarity([0.0] * 15 + [1.0] * MIN_NONZERO)
    assert not common["rare"] and np.isnan(common["replicates_needed"])


def test_comparison_flags_rare_rows_and_their_paired_differences():
    rows = []
    for v, values in {"a": [0.0] * 18 + [1.0, 1.0], "b": [1.0] * 20, "c": [2.0] * 20,
                      "d": [0.0] * 17 + [1.0, 0.0, 1.0]}.items():
        for r, x in enumerate(values):
            rows.append({"variant": v, "replicate": r, "brand": "x", "adopters": x, "reach": 10.0 + r})
    table = comparison_table(pd.DataFrame(rows), ["adopters", "reach"])
    assert list(table.columns) == ["variant", "brand", "metric", "mean", "std", "ci_low", "ci_high",
                                   "n", "diff_mean", "diff_ci_low", "diff_ci_high", "diff_n", "runs",
                                   "nonzero", "rare", "replicates_needed",
                                   "replicates_needed_is_lower_bound", "diff_rare"]
    adopters = table[table.metric == "adopters"].set_index("variant")
    assert adopters["rare"].tolist() == [True, False, False, True]
    assert adopters.loc["a", "nonzero"] == 2 and adopters.loc["a", "replicates_needed"] == 50
    # b and c differ from the rare first variant in (almost) every replicate: those
    # differences can be judged; d differs from it in only 2 replicates: too rare to judge
    assert adopters["diff_rare"].tolist() == [False, False, False, True]
    reach = table[table.metric == "reach"]
    assert not reach["rare"].any() and not reach["diff_rare"].any()


def test_comparison_of_a_three_variant_35_metric_experiment_has_no_negative_bound():
    rng = np.random.default_rng(0)
    metrics = [f"m{i}" for i in range(35)]
    summary = pd.DataFrame([{"variant": v, "replicate": r, "brand": "x",
                             **{m: float(rng.poisson(i / 3)) for i, m in enumerate(metrics)}}
                            for v in "abc" for r in range(20)])
    table = comparison_table(summary, metrics)
    assert (table["ci_low"].dropna() >= 0).all() and (table["diff_n"] <= 20).all()


def test_sweep_points_are_a_grid_times_latin_hypercube_samples():
    sc = scenario_from_text(SCENARIO.replace(
        "grid: {campaigns.0.perks: [5, 15]}",
        "grid: {campaigns.0.perks: [5, 15]}\n  ranges: {population.homophily: [0.0, 1.0], "
        "campaigns.0.start: [2, 9]}\n  samples: 4"))
    points = sweep_points(sc)
    assert len(points) == 2 * 4
    assert points == sweep_points(sc)  # seeded: reproducible
    starts = sorted(p["campaigns.0.start"] for p in points[:4])
    assert all(isinstance(s, int) and 2 <= s <= 9 for s in starts)
    homophily = sorted(p["population.homophily"] for p in points[:4])
    # Latin hypercube: one sample in each quarter of the range
    assert [int(h * 4) for h in homophily] == [0, 1, 2, 3]


def test_sweep_table_has_the_swept_parameters_as_columns(tiny):
    result = sweep(load_scenario(tiny), replicates=2)
    s = result.summary
    assert list(s.columns[:4]) == ["point", "campaigns.0.perks", "variant", "replicate"]
    assert sorted(set(s["campaigns.0.perks"])) == [5, 15]
    assert len(s) == 2 * 2 * 2
    assert set(result.comparison["point"]) == {0, 1}


def test_plan_orders_tasks_point_variant_replicate(tiny):
    tasks = plan(load_scenario(tiny), sweep=True)
    assert [t.key for t in tasks[:4]] == ["p0000-threshold-r0000", "p0000-threshold-r0001",
                                         "p0000-threshold-r0002", "p0000-lottery-r0000"]
    assert len(tasks) == 2 * 2 * 3


def test_bad_sweep_values_are_located_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.replace("grid: {campaigns.0.perks: [5, 15]}",
                                     "grid: {campaigns.0.perks: [5, -15]}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [p] = info.value.problems
    assert p.path == "sweep.grid.campaigns.0.perks" and "-15" in p.message and p.line == 13


def test_compare_api_matches_run_once_for_each_replicate(tiny):
    sc = load_scenario(tiny)
    result = compare(sc, variants=["threshold"])
    for r in range(3):
        expected = run_once(sc, replicate=r).summary
        got = result.summary[result.summary.replicate == r]
        assert got["reach"].tolist() == expected["reach"].tolist()
    assert replicate_seed(11, 2).spawn_key == (2,)


@pytest.mark.slow
def test_compare_prints_a_table_with_intervals_and_names_its_figures(tiny, tmp_path):
    result = invoke("compare", tiny, "--executor", "serial", "--out", tmp_path / "out")
    assert "engaged_reach" in result.output and "paired difference" in result.output
    # 3 replicates are fewer than MIN_NONZERO: no row gets an interval or a *, each says why
    assert "few runs: 3, ~5 reps needed" in result.output
    table_lines = [line for line in result.output.splitlines() if not line.startswith("(")]
    assert not any(line.endswith(" *") or " * " in line for line in table_lines)
    assert "rare, few runs: fewer than 5 runs" in result.output
    assert "figures:" in result.output
    folder = folder_of(tmp_path / "out")
    comparison = pd.read_csv(folder / "comparison.csv")
    assert {"mean", "std", "ci_low", "ci_high", "n", "diff_mean", "diff_ci_low",
            "diff_ci_high", "runs", "nonzero", "rare", "replicates_needed",
            "diff_rare"} <= set(comparison.columns)
    assert comparison["rare"].all() and (comparison["runs"] == 3).all()
    assert (comparison["n"] <= 3).all()  # n counts the runs where the metric is defined
    assert (comparison.loc[comparison.metric == "reach", "n"] == 3).all()


def test_explicit_points_run_as_sweep_points_do(tiny):
    """Points given to the runner (what perksim robust passes: its samples) give the very
    tables a sweep over the same values gives: same seeds, same labels, same numbers."""
    from simulator.experiment.runner import run_experiment

    sc = load_scenario(tiny)
    swept = run_experiment(sc, sweep=True, replicates=2, executor="serial")
    points = [{"campaigns.0.perks": 5}, {"campaigns.0.perks": 15}]
    given_points = run_experiment(sc.model_copy(update={"sweep": None}), points=points,
                                  replicates=2, executor="serial")
    pd.testing.assert_frame_equal(given_points.summary, swept.summary, check_exact=True)
    assert sorted(set(given_points.summary["campaigns.0.perks"])) == [5, 15]


@pytest.mark.slow
def test_local_dask_workers_allocate_memory_as_the_other_executors_do():
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers by default, which made
    a 100,000-user sweep spend 80% of its time in page faults; perksim's local cluster starts
    its workers without it (executors._allocator_as_usual)."""
    import dask
    from distributed import Client, LocalCluster

    from simulator.experiment.executors import _local_cluster

    cluster = _local_cluster(LocalCluster, 1)
    try:
        with Client(cluster) as client:
            seen = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_", "unset"))
    finally:
        cluster.close()
    assert list(seen.values()) == ["unset"]
    # the process's own configuration is left as it was
    assert dask.config.get("distributed.nanny.pre-spawn-environ")["MALLOC_TRIM_THRESHOLD_"] == 65536
