"""The time-series figure: metrics over the steps, per variant, with bootstrap bands; also
the dashboard's live panels."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from simulator.views.plots.style import _fit, _grid, _no_data, _variant_legend, metric_info, variant_styles
from simulator.views.plots.tables import (
    _brand,
    _replicates_note,
    _require,
    _single_point,
    band_table,
    tidy,
)

TIMESERIES_METRICS = ("reach", "engaged_reach", "authenticity", "pout_fans", "adopters_campaign",
                      "reach_negative")


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
