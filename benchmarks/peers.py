"""Peer benchmarks: this model against other ways of running a cascade, measured in one run.

One graph (a Barabási–Albert graph from the project's own generator) and one seed set are
shared by every implementation, all timed in this one process, best of ``--repeat``, the
repeats interleaved (round-robin over the implementations) so that machine noise hits all alike:

- **full model** — ``PerkCampaignModel`` on the scenario of ``benchmarks/run.py`` with this graph
  (an ``edgelist`` scenario): all nine phases of a step;
- **reduced cascade** — the same model in the reduced setting of docs/model.md §10
  (``scenarios/checks/ic_tree.yaml``: posting, pout and gaming off, every probability 1 or p),
  which is the textbook independent cascade with edge probability p from the seeds;
- **NDlib** — ``ndlib.models.epidemics.IndependentCascadesModel`` with edge threshold p and the
  same seeds, ``iteration_bunch(steps)`` (optional: ``pip install -e '.[peers]'``);
- **Mesa, per agent** — the same independent cascade written the idiomatic Mesa way (a
  ``CellAgent`` per user on a ``mesa.discrete_space.Network``, ``shuffle_do("step")``), and the
  toy cascade of ``benchmarks/run.py --mesa-baseline`` on the same graph;
- **CSR floor** — the independent cascade in bare numpy over the CSR adjacency: the newly active
  users' out-edges gathered, one Bernoulli(p) per edge, vectorised; and the **CSR sweep**, the
  same cascade touching every user every step (a sparse product and a draw per user), the floor
  of a step of a model that keeps every user's state.

Each is reported in µs per user-step (seconds / (users × steps)) and as ratios to the floor, the
sweep and the full model: ratios, not absolute times, are the figures to quote. Only the steps are
timed; building the models is not. ``--write-doc`` rewrites docs/performance.md from the run.

Usage::

    python benchmarks/peers.py [--size 100000] [--steps 50] [--repeat 3] [--seed 2012]
                               [--mesa-size N] [--mesa-steps 10] [--no-ndlib] [--no-mesa]
                               [--no-profile] [--write-doc [FILE]]
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import os
import random
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
import scipy.sparse as sp
import yaml

import simulator.model.dynamics
from simulator import PerkCampaignModel
from simulator.model.graphs import Graph, generate
from simulator.model.profile import OTHER, profile_run
from simulator.scenario.loader import validate_document
from simulator.scenario.schema import BarabasiAlbert

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
REDUCED_SCENARIO = ROOT / "scenarios" / "checks" / "ic_tree.yaml"

M = 4  # Barabási–Albert: each new user links to m earlier ones
P = 0.05  # the edge (persuasion) probability of the cascade
SEED_SHARE = 0.01  # share of users who start active
NOT_INSTALLED = "not installed (pip install -e '.[peers]')"
# a run shorter than SHORT_RUN seconds (the CSR floor's) is repeated within its round, up to
# SHORT_RUNS runs or SHORT_BUDGET seconds, and the round keeps its best: one run of a few
# milliseconds is at the mercy of the timer and the scheduler
SHORT_RUN, SHORT_RUNS, SHORT_BUDGET = 0.05, 20, 0.2


def _load_run() -> Any:
    """benchmarks/run.py as a module (its scenario, machine details, table and Mesa toy)."""
    spec = importlib.util.spec_from_file_location("perksim_benchmark_run", Path(__file__).with_name("run.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUN = _load_run()
log = RUN.log


# --- the shared graph and seeds -----------------------------------------------------------------


@dataclass
class Setup:
    """What every implementation shares: the graph, its edge list (a file for the scenarios),
    the seeds and the parameters."""

    graph: Graph
    src: np.ndarray  # each undirected edge once, src < dst
    dst: np.ndarray
    edge_file: Path
    seeds: np.ndarray  # sorted user ids
    steps: int
    seed: int
    nx_graphs: dict[int, nx.Graph] = field(default_factory=dict)

    def nx_graph(self, size: int) -> nx.Graph:
        """The graph on the first ``size`` users as networkx (a Barabási–Albert graph itself:
        every user links only to earlier ones)."""
        if size not in self.nx_graphs:
            keep = self.dst < size
            g = nx.Graph()
            g.add_nodes_from(range(size))
            g.add_edges_from(zip(self.src[keep].tolist(), self.dst[keep].tolist(), strict=True))
            self.nx_graphs[size] = g
        return self.nx_graphs[size]


def make_setup(size: int, steps: int, seed: int, folder: Path) -> Setup:
    """Generate the graph (numpy Generator seeded with ``seed``), write it as an edge list and
    draw the seeds (1% of users, a second explicitly seeded Generator)."""
    graph = generate(BarabasiAlbert(kind="barabasi_albert", m=M), size, np.random.default_rng(seed))
    upper = sp.triu(graph.followers, k=1).tocoo()
    src, dst = upper.row.astype(np.int64), upper.col.astype(np.int64)
    edge_file = folder / f"ba_{size}_m{M}_seed{seed}.txt"
    np.savetxt(edge_file, np.column_stack([src, dst]), fmt="%d",
               header=f"{graph.description}, seed {seed}")
    draw = np.random.default_rng([seed, 1])
    seeds = np.sort(draw.choice(size, max(1, round(size * SEED_SHARE)), replace=False))
    return Setup(graph, src, dst, edge_file, seeds, steps, seed)


def full_scenario(s: Setup) -> Any:
    """benchmarks/run.py's scenario (one brand, default behaviour, 1% perks by score
    threshold) on the shared graph."""
    doc = RUN.scenario_document(s.graph.n, s.steps, s.seed)
    doc["name"] = "peers_full"
    doc["population"]["graph"] = {"kind": "edgelist", "path": str(s.edge_file)}
    return validate_document(doc, file="<peers: full model>")


def reduced_scenario(s: Setup) -> Any:
    """The reduced setting of docs/model.md §10 (scenarios/checks/ic_tree.yaml) on the shared
    graph, edge probability P, the shared seeds as the campaign's fixed recipients at step 0."""
    doc = yaml.safe_load(REDUCED_SCENARIO.read_text(encoding="utf-8"))
    doc.update(name="peers_reduced", seed=s.seed, steps=s.steps)
    doc["population"]["graph"] = {"kind": "edgelist", "path": str(s.edge_file)}
    doc["behaviour"].update(persuasion_paid=P, persuasion_organic=P)
    doc["campaigns"][0].update(perks=int(s.seeds.size), start=0,
                               strategy={"kind": "fixed", "users": s.seeds.tolist()})
    return validate_document(doc, file="<peers: reduced cascade>")


