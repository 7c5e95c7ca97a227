"""The results folder of ``perksim check-model``: ``<out>/check-model/<run-id>/`` with
``checks.csv``, ``validation.md`` and ``manifest.json``, written atomically."""

from __future__ import annotations

import hashlib
import platform
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from simulator.experiment.folders import atomic_folder
from simulator.experiment.results import file_hash, package_versions, utc_now, write_json, write_table
from simulator.experiment.validation.checks import BY_KEY
from simulator.experiment.validation.jobs import checks_dir, load_check
from simulator.experiment.validation.records import SIZES, Validation
from simulator.experiment.validation.render import checks_frame, render_markdown


def results_folder(out_root: str | Path, started: datetime, validation: Validation) -> Path:
    """A new ``<out>/check-model/<run-id>`` path: UTC start time and a short hash of the table."""
    digest = hashlib.sha256(render_markdown(validation).encode()).hexdigest()[:6]
    base = Path(out_root).resolve() / "check-model"
    rid = f"{started.strftime('%Y%m%dT%H%M%SZ')}-{digest}"
    folder, i = base / rid, 1
    while folder.exists():
        i += 1
        folder = base / f"{rid}-{i}"
    return folder


def write_results(out_root: str | Path, validation: Validation, *, started: datetime, workers: int,
                  seconds: dict[str, float], command: list[str] | None = None) -> Path:
    """Write ``checks.csv``, ``validation.md`` and ``manifest.json`` into a new results folder."""
    folder = results_folder(out_root, started, validation)
    with atomic_folder(folder) as tmp:
        write_table(checks_frame(validation), tmp / "checks.csv")
        (tmp / "validation.md").write_text(render_markdown(validation), encoding="utf-8")
        files = {}
        for key in validation.outcomes:
            path = checks_dir() / BY_KEY[key].scenario
            files[key] = {"scenario": f"scenarios/checks/{path.name}", "sha256": file_hash(path),
                          "seed": load_check(path.name).seed, "seconds": round(seconds.get(key, 0), 1),
                          "failed": validation.outcomes[key].failed}
        write_json({"kind": "check-model", "size": asdict(SIZES[validation.size]),
                     "passed": validation.passed,
                     "failed": [f"{c}/{i}" for c, i in validation.failed], "checks": files,
                     "workers": workers, "command": command if command is not None else sys.argv,
                     "versions": package_versions(), "platform": platform.platform(),
                     "started": started.isoformat(), "finished": utc_now().isoformat(),
                     "status": "complete"}, tmp / "manifest.json")
    return folder
