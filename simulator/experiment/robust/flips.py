"""Where a verdict flips: readable boxes of the uncertainty space, from a shallow decision tree.

Per (variant, metric), a ``DecisionTreeClassifier`` (scikit-learn; depth :data:`MAX_DEPTH`,
at least :data:`MIN_LEAF_SHARE` of the samples per leaf, ``random_state=0``, so it is
deterministic) is fitted to the samples' parameter values, in their own units, and their
verdicts. Each leaf is a box — the conditions on its path, e.g. ``attention_beta ≤ 0.08 and
homophily ≤ 0.3`` — with the verdict of most of its samples; sibling leaves with the same
verdict are merged. Thresholds are shown with two significant digits for reading; the table
of bounds keeps the exact values (a sample is in a box when ``lower < value ≤ upper``, the
tree's rule). A parameter with non-numeric ``values`` is split on the position of its value in
the list, and its condition lists the values.

Why a tree and not PRIM (patient rule induction, the usual "scenario discovery" method): PRIM
is in the EMA Workbench, which pulls statsmodels, seaborn, Platypus, tqdm and more; a tree of
depth 2–3 gives boxes that read as directly, covers the whole space with them, and
scikit-learn is one dependency. ``accuracy`` is the share of samples whose verdict is their
box's, on the samples the tree was fitted to (a tree this shallow cannot overfit much).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulator.experiment.robust.design import Problem
from simulator.experiment.robust.verdicts import UNDEFINED, verdict_keys

MAX_DEPTH = 2  # two conditions per box: what a reader can hold at once
MIN_LEAF_SHARE = 0.05  # a box holds at least 5% of the samples …
MIN_LEAF_SAMPLES = 5  # … and at least 5 samples, so it is not one noisy sample
RANDOM_STATE = 0
DIGITS = 2  # significant digits of the thresholds shown
EVERYWHERE = "everywhere"


@dataclass(frozen=True, eq=False)
class Flips:
    """The boxes (one row per box: ``condition``, ``verdict``, ``samples``, ``agreeing``,
    ``accuracy`` of its tree) and their exact ``bounds`` (one row per box and parameter it
    restricts: ``lower``, ``upper``, and ``values`` for a parameter of non-numeric values)."""

    boxes: pd.DataFrame
    bounds: pd.DataFrame


def rounded(x: float, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant digits, for reading: 0.0812 → ``0.081``, 1234 → ``1200``."""
    return f"{float(f'{x:.{digits}g}'):g}"


def _leaves(tree, node: int = 0, path: tuple = ()) -> list[tuple[tuple, int]]:
    """(path, node) of each leaf; a path is ((feature, '≤' or '>', threshold), …)."""
    t = tree.tree_
    left, right = t.children_left[node], t.children_right[node]
    if left == right:  # a leaf
        return [(path, node)]
    f, thr = int(t.feature[node]), float(t.threshold[node])
    below = _leaves(tree, left, (*path, (f, "≤", thr)))
    above = _leaves(tree, right, (*path, (f, ">", thr)))
    if len(below) == len(above) == 1 and _label(tree, below[0][1]) == _label(tree, above[0][1]):
        return [(path, node)]  # both sides say the same: one box
    return below + above


def _label(tree, node: int) -> int:
    return int(np.argmax(tree.tree_.value[node][0]))