# --- the implementations: prepare (not timed), then run (timed) ---------------------------------


@dataclass
class Impl:
    """One implementation: ``prepare()`` builds a fresh state (not timed), ``run(state)`` does
    ``steps`` steps of ``users`` users (timed) and returns the users active at the end."""

    key: str
    name: str
    runs: str
    users: int
    steps: int
    prepare: Callable[[], Any]
    run: Callable[[Any], int]
    note: str = ""


def _model_active(model: PerkCampaignModel) -> int:
    """Users the campaign reached for good: recipients and adopters (recipients cannot adopt)."""
    return int(((model.perk[:, 0] > 0) | model.adopted[:, 0]).sum())


def model_impl(key: str, name: str, runs: str, scenario: Any, s: Setup) -> Impl:
    def run(model: PerkCampaignModel) -> int:
        model.run(s.steps)
        return _model_active(model)

    return Impl(key, name, runs, s.graph.n, s.steps, lambda: PerkCampaignModel(scenario, rng=s.seed), run)


def csr_cascade(followers: sp.csr_array, seeds: np.ndarray, p: float, steps: int,
                rng: np.random.Generator) -> np.ndarray:
    """The independent cascade over CSR rows (row i: whom i's activation can reach): each step,
    the out-edges of the users activated the step before, one Bernoulli(p) each; returns who is
    active at the end."""
    indptr, indices = followers.indptr, followers.indices
    active = np.zeros(followers.shape[0], dtype=bool)
    active[seeds] = True
    frontier = np.asarray(seeds, dtype=np.int64)
    for _ in range(steps):
        if frontier.size == 0:
            continue
        starts, lengths = indptr[frontier], indptr[frontier + 1] - indptr[frontier]
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        targets = indices[offsets + np.arange(offsets.size)]
        hit = targets[rng.random(targets.size) < p]
        frontier = np.unique(hit[~active[hit]])
        active[frontier] = True
    return active


