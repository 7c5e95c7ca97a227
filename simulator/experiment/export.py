"""A results folder in the formats other tools read (``perksim export``, docs/reference/cli.md).

- ``gexf`` and ``graphml`` — the follow graph (``edges.csv``), written by networkx for Gephi,
  Cytoscape or networkx itself: one node per user of the users table, with that user's traits
  and outcomes (``perk_<brand>``, ``pout_<brand>``, ``adopted_<brand>``, ``score``, ``fan_<brand>``,
  ``region``, …) as node attributes, and one directed edge per follow relation, from the
  follower to the user they follow (posts travel the other way).
- ``parquet`` — every table of the folder as one Parquet file each (pyarrow, the optional
  ``parquet`` extra).

Everything is checked before anything is written (:class:`ExportError`, bad input), and each
file is written under a temporary name and renamed, so an error leaves no partial output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from simulator.experiment.formats import INSTALL, table_path, write_parquet
from simulator.experiment.results import read_manifest, read_table
from simulator.model.graphs import NETWORK_MAX_USERS

FORMATS = ("gexf", "graphml", "parquet")
DEFAULT_NAMES = {"gexf": "graph.gexf", "graphml": "graph.graphml", "parquet": "parquet"}
# what every complete results folder holds (users and edges are optional: --users-table none,
# and graphs of more than NETWORK_MAX_USERS users)
REQUIRED = ("manifest.json", "scenario.yaml", "steps", "summary", "comparison")
WRITERS: dict[str, Callable[[nx.DiGraph, Path], None]] = {
    "gexf": lambda graph, path: nx.write_gexf(graph, path),
    "graphml": lambda graph, path: nx.write_graphml(graph, path),
}


class ExportError(ValueError):
    """A folder, option or installation that cannot give the export asked for (the command
    line exits 2 with the message); nothing has been written."""


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the file (or folder) and one line saying what it holds."""
    path: Path
    description: str


def check_folder(folder: Path) -> dict[str, Any]:
    """The manifest of a complete results folder; :class:`ExportError` naming what is missing
    (or a manifest that says the folder is not finished)."""
    missing = [name for name in REQUIRED
               if not (folder / name if "." in name else table_path(folder, name)).exists()]
    if missing:
        names = [name if "." in name else f"{name}.csv" for name in missing]
        raise ExportError(f"{folder} is not a complete results folder of perksim: it has no "
                          f"{', '.join(names)}")
    manifest = read_manifest(folder)
    status = manifest.get("status", "complete")
    if status != "complete":
        raise ExportError(f"{folder} is not a complete results folder of perksim: its manifest "
                          f"says status {status!r} (an experiment still running or interrupted: "
                          "finish it with --resume first)")
    return manifest


def export_folder(folder: str | Path, to: str, out: str | Path | None = None,
                  variant: str | None = None) -> Exported:
    """Export results folder ``folder`` as ``to`` (one of :data:`FORMATS`) to ``out`` (default:
    ``graph.gexf``, ``graph.graphml`` or ``parquet/`` inside the folder). ``variant`` chooses
    whose users' outcomes the graph carries (default: the users table's first variant).
    Raises :class:`ExportError` (bad input; nothing written) or ``ResultsFolderError`` (a
    damaged table, named); ``OSError`` if writing fails (then nothing is left behind)."""
    folder = Path(folder)
    if to not in FORMATS:
        raise ExportError(f"--to {to!r}: choose one of {', '.join(FORMATS)}")
    manifest = check_folder(folder)
    target = _target(folder, to, out)
    if to == "parquet":
        if variant is not None:
            raise ExportError("--variant chooses the users of a graph export (--to gexf or "
                              "graphml); --to parquet exports every table whole")
        return _export_tables(folder, target)
    graph, description = follow_graph(folder, manifest, variant)
    with _atomic_file(target) as tmp:
        WRITERS[to](graph, tmp)
    return Exported(target, description)


def _target(folder: Path, to: str, out: str | Path | None) -> Path:
    """Where the export goes, checked: its folder exists; a Parquet folder does not exist yet
    (or is empty); an existing folder given for a graph gets ``graph.<format>`` in it."""
    if out is None:
        target = folder / DEFAULT_NAMES[to]
    else:
        target = Path(out)
        if to != "parquet" and target.is_dir():
            target = target / DEFAULT_NAMES[to]
    if not target.parent.is_dir():
        raise ExportError(f"--out {out}: the folder {target.parent} does not exist")
    if to == "parquet":
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise ExportError(f"{target} already exists: remove it, or choose another --out")
    elif target.is_dir():
        raise ExportError(f"--out {out}: {target} is a folder")
    return target


