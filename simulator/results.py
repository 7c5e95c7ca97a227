"""The results folder: manifest, tables, atomic writes (docs/reference/results.md).

A run is written into a hidden temporary sibling and renamed into place only when every file
is complete, so a crash or Ctrl-C never leaves a half-written results folder behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .scenario import Scenario

FLOAT_FORMAT = "%.10g"  # fixed formatting so identical runs give byte-identical tables
PACKAGES = ["perksim", "mesa", "numpy", "scipy", "networkx", "pandas", "pydantic", "pyyaml",
            "click", "matplotlib"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def scenario_hash(scenario: Scenario) -> str:
    text = json.dumps(scenario.to_document(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_hash(path: str | Path | None) -> str | None:
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_id(started: datetime, scenario: Scenario) -> str:
    """``20261126T071502Z-1a2b3c``: UTC start time + short hash of the resolved scenario."""
    return f"{started.strftime('%Y%m%dT%H%M%SZ')}-{scenario_hash(scenario)[:6]}"


def run_folder(out_root: str | Path, scenario: Scenario, started: datetime) -> Path:
    """A new, not yet existing ``<out>/<scenario-name>/<run-id>`` path inside ``out_root``."""
    root = Path(out_root).resolve()
    base = (root / scenario.name).resolve()
    if root not in base.parents:  # names are validated, but never trust a path
        raise ValueError(f"scenario name {scenario.name!r} would leave the output folder")
    rid = run_id(started, scenario)
    folder = base / rid
    i = 1
    while folder.exists():
        i += 1
        folder = base / f"{rid}-{i}"
    return folder


@contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``final`` when the block completes.

    On any exception (including KeyboardInterrupt) the temporary folder is removed.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_table(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_yaml(document: Any, path: Path) -> None:
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def write_json(document: Any, path: Path) -> None:
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


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


# --- experiments: persisted as each run completes, resumable ---------------------------------------

PARTIAL = ".partial"
TABLES = ("steps", "summary", "users", "edges")


def partial_folder(final: Path) -> Path:
    """Where an experiment lives until it is complete: ``<run-id>.partial`` beside it."""
    return final.parent / f"{final.name}{PARTIAL}"


def final_folder(partial: Path) -> Path:
    if not partial.name.endswith(PARTIAL):
        raise ValueError(f"{partial} is not an unfinished results folder (*{PARTIAL})")
    return partial.parent / partial.name[: -len(PARTIAL)]


class FolderStore:
    """Task results persisted under ``<folder>/runs/<task-key>/`` the moment they arrive.

    Each run's folder is written to a temporary name and renamed, so a run is either
    complete on disk or absent; a failed run leaves ``runs/<task-key>.error.txt``.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.runs = self.folder / "runs"
        self.runs.mkdir(parents=True, exist_ok=True)

    def done(self) -> set[str]:
        return {p.name for p in self.runs.iterdir()
                if p.is_dir() and not p.name.startswith(".") and (p / "summary.csv").is_file()}

    def save(self, task: Any, result: dict[str, Any]) -> None:
        error_file = self.runs / f"{task.key}.error.txt"
        if "error" in result:
            error_file.write_text(result["error"], encoding="utf-8")
            return
        tmp = self.runs / f".{task.key}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        for name in TABLES:
            if result.get(name) is not None:
                write_table(result[name], tmp / f"{name}.csv")
        write_json({"seed": result.get("seed"), "facts": result.get("facts")}, tmp / "run.json")
        final = self.runs / task.key
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        error_file.unlink(missing_ok=True)

    def load(self, task: Any) -> dict[str, Any] | None:
        folder = self.runs / task.key
        if (folder / "summary.csv").is_file():
            meta = json.loads((folder / "run.json").read_text())
            out: dict[str, Any] = {"key": task.key, "seed": meta["seed"], "facts": meta["facts"]}
            for name in TABLES:
                path = folder / f"{name}.csv"
                out[name] = pd.read_csv(path) if path.is_file() else None
            return out
        error_file = self.runs / f"{task.key}.error.txt"
        if error_file.is_file():
            return {"key": task.key, "error": error_file.read_text(encoding="utf-8")}
        return None


def write_experiment(folder: Path, result: Any) -> None:
    """Write an experiment's tables into ``folder`` (figures are drawn separately)."""
    write_table(result.steps, folder / "steps.csv")
    write_table(result.summary, folder / "summary.csv")
    write_table(result.comparison, folder / "comparison.csv")
    if result.users is not None:
        write_table(result.users, folder / "users.csv")
    if result.edges is not None:
        write_table(result.edges, folder / "edges.csv")
    if len(result.failures):
        write_table(result.failures, folder / "failures.csv")


def finish(partial: Path) -> Path:
    """Mark an experiment complete: drop the per-run files and rename it into place."""
    shutil.rmtree(partial / "runs", ignore_errors=True)
    final = final_folder(partial)
    os.replace(partial, final)
    return final


def read_manifest(folder: Path) -> dict[str, Any]:
    return json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