def sweep_cascade(follows: sp.csr_array, seeds: np.ndarray, p: float, steps: int,
                  rng: np.random.Generator) -> np.ndarray:
    """The same cascade as a sweep over every user each step, as a step of a model that keeps
    every user's state does: one sparse product (row j: whom j follows) counts each user's
    newly active sources k, one uniform draw per user, activation with 1 - (1 - p)^k."""
    n = follows.shape[0]
    active = np.zeros(n, dtype=bool)
    active[seeds] = True
    new = active.astype(np.float64)
    for _ in range(steps):
        k = follows @ new
        fired = ~active & (rng.random(n) < 1.0 - (1.0 - p) ** k)
        active |= fired
        new = fired.astype(np.float64)
    return active


def floor_impls(s: Setup) -> list[Impl]:
    def run(rng: np.random.Generator) -> int:
        return int(csr_cascade(s.graph.followers, s.seeds, P, s.steps, rng).sum())

    def sweep(rng: np.random.Generator) -> int:
        return int(sweep_cascade(s.graph.follows, s.seeds, P, s.steps, rng).sum())

    return [Impl("sweep", "CSR sweep (numpy + scipy CSR)", "independent cascade, every user "
                 "every step", s.graph.n, s.steps, lambda: np.random.default_rng([s.seed, 4]), sweep),
            Impl("floor", "CSR floor (numpy + scipy CSR)", "independent cascade, newly active "
                 "users' edges only", s.graph.n, s.steps, lambda: np.random.default_rng([s.seed, 2]), run)]


def ndlib_impl(s: Setup) -> Impl:
    """NDlib's IndependentCascadesModel, built once (per-edge thresholds for 400,000 edges take
    a while); each repeat resets it to the shared seeds."""
    try:
        import ndlib.models.ModelConfig as mc
        from ndlib.models.epidemics import IndependentCascadesModel
    except ImportError as exc:  # not installed, or installed without a dependency (six)
        why = NOT_INSTALLED if exc.name == "ndlib" else f"cannot import: {exc} ({NOT_INSTALLED})"
        return Impl("ndlib", "NDlib IndependentCascadesModel", why, s.graph.n, s.steps,
                    lambda: None, lambda _: 0, note=why)
    built: list[Any] = []

    def prepare() -> Any:
        if not built:
            g = s.nx_graph(s.graph.n)
            model = IndependentCascadesModel(g, seed=s.seed)
            config = mc.Configuration()
            config.add_model_initial_configuration("Infected", s.seeds.tolist())
            for edge in g.edges():
                config.add_edge_configuration("threshold", edge, P)
            model.set_initial_status(config)
            built.append(model)
        model = built[0]
        # NDlib draws from numpy's and Python's global random state (its flips are
        # np.random.random_sample()); seeding them is NDlib's way and is done only here.
        np.random.seed(s.seed)
        random.seed(s.seed)
        return model.reset(infected_nodes=s.seeds.tolist())

    def run(model: Any) -> int:
        model.iteration_bunch(s.steps)
        return sum(1 for v in model.status.values() if v in (1, 2))

    return Impl("ndlib", "NDlib IndependentCascadesModel", f"independent cascade, ndlib "
                f"{importlib.metadata.version('ndlib')}", s.graph.n, s.steps, prepare, run)


class ICUser(mesa.discrete_space.CellAgent):
    """One user of the independent cascade, the idiomatic Mesa way: a user activated in the
    previous step tries each neighbour once with probability p (synchronous, like the others)."""

    def __init__(self, model: ICModel, cell: Any, active: bool):
        super().__init__(model)
        self.cell = cell
        self.active_at = 0 if active else -1  # the step it became active; -1: not (yet)

    def step(self) -> None:
        t = self.model.t
        if self.active_at == t:
            for other in self.cell.neighborhood.agents:
                if other.active_at < 0 and self.random.random() < P:
                    other.active_at = t + 1


class ICModel(mesa.Model):
    """The independent cascade as a Mesa model on a Network space."""

    def __init__(self, g: nx.Graph, seeds: np.ndarray, seed: int):
        super().__init__(rng=seed)
        self.t = 0
        self.grid = mesa.discrete_space.Network(g, random=self.random, layout=None)
        active = set(seeds.tolist())
        for i in g.nodes:
            ICUser(self, self.grid[i], i in active)

    def step(self) -> None:
        self.agents.shuffle_do("step")
        self.t += 1


