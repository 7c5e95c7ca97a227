"""Parallel efficiency of a sweep on a local Dask cluster (issue 12: sweeps that scale out).

Runs ``perksim sweep`` of the bundled ``threshold_sweep`` at ``--size`` users (default 100,000;
4 thresholds × 2 variants × ``--replicates`` 25 = 200 runs) on a Dask LocalCluster of
``--workers`` processes, end to end (scenario checks, runs, tables written as a partitioned
Parquet dataset, figures), and measures the serial time of the same runs in this process:
``--serial-runs`` of them (default 10, spread evenly over the plan: every threshold and
variant), whose mean time × the number of runs is the serial time. Then

    parallel efficiency = serial time / (workers × wall time of the Dask sweep)

1.0 would be perfect; what is lost is the cluster's start, the transfer of each run's
tables to the client, writing the results and the figures, and the two workers sharing the
machine's memory bandwidth. The serial runs are measured first, one at a time, on an
otherwise idle machine, so the two figures are measured the same way.

Usage::

    python benchmarks/sweep_scaling.py [--size 100000] [--replicates 25] [--workers 2]
                                       [--serial-runs 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "threshold_sweep"


def overrides(size: int) -> list[str]:
    """The sweep at ``size`` users, with perks in the scenario's proportion (50 per 3,000)."""
    return [f"population.size={size}", f"campaigns[0].perks={max(1, round(size * 50 / 3000))}"]


def serial_time(size: int, replicates: int, runs: int) -> tuple[float, int, list[float]]:
    """Mean time of ``runs`` runs of the sweep's plan, run one by one in this process; the
    plan's number of runs; every sample."""
    from simulator import load_scenario
    from simulator.experiment.plan import plan, run_task, task_scenarios

    sc = load_scenario(ROOT / "scenarios" / f"{SCENARIO}.yaml", overrides=overrides(size))
    tasks = plan(sc, replicates=replicates, sweep=True)
    step = max(1, len(tasks) // runs)
    picked = tasks[::step][:runs]
    scenarios = task_scenarios(sc, picked)
    samples = []
    for i, task in enumerate(picked, 1):
        start = time.perf_counter()
        out = run_task(scenarios[(task.variant, task.point)], task, keep_users=False)
        samples.append(time.perf_counter() - start)
        if "error" in out:
            raise RuntimeError(out["error"])
        print(f"  serial run {i}/{len(picked)} ({task.key}): {samples[-1]:.2f} s", file=sys.stderr)
    return sum(samples) / len(samples), len(tasks), samples


def dask_sweep(size: int, replicates: int, workers: int) -> tuple[float, Path, str]:
    """Wall time of ``perksim sweep`` on a local Dask cluster, its folder and its output."""
    out = Path(tempfile.mkdtemp(prefix="perksim-sweep-scaling-"))
    cmd = [sys.executable, "-m", "simulator", "sweep", SCENARIO, "--executor", "dask",
           "--workers", str(workers), "--replicates", str(replicates), "--users-table", "none",
           "--table-format", "parquet", "--out", str(out)]
    for o in overrides(size):
        cmd += ["--set", o]
    print("  " + " ".join(cmd[1:]), file=sys.stderr)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"perksim sweep exited {done.returncode}:\n{done.stderr[-3000:]}")
    return wall, out, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--replicates", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--serial-runs", type=int, default=10)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the sweep's results folder")
    args = parser.parse_args(argv)

    print(f"serial: {args.serial_runs} runs of {SCENARIO} at {args.size:,} users", file=sys.stderr)
    mean, runs, samples = serial_time(args.size, args.replicates, args.serial_runs)
    print(f"dask: {runs} runs on {args.workers} workers", file=sys.stderr)
    wall, folder, _ = dask_sweep(args.size, args.replicates, args.workers)
    parquet = sorted(p.relative_to(folder) for p in folder.rglob("*.parquet") if p.is_file())
    serial = mean * runs
    efficiency = serial / (args.workers * wall)
    rows = [
        ("runs", f"{runs}"),
        ("users per run", f"{args.size:,}"),
        ("serial: mean time per run", f"{mean:.2f} s (of {len(samples)} runs, "
                                      f"{min(samples):.2f}–{max(samples):.2f} s)"),
        ("serial time (mean × runs)", f"{serial:.0f} s"),
        (f"dask LocalCluster, {args.workers} workers: wall time", f"{wall:.0f} s"),
        ("speed-up (serial / wall)", f"{serial / wall:.2f}x"),
        ("parallel efficiency (serial / (workers × wall))", f"{efficiency:.0%}"),
        ("steps table", f"partitioned Parquet, {len(parquet)} files "
                        f"(e.g. {parquet[0] if parquet else '-'})"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "size": args.size, "workers": args.workers,
                                         "serial_samples": samples, "serial": serial,
                                         "wall": wall, "efficiency": efficiency}, indent=1))
    if args.keep:
        print(f"results: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)  # the temporary folder made for the sweep
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
