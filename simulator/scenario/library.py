"""The bundled scenario library (``scenarios/*.yaml``): where it is and what it holds."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml


def scenarios_dir() -> Path | None:
    """The bundled scenarios: beside the package in a checkout, else the installed copy."""
    for candidate in (Path(__file__).resolve().parents[2] / "scenarios",
                      Path(sys.prefix) / "share" / "perksim" / "scenarios"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    return None


@dataclass(frozen=True)
class Entry:
    """A bundled scenario: its name (the file's stem), its file and its one-line question."""
    name: str
    path: Path
    question: str


def bundled() -> list[Entry]:
    """Every bundled scenario with its one-line question, in name order."""
    folder = scenarios_dir()
    if folder is None:
        return []
    entries = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            doc = {}
        question = str(doc.get("question", "")) if isinstance(doc, dict) else ""
        entries.append(Entry(path.stem, path, question))
    return entries


def resolve(name_or_path: str | Path) -> Path:
    """A scenario file: the path itself if it exists, else the bundled scenario of that name."""
    path = Path(name_or_path)
    if path.exists() or path.suffix:
        return path
    for entry in bundled():
        if entry.name == str(name_or_path):
            return entry.path
    return path