def mesa_impls(s: Setup, size: int, steps: int) -> list[Impl]:
    g = s.nx_graph(size)
    seeds = s.seeds[s.seeds < size]

    def run(model: Any) -> int:
        for _ in range(steps):
            model.step()
        if isinstance(model, ICModel):
            return sum(1 for a in model.agents if a.active_at >= 0)
        return sum(1 for a in model.agents if a.adopted)

    def toy() -> Any:
        rng = np.random.default_rng([s.seed, 3])
        rate = rng.gamma(2.0, 0.5, size)
        keep = s.dst < size  # the edges among the first `size` users (src < dst)
        followers = np.bincount(np.concatenate([s.src[keep], s.dst[keep]]), minlength=size)
        view = simulator.model.dynamics.view_probability(followers, 1.0, 0.25)
        start = np.zeros(size, dtype=bool)
        start[seeds] = True
        return RUN.CascadeModel(g, rate, view, start, s.seed)

    return [
        Impl("mesa_ic", "Mesa, an agent per user", "independent cascade, shuffle_do('step')",
             size, steps, lambda: ICModel(g, seeds, s.seed), run),
        Impl("mesa_toy", "Mesa, an agent per user (run.py toy)",
             "benchmarks/run.py --mesa-baseline toy: posts, mentions, views", size, steps, toy, run),
    ]


# --- the measurement ------------------------------------------------------------------------------


def measure(size: int = 100_000, steps: int = 50, repeat: int = 3, seed: int = 2012,
            mesa_size: int | None = None, mesa_steps: int = 10, ndlib: bool = True,
            with_mesa: bool = True, profile: bool = True, short_run: float = SHORT_RUN) -> dict[str, Any]:
    """Time every implementation, best of ``repeat``, interleaved; returns the rows (one per
    implementation: seconds per repeat, best, µs per user-step, ratios, users active at the end)
    and, with ``profile``, the per-phase split of the full and the reduced model's steps.
    A run shorter than ``short_run`` seconds is repeated within its round (0: never)."""
    mesa_size = size if mesa_size is None else min(mesa_size, size)
    with tempfile.TemporaryDirectory(prefix="perksim-peers-") as folder:
        log(f"graph: Barabási–Albert n={size:,} m={M} ...")
        s = make_setup(size, steps, seed, Path(folder))
        full, reduced = full_scenario(s), reduced_scenario(s)
        impls = [model_impl("full", "this model, full step", "all nine phases (benchmarks/run.py "
                            "scenario)", full, s),
                 model_impl("reduced", "this model, reduced cascade", "independent cascade "
                            "(docs/model.md §10)", reduced, s)]
        if ndlib:
            impls.append(ndlib_impl(s))
        if with_mesa:
            impls += mesa_impls(s, mesa_size, mesa_steps)
        impls += floor_impls(s)
        samples: dict[str, list[float]] = {i.key: [] for i in impls}
        active: dict[str, int] = {}
        for r in range(repeat):
            for impl in impls:
                if impl.note:
                    continue
                log(f"repeat {r + 1}/{repeat}: {impl.name}: building ...")
                best, spent, runs = float("inf"), 0.0, 0
                while runs == 0 or (spent < SHORT_BUDGET and runs < SHORT_RUNS):
                    state = impl.prepare()
                    gc.collect()
                    t0 = time.perf_counter()
                    active[impl.key] = impl.run(state)
                    took = time.perf_counter() - t0
                    best, spent, runs = min(best, took), spent + took, runs + 1
                    del state
                    if took >= short_run:
                        break
                samples[impl.key].append(best)
                log(f"repeat {r + 1}/{repeat}: {impl.name}: {best:.4f} s"
                    + (f" (best of {runs} runs)" if runs > 1 else ""))
        phases = {}
        if profile:
            for key, sc in (("full", full), ("reduced", reduced)):
                log(f"profile: {key} ...")
                gc.collect()
                phases[key] = _phases(sc, seed)
        model_graph = PerkCampaignModel(reduced, rng=seed).graph
        same = (np.array_equal(model_graph.followers.indptr, s.graph.followers.indptr)
                and np.array_equal(model_graph.followers.indices, s.graph.followers.indices))
    rows = _rows(impls, samples, active)
    return {"load_average": os.getloadavg(), "size": size, "edges": int(s.src.size), "steps": steps,
            "repeat": repeat, "seed": seed,
            "seeds": int(s.seeds.size), "mesa_size": mesa_size, "mesa_steps": mesa_steps,
            "same_graph": bool(same), "rows": rows, "phases": phases}


