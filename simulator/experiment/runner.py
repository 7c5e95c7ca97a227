"""Experiments: replicates, variants and sweeps as independent, seeded tasks, run by an
executor (:mod:`simulator.experiment.executors`) and assembled in task order, not finishing
order, into an :class:`ExperimentResult` (see :mod:`simulator.experiment.plan` for the seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simulator.experiment.executors import execute
from simulator.experiment.plan import BASE_VARIANT, Task, plan, task_scenarios
from simulator.experiment.statistics import comparison_table
from simulator.experiment.store import MemoryStore
from simulator.model.metrics import METRICS
from simulator.scenario.schema import Scenario

# --- the whole experiment -------------------------------------------------------------------------


@dataclass
class ExperimentResult:
    """The tidy tables of an experiment (what the results folder holds)."""

    steps: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    users: pd.DataFrame | None = None
    edges: pd.DataFrame | None = None
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["run", "error"]))
    seeds: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # users, graph, follows, assortativity


def users_wanted(task: Task, tasks: list[Task]) -> bool:
    """Per-user tables are kept for replicate 0 of each variant (of the first sweep point)."""
    first_point = tasks[0].point if tasks else None
    return task.replicate == 0 and task.point == first_point


Progress = Callable[[int, int, int], Any]  # (runs done, runs failed, runs in all)


def run_experiment(scenario: Scenario, *, sweep: bool = False, replicates: int | None = None,
                   variants: list[str] | None = None, executor: str = "local",
                   workers: int | None = None, scheduler: str | None = None,
                   store: Any = None, progress: Progress | None = None,
                   replicate_ids: list[int] | None = None,
                   base_label: str = BASE_VARIANT,
                   points: list[dict[str, Any]] | None = None,
                   variant_wins: bool = False, keep_users: bool = True) -> ExperimentResult:
    """Run every (point ×) variant × replicate of ``scenario`` and return the tidy tables.

    ``points`` (``{field.path: value}`` each) are run like sweep points, in place of the
    sweep's (``perksim robust`` runs its samples of the uncertainties this way, with
    ``variant_wins``: a variant's own setting of a field beats the sample's). Tasks already
    finished in ``store`` (a resumed experiment) are not run again. Without ``keep_users`` no
    run keeps its per-user tables (users and edges; ``--users-table none``).
    """
    tasks = plan(scenario, replicates, variants, sweep, replicate_ids, base_label, points)
    store = store if store is not None else MemoryStore()
    finished = store.done()
    todo = [t for t in tasks if t.key not in finished]
    counts = {"done": len(tasks) - len(todo), "failed": 0}
    if progress is not None:
        progress(counts["done"], 0, len(tasks))

    def on_result(task: Task, result: dict[str, Any]) -> None:
        store.save(task, result)
        counts["done" if "error" not in result else "failed"] += 1
        if progress is not None:
            progress(counts["done"], counts["failed"], len(tasks))

    scenarios = task_scenarios(scenario, todo, variant_wins)
    payloads = []
    for t in todo:
        prepared = scenarios[(t.variant, t.point)]
        if isinstance(prepared, str):  # the variant or sweep point does not validate
            on_result(t, {"key": t.key, "error": prepared})
        else:
            payloads.append((prepared, t, keep_users and users_wanted(t, tasks)))
    execute(payloads, on_result, executor=executor, workers=workers, scheduler=scheduler)
    return assemble(tasks, store, METRICS)


def assemble(tasks: list[Task], store: Any, metrics: list[str]) -> ExperimentResult:
    """The experiment's tables from the stored task results, in task order."""
    steps, summaries, users, failures = [], [], [], []
    edges = None
    seeds: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    for task in tasks:
        result = store.load(task)
        if result is None or "error" in result:
            error = (result or {}).get("error", "not run")
            failures.append({"run": task.key, "error": error.strip().splitlines()[-1] if error else ""})
            continue
        steps.append(result["steps"])
        summaries.append(result["summary"])
        seeds.setdefault(f"replicate_{task.replicate}", result.get("seed"))
        facts = facts or result.get("facts") or {}
        if result.get("users") is not None:
            users.append(result["users"])
        if edges is None and result.get("edges") is not None:
            edges = result["edges"]
    if not summaries:
        raise RuntimeError("every run failed: " + (failures[0]["error"] if failures else "no runs"))
    summary = pd.concat(summaries, ignore_index=True)
    return ExperimentResult(
        steps=pd.concat(steps, ignore_index=True),
        summary=summary,
        comparison=comparison_table(summary, metrics),
        users=pd.concat(users, ignore_index=True) if users else None,
        edges=edges,
        failures=pd.DataFrame(failures, columns=["run", "error"]),
        seeds=dict(sorted(seeds.items(), key=lambda kv: int(kv[0].split("_")[1]))),
        facts=facts,
    )
