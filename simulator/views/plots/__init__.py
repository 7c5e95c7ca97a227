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

The modules, one concern each (they import each other directly, never this package):

- :mod:`~simulator.views.plots.style` — the metrics' words, variant styles, slugs, grids and legends
- :mod:`~simulator.views.plots.tables` — tidy tables, sweep parameters, interval and band tables,
  error bars, final rows, Pareto dominance
- :mod:`~simulator.views.plots.timeseries` — metrics over time
- :mod:`~simulator.views.plots.final` — final metrics, the trade-off, a metric against a swept
  parameter
- :mod:`~simulator.views.plots.network` — the follows graph's layout and the network picture
- :mod:`~simulator.views.plots.folder` — a results folder's tables, :func:`draw_all`, :func:`save`

This package re-exports their public names (and the layout cache, ``_layout``, which tests
clear), so ``from simulator.views import plots; plots.plot_final(...)`` works. A function that
is monkeypatched must be patched in the module that looks it up (``draw_all`` looks up the
figure functions in :mod:`~simulator.views.plots.folder`).
"""

from __future__ import annotations

from simulator.views.columns import sweep_params
from simulator.views.plots.final import (
    FINAL_METRICS,
    MAX_BAR_GROUPS,
    SWEEP_METRICS,
    TRADEOFF,
    plot_final,
    plot_sweep,
    plot_tradeoff,
)
from simulator.views.plots.folder import (
    DPI,
    Tables,
    draw_all,
    plot_run,
    pout_threshold,
    read_tables,
    save,
    scenario_metrics,
)
from simulator.views.plots.network import (
    DEFAULT_POUT_THRESHOLD,
    LAYOUT_SEED,
    NETWORK_MAX_USERS,
    NETWORK_STATES,
    RASTERIZE_NODES,
    _layout,
    network_layout,
    network_states,
    plot_network,
)
from simulator.views.plots.style import (
    LESS,
    LINESTYLES,
    MARKERS,
    METRIC_INFO,
    MORE,
    PALETTE,
    Style,
    metric_info,
    metric_label,
    slug,
    variant_styles,
)
from simulator.views.plots.tables import (
    CONFIDENCE,
    band_table,
    error_bars,
    final_rows,
    interval_table,
    pareto_dominated,
    tidy,
)
from simulator.views.plots.timeseries import (
    TIMESERIES_METRICS,
    plot_timeseries,
)

__all__ = [
    "CONFIDENCE",
    "DEFAULT_POUT_THRESHOLD",
    "DPI",
    "FINAL_METRICS",
    "LAYOUT_SEED",
    "LESS",
    "LINESTYLES",
    "MARKERS",
    "MAX_BAR_GROUPS",
    "METRIC_INFO",
    "MORE",
    "NETWORK_MAX_USERS",
    "NETWORK_STATES",
    "PALETTE",
    "RASTERIZE_NODES",
    "SWEEP_METRICS",
    "TIMESERIES_METRICS",
    "TRADEOFF",
    "Style",
    "Tables",
    "_layout",
    "band_table",
    "draw_all",
    "error_bars",
    "final_rows",
    "interval_table",
    "metric_info",
    "metric_label",
    "network_layout",
    "network_states",
    "pareto_dominated",
    "plot_final",
    "plot_network",
    "plot_run",
    "plot_sweep",
    "plot_timeseries",
    "plot_tradeoff",
    "pout_threshold",
    "read_tables",
    "save",
    "scenario_metrics",
    "slug",
    "sweep_params",
    "tidy",
    "variant_styles",
]