def _rows(impls: list[Impl], samples: dict[str, list[float]], active: dict[str, int]) -> list[dict]:
    rows = []
    for i in impls:
        best = min(samples[i.key]) if samples[i.key] else None
        us = None if best is None else best / (i.users * i.steps) * 1e6
        rows.append({"key": i.key, "name": i.name, "runs": i.runs, "users": i.users, "steps": i.steps,
                     "samples": samples[i.key], "best_s": best, "us_per_user_step": us,
                     "active": active.get(i.key), "note": i.note})
    per = {r["key"]: r["us_per_user_step"] for r in rows}
    for r in rows:
        for ref in ("floor", "sweep", "full"):
            ok = r["us_per_user_step"] is not None and per.get(ref)
            r[f"over_{ref}"] = r["us_per_user_step"] / per[ref] if ok else None
    return rows


def _phases(scenario: Any, seed: int) -> list[dict[str, Any]]:
    """µs per user-step of each phase of the step (simulator.model.profile, one run)."""
    _, timings = profile_run(scenario, rng=seed)
    table = timings.table()
    table = table[table["part"] == "step"]
    total = float(table["seconds"].sum()) or 1.0
    return [{"phase": r.phase, "us": float(r.us_per_user_step), "share": float(r.seconds) / total,
             "other": r.phase in OTHER} for r in table.itertuples(index=False)]


# --- reporting ------------------------------------------------------------------------------------


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def _ratio(x: float | None) -> str:
    """A ratio with two significant digits or more: 650, 17, 4.1, 0.50, 0.002."""
    if x is None:
        return "—"
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}" if x >= 1 else f"{x:.2g}" if x < 0.1 else f"{x:.2f}"


def table(result: dict[str, Any], markdown: bool = False) -> str:
    """The peer table: text for the terminal or a Markdown table for the doc."""
    headers = ["implementation", "runs", "users × steps", "best s", "µs/user-step", "× floor",
               "× sweep", "× full model", "active at end", "samples s"]
    body = []
    for r in result["rows"]:
        body.append([r["name"], r["runs"], f"{r['users']:,} × {r['steps']}", _num(r["best_s"], ".3g"),
                     _num(r["us_per_user_step"], ".4f"), _ratio(r["over_floor"]),
                     _ratio(r["over_sweep"]), _ratio(r["over_full"]),
                     "—" if r["active"] is None else f"{r['active']:,}",
                     " / ".join(f"{x:.3g}" for x in r["samples"]) or "—"])
    if not markdown:
        return RUN.fmt_table(headers, body, "llrrrrrrrl")
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(":--" if a == "l" else "--:"
                                                              for a in "llrrrrrrrl") + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines)


def phase_table(result: dict[str, Any]) -> str:
    """Markdown: µs per user-step of each phase, full and reduced side by side."""
    full, reduced = result["phases"]["full"], result["phases"]["reduced"]
    lines = ["| phase | full model µs/user-step | share | reduced cascade µs/user-step | share |",
             "|:--|--:|--:|--:|--:|"]
    for f, r in zip(full, reduced, strict=True):
        lines.append(f"| {f['phase']} | {f['us']:.3f} | {f['share']:.0%} | "
                     f"{r['us']:.3f} | {r['share']:.0%} |")
    lines.append(f"| total | {sum(f['us'] for f in full):.3f} | 100% | "
                 f"{sum(r['us'] for r in reduced):.3f} | 100% |")
    return "\n".join(lines)


def _vs(a: float, b: float) -> str:
    """'3.1× slower than' or '2.0× faster than' (a against b)."""
    return f"{a / b:.1f}× slower than" if a >= b else f"{b / a:.1f}× faster than"


