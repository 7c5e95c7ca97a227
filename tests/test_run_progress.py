"""A single large run shows how it goes: building the graph, drawing the users, the score's
warm-up and the steps (issue: progress during construction and stepping)."""

from __future__ import annotations

import io
import sys

import pytest

from simulator import api, scenario_from_text
from simulator.experiment.plan import RUN_STAGES
from simulator.views import console
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
    monkeypatch.setattr(console, "STAGE_DELAY", 0.0)
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
    progress._show(start + console.LINE_EVERY + 1.0)
    progress.close()
    line = err.getvalue().strip()
    assert line.startswith("tiny: stepping 40/100, ~") and "s left" in line
