"""How much memory a run needs, estimated before any work (docs/reference/scenario.md#size-limit).

The estimate starts from the graph that will actually be built: its users ``n`` and follow
edges ``F`` (a friendship is two) — a tree's ``(b^(h+1) − 1)/(b − 1)`` users, a dataset's or
an edge list's own size (``population.size`` is ignored there; an edge list is counted when
validation parses it), a generator's ``n`` and expected edges. With ``B`` brands, ``K``
topics, ``T`` steps, ``W`` rows of the score window that get filled (``min(window, warmup +
T)``) and ``S = min(F, 200,000)`` edges sampled for the assortativity measure, in bytes::

    graph arrays     A = 24·F + 40·n                   two sparse matrices, follower counts
    generation       G = 60·n + 59·F                   the generator's index arrays
                       = A + 105·lines                 an edge list or dataset, parsed
    kept after it    A + 20·F  (generated) / A + 8·F  (parsed)                          = Kp
    population       Kp + 60·n + 8·n·K + max(38·n·K + 2·F, 2·F + S·(93 + 24·K))
    run and output   Kp + n·(155 + 110·B + 8·K + 4·W) + U + 2,550·T·B + 14 MiB (+ 5 MiB up
                     to 3,000 users: the network picture; + 12 MiB where pyarrow is installed:
                     pandas then keeps text columns in pyarrow's memory pool)
    users table      U = w·(a·min(n, 200,000) + c·max(n − 200,000, 0)) + 7 MiB (CSV), 48 (Parquet),
                     w = 1 + 0.37·(B − 1); csv a = 500, c = 150; parquet a = 650, c = 400;
                     none: U = 0
                     (+ 100 MiB where the run takes the compiled kernels: numba's compiler)

    peak = max(generation, population, run and output)

The constants were fitted to the peak resident memory of ``perksim run`` (minus the process's
own after its imports, ~200 MB) for every graph kind from 2,000 to 200,000 users and from
16,000 to 10,000,000 follow edges, 1–4 brands, 6–24 topics and score windows of 14–365 steps:
each within ±10% (tests/test_memory.py checks ±25% on fresh runs); the model's arrays and the
users table again on runs of 20,000 to 10,000,000 users with each ``--users-table``. The
generation constants were fitted again for the vectorised generators (simulator.model.
generators) to the peak of graph generation alone, 20,000 to 200,000 users and 160,000 to
5,000,000 follow edges of every generated kind (each within ±12%). Dense graphs are dominated
by generation (~60 bytes per follow edge); sparse ones by the per-user arrays and the users
table.

An experiment adds what its process keeps of the other runs and its bootstrap intervals, and
runs in parallel worker processes each take their own memory: :func:`experiment_estimate`.
"""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.model import kernels
from simulator.model.graphs import NETWORK_MAX_USERS
from simulator.scenario.schema import MAX_USERS

LIMIT_SHARE = 0.8  # a run may use this share of the machine's physical memory
NOTICE_BYTES = 2**30  # perksim run says how much memory a run will take above this
ASSORTATIVITY_SAMPLE = 200_000  # edges sampled by population.measure_assortativity

