"""Where an experiment keeps its runs as they finish: in memory (:class:`MemoryStore`, for
notebooks) or in the results folder's ``runs/`` (:class:`FolderStore`), so that an interrupted
compare or sweep resumes from the runs already saved."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.experiment.plan import Task
from simulator.experiment.results import (
    FLOAT_FORMAT,
    TABLES,
    ResultsFolderError,
    read_table,
    write_json,
    write_table,
)


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as it reads back from its CSV file, so results held in memory and results
    persisted to disk (and resumed) give identical statistics and identical files."""
    text = frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return pd.read_csv(io.StringIO(text))


class MemoryStore:
    """Keeps task results in memory (notebooks); see ``results.FolderStore`` for disk."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}

    def done(self) -> set[str]:
        """The keys of the tasks that finished without an error."""
        return {k for k, r in self.results.items() if "error" not in r}

    def save(self, task: Task, result: dict[str, Any]) -> None:
        """Keep a task's result, its tables normalised as if read back from CSV (:func:`normalise`)."""
        self.results[task.key] = {k: normalise(v) if isinstance(v, pd.DataFrame) else v
                                  for k, v in result.items()}

    def load(self, task: Task) -> dict[str, Any] | None:
        """A task's stored result, or ``None`` if it has not run."""
        return self.results.get(task.key)


class FolderStore:
    """Task results persisted under ``<folder>/runs/<task-key>/`` the moment they arrive.

    Each run's folder is written to a temporary name and renamed, so a run is either
    complete on disk or absent; a failed run leaves ``runs/<task-key>.error.txt``. A run
    folder that does not read back (damaged since) is not counted as done: it is listed in
    ``damaged`` and run again.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.runs = self.folder / "runs"
        self.runs.mkdir(parents=True, exist_ok=True)
        self.damaged: dict[str, str] = {}
        self._done: set[str] | None = None

    def done(self) -> set[str]:
        """The keys of the tasks whose run folders read back (read once, then kept up to date by
        :meth:`save`); damaged folders go to ``damaged`` instead."""
        if self._done is None:
            done = set()
            for p in sorted(self.runs.iterdir()):
                if not p.is_dir() or p.name.startswith(".") or not (p / "summary.csv").is_file():
                    continue
                try:
                    self._read(p)
                except ResultsFolderError as exc:
                    self.damaged[p.name] = str(exc)
                    continue
                done.add(p.name)
            self._done = done
        return set(self._done)

    def save(self, task: Any, result: dict[str, Any]) -> None:
        """Persist one task's result: its tables and ``run.json`` in ``runs/<key>/`` (written to a
        temporary folder and renamed), or its error in ``runs/<key>.error.txt``."""
        error_file = self.runs / f"{task.key}.error.txt"
        if "error" in result:
            error_file.write_text(result["error"], encoding="utf-8")
            return
        tmp = self.runs / f".{task.key}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            for name in TABLES:
                if result.get(name) is not None:
                    write_table(result[name], tmp / f"{name}.csv")
            write_json({"seed": result.get("seed"), "facts": result.get("facts")}, tmp / "run.json")
            final = self.runs / task.key
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)  # a full disk must not leave half a run
            raise
        error_file.unlink(missing_ok=True)
        if self._done is not None:
            self._done.add(task.key)
            self.damaged.pop(task.key, None)

    def _read(self, folder: Path) -> dict[str, Any]:
        meta_path = folder / "run.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResultsFolderError(f"{meta_path}: cannot be read ({exc}); the file is damaged") from None
        if not isinstance(meta, dict) or "seed" not in meta or "facts" not in meta:
            raise ResultsFolderError(f"{meta_path}: no 'seed' and 'facts'; the file is damaged")
        out: dict[str, Any] = {"key": folder.name, "seed": meta["seed"], "facts": meta["facts"]}
        for name in TABLES:
            out[name] = read_table(folder / f"{name}.csv", optional=name != "summary", text=False)
        return out

    def load(self, task: Any) -> dict[str, Any] | None:
        """A task's stored result: its tables (as read back), ``{"key", "error"}`` for a failed run,
        or ``None`` if it has not run (or its folder is damaged)."""
        folder = self.runs / task.key
        if (folder / "summary.csv").is_file() and task.key not in self.damaged:
            return self._read(folder)
        error_file = self.runs / f"{task.key}.error.txt"
        if error_file.is_file():
            return {"key": task.key, "error": error_file.read_text(encoding="utf-8", errors="replace")}
        return None
