"""Reproducibility (MODEL.md §7): same seed ⇒ identical outputs; different seeds ⇒ different.

Seeds (ARCHITECTURE): replicate ``r`` of master seed ``S`` runs with
``SeedSequence(S, spawn_key=(r,))``; no global ``random``/``np.random`` state is used.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator import PerkCampaignModel, load_scenario, replicate_seed
from simulator.cli import cli
from simulator.experiment import plan

ROOT = Path(__file__).parents[1]
KLOUT = ROOT / "scenarios" / "klout_pout.yaml"
SMALL_SET = ["population.size=300", "steps=20"]
SMALL_ARGS = ["--set", "population.size=300", "--steps", "20"]
TABLES = ("steps.csv", "summary.csv", "users.csv")


def small_scenario(*extra: str):
    return load_scenario(KLOUT, overrides=[*SMALL_SET, *extra])


def perksim_command() -> list[str]:
    """The installed ``perksim`` script beside this Python, else ``python -m simulator``."""
    script = Path(sys.executable).with_name("perksim")
    if script.is_file():
        return [str(script)]
    found = shutil.which("perksim")
    return [found] if found else [sys.executable, "-m", "simulator"]


def run_folder(out: Path) -> Path:
    [folder] = list((out / "klout_pout").iterdir())
    return folder


def cli_run(out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(cli, ["run", str(KLOUT), *SMALL_ARGS, *extra, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return run_folder(out)


def run_model(scenario, rng) -> PerkCampaignModel:
    model = PerkCampaignModel(scenario, rng=rng)
    model.run()
    return model


@pytest.fixture(scope="module")
def two_process_runs(tmp_path_factory):
    """The same small scenario and seed run by two separate ``perksim run`` processes."""
    folders = []
    for i in range(2):
        out = tmp_path_factory.mktemp(f"out{i}")
        proc = subprocess.run([*perksim_command(), "run", str(KLOUT), *SMALL_ARGS, "--seed", "11",
                               "--out", str(out)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        folders.append(run_folder(out))
    return folders


# --- whole runs through the command line -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_same_seed_gives_byte_identical_tables_from_separate_processes(two_process_runs, table):
    a, b = two_process_runs
    assert a != b
    assert (a / table).read_bytes() == (b / table).read_bytes()


@pytest.mark.slow
def test_same_seed_gives_identical_resolved_scenario_files(two_process_runs):
    a, b = two_process_runs
    assert (a / "scenario.yaml").read_bytes() == (b / "scenario.yaml").read_bytes()


@pytest.mark.slow
def test_same_seed_gives_identical_figures(two_process_runs):
    """Figures are outputs too; plots.save promises "reruns give identical files"."""
    a, b = two_process_runs
    figures = sorted(p.name for p in (a / "figures").iterdir())
    assert figures, "a run should draw figures"
    assert figures == sorted(p.name for p in (b / "figures").iterdir())
    differing = [f for f in figures if (a / "figures" / f).read_bytes() != (b / "figures" / f).read_bytes()]
    assert not differing, f"figures differ between identical runs: {differing}"


@pytest.mark.slow
def test_different_seeds_give_different_tables(tmp_path):
    a = cli_run(tmp_path / "a", "--seed", "1")
    b = cli_run(tmp_path / "b", "--seed", "2")
    for table in TABLES:
        assert (a / table).read_bytes() != (b / table).read_bytes(), table
    # …and different seeds are the only difference: the same columns, the same number of rows
    for table in TABLES:
        fa, fb = pd.read_csv(a / table), pd.read_csv(b / table)
        assert list(fa.columns) == list(fb.columns) and len(fa) == len(fb)


# --- the Python API -----------------------------------------------------------------------------------


def test_model_with_the_same_rng_gives_identical_steps_frame_twice():
    sc = small_scenario()
    a, b = run_model(sc, 5), run_model(sc, 5)
    pd.testing.assert_frame_equal(a.steps_frame(), b.steps_frame())
    pd.testing.assert_frame_equal(a.users_frame(), b.users_frame())
    pd.testing.assert_frame_equal(a.summary(), b.summary())


def test_model_with_a_different_rng_gives_a_different_run():
    sc = small_scenario()
    a, b = run_model(sc, 5), run_model(sc, 6)
    assert not a.steps_frame().equals(b.steps_frame())
    assert not a.users_frame().equals(b.users_frame())


def test_model_without_rng_uses_the_scenario_seed():
    sc = small_scenario("seed=77")
    a, b = run_model(sc, None), run_model(sc, 77)
    pd.testing.assert_frame_equal(a.steps_frame(), b.steps_frame())


def test_integer_rng_is_replicate_0_of_that_master_seed():
    """PerkCampaignModel(sc, rng=9) is the run `perksim run --seed 9` makes."""
    sc = small_scenario()
    a, b = run_model(sc, 9), run_model(sc, replicate_seed(9, 0))
    pd.testing.assert_frame_equal(a.steps_frame(), b.steps_frame())
    default = run_model(sc.model_copy(update={"seed": 9}), None)
    pd.testing.assert_frame_equal(a.steps_frame(), default.steps_frame())


def test_a_seed_sequence_is_not_consumed_by_a_model():
    sc = small_scenario()
    seq = replicate_seed(5, 2)
    a, b = run_model(sc, seq), run_model(sc, seq)
    pd.testing.assert_frame_equal(a.steps_frame(), b.steps_frame())


def test_running_in_pieces_equals_running_at_once():
    sc = small_scenario()
    whole = run_model(sc, 4)
    pieces = PerkCampaignModel(sc, rng=4)
    pieces.run(steps=7)
    pieces.run()
    pd.testing.assert_frame_equal(whole.steps_frame(), pieces.steps_frame())


def test_global_random_state_neither_matters_nor_changes():
    sc = small_scenario()
    np.random.seed(1)
    random.seed(1)
    a = run_model(sc, 3)
    np.random.seed(2)
    random.seed(2)
    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()
    b = run_model(sc, 3)
    pd.testing.assert_frame_equal(a.steps_frame(), b.steps_frame())
    assert np.array_equal(np.random.get_state()[1], np_state), "np.random global state was used"
    assert random.getstate() == py_state, "the random module's global state was used"


@pytest.mark.parametrize("replicate", [0, 3])
def test_run_once_equals_the_model_with_the_replicate_seed(replicate):
    sc = small_scenario()
    result = plan.run_once(sc, replicate=replicate)
    model = run_model(sc, plan.replicate_seed(sc.seed, replicate))
    pd.testing.assert_frame_equal(result.steps, model.steps_frame())
    pd.testing.assert_frame_equal(result.summary, model.summary())
    pd.testing.assert_frame_equal(result.users, model.users_frame())
    assert result.seed == plan.describe_seed(plan.replicate_seed(sc.seed, replicate))


def test_replicates_differ_from_each_other():
    sc = small_scenario()
    r0, r1 = plan.run_once(sc, replicate=0), plan.run_once(sc, replicate=1)
    assert not r0.steps.equals(r1.steps)


def test_replicate_seed_is_the_rth_child_of_the_master_seed_sequence():
    children = np.random.SeedSequence(2012).spawn(4)
    for r, child in enumerate(children):
        seq = plan.replicate_seed(2012, r)
        assert np.array_equal(seq.generate_state(8), child.generate_state(8))
        assert seq.spawn_key == (r,)


def test_describe_seed_lets_a_run_be_rebuilt():
    seq = plan.replicate_seed(2012, 2)
    d = plan.describe_seed(seq)
    assert d["entropy"] == 2012 and d["spawn_key"] == [2]
    rebuilt = np.random.SeedSequence(d["entropy"], spawn_key=tuple(d["spawn_key"]))
    assert np.array_equal(rebuilt.generate_state(4), seq.generate_state(4))
    assert list(d["streams"]) == list(plan.STREAMS)