def reading(result: dict[str, Any]) -> list[str]:
    """The reading of the figures, in words computed from this run's numbers."""
    us = {r["key"]: r["us_per_user_step"] for r in result["rows"] if r["us_per_user_step"]}
    out = []
    if {"full", "reduced", "floor", "sweep"} <= us.keys():
        out.append(
            f"- **The two floors differ by {_ratio(us['sweep'] / us['floor'])}×.** The CSR floor "
            f"touches only the newly active users' edges, and nothing at all once the cascade has "
            f"died out; the sweep computes the same cascade the way a step of a simulation that "
            f"keeps every user's state must, touching all n users every step. The floor bounds an "
            f"independent cascade; the sweep bounds a model like this one.")
        out.append(
            f"- **Reduced cascade: {_ratio(us['reduced'] / us['sweep'])}× the sweep** "
            f"({_ratio(us['reduced'] / us['floor'])}× the floor). With posting, pout and gaming "
            f"off the model computes the same cascade, but its step still keeps the books of a "
            f"campaign for every user: the score map, the step's metrics, exposure and reach "
            f"arrays of n values.")
        out.append(
            f"- **Full model: {_ratio(us['full'] / us['sweep'])}× the sweep, "
            f"{_ratio(us['full'] / us['reduced'])}× the reduced cascade** "
            f"({_ratio(us['full'] / us['floor'])}× the floor). A full step does much more than a "
            f"cascade: every user draws posts, their followers react (two Poisson draws of n "
            f"values and a sparse product), the score is recomputed and mapped to 1–100 for "
            f"everyone, the brand allocates, paid, organic and negative mentions are exposed, pout "
            f"grows among the excluded, score chasers adapt, and the step's metrics are collected.")
    ph = result.get("phases") or {}
    if "full" in ph:
        top = sorted((p for p in ph["full"] if not p["other"]), key=lambda p: -p["share"])[:3]
        out.append("- **Where the full step goes** (one instrumented run, table below): "
                   + ", ".join(f"{p['phase']} {p['share']:.0%}" for p in top) + ".")
    if "reduced" in ph:
        top = sorted((p for p in ph["reduced"] if not p["other"]), key=lambda p: -p["share"])[:2]
        out.append("- **Where the reduced step goes:** "
                   + ", ".join(f"{p['phase']} {p['share']:.0%}" for p in top)
                   + " — bookkeeping over all users that the cascade itself does not need.")
    if "ndlib" in us and "reduced" in us:
        out.append(
            f"- **NDlib** runs the same independent cascade {_vs(us['ndlib'], us['reduced'])} "
            f"this model's reduced setting and {_vs(us['ndlib'], us['full'])} its full step: it "
            f"loops over every node in Python each iteration, copies the status dict and looks up "
            f"a threshold per edge tried.")
    if "mesa_ic" in us and {"full", "reduced", "sweep"} <= us.keys():
        toy = (f"; benchmarks/run.py's toy, whose agents do more (a Poisson draw each, adopters "
               f"mentioning again every step), is {_vs(us['mesa_toy'], us['full'])} the full model"
               if "mesa_toy" in us else "")
        out.append(
            f"- **Mesa, an agent per user** ({result['mesa_size']:,} users × "
            f"{result['mesa_steps']} steps): the independent cascade is "
            f"{_vs(us['mesa_ic'], us['full'])} the full model, "
            f"{_ratio(us['mesa_ic'] / us['reduced'])}× the reduced cascade and "
            f"{_ratio(us['mesa_ic'] / us['sweep'])}× the sweep{toy}. Every agent costs a method "
            f"call per step and a place in the shuffle whether or not it has anything to do, and every "
            f"edge tried a Python random draw.")
    return out


def machine() -> dict[str, Any]:
    m = RUN.machine_info()
    try:
        m["ndlib"] = importlib.metadata.version("ndlib")
    except importlib.metadata.PackageNotFoundError:
        m["ndlib"] = "not installed"
    return m


