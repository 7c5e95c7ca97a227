"""Running scenarios: seeds, single runs (replicates, variants and sweeps build on these).

Seeds: replicate ``r`` of a scenario with master seed ``S`` runs with
``numpy.random.SeedSequence(S, spawn_key=(r,))`` — the ``r``-th child of ``SeedSequence(S)``.
Variants of a comparison reuse the same replicate seeds (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .model import PerkCampaignModel
from .scenario import Scenario

STREAMS = ("graph", "population", "dynamics")  # the model's spawned streams, in order


def replicate_seed(seed: int, replicate: int) -> np.random.SeedSequence:
    """The seed sequence of replicate ``replicate`` (0-based) under master seed ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(replicate,))


def describe_seed(seq: np.random.SeedSequence) -> dict[str, Any]:
    """How to rebuild a run's streams: entropy, spawn key, and each stream's spawn key."""
    return {
        "entropy": int(seq.entropy),
        "spawn_key": list(seq.spawn_key),
        "streams": {name: [*seq.spawn_key, i] for i, name in enumerate(STREAMS)},
    }


@dataclass
class RunResult:
    """One finished run: the model and its tidy tables."""

    model: PerkCampaignModel
    seed: dict[str, Any]

    @property
    def steps(self) -> pd.DataFrame:
        return self.model.steps_frame()

    @property
    def summary(self) -> pd.DataFrame:
        return self.model.summary()

    @property
    def users(self) -> pd.DataFrame:
        return self.model.users_frame()


def run_once(scenario: Scenario, replicate: int = 0,
             progress: Callable[[int, int], Any] | None = None) -> RunResult:
    """Build and run one replicate of ``scenario`` to its last step."""
    seq = replicate_seed(scenario.seed, replicate)
    model = PerkCampaignModel(scenario, rng=seq)
    model.run(progress=progress)
    return RunResult(model=model, seed=describe_seed(seq))
