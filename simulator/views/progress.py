"""The progress of long work on the terminal: an experiment's runs (a tqdm bar with the time
left, or periodic lines when standard error is not a terminal) and a single run's stages
(docs/reference/cli.md#progress)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import click

STAGE_WORDS = {"graph": "building the follow graph", "population": "drawing the users",
               "warm-up": "warming up the score", "steps": "stepping",
               "tables": "collecting the results"}
STAGE_DELAY = 2.0  # seconds a stage runs before its bar is drawn (short runs stay quiet)
LINE_EVERY = 15.0  # seconds between plain progress lines when stderr is not a terminal
TICK = 0.25  # seconds between redraws of a single run's progress
RUNS_BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} runs [{elapsed}{postfix}]"


class Progress:
    """A progress bar (tqdm) with runs done, failures and time left on a terminal; plain
    periodic lines otherwise (every 10% of the runs, at most every 15 s).

    The time left is :meth:`seconds_left`: the mean duration of the runs finished so far ×
    the runs left / ``workers`` (the runs that run at once); none is shown before a run has
    finished, and it is shown as a bound (``≤``) while only each worker's first run is
    timed. ``clock`` (seconds, default ``time.monotonic``) is what the durations are
    measured with.

    A single run (``perksim run``) is followed stage by stage instead — building the graph,
    drawing the users, the score's warm-up, the steps — with a bar (tqdm) once a stage has
    taken two seconds, or a line every 15 s when stderr is not a terminal. While it exists it
    is the :data:`~simulator.experiment.plan.RUN_STAGES` listener of this process's runs.
    """

    def __init__(self, label: str, workers: int = 1, clock: Callable[[], float] = time.monotonic):
        from simulator.experiment.plan import RUN_STAGES

        self.label = label
        self.workers = max(1, int(workers))
        self.clock = clock
        self.tty = sys.stderr.isatty()
        self.start = clock()
        self.last_line = 0.0
        self.last_done = -1
        self.bar: Any = None
        self.runs: int | None = None
        self.work_start: float | None = None  # when this process began on the runs
        self.seen = 0  # runs finished (done or failed) when last reported
        self.finish_times: list[float] = []  # when each run finished here, in order
        self.stage_name: str | None = None
        self.stage_bar: Any = None
        self.stage_start = self.start
        self.stage_done = self.stage_total = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._listening: Any = RUN_STAGES.set(self.stage)

    def seconds_left(self, left: int) -> float | None:
        """The time ``left`` more runs take: the mean duration of the runs finished here ×
        ``left`` / ``workers``; ``None`` before the first run has finished.

        Runs are not timed one by one (they run in other processes): with ``w`` workers the
        ``k``-th run to finish (``k`` > ``w``) is taken to have started when the ``(k − w)``-th
        finished, its worker then being free, so its duration is the time between the two
        finishes. Once such a run has finished only those durations count: the first ``w``
        runs, timed from the start of the work, also include starting the workers.
        """
        times, w = self.finish_times, self.workers
        if not times or self.work_start is None:
            return None
        steady = [t - times[k - w] for k, t in enumerate(times) if k >= w]
        durations = steady or [t - self.work_start for t in times]
        return sum(durations) / len(durations) * left / w

    def _left_words(self, left: int, clock_format: bool = False) -> str:
        """``~42 s left``; ``≤42 s left`` while only the first runs of several workers are timed
        (their times include starting the workers, so the estimate is at most that); ``""``
        before any run has finished."""
        seconds = self.seconds_left(left)
        if seconds is None:
            return ""
        bound = "≤" if self.workers > 1 and len(self.finish_times) <= self.workers else "~"
        from tqdm import tqdm

        return f"{bound}{tqdm.format_interval(seconds) if clock_format else f'{seconds:.0f} s'} left"

    def stage(self, name: str, done: int, total: int) -> None:
        """Report a single run's progress: stage ``name``, ``done`` of ``total`` (0: not counted)."""
        if self.runs != 1:  # an experiment's runs are counted by the runs bar instead
            return
        with self._lock:
            if name != self.stage_name:
                self._close_stage()
                self.stage_name, self.stage_start = name, self.clock()
            self.stage_done, self.stage_total = done, total
        if self._ticker is None:  # a stage such as the graph reports only its start: a
            # thread draws the bar (or the line) while the stage runs
            self._ticker = threading.Thread(target=self._tick, name="perksim-progress", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                self._show(self.clock())

    def _show(self, now: float) -> None:
        if self.stage_name is None:
            return
        words = STAGE_WORDS.get(self.stage_name, self.stage_name)
        done, total = self.stage_done, self.stage_total
        if self.tty:
            if self.stage_bar is None and now - self.stage_start >= STAGE_DELAY:
                from tqdm import tqdm

                self.stage_bar = tqdm(total=total or None, desc=f"{self.label}: {words}",
                                      unit=" steps" if total else "", file=sys.stderr,
                                      leave=False, dynamic_ncols=True, smoothing=0,
                                      bar_format=None if total else "{desc}… {elapsed}")
                # the stage began before its bar: time (and rate, time left) from its start
                self.stage_bar.start_t -= now - self.stage_start
            if self.stage_bar is not None:
                self.stage_bar.n = done
                self.stage_bar.refresh()
        elif now - max(self.last_line, self.start) >= LINE_EVERY:
            counted = ""
            if total:
                rate = (now - self.stage_start) / max(done, 1)
                counted = f" {done:,}/{total:,}" + (f", ~{rate * (total - done):.0f} s left"
                                                    if done else "")
            click.echo(f"{self.label}: {words}{counted} ({now - self.start:.0f} s so far)", err=True)
            self.last_line = now

    def _close_stage(self) -> None:
        if self.stage_bar is not None:
            self.stage_bar.close()
            self.stage_bar = None

    def _stop_stages(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None
        with self._lock:
            self._close_stage()
            self.stage_name = None

    def __call__(self, done: int, failed: int, total: int) -> None:
        """Report progress: ``done`` and ``failed`` runs out of ``total`` (the experiment's callback)."""
        self.runs = total
        finished = done + failed
        if total == 1:  # one run: its stages are the progress
            if finished:
                self._stop_stages()
            return
        now = self.clock()
        if self.work_start is None:  # the first report, before any run (some may be resumed)
            self.work_start, self.seen = now, finished
        self.finish_times += [now] * max(0, finished - self.seen)
        self.seen = max(self.seen, finished)
        if self.tty:
            self._draw_runs(finished, failed, total)
            return
        step = max(1, total // 10)
        if finished == 0:
            return
        if finished == total or (finished // step != self.last_done // step
                                 and now - self.last_line > LINE_EVERY):
            left = self._left_words(total - finished)
            click.echo(f"{self.label}: {finished}/{total} runs, {failed} failed"
                       + (f", {left}" if left else ""), err=True)
            self.last_line, self.last_done = now, finished

    def _draw_runs(self, finished: int, failed: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, initial=finished, desc=self.label, file=sys.stderr,
                            dynamic_ncols=True, bar_format=RUNS_BAR)
        words = [f"{failed} failed"] if failed else []
        words.append(self._left_words(total - finished, clock_format=True))
        self.bar.set_postfix_str(", ".join(w for w in words if w), refresh=False)
        self.bar.n = finished
        self.bar.refresh()

    def close(self) -> None:
        """Finish the progress bar, if one was drawn (once; closing again does nothing)."""
        self._stop_stages()
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self._listening is not None:
            from simulator.experiment.plan import RUN_STAGES

            with contextlib.suppress(ValueError):  # closed in another context: leave it
                RUN_STAGES.reset(self._listening)
            self._listening = None
