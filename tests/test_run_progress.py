"""A single large run shows how it goes: building the graph, drawing the users, the score's
warm-up and the steps (issue: progress during construction and stepping)."""

from __future__ import annotations

import io
import sys

import pytest

from simulator import api, scenario_from_text
from simulator.experiment.plan import RUN_STAGES
from simulator.views import progress as progress_module
from simulator.views.console import Progress

SMALL = """\
name: tiny
steps: 6
population: {size: 300}
score: {warmup: 4}
campaigns:
  - {brand: acme, topic: sports, perks: 5, start: 2, strategy: {kind: lottery}}
"""


class Heard(Progress):
    """A Progress that also keeps every stage report it hears."""

    def __init__(self) -> None:
        super().__init__("tiny")
        self.heard: list[tuple[str, int, int]] = []

    def stage(self, name: str, done: int, total: int) -> None:
        self.heard.append((name, done, total))
        super().stage(name, done, total)


def test_a_single_run_reports_every_stage_in_order_then_stops_listening():
    sc = scenario_from_text(SMALL)
    progress = Heard()
    try:
        api.run(sc, progress=progress)
    finally:
        progress.close()
    names = [name for name, _, _ in progress.heard]
    assert names[:2] == ["graph", "population"]
    assert progress.heard[2] == ("warm-up", 0, 4) and ("warm-up", 4, 4) in progress.heard
    steps = [(d, t) for name, d, t in progress.heard if name == "steps"]
    assert steps[0] == (0, 6) and steps[-1] == (6, 6) and len(steps) == 7
    assert names[-1] == "tables"
    assert RUN_STAGES.get() is None  # closed: later runs in this process are not followed


def test_an_experiment_of_several_runs_is_counted_by_runs_not_stages(capsys):
    sc = scenario_from_text(SMALL)
    progress = Heard()
    try:
        api.run(sc, replicates=2, progress=progress)
    finally:
        progress.close()
    assert progress.heard  # the runs still report their stages…
    assert progress.stage_bar is None and progress._ticker is None  # …but nothing is drawn
    assert "stepping" not in capsys.readouterr().err


def test_on_a_terminal_each_stage_gets_a_bar(monkeypatch: pytest.MonkeyPatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(progress_module, "STAGE_DELAY", 0.0)
    progress = Progress("tiny")
    progress.tty = True
    progress(0, 0, 1)
    progress.stage("graph", 0, 0)
    progress._show(progress.stage_start)  # what the ticker thread does every 0.25 s
    progress.stage("steps", 3, 6)
    progress._show(progress.stage_start)
    progress(1, 0, 1)
    progress.close()
    text = err.getvalue()
    assert "tiny: building the follow graph…" in text
    assert "tiny: stepping" in text and "3/6" in text


def test_without_a_terminal_a_line_every_15_seconds_says_what_is_left(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    progress = Progress("tiny")
    progress.tty = False
    progress(0, 0, 1)
    progress.stage("steps", 40, 100)
    start = progress.stage_start
    progress._show(start + 1.0)  # too soon for a line
    assert err.getvalue() == ""
    progress._show(start + progress_module.LINE_EVERY + 1.0)
    progress.close()
    line = err.getvalue().strip()
    assert line.startswith("tiny: stepping 40/100, ~") and "s left" in line


# --- the time left of an experiment's runs: from the runs finished, on a fake clock ----------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def quiet(workers: int = 1) -> tuple[Progress, Clock]:
    clock = Clock()
    progress = Progress("sweep tiny", workers=workers, clock=clock)
    progress.tty = False
    return progress, clock


def test_no_estimate_before_the_first_run_has_finished():
    progress, clock = quiet()
    progress(0, 0, 10)
    clock.now += 50
    assert progress.seconds_left(10) is None
    progress.close()


def test_the_estimate_is_the_mean_duration_of_finished_runs_times_runs_left_over_workers():
    # two workers, runs of 10 s, but starting the workers took 6 s: the first two runs finish
    # at 16 s, then one run every 5 s (two at a time)
    progress, clock = quiet(workers=2)
    progress(0, 0, 20)
    clock.now += 16
    progress(1, 0, 20)
    assert progress.seconds_left(19) == pytest.approx(16 * 19 / 2)  # the first run: 16 s
    assert progress._left_words(19) == "≤152 s left"  # a bound: the 16 s include the start-up
    progress(2, 0, 20)
    clock.now += 10
    progress(3, 0, 20)  # started when run 1 finished: 10 s; the start-up no longer counts
    assert progress.seconds_left(17) == pytest.approx(10 * 17 / 2)
    assert progress._left_words(17) == "~85 s left"
    progress(4, 0, 20)
    clock.now += 10
    progress(5, 1, 20)  # two finished at once (a failure counts: its time was spent too)
    assert progress.finish_times[-2:] == [clock.now, clock.now]
    assert progress.seconds_left(14) == pytest.approx(10 * 14 / 2)
    progress.close()


def test_a_resumed_experiment_times_only_the_runs_finished_now():
    progress, clock = quiet()
    progress(8, 0, 10)  # 8 runs were saved before
    assert progress.seconds_left(2) is None
    clock.now += 30
    progress(9, 0, 10)
    assert progress.finish_times == [clock.now]
    assert progress.seconds_left(1) == pytest.approx(30)
    progress.close()


def test_without_a_terminal_the_lines_say_the_estimate_once_a_run_has_finished(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    progress, clock = quiet()
    progress(0, 0, 4)
    for done in range(1, 5):
        clock.now += progress_module.LINE_EVERY + 1  # 16 s a run
        progress(done, 0, 4)
    progress.close()
    lines = err.getvalue().splitlines()
    assert lines == ["sweep tiny: 1/4 runs, 0 failed, ~48 s left",
                     "sweep tiny: 2/4 runs, 0 failed, ~32 s left",
                     "sweep tiny: 3/4 runs, 0 failed, ~16 s left",
                     "sweep tiny: 4/4 runs, 0 failed, ~0 s left"]


def test_on_a_terminal_the_runs_bar_shows_the_estimate_and_failures(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    clock = Clock()
    progress = Progress("sweep tiny", workers=2, clock=clock)
    progress.tty = True
    progress(0, 0, 8)
    assert "left" not in err.getvalue()  # nothing finished: no estimate
    clock.now += 20
    progress(1, 0, 8)
    progress(1, 1, 8)
    progress.close()
    text = err.getvalue()
    assert "sweep tiny:" in text and "2/8 runs" in text
    # 20 s × 6 runs / 2 workers; at most that: the 20 s include starting the workers
    assert "1 failed, ≤01:00 left" in text