# --- the follow graph ---------------------------------------------------------------------------


def follow_graph(folder: Path, manifest: dict[str, Any] | None = None,
                 variant: str | None = None) -> tuple[nx.DiGraph, str]:
    """The folder's follow graph as a :class:`networkx.DiGraph` (an edge from each follower to
    the user followed), its nodes the users of ``variant`` (default: the first) with their
    columns of the users table as attributes (empty cells left out), and one line describing
    it. :class:`ExportError` if the folder has no users table or no ``edges.csv``."""
    manifest = manifest if manifest is not None else read_manifest(folder)
    if manifest.get("users_table") == "none":
        raise ExportError(f"{folder} was written with --users-table none: it has no users table "
                          "and no edges.csv, so there is no graph to export (run it again with "
                          "--users-table csv or parquet; --to parquet exports its other tables)")
    users = read_table(table_path(folder, "users"), kind="users")
    if users is None:
        raise ExportError(f"{folder} has no users table (users.csv or users.parquet), so there is "
                          "no graph to export")
    edges = read_table(folder / "edges.csv", kind="edges")
    if edges is None:
        n = manifest.get("users")
        size = f" (this one has {n:,} users)" if isinstance(n, int) else ""
        raise ExportError(f"{folder} has no edges.csv: the follow graph is kept only for graphs "
                          f"of at most {NETWORK_MAX_USERS:,} users{size}, so there is no graph "
                          "to export")
    users, chosen = _variant_users(folder, users, variant)
    ids = users["id"].astype("int64")
    unknown = ~(edges["author"].isin(ids) & edges["follower"].isin(ids))
    if unknown.any():
        row = edges[unknown].iloc[0]
        raise ExportError(f"{folder}/edges.csv: the follow {int(row['follower'])} → "
                          f"{int(row['author'])} names a user that variant {chosen!r} does not "
                          "have (the graph is the first run's; its population differs)")
    graph = nx.DiGraph(name=str(manifest.get("scenario", folder.name)), variant=chosen)
    attributes = users.drop(columns=[c for c in ("variant", "id") if c in users.columns])
    for node, row in zip(ids.tolist(), attributes.to_dict("records"), strict=True):
        graph.add_node(node, **{str(k): v for k, v in row.items() if not _empty(v)})
    graph.add_edges_from(zip(edges["follower"].astype("int64").tolist(),
                             edges["author"].astype("int64").tolist(), strict=True))
    return graph, (f"{graph.number_of_nodes():,} users, {graph.number_of_edges():,} follows, "
                   f"variant {chosen}")


def _variant_users(folder: Path, users: pd.DataFrame,
                   variant: str | None) -> tuple[pd.DataFrame, str]:
    """The rows of one variant (default: the first) and its name."""
    if "variant" not in users.columns:
        if variant is not None:
            raise ExportError(f"--variant {variant}: the users table of {folder} has one variant")
        return users, "base"
    names = list(dict.fromkeys(users["variant"].astype(str)))
    chosen = names[0] if variant is None else variant
    if chosen not in names:
        raise ExportError(f"--variant {variant}: the users table of {folder} has the variants "
                          f"{', '.join(names)}")
    return users[users["variant"].astype(str) == chosen], chosen


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # NaN


# --- every table as Parquet ---------------------------------------------------------------------


def _export_tables(folder: Path, target: Path) -> Exported:
    """Each table of ``folder`` (CSV or Parquet) as ``<target>/<table>.parquet``, written into
    a temporary folder that is renamed to ``target`` when all are written."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ExportError(f"--to parquet needs pyarrow, which is not installed: install it with "
                          f"{INSTALL}") from None
    names = sorted({p.name.removesuffix(".csv").removesuffix(".parquet")
                    for p in folder.iterdir() if p.suffix in (".csv", ".parquet")})
    tables = {name: read_table(table_path(folder, name), kind=name, optional=False)
              for name in names}  # every table read and checked before anything is written
    tmp = _temporary(target)
    tmp.mkdir()
    try:
        for name, frame in tables.items():
            write_parquet(frame, tmp / f"{name}.parquet")
        if target.exists():  # an empty folder (checked)
            target.rmdir()
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Exported(target, f"{len(tables)} tables: {', '.join(tables)}")


def _temporary(target: Path) -> Path:
    """A hidden name beside ``target`` that no other process uses."""
    return target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


@contextlib.contextmanager
def _atomic_file(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, renamed to it when the block completes; removed if
    the block fails."""
    tmp = _temporary(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
