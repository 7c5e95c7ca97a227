"""The figures of ``perksim robust`` (issue 11), drawn from the kernel's tables
(:mod:`simulator.experiment.robust`): the verdict map — the winner at each sample over the two
most influential assumptions — and the sensitivity indices with their intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulator.experiment.robust.maps import NO_WINNER
from simulator.scenario.schema import Scenario
from simulator.views.fields import field_words, param_label
from simulator.views.plots.style import _direction_title, _grid, _legend, variant_styles

NO_WINNER_COLOR = "0.75"  # light grey: no clear winner recedes behind the winners
INDEX_WORDS = {"S1": "first order (alone)", "ST": "total (incl. interactions)",
               "mu_star": "μ* (mean |effect|)"}


def plot_verdict_map(table: pd.DataFrame, variants: Sequence[str] | None = None,
                     log: Sequence[str] = (), scenario: Scenario | None = None) -> Figure:
    """The verdict map of one metric (:func:`~simulator.experiment.robust.maps.verdict_map`):
    one point per sample at its values of the two parameters, coloured by the winner (samples
    at the same values are spread around them: :func:`spread_overlaps`).

    ``variants``: the variants in the order of the other figures (so each keeps its colour;
    default: order of first appearance as winner); ``log``: parameters drawn on a log axis;
    ``scenario``: the study's, to name the axes' fields in words with their descriptions
    (:func:`~simulator.views.fields.param_label`).
    """
    if table.empty:
        raise ValueError("the verdict map has no samples")
    order = list(variants) if variants is not None else [
        w for w in dict.fromkeys(table["winner"].astype(str)) if w != NO_WINNER]
    styles = variant_styles(pd.DataFrame({"variant": order}))
    table = spread_overlaps(table, log)
    fig, (ax,) = _grid(1, width=5.2, height=4.2)
    handles, labels = [], []
    for who in [*order, NO_WINNER]:
        part = table[table["winner"].astype(str) == who]
        if part.empty:
            continue
        if who == NO_WINNER:
            color, marker = NO_WINNER_COLOR, "."
        else:
            color, marker = styles[who].color, styles[who].marker
        ax.scatter(part["x_drawn"], part["y_drawn"], s=14, color=color, marker=marker, linewidths=0,
                   alpha=0.85, zorder=1 if who == NO_WINNER else 2)
        handles.append(Line2D([], [], color=color, marker=marker, linestyle=""))
        labels.append(who)
    x_name, y_name = table["x_parameter"].iloc[0], table["y_parameter"].iloc[0]
    ax.set_xlabel(param_label(x_name, scenario))
    ax.set_ylabel(param_label(y_name, scenario))
    if x_name in log:
        ax.set_xscale("log")
    if y_name in log:
        ax.set_yscale("log")
    ax.set_title(f"Who wins where — {_direction_title(str(table['metric'].iloc[0]))}",
                 fontsize=10)
    _legend(fig, handles, labels, "winner")
    return fig


SPREAD = 0.035  # radius, as a share of each axis, within which samples at one place are spread
GOLDEN_ANGLE = np.pi * (3 - np.sqrt(5))


def spread_overlaps(table: pd.DataFrame, log: Sequence[str] = ()) -> pd.DataFrame:
    """``x_drawn`` and ``y_drawn``: each sample's place, with the samples that share one (a
    Morris design puts many on the same grid values) spread on a small sunflower around it, in
    a fixed order, so every winner stays visible. Deterministic: no random jitter."""
    out = table.copy()
    x_log = table["x_parameter"].iloc[0] in log
    y_log = table["y_parameter"].iloc[0] in log
    x = np.log10(table["x"].to_numpy(float)) if x_log else table["x"].to_numpy(float)
    y = np.log10(table["y"].to_numpy(float)) if y_log else table["y"].to_numpy(float)
    span_x = (np.ptp(x) or 1.0) * SPREAD
    span_y = (np.ptp(y) or 1.0) * SPREAD
    dx, dy = np.zeros(len(table)), np.zeros(len(table))
    for rows in pd.DataFrame({"x": x, "y": y}).groupby(["x", "y"], sort=False).indices.values():
        m = len(rows)
        if m > 1:
            k = np.arange(m)
            r = np.sqrt((k + 0.5) / m)
            dx[rows] = span_x * r * np.cos(k * GOLDEN_ANGLE)
            dy[rows] = span_y * r * np.sin(k * GOLDEN_ANGLE)
    out["x_drawn"] = 10 ** (x + dx) if x_log else x + dx
    out["y_drawn"] = 10 ** (y + dy) if y_log else y + dy
    return out


def plot_indices(indices: pd.DataFrame, metric: str) -> Figure:
    """The sensitivity indices of one metric
    (:func:`~simulator.experiment.robust.sensitivity.sensitivity_indices`): one panel per
    variant, a bar per parameter and index (most important on top), whiskers from
    ``conf_low`` to ``conf_high``. Morris' ``mu`` and ``sigma`` are left out (no interval)."""
    part = indices[(indices["metric"] == metric) & indices["index"].isin(list(INDEX_WORDS))]
    if part.empty:
        raise ValueError(f"no indices for metric {metric!r}")
    variants = list(dict.fromkeys(part["variant"].astype(str)))
    kinds = [k for k in INDEX_WORDS if k in set(part["index"])]
    params = list(dict.fromkeys(part.sort_values("rank", kind="stable")["parameter"]))
    fig, axes = _grid(len(variants), width=4.6, height=0.5 * len(params) + 1.4)
    height = 0.8 / len(kinds)
    colors = ["#0072B2", "#E69F00", "#009E73"]
    for ax, variant in zip(axes, variants, strict=True):
        own = part[part["variant"].astype(str) == variant]
        for i, kind in enumerate(kinds):
            rows = own[own["index"] == kind].set_index("parameter").reindex(params)
            y = np.arange(len(params)) + (i - (len(kinds) - 1) / 2) * height
            value = rows["value"].to_numpy(float)
            err = np.vstack([value - rows["conf_low"].to_numpy(float),
                             rows["conf_high"].to_numpy(float) - value])
            ax.barh(y, value, height=height, color=colors[i % len(colors)],
                    xerr=np.where(np.isfinite(err), err, 0), error_kw={"elinewidth": 1,
                                                                       "capsize": 2})
        ax.set_yticks(np.arange(len(params)), [field_words(p) for p in params], fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="0.3", linewidth=0.8)
        ax.set_title(f"{variant} − {own['reference'].iloc[0]}", fontsize=10)
    handles = [Line2D([], [], color=colors[i % len(colors)], linewidth=6)
               for i in range(len(kinds))]
    _legend(fig, handles, [INDEX_WORDS[k] for k in kinds], f"what drives the difference in {metric}")
    return fig


