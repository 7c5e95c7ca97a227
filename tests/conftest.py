"""Shared fixtures: small scenarios built from YAML text, so every test runs in well under 2 s.

``make_scenario(**overrides)`` deep-merges keyword overrides into a small base scenario
(300 users, 20 steps, one brand) and validates it with :func:`simulator.scenario_from_text`,
exactly as a scenario file would be validated. ``campaign=...`` merges into the first
campaign; ``campaigns=[...]`` replaces the list.

``reduced_scenario(p, graph, seeds, steps)`` is the setting of MODEL.md §5.4/§7 in which the
model must be the textbook independent cascade with edge probability ``p``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from simulator import PerkCampaignModel, Scenario, scenario_from_text

REPO = Path(__file__).resolve().parents[1]
KLOUT_POUT = REPO / "scenarios" / "klout_pout.yaml"

BASE_YAML = """
name: test
seed: 7
steps: 20
score: {warmup: 5}
population:
  size: 300
  graph: {kind: powerlaw_cluster, m: 3, p: 0.3}
campaigns:
  - brand: acme
    topic: sports
    region: national
    perks: 15
    start: 2
    strategy: {kind: score_threshold, threshold: 50}
"""

# MODEL.md §5.4 reduction: posting, pout and gaming off; attention 1; one persuasion
# probability for every exposure; every relevance and susceptibility 1; each adopter
# mentions exactly once, in the step after adopting; every recipient mentions (p_paid = 1).
REDUCED_YAML = """
name: reduced
seed: 1
steps: {steps}
score: {{warmup: 1}}
processes: {{posting: false, pout: false, gaming: false}}
behaviour:
  attention_v0: 1.0
  attention_beta: 0.0
  persuasion_organic: {p}
  persuasion_paid: {p}
  disclosure_discount: 1.0
  organic_mentions: once
  base_paid: 1.0
  policy_paid: {{none: 1, recommended: 1, required: 1}}
  exclusivity_boost: 0
population:
  size: {size}
  graph: {graph}
  topics: [t]
  regions: {{here: 1.0}}
  archetypes:
    only: {{share: 1.0, post_rate: 1.0, quality: 0.5, susceptibility: 1.0}}
campaigns:
  - brand: cascade
    topic: t
    region: national
    perks: {perks}
    start: 0
    strategy: {{kind: fixed, users: {seeds}}}
"""


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``over`` merged in (mappings recursively, anything else replaced).

    A mapping with a different ``kind:`` (a graph, a strategy) replaces the old one whole.
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        old = out.get(key)
        if (isinstance(value, dict) and isinstance(old, dict)
                and value.get("kind", old.get("kind")) == old.get("kind")):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def build_scenario(text: str = BASE_YAML, **overrides: Any) -> Scenario:
    data = yaml.safe_load(text)
    campaign = overrides.pop("campaign", None)
    data = deep_merge(data, overrides)
    if campaign is not None:
        data["campaigns"][0] = deep_merge(data["campaigns"][0], campaign)
    return scenario_from_text(yaml.safe_dump(data, sort_keys=False))


def build_reduced(p: float, graph: dict[str, Any], seeds: list[int], steps: int,
                  size: int = 100) -> Scenario:
    text = REDUCED_YAML.format(
        p=p, steps=steps, size=size, graph=yaml.safe_dump(graph, default_flow_style=True).strip(),
        perks=max(len(seeds), 1), seeds=list(seeds),
    )
    return scenario_from_text(text)


@pytest.fixture(scope="session")
def make_scenario():
    """``make_scenario(**overrides) -> Scenario`` (see the module docstring)."""
    return build_scenario


@pytest.fixture(scope="session")
def reduced_scenario():
    """``reduced_scenario(p, graph, seeds, steps, size=100) -> Scenario`` (MODEL.md §7)."""
    return build_reduced


@pytest.fixture(scope="session")
def run_model():
    """``run_model(scenario, seed=0, steps=None) -> PerkCampaignModel`` after running it."""

    def run(scenario: Scenario, seed: int = 0, steps: int | None = None) -> PerkCampaignModel:
        model = PerkCampaignModel(scenario, rng=seed)
        model.run(steps=steps)
        return model

    return run


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20120101)


# The documentation's examples run as tests (``--doctest-glob="*.md"``). The pages whose
# examples run whole experiments (compare, save, report, robustness studies: 7–15 s each) are
# marked slow: the README's test command runs them, the quick subset ``pytest -m "not slow"``
# leaves them out.
SLOW_PAGES = {"api.md", "first-run.md", "results.md", "robust.md", "cli.md"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the examples of the documentation pages in :data:`SLOW_PAGES` slow."""
    for item in items:
        if item.path.name in SLOW_PAGES and "docs" in item.path.parts:
            item.add_marker(pytest.mark.slow)
