"""Results folders under concurrency: run ids that never collide, a lock per experiment folder,
a final rename that never loses a finished experiment, left-overs of killed commands cleaned
or reported, and tables and manifests read with located messages (simulator/experiment/results.py).

Commands run in subprocesses where two processes are the point; scenarios are tiny (100 users,
5 steps) so each run takes well under a second after the ~4 s start of the interpreter.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.experiment import folders as folder_life
from simulator.experiment import store
from simulator.experiment.folders import (
    LOCK_FILE,
    FolderBusy,
    FolderLock,
    claim,
    clean_stale,
    finish,
    lock_holder,
)
from simulator.experiment.results import ResultsFolderError, read_manifest, read_table

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# one scenario without variants: `run` and `compare` of it resolve to the same document, so
# they share the run id's hash, and started in the same second they compete for one name
PLAIN = """\
name: plain
seed: 5
steps: 5
replicates: 2
population: {size: 100}
campaigns:
  - {brand: courtside, topic: sports, region: los_angeles, perks: 5, start: 1,
     strategy: {kind: score_threshold, threshold: 55}}
"""

# perksim with a frozen clock (so processes "start in the same second" whenever they start)
# and, optionally, every run slowed down (so another process can meet it while it works)
FROZEN = """\
import sys, time
from datetime import UTC, datetime
import simulator.cli as c, simulator.experiment.executors as x, simulator.experiment.results as r
import simulator.api.experiment as e, simulator.api.results as a
fixed = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
r.utc_now = c.utc_now = e.utc_now = a.utc_now = lambda: fixed
slow = float(sys.argv.pop(1))
if slow:
    real = x.run_task
    def run_task(*args):
        time.sleep(slow)
        return real(*args)
    x.run_task = run_task
stall = sys.argv.pop(1)
if stall == "write":  # a run that hangs while writing its folder
    def write_experiment(*args):
        time.sleep(600)
    e.write_experiment = a.write_experiment = write_experiment
