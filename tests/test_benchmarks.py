"""The benchmark script times what the model does (benchmarks/run.py): its "(a) graph" step
builds the very graph the model builds from the same seed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from simulator import PerkCampaignModel
from simulator.model.graphs import generate
from simulator.scenario.loader import validate_document

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def _benchmark_module():
    spec = importlib.util.spec_from_file_location("perksim_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_timed_graph_is_the_graph_the_model_builds() -> None:
    bench = _benchmark_module()
    seed = 7
    scenario = validate_document(bench.scenario_document(600, 5, seed))
    timed = generate(scenario.population.graph, scenario.population.size,
                     bench.model_graph_rng(seed))
    built = PerkCampaignModel(scenario, rng=seed).graph
    assert timed.n == built.n and timed.edges == built.edges
    assert np.array_equal(timed.followers.indptr, built.followers.indptr)
    assert np.array_equal(timed.followers.indices, built.followers.indices)


def test_the_sweep_scaling_benchmark_times_runs_of_the_sweeps_own_plan() -> None:
    """benchmarks/sweep_scaling.py: the serial runs are runs of the sweep's plan, spread
    over its thresholds and variants, with perks in the scenario's proportion."""
    path = BENCHMARK.parent / "sweep_scaling.py"
    spec = importlib.util.spec_from_file_location("perksim_sweep_scaling", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.overrides(100_000) == ["population.size=100000", "campaigns[0].perks=1667"]
    mean, runs, samples = module.serial_time(300, replicates=1, runs=3)
    assert runs == 8  # 4 thresholds × 2 variants × 1 replicate
    assert len(samples) == 3 and mean > 0 and all(s > 0 for s in samples)
