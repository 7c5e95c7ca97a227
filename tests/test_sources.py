"""Every behavioural parameter states where its default comes from (simulator/scenario/sources.py)."""

from __future__ import annotations

import pytest

from simulator.model.strategies import registry
from simulator.scenario import schema as sc
from simulator.scenario.sources import KINDS, SOURCES, default


def behavioural_paths() -> list[str]:
    """Every numeric or behavioural field of the scenario format that describes people."""
    paths = []
    for name in sc.Behaviour.model_fields:
        if name == "policy_paid":
            paths += [f"behaviour.policy_paid.{k}" for k in sc.PolicyPaid.model_fields]
        else:
            paths.append(f"behaviour.{name}")
    paths += [f"population.{k}" for k in ("homophily", "homophily_passes", "trait_concentration",
                                          "pout_sensitivity")]
    paths += [f"population.archetypes.*.{k}" for k in sc.Archetype.model_fields]
    paths += [f"score.weights.{k}" for k in sc.ScoreWeights.model_fields]
    paths += [f"score.calibration.{k}" for k in sc.ScoreCalibration.model_fields]
    paths += ["score.window", "score.warmup"]
    for kind, cls in registry().items():
        paths += [f"strategy.{kind}.{k}" for k, f in cls.Params.model_fields.items()
                  if k != "kind" and f.annotation in (float, int)]
    return paths


def test_every_behavioural_parameter_has_a_source():
    missing = [p for p in behavioural_paths() if p not in SOURCES]
    assert not missing, missing


@pytest.mark.parametrize("path", sorted(SOURCES))
def test_each_source_is_of_a_known_kind_and_says_where_it_comes_from(path):
    src = SOURCES[path]
    assert src.kind in KINDS
    assert len(src.anchor) > 15
    if src.kind == "assumed" and "archetypes" not in path:
        assert src.plausible is not None, f"{path}: an assumption needs a plausible range"


@pytest.mark.parametrize("path", [p for p, s in SOURCES.items() if s.plausible])
def test_the_plausible_range_contains_the_default(path):
    low, high = SOURCES[path].plausible
    assert low < high
    assert low <= float(default(path)) <= high


def test_no_source_names_a_parameter_that_does_not_exist():
    known = set(behavioural_paths())
    assert set(SOURCES) <= known, sorted(set(SOURCES) - known)
