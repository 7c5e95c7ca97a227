"""An experiment's results as one object: its tables, the scenario that ran and its provenance;
saved to a results folder, reopened from one, drawn and reported (docs/reference/api.md).

``simulator.compare(...)`` returns :class:`Results`; ``results.save("results")`` writes the
folder that ``perksim compare`` writes; ``Results.open(folder)`` reads one back (through
:class:`~simulator.experiment.saved.SavedFolder`, the one reader of a results folder);
``.plot()``, ``.report()`` and ``.explain()`` draw its figures, write its teaching report and
tell one user's story.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.experiment.folders import new_folder, run_id
from simulator.experiment.formats import FormatError, table_formats
from simulator.experiment.output import scenario_folder
from simulator.experiment.results import (
    ResultsFolderError,
    manifest,
    utc_now,
    write_experiment,
    write_json,
    write_yaml,
)
from simulator.experiment.runner import ExperimentResult
from simulator.experiment.saved import TABLE_NAMES, SavedFolder
from simulator.scenario.schema import Scenario

Notify = Callable[[str], Any]  # receives a one-line warning (the command line prints it)
FACT_KEYS = ("users", "graph", "follows", "assortativity")  # the manifest's facts of the runs
SETTING_KEYS = ("variant", "replicates", "replicate", "variants", "executor", "workers",
                "scheduler", "method", "samples", "design_seed", "users_table", "table_format")


def warn(message: str) -> None:
    """The default ``notify``: a Python warning (shown once in a notebook)."""
    warnings.warn(message, stacklevel=3)


def settings_of(replicates: int, variants: Sequence[str], executor: str, workers: int | None,
                scheduler: str | None, failures: int | None) -> dict[str, Any]:
    """The manifest's record of a compare or sweep's options, in its order."""
    return {"replicates": replicates, "variants": list(variants), "executor": executor,
            "workers": workers, "scheduler": scheduler, "failures": failures}


def draw(folder: Path, notify: Notify | None = None) -> list[Path]:
    """Draw a results folder's figures; a figure that fails is a warning, never a lost table."""
    from simulator.views.plots import plot_run

    try:
        return plot_run(folder)
    except Exception as exc:  # a figure must never cost the user their tables
        (notify or warn)(f"warning: figures could not be drawn: {exc}")
        return []