def _show(value: Any) -> str:
    """A listed value as text: strings as they are, others (numbers, mappings) as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _position(values: tuple, value: Any) -> float:
    """The position of ``value`` in ``values`` (mappings and lists too, which do not hash)."""
    text = _show(value)
    return float(next(i for i, v in enumerate(values) if _show(v) == text))


def _box(path: tuple) -> dict[int, list[float]]:
    """{feature: [lower, upper]} of a path (open ends ±inf), features in order of first split."""
    box: dict[int, list[float]] = {}
    for f, op, thr in path:
        lo, hi = box.setdefault(f, [-math.inf, math.inf])
        box[f] = [lo, min(hi, thr)] if op == "≤" else [max(lo, thr), hi]
    return box


def _text(name: str, lo: float, hi: float, values: tuple | None) -> str:
    if values is not None:  # positions in the list of values
        inside = [_show(v) for i, v in enumerate(values) if lo < i <= hi]
        return f"{name} in {{{', '.join(inside)}}}"
    for digits in range(DIGITS, 12):
        a, b = rounded(lo, digits), rounded(hi, digits)
        if not (math.isfinite(lo) and math.isfinite(hi)) or a != b:
            break
    if math.isfinite(lo) and math.isfinite(hi):
        return f"{a} < {name} ≤ {b}"
    return f"{name} ≤ {b}" if math.isfinite(hi) else f"{name} > {a}"


def flip_conditions(problem: Problem, values: pd.DataFrame, verdicts: pd.DataFrame,
                    max_depth: int = MAX_DEPTH) -> Flips:
    """The boxes where each (keys, variant, metric)'s verdict holds, from a tree fitted to the
    samples with a defined verdict.

    ``values``: one row per sample, ``sample`` and each of ``problem``'s parameters in its own
    units (:meth:`Design.table <simulator.experiment.robust.design.Design.table>`).
    ``verdicts``: :func:`~simulator.experiment.robust.verdicts.sample_verdicts`. Where all
    samples agree there is one box, ``everywhere``.
    """
    from sklearn.tree import DecisionTreeClassifier

    names = problem.names
    categories = {p.name: p.values for p in problem.parameters if not p.numeric}
    table = values.set_index("sample")[names]
    features = pd.DataFrame({n: [_position(categories[n], v) for v in table[n]]
                             if n in categories else table[n].astype(float) for n in names},
                            index=table.index)
    keys = verdict_keys(verdicts)
    group = [*keys, "variant", "reference", "metric"]
    boxes, bounds = [], []
    for key, part in verdicts.groupby(group, sort=False, dropna=False):
        label = dict(zip(group, key, strict=True))
        part = part[part["verdict"] != UNDEFINED]
        if part.empty:
            continue
        x = features.loc[part["sample"].to_numpy()].to_numpy()
        y = part["verdict"].to_numpy(dtype=str)
        classes = sorted(set(y))
        if len(classes) == 1:
            boxes.append({**label, "box": 1, "condition": EVERYWHERE, "verdict": classes[0],
                          "samples": len(y), "agreeing": len(y), "accuracy": 1.0})
            continue
        leaf = max(MIN_LEAF_SAMPLES, math.ceil(MIN_LEAF_SHARE * len(y)))
        tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf,
                                      random_state=RANDOM_STATE).fit(x, y)
        accuracy = float((tree.predict(x) == y).mean())
        where = tree.apply(x)
        merged = _leaves(tree)
        owner = {}  # tree leaf → merged box
        for b, (_, node) in enumerate(merged):
            for n in _descendant_leaves(tree, node):
                owner[n] = b
        box_of = np.array([owner[n] for n in where])
        for b, (path, node) in enumerate(merged):
            verdict = tree.classes_[_label(tree, node)]
            inside = y[box_of == b]
            box = _box(path)
            condition = " and ".join(
                _text(names[f], lo, hi, categories.get(names[f])) for f, (lo, hi) in box.items())
            boxes.append({**label, "box": b + 1, "condition": condition or EVERYWHERE,
                          "verdict": str(verdict), "samples": int(inside.size),
                          "agreeing": int((inside == verdict).sum()), "accuracy": accuracy})
            for f, (lo, hi) in box.items():
                cats = categories.get(names[f])
                bounds.append({**label, "box": b + 1, "parameter": names[f],
                               "lower": lo if cats is None else np.nan,
                               "upper": hi if cats is None else np.nan,
                               "values": "" if cats is None else "|".join(
                                   _show(v) for i, v in enumerate(cats) if lo < i <= hi)})
    box_cols = [*group, "box", "condition", "verdict", "samples", "agreeing", "accuracy"]
    bound_cols = [*group, "box", "parameter", "lower", "upper", "values"]
    return Flips(pd.DataFrame(boxes, columns=box_cols), pd.DataFrame(bounds, columns=bound_cols))


def _descendant_leaves(tree, node: int) -> list[int]:
    t = tree.tree_
    if t.children_left[node] == t.children_right[node]:
        return [node]
    return (_descendant_leaves(tree, t.children_left[node])
            + _descendant_leaves(tree, t.children_right[node]))

