"""How a results folder stores its tables (docs/reference/results.md#table-formats): CSV by
default (fixed float format, byte-identical reruns), or Parquet — ``users.parquet`` (one file,
``--users-table parquet``) and ``steps.parquet/`` (a dataset partitioned by sweep point and
variant, ``--table-format parquet``). Parquet needs the optional pyarrow
(``pip install -e '.[parquet]'``), imported only when a Parquet table is written or read.

A dataset is plain Hive-partitioned Parquet (``steps.parquet/point=0/variant=lottery/part-0.parquet``,
readable by ``pyarrow.dataset.dataset(path, partitioning="hive")``); each file records the
table's column order and its rank in the row order, so :func:`read_parquet` gives back the
table as it was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

USERS_TABLES = ("csv", "parquet", "none")  # --users-table
TABLE_FORMATS = ("csv", "parquet")  # --table-format: how steps is written
PARTITIONS = ("point", "variant")  # a dataset's partition columns (those the table has)
INSTALL = "pip install -e '.[parquet]'"
COLUMNS_KEY = b"perksim.columns"  # a dataset file's metadata: the table's columns, in order
RANK_KEY = b"perksim.rank"  # …and the file's place in the table's row order


class FormatError(ValueError):
    """A table format that cannot be written: not one of the choices, or Parquet without
    pyarrow installed (bad input: the command line exits 2 with the message)."""


def table_formats(users_table: str = "csv", table_format: str = "csv") -> dict[str, str]:
    """``{"users_table": …, "table_format": …}`` (what the manifest records), checked before
    anything is written: :class:`FormatError` naming the option and what is allowed for an
    unknown choice, or for ``parquet`` when pyarrow cannot be imported."""
    for option, value, allowed in (("--users-table", users_table, USERS_TABLES),
                                   ("--table-format", table_format, TABLE_FORMATS)):
        if value not in allowed:
            raise FormatError(f"{option} {value!r}: choose one of {', '.join(allowed)}")
        if value == "parquet":
            try:
                import pyarrow.parquet  # noqa: F401
            except ImportError:
                others = " or ".join(v for v in allowed if v != "parquet")
                raise FormatError(f"{option} parquet needs pyarrow, which is not installed: "
                                  f"install it with {INSTALL} (or use {option} {others})") from None
    return {"users_table": users_table, "table_format": table_format}


def table_path(folder: Path, name: str) -> Path:
    """Where table ``name`` of a results folder is: ``<name>.csv``, else ``<name>.parquet`` (a
    file, or a dataset folder) if that exists; ``<name>.csv`` when neither does."""
    csv = Path(folder) / f"{name}.csv"
    parquet = csv.with_suffix(".parquet")
    return parquet if not csv.exists() and parquet.exists() else csv


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as one Parquet file, without the index (full precision)."""
    frame.to_parquet(path, engine="pyarrow", index=False)


def write_dataset(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as a Hive-partitioned Parquet dataset in the new folder ``path``: one
    file per sweep point and variant (the :data:`PARTITIONS` it has), in the table's row
    order; a table without them, or without rows, is one file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = [c for c in PARTITIONS if c in frame.columns] if len(frame) else []
    columns = json.dumps([str(c) for c in frame.columns]).encode()
    path.mkdir()
    groups: Any = frame.groupby(parts, sort=False) if parts else [((), frame)]
    for rank, (key, group) in enumerate(groups):
        values = key if isinstance(key, tuple) else (key,)
        folder = path.joinpath(*(f"{c}={v}" for c, v in zip(parts, values, strict=True)))
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(group.drop(columns=parts), preserve_index=False)
        meta = {**(table.schema.metadata or {}), COLUMNS_KEY: columns, RANK_KEY: str(rank).encode()}
        pq.write_table(table.replace_schema_metadata(meta), folder / "part-0.parquet")


def read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet table: one file, or a dataset folder written by :func:`write_dataset` (its
    partition values back as columns, in their places, and its rows in their order).
    pyarrow's errors (``ImportError`` without it, ``OSError``, ``ValueError``) propagate."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_dir():
        return pq.read_table(path).to_pandas()
    pieces: list[tuple[int, str, pd.DataFrame]] = []
    columns: list[str] | None = None
    for file in sorted(path.rglob("*.parquet")):
        relative = file.relative_to(path).parts
        if any(p.startswith((".", "_")) for p in relative):
            continue
        table = pq.read_table(file)
        frame = table.to_pandas()
        for i, segment in enumerate(relative[:-1]):
            name, sep, value = segment.partition("=")
            if not sep or not name:
                raise ValueError(f"{file}: {segment!r} is not a partition folder (name=value)")
            frame.insert(i, name, int(value) if name == "point" else value)
        meta = table.schema.metadata or {}
        columns = columns or (json.loads(meta[COLUMNS_KEY]) if COLUMNS_KEY in meta else None)
        pieces.append((int(meta.get(RANK_KEY, len(pieces))), str(file), frame))
    if not pieces:
        raise ValueError(f"{path}: a Parquet dataset folder without Parquet files")
    pieces.sort(key=lambda p: (p[0], p[1]))
    frame = pd.concat([p[2] for p in pieces], ignore_index=True)
    if columns and set(columns) == set(frame.columns):
        frame = frame[columns]
    return frame
