"""Figures of a results folder: its tables and scenario read through the one reader of a
results folder (:class:`~simulator.experiment.saved.SavedFolder`), the scenario's pout threshold
per variant, drawing every applicable figure (:func:`draw_all`, :func:`plot_run`) and saving
PNG and SVG files that are byte-identical when redrawn (:func:`save`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from simulator.experiment.formats import table_path
from simulator.experiment.results import ResultsFolderError
from simulator.experiment.saved import SavedFolder, as_saved
from simulator.scenario.schema import Scenario
from simulator.views.columns import sweep_params
from simulator.views.fields import param_label
from simulator.views.plots.final import (
    FINAL_METRICS,
    MAX_BAR_GROUPS,
    SWEEP_METRICS,
    TRADEOFF,
    plot_final,
    plot_sweep,
    plot_tradeoff,
)
from simulator.views.plots.network import DEFAULT_POUT_THRESHOLD, plot_network
from simulator.views.plots.style import fit_labels, slug
from simulator.views.plots.tables import final_rows, tidy
from simulator.views.plots.timeseries import TIMESERIES_METRICS, plot_timeseries

DPI = 120


def save(fig: Figure, folder: Path, stem: str) -> list[Path]:
    """Write ``stem.png`` (dpi 120) and ``stem.svg`` into ``folder``; returns the paths.

    No timestamps or software stamps, and a fixed SVG id salt: reruns give identical files.
    The figure is laid out once, at the PNG's resolution, with labels and titles longer than
    their axis or panel broken onto lines that fit
    (:func:`~simulator.views.plots.style.fit_labels`); both files reuse that layout
    (constrained layout is the slowest part of saving).
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    engine, dpi = fig.get_layout_engine(), fig.dpi
    fig.set_dpi(DPI)  # measured as the PNG is drawn
    fit_labels(fig)  # labels longer than their axis are wrapped, never clipped
    with mpl.rc_context({"svg.hashsalt": "perksim"}):
        fig.set_layout_engine("none")
        try:
            fig.savefig(paths[0], dpi=DPI, metadata={"Software": None})
            fig.set_dpi(dpi)  # the SVG's rasterised parts as before
            fig.savefig(paths[1], metadata={"Date": None})
        finally:
            fig.set_layout_engine(engine)
            fig.set_dpi(dpi)
    return paths


@dataclass
class Tables:
    """The tables the figures are drawn from (each ``None`` when absent)."""

    steps: pd.DataFrame | None
    summary: pd.DataFrame | None
    users: pd.DataFrame | None
    edges: pd.DataFrame | None


def read_tables(folder: str | Path | SavedFolder) -> Tables:
    """Read and check every table the figures need, before anything is drawn: a damaged
    table, or users and edges that do not fit together, raise ``ResultsFolderError`` naming
    the file and line."""
    saved = as_saved(folder)
    folder = saved.path
    tables = Tables(*(saved.table(name) for name in ("steps", "summary", "users", "edges")))
    users, edges = tables.users, tables.edges
    if users is not None:
        base = tables.summary if tables.summary is not None else tables.steps
        brands = list(dict.fromkeys(base["brand"].astype(str))) if base is not None else []
        need = ["followers", *(f"{c}_{b}" for b in brands for c in ("adopted", "aware", "pout"))]
        if any(f"perk_{b}" in users.columns for b in brands):
            missing = [c for c in need if c not in users.columns]
            if missing:
                path = table_path(folder, "users")
                where = str(path) if path.suffix == ".parquet" else f"{path}:1"
                raise ResultsFolderError(f"{where}: no column '{missing[0]}'; the file is damaged")
    if users is not None and edges is not None and len(edges):
        top = int(users["id"].max()) if len(users) else -1
        ends = edges[["author", "follower"]].to_numpy()
        outside = (ends > top).any(axis=1).nonzero()[0]
        if len(outside):
            i = int(outside[0])
            raise ResultsFolderError(f"{folder / 'edges.csv'}:{i + 2}: user "
                                     f"{int(ends[i].max())} is not in "
                                     f"{table_path(folder, 'users').name} (ids 0–{top}); "
                                     "the file is damaged")
    return tables


def _scenario(saved: SavedFolder, variant: str | None = None,
              point: Mapping[str, Any] | None = None) -> Scenario | None:
    """The scenario of ``variant`` at ``point`` as the runs used it; ``None`` if the folder
    records none, or a damaged one (a figure does not need it: it falls back to the defaults)."""
    try:
        return saved.scenario(variant, point)
    except ResultsFolderError:
        return None


def scenario_metrics(folder: str | Path | SavedFolder) -> list[str]:
    """The metrics the folder's scenario is about (its ``metrics:``), if it names any."""
    scenario = _scenario(as_saved(folder))
    return list(scenario.metrics) if scenario is not None else []


