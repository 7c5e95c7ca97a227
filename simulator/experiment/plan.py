"""Planning and running single tasks: seeds, variants, sweep points, and one run.

Seeds: replicate ``r`` of a scenario with master seed ``S`` runs with
``numpy.random.SeedSequence(S, spawn_key=(r,))`` — the ``r``-th child of ``SeedSequence(S)``.
Every variant and every sweep point reuses the same replicate seeds (common random
numbers), so the difference between two strategies in replicate ``r`` is paired.

A task is (sweep point, variant, replicate). The scenario of each (variant, sweep point) is
validated once (:func:`task_scenarios`); a task is a pure function of that scenario and the
task, so it gives identical results whichever executor runs it
(:mod:`simulator.experiment.executors`).
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulator.model.campaign import PerkCampaignModel
from simulator.model.graphs import NETWORK_MAX_USERS
from simulator.scenario.loader import apply_override, validate_document, variant_document
from simulator.scenario.schema import Scenario, parse_field_path

STREAMS = ("graph", "population", "dynamics")  # the model's spawned streams, in order
SWEEP_STREAM = 2**31 - 1  # spawn key of the stream that draws Latin-hypercube samples
BASE_VARIANT = "base"


def replicate_seed(seed: int, replicate: int) -> np.random.SeedSequence:
    """The seed sequence of replicate ``replicate`` (0-based) under master seed ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(replicate,))


def describe_seed(seq: np.random.SeedSequence) -> dict[str, Any]:
    """How to rebuild a run's streams: entropy, spawn key, and each stream's spawn key."""
    return {
        "entropy": int(seq.entropy),
        "spawn_key": list(seq.spawn_key),
        "streams": {name: [*seq.spawn_key, i] for i, name in enumerate(STREAMS)},
    }


# --- single runs --------------------------------------------------------------------------------


@dataclass
class RunResult:
    """One finished run: the model and its tidy tables."""

    model: PerkCampaignModel
    seed: dict[str, Any]

    @property
    def steps(self) -> pd.DataFrame:
        """The run's per-step table (one row per step and brand)."""
        return self.model.steps_frame()

    @property
    def summary(self) -> pd.DataFrame:
        """The run's summary table (one row per brand)."""
        return self.model.summary()

    @property
    def users(self) -> pd.DataFrame:
        """The run's per-user table (one row per user)."""
        return self.model.users_frame()


# Who hears how a run in this process goes, stage by stage: ``stage(name, done, total)`` with
# the model's construction stages (graph, population, warm-up), ``steps``, then ``tables``. Set by the
# command line's progress display (views.console.Progress) for the runs of this process;
# runs in worker processes are not followed.
RUN_STAGES: ContextVar[Callable[[str, int, int], Any] | None] = ContextVar("run_stages",
                                                                         default=None)


def run_once(scenario: Scenario, replicate: int = 0,
             progress: Callable[[int, int], Any] | None = None) -> RunResult:
    """Build and run one replicate of ``scenario`` to its last step; ``progress(done, total)``
    hears the steps (and :data:`RUN_STAGES`, if set, every stage)."""
    seq = replicate_seed(scenario.seed, replicate)
    stage = RUN_STAGES.get()
    model = PerkCampaignModel(scenario, rng=seq, progress=stage)
    if stage is not None:
        def steps(done: int, total: int) -> None:
            stage("steps", done, total)
            if progress is not None:
                progress(done, total)
        stage("steps", 0, scenario.steps)
        model.run(progress=steps)
        stage("tables", 0, 0)  # the run's tables are made next (run_task)
    else:
        model.run(progress=progress)
    return RunResult(model=model, seed=describe_seed(seq))


# --- planning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One run of an experiment: a sweep point (or none), a variant and a replicate."""

    index: int
    variant: str
    replicate: int
    point: int | None = None
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """The task's name in stores and folders: ``[p0003-]<variant>-r0007``."""
        head = "" if self.point is None else f"p{self.point:04d}-"
        return f"{head}{self.variant}-r{self.replicate:04d}"

    def labels(self) -> dict[str, Any]:
        """The columns that identify this run in the tidy tables."""
        out: dict[str, Any] = {}
        if self.point is not None:
            out["point"] = self.point
            out.update(dict(self.params))
        out["variant"] = self.variant
        out["replicate"] = self.replicate
        return out


def variant_names(scenario: Scenario, only: list[str] | None = None,
                  base_label: str = BASE_VARIANT) -> list[str]:
    """The variants to run: the scenario's (or ``only`` those), else one called ``base_label``."""
    names = list(scenario.variants) or [base_label]
    if only:
        unknown = [v for v in only if v not in scenario.variants]
        if unknown:
            raise KeyError(f"no variant {unknown[0]!r}; variants: {', '.join(names)}")
        names = list(only)
    return names


