"""Speed benchmarks of the perk-campaign model ("agents as columns", see ARCHITECTURE.md).

For each population size this times, with one brand and the default behaviour:

(a) graph construction alone (``simulator.model.graphs.generate``, the same graph the model builds);
(b) model construction: graph + population + score warm-up (``PerkCampaignModel(...)``);
(c) the steps (``model.run()``), reported as seconds and user-steps per second;

plus the end-to-end time (scenario validation + construction + steps, graph included) and a
machine baseline measured in the same run: a plain numpy pass over the same user arrays
(one Poisson draw of n values and one sparse matrix-vector product over the follows graph
per step). The stepping time divided by the baseline is comparable across machines.

For the largest size a second, instrumented run splits the stepping time into the model's
phases (and the construction into its parts) by wrapping the model's methods at run time
(``simulator.model.profile``, what ``perksim run --profile`` prints); the package itself is
not modified.

Usage::

    python benchmarks/run.py [--sizes 10000 100000] [--steps 100] [--repeat N] [--json out.json]
                             [--seed S] [--no-profile] [--mesa-baseline [--mesa-size 5000]]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
import scipy
import scipy.sparse as sp

import simulator
import simulator.model.dynamics
from simulator import PerkCampaignModel, replicate_seed
from simulator.model.graphs import from_edges, generate
from simulator.model.profile import OTHER, profile_run
from simulator.scenario.loader import validate_document
from simulator.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]

# The targets (docs: benchmarks/README.md)
TARGET_SIZE = 100_000
TARGET_STEPS = 100
TARGET_THROUGHPUT = 1_000_000  # user-steps per second while stepping, at TARGET_SIZE users
TARGET_END_TO_END = 15.0  # seconds for TARGET_SIZE users x TARGET_STEPS steps, graph included

BASELINE_REPEAT = 5  # the baseline is cheap: take the best of this many passes



# --- the benchmark scenario ---------------------------------------------------------------------


def scenario_document(size: int, steps: int, seed: int) -> dict[str, Any]:
    """One brand, default behaviour, 1% of users get a perk by score threshold."""
    return {
        "name": f"benchmark_{size}",
        "seed": seed,
        "steps": steps,
        "population": {"size": size, "graph": {"kind": "powerlaw_cluster", "m": 4}},
        "campaigns": [{
            "brand": "bench",
            "topic": "sports",
            "region": "los_angeles",
            "perks": max(1, size // 100),
            "start": min(14, steps - 1),
            "strategy": {"kind": "score_threshold", "threshold": 63},
        }],
    }


def model_graph_rng(seed: int) -> np.random.Generator:
    """The generator the model hands to ``generate`` (so (a) builds the very same graph):
    ``PerkCampaignModel(scenario, rng=seed)`` runs replicate 0 of ``seed``, and its graph stream
    is the first of the three its generator spawns (tests/test_benchmarks.py checks this)."""
    return np.random.default_rng(replicate_seed(seed, 0)).spawn(3)[0]


# --- helpers --------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "simulator"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        commit = out + ("+dirty(simulator/)" if dirty else "")
    return {
        "cpu": cpu,
        "cpus_usable": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "networkx": nx.__version__,
        "mesa": mesa.__version__,
        "simulator": simulator.__version__,
        "simulator_path": str(Path(simulator.__file__).parent),
        "commit": commit,
    }


# --- (a) (b) (c) and the baseline ----------------------------------------------------------------


def time_graph(sc: Scenario, seed: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    graph = generate(sc.population.graph, sc.population.size, model_graph_rng(seed))
    return time.perf_counter() - t0, graph.edges


def time_model(doc: dict[str, Any], seed: int) -> tuple[dict[str, float], PerkCampaignModel]:
    """End to end: validate the scenario, build the model, run all its steps."""
    t0 = time.perf_counter()
    sc = validate_document(doc, file="<benchmark>")
    t1 = time.perf_counter()
    model = PerkCampaignModel(sc, rng=seed)
    t2 = time.perf_counter()
    model.run()
    t3 = time.perf_counter()
    return {"validate": t1 - t0, "build": t2 - t1, "steps": t3 - t2, "end_to_end": t3 - t0}, model


def time_baseline(follows: sp.csr_array, rate: np.ndarray, steps: int, seed: int) -> float:
    """Best-of time of ``steps`` × (Poisson draw of n values + one sparse mat-vec over follows)."""
    rng = np.random.default_rng(seed)
    best = float("inf")
    for _ in range(BASELINE_REPEAT):
        t0 = time.perf_counter()
        for _ in range(steps):
            posts = rng.poisson(rate)
            exposure = follows @ posts  # noqa: F841 - the work is the point
        best = min(best, time.perf_counter() - t0)
    return best


def bench_size(size: int, steps: int, repeat: int, seed: int) -> dict[str, Any]:
    doc = scenario_document(size, steps, seed)
    sc = validate_document(doc, file="<benchmark>")
    samples: dict[str, list[float]] = {"graph": [], "validate": [], "build": [], "steps": [],
                                       "end_to_end": []}
    edges = 0
    model: PerkCampaignModel | None = None
    for r in range(repeat):
        log(f"size {size:,}: repeat {r + 1}/{repeat}: (a) graph ...")
        gc.collect()
        t_graph, edges = time_graph(sc, seed)
        samples["graph"].append(t_graph)
        log(f"size {size:,}: repeat {r + 1}/{repeat}: (b)+(c) model ...")
        model = None
        gc.collect()
        times, model = time_model(doc, seed)
        for k, v in times.items():
            samples[k].append(v)
        log(f"size {size:,}: repeat {r + 1}/{repeat}: graph {t_graph:.2f} s, build {times['build']:.2f} s,"
            f" steps {times['steps']:.2f} s, end to end {times['end_to_end']:.2f} s")
    assert model is not None
    if model.graph.edges != edges:
        log(f"warning: the graph of (a) has {edges} edges, the model's {model.graph.edges}")
    summary = model.summary().iloc[0]
    log(f"size {size:,}: baseline (numpy pass, best of {BASELINE_REPEAT}) ...")
    baseline = time_baseline(model.graph.follows, model.population.post_rate, steps, seed)
    best = {k: min(v) for k, v in samples.items()}
    user_steps = size * steps
    return {
        "size": size,
        "steps": steps,
        "edges": edges,
        "repeat": repeat,
        "samples": samples,
        "best": best,
        "median": {k: statistics.median(v) for k, v in samples.items()},
        "user_steps_per_s": user_steps / best["steps"],
        "ns_per_user_step": best["steps"] / user_steps * 1e9,
        "baseline_s": baseline,
        "steps_over_baseline": best["steps"] / baseline,
        "peak_rss_mb": peak_rss_mb(),
        "check": {  # that the run did what it should: perks given, something reached
            "perks_given": int(summary["perks_given"]),
            "reach": int(summary["reach"]),
            "adopters": int(summary["adopters"]),
        },
    }


# --- the per-phase profile ------------------------------------------------------------------------


def profile(size: int, steps: int, seed: int) -> dict[str, Any]:
    """One instrumented run (simulator.model.profile, as ``perksim run --profile``):
    construction and stepping split into phases."""
    sc = validate_document(scenario_document(size, steps, seed), file="<benchmark>")
    gc.collect()
    _, timings = profile_run(sc, rng=seed)
    table = timings.table()

    def rows(part: str) -> list[dict[str, Any]]:
        own = table[table["part"] == part]
        return [{"phase": r.phase, "wraps": r.covers, "seconds": float(r.seconds),
                 "calls": None if r.phase in OTHER else int(r.calls)}
                for r in own.itertuples(index=False)]

    return {
        "size": size,
        "steps": steps,
        "build_total_s": timings.total("build"),
        "build": rows("build"),
        "steps_total_s": timings.total("step"),
        "step_phases": rows("step"),
    }


# --- optional: an idiomatic per-agent Mesa loop ---------------------------------------------------

MESA_MENTION = 0.3  # chance an adopter mentions the product in a step
MESA_PERSUASION = 0.05  # chance one exposure persuades
MESA_SEEDS = 0.01  # share of users who start as adopters


class CascadeUser(mesa.discrete_space.CellAgent):
    """One user of the toy cascade, written the idiomatic Mesa way."""

    def __init__(self, model: mesa.Model, cell: Any, rate: float, view: float, adopted: bool):
        super().__init__(model)
        self.cell = cell
        self.rate = rate
        self.view = view
        self.adopted = adopted
        self.posts = 0
        self.exposures = 0

    def step(self) -> None:
        self.posts = self.model.rng.poisson(self.rate)
        if self.adopted:
            if self.random.random() < MESA_MENTION:
                for other in self.cell.neighborhood.agents:
                    if self.random.random() < self.view:
                        other.exposures += 1
        elif self.exposures:
            if self.random.random() < 1.0 - (1.0 - MESA_PERSUASION) ** self.exposures:
                self.adopted = True
            self.exposures = 0


class CascadeModel(mesa.Model):
    def __init__(self, g: nx.Graph, rate: np.ndarray, view: np.ndarray, seeds: np.ndarray, seed: int):
        super().__init__(rng=seed)
        self.grid = mesa.discrete_space.Network(g, random=self.random, layout=None)
        for i in g.nodes:
            CascadeUser(self, self.grid[i], float(rate[i]), float(view[i]), bool(seeds[i]))

    def step(self) -> None:
        self.agents.shuffle_do("step")


def vector_cascade(followers: sp.csr_array, rate: np.ndarray, view: np.ndarray, seeds: np.ndarray,
                   steps: int, seed: int) -> float:
    """The same toy cascade as arrays (synchronous update); returns seconds."""
    rng = np.random.default_rng(seed)
    adopted = seeds.copy()
    t0 = time.perf_counter()
    for _ in range(steps):
        rng.poisson(rate)
        authors = np.flatnonzero(adopted & (rng.random(adopted.size) < MESA_MENTION))
        exposures = simulator.model.dynamics.sample_exposures(followers, authors, view, rng)
        p = 1.0 - (1.0 - MESA_PERSUASION) ** exposures
        adopted |= (~adopted) & (exposures > 0) & (rng.random(adopted.size) < p)
    return time.perf_counter() - t0


def mesa_baseline(size: int, steps: int, seed: int) -> dict[str, Any]:
    log(f"mesa baseline: {size:,} users x {steps} steps ...")
    g = nx.powerlaw_cluster_graph(size, 4, 0.3, seed=seed)
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 0.5, size)
    graph = from_edges(*np.array(list(g.edges()), dtype=np.int64).T, size, directed=False,
                       description="mesa baseline")
    view = simulator.model.dynamics.view_probability(graph.followers_count, 1.0, 0.25)
    seeds = rng.random(size) < MESA_SEEDS
    t0 = time.perf_counter()
    model = CascadeModel(g, rate, view, seeds, seed)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        model.step()
    t_mesa = time.perf_counter() - t0
    adopted_mesa = sum(a.adopted for a in model.agents)
    t_vec = min(vector_cascade(graph.followers, rate, view, seeds, steps, seed) for _ in range(3))
    agent_steps = size * steps
    return {
        "size": size,
        "steps": steps,
        "mesa_build_s": t_build,
        "mesa_steps_s": t_mesa,
        "mesa_us_per_agent_step": t_mesa / agent_steps * 1e6,
        "vector_steps_s": t_vec,
        "vector_us_per_agent_step": t_vec / agent_steps * 1e6,
        "mesa_over_vector": t_mesa / t_vec,
        "adopters_mesa": int(adopted_mesa),
        "seed_adopters": int(seeds.sum()),
    }


# --- reporting --------------------------------------------------------------------------------------


def fmt_table(headers: list[str], rows: list[list[str]], align: str) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(cells, widths, align, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    args = results["args"]
    parts = [
        "perksim speed benchmark",
        f"  command : {results['command']}",
        f"  when    : {results['started']}",
        f"  machine : {m['cpu']} ({m['cpus_usable']} usable CPUs), {m['platform']}",
        f"  software: Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, "
        f"networkx {m['networkx']}, mesa {m['mesa']}, simulator {m['simulator']} "
        f"(commit {m['commit']})",
        f"  scenario: powerlaw_cluster m=4 p=0.3, 1 brand (sports, los_angeles), perks = 1% of users "
        f"at step {min(14, args['steps'] - 1)}, score_threshold 63, default behaviour, seed {args['seed']}",
        f"  timings : best of {args['repeat']} (all samples in --json); baseline best of {BASELINE_REPEAT}",
        "",
        "Timings per size (seconds unless stated)",
    ]
    rows = []
    for r in results["sizes"]:
        b = r["best"]
        rows.append([
            f"{r['size']:,}", f"{r['edges']:,}", str(r["steps"]),
            f"{b['graph']:.2f}", f"{b['build']:.2f}", f"{b['steps']:.2f}", f"{b['end_to_end']:.2f}",
            f"{r['user_steps_per_s'] / 1e6:.2f}M", f"{r['ns_per_user_step']:.0f}",
            f"{r['baseline_s']:.3f}", f"{r['steps_over_baseline']:.1f}x", f"{r['peak_rss_mb']:.0f}",
        ])
    parts.append(fmt_table(
        ["users", "edges", "steps", "(a) graph", "(b) build", "(c) steps", "end-to-end",
         "user-steps/s", "ns/user-step", "baseline", "steps/baseline", "peak RSS MB"],
        rows, "rrrrrrrrrrrr"))
    parts += [
        "",
        "  (a) graphs.generate alone; (b) PerkCampaignModel(...) = graph + population + score warm-up;",
        "  (c) model.run() over all steps; end-to-end = validate scenario + (b) + (c), graph included;",
        "  baseline = per step one Poisson draw of n values + one sparse mat-vec over the follows graph;",
        "  steps/baseline = (c) / baseline, the machine-independent figure;",
        "  peak RSS is this process's peak so far (sizes run in the order given).",
        "",
        "Targets",
    ]
    rows = []
    for t in results["targets"]:
        rows.append([t["target"], t["measured"], t["verdict"]])
    parts.append(fmt_table(["target", "measured", "verdict"], rows, "lll"))

    p = results.get("profile")
    if p:
        n_us = p["size"] * p["steps"]
        parts += ["", f"Per-phase profile of the steps ({p['size']:,} users x {p['steps']} steps, "
                      f"one instrumented run, total {p['steps_total_s']:.2f} s)"]
        rows = []
        ranked = sorted((r for r in p["step_phases"] if r["phase"] not in OTHER),
                        key=lambda r: -r["seconds"])
        rank = {r["phase"]: i + 1 for i, r in enumerate(ranked)}
        for r in p["step_phases"]:
            rows.append([
                r["phase"], f"{r['seconds']:.3f}", f"{100 * r['seconds'] / p['steps_total_s']:.1f}%",
                f"{r['seconds'] / p['steps'] * 1e3:.2f}", f"{r['seconds'] / n_us * 1e9:.1f}",
                "" if r["calls"] is None else str(r["calls"]), str(rank.get(r["phase"], "")), r["wraps"],
            ])
        rows.append(["total", f"{p['steps_total_s']:.3f}", "100.0%",
                     f"{p['steps_total_s'] / p['steps'] * 1e3:.2f}",
                     f"{p['steps_total_s'] / n_us * 1e9:.1f}", "", "", "model.run()"])
        parts.append(fmt_table(["phase", "seconds", "share", "ms/step", "ns/user-step", "calls",
                                "rank", "wraps"], rows, "lrrrrrrl"))
        parts += ["", f"Model construction ({p['size']:,} users, total {p['build_total_s']:.2f} s)"]
        rows = [[r["phase"], f"{r['seconds']:.3f}", f"{100 * r['seconds'] / p['build_total_s']:.1f}%",
                 r["wraps"]] for r in p["build"]]
        parts.append(fmt_table(["part", "seconds", "share", "wraps"], rows, "lrrl"))

    mb = results.get("mesa_baseline")
    if mb:
        parts += ["", f"Per-agent Mesa loop vs the same toy cascade vectorised "
                      f"({mb['size']:,} users x {mb['steps']} steps)"]
        rows = [
            ["mesa.Agent per user, shuffle_do('step'), Network space", f"{mb['mesa_steps_s']:.3f}",
             f"{mb['mesa_us_per_agent_step']:.3f}"],
            ["numpy arrays + CSR (dynamics.sample_exposures)", f"{mb['vector_steps_s']:.3f}",
             f"{mb['vector_us_per_agent_step']:.3f}"],
        ]
        parts.append(fmt_table(["implementation", "seconds", "µs/agent-step"], rows, "lrr"))
        parts.append(f"  per-agent loop / vectorised = {mb['mesa_over_vector']:.0f}x "
                     f"(Mesa model construction, not counted: {mb['mesa_build_s']:.2f} s)")
        if results["sizes"]:
            parts.append("  for scale, the full model (all nine phases) costs "
                         + ", ".join(f"{r['ns_per_user_step'] / 1e3:.3f} µs/user-step at {r['size']:,}"
                                     for r in results["sizes"]))
    return "\n".join(parts)


def evaluate_targets(sizes: list[dict[str, Any]]) -> list[dict[str, str]]:
    at = {r["size"]: r for r in sizes}
    r = at.get(TARGET_SIZE)
    out = []
    name = f">= {TARGET_THROUGHPUT:,} user-steps/s stepping at {TARGET_SIZE:,} users"
    if r is None:
        out.append({"target": name, "measured": f"not measured (add {TARGET_SIZE} to --sizes)",
                    "verdict": "n/a"})
    else:
        ok = r["user_steps_per_s"] >= TARGET_THROUGHPUT
        out.append({"target": name, "measured": f"{r['user_steps_per_s']:,.0f} user-steps/s "
                    f"({r['user_steps_per_s'] / TARGET_THROUGHPUT:.1f}x the target)",
                    "verdict": "PASS" if ok else "FAIL"})
    name = f"{TARGET_SIZE:,} users x {TARGET_STEPS} steps end to end < {TARGET_END_TO_END:.0f} s"
    if r is None or r["steps"] != TARGET_STEPS:
        out.append({"target": name, "measured": f"not measured (needs --sizes {TARGET_SIZE} "
                    f"--steps {TARGET_STEPS})", "verdict": "n/a"})
    else:
        e2e = r["best"]["end_to_end"]
        out.append({"target": name, "measured": f"{e2e:.2f} s ({e2e / TARGET_END_TO_END:.0%} of the budget)",
                    "verdict": "PASS" if e2e < TARGET_END_TO_END else "FAIL"})
    return out


# --- main -----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], metavar="N",
                    help="population sizes (default: 10000 100000)")
    ap.add_argument("--steps", type=int, default=100, help="steps per run (default: 100)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per size; the best is reported (default: 1)")
    ap.add_argument("--seed", type=int, default=2012, help="scenario seed (default: 2012)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write all results as JSON")
    ap.add_argument("--no-profile", action="store_true",
                    help="skip the instrumented per-phase run of the largest size")
    ap.add_argument("--mesa-baseline", action="store_true",
                    help="also time an idiomatic per-agent Mesa loop of a toy cascade")
    ap.add_argument("--mesa-size", type=int, default=5_000, help="users of the Mesa baseline (5000)")
    ap.add_argument("--mesa-steps", type=int, default=20, help="steps of the Mesa baseline (20)")
    args = ap.parse_args(argv)
    if any(n < 100 for n in args.sizes):
        ap.error("--sizes: each size must be at least 100")
    if args.steps < 1 or args.repeat < 1 or args.mesa_size < 10 or args.mesa_steps < 1:
        ap.error("--steps, --repeat and --mesa-steps must be >= 1, --mesa-size >= 10")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]) if argv is None else " ".join(argv),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": machine_info(),
        "sizes": [],
    }
    for size in args.sizes:
        results["sizes"].append(bench_size(size, args.steps, args.repeat, args.seed))
    results["targets"] = evaluate_targets(results["sizes"])
    if not args.no_profile:
        largest = max(args.sizes)
        log(f"profile: instrumented run of {largest:,} users ...")
        gc.collect()
        results["profile"] = profile(largest, args.steps, args.seed)
    if args.mesa_baseline:
        gc.collect()
        results["mesa_baseline"] = mesa_baseline(args.mesa_size, args.mesa_steps, args.seed)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
