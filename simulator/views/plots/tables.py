"""The tables behind the figures: tidy steps/summary tables, swept parameters, means with
the bootstrap intervals of ``comparison.csv`` (:func:`interval_table`, :func:`band_table`),
error-bar lengths, the summary implied by a steps table, Pareto dominance, and the checks and
notes the figures share (one brand, one sweep point, the replicates behind a mean)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulator.experiment.statistics import bootstrap_bands, bootstrap_interval, interval_label
from simulator.views.columns import names_as_text, short_param, sweep_params

CONFIDENCE = 0.95


def tidy(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of a steps/summary table with ``variant`` and ``brand`` as text.

    Tables of a bare model run (``model.steps_frame()``) lack ``variant`` and ``replicate``;
    they are taken as variant ``"base"``, replicate 0.
    """
    out = table.copy()
    if "variant" not in out.columns:
        out.insert(0, "variant", "base")
    if "replicate" not in out.columns:
        out.insert(list(out.columns).index("variant") + 1, "replicate", 0)
    return names_as_text(out)


def interval_table(frame: pd.DataFrame, by: Sequence[str], value: str,
                   confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean of ``value`` per group with its bootstrap interval — the interval of
    ``comparison.csv`` (:func:`simulator.experiment.statistics.bootstrap_interval`, seeded by the same
    labels, so a group that is a row of ``comparison.csv`` gets the same interval).

    Returns the ``by`` columns plus ``mean``, ``n`` (defined values), ``low`` and ``high``
    (NaN when fewer than two values are defined; never outside the values' range, so never
    below 0 for a metric that is never negative). NaN and infinite values are left out. Groups
    keep their order of first appearance.
    """
    values = frame[value].astype(float).replace([np.inf, -np.inf], np.nan)
    grouped = values.groupby([frame[c] for c in by], sort=False, dropna=False)
    out = grouped.agg(["mean", "count"]).reset_index().rename(columns={"count": "n"})
    ends = [bootstrap_interval(part.to_numpy(), _interval_label(frame, by, keys, value), confidence)
            for keys, part in grouped]
    out["low"] = [lo for lo, _ in ends]
    out["high"] = [hi for _, hi in ends]
    return out


def _interval_label(frame: pd.DataFrame, by: Sequence[str], keys: object, value: str) -> str:
    """The bootstrap label of one group: ``point|variant|brand|metric`` as in comparison.csv
    (a column not grouped by counts when the frame holds one value of it), then any other
    grouping column as ``name=value``."""
    keys = keys if isinstance(keys, tuple) else (keys,)
    group = dict(zip(by, keys, strict=True))
    parts = []
    for col in ("point", "variant", "brand"):
        if col in group:
            parts.append(group[col])
        elif col in frame.columns and frame[col].nunique(dropna=False) == 1:
            parts.append(frame[col].iloc[0])
        else:
            parts.append(None)
    extra = [f"{c}={group[c]}" for c in by if c not in ("point", "variant", "brand")]
    return interval_label(*parts, value, *extra)


def band_table(frame: pd.DataFrame, by: Sequence[str], value: str, along: str = "step",
               confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Like :func:`interval_table` for time series: per group of ``by`` and value of ``along``,
    the mean of ``value`` over the replicates and its bootstrap interval, computed for all
    values of ``along`` at once (:func:`simulator.experiment.statistics.bootstrap_bands`)."""
    out = []
    for keys, part in frame.groupby(list(by), sort=False, dropna=False):
        matrix = part.pivot(index="replicate", columns=along, values=value).astype(float)
        matrix = matrix.replace([np.inf, -np.inf], np.nan)
        label = interval_label(_interval_label(part, by, keys, value), along)
        low, high = bootstrap_bands(matrix.to_numpy(), label, confidence)
        table = pd.DataFrame({along: matrix.columns, "mean": matrix.mean(axis=0).to_numpy(),
                              "n": matrix.notna().sum(axis=0).to_numpy(), "low": low, "high": high})
        keys = keys if isinstance(keys, tuple) else (keys,)
        for i, (col, key) in enumerate(zip(by, keys, strict=True)):
            table.insert(i, col, key)
        out.append(table)
    return pd.concat(out, ignore_index=True) if out else \
        pd.DataFrame(columns=[*by, along, "mean", "n", "low", "high"])


def error_bars(mean: Sequence[float], low: Sequence[float], high: Sequence[float]) -> np.ndarray:
    """Asymmetric error-bar lengths ``[[mean − low], [high − mean]]`` for ``errorbar`` (NaN,
    drawn as no bar, where the interval is undefined). A bootstrap interval need not be
    centred on the mean; should it not contain the mean, the side beyond it is drawn as 0."""
    m, lo, hi = (np.asarray(x, dtype=float) for x in (mean, low, high))
    with np.errstate(invalid="ignore"):
        return np.fmax(np.vstack([m - lo, hi - m]), 0.0) * np.where(np.isnan(lo + hi), np.nan, 1.0)


def final_rows(steps: pd.DataFrame) -> pd.DataFrame:
    """The summary table implied by a steps table: the last step of every run and brand."""
    steps = tidy(steps)
    keys = [c for c in ("point", "variant", "replicate", "brand") if c in steps.columns]
    return steps.sort_values("step", kind="stable").groupby(keys, sort=False).tail(1) \
        .sort_index().drop(columns="step").reset_index(drop=True)


def pareto_dominated(xs: Sequence[float], ys: Sequence[float], x_more_better: bool = True,
                     y_more_better: bool = False) -> np.ndarray:
    """Which points are dominated: another point is at least as good on both axes and
    strictly better on one. Points with a NaN coordinate neither dominate nor are dominated."""
    x = np.asarray(xs, dtype=float) * (1 if x_more_better else -1)
    y = np.asarray(ys, dtype=float) * (1 if y_more_better else -1)
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(x.size, dtype=bool)
    for i in np.flatnonzero(ok):
        others = ok & (np.arange(x.size) != i)
        at_least = (x >= x[i]) & (y >= y[i])
        strictly = (x > x[i]) | (y > y[i])
        out[i] = bool((others & at_least & strictly).any())
    return out


def _brand(table: pd.DataFrame, brand: str | None) -> tuple[pd.DataFrame, str]:
    brands = list(dict.fromkeys(table["brand"].astype(str)))
    if brand is not None and table.empty:  # a live run before its first step
        return table, brand
    if brand is None:
        if len(brands) != 1:
            raise ValueError(f"the table has {len(brands)} brands ({', '.join(brands)}); "
                             "choose one with brand=...")
        brand = brands[0]
    if brand not in brands:
        raise ValueError(f"no brand {brand!r} in the table (brands: {', '.join(brands)})")
    return table[table["brand"].astype(str) == brand], brand


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what}: the table has no column(s) {', '.join(missing)}")


