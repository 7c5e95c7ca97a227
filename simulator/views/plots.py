"""Figures drawn from result tables only — never from live models (ARCHITECTURE: tables are
the interface between running and looking), so any figure can be redrawn without re-running.
The dashboard draws its live pictures with the same functions, from the tables of the model it
runs (``model.users_frame()``, its follows and the steps recorded so far).

Every function takes pandas tables as read from a results folder (``steps.csv``,
``summary.csv``, ``users.csv``, ``edges.csv``; see docs/reference/results.md) and returns a
:class:`matplotlib.figure.Figure`; :func:`draw_all` writes every applicable figure of a folder.

Conventions shared by all figures:

- A variant keeps its colour (and line style and marker) in every figure: colour ``i`` of the
  Okabe–Ito palette for the ``i``-th variant in the order the variants first appear in the
  table (:func:`variant_styles`; one place decides it).
- Means are over replicates; intervals are 95% bootstrap intervals of the mean across
  replicates, the intervals of ``comparison.csv`` (:func:`interval_table`, :func:`band_table`;
  BCa, see :func:`simulator.experiment.statistics.bootstrap_interval`), asymmetric and never outside the
  values' range, absent when only one replicate defines the value. NaN metrics (e.g.
  ``authenticity`` before any exposure) are left out of means and counts, never drawn as 0.
- Figures are standalone ``Figure`` objects rendered with Agg: importing this module does not
  change the user's matplotlib backend and nothing is left open in pyplot.
- "Pouting" is pout at or above the scenario's ``behaviour.pout_threshold``, read from the
  folder's ``scenario.yaml`` per variant (:func:`pout_threshold`), as in the model's metrics.
- :func:`save` writes PNG (dpi 120) and SVG without timestamps and with a fixed SVG id salt,
  so drawing the same tables twice gives byte-identical files.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulator.experiment.statistics import bootstrap_bands, bootstrap_interval, interval_label
from simulator.model.metrics import CATALOGUE, METRICS
from simulator.scenario.schema import Behaviour

# Okabe & Ito (2008): distinguishable with the common forms of colour blindness; yellow and
# black last (yellow is faint on white, black is kept for annotations)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
LINESTYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

CONFIDENCE = 0.95
DPI = 120
# "pouting" in the network picture when no scenario says otherwise: the scenario format's default
DEFAULT_POUT_THRESHOLD: float = Behaviour.model_fields["pout_threshold"].default
NETWORK_MAX_USERS = 3000  # the runner writes edges.csv only up to this size
RASTERIZE_NODES = 1000  # above this many users, nodes are a bitmap inside the SVG (~1 kB each)
LAYOUT_SEED = 2012
MAX_BAR_GROUPS = 12  # sweep points side by side in final_metrics before it stops being readable

TIMESERIES_METRICS = ("reach", "engaged_reach", "authenticity", "pout_fans", "adopters_campaign",
                      "reach_negative")
FINAL_METRICS = ("engaged_reach", "reach", "authenticity", "recipient_fit", "cost_per_engaged_reach",
                 "pout_fans")
TRADEOFF = ("engaged_reach", "pout_fans")
SWEEP_METRICS = ("engaged_reach", "pout_fans")

MORE, LESS = "more is better", "less is better"
# metric: (what it is, unit, which direction is better — None when neither is), from the catalogue
METRIC_INFO: dict[str, tuple[str, str, str | None]] = {
    m.name: (m.label, m.unit, MORE if m.better > 0 else LESS if m.better < 0 else None)
    for m in CATALOGUE
}

# network picture: states in drawing order (later on top) and legend order (reversed); the
# labels are formatted with the pout threshold
NETWORK_STATES = [
    ("none", "never heard of the brand", "#BBBBBB"),
    ("aware", "heard of it (any mention, complaints too)", "#56B4E9"),
    ("pouting", "pouting, pout ≥ {threshold:g}", "#D55E00"),
    ("adopted", "adopted", "#009E73"),
    ("perk", "got a perk", "#E69F00"),
]


# ----------------------------------------------------------------------------- table helpers

class Style(NamedTuple):
    """How one variant is drawn, in every figure."""

    color: str
    linestyle: str
    marker: str


def variant_styles(table: pd.DataFrame) -> dict[str, Style]:
    """Colour, line style and marker of each variant, by order of first appearance in ``table``.

    This is the only place that decides how a variant looks, so a variant has the same colour
    in every figure drawn from tables that list the variants in the same order.
    """
    order = list(dict.fromkeys(table["variant"].astype(str)))
    return {v: Style(PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)],
                     MARKERS[i % len(MARKERS)]) for i, v in enumerate(order)}


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
    out["variant"] = out["variant"].astype(str)
    if "brand" in out.columns:
        out["brand"] = out["brand"].astype(str)
    return out


def sweep_params(table: pd.DataFrame) -> list[str]:
    """The swept parameters of a sweep table (one with ``point``): the columns before
    ``variant``, except ``point`` and the table's own columns."""
    cols = list(table.columns)
    if "point" not in cols or "variant" not in cols:
        return []
    known = {"point", "replicate", "step", "brand", *METRICS, *METRIC_INFO}
    return [c for c in cols[:cols.index("variant")] if c not in known]


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


