"""Which assumptions drive each difference between variants: Sobol' or Morris indices of the
mean paired difference (variant − reference) over the samples of a design.

The estimators are SALib's (``SALib.analyze.sobol``, ``SALib.analyze.morris``), not written
here. Their confidence intervals come from SALib's own bootstrap, seeded with
:func:`~simulator.experiment.statistics.bootstrap_rng` of a label naming the variant and the
metric, so the tables are byte-identical and numpy's global state is never used.

- Sobol' (a :func:`~simulator.experiment.robust.design.sobol_design`): first-order ``S1``
  (the share of the difference's variance explained by the parameter alone) and total
  ``ST`` (alone and in interactions), each with SALib's interval ``value ± conf``;
- Morris (a :func:`~simulator.experiment.robust.design.morris_design`): ``mu_star`` (mean
  absolute elementary effect, in units of the difference per whole range of the parameter,
  with its bootstrap interval), ``mu`` (signed) and ``sigma`` (spread: non-linearity or
  interactions); no interval for ``mu`` or ``sigma``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from simulator.experiment.robust.design import Design
from simulator.experiment.robust.verdicts import verdict_keys
from simulator.experiment.statistics import CONFIDENCE, bootstrap_rng, interval_label

# resamples of SALib's bootstrap of an index: the interval is value ± z·sd of the resampled
# index, so its Monte-Carlo error is that of a standard deviation of 1000 values, about ±2%
SALIB_RESAMPLES = 1000
IMPORTANCE = {"sobol": "ST", "morris": "mu_star"}  # the index that orders the parameters
COLUMNS = ["variant", "reference", "metric", "parameter", "index", "value", "conf_low", "conf_high", "rank"]


def _outputs(design: Design, verdicts: pd.DataFrame) -> list[tuple[dict, np.ndarray]]:
    """Per (keys, variant, metric): the mean difference of each of the design's samples."""
    keys = verdict_keys(verdicts)
    group = [*keys, "variant", "reference", "metric"]
    out = []
    for values, part in verdicts.groupby(group, sort=False, dropna=False):
        y = part.set_index("sample")["mean_difference"].astype(float)
        if y.index.duplicated().any():
            raise ValueError(f"two rows for one sample of {values}")
        y = y.reindex(range(design.evaluations))  # missing samples: NaN, so no indices
        out.append((dict(zip(group, values, strict=True)), y.to_numpy()))
    return out


def _sobol(design: Design, y: np.ndarray, label: str, level: float) -> dict[str, tuple]:
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = sobol.analyze(design.problem.salib(), y, calc_second_order=False,
                          num_resamples=SALIB_RESAMPLES, conf_level=level,
                          seed=bootstrap_rng(label))
    return {name: (np.asarray(s[name], float), np.asarray(s[f"{name}_conf"], float))
            for name in ("S1", "ST")}


def _morris(design: Design, y: np.ndarray, label: str, level: float) -> dict[str, tuple]:
    from SALib.analyze import morris

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = morris.analyze(design.problem.salib(), design.unit, y, num_resamples=SALIB_RESAMPLES,
                           conf_level=level, num_levels=design.levels, seed=bootstrap_rng(label))
    none = np.full(design.problem.dimension, np.nan)
    return {"mu_star": (np.asarray(s["mu_star"], float), np.asarray(s["mu_star_conf"], float)),
            "mu": (np.asarray(s["mu"], float), none), "sigma": (np.asarray(s["sigma"], float), none)}


def sensitivity_indices(design: Design, verdicts: pd.DataFrame,
                        level: float = CONFIDENCE) -> pd.DataFrame:
    """Sobol' or Morris indices (by ``design.method``) of the mean paired difference, per
    (keys, variant, metric) of :func:`~simulator.experiment.robust.verdicts.sample_verdicts`.

    One row per (keys, variant, reference, metric, parameter, index): ``value``, ``conf_low``,
    ``conf_high`` and the parameter's ``rank`` (1 = most important, by ``ST`` or
    ``mu_star``), parameters in order of rank. Where a sample's difference is missing or the
    difference does not vary over the samples there are no indices: the values are NaN.
    A Latin hypercube has no indices (it is for who wins where): ValueError.
    """
    if design.method not in IMPORTANCE:
        raise ValueError(f"a {design.method!r} design has no sensitivity indices: use a Sobol' "
                         "or Morris design")
    analyze = _sobol if design.method == "sobol" else _morris
    names = design.problem.names
    rows = []
    for label, y in _outputs(design, verdicts):
        seed_label = interval_label(*label.values(), design.method)
        usable = bool(np.isfinite(y).all() and np.ptp(y) > 0)
        if usable:
            found = analyze(design, y, seed_label, level)
        else:
            blank = np.full(len(names), np.nan)
            found = {k: (blank, blank) for k in
                     (("S1", "ST") if design.method == "sobol" else ("mu_star", "mu", "sigma"))}
        importance = found[IMPORTANCE[design.method]][0]
        order = sorted(range(len(names)), key=lambda j: (
            -importance[j] if np.isfinite(importance[j]) else np.inf, j))
        for rank, j in enumerate(order, start=1):
            for index, (value, conf) in found.items():
                rows.append({**label, "parameter": names[j], "index": index,
                             "value": float(value[j]), "conf_low": float(value[j] - conf[j]),
                             "conf_high": float(value[j] + conf[j]), "rank": rank})
    keys = [c for c in (rows[0] if rows else {}) if c not in COLUMNS]
    return pd.DataFrame(rows, columns=[*keys, *COLUMNS])


def most_influential(indices: pd.DataFrame, metric: str, count: int = 2) -> list[str]:
    """The ``count`` parameters with the largest importance index (``ST`` or ``mu_star``) for
    ``metric``, taking each parameter's largest value over the variants (and other keys)."""
    part = indices[(indices["metric"] == metric) & indices["index"].isin(IMPORTANCE.values())]
    if part.empty:
        raise KeyError(f"no indices for metric {metric!r}")
    best = part.groupby("parameter", sort=False)["value"].max().fillna(-np.inf)
    order = sorted(best.index, key=lambda p: (-best[p], list(best.index).index(p)))
    return order[:count]
