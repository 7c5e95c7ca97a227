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
import math
import traceback
import warnings
import zlib
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
#
# Every interval in the outputs (comparison.csv, the figures, the report) is a bootstrap
# interval of a mean computed here, by bootstrap_interval (one sample) or bootstrap_bands (one
# sample per column, e.g. per step of a time series). A bootstrap interval of a mean is made of
# means of resamples of the data, so it stays within [min, max] of the values: a count or a
# share never gets a negative bound, unlike the symmetric Student-t interval used before.

CONFIDENCE = 0.95
# 4999 resamples: the Monte-Carlo error of a 2.5% / 97.5% quantile of the bootstrap distribution
# is then about ±0.2 percentage points of coverage (BCa needs more resamples than the percentile
# method, and B + 1 a multiple of 1/α keeps the quantiles on resamples); one interval of 20
# replicates takes ~4 ms, so the ~200 intervals of a 3-variant × 35-metric comparison take < 1 s.
N_RESAMPLES = 4999
BOOTSTRAP_SEED = 20111027  # fixed: intervals depend only on the values and their labels
BATCH = 500  # resamples held in memory at once by the vectorised bands (steps × 500 × replicates)
# A row is "rare" when fewer than MIN_NONZERO replicates have a finite, non-zero value: with
# fewer than ~5 non-zero runs the mean is driven by a handful of events, and a bootstrap
# interval (resampling those few events) is not meaningful, so no interval or verdict is shown.
MIN_NONZERO = 5
RULE_OF_THREE = 3  # no event in n runs: the per-run rate is below 3/n with 95% confidence


def interval_label(*parts: Any) -> str:
    """The label that seeds a bootstrap: its parts joined by ``|`` (``None`` as empty), e.g.
    ``"|relevance|courtside|reach"`` (no sweep point) or ``"3|lottery|courtside|reach|diff"``."""
    return "|".join("" if p is None else str(p) for p in parts)


def bootstrap_rng(label: str) -> np.random.Generator:
    """The generator of one bootstrap: a fixed constant and a stable hash (CRC-32) of its label,
    never global state, so an interval is the same whatever ran before it or where."""
    return np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(label.encode("utf-8"))])