@dataclass
class Results(ExperimentResult):
    """The tables of a run, compare or sweep (as :class:`ExperimentResult`) with what made them.

    ``kind`` is ``run``, ``compare``, ``sweep`` or ``robust``; ``scenario`` the validated scenario that
    ran; ``settings`` the experiment's options (replicates, variants, executor, …) as the
    manifest records them; ``folder`` the results folder once saved or opened.
    """

    kind: str = "compare"
    scenario: Scenario | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    folder: Path | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    robust: Any = None  # a robustness study's findings (simulator.experiment.robust.RobustTables)

    @classmethod
    def of(cls, result: ExperimentResult, kind: str, scenario: Scenario, *,
           settings: dict[str, Any] | None = None, source: str | Path | None = None,
           started: datetime | None = None, finished: datetime | None = None) -> Results:
        """Wrap an :class:`ExperimentResult` with the scenario and settings that made it."""
        return cls(steps=result.steps, summary=result.summary, comparison=result.comparison,
                   users=result.users, edges=result.edges, failures=result.failures,
                   seeds=result.seeds, facts=result.facts, kind=kind, scenario=scenario,
                   settings=dict(settings or {}), source=str(source) if source else None,
                   started=started, finished=finished or utc_now())

    # --- writing ---------------------------------------------------------------------------

    def manifest_document(self, command: Sequence[str] | None = None, status: str = "complete",
                          formats: dict[str, str] | None = None) -> dict[str, Any]:
        """The provenance this folder's ``manifest.json`` holds (see docs/reference/results.md);
        ``formats``: how the tables were written (:func:`table_formats`)."""
        if self.scenario is None:
            raise ValueError("these results have no scenario: they cannot be saved")
        doc = manifest(self.scenario, source=self.source, seed=self.scenario.seed,
                       derived_seeds=self.seeds, started=self.started or utc_now(),
                       finished=self.finished or utc_now(),
                       command=list(command) if command is not None else [f"simulator.{self.kind}"],
                       extra={"kind": self.kind, **self.settings, **(formats or {}), **self.facts})
        doc["status"] = status
        return doc

    def write(self, folder: Path, *, figures: bool = True, command: Sequence[str] | None = None,
              notify: Notify | None = None, users_table: str = "csv",
              table_format: str = "csv") -> list[Path]:
        """Write the tables (as :meth:`save`), the figures and the manifest into ``folder``
        (which exists)."""
        formats = table_formats(users_table, table_format)
        self.write_tables(folder, **formats)
        drawn = draw(folder, notify) if figures else []
        write_json(self.manifest_document(command, formats=formats), folder / "manifest.json")
        return drawn

    def write_tables(self, folder: Path, users_table: str = "csv", table_format: str = "csv") -> None:
        """Write the tables into ``folder``: the runs' (steps, summary, comparison, …; the users
        and steps as ``users_table`` and ``table_format`` say) and a robustness study's
        (``robust_*.csv``)."""
        write_experiment(folder, self, users_table, table_format)
        if self.robust is not None:
            from simulator.experiment.robust.files import write_robust

            write_robust(folder, self.robust)

    def save(self, out: str | Path = "results", *, figures: bool = True,
             command: Sequence[str] | None = None, notify: Notify | None = None,
             users_table: str = "csv", table_format: str = "csv") -> Path:
        """Write a results folder ``<out>/<scenario>/<run id>/`` (tables, figures, manifest,
        scenario) atomically, as ``perksim`` does, and return it.

        ``users_table``: ``"csv"`` (``users.csv``), ``"parquet"`` (``users.parquet``) or
        ``"none"``; ``table_format``: ``"csv"`` (``steps.csv``) or ``"parquet"`` (the dataset
        ``steps.parquet/``). Parquet needs pyarrow: without it :class:`FormatError` is raised
        before anything is written. The folder appears only when complete: if writing fails
        (a full disk), nothing is left.
        """
        if self.scenario is None:
            raise ValueError("these results have no scenario: they cannot be saved")
        table_formats(users_table, table_format)
        base = scenario_folder(out, self.scenario)
        with new_folder(base, run_id(self.started or utc_now(), self.scenario), self.kind) as work:
            partial = work.path
            write_yaml(self.scenario.to_document(), partial / "scenario.yaml")
            drawn = self.write(partial, figures=figures, command=command, notify=notify,
                               users_table=users_table, table_format=table_format)
        self.folder = work.final
        self.figures = [work.final / p.relative_to(partial) for p in drawn]
        self.manifest = SavedFolder(self.folder).manifest()
        return self.folder

    # --- reading ---------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | Path) -> Results:
        """Read a complete results folder back (:class:`~simulator.experiment.saved.SavedFolder`):
        every file is checked as it is read, and a damaged one (a ``resolved_scenario`` that
        does not validate included) raises :class:`ResultsFolderError` naming the file (and line)."""
        folder = Path(folder)
        if folder.name.endswith(".partial"):
            raise ResultsFolderError(f"{folder} is unfinished: continue it with "
                                     "perksim compare|sweep --resume")
        saved = SavedFolder(folder)
        info = saved.manifest(required=("kind", "resolved_scenario"))
        scenario = saved.scenario()
        tables = {name: saved.table(name, optional=name not in ("steps", "summary"))
                  for name in TABLE_NAMES}
        if tables["comparison"] is None:
            from simulator.experiment.statistics import comparison_table
            from simulator.model.metrics import METRICS

            summary = tables["summary"]
            tables["comparison"] = comparison_table(summary, [m for m in METRICS if m in summary])
        failures = tables["failures"]
        results = cls(
            steps=tables["steps"], summary=tables["summary"], comparison=tables["comparison"],
            users=tables["users"], edges=tables["edges"],
            failures=failures if failures is not None else pd.DataFrame(columns=["run", "error"]),
            seeds=dict(info.get("derived_seeds") or {}),
            facts={k: info[k] for k in FACT_KEYS if k in info},
            kind=info["kind"], scenario=scenario,
            settings={k: info[k] for k in SETTING_KEYS if k in info},
            source=info.get("source_file"),
            started=datetime.fromisoformat(info["started"]) if info.get("started") else None,
            finished=datetime.fromisoformat(info["finished"]) if info.get("finished") else None,
            folder=folder, manifest=info,
            figures=sorted((folder / "figures").glob("*.png")))
        if info["kind"] == "robust":
            results.robust = saved.robust()
        return results

    # --- views -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        """What the results are (scenario, kind, variants, replicates, seed, folder) and the
        table ``perksim compare`` prints (:mod:`simulator.api.display`)."""
        from simulator.api.display import to_text

        return to_text(self)

    def _repr_html_(self) -> str:
        """Jupyter's display: what the results are, then the key metrics × variants with means
        and 95% intervals, the cells of the teaching report's table (escaped HTML)."""
        from simulator.api.display import to_html

        return to_html(self)

    def _saved(self) -> Path:
        if self.folder is None:
            raise ValueError("save() the results first: figures and reports are files of "
                             "a results folder")
        return self.folder

    def plot(self) -> list[Path]:
        """(Re)draw the figures into ``<folder>/figures/``; returns their paths."""
        from simulator.views.plots import plot_run

        self.figures = plot_run(self._saved())
        return self.figures

    def report(self) -> tuple[Path, Path]:
        """Write the teaching report (``report.html``, self-contained, and ``report.md``)."""
        from simulator.views.report import write_report

        return write_report(self._saved())

    def explain(self, user: int, brand: str, variant: str | None = None,
                replicate: int | None = None) -> str:
        """Why ``user`` did or did not get ``brand``'s perk (re-runs their replicate exactly)."""
        from simulator.views.explain import explain

        return explain(self._saved(), user, brand, variant, replicate).to_text()


__all__ = ["FormatError", "Results", "draw", "settings_of"]
