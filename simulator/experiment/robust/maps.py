"""The verdict map: which variant wins at each sample, over the two most influential
assumptions — the table a figure draws as a scatter coloured by winner."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulator.experiment.robust.verdicts import verdict_keys

NO_WINNER = "no clear winner"


def verdict_map(values: pd.DataFrame, verdicts: pd.DataFrame, metric: str,
                parameters: Sequence[str]) -> pd.DataFrame:
    """Per (keys, sample): the winner for ``metric`` and the sample's values of the two
    ``parameters`` (e.g. :func:`~simulator.experiment.robust.sensitivity.most_influential`).

    The winner at a sample: among the variants better than the reference beyond noise, the one
    with the best mean difference (two such variants are not compared with each other); the
    reference when every variant is worse; else :data:`NO_WINNER`.

    ``values``: ``sample`` and the parameters in their own units (``Design.table()``);
    ``verdicts``: :func:`~simulator.experiment.robust.verdicts.sample_verdicts`. Columns: the
    keys, ``metric``, ``sample``, ``x_parameter``, ``x``, ``y_parameter``, ``y``, ``winner``,
    ``margin`` (the winner's mean difference to the reference, in the better direction).
    A metric with no better direction has no winner: ValueError.
    """
    if len(parameters) != 2:
        raise ValueError(f"a verdict map has two axes, got {list(parameters)}")
    part = verdicts[verdicts["metric"] == metric]
    if part.empty:
        raise KeyError(f"no verdicts for metric {metric!r}")
    if (part["direction"] == 0).any():
        raise ValueError(f"{metric!r} has no better direction: no variant wins on it")
    x_name, y_name = parameters
    table = values.set_index("sample")
    keys = verdict_keys(verdicts)
    group = [*keys, "sample"]
    part = part.assign(
        _score=np.where(part["verdict"] == "better",
                        part["mean_difference"].astype(float) * part["direction"], -np.inf),
        _worse=part["verdict"] == "worse")
    grouped = part.groupby(group, sort=True, dropna=False)
    best = part.loc[grouped["_score"].idxmax()].set_index(group)
    all_worse = grouped["_worse"].all()
    out = best.index.to_frame(index=False)
    has = np.isfinite(best["_score"].to_numpy())
    reference = all_worse.reindex(best.index).to_numpy()
    out["winner"] = np.where(has, best["variant"].astype(str),
                             np.where(reference, best["reference"].astype(str), NO_WINNER))
    out["margin"] = np.where(has, best["_score"], np.where(reference, 0.0, np.nan))
    samples = out["sample"].to_numpy()
    out = out.assign(metric=metric, x_parameter=x_name, x=table.loc[samples, x_name].to_numpy(),
                     y_parameter=y_name, y=table.loc[samples, y_name].to_numpy())
    return out[[*keys, "metric", "sample", "x_parameter", "x", "y_parameter", "y", "winner",
                "margin"]]
