"""Experiments: paired seeds, identical tables whatever the executor, resume, honest intervals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from simulator import compare, load_scenario, sweep
from simulator.cli import cli
from simulator.experiment import comparison_table, mean_ci, plan, replicate_seed, run_once, sweep_points
from simulator.scenario import ScenarioError, scenario_from_text

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


def test_a_replicate_rerun_alone_reproduces_it_exactly(tiny, tmp_path):
    sc = load_scenario(tiny)
    full = compare(sc)
    alone = invoke("run", tiny, "--variant", "lottery", "--replicate", "2", "--out", tmp_path / "one")
    assert alone.exit_code == 0, alone.output
    one = pd.read_csv(folder_of(tmp_path / "one") / "summary.csv")
    expected = full.summary[(full.summary.variant == "lottery") & (full.summary.replicate == 2)]
    pd.testing.assert_frame_equal(one.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_tables_are_byte_identical_whatever_the_executor(tiny, tmp_path, executor):
    serial = invoke("compare", tiny, "--executor", "serial", "--out", tmp_path / "serial")
    other = invoke("compare", tiny, "--executor", executor, "--workers", "2", "--out", tmp_path / executor)
    assert serial.exit_code == 0 and other.exit_code == 0, other.output
    a, b = folder_of(tmp_path / "serial"), folder_of(tmp_path / executor)
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


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


def test_resume_refuses_a_finished_folder_or_another_command(tiny, tmp_path):
    invoke("compare", tiny, "--executor", "serial", "--out", tmp_path / "out")
    done = folder_of(tmp_path / "out")
    result = invoke("compare", "--resume", done)
    assert result.exit_code == 2 and "not an unfinished results folder" in result.output


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


def test_confidence_intervals_match_scipy():
    rng = np.random.default_rng(3)
    values = rng.normal(5, 2, size=12)
    mean, sd, lo, hi, n = mean_ci(values)
    ref = stats.t.interval(0.95, df=11, loc=values.mean(), scale=stats.sem(values))
    assert n == 12 and mean == pytest.approx(values.mean()) and sd == pytest.approx(values.std(ddof=1))
    assert (lo, hi) == pytest.approx(ref)
    assert mean_ci(np.array([1.0, np.nan, 3.0]))[4] == 2  # NaN runs are left out, not zeros
    assert np.isnan(mean_ci(np.array([4.0]))[2])  # one run: no interval


def test_paired_difference_interval_matches_scipy_paired_t():
    rng = np.random.default_rng(4)
    a = rng.normal(10, 3, size=8)
    b = a + rng.normal(1.5, 0.5, size=8)  # strongly paired: the paired interval is narrow
    summary = pd.DataFrame({"variant": ["a"] * 8 + ["b"] * 8, "replicate": list(range(8)) * 2,
                            "brand": "x", "reach": np.concatenate([a, b])})
    table = comparison_table(summary, ["reach"]).set_index("variant")
    d = b - a
    ref = stats.t.interval(0.95, df=7, loc=d.mean(), scale=stats.sem(d))
    assert table.loc["b", "diff_mean"] == pytest.approx(d.mean())
    assert (table.loc["b", "diff_ci_low"], table.loc["b", "diff_ci_high"]) == pytest.approx(ref)
    assert np.isnan(table.loc["a", "diff_mean"])
    unpaired = stats.t.interval(0.95, df=7, loc=b.mean(), scale=stats.sem(b))
    assert ref[1] - ref[0] < unpaired[1] - unpaired[0]


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


def test_compare_prints_a_table_with_intervals_and_names_its_figures(tiny, tmp_path):
    result = invoke("compare", tiny, "--executor", "serial", "--out", tmp_path / "out")
    assert "engaged_reach" in result.output and "[" in result.output
    assert "paired difference" in result.output
    assert "figures:" in result.output
    folder = folder_of(tmp_path / "out")
    comparison = pd.read_csv(folder / "comparison.csv")
    assert {"mean", "std", "ci_low", "ci_high", "n", "diff_mean", "diff_ci_low",
            "diff_ci_high"} <= set(comparison.columns)
    assert (comparison["n"] <= 3).all()  # n counts the runs where the metric is defined
    assert (comparison.loc[comparison.metric == "reach", "n"] == 3).all()
