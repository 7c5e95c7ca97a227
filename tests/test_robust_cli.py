"""``perksim robust`` end to end: the budget printed before the work, the folder's tables and
figures, identical tables whatever the executor and after kill -9 + resume, and bad input
refused with a located message, exit 2 and nothing written.

The scenario is tiny (150 users, 12 steps, two variants, three uncertainties) and the design
small (2 Morris trajectories = 8 samples, 2 replicates: 32 runs), so a study takes seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.experiment import folders as folder_life
from simulator.experiment.robust.files import FILES
from tests.test_robust import TINY  # the tiny two-variant scenario with three uncertainties

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

SMALL = ("--samples", "2", "--replicates", "2")
TABLES = [*(f"{name}.csv" for name in FILES), "summary.csv", "comparison.csv"]

# perksim with every run slowed down, so a kill meets the study half done
SLOW = """\
import sys, time
import simulator.cli as c, simulator.experiment.executors as x
slow = float(sys.argv.pop(1))
real = x.run_task
def run_task(*args):
    time.sleep(slow)
    return real(*args)
x.run_task = run_task
c.main()
"""


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def only_folder(base: Path) -> Path:
    [folder] = list(base.iterdir())
    return folder


def table_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLES}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("robust") / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def serial(scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    result = invoke("robust", scenario, *SMALL, "--executor", "serial", "--out", out)
    assert result.exit_code == 0, result.output
    return result, only_folder(out / "tiny_robust")


def test_the_budget_is_printed_before_the_work_and_the_folder_holds_the_study(serial):
    result, folder = serial
    assert ("8 samples of 3 uncertain parameters (morris) × 2 variants × 2 replicates = 32 runs"
            in result.stderr)
    assert "estimate: about" in result.stderr and "one run took" in result.stderr
    assert "share of the sampled assumptions" in result.stdout  # the terminal's share table
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "robust" and manifest["status"] == "complete"
    assert manifest["method"] == "morris" and manifest["samples"] == 2
    assert isinstance(manifest["design_seed"], int)
    for name in TABLES:
        assert (folder / name).is_file(), name
    figures = {p.name for p in (folder / "figures").glob("*.png")}
    assert {"robust_map_reach.png", "robust_indices_reach.png"} <= figures
    assert not any(name.startswith("sweep_") for name in figures)  # samples are not a sweep


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "dask"])
def test_tables_are_identical_on_every_executor(serial, scenario, tmp_path, executor):
    out = tmp_path / executor
    result = invoke("robust", scenario, *SMALL, "--executor", executor, "--workers", 2,
                    "--out", out)
    assert result.exit_code == 0, result.output
    assert table_bytes(only_folder(out / "tiny_robust")) == table_bytes(serial[1])


@pytest.mark.slow
def test_a_study_killed_and_resumed_gives_the_same_tables(serial, scenario, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", SLOW, "0.25", "robust", str(scenario), *SMALL,
                             "--executor", "serial", "--out", str(out)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        base = out / "tiny_robust"
        while time.monotonic() < deadline:
            parts = list(base.iterdir()) if base.exists() else []
            if parts and folder_life.saved_runs(parts[0]) >= 4:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the study never saved four runs")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    partial = only_folder(base)
    assert partial.name.endswith(".partial")
    assert 4 <= folder_life.saved_runs(partial) < 32
    resumed = invoke("robust", "--resume", partial)
    assert resumed.exit_code == 0, resumed.output
    assert table_bytes(only_folder(base)) == table_bytes(serial[1])


BAD_UNCERTAINTIES = [
    ("behaviour.pout_treshold: {uniform: [0.2, 0.5]}",
     "uncertainties.behaviour.pout_treshold", "did you mean 'pout_threshold'"),
    ("behaviour.pout_threshold: {uniform: [0.2, 1.5]}",
     "uncertainties.behaviour.pout_threshold", "less than or equal to 1"),
    ("behaviour.pout_threshold: {log_uniform: [0, 0.5]}",
     "uncertainties.behaviour.pout_threshold", "low > 0"),
    ("behaviour.pout_threshold: {uniform: [0.5, 0.2]}",
     "uncertainties.behaviour.pout_threshold", "low < high"),
]


@pytest.mark.parametrize(("line", "where", "says"), BAD_UNCERTAINTIES)
def test_bad_uncertainties_exit_2_with_a_located_message_and_nothing_written(
        tmp_path, line, where, says):
    path = tmp_path / "bad.yaml"
    path.write_text(TINY.replace("behaviour.pout_threshold: {uniform: [0.2, 0.5]}", line))
    out = tmp_path / "out"
    result = invoke("robust", path, *SMALL, "--out", out)
    assert result.exit_code == 2, result.output
    assert f"{path}:12:" in result.stderr  # the file and line of the entry
    assert where in result.stderr and says in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(("args", "says"), [
    (("--method", "sobol", "--samples", "3"), "samples = 3: the Sobol' design needs a power of two"),
    (("--variant", "lottery"), "a robustness study compares variants; it needs at least two"),
    (("--variant", "lotery", "--variant", "threshold"), "no variant 'lotery'"),
    (("--method", "prim"), "Invalid value for '--method'"),
    (("--samples", "0"), "Invalid value for '--samples'"),
])
def test_bad_options_exit_2_and_write_nothing(scenario, tmp_path, args, says):
    out = tmp_path / "out"
    result = invoke("robust", scenario, *args, "--out", out)
    assert result.exit_code == 2, result.output
    assert says in result.stderr
    assert not out.exists()


def test_a_scenario_without_uncertainties_is_refused(tmp_path):
    path = tmp_path / "none.yaml"
    path.write_text(TINY.split("uncertainties:")[0])
    result = invoke("robust", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert f"{path} has no uncertainties: section" in result.stderr
    assert not (tmp_path / "out").exists()


def test_resume_takes_no_new_design(serial):
    result = invoke("robust", "--resume", serial[1], "--samples", "4")
    assert result.exit_code == 2
    assert "--resume continues an experiment exactly as it was started" in result.stderr


def test_an_uncertainty_a_variant_cannot_take_is_refused_before_the_work(scenario):
    # the load-time checks refuse such a file (they try each range's ends on the scenario and
    # its variants); a scenario changed in Python after loading meets the study's own check
    from simulator import load_scenario
    from simulator.api import ExperimentError
    from simulator.api.experiment import robust_design

    sc = load_scenario(scenario)
    sc.variants["lottery"] = {"campaigns.0.strategy.kind": "lottery"}  # keeps the threshold
    with pytest.raises(ExperimentError, match="variant 'lottery' cannot take the uncertainties' "
                       r"values \(sample 0\): campaigns\[0\].strategy.pick: unknown key"):
        robust_design(sc, "morris", 2)


def test_a_variant_that_sets_an_uncertain_field_keeps_its_own_value(tmp_path):
    from simulator import scenario_from_text
    from simulator.api.experiment import robust_design, robust_scenario
    from simulator.experiment.plan import plan, task_scenarios
    from simulator.experiment.robust.study import design_points

    # the lottery variant replaces the strategy whole (so a sampled threshold is not its
    # concern) and fixes the pout threshold: its value, not the sample's, is what it compares
    text = (TINY.replace("behaviour.brand_talk: {log_uniform: [0.002, 0.05]}",
                         "campaigns[0].strategy.threshold: {uniform: [20, 90]}")
            .replace("{campaigns.0.strategy: {kind: lottery}}",
                     "{campaigns.0.strategy: {kind: lottery}, behaviour.pout_threshold: 0.45}"))
    sc = scenario_from_text(text)
    design = robust_design(sc, "morris", 2)
    points = design_points(design)
    tasks = plan(robust_scenario(sc), 1, points=points)
    made = task_scenarios(robust_scenario(sc), tasks, variant_wins=True)
    for p, point in enumerate(points):
        own = made[("threshold", p)]
        assert own.behaviour.pout_threshold == point["behaviour.pout_threshold"]
        assert own.campaigns[0].strategy.threshold == point["campaigns[0].strategy.threshold"]
        lottery = made[("lottery", p)]
        assert lottery.behaviour.pout_threshold == 0.45
        assert lottery.campaigns[0].strategy.kind == "lottery"
    result = invoke("robust", _write(tmp_path, text), *SMALL, "--executor", "serial",
                    "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "failed" not in result.stderr.replace("0 failed", "")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path