c.main()
"""
FROZEN_RID = "20300102T030405Z"


def perksim(*args: object, slow: float = 0.0, stall: str = "-", **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", FROZEN, str(slow), stall, *map(str, args)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **popen)


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "plain.yaml"
    path.write_text(PLAIN)
    return path


def folders(base: Path) -> list[Path]:
    return sorted(p for p in base.iterdir()) if base.exists() else []


def complete(folder: Path) -> bool:
    m = json.loads((folder / "manifest.json").read_text())
    return (m["status"] == "complete" and (folder / "summary.csv").is_file()
            and not (folder / "runs").exists() and not (folder / LOCK_FILE).exists())


def wait_for(predicate, timeout: float = 60.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


# --- run ids that cannot collide -----------------------------------------------------------------------


@pytest.mark.slow
def test_two_runs_and_a_compare_started_in_the_same_second_give_three_complete_folders(plain, tmp_path):
    out = tmp_path / "out"
    procs = [perksim("run", plain, "--out", out), perksim("run", plain, "--out", out),
             perksim("compare", plain, "--executor", "serial", "--out", out)]
    try:
        outputs = [p.communicate(timeout=180) for p in procs]
    finally:
        for p in procs:
            kill(p)
    for p, (_, stderr) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, stderr
        assert "Traceback" not in stderr
    printed = sorted(next(line for line in stdout.splitlines() if line.startswith("results: "))
                     .removeprefix("results: ") for stdout, _ in outputs)
    made = folders(out / "plain")
    assert [str(f) for f in made] == printed, "every command names the folder it wrote"
    rid = made[0].name.split("-")[0]
    assert rid == FROZEN_RID
    stem = made[0].name
    assert [f.name for f in made] == [stem, f"{stem}-2", f"{stem}-3"]
    assert all(complete(f) for f in made)
    kinds = sorted(json.loads((f / "manifest.json").read_text())["kind"] for f in made)
    assert kinds == ["compare", "run", "run"]


def test_a_name_in_use_is_never_claimed_twice(tmp_path):
    a = claim(tmp_path, "rid", "run")
    b = claim(tmp_path, "rid", "run")  # a's .partial holds the name
    assert (a.path.name, b.path.name) == ("rid.partial", "rid-2.partial")
    assert finish(a) == tmp_path / "rid"
    c = claim(tmp_path, "rid", "run")  # rid is finished, rid-2 is being written
    assert c.path.name == "rid-3.partial"
    for work in (b, c):
        finish(work)
    assert [p.name for p in folders(tmp_path)] == ["rid", "rid-2", "rid-3"]


def test_the_final_rename_never_replaces_a_finished_folder(tmp_path):
    work = claim(tmp_path, "rid", "compare")
    (work.path / "summary.csv").write_text("mine")
    (work.path / "runs").mkdir()
    other = tmp_path / "rid"  # finished meanwhile by a process that did not claim the name
    other.mkdir()
    (other / "summary.csv").write_text("theirs")
    final = finish(work)
    assert final == tmp_path / "rid-2"
    assert (other / "summary.csv").read_text() == "theirs"
    assert (final / "summary.csv").read_text() == "mine"
    assert not (final / "runs").exists() and not (final / LOCK_FILE).exists()


def test_a_failed_final_rename_leaves_the_experiment_resumable(tmp_path, monkeypatch):
    work = claim(tmp_path, "rid", "compare")
    (work.path / "runs" / "base-r0000").mkdir(parents=True)

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(folder_life.os, "rename", refuse)
    with pytest.raises(PermissionError):
        finish(work)
    monkeypatch.undo()
    assert (tmp_path / "rid.partial" / "runs" / "base-r0000").is_dir()
    assert not (tmp_path / "rid").exists()
    work.lock.release()


# --- the lock -----------------------------------------------------------------------------------------


def test_the_lock_is_exclusive_and_names_its_owner(tmp_path):
    lock = FolderLock.acquire(tmp_path, "compare")
    try:
        holder = lock_holder(tmp_path)
        assert holder is not None and holder["pid"] == os.getpid() and holder["kind"] == "compare"
        with pytest.raises(FolderBusy, match=f"process {os.getpid()}"):
            FolderLock.acquire(tmp_path, "compare", tries=1)
    finally:
        lock.release()
    assert lock_holder(tmp_path) is None
    FolderLock.acquire(tmp_path, "compare").release()


@pytest.fixture
def interrupted(plain, tmp_path, monkeypatch) -> Path:
    """A compare interrupted (Ctrl-C) after its first run: a resumable .partial folder."""
    calls = {"n": 0}
    real = store.FolderStore.save

    def save(self, task, result):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real(self, task, result)

    monkeypatch.setattr(store.FolderStore, "save", save)
    result = invoke("compare", plain, "--executor", "serial", "--out", tmp_path / "out")
    monkeypatch.undo()
    assert result.exit_code == 130, result.output
    [partial] = folders(tmp_path / "out" / "plain")
    assert partial.name.endswith(".partial") and folder_life.saved_runs(partial) == 1
    return partial


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.slow
def test_resume_of_a_folder_another_process_works_on_exits_2(interrupted):
    lock = FolderLock.acquire(interrupted, "compare")  # as the working process would hold it
    before = snapshot(interrupted)
    try:
        result = invoke("compare", "--resume", interrupted)
    finally:
        lock.release()
    assert result.exit_code == 2, result.output
    assert f"{interrupted} is being worked on by another perksim: process {os.getpid()}" in result.stderr
    assert "wait for it to finish" in result.stderr
    assert snapshot(interrupted) == before
    done = invoke("compare", "--resume", interrupted)  # free again: resumes
    assert done.exit_code == 0, done.output
    assert complete(interrupted.with_name(interrupted.name.removesuffix(".partial")))


@pytest.mark.slow
def test_resume_while_the_experiment_runs_exits_2_and_works_after_a_kill(tmp_path):
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(PLAIN.replace("replicates: 2", "replicates: 6"))
    out = tmp_path / "out"
    proc = perksim("compare", scenario, "--executor", "serial", "--out", out, slow=1.0)
    try:
        assert wait_for(lambda: any(folder_life.saved_runs(p) for p in folders(out / "plain"))), \
            "the compare never saved a run"
        [partial] = folders(out / "plain")
        busy = invoke("compare", "--resume", partial)
        assert busy.exit_code == 2, busy.output
        assert f"being worked on by another perksim: process {proc.pid}" in busy.stderr
        assert proc.poll() is None, "the refused resume must not disturb the running compare"
    finally:
        kill(proc)  # kill -9: the operating system releases its lock
    resumed = invoke("compare", "--resume", partial)
    assert resumed.exit_code == 0, resumed.output
    [final] = folders(out / "plain")
    assert complete(final) and len(pd.read_csv(final / "summary.csv")) == 6


# --- left-overs of killed commands ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_killed_while_writing_leaves_a_folder_the_next_run_removes(plain, tmp_path):
    out = tmp_path / "out"
    proc = perksim("run", plain, "--out", out, stall="write")
    try:
        assert wait_for(lambda: any((p / "scenario.yaml").exists() for p in folders(out / "plain")))
    finally:
        kill(proc)
    [left] = folders(out / "plain")
    assert left.name == f"{left.name.split('.')[0]}.partial" and (left / LOCK_FILE).exists()
    again = invoke("run", plain, "--out", out)
    assert again.exit_code == 0, again.output
    assert f"removed {left}: left by an interrupted perksim run" in again.stderr
    [made] = folders(out / "plain")
    assert complete(made)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_hidden_folders_of_dead_processes_are_removed_live_ones_kept(tmp_path):
    dead = tmp_path / f".20260101T000000Z-abcdef.partial-{dead_pid()}"
    alive = tmp_path / f".20260101T000000Z-abcdef.partial-{os.getpid()}"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "steps.csv").write_text("half")
    notes = clean_stale(tmp_path)
    assert not dead.exists() and alive.exists()
    assert notes == [f"removed {dead}: an unfinished folder left by an interrupted perksim "
                     f"(process {dead.name.rsplit('-', 1)[1]})"]


def test_an_unfinished_compare_is_reported_with_its_resume_command_and_kept(interrupted):
    notes = clean_stale(interrupted.parent)  # what the next command in that folder prints
    assert notes == [f"note: {interrupted} is an unfinished compare (1 runs saved); continue it "
                     f"with: perksim compare --resume {interrupted}"]
    assert folder_life.saved_runs(interrupted) == 1


def test_a_folder_being_written_is_left_alone(tmp_path):
    work = claim(tmp_path, "rid", "run")
    try:
        assert clean_stale(tmp_path) == [] and work.path.exists()
    finally:
        finish(work)


# --- reading: located messages ------------------------------------------------------------------------


def test_read_manifest_locates_bad_json_missing_keys_and_wrong_types(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text('{\n  "scenario": "x",\n  "seed": 1,,\n}\n')
    with pytest.raises(ResultsFolderError, match=rf"{path}:3:13: not valid JSON"):
        read_manifest(tmp_path)
    path.write_text(json.dumps({"scenario": "x", "replicates": "three"}, indent=2))
    with pytest.raises(ResultsFolderError, match=rf"{path}:3: 'replicates' should be a whole number"):
        read_manifest(tmp_path)
    with pytest.raises(ResultsFolderError, match=rf"{path}: no key 'kind'"):
        read_manifest(tmp_path, required=["kind"])
    path.write_text("[1, 2]")
    with pytest.raises(ResultsFolderError, match="should hold a JSON object"):
        read_manifest(tmp_path)


def test_read_table_locates_bad_rows_and_missing_columns(tmp_path):
    path = tmp_path / "summary.csv"
    path.write_text("variant,replicate,brand,reach\nbase,0,acme,3\nbase,1,acme,lots\n")
    with pytest.raises(ResultsFolderError, match=rf"{path}:3: column 'reach': 'lots' is not a number"):
        read_table(path)
    path.write_text("variant,replicate,brand,reach\nbase,0.5,acme,3\n")
    with pytest.raises(ResultsFolderError, match=r":2: column 'replicate': .* whole number"):
        read_table(path)
    path.write_text("variant,brand,reach\nbase,acme,3\n")
    with pytest.raises(ResultsFolderError, match=rf"{path}:1: no column 'replicate'"):
        read_table(path)
    path.write_text("variant,replicate,brand\nbase,0,acme\nbase,1,acme,extra,fields\n")
    with pytest.raises(ResultsFolderError, match=rf"{path}:3: 5 fields where the header has 3"):
        read_table(path)
    path.write_text("variant,replicate,brand\n,0,acme\n")
    with pytest.raises(ResultsFolderError, match=rf"{path}:2: column 'variant' is empty"):
        read_table(path)
    assert read_table(tmp_path / "absent.csv") is None
    with pytest.raises(ResultsFolderError, match="not found"):
        read_table(tmp_path / "absent.csv", optional=False)


@pytest.mark.slow
def test_a_damaged_saved_run_is_run_again_on_resume(interrupted):
    [run] = [p for p in (interrupted / "runs").iterdir() if p.is_dir()]
    (run / "summary.csv").write_text("garbage\x00\x01\n")
    result = invoke("compare", "--resume", interrupted)
    assert result.exit_code == 0, result.output
    assert f"warning: run {run.name} cannot be read back" in result.stderr
    assert "it is run again" in result.stderr
    final = interrupted.with_name(interrupted.name.removesuffix(".partial"))
    assert complete(final) and len(pd.read_csv(final / "summary.csv")) == 2
