"""The bundled scenario library (``scenarios/*.yaml``): where it is and what it holds.

Light on purpose: ``perksim list`` and the lookup of bundled names need only PyYAML (each file's
``question`` is read with ``yaml.safe_load``, not the validating loader)."""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

LIST_HINT = "perksim list shows them all"


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


def _files() -> dict[str, Path]:
    """The bundled scenario files by name, in name order."""
    folder = scenarios_dir()
    return {} if folder is None else {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def bundled() -> list[Entry]:
    """Every bundled scenario with its one-line question, in name order."""
    entries = []
    for name, path in _files().items():
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            doc = {}
        question = str(doc.get("question", "")) if isinstance(doc, dict) else ""
        entries.append(Entry(name, path, question))
    return entries


def resolve(name_or_path: str | Path) -> Path:
    """A scenario file: the path itself if it exists, else the bundled scenario of that name."""
    path = Path(name_or_path)
    if path.exists() or path.suffix:
        return path
    return _files().get(str(name_or_path), path)


def unknown(name_or_path: str | Path) -> str | None:
    """Why a bare name (no suffix) is neither a file nor a bundled scenario, with the bundled
    names closest to it (:func:`difflib.get_close_matches`); None if it is either, or if it
    has a suffix (a file name: the loader says the file is missing).

    >>> print(unknown("klout_pot"))
    no scenario file or bundled scenario 'klout_pot'; did you mean 'klout_pout'? (perksim list shows them all)
    >>> unknown("klout_pout") is None and unknown("klout_pot.yaml") is None
    True
    """
    path = Path(name_or_path)
    if path.exists() or path.suffix:
        return None
    name = str(name_or_path)
    names = list(_files())
    if name in names:
        return None
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"no scenario file or bundled scenario '{name}'{hint} ({LIST_HINT})"
