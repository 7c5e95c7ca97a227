"""The reading of a sweep: how each metric changes across the swept values, per variant —
rising or falling only when the highest and lowest values differ beyond noise (paired by
replicate: every value uses the same replicate seeds) — and how the other variants compare
with the first at each value."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pandas as pd

from simulator.experiment.statistics import MIN_NONZERO
from simulator.views.report.phrasing import diff_is_rare, is_rare, replicates_needed, too_rare, verdict
from simulator.views.report.tables import (
    Table,
    brand_prefix,
    paired_difference,
    point_label,
    sorted_points,
)
from simulator.views.report.vocabulary import (
    cap,
    direction,
    finite,
    fmt,
    fmt_ci,
    join,
    metric_label,
)


def _between_points(table: Table, summary: pd.DataFrame | None, variant: str, brand: str,
                    metric: str, p: Any, q: Any) -> str:
    """``higher``/``lower``/``noise``/``unknown``: is the metric at point p above that at q?
    Paired by replicate (the points share replicate seeds) when ``summary`` is given, else
    judged by non-overlap of the two means' intervals. ``rare`` when either point is too rare
    to compare."""
    if summary is not None and metric in summary.columns:
        _, lo, hi, _, rare = paired_difference(summary, metric, variant, variant, brand, p, q)
        return verdict(lo, hi, 0, rare)
    if is_rare(table.get(variant, brand, metric, p)) or is_rare(table.get(variant, brand, metric, q)):
        return "rare"
    a, b = table.get(variant, brand, metric, p), table.get(variant, brand, metric, q)
    if not a or not b or not all(finite(x) for x in (a["ci_low"], a["ci_high"], b["ci_low"], b["ci_high"])):
        return "unknown"
    if float(a["ci_low"]) > float(b["ci_high"]):
        return "higher"
    if float(a["ci_high"]) < float(b["ci_low"]):
        return "lower"
    return "noise"


def trend(table: Table, summary: pd.DataFrame | None, variant: str, brand: str, metric: str) -> str:
    """``rises``, ``falls``, ``flat``, ``varies`` or ``unknown`` across the swept values."""
    return _trend(table, summary, variant, brand, metric)[0]


def _trend(table: Table, summary: pd.DataFrame | None, variant: str, brand: str,
           metric: str) -> tuple[str, list[Any], list[tuple[Any, Any, str]], bool]:
    """(the shape, the points with a value in sweep order, the consecutive steps that change
    beyond noise, whether the highest and lowest values differ beyond noise).

    Flat: no two values differ beyond noise. Rising/falling: the last value is above/below the
    first beyond noise and no step between neighbouring values goes the other way beyond
    noise. Otherwise the metric varies."""
    points = [p for p in sorted_points(table)
              if (r := table.get(variant, brand, metric, p)) and finite(r["mean"]) and not is_rare(r)]
    if len(points) < 2:
        return "unknown", points, [], False
    pairs = {(x, y): _between_points(table, summary, variant, brand, metric, y, x)
             for i, x in enumerate(points) for y in points[i + 1:]}
    if all(v == "unknown" for v in pairs.values()):
        return "unknown", points, [], False
    if not any(v in ("higher", "lower") for v in pairs.values()):
        return "flat", points, [], False
    means = {p: float(table.get(variant, brand, metric, p)["mean"]) for p in points}
    hi, lo = max(means, key=means.get), min(means, key=means.get)
    extreme = pairs.get((lo, hi)) or pairs.get((hi, lo))
    moves = [(x, y, pairs[(x, y)]) for x, y in itertools.pairwise(points)
             if pairs[(x, y)] in ("higher", "lower")]
    ends = pairs[(points[0], points[-1])]
    if ends == "higher" and all(v != "lower" for _, _, v in moves):
        return "rises", points, moves, True
    if ends == "lower" and all(v != "higher" for _, _, v in moves):
        return "falls", points, moves, True
    return "varies", points, moves, extreme in ("higher", "lower")


def _shape_words(table: Table, summary: pd.DataFrame | None, variant: str, brand: str,
                 metric: str) -> str:
    shape, points, moves, extremes_differ = _trend(table, summary, variant, brand, metric)
    rows = [r for p in sorted_points(table) if (r := table.get(variant, brand, metric, p))
            and finite(r["mean"]) and is_rare(r)]
    rare = ""
    if rows:
        where = join([point_label(table, r.get("point")) for r in rows])
        rare = (f"{too_rare(rows, where)} (fewer than {MIN_NONZERO} runs with a non-zero "
                f"value; {replicates_needed(rows)} would be needed)")
    if shape == "unknown":
        if not rare:
            return "cannot be judged (no intervals)"
        return f"{'has' if rare.startswith('too few') else 'is'} {rare}"
    return _shape_phrase(table, variant, brand, metric, shape, points, moves, extremes_differ) + \
        (f"; {rare}" if rare else "")


def _shape_phrase(table: Table, variant: str, brand: str, metric: str, shape: str,
                  points: list[Any], moves: list[tuple[Any, Any, str]], extremes_differ: bool) -> str:
    if shape == "flat":
        return "is flat: no change across the values is distinguishable from noise"

    def at(p: Any) -> str:
        return f"{fmt(table.get(variant, brand, metric, p)['mean'])} at {point_label(table, p)}"

    steps = (" (steps beyond noise: " + ", ".join(f"{point_label(table, a)} → {point_label(table, b)}"
                                                  for a, b, _ in moves) + ")") if moves else ""
    if shape in ("rises", "falls") and len(table.params) == 1:
        return f"{shape} from {at(points[0])} to {at(points[-1])}{steps}"
    means = {p: float(table.get(variant, brand, metric, p)["mean"]) for p in points}
    extremes = f"highest {at(max(means, key=means.get))}, lowest {at(min(means, key=means.get))}"
    if len(table.params) != 1:
        return (f"differs between points beyond noise ({extremes}"
                + (", a difference beyond noise)" if extremes_differ else ")"))
    return ("changes, but not steadily in one direction: " + extremes
            + (" (a difference beyond noise)" if extremes_differ else "") + steps)


def sweep_reading(table: Table, summary: pd.DataFrame | None, metrics: Sequence[str]) -> list[str]:
    """The reading of a sweep: per brand and metric, how each variant changes across the swept
    values, and whether it rises or falls beyond noise (paired when ``summary`` is given)."""
    ref = table.variants[0]
    points = sorted_points(table)
    names = ", ".join(f"`{p}`" for p in table.params) or "the sweep"
    paired = summary is not None
    out = [f"How each metric changes across {names} ({len(points)} values), per variant. A change "
           "is called rising or falling only when the highest and lowest values differ beyond "
           + ("noise (paired 95% intervals: every value uses the same replicate seeds)."
              if paired else "noise (their 95% intervals do not overlap).")
           + (f" At each value, the other variants are compared with **{ref}** (paired differences)."
              if len(table.variants) > 1 else "")]
    if table.max_n() <= 1:
        out.append("Each point ran once (n = 1): there are no intervals, so no change is "
                   "called rising or falling; rerun the sweep with `--replicates 10` or more.")
    for brand in table.brands:
        for metric in metrics:
            parts = []
            for variant in table.variants:
                cells = []
                for p in points:
                    r = table.get(variant, brand, metric, p)
                    if r is not None:
                        ci = "(rare)" if is_rare(r) else fmt_ci(r["ci_low"], r["ci_high"])
                        cells.append(f"{point_label(table, p)}: {fmt(r['mean'])}{' ' + ci if ci else ''}")
                t = trend(table, summary, variant, brand, metric)
                shape = _shape_words(table, summary, variant, brand, metric)
                best = ""
                if t in ("rises", "falls", "varies") and direction(metric) != 0:
                    best = _best_point(table, summary, variant, brand, metric, points)
                parts.append(f"{variant} {shape}{best} ({'; '.join(cells)})")
            text = f"{brand_prefix(table, brand)}{metric_label(metric)}: {'. '.join(parts)}."
            if len(table.variants) > 1:
                text += " " + _sweep_against_reference(table, brand, metric, points)
            out.append(text)
    return out


def _best_point(table: Table, summary: pd.DataFrame | None, variant: str, brand: str, metric: str,
                points: Sequence[Any]) -> str:
    """", best at X" when X beats every other value beyond noise."""
    sign = direction(metric)
    want = "higher" if sign > 0 else "lower"
    valid = [p for p in points if (r := table.get(variant, brand, metric, p)) and finite(r["mean"])
             and not is_rare(r)]
    for p in valid:
        if all(_between_points(table, summary, variant, brand, metric, p, q) == want
               for q in valid if q != p):
            return f", best at {point_label(table, p)}"
    return ""


def _sweep_against_reference(table: Table, brand: str, metric: str, points: Sequence[Any]) -> str:
    ref = table.variants[0]
    sign = direction(metric)
    texts = []
    for variant in table.variants[1:]:
        clear, noise, rare, rare_rows = [], [], [], []
        for p in points:
            r = table.get(variant, brand, metric, p)
            if r is None:
                continue
            v = verdict(r["diff_ci_low"], r["diff_ci_high"], sign,
                        diff_is_rare(r, table.get(ref, brand, metric, p)))
            label = point_label(table, p)
            if v == "rare":
                rare.append(label)
                rare_rows += [r, table.get(ref, brand, metric, p)]
            elif v in ("better", "worse", "higher", "lower"):
                clear.append(f"{label}: {fmt(r['diff_mean'], signed=True)} "
                             f"{fmt_ci(r['diff_ci_low'], r['diff_ci_high'], signed=True)}, {v}")
            elif v == "noise":
                noise.append(label)
        if clear:
            text = f"{variant} against {ref}: beyond noise at {'; '.join(clear)}"
            text += f"; not distinguishable from noise at {join(noise)}." if noise else "."
        elif noise:
            text = f"{variant} against {ref}: not distinguishable from noise at any value."
        elif rare:
            text = f"{variant} against {ref}: {too_rare(rare_rows, 'any value')}."
        else:
            text = f"{variant} against {ref}: no paired intervals."
        if rare and (clear or noise):
            text += f" {cap(too_rare(rare_rows, join(rare)))}."
        texts.append(text)
    return " ".join(texts)
