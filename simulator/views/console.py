"""Text for the terminal: the tables ``perksim run`` and ``perksim compare`` print, and the
progress of long experiments (a bar on a terminal, periodic lines otherwise)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any

import click
import numpy as np
import pandas as pd

from simulator.experiment.statistics import MIN_NONZERO
from simulator.model.metrics import HEADLINE, METRICS

SUMMARY_METRICS = METRICS  # every metric of docs/model.md §8, in the order of steps.csv
KEY_METRICS = HEADLINE  # the catalogue's headline metrics, in its order


def _fmt(v: object) -> str:
    """A number in a terminal table: fixed decimals (3 below 10, 1 above), so the columns of
    a metric line up. The report's prose uses ``views.report.vocabulary.fmt`` instead (about
    three significant digits, a typographic minus) and check-model ``validation.render.fmt``
    (percentages too): three readers, three rules, on purpose."""
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)  # type: ignore[arg-type]
    if v != v:
        return "–"
    if v.is_integer() and abs(v) >= 10:
        return f"{v:,.0f}"
    return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"


def format_summary(summary: pd.DataFrame) -> str:
    """The final metrics of one run: one row per metric, one column per brand."""
    table = pd.DataFrame({row["brand"]: [_fmt(row[m]) for m in SUMMARY_METRICS]
                          for row in summary.to_dict("records")}, index=SUMMARY_METRICS)
    return table.to_string()


def format_comparison(comparison: pd.DataFrame, metrics: list[str] = KEY_METRICS) -> str:
    """Mean [95% bootstrap interval] per metric (rows) and variant (columns), one block per
    brand; the paired difference to the first variant is marked * when its 95% interval
    excludes zero and the difference is not too rare to judge. A rare row (fewer than
    MIN_NONZERO runs with a non-zero count) shows how rare it is and the replicates needed
    instead of an interval."""
    blocks = []
    rare_seen = False
    for brand, part in comparison.groupby("brand", sort=False):
        cells: dict[str, list[str]] = {}
        for variant, rows in part.groupby("variant", sort=False):
            by_metric = rows.set_index("metric")
            col = []
            for m in metrics:
                r = by_metric.loc[m]
                text = _fmt(r["mean"])
                rare = _rare(r)
                if rare:
                    text += f" ({_rare_note(r)})"
                    rare_seen = True
                elif r["n"] > 1 and np.isfinite(r["ci_low"]):
                    text += f" [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
                lo, hi = r["diff_ci_low"], r["diff_ci_high"]
                if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0) \
                        and not bool(r.get("diff_rare", False)):
                    text += " *"
                col.append(text)
            cells[str(variant)] = col
        table = pd.DataFrame(cells, index=metrics).to_string()
        blocks.append(f"brand {brand}:\n{table}")
    note = "\n(* paired difference to the first variant: 95% interval excludes 0)"
    if rare_seen:
        note += (f"\n(rare, few runs: fewer than {MIN_NONZERO} runs with a count ≠ 0, so no interval; "
                 f"* only where the paired differences are not that rare; reps needed: replicates "
                 f"that give ~{MIN_NONZERO} such runs, ≥ if none seen)")
    return "\n\n".join(blocks) + note


def _rare(row: pd.Series) -> bool:
    """A rare row of comparison.csv (a single run is not called rare: it has no interval)."""
    return bool(row.get("rare", False)) and row.get("runs", row["n"]) > 1


def _rare_note(row: pd.Series) -> str:
    """``rare: 2/20 runs ≠ 0, ~50 reps needed`` (``≥34`` when no run was non-zero; ``few runs``
    when every run was non-zero but there are fewer than MIN_NONZERO)."""
    runs, nonzero = int(row.get("runs", row["n"])), int(row["nonzero"])
    need = row["replicates_needed"]
    bound = "≥" if bool(row.get("replicates_needed_is_lower_bound", False)) else "~"
    head = f"few runs: {runs}" if nonzero == runs else f"rare: {nonzero}/{runs} runs ≠ 0"
    return f"{head}, {bound}{_fmt(int(need))} reps needed"


STAGE_WORDS = {"graph": "building the follow graph", "population": "drawing the users",
               "warm-up": "warming up the score", "steps": "stepping",
               "tables": "collecting the results"}
STAGE_DELAY = 2.0  # seconds a stage runs before its bar is drawn (short runs stay quiet)
LINE_EVERY = 15.0  # seconds between plain progress lines when stderr is not a terminal
TICK = 0.25  # seconds between redraws of a single run's progress


class Progress:
    """A progress bar with runs done, failures and time left on a terminal; plain periodic
    lines otherwise (every 10% of the runs, at most every 15 s).

    A single run (``perksim run``) is followed stage by stage instead — building the graph,
    drawing the users, the score's warm-up, the steps — with a bar (tqdm) once a stage has
    taken two seconds, or a line every 15 s when stderr is not a terminal. While it exists it
    is the :data:`~simulator.experiment.plan.RUN_STAGES` listener of this process's runs.
    """

    def __init__(self, label: str):
        from simulator.experiment.plan import RUN_STAGES

        self.label = label
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.last_line = 0.0
        self.last_done = -1
        self.bar: Any = None
        self.runs: int | None = None
        self.stage_name: str | None = None
        self.stage_bar: Any = None
        self.stage_start = self.start
        self.stage_done = self.stage_total = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._listening: Any = RUN_STAGES.set(self.stage)

    def stage(self, name: str, done: int, total: int) -> None:
        """Report a single run's progress: stage ``name``, ``done`` of ``total`` (0: not counted)."""
        if self.runs != 1:  # an experiment's runs are counted by the runs bar instead
            return
        with self._lock:
            if name != self.stage_name:
                self._close_stage()
                self.stage_name, self.stage_start = name, time.monotonic()
            self.stage_done, self.stage_total = done, total
        if self._ticker is None:  # a stage such as the graph reports only its start: a
            # thread draws the bar (or the line) while the stage runs
            self._ticker = threading.Thread(target=self._tick, name="perksim-progress", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                self._show(time.monotonic())

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
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                             show_eta=True, show_pos=True,
                                             item_show_func=lambda _: f"{failed} failed" if failed else "")
                self.bar.__enter__()
                self.start_done = finished
            self.bar.current_item = finished
            self.bar.update(finished - self.bar.pos)
            return
        now = time.monotonic()
        step = max(1, total // 10)
        if finished == 0:
            return
        if finished == total or (finished // step != self.last_done // step and now - self.last_line > 15):
            rate = (now - self.start) / max(finished, 1)
            left = rate * (total - finished)
            click.echo(f"{self.label}: {finished}/{total} runs, {failed} failed, "
                       f"~{left:.0f} s left", err=True)
            self.last_line, self.last_done = now, finished

    def close(self) -> None:
        """Finish the progress bar, if one was drawn (once; closing again does nothing)."""
        self._stop_stages()
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        if self._listening is not None:
            from simulator.experiment.plan import RUN_STAGES

            with contextlib.suppress(ValueError):  # closed in another context: leave it
                RUN_STAGES.reset(self._listening)
            self._listening = None


VERDICT_SHORT = {"better": "better", "worse": "worse", "indistinguishable": "same",
                 "undefined": "n/a"}


def format_robust(tables: Any, metrics: list[str] = KEY_METRICS) -> str:
    """A robustness study in the terminal: per brand, metric (rows) and variant (columns), the
    share of the sampled assumptions in which the variant is better than the reference beyond
    noise, worse, or the same (``R`` marks better or worse in at least the robust share); then the
    assumption that moves each difference most (rank 1 of the indices)."""
    from simulator.experiment.robust.verdicts import ROBUST_SHARE

    shares = tables.shares
    blocks = []
    for brand, part in shares.groupby("brand", sort=False):
        reference = str(part["reference"].iloc[0])
        shown = [m for m in metrics if m in set(part["metric"])]
        cells: dict[str, list[str]] = {}
        for variant, rows in part.groupby("variant", sort=False):
            col = []
            for metric in shown:
                own = rows[rows["metric"] == metric].set_index("verdict")
                words = []
                for verdict in ("better", "worse", "indistinguishable"):
                    if verdict in own.index and own.loc[verdict, "count"] > 0:
                        share = float(own.loc[verdict, "share"])
                        mark = (" R" if share >= ROBUST_SHARE and verdict != "indistinguishable"
                                else "")
                        words.append(f"{VERDICT_SHORT[verdict]} {100 * share:.0f}%{mark}")
                col.append(" · ".join(words) or "n/a")
            cells[f"{variant} vs {reference}"] = col
        table = pd.DataFrame(cells, index=shown).to_string()
        lines = [f"brand {brand}: share of the sampled assumptions where each variant is "
                 f"better / worse / the same as {reference} (paired, beyond noise)", table]
        if tables.indices is not None:
            top = tables.indices[(tables.indices["brand"].astype(str) == str(brand))
                                 & (tables.indices["rank"] == 1)
                                 & tables.indices["metric"].isin(shown)]
            top = top[top["value"].notna()].drop_duplicates(["variant", "metric"])
            if len(top):
                lines.append("what moves each difference most:")
                lines += [f"  {r.variant} − {r.reference}, {r.metric}: {r.parameter}"
                          for r in top.itertuples(index=False)]
        blocks.append("\n".join(lines))
    note = (f"(R: a robust verdict, better or worse in at least {100 * ROBUST_SHARE:.0f}% of the "
            "samples; 'same' is no verdict: a difference smaller than the noise would not show. "
            "The flip conditions are in robust_flips.csv and the report)")
    return "\n\n".join(blocks) + "\n" + note


def format_profile(table: pd.DataFrame, users: int, steps: int) -> str:
    """``perksim run --profile``: seconds, share of the run and (step phases) microseconds per
    user-step of each phase, then the totals."""
    lines = [f"{'phase':<24} {'seconds':>9} {'share':>7} {'µs/user-step':>13}  covers"]
    for part, rows in table.groupby("part", sort=False):
        lines.append(f"{'building' if part == 'build' else 'stepping'}:")
        for r in rows.itertuples(index=False):
            per = "" if r.us_per_user_step != r.us_per_user_step else f"{r.us_per_user_step:.3f}"
            lines.append(f"  {r.phase:<22} {r.seconds:>9.3f} {100 * r.share:>6.1f}% {per:>13}  "
                         f"{r.covers}")
    build = float(table.loc[table["part"] == "build", "seconds"].sum())
    step = float(table.loc[table["part"] == "step", "seconds"].sum())
    per = 1e6 * step / (users * steps) if users and steps else float("nan")
    lines.append(f"total {build + step:.3f} s: building {build:.3f} s, stepping {step:.3f} s "
                 f"({users:,} users × {steps} steps: {per:.3f} µs per user-step)")
    return "\n".join(lines)