MAX_ROBUST_METRICS = 4  # figures per kind: the scenario's own metrics first, then the headline


def robust_metrics(tables, scenario_metrics: Sequence[str] = ()) -> list[str]:
    """The metrics whose robustness figures are drawn: those of the scenario's ``metrics:`` the
    study judged, then the headline metrics, :data:`MAX_ROBUST_METRICS` in all."""
    from simulator.model.metrics import HEADLINE

    judged = list(dict.fromkeys(tables.shares["metric"].astype(str)))
    wanted = [m for m in dict.fromkeys([*scenario_metrics, *HEADLINE]) if m in judged]
    return wanted[:MAX_ROBUST_METRICS]


def robust_figures(tables, variants: Sequence[str], scenario_metrics: Sequence[str] = (),
                   log: Sequence[str] = (), scenario: Scenario | None = None) -> dict[str, Figure]:
    """The study's figures by file stem: ``robust_map_<metric>`` (the verdict map) and
    ``robust_indices_<metric>`` (the sensitivity indices; none for a Latin hypercube), per
    metric of :func:`robust_metrics`, with a ``_<brand>`` suffix when there are several brands
    (``scenario`` names the verdict maps' axes)."""
    from simulator.views.plots.style import slug

    figures: dict[str, Figure] = {}
    brands = list(dict.fromkeys(tables.shares["brand"].astype(str)))
    for brand in brands:
        sfx = "" if len(brands) == 1 else f"_{slug(brand)}"
        for metric in robust_metrics(tables, scenario_metrics):
            table = tables.maps.get(metric)
            if table is not None:
                own = table[table["brand"].astype(str) == brand]
                if not own.empty:
                    figures[f"robust_map_{metric}{sfx}"] = plot_verdict_map(own, variants, log,
                                                                            scenario)
            if tables.indices is not None:
                own = tables.indices[tables.indices["brand"].astype(str) == brand]
                if (own["metric"] == metric).any():
                    figures[f"robust_indices_{metric}{sfx}"] = plot_indices(own, metric)
    return figures
