"""The results tables as the report reads them: look-ups in ``comparison.csv`` by (point,
variant, brand, metric), paired differences from ``summary.csv``, sweep points in order, and
the report's own table of key metrics × variants (or × sweep values)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from simulator.experiment.statistics import (
    counts_events,
    differences_rare,
    interval_label,
    mean_interval,
)
from simulator.views.columns import names_as_text, short_param, sweep_params
from simulator.views.report.phrasing import (
    count,
    diff_is_rare,
    is_rare,
    rare_words,
    replicates_needed,
    too_rare,
    verdict,
)
from simulator.views.report.vocabulary import KEY_METRICS, finite, fmt, fmt_ci, fmt_value


def clean(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """Variant, brand and metric names as text (a variant called ``1`` must not become a
    number); ``None`` stays ``None``."""
    return None if table is None else names_as_text(table)


def _order(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


class Table:
    """Fast look-ups in a comparison table: rows by (point, variant, brand, metric)."""

    def __init__(self, comparison: pd.DataFrame):
        self.frame = clean(comparison)
        assert self.frame is not None
        self.sweep = "point" in self.frame.columns
        self.params = sweep_params(self.frame)
        self.variants = _order(self.frame["variant"])
        self.brands = _order(self.frame["brand"])
        self.metrics = _order(self.frame["metric"])
        self.points = _order(self.frame["point"]) if self.sweep else [None]
        self.rows: dict[tuple[Any, str, str, str], dict[str, Any]] = {}
        for row in self.frame.to_dict("records"):
            key = (row.get("point") if self.sweep else None, row["variant"], row["brand"], row["metric"])
            self.rows[key] = row

    def get(self, variant: str, brand: str, metric: str, point: Any = None) -> dict[str, Any] | None:
        """The row of (variant, brand, metric) at sweep point ``point``, or ``None`` if absent."""
        return self.rows.get((point, variant, brand, metric))

    def point_values(self, point: Any) -> dict[str, Any]:
        """The swept parameters' values at ``point`` (``{}`` if there is no such point)."""
        for (p, *_), row in self.rows.items():
            if p == point:
                return {c: row[c] for c in self.params}
        return {}

    def max_n(self) -> int:
        """The most replicates behind any row (0 if ``n`` is missing)."""
        n = pd.to_numeric(self.frame["n"], errors="coerce")
        return int(n.max()) if n.notna().any() else 0


def paired_difference(summary: pd.DataFrame, metric: str, a: str, b: str, brand: str,
                      point: Any = None,
                      point_b: Any = None) -> tuple[float, float, float, int, bool]:
    """Mean, 95% interval, count of (a − b), replicate by replicate (common random numbers),
    and whether the differences are too rare to judge (:func:`simulator.experiment.statistics.rarity`).

    ``a`` and ``b`` are variants; with ``point_b`` the two sides are sweep points instead
    (``a`` and ``b`` then name the same variant, or different ones).
    """
    s = clean(summary)
    assert s is not None
    s = s[s["brand"] == brand]

    def side(variant: str, p: Any) -> pd.Series:
        part = s[s["variant"] == variant]
        if p is not None and "point" in part.columns:
            part = part[part["point"] == p]
        return part.set_index("replicate")[metric].astype(float)

    x = side(a, point)
    y = side(b, point if point_b is None else point_b)
    diff = (x - y.reindex(x.index)).to_numpy()
    # labelled as in comparison.csv, so a − (first variant) gets comparison.csv's interval
    label = interval_label(point, a, brand, metric, "diff", b, *(() if point_b is None else (point_b,)))
    mean, _, lo, hi, n = mean_interval(diff, label)
    return mean, lo, hi, n, differences_rare(diff, counts_events(metric))


def means(table: Table, brand: str, metric: str, point: Any = None) -> dict[str, float]:
    """Each variant's mean of ``metric`` (variants without a value left out)."""
    out = {}
    for v in table.variants:
        r = table.get(v, brand, metric, point)
        if r is not None and finite(r["mean"]):
            out[v] = float(r["mean"])
    return out


def brand_prefix(table: Table, brand: str) -> str:
    """``Brand acme, `` when the folder has several brands, else nothing."""
    return f"Brand {brand}, " if len(table.brands) > 1 else ""


# --- sweep points ------------------------------------------------------------------------------------


def sorted_points(table: Table) -> list[Any]:
    """Sweep points in the order of the swept value (one numeric parameter), else as run."""
    points = list(table.points)
    if len(table.params) == 1:
        values = [table.point_values(p).get(table.params[0]) for p in points]
        try:
            return [p for _, p in sorted(zip([float(v) for v in values], points, strict=True),
                                         key=lambda t: t[0])]
        except (TypeError, ValueError):
            return points
    return points


def point_label(table: Table, point: Any) -> str:
    """A sweep point by its value (``63``), or ``threshold=63, perks=20`` for several."""
    values = table.point_values(point)
    if len(values) == 1:
        return fmt_value(next(iter(values.values())))
    return ", ".join(f"{short_param(k)}={fmt_value(v)}" for k, v in values.items())


# --- the report's table of key metrics -------------------------------------------------------------------


def summary_tables(table: Table, metrics: Sequence[str] = KEY_METRICS,
                   max_points: int = 12) -> list[tuple[list[str], list[list[str]]]]:
    """Key metrics × variants (or × sweep values, one table per variant and brand)."""
    metrics = [m for m in metrics if m in table.metrics]
    out = []
    for brand in table.brands:
        if table.sweep:
            points = sorted_points(table)[:max_points]
            for variant in table.variants:
                header = [f"{brand} · {variant}"] + [point_label(table, p) for p in points]
                rows = []
                for m in metrics:
                    cells = [f"`{m}`"]
                    for p in points:
                        r = table.get(variant, brand, m, p)
                        cells.append(_cell(r, False) if r else "")
                    rows.append(cells)
                out.append((header, rows))
            continue
        header = [brand, *table.variants]
        rows = []
        for m in metrics:
            cells = [f"`{m}`"]
            for v in table.variants:
                r = table.get(v, brand, m)
                cells.append(_cell(r, v != table.variants[0], table.get(table.variants[0], brand, m))
                             if r else "")
            rows.append(cells)
        out.append((header, rows))
    return out


def _cell(r: dict[str, Any], diff: bool, ref: dict[str, Any] | None = None) -> str:
    """Mean [interval] (rare: how rare, replicates needed), and the Δ to the first variant."""
    text = fmt(r["mean"])
    rare = is_rare(r)
    ci = fmt_ci(r["ci_low"], r["ci_high"])
    if rare:
        need = replicates_needed([r]).replace("about ", "~").replace("at least ", "≥ ")
        text += f" (rare: {rare_words(r)}; {need} needed)"
    elif ci:
        text += f" {ci}"
    if not (diff and finite(r["diff_mean"])):
        return text
    delta = f"<br>Δ {fmt(r['diff_mean'], signed=True)}"
    if diff_is_rare(r, ref) and count(r.get("diff_n")) > 1:
        return f"{text}{delta} ({too_rare([r, ref])})"
    if finite(r["diff_ci_low"]):
        star = " ✱" if verdict(r["diff_ci_low"], r["diff_ci_high"], 1) != "noise" else ""
        return f"{text}{delta} {fmt_ci(r['diff_ci_low'], r['diff_ci_high'], signed=True)}{star}"
    return f"{text}{delta} (no paired interval)"
