"""Statistics of replicated runs: bootstrap intervals, rarity and the comparison table.

Used by the experiment runner, the claims, the figures and the report; needs neither the model
nor the results folder.
"""

from __future__ import annotations

import math
import warnings
import zlib
from typing import Any

import numpy as np
import pandas as pd

# --- statistics ---------------------------------------------------------------------------------
#
# Every interval in the outputs (comparison.csv, the figures, the report) is a bootstrap
# interval of a mean computed here, by bootstrap_interval (one sample) or bootstrap_bands (one
# sample per column, e.g. per step of a time series). A bootstrap interval of a mean is made of
# means of resamples of the data, so it stays within [min, max] of the values: a count or a
# share never gets a negative bound, unlike the symmetric Student-t interval used before.

CONFIDENCE = 0.95
# 4999 resamples: the Monte-Carlo error of a 2.5% / 97.5% quantile of the bootstrap distribution
# is then about ±0.2 percentage points of coverage (BCa needs more resamples than the percentile
# method, and B + 1 a multiple of 1/α keeps the quantiles on resamples); one interval of 20
# replicates takes ~4 ms, so the ~200 intervals of a 3-variant × 35-metric comparison take < 1 s.
N_RESAMPLES = 4999
BOOTSTRAP_SEED = 20111027  # fixed: intervals depend only on the values and their labels
BATCH = 500  # resamples held in memory at once by the vectorised bands (steps × 500 × replicates)
# A row is "rare" when fewer than MIN_NONZERO replicates have a finite, non-zero value: with
# fewer than ~5 non-zero runs the mean is driven by a handful of events, and a bootstrap
# interval (resampling those few events) is not meaningful, so no interval or verdict is shown.
MIN_NONZERO = 5
RULE_OF_THREE = 3  # no event in n runs: the per-run rate is below 3/n with 95% confidence


def interval_label(*parts: Any) -> str:
    """The label that seeds a bootstrap: its parts joined by ``|`` (``None`` as empty), e.g.
    ``"|relevance|courtside|reach"`` (no sweep point) or ``"3|lottery|courtside|reach|diff"``."""
    return "|".join("" if p is None else str(p) for p in parts)


def bootstrap_rng(label: str) -> np.random.Generator:
    """The generator of one bootstrap: a fixed constant and a stable hash (CRC-32) of its label,
    never global state, so an interval is the same whatever ran before it or where."""
    return np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(label.encode("utf-8"))])


