"""Compiled kernels for the two phases that touch every user every step (docs/howto/large-runs.md).

Posting and engagement (§3 phases 1–2) and the score map (phase 3) are, at a million users,
two thirds of a step. With numpy each is a few dozen passes over million-element arrays; here
each is one loop over the users, compiled by numba (the ``fast`` extra). The kernels draw from
the run's own ``numpy.random.Generator`` (its uniform doubles, which numba takes exactly as
numpy does) and turn them into Poisson draws with numpy's own algorithm, ported below
operation for operation (:func:`poisson`: numba's ``Generator.poisson`` truncates where numpy
takes the floor, and above a mean of 10 it then accepts, rarely, a draw numpy rejects). So the
kernels take the same draws in the same order, and they repeat the numpy code's arithmetic:
their results are the numpy path's, bit for bit (tests/test_kernels.py runs both paths on
every bundled scenario and its variants and compares every table).

Bit for bit needs one more thing: the same ``log1p`` and ``expm1``. The kernels call the C
library's; so does numpy, except on processors with AVX-512, where it has vectorised versions
of its own that can differ in the last bit (:func:`same_functions`).

The kernels are opt in: ``PERKSIM_KERNELS=numba`` (the ``fast`` extra installed); the default,
``numpy``, runs the package's numpy code. They save about a tenth of a step at a million users
(benchmarks/floor.py: what is left is the draws and ``log1p`` themselves), and loading numba's
compiler costs ~100 MiB, more where a users table is written as CSV (docs/howto/large-runs.md).
The first run compiles them (a few seconds) into numba's cache; later runs load them.
"""

from __future__ import annotations

import importlib.util
import math
import os
import warnings
from functools import cache
from typing import Any

import numpy as np

CHOICES = ("numpy", "numba")


class KernelError(ValueError):
    """``PERKSIM_KERNELS`` asks for what cannot be had."""


def available() -> bool:
    """Whether numba is installed (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def choice() -> str:
    """``PERKSIM_KERNELS``, checked."""
    value = os.environ.get("PERKSIM_KERNELS", "numpy").strip().lower() or "numpy"
    if value not in CHOICES:
        raise KernelError(f"PERKSIM_KERNELS={value!r}: allowed are {', '.join(CHOICES)}")
    if value == "numba" and not available():
        raise KernelError("PERKSIM_KERNELS=numba, but numba is not installed: "
                          "pip install -e '.[fast]'")
    return value


def same_functions() -> bool:
    """Whether numpy's ``log1p`` and ``expm1`` are the C library's, as the kernels' are: numpy
    dispatches vectorised versions of its own on processors with AVX-512 (AVX512_SKX)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - numpy's layout changed: do not assume
        return False
    return not features.get("AVX512_SKX", True)


def wanted() -> bool:
    """Whether runs take the compiled kernels (``PERKSIM_KERNELS=numba``)."""
    return choice() == "numba"


@cache
def compiled() -> Any:
    """The compiled kernels (numba is imported, and the kernels compiled or loaded from its
    cache, on the first call)."""
    import numba
    from numba.extending import register_jitable

    if not same_functions():
        warnings.warn("PERKSIM_KERNELS=numba on a processor with AVX-512: numpy's log1p and "
                      "expm1 are its own there, so results can differ from the numpy path's "
                      "in the last bit", stacklevel=2)
    # error_model="numpy": a division by zero gives inf, as in numpy's C, instead of raising
    for helper in (loggam, poisson_mult, poisson_ptrs, poisson):  # compiled where called
        register_jitable(error_model="numpy")(helper)
    jit = numba.njit(cache=True, error_model="numpy")
    return Kernels(jit(post_and_engage), jit(score))


class Kernels:
    """The two phases, compiled or as plain Python functions."""

    def __init__(self, post_and_engage: Any, score: Any) -> None:
        self.post_and_engage = post_and_engage
        self.score = score


# --- numpy's Poisson sampler (numpy/random/src/distributions/distributions.c, BSD licence) ------

# the series of numpy's random_loggam (Zhang & Jin, "Computation of Special Functions", 1996)
LOGGAM_SERIES = np.array([8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04,
                          -5.952380952380952e-04, 8.417508417508418e-04, -1.917526917526918e-03,
                          6.410256410256410e-03, -2.955065359477124e-02, 1.796443723688307e-01,
                          -1.39243221690590e+00])
LOG_2PI = math.log(2 * math.pi)  # numpy computes log(2π) with the C library's log, as here


