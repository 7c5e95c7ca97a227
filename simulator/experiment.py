"""Experiments: replicates, variants and sweeps as independent, seeded tasks.

Seeds: replicate ``r`` of a scenario with master seed ``S`` runs with
``numpy.random.SeedSequence(S, spawn_key=(r,))`` — the ``r``-th child of ``SeedSequence(S)``.
Every variant and every sweep point reuses the same replicate seeds (common random
numbers), so the difference between two strategies in replicate ``r`` is paired.

A task is (sweep point, variant, replicate). Tasks are pure functions of the resolved
scenario document and the task, so they give identical results whichever executor runs
them (:mod:`simulator.executors`); results are assembled in task order, not finishing order.
"""

from __future__ import annotations

import io
import itertools
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .model import PerkCampaignModel
from .scenario import Scenario, parse_field_path

STREAMS = ("graph", "population", "dynamics")  # the model's spawned streams, in order
SWEEP_STREAM = 2**31 - 1  # spawn key of the stream that draws Latin-hypercube samples
BASE_VARIANT = "base"
NETWORK_MAX_USERS = 3000  # edges.csv (for the network picture) only for graphs this small


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
        return self.model.steps_frame()

    @property
    def summary(self) -> pd.DataFrame:
        return self.model.summary()

    @property
    def users(self) -> pd.DataFrame:
        return self.model.users_frame()


def run_once(scenario: Scenario, replicate: int = 0,
             progress: Callable[[int, int], Any] | None = None) -> RunResult:
    """Build and run one replicate of ``scenario`` to its last step."""
    seq = replicate_seed(scenario.seed, replicate)
    model = PerkCampaignModel(scenario, rng=seq)
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
    unit = stats.qmc.LatinHypercube(d=len(keys), rng=rng).random(sw.samples)
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
         base_label: str = BASE_VARIANT) -> list[Task]:
    """Every task of an experiment, in the order the tables list them.

    ``replicate_ids`` runs just those replicates (to reproduce one run alone).
    """
    reps = replicate_ids if replicate_ids is not None else \
        range(replicates if replicates is not None else scenario.replicates)
    names = variant_names(scenario, variants, base_label)
    tasks: list[Task] = []
    if sweep:
        points = sweep_points(scenario)
        if not points:
            raise ValueError(f"scenario {scenario.name!r} has no sweep: section")
        for p, point in enumerate(points):
            for v in names:
                for r in reps:
                    tasks.append(Task(len(tasks), v, r, p, tuple(point.items())))
    else:
        for v in names:
            for r in reps:
                tasks.append(Task(len(tasks), v, r))
    return tasks


def task_document(document: dict[str, Any], task: Task, variants: dict[str, dict[str, Any]]) -> dict:
    """The scenario document a task runs: the variant's changes, then the sweep point's."""
    from .loader import apply_override, variant_document

    doc = variant_document(document, variants.get(task.variant, {}))
    for key, value in task.params:
        apply_override(doc, parse_field_path(key), value)
    return doc


# --- running one task (in any process) ------------------------------------------------------------


def run_task(document: dict[str, Any], task: Task, keep_users: bool) -> dict[str, Any]:
    """Run one task; never raises — failures come back as ``{"error": traceback}``.

    Takes and returns only plain, picklable data, so it runs the same in this process, a
    process pool or on a Dask worker.
    """
    from .loader import validate_document

    try:
        doc = task_document(document, task, document.get("variants") or {})
        scenario = validate_document(doc, file=f"<{task.key}>", check_variants=False)
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


# --- statistics ---------------------------------------------------------------------------------


def ci_half_width(sd: np.ndarray | float, n: np.ndarray | float, level: float = 0.95) -> np.ndarray:
    """Half-width of the t-interval of a mean, ``t_{(1+level)/2, n-1} · sd / √n``; NaN for n < 2.

    The one definition of the intervals in comparison.csv and in the figures.
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
        return np.where(n > 1, t * np.asarray(sd, dtype=float) / np.sqrt(n), np.nan)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float, int]:
    """Mean, standard deviation and the t-interval of the mean of the finite values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(v.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan, 1)
    sd = float(v.std(ddof=1))
    half = float(ci_half_width(sd, n, level))
    return (mean, sd, mean - half, mean + half, n)