def _bootstrap(data: np.ndarray, label: str, level: float, n_resamples: int,
               batch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """BCa interval of the mean along axis 0 of ``data`` (≥ 2 finite rows, no NaN); the
    percentile interval of the same resamples where BCa is undefined (NaN)."""
    from scipy import stats  # here: it takes ~0.5 s to import, and a single run needs none

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate-data and BCa warnings: handled below
        res = stats.bootstrap((data,), np.mean, axis=0, vectorized=True, confidence_level=level,
                              n_resamples=n_resamples, method="BCa", batch=batch,
                              rng=bootstrap_rng(label))
    low = np.atleast_1d(np.asarray(res.confidence_interval.low, dtype=float)).copy()
    high = np.atleast_1d(np.asarray(res.confidence_interval.high, dtype=float)).copy()
    bad = ~(np.isfinite(low) & np.isfinite(high))
    if bad.any():
        dist = np.asarray(res.bootstrap_distribution, dtype=float).reshape(-1, n_resamples)
        tail = 50 * (1 - level)
        q = np.percentile(dist[bad], [tail, 100 - tail], axis=-1)
        low[bad], high[bad] = q[0], q[1]
    # the resampled means lie within [min, max]; clip what rounding may push outside
    lo_data, hi_data = np.atleast_1d(data.min(axis=0)), np.atleast_1d(data.max(axis=0))
    return np.clip(low, lo_data, hi_data), np.clip(high, lo_data, hi_data)


def bootstrap_interval(values: Any, label: str, level: float = CONFIDENCE,
                       n_resamples: int = N_RESAMPLES) -> tuple[float, float]:
    """Bootstrap interval of the mean of the finite ``values``: BCa, or percentile where BCa is
    undefined, with ``n_resamples`` resamples drawn from :func:`bootstrap_rng` of ``label``.

    The one definition of the intervals in comparison.csv, the figures and the report.
    Fewer than two finite values: ``(nan, nan)``; all equal to ``v``: ``(v, v)``.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size < 2:
        return (np.nan, np.nan)
    if v.min() == v.max():
        return (float(v[0]), float(v[0]))
    low, high = _bootstrap(v, label, level, n_resamples)
    return (float(low[0]), float(high[0]))


def bootstrap_bands(matrix: Any, label: str, level: float = CONFIDENCE,
                    n_resamples: int = N_RESAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bootstrap_interval` of each column of ``matrix`` (replicates × columns, e.g.
    steps), vectorised: columns with the same replicates defined are bootstrapped together,
    replicates resampled jointly across them. Returns the low and high ends per column (NaN
    where fewer than two values are finite)."""
    x = np.asarray(matrix, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    x = np.where(np.isfinite(x), x, np.nan)
    low = np.full(x.shape[1], np.nan)
    high = np.full(x.shape[1], np.nan)
    defined = np.isfinite(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        lo_v, hi_v = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    usable = defined.sum(axis=0) >= 2
    constant = usable & (lo_v == hi_v)
    low[constant] = high[constant] = lo_v[constant]
    todo = np.flatnonzero(usable & ~constant)
    patterns: dict[bytes, list[int]] = {}
    for j in todo:
        patterns.setdefault(np.packbits(defined[:, j]).tobytes(), []).append(int(j))
    for key, cols in patterns.items():
        rows = defined[:, cols[0]]
        lo, hi = _bootstrap(x[np.ix_(rows, cols)], interval_label(label, key.hex()), level,
                            n_resamples, batch=BATCH)
        low[cols], high[cols] = lo, hi
    return low, high


def mean_interval(values: Any, label: str,
                  level: float = CONFIDENCE) -> tuple[float, float, float, float, int]:
    """Mean, standard deviation, bootstrap interval of the mean (:func:`bootstrap_interval`)
    and count of the finite values; NaN where undefined (no value; one value: no sd or interval)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(v.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan, 1)
    low, high = bootstrap_interval(v, label, level)
    return (mean, float(v.std(ddof=1)), low, high, n)


def rarity(values: Any, events: bool = True) -> dict[str, Any]:
    """How many runs carry information, and whether that is too few to compare.

    For a metric that counts events (``events``: users reached, adopters, mentions — the
    catalogue's ``count`` metrics, and differences of them) a run informs when its value is
    finite and non-zero: a mean of mostly zeros is driven by a handful of events. For other
    metrics (shares, ratios, costs) a finite value informs, 0 included (a coverage ratio of
    0 in every run is a result, not a rare event). ``runs`` counts every replicate,
    ``nonzero`` the informative ones. With fewer than ``MIN_NONZERO`` the row is ``rare``,
    and ``replicates_needed`` is the replicate count at which about ``MIN_NONZERO``
    informative runs are expected, ``ceil(MIN_NONZERO · runs / nonzero)``; with none, the
    rule of three (the per-run rate is below 3/runs with 95% confidence) gives the lower
    bound ``ceil(MIN_NONZERO · runs / 3)`` (``replicates_needed_is_lower_bound``).
    """
    v = np.asarray(values, dtype=float).ravel()
    runs = int(v.size)
    finite_ = np.isfinite(v)
    nonzero = int((finite_ & (v != 0)).sum() if events else finite_.sum())
    rare = runs > 0 and nonzero < MIN_NONZERO
    needed, lower = np.nan, False
    if rare:
        lower = nonzero == 0
        needed = math.ceil(MIN_NONZERO * runs / (RULE_OF_THREE if lower else nonzero))
    return {"runs": runs, "nonzero": nonzero, "rare": rare, "replicates_needed": needed,
            "replicates_needed_is_lower_bound": lower}


def differences_rare(differences: Any, events: bool = True) -> bool:
    """Whether paired differences are too rare to judge: a difference is what is judged, so it
    is rare when it rests on a handful of events — some, but fewer than ``MIN_NONZERO``,
    replicates differ. Differences of 0 in every replicate are not rare: the variants agree."""
    d = np.asarray(differences, dtype=float)
    r = rarity(d, events)
    return bool(r["rare"] and not (events and r["nonzero"] == 0 and np.isfinite(d).sum() > 1))


def counts_events(metric: str) -> bool:
    """Whether a metric counts events (the catalogue's ``count`` kind; unknown names: yes)."""
    from simulator.model.metrics import BY_NAME

    m = BY_NAME.get(metric)
    return m is None or m.kind == "count"


def comparison_table(summary: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Per (point,) variant × brand × metric: mean, std, 95% bootstrap interval, n, the paired
    difference to the first variant (same point, brand and replicate) with its 95% bootstrap
    interval, and how rare non-zero values are (docs/reference/results.md#comparisoncsv)."""
    group_cols = [c for c in summary.columns if c not in metrics and c not in ("replicate", "step")]
    point_cols = [c for c in group_cols if c not in ("variant", "brand")]
    variants = list(dict.fromkeys(summary["variant"]))
    first = variants[0]
    rows = []
    # a sweep point's number names its parameter values: pairing on it alone is the same
    # pairing, and much faster than on every parameter's column (a robustness study has dozens)
    base_keys = [*(["point"] if "point" in point_cols else point_cols), "brand", "replicate"]
    base = summary[summary["variant"] == first].set_index(base_keys)[metrics].astype(float)
    for keys, part in summary.groupby(group_cols, sort=False, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        label = dict(zip(group_cols, keys, strict=True))
        point = label["point"] if "point" in label else None
        if label["variant"] != first:
            aligned = part.set_index(base_keys)[metrics].astype(float)
            diffs = aligned - base.reindex(aligned.index)
        for metric in metrics:
            name = interval_label(point, label["variant"], label["brand"], metric)
            values = part[metric].to_numpy()
            mean, sd, lo, hi, n = mean_interval(values, name)
            row = {**label, "metric": metric, "mean": mean, "std": sd, "ci_low": lo,
                   "ci_high": hi, "n": n}
            events = counts_events(metric)
            rare = rarity(values, events)
            if label["variant"] == first:
                d = (np.nan, np.nan, np.nan, np.nan, 0)
                diff_rare = False
            else:
                joined = diffs[metric]
                d = mean_interval(joined.to_numpy(), interval_label(name, "diff", first))
                diff_rare = differences_rare(joined.to_numpy(), events)
            row.update({"diff_mean": d[0], "diff_ci_low": d[2], "diff_ci_high": d[3], "diff_n": d[4]})
            row.update(rare)
            row["diff_rare"] = diff_rare
            rows.append(row)
    out = pd.DataFrame(rows)
    order = [*point_cols, "variant", "brand", "metric"]
    return out[[*order, *[c for c in out.columns if c not in order]]]
