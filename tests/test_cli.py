"""The ``perksim`` command line: ``run`` writes a complete results folder or nothing at all.

Exit codes (ARCHITECTURE): 0 success, 2 bad input (scenario, arguments, edge lists), 1 internal
error. Runs here are small (300 users, 20 steps) so each takes about a second.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli, format_comparison
from simulator.experiment import folders, results
from simulator.scenario.loader import load_scenario
from simulator.scenario.schema import Scenario

ROOT = Path(__file__).parents[1]
KLOUT = ROOT / "tests" / "data" / "klout_pout_standalone.yaml"  # self-contained: tests edit its text
MODEL_MD = Path(__file__).parents[2] / "shared" / "design" / "MODEL.md"
SMALL = ["--set", "population.size=300", "--steps", "20"]
GENERATED_GRAPH = "{kind: powerlaw_cluster, m: 4, p: 0.3}"

# MODEL.md §6 — the metric names every table must carry
METRICS = [
    "reach", "reach_organic", "reach_paid", "engaged_reach", "adopters",
    "mentions_paid", "mentions_organic", "mentions_negative", "authenticity", "recipient_fit",
    "perks_given", "cost", "cost_per_engaged_reach", "fan_coverage", "pout_mean", "pout_fans",
    "pouting_share", "coverage_ratio", "reach_maximin", "score_mean", "gaming_share",
]
MANIFEST_KEYS = {"scenario", "seed", "derived_seeds", "command", "versions", "started", "finished",
                 "status", "resolved_scenario"}
TABLES = ("steps.csv", "summary.csv", "users.csv")


# --- helpers ------------------------------------------------------------------------------------


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def run_small(out: Path, *extra: str, scenario: Path = KLOUT):
    return invoke("run", scenario, *SMALL, *extra, "--out", out)


def the_run_folder(out: Path, name: str = "klout_pout") -> Path:
    folders = [p for p in (out / name).iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def nothing_written(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if ".partial" in p.name] if out.exists() else []


def write_scenario(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One small run shared by the read-only checks of its results folder."""
    out = tmp_path_factory.mktemp("results")
    result = run_small(out)
    assert result.exit_code == 0, result.output
    return result, the_run_folder(out)


# --- a successful run ----------------------------------------------------------------------------


def test_metric_list_of_these_tests_matches_model_md_section_6():
    if not MODEL_MD.is_file():
        pytest.skip(f"{MODEL_MD} not present")
    text = MODEL_MD.read_text(encoding="utf-8")
    section = text.split("## 6.", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`([a-z_]+)`", section))
    assert names == set(METRICS)


def test_run_writes_a_results_folder_with_every_file(small_run):
    _, folder = small_run
    for name in ("manifest.json", "scenario.yaml", *TABLES):
        assert (folder / name).is_file(), name
        assert (folder / name).stat().st_size > 0, name
    assert folder.parent.name == "klout_pout"
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}(-\d+)?", folder.name)
    assert not leftovers(folder.parent)


def test_manifest_records_scenario_seeds_software_times_and_status(small_run):
    _, folder = small_run
    m = json.loads((folder / "manifest.json").read_text())
    assert MANIFEST_KEYS <= set(m)
    assert m["scenario"] == "klout_pout"
    assert m["status"] == "complete"
    assert m["seed"] == 2012
    assert m["derived_seeds"]["replicate_0"]["entropy"] == 2012
    assert {"python", "mesa", "numpy", "pandas"} <= set(m["versions"])
    assert isinstance(m["command"], list) and m["command"][0] == "perksim"
    assert datetime.fromisoformat(m["started"]) <= datetime.fromisoformat(m["finished"])
    expected = load_scenario(KLOUT, overrides=["population.size=300", "steps=20"])
    assert m["resolved_scenario"] == json.loads(json.dumps(expected.to_document()))


def test_scenario_yaml_of_a_run_reloads_as_the_scenario_that_ran(small_run):
    _, folder = small_run
    sc = load_scenario(folder / "scenario.yaml")
    assert isinstance(sc, Scenario)
    assert sc.population.size == 300 and sc.steps == 20
    assert sc == load_scenario(KLOUT, overrides=["population.size=300", "steps=20"])


def test_steps_csv_has_one_row_per_step_and_brand_and_every_metric(small_run):
    _, folder = small_run
    steps = pd.read_csv(folder / "steps.csv")
    assert {"step", "brand", *METRICS} <= set(steps.columns)
    assert list(steps["step"]) == list(range(20))
    assert set(steps["brand"]) == {"courtside"}