def document(result: dict[str, Any]) -> str:
    """docs/performance.md, entirely from this run."""
    m, rows = result["machine"], result["rows"]
    us = {r["key"]: r["us_per_user_step"] for r in rows}
    parts = [
        "# Performance against peers",
        "",
        "How fast is this model, compared with the other ways one could run the same kind of "
        "simulation? This page is written by [`benchmarks/peers.py`](../benchmarks/peers.py) "
        "from one run; do not edit it by hand. For the model's own speed targets and its "
        "per-phase profile at several sizes, see [benchmarks/README.md](../benchmarks/README.md).",
        "",
        "## What is measured",
        "",
        f"One graph — Barabási–Albert, {result['size']:,} users, m = {M} "
        f"({result['edges']:,} undirected edges), from the project's own generator "
        f"(`simulator.model.graphs.generate`), seed {result['seed']} — and one seed set — "
        f"{result['seeds']:,} users ({SEED_SHARE:.0%}), drawn once — are shared by every "
        f"implementation, all timed in the same process. The cascades use edge probability "
        f"p = {P}.",
        "",
        "| implementation | what it runs |",
        "|:--|:--|",
        "| this model, full step | `PerkCampaignModel` on the scenario of `benchmarks/run.py` (one "
        "brand, default behaviour, 1% perks by score threshold at step 14) with the graph as an "
        "`edgelist` file: all nine phases of docs/model.md §3 |",
        "| this model, reduced cascade | the reduced setting of [docs/model.md §10](model.md#10-checks) "
        "(`scenarios/checks/ic_tree.yaml`: posting, pout and gaming off, every probability 1 or p) "
        "with the shared seeds as fixed recipients at step 0 — the textbook independent cascade |",
        "| NDlib IndependentCascadesModel | `ndlib.models.epidemics.IndependentCascadesModel` on the "
        "graph as networkx, edge threshold p on every edge, the shared seeds as `Infected`, "
        "`iteration_bunch(steps)` |",
        "| Mesa, an agent per user | the independent cascade written the idiomatic Mesa way: a "
        "`CellAgent` per user on a `mesa.discrete_space.Network` (`layout=None`), "
        "`agents.shuffle_do(\"step\")`; a user activated in the previous step tries each "
        "neighbour once |",
        "| Mesa, an agent per user (run.py toy) | the toy cascade of `benchmarks/run.py "
        "--mesa-baseline` (each agent draws posts, an adopter mentions with probability 0.3, "
        "neighbours see it with the model's view probability) on the same graph |",
        "| CSR sweep | the same cascade as a sweep over every user each step, as a model that "
        "keeps every user's state must step it: one sparse product counts each user's newly active "
        "sources k, one uniform draw per user, activation with 1 − (1 − p)^k |",
        "| CSR floor | the independent cascade in bare numpy over the scipy CSR adjacency: each "
        "step the newly active users' out-edges, one Bernoulli(p) per edge, vectorised |",
        "",
        "Only the steps are timed, not building the models. Every implementation is timed "
        f"best of {result['repeat']}, and the repeats are interleaved — each repeat runs every "
        "implementation once, in turn — so that other work on the machine slows all of them "
        f"alike; a run shorter than {SHORT_RUN * 1e3:.0f} ms (the CSR floor's) is repeated "
        f"within its round, up to {SHORT_RUNS} times, and the round keeps its best. Every "
        "repeat does the same work (the same seeds, explicitly seeded numpy Generators; "
        "NDlib draws from numpy's global random state, which the script seeds "
        "before each NDlib run).",
        "",
        "**Ratios, not absolute times, are the figures to quote.** Seconds depend on the machine "
        "and on what else it is doing; the ratio of two implementations measured side by side "
        "on one graph in one process does much less. µs/user-step is seconds / (users × steps) "
        "for every implementation, so the IC implementations are charged for the steps after "
        "their cascade has died out too (the floor then does nothing; NDlib and Mesa still visit "
        "every node). Mesa is slow, so it runs fewer steps (see the table); for the independent "
        "cascade its cost per agent-step hardly depends on the step (it is the dispatch to every "
        "agent), while the run.py toy gets dearer as adopters accumulate.",
        "",
        "## The table",
        "",
        table(result, markdown=True),
        "",
        "× floor, × sweep and × full model are µs/user-step over the CSR floor's, the CSR "
        "sweep's and the full model's. *Active at end*: users active when the run ends, seeds "
        "included (for this model: the campaign's recipients and adopters; the full model's "
        "recipients are its own score-threshold picks and the run.py toy is a different "
        "cascade, so only the "
        "independent-cascade rows are comparable: they are one draw each of the same random "
        "cascade, over "
        f"{result['steps']} steps, Mesa's over {result['mesa_steps']}). The graph the model "
        f"read from the edge list is the generated one: {'yes' if result['same_graph'] else 'NO'}.",
        "",
        "## Reading the figures",
        "",
        *reading(result),
    ]
    if result.get("phases"):
        parts += [
            "",
            "Per phase (docs/model.md §3) of the two settings of this model, µs per user-step, "
            "one instrumented run each (`simulator.model.profile`, what `perksim run --profile` "
            "prints) after the timed ones — a single run, so its totals need not match the best "
            "times above:",
            "",
            phase_table(result),
        ]
    parts += [
        "",
        "## How to regenerate",
        "",
        "From the repository's root, with NDlib installed (`.venv/bin/pip install -e '.[peers]'`):",
        "",
        "```sh",
        ".venv/bin/python benchmarks/peers.py --write-doc",
        "```",
        "",
        "This run's command was:",
        "",
        "```sh",
        result["command"],
        "```",
        "",
        "Options: `--size` (users, 100000), `--steps` (50), `--repeat` (best of, 3), `--seed` "
        "(2012), `--mesa-size` (users of the Mesa rows: the first N users of the graph, all by "
        "default), `--mesa-steps` (10), `--no-ndlib`, `--no-mesa`, `--no-profile`, `--write-doc "
        "[FILE]`. Without NDlib installed its row says so and the rest is measured. Progress "
        "goes to stderr, the table to stdout.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {m['cpu']}, {m['cpus_usable']} usable cores; {m['platform']}",
        f"- Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, networkx {m['networkx']}, "
        f"mesa {m['mesa']}, ndlib {m['ndlib']}",
        f"- perksim {m['simulator']} at commit `{m['commit']}`",
        f"- run on {result['started']}; load average (1, 5, 15 min) at the end of the run "
        f"{', '.join(f'{x:.2f}' for x in result['load_average'])} on {m['cpus_usable']} cores "
        f"(other work shared the machine when it was above about 1)",
        "",
    ]
    if us.get("full"):
        parts.insert(parts.index("## The table") + 2,
                     f"The full model ran at {1 / us['full']:.1f} M user-steps per second here "
                     f"({us['full']:.3f} µs/user-step); the ratios below are what carries over "
                     f"to another machine.\n")
    return "\n".join(parts)


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="users of the graph (100000)")
    ap.add_argument("--steps", type=int, default=50, help="steps of every run but Mesa's (50)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many interleaved repeats (3)")
    ap.add_argument("--seed", type=int, default=2012, help="seed of the graph, seeds and runs (2012)")
    ap.add_argument("--mesa-size", type=int, default=None,
                    help="users of the Mesa rows: the graph's first N users (default: all)")
    ap.add_argument("--mesa-steps", type=int, default=10, help="steps of the Mesa rows (10)")
    ap.add_argument("--no-ndlib", action="store_true", help="leave NDlib out")
    ap.add_argument("--no-mesa", action="store_true", help="leave the Mesa rows out")
    ap.add_argument("--no-profile", action="store_true", help="skip the per-phase runs of the model")
    ap.add_argument("--write-doc", nargs="?", type=Path, const=DOC, default=None, metavar="FILE",
                    help=f"rewrite FILE (default {DOC.relative_to(ROOT)}) from this run")
    args = ap.parse_args(argv)
    if args.size < 100 or args.steps < 1 or args.repeat < 1 or args.mesa_steps < 1:
        ap.error("--size must be >= 100; --steps, --repeat and --mesa-steps >= 1")
    if args.mesa_size is not None and args.mesa_size < 10:
        ap.error("--mesa-size must be >= 10")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    started = datetime.now(UTC).isoformat(timespec="seconds")
    result = measure(args.size, args.steps, args.repeat, args.seed, args.mesa_size, args.mesa_steps,
                     ndlib=not args.no_ndlib, with_mesa=not args.no_mesa, profile=not args.no_profile)
    result.update(command=shlex.join([".venv/bin/python", "benchmarks/peers.py", *given]),
                  started=started, machine=machine())
    m = result["machine"]
    print(f"perksim peer benchmark: Barabási–Albert n={args.size:,} m={M}, {result['seeds']:,} seeds, "
          f"p={P}, best of {args.repeat} interleaved")
    print(f"  {m['cpu']} ({m['cpus_usable']} cores), Python {m['python']}, numpy {m['numpy']}, "
          f"scipy {m['scipy']}, networkx {m['networkx']}, mesa {m['mesa']}, ndlib {m['ndlib']}, "
          f"commit {m['commit']}")
    print(table(result))
    if args.write_doc:
        args.write_doc.write_text(document(result), encoding="utf-8")
        log(f"wrote {args.write_doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