def slug(text: str) -> str:
    """A file-name-safe form of ``text``: ``campaigns[0].strategy.threshold`` →
    ``campaigns_0_strategy_threshold``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_") or "x"


def metric_info(metric: str) -> tuple[str, str, str | None]:
    """(what it is, unit, better direction or None) of a metric; unknown columns get their name."""
    return METRIC_INFO.get(metric, (metric.replace("_", " ").capitalize(), "", None))


def metric_label(metric: str, direction: bool = False) -> str:
    """Axis label of a metric with its unit (and which direction is better, if asked)."""
    name, unit, better = metric_info(metric)
    label = f"{name} ({unit})" if unit else name
    return f"{label} — {better}" if direction and better else label


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


def _short(param: str) -> str:
    return re.split(r"[.\]]", param)[-1] or param


def _point_labels(table: pd.DataFrame, names: bool = True) -> dict[object, str]:
    """``point → "threshold=40, perks=50"`` (or ``"40, 50"``) from the parameter columns of a
    sweep table."""
    params = sweep_params(table)
    first = table.drop_duplicates("point")
    return {row["point"]: ", ".join(f"{_short(p)}={_fmt(row[p])}" if names else _fmt(row[p])
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


def _grid(n: int, width: float = 4.3, height: float = 3.3, fig: Figure | None = None,
          columns: int = 3) -> tuple[Figure, list[Axes]]:
    """``n`` panels in rows of ``columns``, on ``fig`` or on a new figure sized to them."""
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    if fig is None:
        fig = Figure(figsize=(width * cols, height * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _variant_legend(fig: Figure, styles: dict[str, Style], present: pd.Series,
                    marker: bool = False) -> None:
    """A legend of the variants in ``present``, drawn as in every figure."""
    shown = {v: s for v, s in styles.items() if v in set(present)}
    if not shown:  # a live run before its first step
        return
    handles = [Line2D([], [], color=s.color, linestyle=s.linestyle, linewidth=2,
                      marker=s.marker if marker else None) for s in shown.values()]
    _legend(fig, handles, list(shown), "variant")


def _legend(fig: Figure, handles: list, labels: list[str], title: str) -> None:
    """Every figure's legend: below the panels, never over data or the title."""
    widest = max((len(label) for label in labels), default=1)
    ncols = max(1, min(len(labels), 5, 90 // (widest + 6)))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False, title=title,
               fontsize=9, title_fontsize=9)


def _fit(text: str, inches: float | None, fontsize: float) -> str:
    """``text`` broken between words onto lines at most ``inches`` wide at ``fontsize``
    (measured in the default font); unchanged if it fits on one line or ``inches`` is None."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    if inches is None:
        return text
    font, measure, limit = FontProperties(size=fontsize), TextToPath(), inches * 72

    def width(line: str) -> float:
        return measure.get_text_width_height_descent(line, font, ismath=False)[0]

    lines: list[str] = []
    for word in text.split(" "):
        if lines and width(f"{lines[-1]} {word}") <= limit:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return text if len(lines) <= 1 else "\n".join(lines)


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "not defined in any run", transform=ax.transAxes, ha="center", va="center",
            color="0.4")


def _direction_title(metric: str) -> str:
    name, _, better = metric_info(metric)
    return f"{name}\n({better})" if better else name


# ----------------------------------------------------------------------------- figures

def plot_timeseries(steps: pd.DataFrame, metrics: Sequence[str], brand: str | None = None, *,
                    fig: Figure | None = None, columns: int = 3, days: int | None = None,
                    start: int | None = None, title: str | None = None,
                    title_width: float | None = None) -> Figure:
    """One panel per metric over the steps: per variant, the mean over replicates (line) and the
    95% bootstrap interval of that mean at each step (band; none where fewer than two
    replicates define the value).

    ``steps`` is a steps table of one sweep point (``steps.csv`` of ``run``/``compare``, or
    the steps a live model has recorded so far, possibly none); ``brand`` may be omitted when
    the table has one brand. The panels are drawn in rows of ``columns`` on ``fig`` if given
    (else on a new figure); ``days`` fixes the step axis to 0…days (the days to come of a live
    run stay empty), ``start`` marks that day with a dashed line (the campaign's start),
    ``title`` replaces the figure's title and ``title_width`` (inches) wraps the panels' titles
    (the metric catalogue's labels) to fit narrow panels.
    """
    steps = tidy(steps)
    _require(steps, ["step", "brand", *metrics], "plot_timeseries")
    _single_point(steps, "plot_timeseries")
    styles = variant_styles(steps)
    part, brand = _brand(steps, brand)
    fig, axes = _grid(len(metrics), fig=fig, columns=columns)
    for ax, metric in zip(axes, metrics, strict=True):
        ci = band_table(part, ["variant"], metric, along="step")
        for variant, style in styles.items():
            line = ci[ci["variant"] == variant].sort_values("step")
            if line.empty:
                continue
            ax.plot(line["step"], line["mean"], color=style.color, linestyle=style.linestyle,
                    linewidth=1.8, label=variant)
            if line["low"].notna().any():
                ax.fill_between(line["step"], line["low"], line["high"], color=style.color,
                                alpha=0.2, linewidth=0)
        if ci.empty:  # a live run before its first step
            ax.set_ylim(bottom=0)
        elif ci["mean"].isna().all():
            _no_data(ax)
        elif ci["mean"].min() >= 0:
            ax.set_ylim(bottom=0)  # counts, shares and pout are never negative
        if days is not None:
            ax.set_xlim(0, days)
        if start is not None:
            ax.axvline(start, color="0.25", linestyle="--", linewidth=1.0)
        name, unit, _ = metric_info(metric)
        ax.set_title(_fit(name, title_width, 10), fontsize=10)
        ax.set_ylabel(unit or metric)
        ax.set_xlabel("step (day)")
        ax.grid(alpha=0.3)
    _variant_legend(fig, styles, part["variant"])
    fig.suptitle(title or f"{brand}: metrics over time\n{_replicates_note(part)}", fontsize=11)
    return fig


def plot_final(summary: pd.DataFrame, metrics: Sequence[str], brand: str | None = None) -> Figure:
    """Final metrics as bars (mean over replicates) with 95% bootstrap-interval error bars (low
    to high, not symmetric), one panel per metric, variants side by side. For a sweep, the
    bars are grouped by sweep point."""
    summary = tidy(summary)
    _require(summary, ["brand", *metrics], "plot_final")
    styles = variant_styles(summary)
    part, brand = _brand(summary, brand)
    sweep = "point" in part.columns and part["point"].nunique() > 1
    if sweep:
        groups = list(dict.fromkeys(part["point"]))
        if len(groups) > MAX_BAR_GROUPS:
            raise ValueError(f"plot_final: {len(groups)} sweep points are too many to set side by "
                             f"side (at most {MAX_BAR_GROUPS}); use plot_sweep")
        labels = _point_labels(part)
    else:
        groups, labels = [None], {}
    variants = [v for v in styles if v in set(part["variant"])]
    width = 0.8 / len(variants)
    fig, axes = _grid(len(metrics), height=3.5)
    for ax, metric in zip(axes, metrics, strict=True):
        keys = ["point", "variant"] if sweep else ["variant"]
        ci = interval_table(part, keys, metric)
        xs, means, lows, highs = [], [], [], []
        for g, group in enumerate(groups):
            for k, variant in enumerate(variants):
                row = ci[(ci["variant"] == variant) & ((ci["point"] == group) if sweep else True)]
                x = g + (k - (len(variants) - 1) / 2) * width if sweep else k
                mean = float(row["mean"].iloc[0]) if len(row) else np.nan
                xs.append(x)
                means.append(mean)
                lows.append(float(row["low"].iloc[0]) if len(row) else np.nan)
                highs.append(float(row["high"].iloc[0]) if len(row) else np.nan)
                if np.isnan(mean):
                    ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=8, color="0.4")
                else:
                    ax.bar(x, mean, width=width if sweep else 0.7, color=styles[variant].color,
                           edgecolor="black", linewidth=0.5)
        ax.errorbar(xs, means, yerr=error_bars(means, lows, highs), fmt="none", ecolor="black",
                    elinewidth=1.2, capsize=4)
        if min((m for m in means if not np.isnan(m)), default=0.0) >= 0:
            ax.set_ylim(bottom=0)  # bars start at 0; the metrics are never negative
        if sweep:
            ax.set_xticks(range(len(groups)), [labels[g] for g in groups], fontsize=8,
                          rotation=30 if len(groups) > 4 else 0)
        else:
            ax.set_xticks(range(len(variants)), variants, fontsize=8,
                          rotation=30 if len(variants) > 3 else 0)
        ax.set_title(_direction_title(metric), fontsize=10)
        ax.set_ylabel(metric_info(metric)[1] or metric)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    _variant_legend(fig, styles, part["variant"])
    fig.suptitle(f"{brand}: final metrics\n{_replicates_note(part)}", fontsize=11)
    return fig


def plot_tradeoff(summary: pd.DataFrame, x: str = TRADEOFF[0], y: str = TRADEOFF[1],
                  brand: str | None = None) -> Figure:
    """The trade-off between two final metrics: one point per variant (per variant and sweep
    point for sweeps) at the means, with 95% bootstrap-interval whiskers in both directions.

    Dominated points — another point is at least as good on both metrics and strictly better
    on one, by the metrics' better directions — get hollow markers and "(dominated)" in the
    legend. Both metrics need a known better direction (``METRIC_INFO``).
    """
    summary = tidy(summary)
    _require(summary, ["brand", x, y], "plot_tradeoff")
    directions = []
    for metric in (x, y):
        better = metric_info(metric)[2]
        if better is None:
            raise ValueError(f"plot_tradeoff: {metric!r} has no better direction")
        directions.append(better == MORE)
    styles = variant_styles(summary)
    part, brand = _brand(summary, brand)
    keys = ["point", "variant"] if "point" in part.columns else ["variant"]
    cx = interval_table(part, keys, x)
    cy = interval_table(part, keys, y)
    table = cx.merge(cy, on=keys, suffixes=("_x", "_y"), sort=False)
    table["dominated"] = pareto_dominated(table["mean_x"], table["mean_y"], *directions)
    sweep = "point" in part.columns and part["point"].nunique() > 1
    labels = _point_labels(part) if sweep else {}
    values = _point_labels(part, names=False) if sweep else {}
    fig = Figure(figsize=(7.5, 5.4), layout="constrained")
    ax = fig.add_subplot()
    for _, row in table.iterrows():
        style = styles[row["variant"]]
        ax.errorbar(row["mean_x"], row["mean_y"],
                    xerr=error_bars([row["mean_x"]], [row["low_x"]], [row["high_x"]]),
                    yerr=error_bars([row["mean_y"]], [row["low_y"]], [row["high_y"]]), fmt="none",
                    ecolor=style.color, elinewidth=1.2, capsize=3, alpha=0.8)
        label = row["variant"] + (f" · {labels[row['point']]}" if sweep else "")
        if row["dominated"]:
            label += " (dominated)"
        ax.plot(row["mean_x"], row["mean_y"], linestyle="none", marker=style.marker, markersize=9,
                markeredgewidth=1.8, color=style.color,
                markerfacecolor="none" if row["dominated"] else style.color, label=label)
        if sweep:
            ax.annotate(values[row["point"]], (row["mean_x"], row["mean_y"]), xytext=(6, 4),
                        textcoords="offset points", fontsize=7, color=style.color)
    ax.set_xlabel(metric_label(x, direction=True))
    ax.set_ylabel(metric_label(y, direction=True))
    ax.grid(alpha=0.3)
    # where "better" is: right/left for x, up/down for y
    corner = (0.97 if directions[0] else 0.03, 0.97 if directions[1] else 0.03)
    ax.annotate("better", xy=corner, xytext=(0.5 * corner[0] + 0.25, 0.5 * corner[1] + 0.25),
                xycoords="axes fraction", textcoords="axes fraction", ha="center", va="center",
                color="0.35", fontsize=9, arrowprops={"arrowstyle": "->", "color": "0.5"})
    _legend(fig, *ax.get_legend_handles_labels(), "variant (hollow marker = dominated)")
    fig.suptitle(f"{brand}: {metric_info(x)[0].lower()} vs {metric_info(y)[0].lower()}\n"
                 f"{_replicates_note(part)}", fontsize=11)
    return fig


def plot_sweep(summary: pd.DataFrame, param: str, metric: str, brand: str | None = None) -> Figure:
    """A final metric against a swept parameter: per variant, the mean (line and markers) and its
    95% bootstrap interval (band). With several swept parameters, each value of ``param`` pools the
    runs over the others (a main-effect plot). Non-numeric parameter values are placed in
    order of first appearance."""
    summary = tidy(summary)
    _require(summary, ["brand", param, metric], "plot_sweep")
    styles = variant_styles(summary)
    part, brand = _brand(summary, brand)
    ci = interval_table(part, [param, "variant"], metric)
    numeric = pd.api.types.is_numeric_dtype(part[param])
    if numeric:
        position = {v: float(v) for v in ci[param]}
    else:
        position = {v: float(i) for i, v in enumerate(dict.fromkeys(part[param].astype(str)))}
        ci[param] = ci[param].astype(str)
    ci["x"] = ci[param].map(position)
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    for variant, style in styles.items():
        line = ci[ci["variant"] == variant].sort_values("x")
        if line.empty:
            continue
        ax.plot(line["x"], line["mean"], color=style.color, linestyle=style.linestyle,
                marker=style.marker, linewidth=1.8, label=variant)
        if line["low"].notna().any():
            ax.fill_between(line["x"], line["low"], line["high"], color=style.color, alpha=0.2,
                            linewidth=0)
    if not numeric:
        ax.set_xticks(list(position.values()), list(position.keys()), fontsize=8)
    if ci["mean"].isna().all():
        _no_data(ax)
    ax.set_xlabel(param)
    ax.set_ylabel(metric_label(metric, direction=True))
    ax.grid(alpha=0.3)
    _variant_legend(fig, styles, part["variant"], marker=True)
    others = [p for p in sweep_params(part) if p != param]
    note = f"; pooled over {', '.join(others)}" if others else ""
    fig.suptitle(f"{brand}: {metric_info(metric)[0].lower()} against {_short(param)}"
                 f"\n{_replicates_note(part)}{note}", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- network

def _pairs(edges: pd.DataFrame) -> np.ndarray:
    """Sorted unique undirected pairs ``(u < v)`` of a follows table, without self-loops."""
    arr = edges[["author", "follower"]].to_numpy(dtype=np.int64).reshape(-1, 2)
    arr = arr[arr[:, 0] != arr[:, 1]]
    return np.unique(np.sort(arr, axis=1), axis=0)


def _spectral(pairs: np.ndarray, n: int, iterations: int = 300) -> np.ndarray:
    """Spectral start positions (Koren 2005, "Drawing graphs by eigenvectors"), deterministic.

    The two leading non-trivial eigenvectors of the lazy random walk ``(I + D⁻¹A)/2``, found by
    power iteration with degree-weighted orthogonalisation from a fixed start. The graph is
    regularised with a weak all-to-all tie of total weight ``τ`` = mean degree per user
    (regularised spectral embedding), so small components and isolated users do not take
    over the eigenvectors. Only sparse products and numpy sums are used: the same graph
    always gives the same positions, which ARPACK (networkx's ``spectral_layout``) does not
    guarantee from call to call.
    """
    adj = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    adj = (adj + adj.T).tocsr()
    degree = np.asarray(adj.sum(axis=1)).ravel()
    tau = max(float(degree.mean()), 1.0)
    degree = degree + tau
    rng = np.random.default_rng(LAYOUT_SEED)
    basis = [np.ones(n)]
    for _ in range(2):
        u = rng.random(n) - 0.5
        for _ in range(iterations):
            for b in basis:
                bb = (b * degree * b).sum()
                u = u - (u * degree * b).sum() / bb * b if bb > 0 else u
            u = 0.5 * (u + (adj @ u + tau * u.mean()) / degree)
            norm = np.sqrt((u * u).sum())
            if norm < 1e-12:  # fewer than three users: no second direction left
                u = np.zeros(n)
                break
            u = u / norm
        basis.append(u)
    return nx.rescale_layout(np.column_stack(basis[1:]))


_LAYOUT_LOCK = threading.Lock()  # the dashboard draws in threads of one server


@functools.lru_cache(maxsize=32)
def _layout(pairs: bytes, n: int) -> np.ndarray:
    edges = np.frombuffer(pairs, dtype=np.int64).reshape(-1, 2)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges.tolist())
    start = _spectral(edges, n)
    # force-directed refinement from the spectral start; networkx's sparse solver (n ≥ 500)
    # costs ~0.45 s per iteration at 3,000 users on this machine's kind: 6 iterations there
    # (≈ 3 s; the picture barely changes beyond), more for smaller graphs
    iterations = 50 if n < 500 else max(6, 15_000 // n)
    pos = nx.spring_layout(g, pos=dict(enumerate(start)), iterations=iterations, seed=LAYOUT_SEED,
                           method="force")
    out = np.array([pos[i] for i in range(n)], dtype=float)
    out.flags.writeable = False
    return out


def network_layout(edges: pd.DataFrame, n: int) -> np.ndarray:
    """Positions (``n × 2``) of users ``0…n-1`` for the follows graph in ``edges``.

    A spectral start refined by networkx's ``spring_layout`` (fixed seed, limited iterations);
    computed once per graph and cached (keyed on the table's edge pairs, whatever their
    order), so the pictures of all variants — and every redraw of a live model's graph in the
    dashboard — share one layout.
    """
    key = _pairs(edges).tobytes()
    with _LAYOUT_LOCK:  # one computation per graph, even when sessions ask at once
        return _layout(key, int(n))


def _flag(column: pd.Series) -> np.ndarray:
    return column.astype(str).str.strip().str.lower().isin(["true", "1", "1.0"]).to_numpy()


def network_states(users: pd.DataFrame, brand: str,
                   pout_threshold: float = DEFAULT_POUT_THRESHOLD) -> np.ndarray:
    """Each user's state towards ``brand`` for the network picture, by priority: ``perk`` (got a
    perk), ``adopted``, ``pouting`` (pout ≥ ``pout_threshold``, the scenario's
    ``behaviour.pout_threshold``), ``aware`` (reached), else ``none``."""
    state = np.full(len(users), "none", dtype=object)
    aware = _flag(users[f"aware_{brand}"])
    pouting = users[f"pout_{brand}"].fillna(0).to_numpy(dtype=float) >= pout_threshold
    adopted = _flag(users[f"adopted_{brand}"])
    perk = users[f"perk_{brand}"].fillna(0).to_numpy(dtype=float) > 0
    for mask, name in ((aware, "aware"), (pouting, "pouting"), (adopted, "adopted"), (perk, "perk")):
        state[mask] = name
    return state


def plot_network(users: pd.DataFrame, edges: pd.DataFrame, brand: str,
                 variant: str | None = None, *, pout_threshold: float = DEFAULT_POUT_THRESHOLD,
                 fig: Figure | None = None, title: str | None = None) -> Figure:
    """The follows graph with users coloured by their state towards ``brand`` — got a perk,
    adopted, pouting (pout ≥ ``pout_threshold``: the scenario's, see :func:`pout_threshold`),
    heard of the brand (any mention: this is awareness, ``reach_all``, not ``reach``), never
    heard of it — and sized by √followers.

    ``users`` is ``users.csv`` (one row per user per variant) or a live model's
    ``users_frame()``; ``variant`` defaults to the first. For sweeps, the first sweep point in
    the table is drawn. Graphs above ``NETWORK_MAX_USERS`` users are refused (the layout would
    be slow and unreadable). Drawn on ``fig`` if given (with a constrained layout, for the
    legend below), else on a new figure; ``title`` replaces the figure's title.
    """
    users = users.copy()
    if "variant" not in users.columns:
        users.insert(0, "variant", "base")
    users["variant"] = users["variant"].astype(str)
    _require(users, ["id", "followers", *(f"{c}_{brand}" for c in ("perk", "adopted", "aware", "pout"))],
             "plot_network")
    _require(edges, ["author", "follower"], "plot_network")
    variants = list(dict.fromkeys(users["variant"]))
    variant = variants[0] if variant is None else variant
    if variant not in variants:
        raise ValueError(f"no variant {variant!r} in users (variants: {', '.join(variants)})")
    part = users[users["variant"] == variant]
    if "point" in part.columns:
        part = part[part["point"] == part["point"].iloc[0]]
    part = part.sort_values("id")
    ids = part["id"].to_numpy(dtype=np.int64)
    n = int(max(ids.max(initial=-1), edges[["author", "follower"]].to_numpy().max(initial=-1)) + 1)
    if n == 0:
        raise ValueError("plot_network: no users to draw")
    if n > NETWORK_MAX_USERS:
        raise ValueError(f"plot_network: {n:,} users; pictures are drawn up to {NETWORK_MAX_USERS:,}")
    pos = network_layout(edges, n)
    pairs = _pairs(edges)
    fig = fig if fig is not None else Figure(figsize=(8.5, 7.5), layout="constrained")
    ax = fig.add_subplot()
    alpha = float(np.clip(12 / np.sqrt(max(len(pairs), 1)), 0.05, 0.5))
    ax.add_collection(LineCollection(pos[pairs], colors="#888888", linewidths=0.4, alpha=alpha,
                                     zorder=0, rasterized=True))  # keeps the SVG small
    followers = part["followers"].to_numpy(dtype=float)
    big = float(np.clip(36000 / max(n, 1), 30, 160))
    sizes = big * (0.08 + 0.92 * np.sqrt(followers / max(followers.max(initial=0), 1)))
    state = network_states(part, brand, pout_threshold)
    xy = pos[ids]
    for z, (key, label, color) in enumerate(NETWORK_STATES):
        label = label.format(threshold=pout_threshold)
        mask = state == key
        ax.scatter(xy[mask, 0], xy[mask, 1], s=sizes[mask], c=color, label=label,
                   edgecolors="black" if key == "perk" else "white",
                   linewidths={"perk": 0.6, "none": 0.0}.get(key, 0.3), zorder=z + 1,
                   alpha=0.6 if key == "none" else 1.0,  # the unreached crowd stays in the back
                   rasterized=n > RASTERIZE_NODES)
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=8, color=color,
                      markeredgecolor="black" if key == "perk" else "white")
               for key, _, color in NETWORK_STATES]
    labels = [f"{label.format(threshold=pout_threshold)} ({(state == key).sum():,})"
              for key, label, _ in NETWORK_STATES]
    _legend(fig, handles[::-1], labels[::-1], "state towards the brand (users)")
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    fig.suptitle(title or f"{brand}, variant {variant}: who got a perk, who adopted, who pouts\n"
                 f"{len(part):,} users, {len(pairs):,} follow ties; node size ∝ √followers",
                 fontsize=11)
    return fig


# ----------------------------------------------------------------------------- files

def save(fig: Figure, folder: Path, stem: str) -> list[Path]:
    """Write ``stem.png`` (dpi 120) and ``stem.svg`` into ``folder``; returns the paths.

    No timestamps or software stamps, and a fixed SVG id salt: reruns give identical files.
    The layout computed for the PNG is reused for the SVG (constrained layout is the slowest
    part of saving).
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    engine = fig.get_layout_engine()
    with mpl.rc_context({"svg.hashsalt": "perksim"}):
        fig.savefig(paths[0], dpi=DPI, metadata={"Software": None})
        fig.set_layout_engine("none")
        try:
            fig.savefig(paths[1], metadata={"Date": None})
        finally:
            fig.set_layout_engine(engine)
    return paths


def _read(path: Path) -> pd.DataFrame | None:
    """A table of a results folder, checked (``ResultsFolderError`` with the file and line if
    it is damaged); ``None`` if it is absent."""
    from simulator.experiment.results import read_table

    return read_table(path)


@dataclass
class Tables:
    """The tables the figures are drawn from (each ``None`` when absent)."""

    steps: pd.DataFrame | None
    summary: pd.DataFrame | None
    users: pd.DataFrame | None
    edges: pd.DataFrame | None


def read_tables(folder: str | Path) -> Tables:
    """Read and check every table the figures need, before anything is drawn: a damaged
    table, or users and edges that do not fit together, raise ``ResultsFolderError`` naming
    the file and line."""
    from simulator.experiment.results import ResultsFolderError

    folder = Path(folder)
    tables = Tables(*(_read(folder / f"{name}.csv") for name in ("steps", "summary", "users", "edges")))
    users, edges = tables.users, tables.edges
    if users is not None:
        base = tables.summary if tables.summary is not None else tables.steps
        brands = list(dict.fromkeys(base["brand"].astype(str))) if base is not None else []
        need = ["followers", *(f"{c}_{b}" for b in brands for c in ("adopted", "aware", "pout"))]
        if any(f"perk_{b}" in users.columns for b in brands):
            missing = [c for c in need if c not in users.columns]
            if missing:
                raise ResultsFolderError(f"{folder / 'users.csv'}:1: no column '{missing[0]}'; "
                                         "the file is damaged")
    if users is not None and edges is not None and len(edges):
        top = int(users["id"].max()) if len(users) else -1
        ends = edges[["author", "follower"]].to_numpy()
        outside = (ends > top).any(axis=1).nonzero()[0]
        if len(outside):
            i = int(outside[0])
            raise ResultsFolderError(f"{folder / 'edges.csv'}:{i + 2}: user "
                                     f"{int(ends[i].max())} is not in users.csv (ids 0–{top}); "
                                     "the file is damaged")
    return tables


def _scenario_document(folder: Path) -> dict[str, Any]:
    """The folder's ``scenario.yaml`` (the resolved scenario as run), or ``{}``."""
    import yaml

    try:
        doc = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def scenario_metrics(folder: Path) -> list[str]:
    """The metrics the folder's scenario is about (its ``metrics:``), if it names any."""
    wanted = _scenario_document(folder).get("metrics")
    return [m for m in wanted if isinstance(m, str)] if isinstance(wanted, list) else []


def pout_threshold(folder: str | Path, variant: str | None = None,
                   point: Mapping[str, Any] | None = None) -> float:
    """The pout at which a user counts as pouting (``behaviour.pout_threshold``) in the runs
    of a results folder whose users the network picture draws.

    Read from the folder's ``scenario.yaml`` with ``variant``'s changes and then the sweep
    ``point``'s values (``{field.path: value}``) applied, as the runs applied them; the
    scenario format's default (:data:`DEFAULT_POUT_THRESHOLD`) if the folder records none.
    """
    from simulator.scenario.loader import apply_override, variant_document
    from simulator.scenario.schema import parse_field_path

    doc = _scenario_document(Path(folder))
    try:
        changes = (doc.get("variants") or {}).get(variant) if variant else None
        doc = variant_document(doc, changes or {})
        for key, value in (point or {}).items():
            apply_override(doc, parse_field_path(key), value)
        value = (doc.get("behaviour") or {}).get("pout_threshold", DEFAULT_POUT_THRESHOLD)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return DEFAULT_POUT_THRESHOLD
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        return DEFAULT_POUT_THRESHOLD
    return float(value)


def _first_point(table: pd.DataFrame) -> dict[str, Any]:
    """The swept values of the first sweep point of a table (the point whose users are kept),
    or ``{}`` if it is not a sweep."""
    params = sweep_params(table)
    if not params or table.empty:
        return {}
    first = table[table["point"] == table["point"].iloc[0]].iloc[0]
    return {p: first[p].item() if hasattr(first[p], "item") else first[p] for p in params}


def draw_all(folder: str | Path, tables: Tables | None = None) -> list[Path]:
    """Draw every applicable figure of a results folder into ``folder/figures``.

    From whichever of ``steps.csv``, ``summary.csv`` (else derived from ``steps.csv``),
    ``users.csv`` and ``edges.csv`` exist: ``timeseries`` (one sweep point only),
    ``final_metrics`` (up to ``MAX_BAR_GROUPS`` sweep points; the scenario's own ``metrics:``
    first, then the usual ones, six in all), ``tradeoff``, for sweeps
    ``sweep_<param>_<metric>`` per swept parameter and metric of ``SWEEP_METRICS``, and
    ``network_<variant>`` per variant when users and edges exist (pouting at the variant's own
    :func:`pout_threshold`). With several brands every name gets a ``_<brand>`` suffix. Each
    figure is written as PNG and SVG; returns the written paths, sorted. The tables are read
    (and checked: :func:`read_tables`) first, unless given.
    """
    folder = Path(folder)
    out = folder / "figures"
    tables = tables if tables is not None else read_tables(folder)
    steps, summary, users, edges = tables.steps, tables.summary, tables.users, tables.edges
    if summary is None and steps is not None:
        summary = final_rows(steps)
    base = summary if summary is not None else steps
    if base is None:
        return []
    base = tidy(base)
    brands = list(dict.fromkeys(base["brand"]))
    written: list[Path] = []
    for brand in brands:
        sfx = "" if len(brands) == 1 else f"_{slug(brand)}"
        if steps is not None:
            cols = [m for m in TIMESERIES_METRICS if m in steps.columns]
            if cols and not ("point" in steps.columns and steps["point"].nunique() > 1):
                written += save(plot_timeseries(steps, cols, brand), out, f"timeseries{sfx}")
        if summary is not None:
            points = summary["point"].nunique() if "point" in summary.columns else 1
            cols = [m for m in dict.fromkeys([*scenario_metrics(folder), *FINAL_METRICS])
                    if m in summary.columns][:len(FINAL_METRICS)]
            if cols and points <= MAX_BAR_GROUPS:
                written += save(plot_final(summary, cols, brand), out, f"final_metrics{sfx}")
            if all(m in summary.columns for m in TRADEOFF):
                written += save(plot_tradeoff(summary, *TRADEOFF, brand=brand), out, f"tradeoff{sfx}")
            for param in sweep_params(summary):
                for metric in SWEEP_METRICS:
                    if metric in summary.columns:
                        written += save(plot_sweep(summary, param, metric, brand), out,
                                        f"sweep_{slug(param)}_{metric}{sfx}")
        if users is not None and edges is not None and f"perk_{brand}" in users.columns:
            variants = (list(dict.fromkeys(users["variant"].astype(str)))
                        if "variant" in users.columns else ["base"])
            point = _first_point(base)
            for variant in variants:
                threshold = pout_threshold(folder, variant, point)
                written += save(plot_network(users, edges, brand, variant, pout_threshold=threshold),
                                out, f"network_{slug(variant)}{sfx}")
    return sorted(written)


def plot_run(folder: str | Path, tables: Tables | None = None) -> list[Path]:
    """Alias of :func:`draw_all` (the name the command line uses)."""
    return draw_all(folder, tables)