def sweep_points(scenario: Scenario) -> list[dict[str, Any]]:
    """The sweep's points: grid product × Latin-hypercube samples (seeded, reproducible)."""
    sw = scenario.sweep
    if sw is None or (not sw.grid and not (sw.samples and sw.ranges)):
        return []
    grid_keys = list(sw.grid)
    grid = [dict(zip(grid_keys, combo, strict=True))
            for combo in itertools.product(*(sw.grid[k] for k in grid_keys))] or [{}]
    if not (sw.samples and sw.ranges):
        return grid
    keys = list(sw.ranges)
    lo = np.array([sw.ranges[k][0] for k in keys], dtype=float)
    hi = np.array([sw.ranges[k][1] for k in keys], dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(scenario.seed, spawn_key=(SWEEP_STREAM,)))
    from scipy.stats import qmc  # here: scipy.stats takes ~0.5 s to import, and few runs sample

    unit = qmc.LatinHypercube(d=len(keys), rng=rng).random(sw.samples)
    values = lo + unit * (hi - lo)
    samples = []
    for row in values:
        point: dict[str, Any] = {}
        for k, v in zip(keys, row, strict=True):
            a, b = sw.ranges[k]
            point[k] = round(float(v)) if isinstance(a, int) and isinstance(b, int) else float(v)
        samples.append(point)
    return [{**g, **s} for g in grid for s in samples]


def plan(scenario: Scenario, replicates: int | None = None, variants: list[str] | None = None,
         sweep: bool = False, replicate_ids: list[int] | None = None,
         base_label: str = BASE_VARIANT,
         points: list[dict[str, Any]] | None = None) -> list[Task]:
    """Every task of an experiment, in the order the tables list them.

    ``replicate_ids`` runs just those replicates (to reproduce one run alone). ``points``
    (``{field.path: value}`` each) are run like sweep points, in place of the sweep's.
    """
    reps = replicate_ids if replicate_ids is not None else \
        range(replicates if replicates is not None else scenario.replicates)
    names = variant_names(scenario, variants, base_label)
    tasks: list[Task] = []
    if sweep and points is None:
        points = sweep_points(scenario)
        if not points:
            raise ValueError(f"scenario {scenario.name!r} has no sweep: section")
    if points is not None:
        for p, point in enumerate(points):
            for v in names:
                for r in reps:
                    tasks.append(Task(len(tasks), v, r, p, tuple(point.items())))
    else:
        for v in names:
            for r in reps:
                tasks.append(Task(len(tasks), v, r))
    return tasks


def task_document(document: dict[str, Any], task: Task, variants: dict[str, dict[str, Any]],
                  variant_wins: bool = False) -> dict:
    """The scenario document a task runs: the variant's changes, then the sweep point's.

    With ``variant_wins`` (a robustness study's samples) a point's value is skipped where the
    variant sets that field, or a field containing or inside it: the variant's setting is what
    the study compares, the sample what is not known about everything else."""
    changes = variants.get(task.variant, {})
    doc = variant_document(document, changes)
    fixed = [parse_field_path(k) for k in changes] if variant_wins else []
    for key, value in task.params:
        path = parse_field_path(key)
        if any(path[:len(f)] == f or f[:len(path)] == path for f in fixed):
            continue
        apply_override(doc, path, value)
    return doc


def task_scenarios(scenario: Scenario, tasks: list[Task],
                   variant_wins: bool = False) -> dict[tuple[str, int | None], Scenario | str]:
    """The validated scenario of each (variant, sweep point) the tasks run, made once here
    rather than in every task: the variant's changes, then the point's, validated. A
    combination that does not validate maps to its traceback, which its tasks report as their
    failure (as a run that fails does). ``variant_wins``: see :func:`task_document`."""
    document = scenario.to_document()
    variants = document.get("variants") or {}
    out: dict[tuple[str, int | None], Scenario | str] = {}
    for task in tasks:
        key = (task.variant, task.point)
        if key in out:
            continue
        try:
            out[key] = validate_document(task_document(document, task, variants, variant_wins),
                                         file=f"<{task.key}>", check_variants=False)
        except Exception:
            out[key] = traceback.format_exc()
    return out


# --- running one task (in any process) ------------------------------------------------------------


def run_task(scenario: Scenario, task: Task, keep_users: bool) -> dict[str, Any]:
    """Run one task of a validated scenario (see :func:`task_scenarios`); never raises —
    failures come back as ``{"error": traceback}``.

    Takes and returns picklable data (a pydantic scenario, a task, tables), so it runs the
    same in this process, a process pool or on a Dask worker.
    """
    try:
        result = run_once(scenario, replicate=task.replicate)
        labels = task.labels()
        out: dict[str, Any] = {
            "key": task.key,
            "steps": _label(result.steps, labels),
            "summary": _label(result.summary, labels),
            "seed": result.seed,
            "facts": {"users": result.model.n, "graph": result.model.graph.description,
                      "follows": result.model.graph.edges,
                      "assortativity": result.model.population.assortativity},
        }
        if keep_users:
            users = result.users
            users.insert(0, "variant", task.variant)
            out["users"] = users
            if result.model.n <= NETWORK_MAX_USERS:
                coo = result.model.graph.followers.tocoo()
                out["edges"] = pd.DataFrame({"author": coo.row, "follower": coo.col})
        return out
    except Exception:  # a failing run is recorded, not fatal to the experiment
        return {"key": task.key, "error": traceback.format_exc()}


def _label(frame: pd.DataFrame, labels: dict[str, Any]) -> pd.DataFrame:
    frame = frame.copy()
    for i, (name, value) in enumerate(labels.items()):
        frame.insert(i, name, value)
    return frame
