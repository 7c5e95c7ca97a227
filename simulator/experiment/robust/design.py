"""Sampling designs over a scenario's uncertain parameters (``perksim robust``, issue 11).

A :class:`Problem` is a list of :class:`Uncertainty`: a dotted field path with a ``uniform`` or
``log_uniform`` range, or a list of ``values``. Every design is a matrix on the unit interval
(one row per sample, one column per parameter); :meth:`Uncertainty.value` maps a column to the
parameter's own units, so this module knows nothing of the scenario's pydantic models.

- :func:`sobol_design` — Saltelli's scheme for Sobol' indices (SALib, first and total order):
  ``n·(d+2)`` samples;
- :func:`morris_design` — Morris trajectories for screening (SALib): ``trajectories·(d+1)``
  samples on a grid of ``levels`` levels;
- :func:`lhs_design` — a Latin hypercube (scipy) for "who wins where": ``n`` samples.

Each draws from a generator of its own ``seed`` (never numpy's global state), so the same
arguments give the same matrix. :attr:`Design.evaluations` is the number of samples, and
:meth:`Design.runs` the number of model runs, so the budget can be printed before running.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("uniform", "log_uniform", "values")
METHODS = ("sobol", "morris", "lhs")


@dataclass(frozen=True)
class Uncertainty:
    """One uncertain parameter: its dotted path (``behaviour.attention_beta``) and its range
    (``uniform``: ``low``–``high``; ``log_uniform``: ``low``–``high``, both > 0, uniform in the
    logarithm) or its ``values`` (each equally likely)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] = ()
    integer: bool = False  # an integer field: a range's values are rounded, as the scenario does

    def __post_init__(self) -> None:
        """Check the range or the values against the kind."""
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")
        if self.kind == "values":
            if not self.values or self.low is not None or self.high is not None:
                raise ValueError(f"{self.name}: give a non-empty list of values and no range")
            return
        if self.values or self.low is None or self.high is None:
            raise ValueError(f"{self.name}: give low and high (and no values)")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"{self.name}: need finite low < high, got {self.low}, {self.high}")
        if self.kind == "log_uniform" and self.low <= 0:
            raise ValueError(f"{self.name}: a log-uniform range needs low > 0, got {self.low}")

    @classmethod
    def uniform(cls, name: str, low: float, high: float, integer: bool = False) -> Uncertainty:
        """A parameter uniform on ``[low, high]`` (rounded to integers if ``integer``)."""
        return cls(name, "uniform", float(low), float(high), integer=integer)

    @classmethod
    def log_uniform(cls, name: str, low: float, high: float,
                    integer: bool = False) -> Uncertainty:
        """A parameter whose logarithm is uniform on ``[log low, log high]``."""
        return cls(name, "log_uniform", float(low), float(high), integer=integer)

    @classmethod
    def choice(cls, name: str, values: Any) -> Uncertainty:
        """A parameter taking each of ``values`` with equal probability."""
        return cls(name, "values", values=tuple(values))

    @property
    def numeric(self) -> bool:
        """Whether the parameter's values are numbers (ranges always; ``values`` if all are)."""
        return self.kind != "values" or all(
            isinstance(v, Real) and not isinstance(v, bool) for v in self.values)

    def value(self, unit: Any) -> np.ndarray:
        """The parameter's values at points ``unit`` of the unit interval, as
        ``simulator.scenario.uncertainty.Uncertainty.value`` maps them: ``low + u·(high −
        low)`` (in log space for ``log_uniform``; the ends exactly), or the ⌊u·n⌋-th of the n
        ``values`` (``u = 1``, a Morris grid end, is the top of the range, or the last value)."""
        u = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        if self.kind != "values":
            lo, hi = self.low, self.high
            if self.kind == "log_uniform":
                x = np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
            else:
                x = lo + u * (hi - lo)
            x = np.clip(np.where(u == 1.0, hi, np.where(u == 0.0, lo, x)), lo, hi)
            return np.round(x).astype(int) if self.integer else x
        index = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
        if self.numeric:
            return np.asarray(self.values, dtype=float)[index]
        table = np.empty(len(self.values), dtype=object)  # values may be lists or mappings
        table[:] = list(self.values)
        return table[index]


