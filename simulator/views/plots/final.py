"""The figures of final metrics: bars per variant (and sweep point), the trade-off between
two metrics with the dominated points marked, and a metric against a swept parameter."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.views.columns import sweep_params
from simulator.views.fields import field_words, param_label
from simulator.views.plots.style import (
    MORE,
    _direction_title,
    _grid,
    _legend,
    _no_data,
    _variant_legend,
    metric_info,
    metric_label,
    variant_styles,
)
from simulator.views.plots.tables import (
    _brand,
    _point_labels,
    _replicates_note,
    _require,
    error_bars,
    interval_table,
    pareto_dominated,
    tidy,
)

MAX_BAR_GROUPS = 12  # sweep points side by side in final_metrics before it stops being readable
FINAL_METRICS = ("engaged_reach", "reach", "authenticity", "recipient_fit", "cost_per_engaged_reach",
                 "pout_fans")
TRADEOFF = ("engaged_reach", "pout_fans")
SWEEP_METRICS = ("engaged_reach", "pout_fans")


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


def plot_sweep(summary: pd.DataFrame, param: str, metric: str, brand: str | None = None,
               label: str | None = None) -> Figure:
    """A final metric against a swept parameter: per variant, the mean (line and markers) and its
    95% bootstrap interval (band). With several swept parameters, each value of ``param`` pools the
    runs over the others (a main-effect plot). Non-numeric parameter values are placed in
    order of first appearance. The x axis is ``label``, by default the parameter in words
    (:func:`~simulator.views.fields.param_label`; :func:`draw_all` gives it the scenario, for
    the field's description and the campaign's brand)."""
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
    ax.set_xlabel(label or param_label(param))
    ax.set_ylabel(metric_label(metric, direction=True))
    ax.grid(alpha=0.3)
    _variant_legend(fig, styles, part["variant"], marker=True)
    others = [p for p in sweep_params(part) if p != param]
    note = f"; pooled over {', '.join(field_words(p) for p in others)}" if others else ""
    fig.suptitle(f"{brand}: {metric_info(metric)[0].lower()} against {field_words(param)}"
                 f"\n{_replicates_note(part)}{note}", fontsize=11)
    return fig
