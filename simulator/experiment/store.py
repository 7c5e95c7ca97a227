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

import numpy as np
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

FAST_ROWS = 50_000  # tables of this many rows or more are normalised column by column


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as it reads back from its CSV file, so results held in memory and results
    persisted to disk (and resumed) give identical statistics and identical files.

    Large tables (a users table of a big run) take :func:`normalise_by_column`, the same
    result without formatting every value as text."""
    if len(frame) >= FAST_ROWS and _plain_columns(frame):
        return normalise_by_column(frame)
    return _through_text(frame)


def _through_text(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return pd.read_csv(io.StringIO(text))


def _plain_columns(frame: pd.DataFrame) -> bool:
    """Distinct text column names (read_csv would rename duplicates) and at least one row
    (a header alone reads back as text columns)."""
    names = list(frame.columns)
    return len(frame) > 0 and all(isinstance(c, str) for c in names) and len(set(names)) == len(names)


def normalise_by_column(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`normalise`, column by column (read_csv infers each column on its own):

    - integer and boolean columns read back unchanged (integers as int64);
    - a float column whose values are all whole and below 10^10 (``%.10g`` writes them in
      full, without a point) reads back as int64;
    - otherwise only its values that are not whole go through ``FLOAT_FORMAT`` and pandas'
      parser; whole values, NaN and infinities read back as they are;
    - every other column (text) goes through the CSV round trip, together.

    Tested against the round trip through text on random tables (tests/test_fast_kernels.py).
    """
    out: dict[str, Any] = {}
    text_columns = []
    for name in frame.columns:
        column = frame[name]
        kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "O"
        if kind == "b":
            out[name] = column.to_numpy()
        elif kind in "iu":
            out[name] = column.to_numpy().astype(np.int64)
        elif kind == "f":
            out[name] = _float_column(column.to_numpy().astype(np.float64))
        else:
            text_columns.append(name)
            out[name] = None
    if len(text_columns) == len(frame.columns) or len(frame.columns) < 2:
        # a line of the file can then be blank (read_csv skips it): only the text route is right
        return _through_text(frame)
    if text_columns:  # with a column of row numbers, so that no line is blank here either
        numbered = frame[text_columns].copy()
        row = "_" * (max(len(c) for c in frame.columns) + 1)
        numbered.insert(0, row, np.arange(len(frame)))
        back = _through_text(numbered)
        for name in text_columns:
            out[name] = back[name]
    return pd.DataFrame(out, columns=list(frame.columns))


def _float_column(values: np.ndarray) -> np.ndarray:
    whole = np.isfinite(values) & (values == np.trunc(values)) & (np.abs(values) < 1e10)
    if whole.all():
        return values.astype(np.int64)  # every value written as an integer: an int64 column
    result = values.copy()
    result[np.isnan(values)] = np.nan  # written as an empty field, read back as numpy's NaN
    rest = np.flatnonzero(np.isfinite(values) & ~whole)
    if rest.size:
        text = "x\n" + "\n".join([FLOAT_FORMAT % v for v in values[rest].tolist()])
        result[rest] = pd.read_csv(io.StringIO(text))["x"].to_numpy(dtype=np.float64)
    return result


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
