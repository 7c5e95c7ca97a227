"""Paired verdicts over the uncertainty space: per sample, is a variant better than the
reference beyond noise, worse, or indistinguishable; and in what share of the space.

The input is a tidy table with one row per (sample, variant, replicate): the columns
``sample``, ``variant``, ``replicate``, one column per metric, and optionally other keys (e.g.
``brand``), kept in every output. Replicate ``r`` of a variant and of the reference at the same
sample share their seed, so their difference is paired.

The interval of a mean paired difference follows :mod:`simulator.experiment.statistics`: with
at least :data:`BOOTSTRAP_FROM` finite differences it is the BCa bootstrap interval of
:func:`~simulator.experiment.statistics.bootstrap_interval`, seeded from its label (so the
tables are byte-identical); with fewer it is the Student-t interval, which is honest for few
replicates where a bootstrap, resampling 3–5 values, is too narrow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from simulator.experiment.statistics import CONFIDENCE, bootstrap_interval, interval_label

# A variant is a robust winner (or loser) for a metric when it is better (worse) than the
# reference beyond noise in at least ROBUST_SHARE of the samples of the uncertainty space: 0.9
# leaves room for a thin band of samples where the difference is too small to resolve, but
# never calls a split (say 70 : 30) robust.
ROBUST_SHARE = 0.9
# Bootstrap intervals from this many finite paired differences on; t-intervals below it
# (a BCa interval of 3–9 values under-covers: it treats them as the whole population).
BOOTSTRAP_FROM = 10
INDISTINGUISHABLE = "indistinguishable"
UNDEFINED = "undefined"  # fewer than two finite paired differences: no interval
# (above zero, below zero) in the metric's better direction: +1 more is better, −1 less is
# better, 0 neither
WORDS = {1: ("better", "worse"), -1: ("worse", "better"), 0: ("higher", "lower")}
RESERVED = ("sample", "variant", "replicate")
# the columns of sample_verdicts besides its keys
VERDICT_COLUMNS = ("variant", "reference", "metric", "direction", "sample", "n",
                   "mean_difference", "ci_low", "ci_high", "interval", "verdict")


def direction(metric: str, directions: Mapping[str, int] | None = None) -> int:
    """A metric's better direction: ``directions[metric]`` if given, else the catalogue's
    ``BY_NAME[metric].better`` (+1, −1 or 0)."""
    if directions is not None and metric in directions:
        return int(directions[metric])
    from simulator.model.metrics import BY_NAME

    if metric not in BY_NAME:
        raise KeyError(f"metric {metric!r} is not in the catalogue: give its direction")
    return int(BY_NAME[metric].better)


def verdict_words(better: int) -> tuple[str, ...]:
    """The verdicts a metric of direction ``better`` can get, in the order tables list them."""
    up, down = WORDS[better]
    first, second = (up, down) if better >= 0 else (down, up)
    return (first, second, INDISTINGUISHABLE, UNDEFINED)


def verdict(low: float, high: float, better: int) -> str:
    """The verdict of an interval ``[low, high]`` of a difference (variant − reference): above
    zero or below zero in the words of the metric's direction, ``indistinguishable`` when it
    holds zero, ``undefined`` when it is missing."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return UNDEFINED
    up, down = WORDS[better]
    return up if low > 0 else down if high < 0 else INDISTINGUISHABLE


