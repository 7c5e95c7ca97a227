"""The results folder's files: the manifest (provenance), the tables written with a fixed
float format (byte-identical reruns), each run of an experiment saved as it finishes
(:class:`FolderStore`), and careful reading (docs/reference/results.md).

Reading a folder (``plot``, ``report``, ``explain``, ``--resume``) goes through
:func:`read_manifest` and :func:`read_table`, which raise :class:`ResultsFolderError` with a
located message (``path:line: …``) for a missing, unreadable or damaged file. Claiming,
locking and renaming the folder are :mod:`simulator.experiment.folders`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulator.experiment.formats import INSTALL, read_parquet, write_dataset, write_parquet
from simulator.scenario.schema import Scenario

FLOAT_FORMAT = "%.10g"  # fixed formatting so identical runs give byte-identical tables
PACKAGES = ["perksim", "mesa", "numpy", "scipy", "networkx", "pandas", "pydantic", "pyyaml",
            "click", "matplotlib", "SALib", "scikit-learn", "pyarrow"]



def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC (manifests and lock files)."""
    return datetime.now(UTC)


def package_versions() -> dict[str, str]:
    """The versions of Python and of the packages results depend on (``"not installed"`` if absent)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's document as canonical JSON: equal for equal scenarios."""
    text = json.dumps(scenario.to_document(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_hash(path: str | Path | None) -> str | None:
    """SHA-256 (hex) of the file's bytes, or ``None`` if ``path`` is ``None`` or not a file."""
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- errors ---------------------------------------------------------------------------------------


class ResultsFolderError(ValueError):
    """A results folder (or a file in it) that is missing, unreadable or damaged; the
    message names the file, and the line where it can."""


# --- writing --------------------------------------------------------------------------------------


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV, without the index and with ``FLOAT_FORMAT`` (byte-identical reruns)."""
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_yaml(document: Any, path: Path) -> None:
    """Write ``document`` as UTF-8 YAML, keys in their order."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def write_json(document: Any, path: Path) -> None:
    """Write JSON atomically (a temporary file renamed over ``path``): a reader, or a crash,
    never sees half a manifest."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def manifest(scenario: Scenario, *, source: str | Path | None, seed: int, derived_seeds: dict[str, Any],
             started: datetime, finished: datetime, command: list[str] | None,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Provenance of a run: what was run, with which seeds and software, and when."""
    return {
        "scenario": scenario.name,
        "question": scenario.question,
        "source_file": str(source) if source else None,
        "source_sha256": file_hash(source),
        "scenario_sha256": scenario_hash(scenario),
        "seed": seed,
        "derived_seeds": derived_seeds,
        "command": command if command is not None else sys.argv,
        "versions": package_versions(),
        "platform": platform.platform(),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "status": "complete",
        "resolved_scenario": scenario.to_document(),
        **(extra or {}),
    }


# --- reading, with located messages for damaged folders -------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_time(v: Any) -> bool:
    try:
        datetime.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return True


# key: (check, what it should be); checked when present (``required`` keys must be present)
MANIFEST_KEYS: dict[str, tuple[Any, str]] = {
    "scenario": (lambda v: isinstance(v, str), "a text"),
    "question": (lambda v: v is None or isinstance(v, str), "a text"),
    "source_file": (lambda v: v is None or isinstance(v, str), "a path or null"),
    "seed": (lambda v: _is_int(v) and v >= 0, "a whole number ≥ 0"),
    "kind": (lambda v: v in ("run", "compare", "sweep", "robust"),
             "'run', 'compare', 'sweep' or 'robust'"),
    "status": (lambda v: v in ("running", "complete"), "'running' or 'complete'"),
    "started": (_is_time, "an ISO 8601 time"),
    "finished": (_is_time, "an ISO 8601 time"),
    "replicates": (lambda v: v is None or (_is_int(v) and v >= 1), "a whole number ≥ 1"),
    "replicate": (lambda v: v is None or (_is_int(v) and v >= 0), "a whole number ≥ 0 or null"),
    "variant": (lambda v: v is None or isinstance(v, str), "a text or null"),
    "variants": (lambda v: v is None or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
                 "a list of variant names"),
    "resolved_scenario": (lambda v: isinstance(v, dict), "a scenario (a JSON object)"),
    "derived_seeds": (lambda v: isinstance(v, dict), "a JSON object"),
    "command": (lambda v: isinstance(v, list), "a list"),
    "versions": (lambda v: isinstance(v, dict), "a JSON object"),
    "executor": (lambda v: v is None or v in ("serial", "local", "dask"),
                 "'serial', 'local' or 'dask'"),
    "workers": (lambda v: v is None or (_is_int(v) and v >= 1), "a whole number ≥ 1 or null"),
    "scheduler": (lambda v: v is None or isinstance(v, str), "an address or null"),
    "failures": (lambda v: v is None or (_is_int(v) and v >= 0), "a whole number ≥ 0 or null"),
    "users": (lambda v: _is_int(v) and v >= 0, "a whole number ≥ 0"),
    "graph": (lambda v: isinstance(v, str), "a text"),
    "follows": (lambda v: _is_int(v) and v >= 0, "a whole number ≥ 0"),
    "assortativity": (lambda v: v is None or isinstance(v, dict), "a JSON object"),
    "users_table": (lambda v: v in ("csv", "parquet", "none"), "'csv', 'parquet' or 'none'"),
    "table_format": (lambda v: v in ("csv", "parquet"), "'csv' or 'parquet'"),
    # perksim robust: how the uncertainties were sampled (resuming rebuilds the same samples)
    "method": (lambda v: v in ("morris", "sobol", "lhs"), "'morris', 'sobol' or 'lhs'"),
    "samples": (lambda v: _is_int(v) and v >= 1, "a whole number ≥ 1"),
    "design_seed": (lambda v: _is_int(v) and v >= 0, "a whole number ≥ 0"),
}
RESUME_KEYS = ("kind", "resolved_scenario", "replicates", "variants", "started")


def _key_line(text: str, key: str) -> int | None:
    m = re.search(rf'^\s*"{re.escape(key)}"\s*:', text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _short(value: Any, width: int = 40) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else json.dumps(value, default=str)
    return text if len(text) <= width else text[:width - 1] + "…"


def read_manifest(folder: str | Path, required: Iterable[str] = ()) -> dict[str, Any]:
    """``folder/manifest.json`` as a dict, with every known key of the right type and the
    ``required`` keys present; else :class:`ResultsFolderError` naming the file and line."""
    path = Path(folder) / "manifest.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFolderError(f"{path}: not found; is {folder} a results folder of perksim?") from None
    except IsADirectoryError:
        raise ResultsFolderError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise ResultsFolderError(f"{path}: not UTF-8 text (byte {exc.start}); the file is damaged") from None
    except OSError as exc:
        raise ResultsFolderError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFolderError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
                                 "the file is damaged") from None
    except RecursionError:
        raise ResultsFolderError(f"{path}: nested too deeply; the file is damaged") from None
    if not isinstance(doc, dict):
        raise ResultsFolderError(f"{path}: should hold a JSON object {{\"scenario\": …}}, "
                                 f"not {_short(doc)}; the file is damaged")
    for key in required:
        if key not in doc:
            raise ResultsFolderError(f"{path}: no key '{key}'; the file is damaged or not "
                                     "written by perksim")
    for key, value in doc.items():
        rule = MANIFEST_KEYS.get(key)
        if rule is not None and not rule[0](value):
            line = _key_line(text, key)
            where = f"{path}:{line}" if line else str(path)
            raise ResultsFolderError(f"{where}: '{key}' should be {rule[1]}, not {_short(value)}; "
                                     "the file is damaged")
    return doc


# per table: required columns, numeric columns (when present) and whole-number columns ≥ 0
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "steps": ("variant", "replicate", "step", "brand"),
    "summary": ("variant", "replicate", "brand"),
    "comparison": ("variant", "brand", "metric", "mean", "ci_low", "ci_high", "n",
                   "diff_mean", "diff_ci_low", "diff_ci_high"),
    "users": ("id",),
    "edges": ("author", "follower"),
    "failures": ("run", "error"),
    # perksim robust (simulator.experiment.robust.files)
    "robust_design": ("sample",),
    "robust_verdicts": ("brand", "variant", "reference", "metric", "sample", "verdict"),
    "robust_shares": ("brand", "variant", "reference", "metric", "verdict", "share"),
    "robust_indices": ("brand", "variant", "reference", "metric", "parameter", "index", "value"),
    "robust_flips": ("brand", "variant", "reference", "metric", "box", "condition", "verdict"),
    "robust_flip_bounds": ("brand", "variant", "reference", "metric", "box", "parameter"),
    "robust_map": ("brand", "metric", "sample", "x_parameter", "x", "y_parameter", "y", "winner"),
}
WHOLE_COLUMNS = {"replicate", "step", "point", "id", "author", "follower", "n", "diff_n", "runs",
                 "nonzero", "followers", "sample", "box", "count", "samples", "agreeing"}
NUMERIC_COLUMNS = {"comparison": {"mean", "std", "ci_low", "ci_high", "diff_mean", "diff_ci_low",
                                  "diff_ci_high", "replicates_needed"},
                   "users": {"post_rate", "quality", "score"},
                   "robust_verdicts": {"direction", "mean_difference", "ci_low", "ci_high"},
                   "robust_shares": {"direction", "share"},
                   "robust_indices": {"value", "conf_low", "conf_high", "rank"},
                   "robust_flips": {"accuracy"},
                   "robust_flip_bounds": {"lower", "upper"},
                   "robust_map": {"margin"}}
NUMERIC_PREFIXES = {"users": ("perk_", "pout_", "relevance_")}
LABEL_COLUMNS = {"variant", "brand", "metric", "replicate", "step", "point", "id", "author",
                 "follower", "run"}  # never empty: they say which run, step or user a row is
TEXT_COLUMNS = {"variant": str, "brand": str, "metric": str, "run": str, "error": str}


def _numeric_columns(kind: str, frame: pd.DataFrame) -> list[str]:
    from simulator.model.metrics import METRICS

    cols: set[str] = set(WHOLE_COLUMNS) | NUMERIC_COLUMNS.get(kind, set())
    if kind in ("steps", "summary"):
        cols |= set(METRICS)
    prefixes = NUMERIC_PREFIXES.get(kind, ())
    return [c for c in frame.columns if c in cols or (prefixes and str(c).startswith(prefixes))]


def read_table(path: str | Path, required: Iterable[str] = (), optional: bool = True,
               kind: str | None = None, text: bool = True) -> pd.DataFrame | None:
    """Read a table of a results folder and check it: readable CSV (or Parquet, for a
    ``.parquet`` file or dataset folder: :mod:`simulator.experiment.formats`), the columns its
    kind (the file's stem: ``steps``, ``summary``, …) and ``required`` name, and numbers where
    numbers belong. A missing file gives ``None`` when ``optional``; any other problem (an
    empty file included: perksim writes at least a header) :class:`ResultsFolderError`
    naming the file and line (the row, in a Parquet table).
    With ``text``, variant, brand and metric names are read as text (else as pandas guesses,
    as the statistics of an experiment always read them)."""
    path = Path(path)
    kind = kind or path.stem
    if not os.path.lexists(path):
        if optional:
            return None
        raise ResultsFolderError(f"{path}: not found; the results folder is incomplete or damaged")
    try:
        if path.suffix == ".parquet":
            frame = read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=TEXT_COLUMNS if text else None)
    except ImportError:
        raise ResultsFolderError(f"{path}: a Parquet table, and reading it needs pyarrow, which "
                                 f"is not installed: install it with {INSTALL}") from None
    except pd.errors.EmptyDataError:
        raise ResultsFolderError(f"{path}: empty; the file is damaged") from None
    except pd.errors.ParserError as exc:
        text = str(exc).strip().splitlines()[-1]
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        if m:
            raise ResultsFolderError(f"{path}:{m[2]}: {m[3]} fields where the header has {m[1]}; "
                                     "the file is damaged") from None
        raise ResultsFolderError(f"{path}: not a readable CSV table ({text}); the file is damaged") from None
    except UnicodeDecodeError as exc:
        raise ResultsFolderError(f"{path}: not UTF-8 text (byte {exc.start}); the file is damaged") from None
    except IsADirectoryError:
        raise ResultsFolderError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise ResultsFolderError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:  # e.g. a text column pandas cannot convert
        raise ResultsFolderError(f"{path}: not a readable table ({exc}); the file is damaged") from None
    wanted = [*ID_COLUMNS.get(kind, ()), *required]
    missing = [c for c in dict.fromkeys(wanted) if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:8])) + (", …" if len(frame.columns) > 8 else "")
        raise ResultsFolderError(f"{_at(path, -1)}: no column {', '.join(repr(c) for c in missing)} "
                                 f"(the header has: {have}); the file is damaged or not perksim's")
    for col in _numeric_columns(kind, frame):
        frame[col] = _checked_numbers(frame[col], path, str(col), whole=col in WHOLE_COLUMNS)
    for col in LABEL_COLUMNS.intersection(frame.columns):
        empty = frame[col].isna().to_numpy().nonzero()[0]
        if len(empty):
            raise ResultsFolderError(f"{_at(path, int(empty[0]))}: column '{col}' is empty; "
                                     "the file is damaged")
    return frame