def comparison_table(summary: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Per (point,) variant × brand × metric: mean, std, 95% CI, n, and the paired
    difference to the first variant (same point, brand and replicate) with its 95% CI."""
    group_cols = [c for c in summary.columns if c not in metrics and c not in ("replicate", "step")]
    point_cols = [c for c in group_cols if c not in ("variant", "brand")]
    variants = list(dict.fromkeys(summary["variant"]))
    first = variants[0]
    rows = []
    base_keys = [*point_cols, "brand", "replicate"]
    base = summary[summary["variant"] == first].set_index(base_keys) if base_keys else None
    for keys, part in summary.groupby(group_cols, sort=False, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        label = dict(zip(group_cols, keys, strict=True))
        aligned = part.set_index(base_keys)
        for metric in metrics:
            mean, sd, lo, hi, n = mean_ci(part[metric].to_numpy())
            row = {**label, "metric": metric, "mean": mean, "std": sd, "ci_low": lo,
                   "ci_high": hi, "n": n}
            if label["variant"] == first:
                d = (np.nan, np.nan, np.nan, np.nan, 0)
            else:
                joined = aligned[metric].astype(float) - base[metric].astype(float).reindex(aligned.index)
                d = mean_ci(joined.to_numpy())
            row.update({"diff_mean": d[0], "diff_ci_low": d[2], "diff_ci_high": d[3], "diff_n": d[4]})
            rows.append(row)
    out = pd.DataFrame(rows)
    order = [*point_cols, "variant", "brand", "metric"]
    return out[[*order, *[c for c in out.columns if c not in order]]]


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


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as it reads back from its CSV file, so results held in memory and results
    persisted to disk (and resumed) give identical statistics and identical files."""
    from .results import FLOAT_FORMAT

    text = frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return pd.read_csv(io.StringIO(text))


class MemoryStore:
    """Keeps task results in memory (notebooks); see ``results.FolderStore`` for disk."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}

    def done(self) -> set[str]:
        return {k for k, r in self.results.items() if "error" not in r}

    def save(self, task: Task, result: dict[str, Any]) -> None:
        self.results[task.key] = {k: normalise(v) if isinstance(v, pd.DataFrame) else v
                                  for k, v in result.items()}

    def load(self, task: Task) -> dict[str, Any] | None:
        return self.results.get(task.key)


Progress = Callable[[int, int, int], Any]  # (runs done, runs failed, runs in all)


def run_experiment(scenario: Scenario, *, sweep: bool = False, replicates: int | None = None,
                   variants: list[str] | None = None, executor: str = "local",
                   workers: int | None = None, scheduler: str | None = None,
                   store: Any = None, progress: Progress | None = None,
                   replicate_ids: list[int] | None = None,
                   base_label: str = BASE_VARIANT) -> ExperimentResult:
    """Run every (point ×) variant × replicate of ``scenario`` and return the tidy tables.

    Tasks already finished in ``store`` (a resumed experiment) are not run again.
    """
    from .executors import execute
    from .metrics import METRICS

    tasks = plan(scenario, replicates, variants, sweep, replicate_ids, base_label)
    store = store if store is not None else MemoryStore()
    document = scenario.to_document()
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

    execute([(document, t, users_wanted(t, tasks)) for t in todo], on_result,
            executor=executor, workers=workers, scheduler=scheduler)
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


def compare(scenario: Scenario, replicates: int | None = None, variants: list[str] | None = None,
            executor: str = "serial", workers: int | None = None,
            scheduler: str | None = None) -> ExperimentResult:
    """Run the scenario's variants side by side with paired seeds (for notebooks).

    >>> from simulator import compare, load_scenario
    >>> sc = load_scenario("scenarios/klout_pout.yaml",
    ...                    overrides=["population.size=300", "steps=20"])
    >>> result = compare(sc, replicates=2)
    >>> sorted(set(result.summary["variant"]))
    ['klout_63', 'lottery', 'relevance']
    """
    return run_experiment(scenario, replicates=replicates, variants=variants, executor=executor,
                          workers=workers, scheduler=scheduler)


def sweep(scenario: Scenario, replicates: int | None = None, variants: list[str] | None = None,
          executor: str = "serial", workers: int | None = None,
          scheduler: str | None = None) -> ExperimentResult:
    """Run the scenario's ``sweep`` grid × variants × replicates (for notebooks)."""
    return run_experiment(scenario, sweep=True, replicates=replicates, variants=variants,
                          executor=executor, workers=workers, scheduler=scheduler)