def key_columns(table: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    """The table's other keys, e.g. ``brand`` or ``point``: columns that are not sample,
    variant, replicate, one of ``metrics``, a metric of the catalogue or of float type (other
    metrics' columns, left out)."""
    from simulator.model.metrics import BY_NAME

    return [c for c in table.columns if c not in RESERVED and c not in metrics
            and c not in BY_NAME and not pd.api.types.is_float_dtype(table[c])]


def verdict_keys(verdicts: pd.DataFrame) -> list[str]:
    """The other keys (e.g. ``brand``) of a :func:`sample_verdicts` table."""
    return [c for c in verdicts.columns if c not in VERDICT_COLUMNS]


def _metrics(table: pd.DataFrame, metrics: Sequence[str] | None) -> list[str]:
    if metrics is not None:
        missing = [m for m in metrics if m not in table.columns]
        if missing:
            raise KeyError(f"metric columns missing from the table: {missing}")
        return list(metrics)
    from simulator.model.metrics import BY_NAME

    return [c for c in table.columns if c in BY_NAME]


def paired_differences(table: pd.DataFrame, reference: str,
                       metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Per (keys, sample, variant ≠ reference, replicate, metric): ``difference`` = the
    variant's value − the reference's at the same keys, sample and replicate (NaN where the
    reference has none)."""
    for column in RESERVED:
        if column not in table.columns:
            raise KeyError(f"the table needs a {column!r} column")
    metrics = _metrics(table, metrics)
    keys = key_columns(table, metrics)
    variants = list(dict.fromkeys(table["variant"].astype(str)))
    if reference not in variants:
        raise KeyError(f"reference variant {reference!r} is not in the table: {variants}")
    data = table[[*keys, *RESERVED, *metrics]].assign(variant=table["variant"].astype(str))
    index = [*keys, "sample", "replicate"]
    base = data[data["variant"] == reference].set_index(index)[metrics].astype(float)
    if base.index.duplicated().any():
        raise ValueError(f"the reference {reference!r} has two rows for one sample and replicate")
    parts = []
    for variant in variants:
        if variant == reference:
            continue
        own = data[data["variant"] == variant].set_index(index)[metrics].astype(float)
        diff = own - base.reindex(own.index)
        long = diff.reset_index().melt(id_vars=index, value_vars=metrics, var_name="metric",
                                       value_name="difference")
        long.insert(len(keys) + 1, "variant", variant)
        parts.append(long)
    columns = [*keys, "sample", "variant", "replicate", "metric", "difference"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)[columns]
    order = {m: i for i, m in enumerate(metrics)}
    out["_m"] = out["metric"].map(order)
    out["_v"] = out["variant"].map({v: i for i, v in enumerate(variants)})
    out = out.sort_values([*keys, "_v", "_m", "sample", "replicate"], kind="stable")
    return out.drop(columns=["_m", "_v"]).reset_index(drop=True)


def _t_interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray,
                level: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy import stats  # here: ~0.5 s to import, which most commands never need

    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    return mean - half, mean + half


def sample_verdicts(table: pd.DataFrame, reference: str, metrics: Sequence[str] | None = None,
                    directions: Mapping[str, int] | None = None,
                    level: float = CONFIDENCE) -> pd.DataFrame:
    """Per (keys, variant ≠ reference, metric, sample): the mean paired difference to the
    ``reference`` with its interval and the verdict.

    Columns: the keys, ``variant``, ``reference``, ``metric``, ``direction``, ``sample``,
    ``n`` (finite paired differences), ``mean_difference``, ``ci_low``, ``ci_high``,
    ``interval`` (``t``, ``bootstrap`` or empty) and ``verdict`` (:func:`verdict`). Metrics are
    the catalogue's columns of ``table`` unless ``metrics`` names them; ``directions`` gives
    the better direction of metrics the catalogue does not know (or overrides it).
    """
    metrics = _metrics(table, metrics)
    keys = key_columns(table, metrics)
    diffs = paired_differences(table, reference, metrics)
    group = [*keys, "variant", "metric", "sample"]
    finite = diffs.assign(difference=diffs["difference"].where(np.isfinite(diffs["difference"])))
    agg = finite.groupby(group, sort=False, dropna=False)["difference"].agg(["count", "mean", "std"])
    agg = agg.reset_index().rename(columns={"count": "n", "mean": "mean_difference"})
    n = agg["n"].to_numpy(dtype=int)
    mean = agg["mean_difference"].to_numpy(dtype=float)
    sd = agg["std"].to_numpy(dtype=float)
    low, high = _t_interval(mean, np.nan_to_num(sd), n, level)
    kind = np.where(n >= 2, "t", "").astype(object)
    constant = (n >= 2) & (sd == 0)
    low[constant] = high[constant] = mean[constant]
    boot = np.flatnonzero((n >= BOOTSTRAP_FROM) & ~constant)
    if boot.size:
        values = {k: g.to_numpy(dtype=float) for k, g in
                  finite.dropna(subset=["difference"]).groupby(group, sort=False)["difference"]}
        for i in boot:
            row = agg.iloc[i]
            key = tuple(row[c] for c in group)
            label = interval_label(*key[:-3], row["sample"], row["variant"], row["metric"],
                                   "diff", reference)
            low[i], high[i] = bootstrap_interval(values[key], label, level)
            kind[i] = "bootstrap"
    agg["ci_low"], agg["ci_high"], agg["interval"] = low, high, kind
    agg["direction"] = agg["metric"].map({m: direction(m, directions) for m in metrics})
    agg["verdict"] = [verdict(lo, hi, d) for lo, hi, d in
                      zip(low, high, agg["direction"], strict=True)]
    agg["reference"] = reference
    return agg[[*keys, *VERDICT_COLUMNS]].reset_index(drop=True)


def verdict_shares(verdicts: pd.DataFrame, robust_share: float = ROBUST_SHARE) -> pd.DataFrame:
    """Per (keys, variant, metric) and verdict: ``count`` of samples with that verdict, the
    ``samples`` in all and the ``share``; ``robust`` is true on a better/worse (higher/lower)
    row whose share is at least ``robust_share`` (:data:`ROBUST_SHARE`) — a split is never
    robust, and neither is a majority of indistinguishable samples.

    Each sample's interval is a 95% interval: where the variants do not differ at all, about
    5% of the samples still get a better or worse verdict (half each), so shares of a few
    percent are noise."""
    keys = verdict_keys(verdicts)
    group = [*keys, "variant", "reference", "metric", "direction"]
    rows = []
    for values, part in verdicts.groupby(group, sort=False, dropna=False):
        label = dict(zip(group, values, strict=True))
        total = int(part["sample"].nunique())
        counts = part["verdict"].value_counts()
        for word in verdict_words(int(label["direction"])):
            count = int(counts.get(word, 0))
            share = count / total if total else np.nan
            rows.append({**label, "verdict": word, "count": count, "samples": total,
                         "share": share,
                         "robust": bool(word in WORDS[int(label["direction"])] and total
                                        and share >= robust_share)})
    return pd.DataFrame(rows, columns=[*group, "verdict", "count", "samples", "share", "robust"])