@dataclass(frozen=True)
class Problem:
    """The uncertain parameters of one robustness study, in order."""

    parameters: tuple[Uncertainty, ...]

    def __post_init__(self) -> None:
        """Check there is at least one parameter and the names are distinct."""
        names = [p.name for p in self.parameters]
        if not names:
            raise ValueError("a robustness study needs at least one uncertain parameter")
        if len(set(names)) != len(names):
            raise ValueError(f"uncertain parameters named twice: {sorted(names)}")

    @property
    def names(self) -> list[str]:
        """The parameters' dotted paths, in order."""
        return [p.name for p in self.parameters]

    @property
    def dimension(self) -> int:
        """The number of uncertain parameters."""
        return len(self.parameters)

    def salib(self) -> dict[str, Any]:
        """The problem as SALib takes it: every parameter on the unit interval."""
        return {"num_vars": self.dimension, "names": self.names,
                "bounds": [[0.0, 1.0]] * self.dimension}

    def values(self, unit: Any) -> pd.DataFrame:
        """The parameters' values (own units; one column each) at the rows of ``unit``."""
        u = np.asarray(unit, dtype=float).reshape(-1, self.dimension)
        return pd.DataFrame({p.name: p.value(u[:, j]) for j, p in enumerate(self.parameters)})


@dataclass(frozen=True, eq=False)
class Design:
    """Samples of a :class:`Problem`: ``unit`` has one row per sample, on the unit interval
    (``[0, 1)`` for Sobol' and Latin hypercube; the ``levels``-level grid ``k/(levels−1)``, ends
    included, for Morris). Sample ``i`` is row ``i``."""

    method: str
    problem: Problem
    unit: np.ndarray
    seed: int
    levels: int | None = None
    samples: int | None = None  # the size asked for: trajectories, base samples or points

    @property
    def evaluations(self) -> int:
        """Samples to evaluate: each is one run per variant and replicate."""
        return int(self.unit.shape[0])

    def runs(self, variants: int, replicates: int) -> int:
        """Model runs the design takes: samples × variants × replicates."""
        return self.evaluations * variants * replicates

    def table(self) -> pd.DataFrame:
        """One row per sample: ``sample`` and each parameter's value in its own units."""
        out = self.problem.values(self.unit)
        out.insert(0, "sample", np.arange(self.evaluations))
        return out


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def sobol_samples(dimension: int, n: int) -> int:
    """Samples of :func:`sobol_design` (first and total order): ``n·(d+2)``."""
    return n * (dimension + 2)


def morris_samples(dimension: int, trajectories: int) -> int:
    """Samples of :func:`morris_design`: ``trajectories·(d+1)``."""
    return trajectories * (dimension + 1)


def sobol_design(problem: Problem, n: int, seed: int) -> Design:
    """Saltelli's design for first- and total-order Sobol' indices (``SALib.sample.sobol``,
    scrambled Sobol' sequence, no second order): ``n·(d+2)`` samples; ``n`` a power of two
    (the sequence's balance properties hold only then)."""
    from SALib.sample import sobol

    if n < 2 or n & (n - 1):
        raise ValueError(f"samples = {n}: the Sobol' design needs a power of two (e.g. "
                         f"{2 ** max(1, round(math.log2(max(n, 2))))})")
    unit = sobol.sample(problem.salib(), n, calc_second_order=False, scramble=True,
                        seed=_rng(seed))
    return Design("sobol", problem, np.ascontiguousarray(unit, dtype=float), seed)


def morris_design(problem: Problem, trajectories: int, levels: int, seed: int) -> Design:
    """Morris trajectories for elementary effects (``SALib.sample.morris``, on a grid of
    ``levels`` levels, an even number): ``trajectories·(d+1)`` samples."""
    from SALib.sample import morris

    if trajectories < 2:
        raise ValueError(f"trajectories = {trajectories}: the Morris design needs at least 2")
    if levels < 2 or levels % 2:
        raise ValueError(f"levels = {levels}: the Morris grid needs an even number of levels ≥ 2")
    unit = morris.sample(problem.salib(), trajectories, num_levels=levels, seed=_rng(seed))
    return Design("morris", problem, np.ascontiguousarray(unit, dtype=float), seed, levels)


def lhs_design(problem: Problem, n: int, seed: int) -> Design:
    """A Latin hypercube of ``n`` samples (``scipy.stats.qmc.LatinHypercube``): each
    parameter's range cut into ``n`` equal strata, one sample in each."""
    from scipy.stats import qmc

    if n < 1:
        raise ValueError(f"n = {n}: the Latin hypercube needs at least one sample")
    unit = qmc.LatinHypercube(problem.dimension, rng=_rng(seed)).random(n)
    return Design("lhs", problem, np.ascontiguousarray(unit, dtype=float), seed)