def _at(path: Path, row: int) -> str:
    """Where row ``row`` (0-based; -1: the header) of a table is: ``path:line`` in a CSV file,
    ``path: row N`` in a Parquet table (which has no lines)."""
    if path.suffix == ".parquet":
        return str(path) if row < 0 else f"{path}: row {row + 1}"
    return f"{path}:{row + 2}"


def _checked_numbers(column: pd.Series, path: Path, name: str, whole: bool) -> pd.Series:
    if column.dtype == bool:
        return column
    numeric = pd.api.types.is_numeric_dtype(column)
    if numeric and not whole:  # parsed as numbers: nothing can be wrong with them
        return column
    values = column if numeric else pd.to_numeric(column, errors="coerce")
    v = values.to_numpy(dtype=float)
    # a numeric column's NaN are its empty cells; in a text column they are what failed to parse
    bad = np.zeros(v.shape, dtype=bool) if numeric else np.isnan(v) & column.notna().to_numpy()
    if whole:
        present = ~np.isnan(v)
        with np.errstate(invalid="ignore"):
            bad |= present & (~np.isfinite(v) | (v < 0) | (np.mod(v, 1) != 0))
    if bad.any():
        i = int(bad.nonzero()[0][0])
        what = "a whole number ≥ 0" if whole else "a number"
        raise ResultsFolderError(f"{_at(path, i)}: column '{name}': {_short(column.iloc[i])} is not "
                                 f"{what}; the file is damaged")
    return values


# --- experiments: persisted as each run completes, resumable --------------------------------------

TABLES = ("steps", "summary", "users", "edges")


def write_experiment(folder: Path, result: Any, users_table: str = "csv",
                     table_format: str = "csv") -> None:
    """Write an experiment's tables into ``folder`` (figures are drawn separately): the users
    as ``users.csv``, ``users.parquet`` or not at all (``users_table``), the steps as
    ``steps.csv`` or the dataset ``steps.parquet/`` (``table_format``; checked beforehand with
    :func:`~simulator.experiment.formats.table_formats`), the others as CSV."""
    if table_format == "parquet":
        write_dataset(result.steps, folder / "steps.parquet")
    else:
        write_table(result.steps, folder / "steps.csv")
    write_table(result.summary, folder / "summary.csv")
    write_table(result.comparison, folder / "comparison.csv")
    if result.users is not None and users_table == "parquet":
        write_parquet(result.users, folder / "users.parquet")
    elif result.users is not None and users_table == "csv":
        write_table(result.users, folder / "users.csv")
    if result.edges is not None:
        write_table(result.edges, folder / "edges.csv")
    if len(result.failures):
        write_table(result.failures, folder / "failures.csv")
