"""A robustness study's tables in a results folder (``perksim robust``): written next to the
runs' tables by :func:`write_robust`, read back, checked, by :func:`read_robust`.

| file | holds |
|---|---|
| ``robust_design.csv`` | one row per sample: the uncertain parameters' values |
| ``robust_verdicts.csv`` | per sample, variant and metric: the paired difference to the |
|   | reference, its interval and the verdict |
| ``robust_shares.csv`` | the share of the samples with each verdict, and whether it is robust |
| ``robust_indices.csv`` | the sensitivity indices (Morris or Sobol'; absent for a Latin hypercube) |
| ``robust_flips.csv`` | the flip boxes: condition, verdict, samples, agreeing, tree accuracy |
| ``robust_flip_bounds.csv`` | each box's exact bounds per parameter |
| ``robust_map.csv`` | the verdict maps: the winner at each sample over two parameters, per metric |
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulator.experiment.results import read_table, write_table
from simulator.experiment.robust.flips import Flips
from simulator.experiment.robust.study import RobustTables

FILES = ("robust_design", "robust_verdicts", "robust_shares", "robust_indices", "robust_flips",
         "robust_flip_bounds", "robust_map")
OPTIONAL = ("robust_indices",)  # a Latin hypercube has no indices


def write_robust(folder: Path, tables: RobustTables) -> list[Path]:
    """Write the study's tables into ``folder``; returns the paths written."""
    frames = {
        "robust_design": tables.design,
        "robust_verdicts": tables.verdicts,
        "robust_shares": tables.shares,
        "robust_indices": tables.indices,
        "robust_flips": tables.flips.boxes,
        "robust_flip_bounds": tables.flips.bounds,
        "robust_map": (pd.concat(tables.maps.values(), ignore_index=True) if tables.maps
                       else pd.DataFrame(columns=["brand", "metric", "sample", "x_parameter", "x",
                                                  "y_parameter", "y", "winner", "margin"])),
    }
    written = []
    for name, frame in frames.items():
        if frame is not None:
            path = folder / f"{name}.csv"
            write_table(frame, path)
            written.append(path)
    return written


def has_robust(folder: str | Path) -> bool:
    """Whether ``folder`` holds a robustness study's tables."""
    return (Path(folder) / "robust_shares.csv").is_file()


def read_robust(folder: str | Path) -> RobustTables:
    """The study's tables read back from ``folder``, each checked (``ResultsFolderError``
    naming the file and line if one is missing or damaged)."""
    folder = Path(folder)
    read = {name: read_table(folder / f"{name}.csv", optional=name in OPTIONAL) for name in FILES}
    maps = read["robust_map"]
    assert maps is not None
    return RobustTables(
        design=read["robust_design"], verdicts=read["robust_verdicts"],
        shares=read["robust_shares"], indices=read["robust_indices"],
        flips=Flips(read["robust_flips"], read["robust_flip_bounds"]),
        maps={str(m): part.reset_index(drop=True)
              for m, part in maps.groupby("metric", sort=False)})