# Measured costs, in bytes: fitted to the peak resident memory of runs of every graph kind
# (2,000 to 200,000 users, 16,000 to 10,000,000 follow edges, 1–4 brands, 6–24 topics, score
# windows of 14–365 steps, up to 12,000 step × brand records); tests/test_memory.py checks them.
GEN_USER = 60  # graph generation, per user (degrees, node ids)
GEN_FOLLOW = 59  # graph generation, per follow edge (index arrays, then the sparse matrices)
PARSE_LINE = 105  # an edge list or dataset parsed into arrays, per line
GRAPH_FOLLOW = 24  # the follows graph as two sparse matrices (float64 + int32), per follow edge
GRAPH_USER = 40  # their row pointers and the follower counts, per user
KEPT_GENERATED = 20  # what the process keeps of generating the graph (freed, not given back),
# per follow edge
KEPT_PARSED = 8  # the same for a parsed edge list or dataset, per follow edge
POP_USER = 60  # traits drawn per user
TOPIC = 8  # interests, per user and topic (float64)
HOMOPHILY_TOPIC = 38  # temporaries of the homophily passes, per user and topic
HOMOPHILY_FOLLOW = 2  # the symmetric adjacency of the homophily passes, per follow edge
ASSORT_FOLLOW = 2  # the edge list of the assortativity measure, per follow edge
ASSORT_SAMPLE = 93  # the assortativity measure, per sampled edge
ASSORT_SAMPLE_TOPIC = 24  # the same, per sampled edge and topic
# The model's arrays and the step's temporaries (a run without a users table): klout_pout,
# 20,000 to 10,000,000 users, and two_brands, within −4% to +13% (docs/reference/scenario.md)
RUN_USER_NO_TABLE = 155  # per user
RUN_BRAND_NO_TABLE = 110  # per user and brand
# …and what the users table adds at the run's end (a frame, normalised, written): per user up
# to TABLE_KNEE and beyond (where large arrays are given back when freed), times the table's
# width, 1 + TABLE_BRAND_WIDTH per brand beyond the first; Parquet also loads pyarrow. Fitted to
# klout_pout and two_brands, 20,000 to 10,000,000 users (docs/reference/scenario.md#size-limit)
TABLE_KNEE = 200_000
TABLE_USER_FIRST = {"csv": 500, "parquet": 650}
TABLE_USER_MORE = {"csv": 150, "parquet": 400}
TABLE_FIXED = {"csv": 7 * 2**20, "parquet": 48 * 2**20}  # modules the CSV route imports; pyarrow
TABLE_BRAND_WIDTH = 0.37
# numba's compiler, loaded by a run taking the compiled kernels (simulator.model.kernels)
KERNELS_LOADED = 100 * 2**20
WINDOW = 4  # recent posts, per user and step of the score window that is filled (int32)
STEP_ROW = 2_550  # per-step records (one per step and brand): records, frame and text
RUN_FIXED = 14 * 2**20  # figures and text buffers (17 MiB with networkx, whose freed heap it reused)
NETWORK_FIGURE = 5 * 2**20  # the network picture, drawn for at most NETWORK_MAX_USERS users
# pandas keeps text columns in pyarrow's pool where pyarrow is installed: +11 to +14 MiB measured
ARROW_POOL = 12 * 2**20 if importlib.util.find_spec("pyarrow") is not None else 0


@dataclass(frozen=True)
class GraphSize:
    """The users and follow edges of the graph a population will have: ``follows`` counts
    follow edges (a friendship is two; for random generators the expected number), ``lines``
    the edge lines parsed from a file (edge lists and datasets), 0 for generated graphs."""

    kind: str
    users: int
    follows: int
    lines: int = 0

    @property
    def generated(self) -> bool:
        """Whether the graph is generated rather than read from edge lines."""
        return self.lines == 0


# The bundled datasets (simulator/data): users and follow edges as loaded (tests check them).
DATASET_SIZES = {"ego_facebook": (4_039, 176_468), "ca_hepth": (9_877, 51_946)}
TREE_DIGITS = 30  # a tree with more users than 10^30 is not counted exactly


def tree_users(branching: int, height: int) -> int | None:
    """Users of a balanced tree, ``(b^(h+1) − 1)/(b − 1)``, exactly — or None when that is
    beyond 10^30 (checked with logarithms first, so nothing big is ever computed)."""
    if branching <= 1:
        return height + 1
    if (height + 1) * math.log10(branching) > TREE_DIGITS:
        return None
    return (branching ** (height + 1) - 1) // (branching - 1)


def _sbm_follows(spec: Any, n: int) -> float:
    """Expected follow edges of ``graphs.generate``'s stochastic block model."""
    blocks = min(spec.blocks, n)
    q, r = divmod(n, blocks)
    sizes = [q + 1] * r + [q] * (blocks - r)
    s = sizes[0]
    within = min(1.0, (1 - spec.mixing) * spec.mean_degree / max(s - 1, 1))
    between = min(1.0, spec.mixing * spec.mean_degree / max(n - s, 1)) if blocks > 1 else 0.0
    pairs_within = sum(k * (k - 1) for k in sizes)  # ordered pairs, i.e. follow edges
    pairs_between = n * n - sum(k * k for k in sizes)
    return within * pairs_within + between * pairs_between