def test_summary_csv_is_the_last_step_of_every_metric(small_run):
    _, folder = small_run
    steps = pd.read_csv(folder / "steps.csv")
    summary = pd.read_csv(folder / "summary.csv")
    assert {"brand", *METRICS} <= set(summary.columns)
    assert len(summary) == 1
    last = steps[steps["step"] == steps["step"].max()].reset_index(drop=True)
    # a lone row may read back as int where the steps column (with NaN) reads as float
    pd.testing.assert_frame_equal(summary[last.columns], last, check_dtype=False)


def test_users_csv_has_one_row_per_user(small_run):
    _, folder = small_run
    users = pd.read_csv(folder / "users.csv")
    assert len(users) == 300
    assert list(users["id"]) == list(range(300))
    assert {"archetype", "region", "score", "perk_courtside", "pout_courtside"} <= set(users.columns)


def test_printed_table_shows_every_metric_and_the_results_folder(small_run):
    result, folder = small_run
    out = result.output
    assert "klout_pout: 300 users" in out and "20 steps" in out and "seed 2012" in out
    rows = {line.split()[0] for line in out.splitlines() if line.strip()}
    missing = [m for m in METRICS if m not in rows]
    assert not missing, f"metrics missing from the printed table: {missing}"
    assert "courtside" in out
    assert f"results: {folder}" in out


def test_seed_option_changes_the_seed_of_the_run(tmp_path):
    result = run_small(tmp_path, "--seed", "7")
    assert result.exit_code == 0, result.output
    folder = the_run_folder(tmp_path)
    m = json.loads((folder / "manifest.json").read_text())
    assert m["seed"] == 7
    assert m["derived_seeds"]["replicate_0"]["entropy"] == 7
    assert load_scenario(folder / "scenario.yaml").seed == 7
    assert "seed 7" in result.output


def test_steps_option_sets_the_number_of_steps(tmp_path):
    result = invoke("run", KLOUT, "--set", "population.size=300", "--steps", "25", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    folder = the_run_folder(tmp_path)
    assert pd.read_csv(folder / "steps.csv")["step"].max() == 24
    assert json.loads((folder / "manifest.json").read_text())["resolved_scenario"]["steps"] == 25


def test_set_option_overrides_scenario_fields(tmp_path):
    result = run_small(tmp_path, "--set", "campaigns[0].perks=5",
                       "--set", "campaigns[0].strategy={kind: lottery}")
    assert result.exit_code == 0, result.output
    folder = the_run_folder(tmp_path)
    sc = load_scenario(folder / "scenario.yaml")
    assert sc.campaigns[0].perks == 5 and sc.campaigns[0].strategy.kind == "lottery"
    summary = pd.read_csv(folder / "summary.csv")
    assert summary.loc[0, "perks_given"] == 5  # a lottery always finds 5 eligible users
    assert pd.read_csv(folder / "users.csv")["perk_courtside"].sum() == 5


def test_run_on_an_edge_list_scenario_uses_the_file_graph(tmp_path):
    ring = "".join(f"{i} {(i + 1) % 60}\n{i} {(i + 7) % 60}\n" for i in range(60))
    (tmp_path / "ring.txt").write_text(ring)
    text = KLOUT.read_text().replace(GENERATED_GRAPH, "{kind: edgelist, path: ring.txt}")
    scenario = write_scenario(tmp_path, text)
    out = tmp_path / "out"
    result = invoke("run", scenario, "--steps", "20", "--out", out)
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(the_run_folder(out) / "users.csv")) == 60


@pytest.mark.slow
def test_two_runs_into_one_folder_get_distinct_run_folders(tmp_path):
    for _ in range(2):
        assert run_small(tmp_path).exit_code == 0
    folders = [p for p in (tmp_path / "klout_pout").iterdir()]
    assert len(folders) == 2
    assert all((f / "manifest.json").is_file() for f in folders)


# --- bad input: exit 2, nothing written --------------------------------------------------------------


def test_invalid_scenario_exits_2_with_located_message_and_writes_nothing(tmp_path):
    text = KLOUT.read_text().replace("steps: 60", "stpes: 60")
    scenario = write_scenario(tmp_path, text)
    out = tmp_path / "out"
    result = run_small(out, scenario=scenario)
    assert result.exit_code == 2
    line = text.splitlines().index("stpes: 60") + 1
    assert f"{scenario}:{line}:1: stpes:" in result.stderr
    assert "did you mean 'steps'" in result.stderr
    assert nothing_written(out)


