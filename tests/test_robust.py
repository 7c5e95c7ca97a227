"""A robustness study end to end (simulator.robust): the scenario's uncertainties sampled,
every variant run at every sample with paired replicates, the findings analysed. Tiny
scenarios (150 users, 12 steps) keep each study to seconds; the analysis itself is tested
against planted structure in tests/test_robust_kernel.py."""

from __future__ import annotations

import pandas as pd
import pytest

from simulator import robust, scenario_from_text
from simulator.api import ExperimentError
from simulator.experiment.robust.study import design_of, design_points, problem_of

TINY = """\
name: tiny_robust
seed: 5
steps: 12
population: {size: 150}
campaigns:
  - {brand: courtside, topic: sports, region: los_angeles, perks: 10, start: 2,
     strategy: {kind: score_threshold, threshold: 50}}
variants:
  threshold: {}
  lottery: {campaigns.0.strategy: {kind: lottery}}
uncertainties:
  behaviour.pout_threshold: {uniform: [0.2, 0.5]}
  behaviour.brand_talk: {log_uniform: [0.002, 0.05]}
  score.window: {uniform: [7, 30]}
"""


@pytest.fixture(scope="module")
def scenario():
    return scenario_from_text(TINY)


def test_the_design_samples_the_uncertainties_in_their_own_units(scenario):
    problem = problem_of(scenario)
    assert problem.names == ["behaviour.pout_threshold", "behaviour.brand_talk", "score.window"]
    design = design_of(scenario, "morris", 2)
    points = design_points(design)
    assert len(points) == 2 * (3 + 1)  # trajectories × (parameters + 1)
    for p in points:
        assert 0.2 <= p["behaviour.pout_threshold"] <= 0.5
        assert 0.002 <= p["behaviour.brand_talk"] <= 0.05
        assert isinstance(p["score.window"], int) and 7 <= p["score.window"] <= 30
    # the design is seeded from the scenario's seed: the same points every time
    assert design_points(design_of(scenario, "morris", 2)) == points


def test_a_study_runs_every_variant_at_every_sample_and_analyses_them(scenario):
    result = robust(scenario, method="morris", samples=2, replicates=2)
    assert result.kind == "robust"
    samples = result.summary["point"].nunique()
    assert samples == 8 and len(result.summary) == samples * 2 * 2  # × variants × replicates
    found = result.robust
    assert set(found.verdicts["variant"]) == {"lottery"}
    assert set(found.verdicts["reference"]) == {"threshold"}
    shares = found.shares.groupby(["variant", "metric"])["share"].sum()
    assert ((shares - 1).abs() < 1e-9).all(), "each metric's verdict shares sum to one"
    assert set(found.indices["parameter"]) == set(problem_of(scenario).names)
    assert not found.flips.boxes.empty


def test_a_study_gives_identical_tables_on_a_process_pool(scenario):
    serial = robust(scenario, method="lhs", samples=4, replicates=2)
    pooled = robust(scenario, method="lhs", samples=4, replicates=2, executor="local", workers=2)
    pd.testing.assert_frame_equal(serial.summary, pooled.summary, check_exact=True)
    pd.testing.assert_frame_equal(serial.robust.verdicts, pooled.robust.verdicts, check_exact=True)


def test_a_study_needs_uncertainties_and_two_variants(scenario):
    bare = scenario.model_copy(update={"uncertainties": {}})
    with pytest.raises(ValueError, match="no uncertainties"):
        robust(bare)
    with pytest.raises(ExperimentError, match="at least two"):
        robust(scenario, variants=["lottery"], samples=2)
