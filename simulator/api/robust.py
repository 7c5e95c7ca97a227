"""A robustness study in memory (:func:`robust`, for notebooks) and the time one run takes
here (:func:`time_one_run`, the basis of ``perksim robust``'s estimate). The folder route is
:class:`~simulator.api.experiment.Experiment` with kind ``robust``."""

from __future__ import annotations

import time

from simulator.api.experiment import (
    ROBUST_REPLICATES,
    robust_design,
    robust_scenario,
    robust_settings,
    settings_of,
)
from simulator.api.results import Results
from simulator.experiment.plan import plan, run_once, task_scenarios
from simulator.experiment.results import utc_now
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
    from simulator.experiment.robust.study import analyse, design_points

    started = utc_now()
    design = robust_design(scenario, method, samples, variants or ())
    names = variants or list(scenario.variants)
    result = run_experiment(robust_scenario(scenario), points=design_points(design),
                            replicates=replicates, variants=names, executor=executor,
                            workers=workers, scheduler=scheduler, progress=progress)
    results = Results.of(result, "robust", scenario, started=started, settings={
        **settings_of(replicates, names, executor, workers, scheduler, len(result.failures)),
        **robust_settings(design)})
    results.robust = analyse(result.summary, design, reference=names[0])
    return results


def time_one_run(scenario: Scenario) -> float:
    """Seconds one run of ``scenario`` (its first variant, replicate 0) takes here, timed now:
    the basis of a long experiment's time estimate."""
    first = next(iter(scenario.variants), None)
    sc = scenario
    if first is not None:
        task = plan(scenario, 1, [first])[0]
        prepared = task_scenarios(scenario, [task])[(task.variant, task.point)]
        sc = prepared if isinstance(prepared, Scenario) else scenario
    began = time.perf_counter()
    run_once(sc.model_copy(update={"sweep": None}))
    return time.perf_counter() - began
