"""What the columns of a results table are, for every view (figures, report): the swept
parameters of a sweep table, a parameter's short name, and names kept as text."""

from __future__ import annotations

import re

import pandas as pd

from simulator.model.metrics import METRICS

NAME_COLUMNS = ("variant", "brand", "metric")  # labels, never numbers (a variant called "1")


def short_param(path: str) -> str:
    """``campaigns[0].strategy.threshold`` → ``threshold``."""
    return re.split(r"[.\]]", path)[-1] or path


def sweep_params(table: pd.DataFrame) -> list[str]:
    """The swept parameters of a sweep table (one with ``point``): the columns before
    ``variant``, except ``point`` and the table's own columns."""
    cols = list(table.columns)
    if "point" not in cols or "variant" not in cols:
        return []
    known = {"point", "replicate", "step", "brand", *METRICS}
    return [c for c in cols[:cols.index("variant")] if c not in known]


def names_as_text(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` with its variant, brand and metric names as text."""
    out = table.copy()
    for col in NAME_COLUMNS:
        if col in out.columns:
            out[col] = out[col].astype(str)
    return out
