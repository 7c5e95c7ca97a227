"""The Klout-like score (docs/model.md §5.1).

Rolling signals (EMA over ``window`` steps) of activity, reach, amplification and network
are combined into a raw value; a monotone map, fitted once after the warm-up and then held
fixed, turns raw values into 1–100 scores. Holding the map fixed is what makes later score
inflation (gaming, §5.6) visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

if TYPE_CHECKING:  # the model reads a validated scenario; it never imports the scenario layer
    from simulator.scenario.schema import ScoreCalibration, ScoreWeights

AMPLIFICATION_FLOOR = 0.1  # posts per step added to the denominator so silence is not division by 0


def amplification(reactions: np.ndarray, distinct: np.ndarray, posts: np.ndarray) -> np.ndarray:
    """Reactions per post, weighted by how many distinct people reacted.

    ``sqrt(reactions × distinct) / (posts + floor)``: at fixed reactions it rises with the
    number of distinct reactors, and 100 reactions to 10 posts beat 100 reactions to 1,000
    (Klout's own description of amplification).
    """
    return np.sqrt(np.maximum(reactions, 0) * np.maximum(distinct, 0)) / (posts + AMPLIFICATION_FLOOR)


def raw_score(activity: np.ndarray, reach: np.ndarray, amplification: np.ndarray,
              network: np.ndarray | float, weights: ScoreWeights,
              log_reach: np.ndarray | None = None) -> np.ndarray:
    """raw = w_A·log1p(A) + w_R·log1p(R) + w_M·log1p(M) + w_N·N; ``log_reach``: log1p(R) if
    already known (reach is the follower count, fixed during a run)."""
    if log_reach is None:
        log_reach = np.log1p(reach)
    return (weights.activity * np.log1p(activity) + weights.reach * log_reach
            + weights.amplification * np.log1p(amplification) + weights.network * network)


LOOKUP_CELLS_PER_KNOT = (16, 64, 256)  # lookup grids tried, in cells per knot
LOOKUP_MAX_KNOTS_PER_CELL = 4  # a grid is used when no cell holds more knots than this


@dataclass(frozen=True)
class ScoreMap:
    """A fixed monotone map from raw values to 1–100 scores.

    Raw values are turned into their quantile in the calibration population, then into the
    matching quantile of a normal distribution with the calibrated mean and spread; beyond the
    calibration range the map continues linearly, so inflation shows up as higher scores.

    The map is evaluated every step for every user, so it finds each value's knot interval
    through a lookup grid (16 to 256 cells per knot; a value starts at the last knot of an
    earlier cell and steps over its own cell's few knots) instead of ``np.interp``'s binary
    search, and then interpolates with the very formula ``np.interp`` uses: the scores are the
    same to the last bit (tested).
    """

    knots: np.ndarray  # increasing raw values
    z: np.ndarray  # standard-normal quantiles at those values
    mean: float
    sd: float
    _lookup: tuple[float, np.ndarray, np.ndarray, np.ndarray, int] | None = field(
        default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        k = self.knots
        if k.size < 2:
            return
        for per_knot in LOOKUP_CELLS_PER_KNOT:
            cells = per_knot * k.size
            scale = cells / (k[-1] - k[0])
            if not np.isfinite(scale) or cells >= 2**31 - 1:
                return
            # cell c holds values with floor((x − knots[0])·scale) = c; the top knot may round
            # into cell ``cells``, hence one cell more
            count = np.bincount(((k - k[0]) * scale).astype(np.int64), minlength=cells + 1)
            if count.max() <= LOOKUP_MAX_KNOTS_PER_CELL:
                break
        else:
            return
        # the last knot of an earlier cell is below every value of the cell (the cell index is
        # monotone in the value); the cell's own knots, at most ``passes``, are compared
        passes = int(count.max())
        start = np.maximum(np.cumsum(count) - count - 1, 0).astype(np.int32)
        slope = np.zeros(k.size)  # the last knot's slope is 0: a value on it gets z[-1]
        slope[:-1] = (self.z[1:] - self.z[:-1]) / (k[1:] - k[:-1])
        padded = np.concatenate([k, np.full(passes, np.inf)])
        object.__setattr__(self, "_lookup", (float(scale), start, slope, padded, passes))

    @property
    def lookup(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, int] | None:
        """The lookup grid (scale, start, slope, padded knots, passes); None where
        ``np.interp`` is used (fewer than two knots, or knots no grid separates)."""
        return self._lookup

    def _interp(self, raw: np.ndarray) -> np.ndarray:
        """``np.interp(raw, knots, z)``, bit for bit, through the lookup grid."""
        if self._lookup is None:
            return np.interp(raw, self.knots, self.z)
        scale, start, slope, padded, passes = self._lookup
        k = self.knots
        x = np.clip(raw, k[0], k[-1])
        cell = x - k[0]
        cell *= scale
        first = start[cell.astype(np.int32)]
        j = first.copy()
        for m in range(1, passes + 1):
            j += padded[m:][first] <= x  # padded[m:][first] is knots[first + m]
        # np.interp's formula, slope·(x − knots[j]) + z[j], in place
        out = np.subtract(x, k[j], out=x)
        out *= slope[j]
        out += self.z[j]
        return out

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        """Scores (1–100) of the raw values ``raw``."""
        z = self._interp(raw)
        if self.knots.size >= 2:
            lo_slope = (self.z[1] - self.z[0]) / (self.knots[1] - self.knots[0])
            hi_slope = (self.z[-1] - self.z[-2]) / (self.knots[-1] - self.knots[-2])
            below = raw < self.knots[0]
            if below.any():
                z[below] = self.z[0] + lo_slope * (raw[below] - self.knots[0])
            above = raw > self.knots[-1]
            if above.any():
                z[above] = self.z[-1] + hi_slope * (raw[above] - self.knots[-1])
        return np.clip(self.mean + self.sd * z, 1.0, 100.0)


def fit_score_map(raw: np.ndarray, calibration: ScoreCalibration, knots: int = 401) -> ScoreMap:
    """Fit the map so this population's scores have the calibrated mean and top share."""
    sd = (calibration.top_score - calibration.mean) / ndtri(1 - calibration.top_share)
    n = raw.size
    ranks = np.argsort(np.argsort(raw, kind="stable"), kind="stable")
    # mid-rank quantiles, averaged over ties so equal raw values get equal scores
    uniq, inverse = np.unique(raw, return_inverse=True)
    u = (ranks + 0.5) / n
    u_mean = np.bincount(inverse, weights=u) / np.bincount(inverse)
    z = ndtri(u_mean)
    if uniq.size > knots:
        pick = np.unique(np.linspace(0, uniq.size - 1, knots).round().astype(int))
        uniq, z = uniq[pick], z[pick]
    if uniq.size == 1:  # a population with a single raw value: everyone gets the mean
        uniq = np.array([uniq[0] - 1.0, uniq[0] + 1.0])
        z = np.array([0.0, 0.0])
    return ScoreMap(knots=uniq, z=z, mean=float(calibration.mean), sd=float(sd))


class ScoreTracker:
    """Per-user exponential moving averages of the score's signals."""

    def __init__(self, n: int, window: int):
        self.alpha = 2.0 / (window + 1.0)
        self.posts = np.zeros(n)
        self.reactions = np.zeros(n)
        self.distinct = np.zeros(n)
        self._log_reach: tuple[np.ndarray, np.ndarray] | None = None  # (followers, log1p of them)

    def observe(self, posts: np.ndarray, reactions: np.ndarray, distinct: np.ndarray) -> None:
        """Fold one step's posts, reactions and distinct reactors per user into the averages."""
        a = self.alpha
        self.posts += a * (posts - self.posts)
        self.reactions += a * (reactions - self.reactions)
        self.distinct += a * (distinct - self.distinct)

    def raw(self, followers: np.ndarray, network: np.ndarray | float, weights: ScoreWeights) -> np.ndarray:
        """Each user's raw score from the averages, with ``followers`` as reach and ``network`` as N."""
        amp = amplification(self.reactions, self.distinct, self.posts)
        return raw_score(self.posts, followers, amp, network, weights, self.log_reach(followers))

    def log_reach(self, followers: np.ndarray) -> np.ndarray:
        """log1p of the follower counts (reach), computed once per ``followers`` array."""
        if self._log_reach is None or self._log_reach[0] is not followers:
            self._log_reach = (followers, np.log1p(followers))
        return self._log_reach[1]

    def parts(self, followers: np.ndarray) -> dict[str, np.ndarray]:
        """The signals behind each score, for explanation."""
        return {
            "activity": self.posts.copy(),
            "reach": followers.astype(float),
            "amplification": amplification(self.reactions, self.distinct, self.posts),
        }