def _single_point(table: pd.DataFrame, what: str) -> None:
    if "point" in table.columns and table["point"].nunique() > 1:
        raise ValueError(f"{what} draws one sweep point; select one (table[table.point == k]) "
                         "or use plot_sweep")


def _point_labels(table: pd.DataFrame, names: bool = True) -> dict[object, str]:
    """``point → "threshold=40, perks=50"`` (or ``"40, 50"``) from the parameter columns of a
    sweep table."""
    params = sweep_params(table)
    first = table.drop_duplicates("point")
    return {row["point"]: ", ".join(f"{short_param(p)}={_fmt(row[p])}" if names else _fmt(row[p])
                                    for p in params) or f"point {row['point']}"
            for _, row in first.iterrows()}


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def _replicates_note(table: pd.DataFrame) -> str:
    if table.empty:
        return "no steps yet"
    keys = [c for c in ("point", "variant") if c in table.columns]
    counts = table.groupby(keys, sort=False)["replicate"].nunique()
    lo, hi = int(counts.min()), int(counts.max())
    n = f"{lo}" if lo == hi else f"{lo}–{hi}"
    if hi <= 1:
        return "one replicate: no confidence intervals"
    return f"mean of {n} replicates; bands and whiskers: {CONFIDENCE:.0%} bootstrap CI of the mean"
