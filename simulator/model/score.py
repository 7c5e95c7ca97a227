"""The Klout-like score (docs/model.md §5.1).

Rolling signals (EMA over ``window`` steps) of activity, reach, amplification and network
are combined into a raw value; a monotone map, fitted once after the warm-up and then held
fixed, turns raw values into 1–100 scores. Holding the map fixed is what makes later score
inflation (gaming, §5.6) visible.
"""

from __future__ import annotations

from dataclasses import dataclass
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
              network: np.ndarray | float, weights: ScoreWeights) -> np.ndarray:
    """raw = w_A·log1p(A) + w_R·log1p(R) + w_M·log1p(M) + w_N·N."""
    return (weights.activity * np.log1p(activity) + weights.reach * np.log1p(reach)
            + weights.amplification * np.log1p(amplification) + weights.network * network)


@dataclass(frozen=True)
class ScoreMap:
    """A fixed monotone map from raw values to 1–100 scores.

    Raw values are turned into their quantile in the calibration population, then into the
    matching quantile of a normal distribution with the calibrated mean and spread; beyond the
    calibration range the map continues linearly, so inflation shows up as higher scores.
    """

    knots: np.ndarray  # increasing raw values
    z: np.ndarray  # standard-normal quantiles at those values
    mean: float
    sd: float

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        """Scores (1–100) of the raw values ``raw``."""
        z = np.interp(raw, self.knots, self.z)
        if self.knots.size >= 2:
            lo_slope = (self.z[1] - self.z[0]) / (self.knots[1] - self.knots[0])
            hi_slope = (self.z[-1] - self.z[-2]) / (self.knots[-1] - self.knots[-2])
            z = np.where(raw < self.knots[0], self.z[0] + lo_slope * (raw - self.knots[0]), z)
            z = np.where(raw > self.knots[-1], self.z[-1] + hi_slope * (raw - self.knots[-1]), z)
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

    def observe(self, posts: np.ndarray, reactions: np.ndarray, distinct: np.ndarray) -> None:
        """Fold one step's posts, reactions and distinct reactors per user into the averages."""
        a = self.alpha
        self.posts += a * (posts - self.posts)
        self.reactions += a * (reactions - self.reactions)
        self.distinct += a * (distinct - self.distinct)

    def raw(self, followers: np.ndarray, network: np.ndarray | float, weights: ScoreWeights) -> np.ndarray:
        """Each user's raw score from the averages, with ``followers`` as reach and ``network`` as N."""
        amp = amplification(self.reactions, self.distinct, self.posts)
        return raw_score(self.posts, followers, amp, network, weights)

    def parts(self, followers: np.ndarray) -> dict[str, np.ndarray]:
        """The signals behind each score, for explanation."""
        return {
            "activity": self.posts.copy(),
            "reach": followers.astype(float),
            "amplification": amplification(self.reactions, self.distinct, self.posts),
        }
