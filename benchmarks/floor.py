"""The floor of a step: what the model's own definition costs per user-step, before any phase.

Every step, for every user, the model (docs/model.md §3, §5.1) draws a Poisson number of posts,
draws a Poisson number of reactions for each user who posted (with one ``expm1`` for the
distinct reactors of each who got any) and takes two ``log1p`` for the score (of activity and of
amplification). Those draws and functions are numpy's sampler and the C library's functions;
results stay the same bit for bit only while they are. This script times them alone, on the
arrays of a real run, and sets them beside:

- the model's phases 1–3 (posting and engagement, the score map) as the package runs them;
- the same phases fused into one compiled loop each (``simulator.model.kernels``, with numba:
  the ``fast`` extra), which take the very same draws and give the same results bit for bit
  (checked here, and in tests/test_kernels.py);
- the whole step, and the 0.08 µs per user-step that issue 12 asks for.

So it shows how much of a step is the model's arithmetic itself and how much is numpy's passes
over arrays, which is what a compiled kernel could save.

Usage::

    python benchmarks/floor.py [--size 1000000] [--steps 20] [--repeat 5] [--seed 2012] [--json F]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from simulator import PerkCampaignModel
from simulator.model import kernels
from simulator.model.score import amplification
from simulator.scenario.loader import validate_document

# benchmarks/run.py's scenario, machine details and log, as a module of its own name
_spec = importlib.util.spec_from_file_location("perksim_benchmark_run", Path(__file__).with_name("run.py"))
assert _spec is not None and _spec.loader is not None
RUN = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(RUN)
log, machine_info, scenario_document = RUN.log, RUN.machine_info, RUN.scenario_document

TARGET_US = 0.08  # µs per user-step at 1,000,000 users (issue 12)


# --- one state of a run, and the phases run from it -------------------------------------------------


def copy_rng(rng: np.random.Generator) -> np.random.Generator:
    """A generator in the same state that draws independently of ``rng`` from now on."""
    twin = np.random.Generator(type(rng.bit_generator)())
    twin.bit_generator.state = rng.bit_generator.state
    return twin


class State:
    """What phases 1–3 read and write, copied from a model so they can be run again from it."""

    def __init__(self, model: PerkCampaignModel):
        tr = model.tracker
        self.rng = copy_rng(model.run_rng)
        self.ema = (tr.posts.copy(), tr.reactions.copy(), tr.distinct.copy())

    def restore(self, model: PerkCampaignModel) -> None:
        tr = model.tracker
        model.run_rng = copy_rng(self.rng)
        tr.posts[:], tr.reactions[:], tr.distinct[:] = self.ema


def phases(model: PerkCampaignModel, with_kernels: Any = None) -> np.ndarray:
    """Phases 1–3 as the model runs them: with numpy, or with ``with_kernels``
    (``kernels.compiled()``, or ``kernels.Kernels`` of the plain Python functions)."""
    kept, model.kernels = model.kernels, with_kernels
    try:
        model._post_and_engage()
        return model._current_score()
    finally:
        model.kernels = kept


def outputs(model: PerkCampaignModel, score: np.ndarray) -> list[np.ndarray]:
    tr = model.tracker
    return [model.posts.copy(), model.posting.copy(), tr.posts.copy(), tr.reactions.copy(),
            tr.distinct.copy(), model.recent_posts[model.t % model.recent_posts.shape[0]].copy(),
            score.copy()]


def best_of(repeat: int, state: State, model: PerkCampaignModel, work: Any) -> float:
    """Best time of ``work()`` over ``repeat`` runs, each from ``state``."""
    best = math.inf
    for _ in range(repeat):
        state.restore(model)
        t0 = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - t0)
    return best


# --- the measurement ---------------------------------------------------------------------------------


def measure(size: int, steps: int, repeat: int, seed: int,
            use_numba: bool = True) -> dict[str, Any]:
    """Build the benchmark scenario's model at ``size`` users, run ``steps`` steps (timed), then
    time the floor's parts and phases 1–3 from the state the run reached."""
    doc = scenario_document(size, steps + 1, seed)
    sc = validate_document(doc, file="<benchmark>")
    log(f"floor: building {size:,} users ...")
    t0 = time.perf_counter()
    model = PerkCampaignModel(sc, rng=seed)
    build = time.perf_counter() - t0
    model.kernels = None  # the package's numpy phases, whatever PERKSIM_KERNELS says
    if sc.score.weights.network != 0 or model.score_map.lookup is None:
        raise SystemExit("floor.py measures the default score: network weight 0, a lookup grid")
    log(f"floor: {steps} steps ...")
    t0 = time.perf_counter()
    model.run(steps=steps)
    full = (time.perf_counter() - t0) / steps
    state = State(model)
    pop, tr = model.population, model.tracker
    rate = pop.post_rate * model.post_factor
    draw = copy_rng(state.rng)  # the next step's draws, as the model will take them
    posts = draw.poisson(rate)
    posting = np.flatnonzero(posts)
    appeal = pop.quality * model.quality_factor * model.reaction_factor
    expected = posts[posting] * model.view[posting] * sc.behaviour.base_engage \
        * appeal[posting] * model.overlap[posting]
    reactions = draw.poisson(expected)
    reacted = reactions[reactions > 0].astype(float)
    amp = amplification(tr.reactions, tr.distinct, tr.posts)

    def draw_posts() -> None:
        model.run_rng.poisson(rate)

    def draw_reactions() -> None:
        model.run_rng.poisson(expected)

    parts = {
        "Poisson posts, every user": best_of(repeat, state, model, draw_posts),
        "Poisson reactions, users who posted": best_of(repeat, state, model, draw_reactions),
        "expm1, users who got reactions": best_of(repeat, state, model, lambda: np.expm1(-reacted)),
        "log1p of activity, every user": best_of(repeat, state, model, lambda: np.log1p(tr.posts)),
        "log1p of amplification, every user": best_of(repeat, state, model, lambda: np.log1p(amp)),
    }
    rows = [{"what": k, "seconds": v, "floor": True} for k, v in parts.items()]
    floor = sum(parts.values())
    rows.append({"what": "the floor: the parts above", "seconds": floor, "floor": None})
    log("floor: phases 1–3 with numpy ...")
    numpy_s = best_of(repeat, state, model, lambda: phases(model))
    rows.append({"what": "phases 1–3 as the package runs them (numpy)", "seconds": numpy_s})
    state.restore(model)
    expected_out = outputs(model, phases(model))
    compiled = kernels.compiled() if use_numba and kernels.available() else None
    identical = None
    if compiled is not None:
        log("floor: phases 1–3 fused and compiled (numba) ...")
        state.restore(model)
        got = outputs(model, phases(model, compiled))  # compiles (or loads), then compares
        identical = all(np.array_equal(a, b) and a.dtype == b.dtype
                        for a, b in zip(expected_out, got, strict=True))
        fused = best_of(repeat, state, model, lambda: phases(model, compiled))
        rows.append({"what": "phases 1–3 fused and compiled (numba)", "seconds": fused})
    rows.append({"what": "the whole step (all nine phases, numpy)", "seconds": full})
    for r in rows:
        r["us_per_user_step"] = r["seconds"] / size * 1e6
        r["of_target"] = r["us_per_user_step"] / TARGET_US
    versions = {"numba": None}
    if compiled is not None:
        import numba

        versions["numba"] = numba.__version__
    return {"size": size, "steps": steps, "repeat": repeat, "seed": seed, "rows": rows,
            "warmup": sc.score.warmup, "run_floor_s": floor * (sc.score.warmup + steps),
            "run_s": build + full * steps, "identical": identical, "target_us": TARGET_US,
            "machine": {**machine_info(), **versions}}


