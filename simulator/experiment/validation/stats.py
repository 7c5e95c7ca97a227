"""The statistics of ``perksim check-model``: Wilson and t intervals, and the seeded bootstrap
(one stream per check, so intervals are reproduced byte for byte)."""

from __future__ import annotations

import hashlib
import math

import numpy as np
from scipy import stats

BOOTSTRAP_STREAM = 2**31 - 3  # spawn key of the bootstrap streams


def wilson(share: float, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a proportion ``share`` out of ``n``."""
    if n <= 0:
        return math.nan, math.nan
    denom = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denom
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The ``level`` t interval of the mean of ``values`` (NaNs if there are fewer than two)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return float(values.mean() - half), float(values.mean() + half)


def _boot_rng(check: str) -> np.random.Generator:
    key = int.from_bytes(hashlib.sha256(check.encode()).digest()[:4], "little")
    return np.random.default_rng(np.random.SeedSequence(2003, spawn_key=(BOOTSTRAP_STREAM, key)))


def _resample(values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` bootstrap resamples (rows) of ``values``."""
    return values[rng.integers(0, values.size, size=(n, values.size))]


def _quantiles(samples: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(samples, [0.025, 0.975], method="inverted_cdf")
    return float(lo), float(hi)