def test_several_problems_are_all_printed(tmp_path):
    text = KLOUT.read_text().replace("steps: 60", "stpes: 60").replace("perks: 50", "perks: -1")
    scenario = write_scenario(tmp_path, text)
    result = run_small(tmp_path / "out", scenario=scenario)
    assert result.exit_code == 2
    assert "stpes" in result.stderr and "campaigns[0].perks" in result.stderr
    assert nothing_written(tmp_path / "out")


def test_bad_set_value_exits_2_pointing_at_the_set_option(tmp_path):
    result = run_small(tmp_path / "out", "--set", "campaigns[0].perks=-1")
    assert result.exit_code == 2
    assert "--set campaigns[0].perks=-1" in result.stderr
    assert nothing_written(tmp_path / "out")


def test_missing_scenario_file_exits_2(tmp_path):
    missing = tmp_path / "nope.yaml"
    result = invoke("run", missing, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert str(missing) in result.stderr and "not found" in result.stderr
    assert nothing_written(tmp_path / "out")


@pytest.mark.parametrize("args", [
    ["run", str(KLOUT), "--steps", "0"],
    ["run", str(KLOUT), "--steps", "many"],
    ["run", str(KLOUT), "--seed", "-1"],
    ["run", str(KLOUT), "--bogus"],
    ["run"],
    ["run", str(ROOT / "scenarios")],
    ["frobnicate"],
], ids=["steps_zero", "steps_text", "seed_negative", "unknown_option", "no_scenario", "directory",
        "unknown_command"])
def test_bad_command_line_argument_exits_2(tmp_path, args):
    out = tmp_path / "out"
    result = invoke(*args, "--out", out) if args[0] == "run" else invoke(*args)
    assert result.exit_code == 2, result.output
    assert nothing_written(out)


def test_broken_edge_list_exits_2_naming_file_and_line_and_writes_nothing(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("0 1\n1 2\n2 three\n")
    text = KLOUT.read_text().replace(GENERATED_GRAPH, "{kind: edgelist, path: edges.txt}")
    scenario = write_scenario(tmp_path, text)
    out = tmp_path / "out"
    result = invoke("run", scenario, "--steps", "20", "--out", out)
    assert result.exit_code == 2, result.output
    assert f"{edges}:3:" in result.stderr
    assert nothing_written(out)


def test_missing_edge_list_exits_2_naming_the_scenario_line(tmp_path):
    text = KLOUT.read_text().replace(GENERATED_GRAPH, "{kind: edgelist, path: gone.txt}")
    scenario = write_scenario(tmp_path, text)
    result = invoke("run", scenario, "--out", tmp_path / "out")
    assert result.exit_code == 2
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "gone.txt" in s)
    assert f"{scenario}:{line}:" in result.stderr and "gone.txt" in result.stderr
    assert nothing_written(tmp_path / "out")


# --- atomic writes ------------------------------------------------------------------------------------


def test_failure_while_writing_leaves_no_partial_or_run_folder(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = results.write_table

    def failing_write_table(frame, path):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (simulated)")
        real(frame, path)

    monkeypatch.setattr("simulator.experiment.results.write_table", failing_write_table)
    out = tmp_path / "out"
    result = run_small(out)
    assert calls["n"] == 2, "the simulated failure should have happened"
    assert result.exit_code == 1  # an internal error, not bad input
    assert isinstance(result.exception, OSError)
    assert not leftovers(out)
    assert not (out / "klout_pout").exists() or not any((out / "klout_pout").iterdir())


def test_atomic_folder_renames_into_place_only_on_success(tmp_path):
    final = tmp_path / "name" / "run-1"
    with folders.atomic_folder(final) as tmp:
        assert tmp != final and tmp.parent == final.parent
        assert not final.exists()
        (tmp / "a.txt").write_text("x")
    assert (final / "a.txt").read_text() == "x"
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_atomic_folder_removes_the_temporary_folder_on_error(tmp_path, error):
    final = tmp_path / "name" / "run-1"
    with pytest.raises(error), folders.atomic_folder(final) as tmp:
        (tmp / "a.txt").write_text("x")
        raise error()
    assert not final.exists()
    assert not leftovers(tmp_path)


def test_atomic_folder_replaces_a_stale_partial_folder(tmp_path):
    final = tmp_path / "run-1"
    with pytest.raises(RuntimeError), folders.atomic_folder(final) as tmp:
        stale = tmp
        raise RuntimeError
    stale.mkdir()
    (stale / "junk").write_text("old")
    with folders.atomic_folder(final) as tmp:
        (tmp / "new").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == ["new"]
    assert not leftovers(tmp_path)


# --- the real command ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_python_m_simulator_run_writes_results_and_records_its_command(tmp_path):
    cmd = [sys.executable, "-m", "simulator", "run", str(KLOUT), *SMALL, "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = the_run_folder(tmp_path)
    assert f"results: {folder}" in proc.stdout
    m = json.loads((folder / "manifest.json").read_text())
    assert m["status"] == "complete"
    assert m["command"] == ["perksim", "run", str(KLOUT), *SMALL, "--out", str(tmp_path)]
    for name in TABLES:
        assert (folder / name).is_file()


@pytest.mark.slow
def test_python_m_simulator_exits_2_on_bad_scenario_and_bad_argument(tmp_path):
    bad = write_scenario(tmp_path, KLOUT.read_text().replace("perks: 50", "perks: -5"))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "simulator", "run", str(bad), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert f"{bad}:" in proc.stderr and "campaigns[0].perks" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "simulator", "run", str(KLOUT), "--steps", "x"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--steps" in proc.stderr
    assert nothing_written(out)


# --- the comparison table printed by compare ------------------------------------------------------


def comparison_rows(rows: list[tuple]) -> pd.DataFrame:
    """(variant, metric, mean, lo, hi, diff_lo, diff_hi, nonzero, needed, lower_bound,
    diff_rare) of 20 runs."""
    out = []
    for variant, metric, mean, lo, hi, dlo, dhi, nonzero, needed, lower, diff_rare in rows:
        out.append({"variant": variant, "brand": "acme", "metric": metric, "mean": mean, "std": 1.0,
                    "ci_low": lo, "ci_high": hi, "n": 20, "diff_mean": 0.0, "diff_ci_low": dlo,
                    "diff_ci_high": dhi, "diff_n": 20, "runs": 20, "nonzero": nonzero,
                    "rare": nonzero < 5, "replicates_needed": needed,
                    "replicates_needed_is_lower_bound": lower, "diff_rare": diff_rare})
    return pd.DataFrame(out)


def test_format_comparison_says_rare_instead_of_an_interval_and_stars_only_judgeable_differences():
    nan = float("nan")
    table = comparison_rows([
        ("a", "reach", 10.0, 8.0, 12.0, nan, nan, 20, nan, False, False),
        ("b", "reach", 20.5, 17.5, 23.5, 7.0, 13.0, 20, nan, False, False),
        ("a", "adopters", 0.1, 0.0, 0.3, nan, nan, 2, 50, False, False),
        # differences to a rare first variant that rest on few events: no star
        ("b", "adopters", 0.3, 0.1, 0.5, 0.05, 0.4, 5, nan, False, True),
        ("a", "pouting_share", 0.0, 0.0, 0.0, nan, nan, 0, 34, True, False),
        # never pouting against pouting in every run: the differences are not rare
        ("b", "pouting_share", 0.2, 0.1, 0.3, 0.1, 0.3, 20, nan, False, False),
        ("a", "mentions_negative", 0.0, 0.0, 0.0, nan, nan, 0, 34, True, False),
        ("b", "mentions_negative", 0.2, 0.0, 0.4, 0.0, 0.4, 3, 50, False, True),
    ])
    text = format_comparison(table, ["reach", "adopters", "pouting_share", "mentions_negative"])
    lines = {line.split()[0]: line for line in text.splitlines() if line.split()}
    assert "20.5 [17.5, 23.5] *" in lines["reach"]
    assert "0.100 (rare: 2/20 runs ≠ 0, ~50 reps needed)" in lines["adopters"]
    assert "0.300 [0.100, 0.500]" in lines["adopters"] and "*" not in lines["adopters"]
    assert "(rare: 0/20 runs ≠ 0, ≥34 reps needed)" in lines["pouting_share"]
    assert lines["pouting_share"].endswith("0.200 [0.100, 0.300] *")
    assert "(rare: 3/20 runs ≠ 0, ~50 reps needed)" in lines["mentions_negative"]
    assert "*" not in lines["mentions_negative"]
    assert "fewer than 5 runs with a count ≠ 0" in text.splitlines()[-1]
    # without rare rows, no footnote about them
    assert "rare" not in format_comparison(table, ["reach"])