def pout_threshold(folder: str | Path | SavedFolder, variant: str | None = None,
                   point: Mapping[str, Any] | None = None) -> float:
    """The pout at which a user counts as pouting (``behaviour.pout_threshold``) in the runs
    of a results folder whose users the network picture draws.

    The folder's scenario with ``variant``'s changes and then the sweep ``point``'s values
    (``{field.path: value}``) applied, as the runs applied them
    (:meth:`SavedFolder.scenario <simulator.experiment.saved.SavedFolder.scenario>`); the
    scenario format's default (:data:`DEFAULT_POUT_THRESHOLD`) if the folder records no
    scenario, or one that does not validate.
    """
    scenario = _scenario(as_saved(folder), variant, point)
    return scenario.behaviour.pout_threshold if scenario is not None else DEFAULT_POUT_THRESHOLD


def _first_point(table: pd.DataFrame) -> dict[str, Any]:
    """The swept values of the first sweep point of a table (the point whose users are kept),
    or ``{}`` if it is not a sweep."""
    params = sweep_params(table)
    if not params or table.empty:
        return {}
    first = table[table["point"] == table["point"].iloc[0]].iloc[0]
    return {p: first[p].item() if hasattr(first[p], "item") else first[p] for p in params}


def draw_all(folder: str | Path | SavedFolder, tables: Tables | None = None) -> list[Path]:
    """Draw every applicable figure of a results folder into ``folder/figures``.

    From whichever of ``steps.csv``, ``summary.csv`` (else derived from ``steps.csv``),
    ``users.csv`` and ``edges.csv`` exist (or their ``.parquet`` forms): ``timeseries`` (one
    sweep point only), ``final_metrics`` (up to ``MAX_BAR_GROUPS`` sweep points; the
    scenario's own ``metrics:`` first, then the usual ones, six in all), ``tradeoff``, for sweeps
    ``sweep_<param>_<metric>`` per swept parameter and metric of ``SWEEP_METRICS``, and
    ``network_<variant>`` per variant when users and edges exist (pouting at the variant's own
    :func:`pout_threshold`). With several brands every name gets a ``_<brand>`` suffix. Each
    figure is written as PNG and SVG; returns the written paths, sorted. The tables are read
    (and checked: :func:`read_tables`) first, unless given.
    """
    saved = as_saved(folder)
    folder = saved.path
    out = folder / "figures"
    if saved.robust() is not None:
        return draw_robust(saved)
    tables = tables if tables is not None else read_tables(saved)
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
            cols = [m for m in dict.fromkeys([*scenario_metrics(saved), *FINAL_METRICS])
                    if m in summary.columns][:len(FINAL_METRICS)]
            if cols and points <= MAX_BAR_GROUPS:
                written += save(plot_final(summary, cols, brand), out, f"final_metrics{sfx}")
            if all(m in summary.columns for m in TRADEOFF):
                written += save(plot_tradeoff(summary, *TRADEOFF, brand=brand), out, f"tradeoff{sfx}")
            scenario = _scenario(saved) if sweep_params(summary) else None
            for param in sweep_params(summary):
                label = param_label(param, scenario)
                for metric in SWEEP_METRICS:
                    if metric in summary.columns:
                        written += save(plot_sweep(summary, param, metric, brand, label=label),
                                        out, f"sweep_{slug(param)}_{metric}{sfx}")
        if users is not None and edges is not None and f"perk_{brand}" in users.columns:
            variants = (list(dict.fromkeys(users["variant"].astype(str)))
                        if "variant" in users.columns else ["base"])
            point = _first_point(base)
            seed = saved.manifest().get("seed")  # the run's seed draws the network's sample
            seed = seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else None
            for variant in variants:
                threshold = pout_threshold(saved, variant, point)
                written += save(plot_network(users, edges, brand, variant, pout_threshold=threshold,
                                             seed=seed),
                                out, f"network_{slug(variant)}{sfx}")
    return sorted(written)


def draw_robust(saved: SavedFolder) -> list[Path]:
    """A robustness study's figures (:func:`~simulator.views.plots.robust.robust_figures`):
    the verdict maps and sensitivity indices, not the runs' figures (its samples are not a
    sweep to draw along one axis)."""
    from simulator.views.plots.robust import robust_figures

    tables = saved.robust()
    scenario = _scenario(saved)
    variants = list(saved.manifest().get("variants") or []) or list(
        dict.fromkeys(tables.verdicts["reference"].astype(str))) + list(
        dict.fromkeys(tables.verdicts["variant"].astype(str)))
    log = ([p for p, u in scenario.uncertainties.items() if u.kind == "log_uniform"]
           if scenario is not None else [])
    written: list[Path] = []
    figures = robust_figures(tables, variants, scenario.metrics if scenario else (), log,
                             scenario)
    for stem, fig in figures.items():
        written += save(fig, saved.path / "figures", stem)
    return sorted(written)


def plot_run(folder: str | Path | SavedFolder, tables: Tables | None = None) -> list[Path]:
    """Alias of :func:`draw_all` (the name the command line uses)."""
    return draw_all(folder, tables)
