"""The one reader of a results folder: its manifest, the scenario that ran (as a checked
document and as typed :class:`~simulator.scenario.schema.Scenario` objects per variant and
sweep point) and its tables, each read once and checked as it is read.

The report, ``perksim explain``, the figures and ``Results.open`` all read a folder through
:class:`SavedFolder`; a missing, unreadable or damaged file raises
:class:`~simulator.experiment.results.ResultsFolderError` naming the file (and line).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from simulator.experiment.formats import table_path
from simulator.experiment.plan import Task, task_document
from simulator.experiment.results import ResultsFolderError, read_manifest, read_table
from simulator.scenario.loader import validate_document
from simulator.scenario.schema import Scenario, ScenarioError

TABLE_NAMES = ("steps", "summary", "comparison", "users", "edges", "failures")


class SavedFolder:
    """A results folder read back: every file checked as it is read (``ResultsFolderError``
    naming the file and line), each read at most once."""

    def __init__(self, path: str | Path) -> None:
        """Name the folder; nothing is read until asked for."""
        self.path = Path(path)
        self._manifest: dict[str, Any] | None = None
        self._source: tuple[str, str, Any] | bool | None = False  # False: not read yet
        self._document: dict[str, Any] | None = None
        self._scenarios: dict[tuple[str | None, tuple[tuple[str, Any], ...]], Scenario] = {}
        self._tables: dict[tuple[str, tuple[str, ...], bool], pd.DataFrame | None] = {}
        self._extra: dict[str, Any] = {}

    def __repr__(self) -> str:
        """``SavedFolder('results/klout_pout/…')``."""
        return f"SavedFolder({str(self.path)!r})"

    # --- the manifest ------------------------------------------------------------------------

    def manifest(self, required: Iterable[str] = ()) -> dict[str, Any]:
        """``manifest.json`` as a dict, checked (:func:`read_manifest`); ``{}`` when the folder
        has none and nothing is ``required``."""
        required = tuple(required)
        if self._manifest is None or any(k not in self._manifest for k in required):
            if not required and not (self.path / "manifest.json").exists():
                return {}
            self._manifest = read_manifest(self.path, required)
        return self._manifest

    # --- the scenario ------------------------------------------------------------------------

    def _raw(self) -> tuple[str, str, Any] | None:
        """(where, file, document) of the scenario that ran: the manifest's
        ``resolved_scenario``, else ``scenario.yaml``; ``None`` if the folder has neither."""
        if self._source is False:
            manifest = self.manifest()
            yaml_path = self.path / "scenario.yaml"
            if "resolved_scenario" in manifest:
                file = str(self.path / "manifest.json")
                self._source = (f"{file}: 'resolved_scenario'", file, manifest["resolved_scenario"])
            elif yaml_path.is_file():
                try:
                    document = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
                    raise ResultsFolderError(f"{yaml_path}: cannot be read ({str(exc).splitlines()[0]}); "
                                             "the file is damaged") from None
                self._source = (str(yaml_path), str(yaml_path), document)
            else:
                self._source = None
        assert self._source is not False
        return self._source

    def document(self) -> dict[str, Any]:
        """The scenario that ran, checked against the scenario format and in its canonical form
        (``Scenario.to_document()``); ``{}`` if the folder records none."""
        if self._document is None:
            source = self._raw()
            if source is None:
                return {}
            where, _, document = source
            try:
                self._document = Scenario.model_validate(document).to_document()
            except ValidationError as exc:
                first = exc.errors()[0]
                path = ".".join(str(p) for p in first["loc"]) or "(top)"
                raise ResultsFolderError(f"{where}: not a valid scenario ({exc.error_count()} problems; "
                                         f"{path}: {first['msg']}); the file is damaged or from "
                                         "another version of perksim") from None
        return self._document

    def scenario(self, variant: str | None = None,
                 point: Mapping[str, Any] | None = None) -> Scenario | None:
        """The scenario as the runs of ``variant`` (at the sweep ``point``, ``{field.path:
        value}``) used it: the variant's changes, then the point's values, validated — as the
        experiment made it. ``None`` if the folder records no scenario; ``ResultsFolderError``
        if it does not validate."""
        params = tuple((str(k), v) for k, v in (point or {}).items())
        key = (variant, params)
        if key not in self._scenarios:
            source = self._raw()
            if source is None:
                return None
            where, file, document = source
            task = Task(0, variant or "", 0, 0 if params else None, params)
            try:
                changes = document.get("variants") or {}
                robust = self.manifest().get("kind") == "robust"  # its variants beat samples
                self._scenarios[key] = validate_document(task_document(document, task, changes,
                                                                       robust),
                                                         file=file, check_variants=False)
            except (ScenarioError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                raise ResultsFolderError(f"{where} (variant {variant!r}) is not a valid scenario; "
                                         "the file is damaged or from another version of "
                                         f"perksim:\n{exc}") from None
        return self._scenarios[key]

    # --- the tables --------------------------------------------------------------------------

    def table(self, name: str, required: Iterable[str] = (), optional: bool = True) -> pd.DataFrame | None:
        """``<name>.csv`` (or ``<name>.parquet``, a file or a dataset folder: :func:`table_path`)
        checked (:func:`read_table`: its kind's columns, ``required`` ones, numbers where
        numbers belong); ``None`` if absent and ``optional``."""
        key = (name, tuple(required), optional)
        if key not in self._tables:
            self._tables[key] = read_table(table_path(self.path, name), key[1], optional,
                                           kind=name)
        return self._tables[key]

    def robust(self) -> Any:
        """A robustness study's tables (:class:`~simulator.experiment.robust.study.RobustTables`),
        read once and checked; ``None`` if the folder holds none."""
        if "robust" not in self._extra:
            from simulator.experiment.robust.files import has_robust, read_robust

            self._extra["robust"] = read_robust(self.path) if has_robust(self.path) else None
        return self._extra["robust"]

    @property
    def kind(self) -> str:
        """``run``, ``compare``, ``sweep`` or ``robust``: the manifest's, else inferred from the tables (a
        ``point`` column: a sweep; several variants: a compare)."""
        kind = self.manifest().get("kind")
        if kind:
            return kind
        table = self.table("comparison")
        if table is None:
            table = self.table("summary")
        if table is None:
            raise ResultsFolderError(f"{self.path} has neither comparison.csv nor summary.csv: "
                                     "is it a results folder of perksim?")
        return ("sweep" if "point" in table.columns else
                "compare" if table["variant"].nunique() > 1 else "run")

    @property
    def figures(self) -> list[Path]:
        """The folder's figures (``figures/*.png``), sorted by name."""
        return sorted((self.path / "figures").glob("*.png"))


def as_saved(folder: str | Path | SavedFolder) -> SavedFolder:
    """``folder`` as a :class:`SavedFolder` (itself if it is one)."""
    return folder if isinstance(folder, SavedFolder) else SavedFolder(folder)