def graph_size(spec: Any, size: int, read_files: bool = True) -> GraphSize | None:
    """The users and (expected) follow edges of the graph ``spec`` builds with ``size`` users.

    Trees, datasets and edge lists fix their own size (``size`` is ignored); an edge list is
    read (it is cached: validation reads it anyway) unless ``read_files`` is false. None for
    a tree beyond 10^30 users or an edge list that cannot be read (reported elsewhere).
    """
    kind = spec.kind
    if kind == "balanced_tree":
        users = tree_users(spec.branching, spec.height)
        return None if users is None else GraphSize(kind, users, 2 * (users - 1))
    if kind == "dataset":
        users, follows = DATASET_SIZES[spec.name]
        return GraphSize(kind, users, follows, lines=follows // 2)
    if kind == "edgelist":
        if not read_files:
            return None
        from simulator.model.graphs import read_edgelist

        try:
            g = read_edgelist(Path(spec.path).expanduser(), directed=spec.directed)
        except (OSError, RuntimeError, ValueError):  # EdgeListError is a ValueError
            return None
        return GraphSize(kind, g.n, g.edges, lines=g.edges if spec.directed else g.edges // 2)
    n = size
    if kind in ("barabasi_albert", "powerlaw_cluster"):
        m = min(spec.m, n - 1)
        follows = 2.0 * m * (n - m)
    elif kind == "watts_strogatz":
        k = min(spec.k, n - 1)
        follows = 2.0 * n * (k // 2)
    elif kind == "erdos_renyi":
        p = min(1.0, spec.mean_degree / max(n - 1, 1))
        follows = p * n * (n - 1)
    elif kind == "stochastic_block":
        follows = _sbm_follows(spec, n)
    else:  # pragma: no cover - the scenario schema admits only the kinds above
        raise ValueError(f"unknown graph kind {kind!r}")
    return GraphSize(kind, n, round(follows))


@dataclass(frozen=True)
class Estimate:
    """A run's estimated peak memory, by phase (bytes above the process's own, ~200 MB)."""

    users: int
    follows: int
    phases: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        """The estimated peak: the largest phase, in bytes."""
        return max(self.phases.values())

    @property
    def phase(self) -> str:
        """The phase that reaches the peak."""
        return max(self.phases, key=lambda k: self.phases[k])

    def describe(self) -> str:
        """``about 1.4 GiB (at graph generation) for 10,000 users and 10,000,000 follow edges``"""
        return (f"about {gib(self.bytes)} (at {self.phase}) for {self.users:,} users and "
                f"{self.follows:,} follow edges")


def gib(nbytes: float) -> str:
    """``1.4 GiB``, ``350 MiB``."""
    if nbytes >= 2**30:
        return f"{nbytes / 2**30:,.1f} GiB"
    return f"{nbytes / 2**20:,.0f} MiB"


def estimate_graph(size: GraphSize, brands: int = 1, topics: int = 6, steps: int = 60,
                   window: int = 14, warmup: int = 28, users_table: str = "csv") -> Estimate:
    """The peak memory of one run on a graph of ``size`` (see the module's description);
    ``users_table`` as ``perksim run --users-table`` (``none``: the run keeps no users table)."""
    n, f, b, k = size.users, size.follows, brands, topics
    filled = min(window, warmup + steps)  # rows of recent posts ever written (np.zeros is lazy)
    graph = GRAPH_FOLLOW * f + GRAPH_USER * n
    if size.generated:
        generation = GEN_USER * n + GEN_FOLLOW * f
    else:
        generation = graph + PARSE_LINE * size.lines
    kept = graph + (KEPT_GENERATED if size.generated else KEPT_PARSED) * f
    sample = min(f, ASSORTATIVITY_SAMPLE)
    population = (kept + POP_USER * n + TOPIC * n * k
                  + max(HOMOPHILY_TOPIC * n * k + HOMOPHILY_FOLLOW * f,
                        ASSORT_FOLLOW * f + sample * (ASSORT_SAMPLE + ASSORT_SAMPLE_TOPIC * k)))
    run = (kept + n * (RUN_USER_NO_TABLE + RUN_BRAND_NO_TABLE * b + TOPIC * k + WINDOW * filled)
           + users_table_bytes(n, b, users_table) + STEP_ROW * steps * b + RUN_FIXED + ARROW_POOL
           + (NETWORK_FIGURE if n <= NETWORK_MAX_USERS else 0)
           + (KERNELS_LOADED if _takes_kernels() else 0))
    return Estimate(n, f, {"graph generation": int(generation), "population setup": int(population),
                           "the run and its output": int(run)})


def _takes_kernels() -> bool:
    """Whether runs load the compiled kernels (a bad PERKSIM_KERNELS is reported where the
    run starts)."""
    try:
        return kernels.wanted()
    except kernels.KernelError:
        return False


def users_table_bytes(users: int, brands: int, users_table: str) -> float:
    """What a run's users table adds to its peak: ``users_table`` is ``csv``, ``parquet`` or
    ``none`` (nothing)."""
    if users_table == "none":
        return 0.0
    width = 1.0 + TABLE_BRAND_WIDTH * (brands - 1)
    per_user = (TABLE_USER_FIRST[users_table] * min(users, TABLE_KNEE)
                + TABLE_USER_MORE[users_table] * max(users - TABLE_KNEE, 0))
    return TABLE_FIXED[users_table] + width * per_user


def estimate(population: Any, campaigns: int = 1, steps: int = 60, window: int = 14,
             warmup: int = 28, read_files: bool = True, users_table: str = "csv") -> Estimate | None:
    """The peak memory of one run of a population (a ``scenario.Population``) with
    ``campaigns`` brands, ``steps`` steps, a score window of ``window`` steps and ``warmup``
    warm-up steps; None when the graph's size cannot be known (an unreadable edge list, a
    tree beyond 10^30 users)."""
    size = graph_size(population.graph, population.size, read_files)
    if size is None:
        return None
    return estimate_graph(size, campaigns, len(population.topics), steps, window, warmup,
                          users_table)


def scenario_estimate(scenario: Any, read_files: bool = True,
                      users_table: str = "csv") -> Estimate | None:
    """:func:`estimate` of one run of a whole :class:`~simulator.scenario.schema.Scenario`."""
    return estimate(scenario.population, len(scenario.campaigns), scenario.steps,
                    scenario.score.window, scenario.score.warmup, read_files, users_table)


def estimated_memory_bytes(population: Any, campaigns: int = 1, steps: int = 60,
                           window: int = 14, warmup: int = 28) -> int:
    """The estimated peak memory of one run, in bytes (0 if the graph's size is unknown)."""
    est = estimate(population, campaigns, steps, window, warmup)
    return est.bytes if est is not None else 0


def physical_memory_bytes() -> int:
    """This machine's physical memory (20 GiB where the system does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 20 * 2**30


def memory_limit_bytes() -> int:
    """What one run may use: 80% of this machine's physical memory."""
    return int(LIMIT_SHARE * physical_memory_bytes())


DENSE = 50  # follow edges per user above which a refusal points at the graph's density
_DENSITY = {"barabasi_albert": "m", "powerlaw_cluster": "m", "watts_strogatz": "k",
            "erdos_renyi": "mean_degree", "stochastic_block": "mean_degree"}


def population_problems(population: Any, campaigns: int = 1, steps: int = 60,
                        window: int = 14, warmup: int = 28,
                        read_files: bool = True) -> list[tuple[tuple, str]]:
    """The size limit of a population: at most ``MAX_USERS`` users, and an estimated peak
    memory of at most ``memory_limit_bytes()``. Problems as ``(field path, message)``."""
    spec = population.graph
    kind = spec.kind
    if kind == "balanced_tree":
        where: tuple = ("population", "graph", "height")
        what = f"a balanced_tree of branching {spec.branching} and height {spec.height}"
        fix = "a lower height or branching"
    elif kind == "edgelist":
        where, what, fix = ("population", "graph", "path"), "this edge list", "a smaller graph"
    elif kind == "dataset":
        where, what, fix = ("population", "graph", "name"), f"dataset {spec.name}", "a smaller graph"
    else:
        where, what, fix = ("population", "size"), "", "fewer users"
    if kind == "balanced_tree" and tree_users(spec.branching, spec.height) is None:
        return [(where, f"{what} has more than 10^{TREE_DIGITS} users; the simulator takes at "
                        f"most {MAX_USERS:,} — use {fix}")]
    est = estimate(population, campaigns, steps, window, warmup, read_files)
    if est is None:
        return []
    if est.users > MAX_USERS:
        count = f"{est.users:,} users"
        if what:
            count = f"{what} {'has' if kind in ('edgelist', 'dataset') else 'gives'} {count}"
        return [(where, f"{count} (a run would need about {gib(est.bytes)} of memory); the "
                        f"simulator takes at most {MAX_USERS:,} — use {fix}")]
    limit = memory_limit_bytes()
    if est.bytes <= limit:
        return []
    if kind in _DENSITY and est.follows > DENSE * est.users:
        where = ("population", "graph", _DENSITY[kind])  # the edges make it big
        fix = "a sparser graph or fewer users"
    return [(where, f"a run would need {est.describe()}; this machine allows "
                    f"{gib(limit)} (80% of its {gib(physical_memory_bytes())}) — use {fix}")]


# --- experiments: replicates, variants, workers (checked on the command line) -----------------

WORKER_BASE = 170 * 2**20  # a pool worker's own interpreter and imports (spawned)
KEPT_ROW = 800  # a step × brand row of a finished run, kept and assembled with the others
KEPT_RUN = 200_000  # a finished run's tables (frames of ~50 columns), kept until assembled
KEPT_USER = 400  # a row of users.csv (one per user and variant), per brand
INTERVAL_REPLICATE = 52_000  # a bootstrap interval over R replicates: 4,999 resamples, per R
INTERVAL_JACKKNIFE = 17  # …and its BCa jackknife, per R²
BAND_CELL = 9_000  # the figures' interval bands over the steps: per replicate × step


def experiment_estimate(scenario: Any, runs: int, replicates: int, variants: int = 1,
                        parallel: int = 1, users_table: str = "csv") -> Estimate | None:
    """The peak memory of an experiment of ``runs`` runs (``replicates`` per variant and
    sweep point, ``variants`` variants) with ``parallel`` runs at a time in worker processes
    (1: in this process; 0: on a remote cluster): the runs, plus what this process keeps of
    the other runs (their per-step records, each other variant's users table) and its
    bootstrap intervals and figure bands. One run alone is :func:`scenario_estimate`.
    ``users_table``: as ``--users-table`` (``none``: no run keeps a users table)."""
    run = scenario_estimate(scenario, users_table=users_table)
    if run is None or (runs <= 1 and variants <= 1 and parallel == 1):
        return run
    steps, brands = scenario.steps, len(scenario.campaigns)
    more_runs, more_variants = max(runs - 1, 0), max(variants - 1, 0)  # one: in the run's own
    tables = (KEPT_ROW * more_runs * steps * brands + KEPT_RUN * more_runs
              + (0 if users_table == "none" else KEPT_USER * more_variants * run.users * brands))
    intervals = 0
    if replicates >= 2:
        intervals = max(INTERVAL_REPLICATE * replicates + INTERVAL_JACKKNIFE * replicates ** 2,
                        BAND_CELL * replicates * steps)
    running = (0 if parallel == 0 else run.bytes if parallel == 1
               else parallel * (WORKER_BASE + run.bytes))
    phases = {"the runs": tables + running, "the intervals and figures": tables + intervals}
    return Estimate(run.users, run.follows, {k: int(v) for k, v in phases.items()})


def experiment_problem(scenario: Any, runs: int, replicates: int, variants: int = 1,
                       parallel: int = 1, options: str = "",
                       users_table: str = "csv") -> tuple[Estimate | None, str | None]:
    """The experiment's estimate, and a message if it exceeds this machine's allowance.

    ``options`` names the command-line options that shaped it (``--replicates 5000``), for
    the message; a run that does not fit alone is refused when the scenario is validated."""
    est = experiment_estimate(scenario, runs, replicates, variants, parallel, users_table)
    limit = memory_limit_bytes()
    if est is None or est.bytes <= limit:
        return est, None
    fixes = ["fewer replicates"] if replicates >= 2 or runs > 1 else []
    if parallel > 1 and est.phase == "the runs":
        fixes.append("fewer --workers")
    fix = " or ".join(fixes) or "a smaller scenario"
    where = f"{options}: " if options else ""
    return est, (f"{where}{runs:,} run{'s' if runs != 1 else ''} of {scenario.name} would need "
                 f"{est.describe()}; this machine allows {gib(limit)} (80% of its "
                 f"{gib(physical_memory_bytes())}) — use {fix}")