def _bootstrap(data: np.ndarray, label: str, level: float, n_resamples: int,
               batch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """BCa interval of the mean along axis 0 of ``data`` (≥ 2 finite rows, no NaN); the
    percentile interval of the same resamples where BCa is undefined (NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate-data and BCa warnings: handled below
        res = stats.bootstrap((data,), np.mean, axis=0, vectorized=True, confidence_level=level,
                              n_resamples=n_resamples, method="BCa", batch=batch,
                              rng=bootstrap_rng(label))
    low = np.atleast_1d(np.asarray(res.confidence_interval.low, dtype=float)).copy()
    high = np.atleast_1d(np.asarray(res.confidence_interval.high, dtype=float)).copy()
    bad = ~(np.isfinite(low) & np.isfinite(high))
    if bad.any():
        dist = np.asarray(res.bootstrap_distribution, dtype=float).reshape(-1, n_resamples)
        tail = 50 * (1 - level)
        q = np.percentile(dist[bad], [tail, 100 - tail], axis=-1)
        low[bad], high[bad] = q[0], q[1]
    # the resampled means lie within [min, max]; clip what rounding may push outside
    lo_data, hi_data = np.atleast_1d(data.min(axis=0)), np.atleast_1d(data.max(axis=0))
    return np.clip(low, lo_data, hi_data), np.clip(high, lo_data, hi_data)


def bootstrap_interval(values: Any, label: str, level: float = CONFIDENCE,
                       n_resamples: int = N_RESAMPLES) -> tuple[float, float]:
    """Bootstrap interval of the mean of the finite ``values``: BCa, or percentile where BCa is
    undefined, with ``n_resamples`` resamples drawn from :func:`bootstrap_rng` of ``label``.

    The one definition of the intervals in comparison.csv, the figures and the report.
    Fewer than two finite values: ``(nan, nan)``; all equal to ``v``: ``(v, v)``.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size < 2:
        return (np.nan, np.nan)
    if v.min() == v.max():
        return (float(v[0]), float(v[0]))
    low, high = _bootstrap(v, label, level, n_resamples)
    return (float(low[0]), float(high[0]))


def bootstrap_bands(matrix: Any, label: str, level: float = CONFIDENCE,
                    n_resamples: int = N_RESAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bootstrap_interval` of each column of ``matrix`` (replicates × columns, e.g.
    steps), vectorised: columns with the same replicates defined are bootstrapped together,
    replicates resampled jointly across them. Returns the low and high ends per column (NaN
    where fewer than two values are finite)."""
    x = np.asarray(matrix, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    x = np.where(np.isfinite(x), x, np.nan)
    low = np.full(x.shape[1], np.nan)
    high = np.full(x.shape[1], np.nan)
    defined = np.isfinite(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        lo_v, hi_v = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    usable = defined.sum(axis=0) >= 2
    constant = usable & (lo_v == hi_v)
    low[constant] = high[constant] = lo_v[constant]
    todo = np.flatnonzero(usable & ~constant)
    patterns: dict[bytes, list[int]] = {}
    for j in todo:
        patterns.setdefault(np.packbits(defined[:, j]).tobytes(), []).append(int(j))
    for key, cols in patterns.items():
        rows = defined[:, cols[0]]
        lo, hi = _bootstrap(x[np.ix_(rows, cols)], interval_label(label, key.hex()), level,
                            n_resamples, batch=BATCH)
        low[cols], high[cols] = lo, hi
    return low, high


def mean_interval(values: Any, label: str,
                  level: float = CONFIDENCE) -> tuple[float, float, float, float, int]:
    """Mean, standard deviation, bootstrap interval of the mean (:func:`bootstrap_interval`)
    and count of the finite values; NaN where undefined (no value; one value: no sd or interval)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(v.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan, 1)
    low, high = bootstrap_interval(v, label, level)
    return (mean, float(v.std(ddof=1)), low, high, n)


def rarity(values: Any, events: bool = True) -> dict[str, Any]:
    """How many runs carry information, and whether that is too few to compare.

    For a metric that counts events (``events``: users reached, adopters, mentions — the
    catalogue's ``count`` metrics, and differences of them) a run informs when its value is
    finite and non-zero: a mean of mostly zeros is driven by a handful of events. For other
    metrics (shares, ratios, costs) a finite value informs, 0 included (a coverage ratio of
    0 in every run is a result, not a rare event). ``runs`` counts every replicate,
    ``nonzero`` the informative ones. With fewer than ``MIN_NONZERO`` the row is ``rare``,
    and ``replicates_needed`` is the replicate count at which about ``MIN_NONZERO``
    informative runs are expected, ``ceil(MIN_NONZERO · runs / nonzero)``; with none, the
    rule of three (the per-run rate is below 3/runs with 95% confidence) gives the lower
    bound ``ceil(MIN_NONZERO · runs / 3)`` (``replicates_needed_is_lower_bound``).
    """
    v = np.asarray(values, dtype=float).ravel()
    runs = int(v.size)
    finite_ = np.isfinite(v)
    nonzero = int((finite_ & (v != 0)).sum() if events else finite_.sum())
    rare = runs > 0 and nonzero < MIN_NONZERO
    needed, lower = np.nan, False
    if rare:
        lower = nonzero == 0
        needed = math.ceil(MIN_NONZERO * runs / (RULE_OF_THREE if lower else nonzero))
    return {"runs": runs, "nonzero": nonzero, "rare": rare, "replicates_needed": needed,
            "replicates_needed_is_lower_bound": lower}


def differences_rare(differences: Any, events: bool = True) -> bool:
    """Whether paired differences are too rare to judge: a difference is what is judged, so it
    is rare when it rests on a handful of events — some, but fewer than ``MIN_NONZERO``,
    replicates differ. Differences of 0 in every replicate are not rare: the variants agree."""
    d = np.asarray(differences, dtype=float)
    r = rarity(d, events)
    return bool(r["rare"] and not (events and r["nonzero"] == 0 and np.isfinite(d).sum() > 1))


def counts_events(metric: str) -> bool:
    """Whether a metric counts events (the catalogue's ``count`` kind; unknown names: yes)."""
    from .metrics import BY_NAME

    m = BY_NAME.get(metric)
    return m is None or m.kind == "count"


def comparison_table(summary: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Per (point,) variant × brand × metric: mean, std, 95% bootstrap interval, n, the paired
    difference to the first variant (same point, brand and replicate) with its 95% bootstrap
    interval, and how rare non-zero values are (docs/reference/results.md#comparisoncsv)."""
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
        point = label["point"] if "point" in label else None
        aligned = part.set_index(base_keys)
        for metric in metrics:
            name = interval_label(point, label["variant"], label["brand"], metric)
            values = part[metric].to_numpy()
            mean, sd, lo, hi, n = mean_interval(values, name)
            row = {**label, "metric": metric, "mean": mean, "std": sd, "ci_low": lo,
                   "ci_high": hi, "n": n}
            events = counts_events(metric)
            rare = rarity(values, events)
            if label["variant"] == first:
                d = (np.nan, np.nan, np.nan, np.nan, 0)
                diff_rare = False
            else:
                joined = aligned[metric].astype(float) - base[metric].astype(float).reindex(aligned.index)
                d = mean_interval(joined.to_numpy(), interval_label(name, "diff", first))
                diff_rare = differences_rare(joined.to_numpy(), events)
            row.update({"diff_mean": d[0], "diff_ci_low": d[2], "diff_ci_high": d[3], "diff_n": d[4]})
            row.update(rare)
            row["diff_rare"] = diff_rare
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
    ['klout_63', 'lottery', 'lottery_opaque', 'relevance']
    """
    return run_experiment(scenario, replicates=replicates, variants=variants, executor=executor,
                          workers=workers, scheduler=scheduler)


def sweep(scenario: Scenario, replicates: int | None = None, variants: list[str] | None = None,
          executor: str = "serial", workers: int | None = None,
          scheduler: str | None = None) -> ExperimentResult:
    """Run the scenario's ``sweep`` grid × variants × replicates (for notebooks)."""
    return run_experiment(scenario, sweep=True, replicates=replicates, variants=variants,
                          executor=executor, workers=workers, scheduler=scheduler)
