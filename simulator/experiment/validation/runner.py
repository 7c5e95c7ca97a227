"""Running ``perksim check-model``: :func:`run_checks` runs the jobs of the chosen checks' studies
(here or on a pool of worker processes), judges each study as soon as its jobs are in and
returns the outcomes in table order."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from simulator.experiment.validation.checks import BY_KEY, CHECKS
from simulator.experiment.validation.evaluate import EVALUATE
from simulator.experiment.validation.jobs import run_job, study_jobs
from simulator.experiment.validation.records import FULL, Outcome, Size, Validation


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_checks(size: Size = FULL, only: list[str] | None = None, workers: int | None = None,
               progress: Callable[[str, Outcome, float], Any] | None = None) -> Validation:
    """Run the checks (all, or ``only`` these keys) and return their outcomes in table order.

    ``progress(check_key, outcome, seconds_since_start)`` is called as each check finishes.
    ``workers`` > 1 runs the simulations on a pool of processes; the numbers are the same.
    """
    keys = [c.key for c in CHECKS if only is None or c.key in only]
    unknown = sorted(set(only or []) - set(BY_KEY))
    if unknown:
        raise KeyError(f"unknown check {unknown[0]!r}; checks: {', '.join(BY_KEY)}")
    studies = list(dict.fromkeys(BY_KEY[k].study for k in keys))
    jobs = [job for s in studies for job in study_jobs(s, size)]
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    remaining = {s: sum(1 for j in jobs if j.study == s) for s in studies}
    outcomes: dict[str, Outcome] = {}
    start = time.monotonic()

    def finished(i: int, result: dict[str, Any]) -> None:
        results[i] = result
        study = jobs[i].study
        remaining[study] -= 1
        if remaining[study]:
            return
        part = [r for j, r in zip(jobs, results, strict=True) if j.study == study]
        for key in keys:
            if BY_KEY[key].study == study:
                outcome = EVALUATE[key](part, size)  # type: ignore[arg-type]
                if size.name != FULL.name:
                    for item_key, m in outcome.items.items():
                        m.judged = BY_KEY[key].item(item_key).quick
                for item_key, m in outcome.items.items():
                    if not BY_KEY[key].item(item_key).judged:
                        m.verdict, m.judged = "info", False
                outcomes[key] = outcome
                if progress is not None:
                    progress(key, outcome, time.monotonic() - start)

    # study by study (so checks finish one after the other), big jobs first within a study
    order = sorted(range(len(jobs)), key=lambda i: (studies.index(jobs[i].study), -jobs[i].weight))
    workers = max(1, workers or available_cores())
    if workers == 1:
        for i in order:
            finished(i, run_job(jobs[i]))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(run_job, jobs[i]): i for i in order}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: futures[f]):
                    finished(futures[fut], fut.result())
    return Validation(size.name, {k: outcomes[k] for k in keys})
