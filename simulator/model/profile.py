"""Where a run's time goes: the model's construction (graph, population, score warm-up) and
each phase of its step (docs/model.md §3), timed with ``time.perf_counter`` around the very
functions a run calls — the run is the same run, with the same results (``perksim run
--profile``).

The timers wrap the model's phase methods on the instance and, while the model is built,
the graph, population and overlap builders; everything is restored afterwards. A wrapped call
costs about a microsecond, small beside a phase of a run of any size worth profiling. The
benchmark script (benchmarks/run.py) profiles with this module too.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.model import campaign, dynamics, metrics
from simulator.model.campaign import PerkCampaignModel

# (phase, what it covers) in the order of the step; construction first
BUILD_PHASES = {
    "graph": "generating the follow graph (graphs.generate)",
    "population": "users' traits, interests and fans (population.build_population)",
    "audience overlap": "followers' interest overlap (dynamics.follower_overlap)",
    "warm-up": "the score's warm-up and its map to 1–100 (PerkCampaignModel._warm_up)",
    "other set-up": "view probabilities, arrays, brands",
}
STEP_PHASES = {
    "posting and engagement": "§3 phases 1–2: posts, reactions, the score's counters",
    "score map": "phase 3: the raw score mapped to 1–100",
    "allocation": "phase 4: each brand's strategy picks its recipients",
    "mentions": "phase 5: paid, organic and negative mentions",
    "exposure and adoption": "phase 6: who sees them, recognition, adoption",
    "pout": "phase 7: the frustration of the excluded",
    "gaming": "phase 8: score chasers adapt",
    "collection": "phase 9: the step's metrics and their table row",
    "other step": "the rest of the step (bookkeeping between phases)",
}
OTHER = ("other set-up", "other step")  # what no wrapped function accounts for


@dataclass
class Profile:
    """Seconds and calls per phase of one run, and the run's size."""

    users: int
    steps: int
    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def add(self, phase: str, seconds: float, calls: int = 1) -> None:
        """Count ``seconds`` (and ``calls``) more for ``phase``."""
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds
        self.calls[phase] = self.calls.get(phase, 0) + calls

    def total(self, part: str) -> float:
        """Seconds of ``build`` or ``step``."""
        return sum(self.seconds.get(p, 0.0) for p in (BUILD_PHASES if part == "build"
                                                      else STEP_PHASES))

    def table(self) -> pd.DataFrame:
        """One row per phase: ``part`` (build or step), ``phase``, ``seconds``, ``calls`` (none
        for the rest), ``share`` of the whole run, ``us_per_user_step`` (step phases:
        microseconds per user and step) and ``covers`` (what the phase does)."""
        total = sum(self.seconds.values()) or 1.0
        rows = []
        for part, phases in (("build", BUILD_PHASES), ("step", STEP_PHASES)):
            for phase, covers in phases.items():
                s = self.seconds.get(phase, 0.0)
                per = (1e6 * s / (self.users * self.steps)
                       if part == "step" and self.users and self.steps else np.nan)
                calls = None if phase in OTHER else self.calls.get(phase, 0)
                rows.append({"part": part, "phase": phase, "seconds": s, "calls": calls,
                             "share": s / total, "us_per_user_step": per, "covers": covers})
        return pd.DataFrame(rows)


def _timed(profile: Profile, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            profile.add(phase, time.perf_counter() - began)
    return timed


@contextmanager
def patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    """Set ``owner.name = value`` for the block (an instance, class or module attribute); then
    put back what was there — or, for an instance, its class's attribute again."""
    own = vars(owner)
    had, old = name in own, own.get(name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if had:
            setattr(owner, name, old)
        else:
            delattr(owner, name)


def profile_run(scenario: Any, rng: int | np.random.SeedSequence | None = None,
                progress: Callable[[int, int], Any] | None = None
                ) -> tuple[PerkCampaignModel, Profile]:
    """Build and run ``scenario`` (as :class:`PerkCampaignModel` would with ``rng``) with every
    phase timed; returns the finished model — the same as an untimed run — and its profile."""
    profile = Profile(users=scenario.population.size, steps=scenario.steps)
    with ExitStack() as stack:
        for owner, name, phase in ((campaign, "generate", "graph"),
                                   (campaign, "build_population", "population"),
                                   (dynamics, "follower_overlap", "audience overlap"),
                                   (PerkCampaignModel, "_warm_up", "warm-up")):
            stack.enter_context(patched(owner, name, _timed(profile, phase, getattr(owner, name))))
        began = time.perf_counter()
        model = PerkCampaignModel(scenario, rng=rng)
        built = time.perf_counter() - began
    profile.add("other set-up", max(0.0, built - profile.total("build")), calls=0)
    profile.users = model.n
    with ExitStack() as stack:
        for name, phase in (("_post_and_engage", "posting and engagement"),
                            ("_current_score", "score map"), ("_mentions", "mentions"),
                            ("_expose_and_persuade", "exposure and adoption"), ("_pout", "pout"),
                            ("_adapt", "gaming")):
            stack.enter_context(patched(model, name, _timed(profile, phase, getattr(model, name))))
        for brand in model.brands:
            stack.enter_context(patched(brand, "allocate",
                                        _timed(profile, "allocation", brand.allocate)))
        stack.enter_context(patched(metrics, "brand_metrics",
                                    _timed(profile, "collection", metrics.brand_metrics)))
        collector = model.datacollector
        stack.enter_context(patched(collector, "add_table_row",
                                    _timed(profile, "collection", collector.add_table_row)))
        began = time.perf_counter()
        model.run(progress=progress)
        stepped = time.perf_counter() - began
    profile.add("other step", max(0.0, stepped - profile.total("step")), calls=0)
    return model, profile
