"""Where a run's time goes: the model's construction (graph, population, score warm-up) and
each phase of its step (docs/model.md §3), timed with ``time.perf_counter`` around the very
functions a run calls — the run is the same run, with the same results (``perksim run
--profile``).

The timers wrap the model's phase methods on the instance and, while the model is built,
the graph and population builders; everything is restored afterwards. A wrapped call costs
about a microsecond, small beside a phase of a run of any size worth profiling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.model import campaign, metrics
from simulator.model.campaign import PerkCampaignModel

# (phase, what it covers) in the order of the step; construction first
BUILD_PHASES = {
    "graph": "generating the follow graph",
    "population": "drawing users' traits, interests and fans",
    "warm-up": "the score's warm-up and its map to 1–100",
    "other set-up": "view probabilities, follower overlap, arrays",
}
STEP_PHASES = {
    "posting and engagement": "§3 phases 1–2: posts, reactions, the score's counters",
    "score map": "phase 3: raw score mapped to 1–100",
    "allocation": "phase 4: each brand's strategy picks its recipients",
    "mentions": "phase 5: paid, organic and negative mentions",
    "exposure and adoption": "phase 6: who sees them, recognition, adoption",
    "pout": "phase 7: the frustration of the excluded",
    "gaming": "phase 8: score chasers adapt",
    "collection": "phase 9: the step's metrics",
    "other step": "the rest of the step (bookkeeping between phases)",
}


@dataclass
class Profile:
    """Seconds per phase of one run, and the run's size."""

    users: int
    steps: int
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, phase: str, seconds: float) -> None:
        """Count ``seconds`` more for ``phase``."""
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    def table(self) -> pd.DataFrame:
        """One row per phase: ``part`` (build or step), ``phase``, ``seconds``, ``share`` of the
        whole run, ``us_per_user_step`` (step phases: microseconds per user and step) and
        ``covers`` (what the phase does)."""
        total = sum(self.seconds.values()) or 1.0
        rows = []
        for part, phases in (("build", BUILD_PHASES), ("step", STEP_PHASES)):
            for phase, covers in phases.items():
                s = self.seconds.get(phase, 0.0)
                per = (1e6 * s / (self.users * self.steps)
                       if part == "step" and self.users and self.steps else np.nan)
                rows.append({"part": part, "phase": phase, "seconds": s, "share": s / total,
                             "us_per_user_step": per, "covers": covers})
        return pd.DataFrame(rows)


def _timed(profile: Profile, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            profile.add(phase, time.perf_counter() - began)
    return timed


@contextmanager
def _patched(owner: Any, name: str, replacement: Any) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


def profile_run(scenario: Any, rng: int | np.random.SeedSequence | None = None,
                progress: Callable[[int, int], Any] | None = None
                ) -> tuple[PerkCampaignModel, Profile]:
    """Build and run ``scenario`` (as :class:`PerkCampaignModel` would with ``rng``) with every
    phase timed; returns the finished model — the same as an untimed run — and its profile."""
    profile = Profile(users=scenario.population.size, steps=scenario.steps)
    began = time.perf_counter()
    with (_patched(campaign, "generate", _timed(profile, "graph", campaign.generate)),
          _patched(campaign, "build_population",
                   _timed(profile, "population", campaign.build_population)),
          _patched(PerkCampaignModel, "_warm_up",
                   _timed(profile, "warm-up", PerkCampaignModel._warm_up))):
        model = PerkCampaignModel(scenario, rng=rng)
    built = time.perf_counter() - began
    profile.add("other set-up", built - sum(profile.seconds.values()))
    profile.users = model.n
    step_phases = {"_post_and_engage": "posting and engagement", "_current_score": "score map",
                   "_mentions": "mentions", "_expose_and_persuade": "exposure and adoption",
                   "_pout": "pout", "_adapt": "gaming"}
    for name, phase in step_phases.items():
        setattr(model, name, _timed(profile, phase, getattr(model, name)))
    for brand in model.brands:
        brand.allocate = _timed(profile, "allocation", brand.allocate)  # type: ignore[method-assign]
    before = sum(profile.seconds.values())
    began = time.perf_counter()
    with _patched(metrics, "brand_metrics", _timed(profile, "collection", metrics.brand_metrics)):
        model.run(progress=progress)
    stepped = time.perf_counter() - began
    inside = sum(profile.seconds.values()) - before
    profile.add("other step", max(0.0, stepped - inside))
    for name in step_phases:
        del model.__dict__[name]  # the class's methods again
    for brand in model.brands:
        del brand.__dict__["allocate"]
    return model, profile
