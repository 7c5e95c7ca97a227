"""Reading a results folder for the report: the manifest, the scenario that ran (checked
against the scenario format), the tables and the figures, and each variant's own scenario.

Every file is checked as it is read: a damaged one raises
:class:`simulator.experiment.results.ResultsFolderError` naming the file (and line)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

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

    @property
    def table(self) -> Table:
        """The comparison table, indexed for look-ups."""
        return Table(self.comparison)

    @property
    def variants(self) -> list[str]:
        """The variants of the comparison table, in order."""
        return self.table.variants


def read_csv(path: Path) -> pd.DataFrame | None:
    """A table of the folder, checked (``ResultsFolderError`` naming the file and line if it
    is damaged); ``None`` if absent or empty."""
    from simulator.experiment.results import read_table

    return read_table(path)


def _document(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The scenario that ran, from the manifest (else ``scenario.yaml``), checked against the
    scenario format and in its canonical form, so the report can rely on its structure."""
    from pydantic import ValidationError

    from simulator.experiment.results import ResultsFolderError
    from simulator.scenario.schema import Scenario

    if "resolved_scenario" in manifest:
        where, document = f"{folder / 'manifest.json'}: 'resolved_scenario'", manifest["resolved_scenario"]
    elif (folder / "scenario.yaml").is_file():
        where = str(folder / "scenario.yaml")
        try:
            document = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
            raise ResultsFolderError(f"{where}: cannot be read ({str(exc).splitlines()[0]}); "
                                     "the file is damaged") from None
    else:
        return {}
    try:
        return Scenario.model_validate(document).to_document()
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ResultsFolderError(f"{where}: not a valid scenario ({exc.error_count()} problems; "
                                 f"{path}: {first['msg']}); the file is damaged or from another "
                                 "version of perksim") from None


def load_folder(folder: str | Path, draw: bool = True) -> Folder:
    """Read a results folder (drawing its figures first if it has none and ``draw``).

    Every file is checked as it is read: a damaged one raises
    :class:`simulator.experiment.results.ResultsFolderError` naming the file (and line)."""
    from simulator.experiment.results import ResultsFolderError, read_manifest

    folder = Path(folder)
    manifest = read_manifest(folder) if (folder / "manifest.json").exists() else {}
    document = _document(folder, manifest)
    comparison = clean(read_csv(folder / "comparison.csv"))
    summary = clean(read_csv(folder / "summary.csv"))
    read_csv(folder / "failures.csv")  # read again by the report: checked here, before any writing
    if comparison is None:
        if summary is None:
            raise ResultsFolderError(f"{folder} has neither comparison.csv nor summary.csv: "
                                     "is it a results folder of perksim?")
        from simulator.experiment.statistics import comparison_table
        from simulator.model.metrics import METRICS

        comparison = comparison_table(summary, [m for m in METRICS if m in summary.columns])
    kind = manifest.get("kind") or ("sweep" if "point" in comparison.columns else
                                    "compare" if comparison["variant"].nunique() > 1 else "run")
    figures = figure_order((folder / "figures").glob("*.png"))
    if not figures and draw:
        try:
            from simulator.views.plots import plot_run

            plot_run(folder)
        except Exception:  # a report without figures is better than no report
            pass
        figures = figure_order((folder / "figures").glob("*.png"))
    return Folder(folder, manifest, document, kind, comparison, summary,
                  clean(read_csv(folder / "users.csv")), figures)


def variant_documents(f: Folder) -> dict[str, dict[str, Any]]:
    """The resolved document of each variant that ran (at the first sweep point)."""
    from simulator.experiment.plan import Task, task_document

    table = f.table
    params: tuple[tuple[str, Any], ...] = ()
    point = None
    if table.sweep:
        point = table.points[0]
        params = tuple((k, _plain(v)) for k, v in table.point_values(point).items())
    changes = f.document.get("variants") or {}
    out = {}
    for variant in table.variants:
        try:
            out[variant] = task_document(f.document, Task(0, variant, 0, point, params), changes)
        except Exception:
            out[variant] = f.document
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
