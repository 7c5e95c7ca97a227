"""``perksim robust`` recovers structure planted in the model's output, end to end: a plug-in
metric (simulator.model.metrics.add_metric) whose difference between two variants is a known
function of three uncertain scenario fields, run through the command (design, runs, verdicts,
indices, flip boxes, the folder's tables).

- ``ishigami``: the Ishigami function (a = 7, b = 0.1) of the three fields mapped onto
  [−π, π]; its Sobol' indices are known analytically (S1 = 0.314, 0.442, 0; ST = 0.558, 0.442,
  0.244), so the study's indices must hold them within their intervals.
- ``planted``: the second field's position in its range minus 0.3: the variant wins exactly
  where that field is above 30% of its range, whatever the others are; it must rank first and
  the flip box must put its boundary there.

The metric reads the variant from the campaign's perks (10 in the reference, 11 in the
variant) and is 0 for the reference, so the paired difference is the planted function itself,
with no noise. The runs are tiny (40 users, 3 steps: ~7 ms each) and serial: worker processes
would not see a metric registered here.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.model import metrics
from simulator.model.metrics import Metric

SCENARIO = """\
name: planted
seed: 3
steps: 3
population: {size: 40}
campaigns:
  - {brand: courtside, topic: sports, region: los_angeles, perks: 10, start: 1,
     strategy: {kind: lottery}}
variants:
  reference: {}
  variant: {campaigns.0.perks: 11}
uncertainties:
  behaviour.pout_threshold: {uniform: [0.2, 0.5]}
  behaviour.recognition: {uniform: [0.1, 0.6]}
  behaviour.publicity: {uniform: [0.0, 0.05]}
"""
FIELDS = (("pout_threshold", 0.2, 0.5), ("recognition", 0.1, 0.6), ("publicity", 0.0, 0.05))
NAMES = [f"behaviour.{name}" for name, _, _ in FIELDS]
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)
BOUNDARY = 0.3  # of the second field's range: 0.1 + 0.3 · 0.5 = 0.25


def _positions(model) -> list[float]:
    behaviour = model.spec.behaviour
    return [(getattr(behaviour, name) - low) / (high - low) for name, low, high in FIELDS]


def _is_variant(model) -> bool:
    return model.spec.campaigns[0].perks == 11


def _ishigami(model, brand) -> float:
    if not _is_variant(model):
        return 0.0
    x = [-math.pi + 2 * math.pi * u for u in _positions(model)]
    return math.sin(x[0]) + 7 * math.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * math.sin(x[0])


def _planted(model, brand) -> float:
    return _positions(model)[1] - BOUNDARY if _is_variant(model) else 0.0


PLUGINS = [Metric("ishigami", "Ishigami", "score", +1, "the Ishigami function", kind="score",
                  headline=True, compute=_ishigami),
           Metric("planted", "Planted", "score", +1, "a planted winner", kind="score",
                  headline=True, compute=_planted)]


@pytest.fixture(scope="module")
def plugged():
    for metric in PLUGINS:
        metrics.add_metric(metric)
    try:
        yield
    finally:
        for metric in PLUGINS:
            metrics.remove_metric(metric.name)


def study(tmp: Path, *args: str) -> Path:
    tmp.mkdir(exist_ok=True)
    path = tmp / "planted.yaml"
    path.write_text(SCENARIO)
    result = CliRunner().invoke(cli, ["robust", str(path), "--executor", "serial",
                                      "--out", str(tmp / "out"), *args])
    assert result.exit_code == 0, result.output
    [folder] = list((tmp / "out" / "planted").iterdir())
    return folder


@pytest.mark.slow
def test_sobol_indices_of_the_planted_ishigami_function(plugged, tmp_path):
    # n = 64 base samples: 320 samples × 2 variants, one replicate (the difference has no
    # noise). SALib's 95% intervals at this size are ±0.1–0.3 wide: the analytic values must
    # lie within them and the total indices rank as the truth does. The estimators' precision
    # at n = 1024 (within 0.05) is tested on the function itself in tests/test_robust_kernel.py
    folder = study(tmp_path, "--method", "sobol", "--samples", "64", "--replicates", "1")
    indices = pd.read_csv(folder / "robust_indices.csv")
    own = indices[indices["metric"] == "ishigami"].set_index(["parameter", "index"])
    for j, name in enumerate(NAMES):
        for index, truth in (("S1", ISHIGAMI_S1[j]), ("ST", ISHIGAMI_ST[j])):
            row = own.loc[(name, index)]
            assert row["conf_low"] <= truth <= row["conf_high"], (name, index, row.to_dict())
            assert row["conf_high"] - row["conf_low"] < 0.7  # an interval that says something
    ranks = own.xs("ST", level="index")["rank"].to_dict()
    assert ranks == {NAMES[0]: 1, NAMES[1]: 2, NAMES[2]: 3}


@pytest.mark.slow
def test_the_planted_parameter_ranks_first_and_bounds_the_flip(plugged, tmp_path):
    # a Latin hypercube of 64 points, 2 replicates: the boxes; Morris ranks in another study
    folder = study(tmp_path, "--method", "lhs", "--samples", "64", "--replicates", "2")
    boxes = pd.read_csv(folder / "robust_flips.csv")
    bounds = pd.read_csv(folder / "robust_flip_bounds.csv")
    mine = boxes[boxes["metric"] == "planted"]
    assert set(mine["verdict"]) == {"better", "worse"}
    assert (mine["agreeing"] == mine["samples"]).all()  # no noise: every box is pure
    cut = bounds[(bounds["metric"] == "planted")]
    assert set(cut["parameter"]) == {NAMES[1]}  # the planted field alone decides
    boundary = 0.1 + BOUNDARY * 0.5
    edge = pd.concat([cut["lower"], cut["upper"]])
    edge = edge[np.isfinite(edge)]
    # the tree cuts halfway between the samples either side: within one LHS stratum (1/64 of
    # the range) of the planted boundary
    assert (abs(edge - boundary) <= 0.5 / 64).all(), edge.tolist()
    condition = mine.loc[mine["verdict"] == "better", "condition"].item()
    assert condition.startswith(f"{NAMES[1]} > 0.25"), condition
    shares = pd.read_csv(folder / "robust_shares.csv").set_index(["metric", "verdict"])["share"]
    assert abs(shares[("planted", "better")] - (1 - BOUNDARY)) <= 1 / 64 + 1e-9
    ranked = study(tmp_path / "m", "--samples", "8", "--replicates", "2")
    indices = pd.read_csv(ranked / "robust_indices.csv")
    first = indices[(indices["metric"] == "planted") & (indices["index"] == "mu_star")
                    & (indices["rank"] == 1)]
    assert first["parameter"].tolist() == [NAMES[1]]
    others = indices[(indices["metric"] == "planted") & (indices["index"] == "mu_star")
                     & (indices["parameter"] != NAMES[1])]
    assert (others["value"] == 0).all()  # the other fields have no effect at all
