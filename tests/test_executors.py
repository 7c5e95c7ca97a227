"""Executors under interruption: pool workers end with their parent (even after kill -9), and
Ctrl-C stops a local pool or a local Dask cluster with the --resume command and no worker
traceback (simulator/experiment/executors.py).

These start real ``perksim`` processes and their workers, so they take 10–30 s each: slow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# runs long enough (several seconds each, minutes in all) that workers are busy when the parent goes
LONG = """\
name: long
seed: 3
steps: 600
replicates: 40
population: {size: 6000}
campaigns:
  - {brand: courtside, topic: sports, region: los_angeles, perks: 5, start: 1,
     strategy: {kind: score_threshold, threshold: 55}}
"""
# runs of about a second, so some finish before the Ctrl-C and most do not
SHORT = LONG.replace("steps: 600", "steps: 60").replace("size: 6000", "size: 3000")


def children(pid: int) -> list[int]:
    """The worker processes (multiprocessing spawn) whose parent is ``pid``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
            out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def start(tmp_path: Path, text: str, executor: str, workers: int = 2) -> subprocess.Popen:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(text)
    return subprocess.Popen([sys.executable, "-m", "simulator", "compare", str(scenario),
                             "--executor", executor, "--workers", str(workers),
                             "--out", str(tmp_path / "out")],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def saved(tmp_path: Path) -> int:
    return sum(1 for p in (tmp_path / "out").glob("long/*.partial/runs/*") if p.is_dir())


@pytest.fixture
def reap():
    procs: list[subprocess.Popen] = []
    workers: list[int] = []
    yield procs, workers
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    for pid in workers:  # a failed test must not leave busy workers behind
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_pool_workers_end_when_their_parent_is_killed(tmp_path, reap):
    procs, workers = reap
    proc = start(tmp_path, LONG, "local")
    procs.append(proc)
    assert wait_for(lambda: len(children(proc.pid)) == 2, timeout=60), "no workers started"
    workers += children(proc.pid)
    time.sleep(8)  # imports done: both workers are inside a long run
    assert all(alive(w) for w in workers)
    os.kill(proc.pid, signal.SIGKILL)  # the parent only: nothing stops its pool
    proc.wait()
    assert wait_for(lambda: not any(alive(w) for w in workers), timeout=10), \
        "pool workers outlived their parent"


def interrupt(proc: subprocess.Popen) -> tuple[str, str]:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    return proc.communicate(timeout=90)


def check_interrupted(proc: subprocess.Popen, stderr: str, workers: list[int]) -> None:
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "interrupted:" in stderr and "continue with: perksim compare --resume" in stderr
    assert wait_for(lambda: not any(alive(w) for w in workers), timeout=10), "workers outlived Ctrl-C"


@pytest.mark.slow
def test_ctrl_c_while_pool_workers_start_prints_no_traceback(tmp_path, reap):
    procs, workers = reap
    proc = start(tmp_path, LONG, "local")
    procs.append(proc)
    assert wait_for(lambda: len(children(proc.pid)) == 2, timeout=60, step=0.02)
    workers += children(proc.pid)
    time.sleep(0.5)  # past the moment workers are started (a Ctrl-C then is lost); still importing
    _, stderr = interrupt(proc)
    check_interrupted(proc, stderr, workers)


@pytest.mark.slow
def test_ctrl_c_on_a_busy_pool_keeps_the_finished_runs(tmp_path, reap):
    procs, workers = reap
    proc = start(tmp_path, SHORT, "local")
    procs.append(proc)
    assert wait_for(lambda: saved(tmp_path) >= 2, timeout=120), "no run finished"
    workers += children(proc.pid)
    _, stderr = interrupt(proc)
    check_interrupted(proc, stderr, workers)
    assert "finished runs are saved in" in stderr


@pytest.mark.slow
@pytest.mark.parametrize("when", ["starting", "busy"])
def test_ctrl_c_on_a_local_dask_cluster_prints_no_traceback(tmp_path, reap, when):
    pytest.importorskip("distributed")
    procs, workers = reap
    proc = start(tmp_path, SHORT, "dask")
    procs.append(proc)
    assert wait_for(lambda: len(children(proc.pid)) >= 2, timeout=60, step=0.02), "no dask workers"
    workers += children(proc.pid)
    time.sleep(0.5)  # past the moment workers are started (a Ctrl-C then is lost)
    if when == "busy":
        assert wait_for(lambda: saved(tmp_path) >= 2, timeout=120), "no run finished"
    _, stderr = interrupt(proc)
    check_interrupted(proc, stderr, workers)
