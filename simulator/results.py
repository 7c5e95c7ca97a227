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
