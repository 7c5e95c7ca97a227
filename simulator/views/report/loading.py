"""Reading a results folder for the report, through the one reader of a results folder
(:class:`simulator.experiment.saved.SavedFolder`): the manifest, the scenario that ran
(checked against the scenario format, and typed), the tables and the figures, and each
variant's own scenario.

Every file is checked as it is read: a damaged one raises
:class:`simulator.experiment.results.ResultsFolderError` naming the file (and line)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.experiment.results import ResultsFolderError
from simulator.experiment.saved import SavedFolder
from simulator.scenario.schema import Scenario
from simulator.views.report.tables import Table, clean


@dataclass
class Folder:
    """What the report needs from a results folder."""

    path: Path
    manifest: dict[str, Any]
    document: dict[str, Any]
    kind: str
    comparison: pd.DataFrame
    summary: pd.DataFrame | None
    users: pd.DataFrame | None
    figures: list[Path]
    saved: SavedFolder
    scenario: Scenario | None  # the scenario that ran, typed; None if the folder records none

    @property
    def table(self) -> Table:
        """The comparison table, indexed for look-ups."""
        return Table(self.comparison)

    @property
    def variants(self) -> list[str]:
        """The variants of the comparison table, in order."""
        return self.table.variants


def load_folder(folder: str | Path, draw: bool = True) -> Folder:
    """Read a results folder (drawing its figures first if it has none and ``draw``).

    Every file is checked as it is read (:class:`simulator.experiment.saved.SavedFolder`): a
    damaged one raises :class:`simulator.experiment.results.ResultsFolderError` naming the
    file (and line)."""
    saved = SavedFolder(folder)
    folder = saved.path
    manifest = saved.manifest()
    document = saved.document()
    comparison = clean(saved.table("comparison"))
    summary = clean(saved.table("summary"))
    saved.table("failures")  # read again by the report: checked here, before any writing
    if comparison is None:
        if summary is None:
            raise ResultsFolderError(f"{folder} has neither comparison.csv nor summary.csv: "
                                     "is it a results folder of perksim?")
        from simulator.experiment.statistics import comparison_table
        from simulator.model.metrics import METRICS

        comparison = comparison_table(summary, [m for m in METRICS if m in summary.columns])
    figures = figure_order(saved.figures)
    if not figures and draw:
        try:
            from simulator.views.plots import plot_run

            plot_run(folder)
        except Exception:  # a report without figures is better than no report
            pass
        figures = figure_order(saved.figures)
    return Folder(folder, manifest, document, saved.kind, comparison, summary,
                  clean(saved.table("users")), figures, saved,
                  Scenario.model_validate(document) if document else None)


def variant_scenarios(f: Folder) -> dict[str, Scenario]:
    """The scenario of each variant as it ran (at the first sweep point); the folder's own
    scenario for a variant whose changes no longer validate. Empty if the folder records no
    scenario."""
    table = f.table
    point: dict[str, Any] = {}
    if table.sweep:
        point = {k: _plain(v) for k, v in table.point_values(table.points[0]).items()}
    base = f.scenario
    if base is None:
        return {}
    out = {}
    for variant in table.variants:
        try:
            out[variant] = f.saved.scenario(variant, point) or base
        except ResultsFolderError:
            out[variant] = base
    return out


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


FIGURE_ORDER = ("timeseries", "final_metrics", "tradeoff", "sweep_", "network")


def figure_order(paths: Iterable[Path]) -> list[Path]:
    """Figures in reading order: over time, final values, trade-off, sweeps, networks, others."""
    def key(p: Path) -> tuple[int, str]:
        rank = next((i for i, prefix in enumerate(FIGURE_ORDER) if p.stem.startswith(prefix)),
                    len(FIGURE_ORDER))
        return rank, p.name
    return sorted(paths, key=key)
