"""A robustness study of a scenario: its ``uncertainties:`` as a :class:`~.design.Problem`, the
design's samples as the points every variant runs at (with paired replicates, through the
runner like sweep points), and the analysis of the runs' summary table (:func:`analyse`).

The design is seeded from the scenario's master seed on its own stream (:data:`DESIGN_STREAM`),
so the same scenario and settings always sample the same points — which is what lets an
interrupted study resume and every executor give identical tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from simulator.experiment.robust.design import (
    METHODS,
    Design,
    Problem,
    Uncertainty,
    lhs_design,
    morris_design,
    sobol_design,
)
from simulator.experiment.robust.flips import Flips, flip_conditions
from simulator.experiment.robust.maps import verdict_map
from simulator.experiment.robust.sensitivity import most_influential, sensitivity_indices
from simulator.experiment.robust.verdicts import sample_verdicts, verdict_shares
from simulator.model.metrics import HEADLINE
from simulator.scenario.schema import Scenario, parse_field_path
from simulator.scenario.uncertainty import is_integer_field

DESIGN_STREAM = 2**31 - 4  # spawn key of the design's stream (sweep: 2**31 − 1; checks: −2, −3)
DEFAULT_METHOD = "morris"
MORRIS_LEVELS = 4  # the Morris grid: 0, 1/3, 2/3, 1 of each range
DEFAULT_SAMPLES = {"morris": 4, "sobol": 8, "lhs": 64}  # trajectories; base size n (2^k); samples
SAMPLES_MEANING = {"morris": "trajectories", "sobol": "base samples (a power of two)",
                   "lhs": "samples"}


def problem_of(scenario: Scenario) -> Problem:
    """The scenario's ``uncertainties:`` as a design problem, in the file's order (ValueError
    if it declares none)."""
    if not scenario.uncertainties:
        raise ValueError(f"scenario {scenario.name!r} has no uncertainties: section (see "
                         "docs/reference/scenario.md#uncertainties-what-is-not-known)")
    params = []
    for path, u in scenario.uncertainties.items():
        if u.kind == "values":
            params.append(Uncertainty.choice(path, u.choices))
        else:
            low, high = u.bounds  # type: ignore[misc]
            integer = is_integer_field(scenario, parse_field_path(path))
            params.append(Uncertainty(path, u.kind, float(low), float(high), integer=integer))
    return Problem(tuple(params))


def design_seed(scenario: Scenario) -> int:
    """The design's seed: drawn from the scenario's master seed on :data:`DESIGN_STREAM`."""
    seq = np.random.SeedSequence(scenario.seed, spawn_key=(DESIGN_STREAM,))
    return int(seq.generate_state(1, dtype=np.uint32)[0])


def design_of(scenario: Scenario, method: str = DEFAULT_METHOD, samples: int | None = None) -> Design:
    """The samples of the scenario's uncertainties by ``method`` (``morris``: ``samples``
    trajectories; ``sobol``: Saltelli's design on ``samples`` base points, a power of two;
    ``lhs``: a Latin hypercube of ``samples`` points)."""
    if method not in METHODS:
        raise ValueError(f"method {method!r}: choose one of {', '.join(METHODS)}")
    n = DEFAULT_SAMPLES[method] if samples is None else samples
    problem, seed = problem_of(scenario), design_seed(scenario)
    if method == "morris":
        design = morris_design(problem, n, MORRIS_LEVELS, seed)
    elif method == "sobol":
        design = sobol_design(problem, n, seed)
    else:
        design = lhs_design(problem, n, seed)
    return replace(design, samples=n)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value a scenario field takes."""
    return value.item() if isinstance(value, np.generic) else value


def design_points(design: Design) -> list[dict[str, Any]]:
    """One ``{field.path: value}`` per sample, in sample order: the points the runs use."""
    table = design.problem.values(design.unit)
    columns = {name: [_plain(v) for v in table[name].tolist()] for name in table.columns}
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


@dataclass
class RobustTables:
    """What a robustness study finds, per headline metric: the per-sample verdicts, their
    shares over the space, the sensitivity indices (none for a Latin hypercube), the flip
    boxes, and the verdict map over the two most influential assumptions."""

    design: pd.DataFrame
    verdicts: pd.DataFrame
    shares: pd.DataFrame
    indices: pd.DataFrame | None
    flips: Flips
    maps: dict[str, pd.DataFrame] = field(default_factory=dict)


def judged_metrics(scenario: Scenario) -> list[str]:
    """The metrics a study judges: the scenario's own ``metrics:``, then the catalogue's
    headline ones — each with a better direction (a metric with none has no winner)."""
    from simulator.model.metrics import BY_NAME

    wanted = dict.fromkeys([*scenario.metrics, *HEADLINE])
    return [m for m in wanted if m in BY_NAME and BY_NAME[m].better != 0]


def analyse_study(summary: pd.DataFrame, design: Design, scenario: Scenario,
                  variants: Sequence[str] = ()) -> RobustTables:
    """A study's findings from its runs' summary, against the first variant (the reference),
    on the metrics it judges (:func:`judged_metrics`)."""
    names = list(variants) or list(scenario.variants)
    return analyse(summary, design, reference=names[0], metrics=judged_metrics(scenario))


def analyse(summary: pd.DataFrame, design: Design, reference: str,
            metrics: list[str] | None = None) -> RobustTables:
    """The study's tables from the runs' summary (a sweep-like table: ``point`` = sample,
    the parameters' columns, ``variant``, ``replicate``, ``brand``, the metrics)."""
    metrics = [m for m in (metrics or HEADLINE) if m in summary.columns]
    params = design.problem.names
    table = summary.drop(columns=[c for c in [*params, "step"] if c in summary.columns])
    table = table.rename(columns={"point": "sample"})
    if table["variant"].astype(str).nunique() < 2:
        raise RuntimeError(f"no variant besides the reference {reference!r} has runs to compare "
                           "(see the failed runs)")
    verdicts = sample_verdicts(table, reference, metrics)
    values = design.table()
    indices = sensitivity_indices(design, verdicts) if design.method != "lhs" else None
    flips = flip_conditions(design.problem, values, verdicts)
    maps: dict[str, pd.DataFrame] = {}
    for metric in metrics:
        top = (most_influential(indices, metric) if indices is not None else params[:2])
        if len(top) == 2:
            maps[metric] = verdict_map(values, verdicts, metric, top)
    return RobustTables(values, verdicts, verdict_shares(verdicts), indices, flips, maps)