def _ms(seconds: float) -> str:
    """Milliseconds with three significant digits (at least one decimal)."""
    ms = seconds * 1e3
    return f"{ms:,.1f}" if ms >= 100 else f"{ms:.{max(1, 2 - math.floor(math.log10(max(ms, 1e-6))))}f}"


def report(result: dict[str, Any]) -> str:
    lines = [f"The floor of a step at {result['size']:,} users "
             f"(benchmark scenario, state after {result['steps']} steps; best of {result['repeat']})",
             "", f"{'':44}{'ms/step':>10}{'µs/user-step':>14}{'of 0.08 µs':>12}"]
    for r in result["rows"]:
        lines.append(f"{r['what']:44}{_ms(r['seconds']):>10}{r['us_per_user_step']:14.4f}"
                     f"{r['of_target']:11.0%}")
    lines.append(f"\nA run of {result['size']:,} users × {result['steps']} steps also takes "
                 f"{result['warmup']} warm-up steps: the floor alone is "
                 f"{result['run_floor_s'] * 1e3:,.0f} ms of it "
                 f"(this one took {result['run_s'] * 1e3:,.0f} ms, built and run).")
    if result["identical"] is None:
        lines.append("\nthe fused, compiled phases were not measured: --no-numba, or numba is not "
                     "installed (pip install -e '.[fast]')")
    else:
        same = "identical" if result["identical"] else "DIFFERENT"
        lines.append(f"\nfused phases 1–3 and the package's numpy phases: results {same} "
                     "(posts, posters, the three moving averages, the window row, the scores)")
    m = result["machine"]
    lines.append(f"machine: {m['cpu']}, {m['cpus_usable']} CPUs usable; python {m['python']}, "
                 f"numpy {m['numpy']}, numba {m['numba'] or '-'}; commit {m['commit']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="users (default: 1000000)")
    ap.add_argument("--steps", type=int, default=20, help="steps run before measuring (20)")
    ap.add_argument("--repeat", type=int, default=5, help="best of this many timings (5)")
    ap.add_argument("--seed", type=int, default=2012, help="scenario seed (2012)")
    ap.add_argument("--no-numba", action="store_true", help="skip the fused, compiled phases")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)
    if args.size < 100 or args.steps < 1 or args.repeat < 1:
        ap.error("--size must be >= 100, --steps and --repeat >= 1")
    result = measure(args.size, args.steps, args.repeat, args.seed, not args.no_numba)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {args.json}")
    return 0 if result["identical"] is not False else 1


if __name__ == "__main__":
    sys.exit(main())
