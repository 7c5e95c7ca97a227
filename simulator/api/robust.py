"""A robustness study in memory (:func:`robust`, for notebooks) and the time one run takes
here (:func:`time_one_run`, the basis of ``perksim robust``'s estimate). The folder route is
:class:`~simulator.api.experiment.Experiment` with kind ``robust``."""

from __future__ import annotations

import time
from typing import Any

from simulator.api.experiment import (
    ROBUST_REPLICATES,
    robust_design,
    robust_scenario,
    robust_settings,
    settings_of,
)
from simulator.api.results import Results
from simulator.experiment.plan import plan, run_task, task_scenarios
from simulator.experiment.results import utc_now
from simulator.experiment.robust.study import analyse_study, design_points
from simulator.experiment.runner import Progress, run_experiment
from simulator.scenario.schema import Scenario


def robust(scenario: Scenario, method: str = "morris", samples: int | None = None,
           replicates: int = ROBUST_REPLICATES, variants: list[str] | None = None,
           executor: str = "serial", workers: int | None = None, scheduler: str | None = None,
           progress: Progress | None = None) -> Results:
    """Which assumptions decide which variant wins: every variant runs at every sample of the
    scenario's ``uncertainties:`` (``method``: ``morris``, ``sobol`` or ``lhs``; ``samples``:
    trajectories, base samples or points) with ``replicates`` paired replicates, in memory.

    ``.robust`` holds the findings against the first variant (the reference): per-sample
    verdicts and their shares over the space, sensitivity indices, flip boxes and verdict maps
    (:class:`simulator.experiment.robust.study.RobustTables`); ``.summary`` the runs;
    ``.save("results")`` writes the folder ``perksim robust`` writes.
    """
    started = utc_now()
    design = robust_design(scenario, method, samples, variants or ())
    names = variants or list(scenario.variants)
    result = run_experiment(robust_scenario(scenario), points=design_points(design),
                            replicates=replicates, variants=names, executor=executor,
                            workers=workers, scheduler=scheduler, progress=progress, variant_wins=True)
    results = Results.of(result, "robust", scenario, started=started, settings={
        **settings_of(replicates, names, executor, workers, scheduler, len(result.failures)),
        **robust_settings(design)})
    results.robust = analyse_study(result.summary, design, scenario, names)
    return results


# runs on a pool or cluster take longer than one timed alone: the parent process collects and
# saves every run, and samples differ in cost. Measured for klout_pout's 2,400 runs on 2
# workers: 0.28 s per run against 0.21 s for the run timed first
PARALLEL_FACTOR = 1.3
# per (sample, variant): the analysis after the runs (comparison.csv's bootstrap intervals,
# the study's tables, writing them); measured on 2 cores: ~0.1 s (480 groups in ~48 s)
ANALYSIS_SECONDS_PER_GROUP = 0.1


def time_one_run(scenario: Scenario, point: dict[str, Any] | None = None) -> float:
    """Seconds one run of ``scenario`` (its first variant, replicate 0, at ``point`` if given)
    takes here with its tables, timed now: the basis of a long experiment's time estimate."""
    first = next(iter(scenario.variants), None)
    sc = robust_scenario(scenario)
    task = plan(sc, 1, [first] if first else None, points=[point] if point else None)[0]
    prepared = task_scenarios(sc, [task], variant_wins=True)[(task.variant, task.point)]
    if isinstance(prepared, str):  # the checks before the work refuse this: time the base
        prepared, task = sc, plan(sc, 1, [first] if first else None)[0]
    began = time.perf_counter()
    run_task(prepared, task, False)
    return time.perf_counter() - began


def estimate_seconds(scenario: Scenario, design: Any, runs: int,
                     parallel: int) -> tuple[float, float, float]:
    """(seconds for ``runs`` runs on ``parallel`` workers, seconds for the analysis after them,
    seconds the one timed run took):
    one run timed now at the design's first sample (× :data:`PARALLEL_FACTOR` on several
    workers), and :data:`ANALYSIS_SECONDS_PER_GROUP`."""
    points = design_points(design)
    one = time_one_run(scenario, points[0] if points else None)
    groups = design.evaluations * max(1, len(scenario.variants))
    factor = PARALLEL_FACTOR if parallel > 1 else 1.0
    return one * factor * runs / max(1, parallel), ANALYSIS_SECONDS_PER_GROUP * groups, one