def loggam(x: float) -> float:
    """log Γ(x), as numpy's ``random_loggam`` computes it."""
    if x == 1.0 or x == 2.0:
        return 0.0
    x0 = x
    n = 0
    if x <= 7.0:
        n = int(7 - x)
        x0 = x + n
    x2 = 1.0 / (x0 * x0)
    gl0 = LOGGAM_SERIES[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += LOGGAM_SERIES[k]
    gl = gl0 / x0 + 0.5 * LOG_2PI + (x0 - 0.5) * math.log(x0) - x0
    if x <= 7.0:
        for _ in range(n):
            gl -= math.log(x0 - 1.0)
            x0 -= 1.0
    return gl


def poisson_mult(rng: np.random.Generator, lam: float) -> int:
    """A Poisson draw of mean ``lam`` < 10 by multiplying uniforms (numpy's method)."""
    enlam = math.exp(-lam)
    x = 0
    prod = 1.0
    while True:
        prod *= rng.random()
        if prod > enlam:
            x += 1
        else:
            return x


def poisson_ptrs(rng: np.random.Generator, lam: float) -> int:
    """A Poisson draw of mean ``lam`` ≥ 10 by transformed rejection (Hörmann 1993, "The
    transformed rejection method for generating Poisson random variables", Insurance:
    Mathematics and Economics 12, 39–45), as numpy implements it."""
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        if us == 0.0:  # numpy's k is then undefined (in practice negative): rejected
            continue
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        log_v = math.log(v) if v > 0.0 else -math.inf
        if (log_v + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -lam + k * loglam - loggam(float(k + 1))):
            return k


def poisson(rng: np.random.Generator, lam: float) -> int:
    """A Poisson draw of mean ``lam``: numpy's ``Generator.poisson``, draw for draw."""
    if lam >= 10:
        return poisson_ptrs(rng, lam)
    if lam == 0:
        return 0
    return poisson_mult(rng, lam)


# --- the phases ----------------------------------------------------------------------------------


def post_and_engage(rng: np.random.Generator, post_rate: np.ndarray, post_factor: np.ndarray,
                    quality: np.ndarray, quality_factor: np.ndarray, reaction_factor: np.ndarray,
                    view: np.ndarray, overlap: np.ndarray, base_engage: float,
                    followers: np.ndarray, alpha: float, ema_posts: np.ndarray,
                    ema_reactions: np.ndarray, ema_distinct: np.ndarray, recent: np.ndarray,
                    posts: np.ndarray) -> np.ndarray:
    """Phases 1–2 in three loops over the users; ``PerkCampaignModel._post_and_engage``'s numpy
    code, fused.

    Draws each user's posts, Poisson(λ_i·post_factor_i), in user order, then the reactions
    of those who posted, Poisson(posts·view·base_engage·appeal·overlap), in user order (as
    ``dynamics.sample_posts`` and ``sample_reactions``); counts distinct reactors
    (``dynamics.distinct_reactors``) and folds the step into the score's moving averages
    (``ScoreTracker.observe``). Writes ``posts`` (int64) and ``recent`` (the window's row,
    int32) and updates the averages in place; returns the users who posted.
    """
    n = post_rate.size
    count = 0
    for i in range(n):
        k = poisson(rng, post_rate[i] * post_factor[i])
        posts[i] = k
        recent[i] = k
        if k != 0:
            count += 1
    posting = np.empty(count, dtype=np.int64)
    count = 0
    for i in range(n):
        ema_posts[i] += alpha * (float(posts[i]) - ema_posts[i])
        if posts[i] != 0:
            posting[count] = i
            count += 1
        else:  # no posts: no reactions and no reactors this step
            ema_reactions[i] += alpha * (0.0 - ema_reactions[i])
            ema_distinct[i] += alpha * (0.0 - ema_distinct[i])
    for w in range(count):
        i = posting[w]
        appeal = quality[i] * quality_factor[i] * reaction_factor[i]
        r = poisson(rng, float(posts[i]) * view[i] * base_engage * appeal * overlap[i])
        distinct = 0.0
        if r != 0:
            f = float(followers[i])
            distinct = f * -math.expm1(float(-r) / max(f, 1.0)) if f > 0 else 0.0
        ema_reactions[i] += alpha * (float(r) - ema_reactions[i])
        ema_distinct[i] += alpha * (distinct - ema_distinct[i])
    return posting


def score(ema_posts: np.ndarray, ema_reactions: np.ndarray, ema_distinct: np.ndarray,
          log_reach: np.ndarray, network: np.ndarray, weights: np.ndarray, floor: float,
          knots: np.ndarray, z: np.ndarray, scale: float, start: np.ndarray, slope: np.ndarray,
          padded: np.ndarray, passes: int, mean: float, sd: float, out: np.ndarray) -> None:
    """Phase 3 in one pass: ``score.raw_score`` of the moving averages, then
    ``ScoreMap.__call__`` through its lookup grid, into ``out``.

    ``weights``: activity, reach, amplification, network; ``network``: the network term per
    user, or an empty array where it is 0.
    """
    w_a, w_r, w_m, w_n = weights[0], weights[1], weights[2], weights[3]
    k0, k_last = knots[0], knots[knots.size - 1]
    z0, z_last = z[0], z[z.size - 1]
    lo_slope = (z[1] - z[0]) / (knots[1] - knots[0])
    hi_slope = (z[z.size - 1] - z[z.size - 2]) / (knots[knots.size - 1] - knots[knots.size - 2])
    has_network = network.size > 0
    for i in range(ema_posts.size):
        posts = ema_posts[i]
        amp = math.sqrt(max(ema_reactions[i], 0.0) * max(ema_distinct[i], 0.0)) / (posts + floor)
        net = network[i] if has_network else 0.0
        raw = (w_a * math.log1p(posts) + w_r * log_reach[i] + w_m * math.log1p(amp)
               + w_n * net)
        if raw < k0:
            zz = z0 + lo_slope * (raw - k0)
        elif raw > k_last:
            zz = z_last + hi_slope * (raw - k_last)
        else:
            first = start[np.int32((raw - k0) * scale)]
            j = first
            for m in range(1, passes + 1):
                if padded[first + m] <= raw:
                    j += 1
            zz = (raw - knots[j]) * slope[j] + z[j]
        s = mean + sd * zz
        out[i] = min(max(s, 1.0), 100.0)
