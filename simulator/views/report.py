"""Teaching reports of results folders: ``report.html`` (self-contained) and ``report.md``.

``write_report(folder)`` reads a results folder of ``perksim run``, ``compare`` or ``sweep``
(``manifest.json``, ``comparison.csv``, ``summary.csv``, ``users.csv``, ``figures/*.png``) and
writes a class handout in eight parts: the question and the scenario in plain words; what was
compared and how; the figures; a reading of the numbers; things to notice; things to try;
discussion prompts; the model assumptions that matter — plus "Telling users", three users
worth a closer look with ``perksim explain``.

Every statement about results is generated from the tables by pure functions
(:func:`reading`, :func:`things_to_notice`): a variant is said to *lead* on a metric only
when the paired 95% interval of its difference to every other variant excludes 0 in the
better direction; a difference whose interval contains 0 is called not distinguishable from
noise; a single run (n = 1) gets no interval and no verdict. The intervals are the bootstrap
intervals of :mod:`simulator.experiment` (``comparison.csv``). A metric with fewer than
``MIN_NONZERO`` runs with a non-zero value (``rare`` in ``comparison.csv``) gets no verdict
either: the reading says it is too rare to compare at this replicate count, and how many
replicates would be needed.

The report is built once as a small document (sections of paragraphs, lists, tables,
figures and commands, with ``code``, ``**bold**`` and ``[links](href)`` inline) and rendered
twice, to HTML and to Markdown, so the two files always say the same thing.
"""

from __future__ import annotations

import base64
import html
import itertools
import math
import os
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulator.experiment.statistics import (
    MIN_NONZERO,
    counts_events,
    differences_rare,
    interval_label,
    mean_interval,
)
from simulator.model.metrics import BY_NAME, HEADLINE
from simulator.scenario.sources import SOURCES

# --- what the metrics mean and which way is better: the metric catalogue (simulator.model.metrics) ------

KEY_METRICS = HEADLINE
METRIC_WORDS = {m.name: m.words for m in BY_NAME.values()}
CONFIDENCE = "95%"
SMALL_REPLICATES = 10  # below this, intervals are wide: say so

# --- where the model is documented ---------------------------------------------------------------

MODEL_DOC = "docs/model.md"  # the model's documentation, as a path inside the repository
MODEL_SECTIONS = {  # key: (GitHub-style anchor of the heading in docs/model.md, label)
    "score": ("51-klout-like-score", "§5.1 Klout-like score"),
    "strategies": ("52-allocation-strategies", "§5.2 Allocation strategies"),
    "mentions": ("53-mentions", "§5.3 Mentions"),
    "exposure": ("54-exposure-persuasion-diffusion", "§5.4 Exposure, persuasion, diffusion"),
    "pout": ("55-klout-pout-relative-deprivation", "§5.5 Klout Pout (relative deprivation)"),
    "gaming": ("56-score-gaming-adaptation", "§5.6 Score gaming (adaptation)"),
    "initialization": ("5-initialization", "§5 Initialization (homophily)"),
    "observation": ("8-observation", "§8 Observation (the metrics)"),
    "calibration": ("11-where-the-parameters-come-from", "§11 Where the parameters come from"),
}
REPO_ROOT = Path(__file__).resolve().parents[2]


def model_href(key: str, base: str = MODEL_DOC) -> str:
    """The link to a section of the model documentation, e.g. ``docs/model.md#53-mentions``."""
    return f"{base}#{MODEL_SECTIONS[key][0]}"


def model_link(key: str, base: str = MODEL_DOC) -> str:
    """``[docs/model.md §5.3 Mentions](base#53-mentions)`` (readable when printed, too)."""
    return f"[{MODEL_DOC} {MODEL_SECTIONS[key][1]}]({model_href(key, base)})"


# --- numbers ---------------------------------------------------------------------------------------


def finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt(v: Any, signed: bool = False) -> str:
    """A number for reading: about three significant digits, thousands separators, − for minus."""
    if not finite(v):
        return "–"
    v = float(v)
    a = abs(v)
    if a == 0:
        text = "0"
    elif a < 1e-6:
        text = "≈0"
    elif v.is_integer():
        text = f"{v:,.0f}"
    elif a >= 1000:
        text = f"{v:,.0f}"
    elif a >= 100:
        text = f"{v:.0f}"
    elif a >= 10:
        text = f"{v:.1f}"
    elif a >= 1:
        text = f"{v:.2f}"
    elif a >= 0.001:
        text = f"{v:.3f}"
    else:
        text = f"{v:.2g}"
        if "e" in text:  # 2.3e-05 → 0.000023
            text = f"{v:.{1 - math.floor(math.log10(a))}f}"
    if signed and v > 0 and not text.startswith("≈"):
        text = "+" + text
    return text.replace("-", "−")


def fmt_ci(lo: Any, hi: Any, signed: bool = False) -> str:
    return f"[{fmt(lo, signed)}, {fmt(hi, signed)}]" if finite(lo) and finite(hi) else ""


def fmt_value(v: Any) -> str:
    """A parameter value (e.g. a swept threshold) as written in a scenario."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (np.integer, np.floating)):
        v = v.item()
    return f"{v:g}" if isinstance(v, float) else str(v)


def direction(metric: str) -> int:
    """+1 when more is better, −1 when less is better, 0 when neither."""
    m = BY_NAME.get(metric)
    return m.better if m is not None else 0


def direction_words(metric: str) -> str:
    d = direction(metric)
    return "more is better" if d > 0 else "less is better" if d < 0 else "neither direction is better"


def verdict(lo: Any, hi: Any, sign: int, rare: bool = False) -> str:
    """``better``/``worse`` when the interval of (this − other) excludes 0, by the metric's
    direction ``sign``; ``noise`` when it contains 0; ``unknown`` without an interval;
    ``rare`` when either side is too rare to compare (:func:`is_rare`), whatever the interval."""
    if rare:
        return "rare"
    if not (finite(lo) and finite(hi)):
        return "unknown"
    lo, hi = float(lo), float(hi)
    if lo > 0 or hi < 0:
        up = lo > 0
        if sign == 0:
            return "higher" if up else "lower"
        return "better" if (up == (sign > 0)) else "worse"
    return "noise"


def is_rare(row: dict[str, Any] | None) -> bool:
    """Whether a comparison row is too rare to compare: fewer than ``MIN_NONZERO`` runs with a
    finite, non-zero value (the ``rare`` column; tables without it, from older versions, are
    taken as not rare). A single run is never called rare: it has no interval anyway."""
    if row is None or _count(row.get("runs", row.get("n"))) <= 1:
        return False
    v = row.get("rare")
    if isinstance(v, str):
        return v.strip().lower() == "true"
    return bool(v) if finite(v) or isinstance(v, bool | np.bool_) else False


def diff_is_rare(row: dict[str, Any] | None, ref: dict[str, Any] | None = None) -> bool:
    """Whether a row's paired difference to the first variant is too rare to judge: its
    ``diff_rare`` column (the differences rest on fewer than ``MIN_NONZERO`` events); tables
    from older versions, without it, fall back to either side being rare."""
    if row is None:
        return False
    v = row.get("diff_rare")
    if v is None or (isinstance(v, float) and not finite(v)):
        return is_rare(row) or is_rare(ref)
    if isinstance(v, str):
        return v.strip().lower() == "true"
    return bool(v)


def rare_words(row: dict[str, Any]) -> str:
    """``2 of 20 runs non-zero`` (or ``3 runs`` when every run was non-zero but there are
    too few)."""
    nonzero, runs = _count(row.get("nonzero")), _count(row.get("runs", row.get("n")))
    if nonzero == runs:
        return f"only {runs} run{'s' if runs != 1 else ''}"
    return f"{nonzero} of {runs} runs non-zero"


def replicates_needed(rows: Iterable[dict[str, Any]]) -> str:
    """``about 50 replicates`` (the most any of the rare ``rows`` needs), ``at least 34
    replicates`` when that figure is a lower bound (no run had a non-zero value)."""
    best, lower = 0, False
    for r in rows:
        need = r.get("replicates_needed")
        if is_rare(r) and finite(need) and int(float(need)) >= best:
            bound = str(r.get("replicates_needed_is_lower_bound")).strip().lower() == "true"
            lower = bound or (lower and int(float(need)) == best)
            best = int(float(need))
    if not best:
        return "more replicates"
    return f"{'at least' if lower else 'about'} {best:,} replicates"


def _count(v: Any) -> int:
    return int(float(v)) if finite(v) else 0


def too_rare(rows: Iterable[dict[str, Any] | None], where: str = "") -> str:
    """``too rare to compare at this replicate count``, or ``too few replicates to compare``
    when there are fewer replicates than ``MIN_NONZERO`` (so every row is rare); ``where``
    (sweep values) is said after ``compare at``."""
    few = all(_count(r.get("runs", r.get("n"))) < MIN_NONZERO for r in rows if is_rare(r))
    at = f" at {where}" if where else ""
    if few:
        return f"too few replicates to compare{at}"
    return f"too rare to compare{at} with this many replicates" if where else \
        "too rare to compare at this replicate count"


def _too_rare(rows: Sequence[dict[str, Any]]) -> str:
    """The sentence for a metric with rare rows: which, and how many replicates would do."""
    rare = [r for r in rows if is_rare(r)]
    if not rare:
        return ""
    which = _join([f"{r['variant']} ({rare_words(r)})" for r in rare])
    return (f"{_cap(too_rare(rare))} — fewer than {MIN_NONZERO} runs with a non-zero value for "
            f"{which}: {replicates_needed(rare)} would be needed.")


def _opposite(v: str) -> str:
    return {"better": "worse", "worse": "better", "higher": "lower", "lower": "higher"}.get(v, v)


def _join(items: Sequence[str], word: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


# --- the tables ------------------------------------------------------------------------------------


def _clean(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """Variant and brand names as text (a variant called ``1`` must not become a number)."""
    if table is None:
        return None
    table = table.copy()
    for col in ("variant", "brand", "metric"):
        if col in table.columns:
            table[col] = table[col].astype(str)
    return table


def param_columns(table: pd.DataFrame) -> list[str]:
    """The swept parameters of a tidy table: the columns between ``point`` and ``variant``."""
    if "point" not in table.columns or "variant" not in table.columns:
        return []
    cols = list(table.columns)
    return [c for c in cols[:cols.index("variant")] if c != "point"]


def _order(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


class Table:
    """Fast look-ups in a comparison table: rows by (point, variant, brand, metric)."""

    def __init__(self, comparison: pd.DataFrame):
        self.frame = _clean(comparison)
        assert self.frame is not None
        self.sweep = "point" in self.frame.columns
        self.params = param_columns(self.frame)
        self.variants = _order(self.frame["variant"])
        self.brands = _order(self.frame["brand"])
        self.metrics = _order(self.frame["metric"])
        self.points = _order(self.frame["point"]) if self.sweep else [None]
        self.rows: dict[tuple[Any, str, str, str], dict[str, Any]] = {}
        for row in self.frame.to_dict("records"):
            key = (row.get("point") if self.sweep else None, row["variant"], row["brand"], row["metric"])
            self.rows[key] = row

    def get(self, variant: str, brand: str, metric: str, point: Any = None) -> dict[str, Any] | None:
        return self.rows.get((point, variant, brand, metric))

    def point_values(self, point: Any) -> dict[str, Any]:
        for (p, *_), row in self.rows.items():
            if p == point:
                return {c: row[c] for c in self.params}
        return {}

    def max_n(self) -> int:
        n = pd.to_numeric(self.frame["n"], errors="coerce")
        return int(n.max()) if n.notna().any() else 0


def paired_difference(summary: pd.DataFrame, metric: str, a: str, b: str, brand: str,
                      point: Any = None,
                      point_b: Any = None) -> tuple[float, float, float, int, bool]:
    """Mean, 95% interval, count of (a − b), replicate by replicate (common random numbers),
    and whether the differences are too rare to judge (:func:`simulator.experiment.statistics.rarity`).

    ``a`` and ``b`` are variants; with ``point_b`` the two sides are sweep points instead
    (``a`` and ``b`` then name the same variant, or different ones).
    """
    s = _clean(summary)
    assert s is not None
    s = s[s["brand"] == brand]

    def side(variant: str, p: Any) -> pd.Series:
        part = s[s["variant"] == variant]
        if p is not None and "point" in part.columns:
            part = part[part["point"] == p]
        return part.set_index("replicate")[metric].astype(float)

    x = side(a, point)
    y = side(b, point if point_b is None else point_b)
    diff = (x - y.reindex(x.index)).to_numpy()
    # labelled as in comparison.csv, so a − (first variant) gets comparison.csv's interval
    label = interval_label(point, a, brand, metric, "diff", b, *(() if point_b is None else (point_b,)))
    mean, _, lo, hi, n = mean_interval(diff, label)
    return mean, lo, hi, n, differences_rare(diff, counts_events(metric))


# --- the reading: sentences generated from the numbers ------------------------------------------------


def reading(comparison: pd.DataFrame, summary: pd.DataFrame | None = None,
            metrics: Sequence[str] = KEY_METRICS) -> list[str]:
    """What the comparison table says, metric by metric, in sentences (inline Markdown).

    A pure function of the tables. For compare folders: each variant's mean with its 95%
    interval, its paired difference to the first variant with that difference's 95%
    interval, and which variant leads — only if it is better than every other variant
    beyond noise (pairs not involving the first variant are tested with ``summary``, when
    given). For sweeps: how each metric changes across the swept values. For single runs:
    the values, and that there is no interval.
    """
    table = Table(comparison)
    metrics = [m for m in metrics if m in table.metrics]
    if table.sweep:
        return _sweep_reading(table, _clean(summary), metrics)
    if table.max_n() <= 1:
        return _single_reading(table, metrics)
    return _compare_reading(table, _clean(summary), metrics)


def _label(metric: str) -> str:
    words = METRIC_WORDS.get(metric)
    return f"`{metric}` ({words}; {direction_words(metric)})" if words else \
        f"`{metric}` ({direction_words(metric)})"


def _brand_prefix(table: Table, brand: str) -> str:
    return f"Brand {brand}, " if len(table.brands) > 1 else ""


def _single_reading(table: Table, metrics: Sequence[str]) -> list[str]:
    several = len(table.variants) > 1
    out = [("Each variant ran once (n = 1), so there is no 95% interval and no way to tell a "
            "difference from chance: the numbers below are one draw each, and no variant is "
            "said to lead. Run `perksim compare` with several replicates to get intervals.")
           if several else
           ("This is a single run (n = 1): one draw of chance, with no 95% interval and nothing "
            "to compare it with. Run `perksim compare` (the scenario's variants, several "
            "replicates with paired seeds) before drawing conclusions.")]
    for brand in table.brands:
        for metric in metrics:
            cells = []
            for variant in table.variants:
                row = table.get(variant, brand, metric)
                if row is None:
                    continue
                value = fmt(row["mean"]) if finite(row["mean"]) else "undefined"
                cells.append(f"{variant} {value}" if several else value)
            if cells:
                out.append(f"{_brand_prefix(table, brand)}{_label(metric)}: {', '.join(cells)}"
                           + (" — one run each, so no verdict." if several else "."))
    return out


def _pair_verdict(table: Table, summary: pd.DataFrame | None, metric: str, brand: str,
                  x: str, y: str, point: Any = None) -> str:
    """Is x better than y on ``metric``? From the paired differences to the first variant,
    or (for two other variants) from the per-replicate summary."""
    sign = direction(metric)
    ref = table.variants[0]
    if y == ref:
        row = table.get(x, brand, metric, point)
        return verdict(row["diff_ci_low"], row["diff_ci_high"], sign,
                       diff_is_rare(row, table.get(y, brand, metric, point))) if row else "unknown"
    if x == ref:
        row = table.get(y, brand, metric, point)
        return _opposite(verdict(row["diff_ci_low"], row["diff_ci_high"], sign,
                                 diff_is_rare(row, table.get(x, brand, metric, point)))) if row else "unknown"
    if summary is None or metric not in summary.columns:
        rows = table.get(x, brand, metric, point), table.get(y, brand, metric, point)
        return "rare" if any(is_rare(r) for r in rows) else "unknown"
    _, lo, hi, _, rare = paired_difference(summary, metric, x, y, brand, point)
    return verdict(lo, hi, sign, rare)


def leader(table: Table, summary: pd.DataFrame | None, metric: str, brand: str,
           point: Any = None) -> tuple[str | None, list[str], bool]:
    """(the variant better than every other beyond noise, or None; the top group — variants
    no other variant beats beyond noise; whether some pair could not be tested)."""
    variants = [v for v in table.variants
                if (r := table.get(v, brand, metric, point)) is not None and finite(r["mean"])]
    verdicts = {(x, y): _pair_verdict(table, summary, metric, brand, x, y, point)
                for x in variants for y in variants if x != y}
    untested = any(v == "unknown" for v in verdicts.values())
    for x in variants:
        if len(variants) > 1 and all(verdicts[(x, y)] == "better" for y in variants if y != x):
            return x, [x], untested
    top = [x for x in variants if not any(verdicts[(y, x)] == "better" for y in variants if y != x)]
    return None, top, untested


def _difference_phrase(row: dict[str, Any], ref_row: dict[str, Any] | None, metric: str) -> str:
    sign = direction(metric)
    v = verdict(row["diff_ci_low"], row["diff_ci_high"], sign, diff_is_rare(row, ref_row))
    rel = ""
    if ref_row is not None and finite(ref_row["mean"]) and float(ref_row["mean"]) != 0 \
            and finite(row["diff_mean"]):
        pct = 100 * float(row["diff_mean"]) / abs(float(ref_row["mean"]))
        rel = f", {'+' if pct > 0 else ''}{pct:.0f}%".replace("-", "−") if abs(pct) >= 1 else ""
    interval = fmt_ci(row["diff_ci_low"], row["diff_ci_high"], signed=True)
    head = f"{row['variant']} {fmt(row['diff_mean'], signed=True)}"
    if v == "rare":
        return f"{head} — {too_rare([row, ref_row])}"
    if v == "unknown":
        return f"{head} (no paired interval: fewer than two replicates with a value)"
    if v == "noise":
        same = finite(row["diff_ci_low"]) and float(row["diff_ci_low"]) == 0 == float(row["diff_ci_high"])
        why = "identical in every replicate" if same else "the interval contains 0"
        return f"{head} {interval} — not distinguishable from noise ({why})"
    return f"{head} {interval} ({rel[2:]}) — {v}" if rel else f"{head} {interval} — {v}"


def _compare_reading(table: Table, summary: pd.DataFrame | None, metrics: Sequence[str]) -> list[str]:
    ref = table.variants[0]
    out = []
    if len(table.variants) == 1:
        out.append(f"Only one variant ({ref}) was run, so nothing is compared: below are its means "
                   f"with their {CONFIDENCE} intervals over the replicates. No variant is said to lead.")
    else:
        out.append(f"Differences are paired: each variant minus the first, **{ref}**, replicate by "
                   f"replicate (same seeds), with the {CONFIDENCE} interval of that difference. "
                   "When the interval contains 0 the difference is not distinguishable from noise, "
                   "and no winner is claimed.")
    for brand in table.brands:
        for metric in metrics:
            rows = [r for v in table.variants if (r := table.get(v, brand, metric)) is not None]
            if not rows:
                continue
            values = []
            for r in rows:
                if finite(r["mean"]) and is_rare(r):
                    values.append(f"{r['variant']} {fmt(r['mean'])} (rare: no interval)")
                elif finite(r["mean"]):
                    ci = fmt_ci(r["ci_low"], r["ci_high"])
                    values.append(f"{r['variant']} {fmt(r['mean'])}{' ' + ci if ci else ''}")
                else:
                    values.append(f"{r['variant']} undefined (no replicate with a value)")
            text = f"{_brand_prefix(table, brand)}{_label(metric)}: "
            if len(table.variants) > 1:
                text += _leader_sentence(table, summary, metric, brand) + " "
            elif any(is_rare(r) for r in rows):
                text += _too_rare(rows) + " "
            text += f"Means: {'; '.join(values)}."
            if len(table.variants) > 1:
                ref_row = table.get(ref, brand, metric)
                diffs = [_difference_phrase(r, ref_row, metric) for r in rows
                         if r["variant"] != ref and finite(r["mean"])]
                if diffs:
                    text += f" Against {ref}: {'; '.join(diffs)}."
            out.append(text.replace("  ", " "))
    return out


def _leader_sentence(table: Table, summary: pd.DataFrame | None, metric: str, brand: str,
                     point: Any = None) -> str:
    """Who leads — only a variant better than every other beyond noise; otherwise which
    pairs differ beyond noise and which do not. Variants too rare to compare are named, with
    the replicates that would be needed, and are in no verdict."""
    rows = [r for v in table.variants if (r := table.get(v, brand, metric, point)) is not None]
    rare = _too_rare(rows)
    if direction(metric) == 0:
        return f"{rare} Neither direction is better, so no variant is said to lead.".lstrip()
    lead, _, _ = leader(table, summary, metric, brand, point)
    if lead is not None:
        return f"**{lead} leads**: better than every other variant beyond noise."
    variants = [v for v in table.variants
                if (r := table.get(v, brand, metric, point)) is not None and finite(r["mean"])]
    if rare:
        variants = [v for v in variants if not is_rare(table.get(v, brand, metric, point))]
        compared = _pairs_text(table, summary, metric, brand, point, variants)
        return f"{rare} No variant is said to lead.{compared}"
    ahead: dict[str, list[str]] = {}
    noise, untested = [], []
    for i, x in enumerate(variants):
        for y in variants[i + 1:]:
            v = _pair_verdict(table, summary, metric, brand, x, y, point)
            if v == "better":
                ahead.setdefault(x, []).append(y)
            elif v == "worse":
                ahead.setdefault(y, []).append(x)
            elif v == "noise":
                noise.append(f"{x} vs {y}")
            else:
                untested.append(f"{x} vs {y}")
    if len(variants) < 2:
        return "No variant leads."
    if not ahead and not untested:
        return "No variant leads: no difference between the variants is distinguishable from noise."
    if not ahead:
        return (f"No variant leads: no tested difference is distinguishable from noise (not tested: "
                f"{_join(untested)}; only differences to the first variant are in comparison.csv).")
    wins = "; ".join(f"{x} is ahead of {_join(ys)}" for x, ys in ahead.items())
    text = f"No single variant leads. Beyond noise, {wins}."
    if noise:
        text += (f" Not distinguishable from noise: {_join(noise)}." if len(noise) <= 3
                 else " Every other difference is within noise.")
    if untested:
        text += (f" Not tested: {_join(untested)} (only differences to the first variant are in "
                 "comparison.csv).")
    return text


def _pairs_text(table: Table, summary: pd.DataFrame | None, metric: str, brand: str, point: Any,
                variants: Sequence[str]) -> str:
    """`` Of the others, …`` — the verdicts between the variants that are not rare."""
    ahead, noise, untested = [], [], []
    for i, x in enumerate(variants):
        for y in variants[i + 1:]:
            v = _pair_verdict(table, summary, metric, brand, x, y, point)
            if v in ("better", "worse"):
                win, lose = (x, y) if v == "better" else (y, x)
                ahead.append(f"{win} is ahead of {lose}")
            elif v == "noise":
                noise.append(f"{x} vs {y}")
            elif v == "unknown":
                untested.append(f"{x} vs {y}")
    parts = []
    if ahead:
        parts.append(f"beyond noise, {'; '.join(ahead)}")
    if noise:
        parts.append(f"not distinguishable from noise: {_join(noise)}")
    if untested:
        parts.append(f"not tested: {_join(untested)}")
    return f" Of the others, {'; '.join(parts)}." if parts else ""


# --- sweeps --------------------------------------------------------------------------------------


def _sorted_points(table: Table) -> list[Any]:
    """Sweep points in the order of the swept value (one numeric parameter), else as run."""
    points = list(table.points)
    if len(table.params) == 1:
        values = [table.point_values(p).get(table.params[0]) for p in points]
        try:
            return [p for _, p in sorted(zip([float(v) for v in values], points, strict=True),
                                         key=lambda t: t[0])]
        except (TypeError, ValueError):
            return points
    return points


def _point_label(table: Table, point: Any) -> str:
    values = table.point_values(point)
    if len(values) == 1:
        return fmt_value(next(iter(values.values())))
    return ", ".join(f"{short_param(k)}={fmt_value(v)}" for k, v in values.items())


def short_param(path: str) -> str:
    """``campaigns[0].strategy.threshold`` → ``threshold``."""
    return re.split(r"[.\]]", path)[-1] or path


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
    points = [p for p in _sorted_points(table)
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
    rows = [r for p in _sorted_points(table) if (r := table.get(variant, brand, metric, p))
            and finite(r["mean"]) and is_rare(r)]
    rare = ""
    if rows:
        where = _join([_point_label(table, r.get("point")) for r in rows])
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
        return f"{fmt(table.get(variant, brand, metric, p)['mean'])} at {_point_label(table, p)}"

    steps = (" (steps beyond noise: " + ", ".join(f"{_point_label(table, a)} → {_point_label(table, b)}"
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


def _sweep_reading(table: Table, summary: pd.DataFrame | None, metrics: Sequence[str]) -> list[str]:
    ref = table.variants[0]
    points = _sorted_points(table)
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
                        cells.append(f"{_point_label(table, p)}: {fmt(r['mean'])}{' ' + ci if ci else ''}")
                t = trend(table, summary, variant, brand, metric)
                shape = _shape_words(table, summary, variant, brand, metric)
                best = ""
                if t in ("rises", "falls", "varies") and direction(metric) != 0:
                    best = _best_point(table, summary, variant, brand, metric, points)
                parts.append(f"{variant} {shape}{best} ({'; '.join(cells)})")
            text = f"{_brand_prefix(table, brand)}{_label(metric)}: {'. '.join(parts)}."
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
            return f", best at {_point_label(table, p)}"
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
            label = _point_label(table, p)
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
            text += f"; not distinguishable from noise at {_join(noise)}." if noise else "."
        elif noise:
            text = f"{variant} against {ref}: not distinguishable from noise at any value."
        elif rare:
            text = f"{variant} against {ref}: {too_rare(rare_rows, 'any value')}."
        else:
            text = f"{variant} against {ref}: no paired intervals."
        if rare and (clear or noise):
            text += f" {_cap(too_rare(rare_rows, _join(rare)))}."
        texts.append(text)
    return " ".join(texts)


# --- things to notice: observations triggered by the numbers ----------------------------------------


def _means(table: Table, brand: str, metric: str, point: Any = None) -> dict[str, float]:
    out = {}
    for v in table.variants:
        r = table.get(v, brand, metric, point)
        if r is not None and finite(r["mean"]):
            out[v] = float(r["mean"])
    return out


def things_to_notice(comparison: pd.DataFrame, summary: pd.DataFrame | None = None,
                     strategies: dict[str, dict[str, str]] | None = None,
                     users: int | None = None, perks: dict[str, int] | None = None) -> list[str]:
    """Observations the numbers call for (a pure function of the tables).

    ``strategies`` maps variant → brand → strategy kind (to recognise a lottery or a search),
    ``users`` is the population size and ``perks`` the perk budget per brand.
    """
    table = Table(comparison)
    summary = _clean(summary)
    strategies = strategies or {}
    notes: list[str] = []
    single = table.max_n() <= 1
    one_variant = len(table.variants) == 1
    if single:
        notes.append("These numbers come from one run" + ("" if one_variant else " of each variant")
                     + ": one draw of chance. Another seed (`--seed`) can change them; only "
                     "`perksim compare` with several replicates says which differences are larger "
                     "than chance.")
    elif table.max_n() < MIN_NONZERO:
        notes.append(f"With only {table.max_n()} replicates — fewer than {MIN_NONZERO} — no difference "
                     "is judged: a mean of so few runs is driven by a handful of events, and its "
                     "interval means little. Run at least 10 replicates (`--replicates 10`) to "
                     "compare.")
    elif table.max_n() < SMALL_REPLICATES:
        notes.append(f"With only {table.max_n()} replicates the intervals are wide: a difference "
                     "called not distinguishable from noise here may become clear with more "
                     "replicates (`--replicates 40`) — or may stay within noise.")
    point = table.points[0] if table.sweep else None
    where = f" at the first sweep value ({_point_label(table, point)})" if table.sweep else ""
    every = "in this run" if one_variant and single else "in every variant" + where
    anyv = "in this run" if one_variant and single else "in any variant" + where
    for brand in table.brands:
        who = f"For {brand}: " if len(table.brands) > 1 else ""
        m = {metric: _means(table, brand, metric, point) for metric in table.metrics}
        kinds = {v: strategies.get(v, {}).get(brand) for v in table.variants}
        several = len(table.variants) > 1 and not single and not table.sweep
        reach_lead = engaged_lead = None
        if several:
            reach_lead = leader(table, summary, "reach", brand)[0] if "reach" in m else None
            engaged_lead = leader(table, summary, "engaged_reach", brand)[0] if "engaged_reach" in m else None
            if reach_lead and reach_lead != engaged_lead:
                notes.append(f"{who}{reach_lead} leads on `reach` but not on `engaged_reach`. Reach "
                             "counts everyone the campaign's own mentions reached; engaged reach only "
                             "the brand's fans among them who did not get a perk themselves — big "
                             "audiences are not necessarily audiences of fans.")
            fit_lead = leader(table, summary, "recipient_fit", brand)[0] if "recipient_fit" in m else None
            if fit_lead and fit_lead != engaged_lead:
                notes.append(f"{who}{fit_lead}'s recipients fit the brand best (`recipient_fit` "
                             f"{fmt(m['recipient_fit'][fit_lead])}), yet {fit_lead} does not lead on "
                             "`engaged_reach`: giving perks to the right people does not by itself "
                             "reach many fans. Compare the recipients' `followers` in users.csv.")
            pout_lead = leader(table, summary, "pout_fans", brand)[0] if "pout_fans" in m else None
            if pout_lead and kinds.get(pout_lead) == "lottery":
                name = "The lottery" + ("" if pout_lead == "lottery" else f" ({pout_lead})")
                notes.append(f"{who}{name} leaves the excluded fans least frustrated "
                             f"(`pout_fans` {_compare_list(m['pout_fans'])}). In the model a lottery's "
                             "recipients are drawn at random — mostly users with small audiences, so "
                             "few fans see a perk — its rules are public unless set otherwise (rule "
                             "transparency 0.8), which lowers the feeling of entitlement, and nobody "
                             "'almost made it' past a score bar. Compare a lottery with opaque rules "
                             "(`rule_transparency: 0`) to tell the allocation from the rule.")
            cost_lead = leader(table, summary, "cost_per_engaged_reach", brand)[0] \
                if "cost_per_engaged_reach" in m else None
            if cost_lead and "engaged_reach" in m:
                more = [v for v in m["engaged_reach"] if v != cost_lead and _pair_verdict(
                    table, summary, "engaged_reach", brand, v, cost_lead) == "better"]
                if more:
                    notes.append(f"{who}{cost_lead} is the cheapest way to reach a fan "
                                 f"(`cost_per_engaged_reach` {_compare_list(m['cost_per_engaged_reach'])}), "
                                 f"but {_join(more)} reach{'es' if len(more) == 1 else ''} more fans "
                                 f"(`engaged_reach` {_compare_list(m['engaged_reach'])}): which one "
                                 "'wins' depends on the budget and on what the brand counts.")
            if engaged_lead and "pout_fans" in m:
                calmer = [v for v in m["pout_fans"] if v != engaged_lead and _pair_verdict(
                    table, summary, "pout_fans", brand, v, engaged_lead) == "better"]
                if calmer:
                    notes.append(f"{who}No free lunch: {engaged_lead} reaches the most fans, but the fans "
                                 f"it leaves out pout more than under {_join(calmer, 'or')} (`pout_fans` "
                                 f"{_compare_list(m['pout_fans'])}).")
        auth = m.get("authenticity", {})
        if auth and max(auth.values()) < 0.1:
            notes.append(f"{who}{_cap(every)}, fewer than 10% of positive exposures came from organic "
                         f"(unpaid) mentions (`authenticity` {_compare_list(auth)}): whoever gets the "
                         "perks, almost all of the reach is paid.")
        cov = m.get("coverage_ratio", {})
        zero = [v for v, x in cov.items() if x == 0]
        if zero:
            searched = [v for v in zero if kinds.get(v) in ("relevance", "outreach")]
            why = (f" A search ({_join(searched)}) can only find users who post about the topic, "
                   "and lurkers rarely post." if searched else "")
            notes.append(f"{who}`coverage_ratio` is 0 for {_join(zero)}{where} in every run with a "
                         "value: some posting-habit group or region got no perk at all (count perks "
                         f"by `archetype` and `region` in users.csv to see which).{why}")
        share = m.get("pouting_share", {})
        fans_pout = m.get("pout_fans", {})
        if share and fans_pout and max(share.values()) < 0.01 and max(fans_pout.values()) > 0:
            notes.append(f"{who}Fewer than 1% of users are 'pouting' {anyv} — pout at or above the "
                         "threshold at which they may post complaints — while the mean pout of excluded "
                         f"fans is {_compare_list(fans_pout)}. Sort users.csv by `pout_{brand}` to see "
                         "whether that frustration is spread thin or held by a few.")
        adopt = m.get("adopters", {})
        if users and adopt and max(adopt.values()) < 0.01 * users:
            most = "" if one_variant else "at most "
            top = max(adopt.values())
            count = ("adopter" if top == 1 else "adopters") + ("" if single else " on average")
            notes.append(f"{who}Adoption is rare: {most}{fmt(top)} {count} among "
                         f"{users:,} users {anyv}. Seeing a mention is far more common than being "
                         "persuaded by one — as online: most cascades convert nobody beyond their "
                         "seed (Goel, Watts & Goldstein 2012; `perksim check-model`).")
        persuaded = m.get("adopters_campaign", {})
        if adopt and persuaded and max(persuaded.values()) < 0.5 * max(adopt.values()):
            notes.append(f"{who}Most adopters were persuaded by fans' own talk about the brand, not "
                         f"by the campaign (`adopters` {_compare_list(adopt)}; the campaign's "
                         f"`adopters_campaign` {_compare_list(persuaded)}): that talk goes on "
                         "whatever the campaign does, so compare the campaign's own numbers.")
        budget = (perks or {}).get(brand)
        if budget:
            short = []
            for p in table.points:
                for v, x in _means(table, brand, "perks_given", p).items():
                    if x < budget - 0.5:
                        label = f"{v} at {_point_label(table, p)}" if table.sweep else v
                        short.append(f"{label} ({fmt(x)})")
            if short:
                notes.append(f"{who}Not all {budget} perks were given in: {_join(short)} — fewer users "
                             "were eligible than there were perks.")
    return notes


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _compare_list(values: dict[str, float]) -> str:
    if len(values) == 1:
        return fmt(next(iter(values.values())))
    return ", ".join(f"{v} {fmt(x)}" for v, x in values.items())


# --- the scenario in words ----------------------------------------------------------------------------


def strategy_params(strategy: Any) -> dict[str, Any]:
    """A strategy's parameters with their defaults filled in (as the model uses them)."""
    if not isinstance(strategy, dict):
        return {"kind": str(strategy)}
    try:
        from simulator.model.strategies import validate_params

        return validate_params(strategy).model_dump()
    except Exception:  # an unknown custom strategy: describe what is written
        return dict(strategy)


def describe_strategy(strategy: Any, campaign: dict[str, Any] | None = None) -> str:
    """The allocation rule in plain words."""
    s = strategy_params(strategy)
    c = campaign or {}
    kind = s.get("kind")
    topic = _topic_words(c.get("topic", "the brand's topic"))
    region = c.get("region", "national")
    if kind == "score_threshold":
        pick = ("the highest scores get them" if s.get("pick", "top") == "top"
                else "a random draw among them gets them")
        bar = fmt_value(s.get("threshold", 63))
        return (f"a score threshold: users whose Klout-like score is at least {bar} are eligible; "
                f"if more pass than there are perks, {pick}")
    if kind == "top_score":
        return "the highest scores: the users with the top Klout-like scores, whatever they post about"
    if kind == "relevance":
        if s.get("region_aware", True) and region != "national":
            where = f", users outside {_region_words(region)} counting less"
        elif region != "national":
            where = ", ignoring where they live"
        else:
            where = ""
        return f"a search for engaged fans: the users whose recent posts are most about {topic}{where}"
    if kind == "hybrid":
        alpha = float(s.get("alpha", 0.5))
        rest = fmt_value(round(1 - alpha, 6))
        return f"a hybrid: users ranked by {fmt_value(alpha)} × score/100 + {rest} × observed relevance"
    if kind == "lottery":
        return "a lottery: a uniform random draw among all users"
    if kind == "outreach":
        return (f"personal outreach: staff contact the {s.get('contacts', 10)} users most relevant to "
                f"{topic} among those with at least the median number of followers; no perk is paid, "
                f"each contact costs {fmt_value(s.get('contact_cost', 25))}")
    if kind == "fixed":
        return f"hand-picked users: {', '.join(str(u) for u in s.get('users', []))}"
    params = {k: v for k, v in s.items() if k != "kind"}
    return f"the custom strategy '{kind}'" + (f" ({params})" if params else "")


def _topic_words(topic: Any) -> str:
    if isinstance(topic, dict):
        return " and ".join(f"{k} ({fmt_value(v)})" for k, v in topic.items())
    return str(topic)


def _region_words(region: str) -> str:
    return "the whole country (national)" if region == "national" else region.replace("_", " ").title()


def _exclusivity_words(e: float) -> str:
    if e <= 0:
        return "framed as an open offer (exclusivity 0)"
    if e >= 1:
        return "framed as exclusive, invitation only (exclusivity 1)"
    return f"framed as partly exclusive (exclusivity {fmt_value(e)} on a 0–1 scale)"


def describe_campaign(c: dict[str, Any]) -> str:
    """One campaign (brand) in plain words."""
    waves = int(c.get("waves", 1))
    when = (f"on day {c.get('start', 14)}" if waves == 1 else
            f"in {waves} waves every {c.get('wave_every', 7)} days from day {c.get('start', 14)}")
    kind = strategy_params(c.get("strategy", {})).get("kind")
    if kind == "outreach":
        budget = "contacts users"
    else:
        budget = (f"hands out {c.get('perks', 50)} perks worth {fmt_value(c.get('perk_value', 100))} "
                  "each")
    mention = {"none": "does not ask recipients to mention it",
               "recommended": "recommends that recipients mention it",
               "required": "requires recipients to mention it"}.get(c.get("mention"), "")
    disclosed = "labelled as paid (#ad)" if c.get("disclosure", True) else "not labelled as paid"
    transparency = c.get("rule_transparency")
    rules = ("" if transparency is None else
             f"; rule transparency {fmt_value(transparency)} (0 opaque … 1 published)")
    return (f"**{c.get('brand')}** (topic {_topic_words(c.get('topic'))}, region "
            f"{_region_words(c.get('region', 'national'))}) {budget} {when}, {mention} "
            f"({disclosed}), {_exclusivity_words(float(c.get('exclusivity', 0.5)))}{rules}. "
            f"Who gets them: {describe_strategy(c.get('strategy', {}), c)}.")


def describe_change(path: str, value: Any) -> str:
    """``campaigns[0].strategy = {kind: relevance}`` as inline Markdown."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    return f"`{path} = {text}`"


# --- the document model -------------------------------------------------------------------------------


@dataclass
class Block:
    """One block of a section: ``p`` (paragraph), ``ul`` (list), ``table`` ({header, rows}),
    ``figure`` ({path, caption}), ``code`` (a command line) or ``note`` (a small paragraph)."""

    kind: str
    content: Any


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, text: str) -> None:
        self.blocks.append(Block("p", text))

    def ul(self, items: Sequence[str]) -> None:
        if items:
            self.blocks.append(Block("ul", list(items)))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.blocks.append(Block("table", {"header": list(header), "rows": [list(r) for r in rows]}))

    def code(self, text: str) -> None:
        self.blocks.append(Block("code", text))

    def note(self, text: str) -> None:
        self.blocks.append(Block("note", text))


# --- reading a results folder ---------------------------------------------------------------------------


@dataclass
class Folder:
    """What the report needs from a results folder."""

    path: Path
    manifest: dict[str, Any]
    document: dict[str, Any]
    kind: str
    comparison: pd.DataFrame
    summary: pd.DataFrame | None
    users: pd.DataFrame | None
    figures: list[Path]

    @property
    def table(self) -> Table:
        return Table(self.comparison)

    @property
    def variants(self) -> list[str]:
        return self.table.variants


def _read_csv(path: Path) -> pd.DataFrame | None:
    """A table of the folder, checked (``ResultsFolderError`` naming the file and line if it
    is damaged); ``None`` if absent or empty."""
    from simulator.experiment.results import read_table

    return read_table(path)


def _document(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The scenario that ran, from the manifest (else ``scenario.yaml``), checked against the
    scenario format and in its canonical form, so the report can rely on its structure."""
    from pydantic import ValidationError

    from simulator.experiment.results import ResultsFolderError
    from simulator.scenario.schema import Scenario

    if "resolved_scenario" in manifest:
        where, document = f"{folder / 'manifest.json'}: 'resolved_scenario'", manifest["resolved_scenario"]
    elif (folder / "scenario.yaml").is_file():
        where = str(folder / "scenario.yaml")
        try:
            document = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
            raise ResultsFolderError(f"{where}: cannot be read ({str(exc).splitlines()[0]}); "
                                     "the file is damaged") from None
    else:
        return {}
    try:
        return Scenario.model_validate(document).to_document()
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ResultsFolderError(f"{where}: not a valid scenario ({exc.error_count()} problems; "
                                 f"{path}: {first['msg']}); the file is damaged or from another "
                                 "version of perksim") from None


def load_folder(folder: str | Path, draw: bool = True) -> Folder:
    """Read a results folder (drawing its figures first if it has none and ``draw``).

    Every file is checked as it is read: a damaged one raises
    :class:`simulator.experiment.results.ResultsFolderError` naming the file (and line)."""
    from simulator.experiment.results import ResultsFolderError, read_manifest

    folder = Path(folder)
    manifest = read_manifest(folder) if (folder / "manifest.json").exists() else {}
    document = _document(folder, manifest)
    comparison = _clean(_read_csv(folder / "comparison.csv"))
    summary = _clean(_read_csv(folder / "summary.csv"))
    _read_csv(folder / "failures.csv")  # read again by the report: checked here, before any writing
    if comparison is None:
        if summary is None:
            raise ResultsFolderError(f"{folder} has neither comparison.csv nor summary.csv: "
                                     "is it a results folder of perksim?")
        from simulator.experiment.statistics import comparison_table
        from simulator.model.metrics import METRICS

        comparison = comparison_table(summary, [m for m in METRICS if m in summary.columns])
    kind = manifest.get("kind") or ("sweep" if "point" in comparison.columns else
                                    "compare" if comparison["variant"].nunique() > 1 else "run")
    figures = figure_order((folder / "figures").glob("*.png"))
    if not figures and draw:
        try:
            from simulator.views.plots import plot_run

            plot_run(folder)
        except Exception:  # a report without figures is better than no report
            pass
        figures = figure_order((folder / "figures").glob("*.png"))
    return Folder(folder, manifest, document, kind, comparison, summary,
                  _clean(_read_csv(folder / "users.csv")), figures)


def variant_documents(f: Folder) -> dict[str, dict[str, Any]]:
    """The resolved document of each variant that ran (at the first sweep point)."""
    from simulator.experiment.plan import Task, task_document

    table = f.table
    params: tuple[tuple[str, Any], ...] = ()
    point = None
    if table.sweep:
        point = table.points[0]
        params = tuple((k, _plain(v)) for k, v in table.point_values(point).items())
    changes = f.document.get("variants") or {}
    out = {}
    for variant in table.variants:
        try:
            out[variant] = task_document(f.document, Task(0, variant, 0, point, params), changes)
        except Exception:
            out[variant] = f.document
    return out


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- commands --------------------------------------------------------------------------------------------


def scenario_reference(f: Folder) -> str:
    """How to name the scenario on the command line: the bundled name, the source file, or the
    folder's own scenario.yaml."""
    from simulator.scenario.library import scenarios_dir

    source = f.manifest.get("source_file")
    if source:
        path = Path(source)
        bundled = scenarios_dir()
        if bundled is not None and path.is_file() and path.resolve().parent == bundled.resolve():
            return path.stem
        if path.is_file():
            return str(path)
    return str((f.path / "scenario.yaml").resolve())


def context_options(f: Folder) -> list[str]:
    """The ``--set``/``--seed``/``--steps`` options that made this run differ from its scenario
    file (e.g. ``--set population.size=300 --steps 20``), so suggested commands stay comparable."""
    source = f.manifest.get("source_file")
    if not source or not Path(source).is_file():
        return []
    try:
        from simulator.scenario.loader import load_scenario

        original = load_scenario(source, variant=f.manifest.get("variant") or None).to_document()
    except Exception:
        return []
    options: list[str] = []
    ran = f.document
    for path, value in _differences(original, ran):
        if path in ("name", "question", "description", "replicates") or \
                path.startswith(("variants", "sweep")):
            continue
        if path == "seed":
            options += ["--seed", str(value)]
        elif path == "steps":
            options += ["--steps", str(value)]
        else:
            options += ["--set", f"{path}={_flow(value)}"]
    return options


def _differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any]]:
    """Fields where document ``b`` differs from ``a``: leaves, or whole strategies/graphs when
    their ``kind`` changed (a partial change would not validate)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if "kind" in b and a.get("kind") != b.get("kind"):
            return [(path, b)]
        out = []
        for key in b:
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                out.append((sub, b[key]))
            else:
                out += _differences(a[key], b[key], sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(isinstance(x, dict) for x in a + b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _differences(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [(path, b)]


def _flow(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return fmt_value(value)
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                          width=10_000).strip().removesuffix("...").strip()


def command(*args: str) -> str:
    """A shell command line, quoted where the shell needs it."""
    return " ".join(shlex.quote(a) for a in args)


def things_to_try(f: Folder) -> list[tuple[str, str]]:
    """(what to try and why, the exact ``perksim`` command)."""
    name = scenario_reference(f)
    ctx = context_options(f)
    table = f.table
    docs = variant_documents(f)
    n = table.max_n()
    only = [x for v in f.manifest.get("variants") or [] for x in ("--variant", str(v))]
    out: list[tuple[str, str]] = []
    if f.kind == "run":
        out.append(("Repeat it with paired seeds — 10 replicates of each of the scenario's variants "
                    "(or of the scenario itself, if it has none) — to see which differences are "
                    "larger than chance:",
                    command("perksim", "compare", name, *ctx, "--replicates", "10")))
        variant = f.manifest.get("variant")
        out.append(("Another draw of chance: the same run with another seed.",
                    command("perksim", "run", name, *ctx,
                            *(["--variant", str(variant)] if variant else []), "--seed", "7")))
    else:
        more = max(40, 2 * n)
        out.append((f"More replicates narrow the intervals (this report used {n}): see whether the "
                    "differences called noise stay noise.",
                    command("perksim", f.kind, name, *ctx, *only, "--replicates", str(more))))
    used = {strategy_params(c.get("strategy", {})).get("kind")
            for d in docs.values() for c in d.get("campaigns") or []}
    offers = [("relevance", "{kind: relevance}", "the critics' search for engaged fans"),
              ("hybrid", "{kind: hybrid, alpha: 0.5}", "a compromise between score and relevance"),
              ("lottery", "{kind: lottery}", "a lottery, the inclusive baseline"),
              ("top_score", "{kind: top_score}", "simply the highest scores"),
              ("outreach", "{kind: outreach}", "'pick up the phone': contact ten relevant users, "
                                               "no perk paid")]
    sweep = f.document.get("sweep") or {}
    touched = [k for v in (f.document.get("variants") or {}).values() for k in v] + \
        list(sweep.get("grid") or {}) + list(sweep.get("ranges") or {})
    if any(k.startswith("campaigns[0].strategy.") for k in touched):
        # the variants or the sweep set parameters of this strategy: another kind would not
        # validate, so vary the strategy's own parameter instead
        first = strategy_params((docs[table.variants[0]].get("campaigns") or [{}])[0].get("strategy", {}))
        if first.get("kind") == "score_threshold":
            bar = 55 if float(first.get("threshold", 63)) != 55 else 40
            out.append((f"Another bar in a single run: a score of at least {bar} "
                        "(the airline-club threshold is 55, the lounge one 40):",
                        command("perksim", "run", name, *ctx, "--set",
                                f"campaigns[0].strategy.threshold={bar}")))
    else:
        for _, value, why in [o for o in offers if o[0] not in used][:2]:
            out.append((f"Give the perks by another rule — {why} — in a single run:",
                        command("perksim", "run", name, *ctx, "--set",
                                f"campaigns[0].strategy={value}")))
    verb = "sweep" if f.kind == "sweep" else "compare"
    out.append(("The defenders' case: a strong scarcity effect (an exclusive offer makes recipients "
                "talk much more; the default is 0.5).",
                command("perksim", verb, name, *ctx, *only, "--set", "behaviour.exclusivity_boost=2")))
    out.append(("Frame every offer as exclusive, invitation only — more mentions, and more pout?",
                command("perksim", verb, name, *ctx, *only, "--set", "campaigns[0].exclusivity=1")))
    out.append(("Publish the rules (full transparency): does the pout of those left out fall?",
                command("perksim", verb, name, *ctx, *only, "--set", "campaigns[0].rule_transparency=1")))
    out.append(("Require a mention from every recipient:",
                command("perksim", verb, name, *ctx, *only, "--set", "campaigns[0].mention=required")))
    out.append(("Weaker homophily: interests follow the graph less, so fans are less clustered.",
                command("perksim", verb, name, *ctx, *only, "--set", "population.homophily=0.2")))
    scenario = f.document.get("name")
    if scenario != "threshold_sweep":
        out.append(("Where should the bar be? Thresholds 40, 55, 63 and 75:",
                    command("perksim", "sweep", "threshold_sweep")))
    elif f.kind == "sweep":
        out.append(("The two ways of picking among those who pass, side by side at the bar of 63:",
                    command("perksim", "compare", name, *ctx)))
    if scenario != "exclusivity_value":
        out.append(("When does exclusivity pay? Exclusive threshold, open threshold, open lottery:",
                    command("perksim", "compare", "exclusivity_value")))
    if scenario != "score_gaming":
        out.append(("Half a year of waves: do the excluded chase the score?",
                    command("perksim", "compare", "score_gaming")))
    if scenario != "real_graph_facebook":
        out.append(("The same question on a real friendship network (SNAP ego-Facebook):",
                    command("perksim", "compare", "real_graph_facebook")))
    return out


# --- telling users ---------------------------------------------------------------------------------------


def telling_users(users: pd.DataFrame, brand: str, strategy: Any,
                  results_dir: str = "RESULTS_DIR") -> list[dict[str, Any]]:
    """Three users worth a closer look (from ``users.csv`` rows of one variant): the closest
    miss under a score bar, the most relevant fan left out, the least relevant recipient.
    Each entry: ``role``, ``id``, ``text`` (inline Markdown with their numbers), ``command``."""
    perk, rel, fan, pout = (f"{c}_{brand}" for c in ("perk", "relevance", "fan", "pout"))
    if perk not in users.columns:
        return []
    u = users.copy()
    u[fan] = u[fan].astype(str).str.lower().isin(["true", "1"]) if fan in u.columns else False
    got = pd.to_numeric(u[perk], errors="coerce").fillna(0) > 0
    s = strategy_params(strategy)
    kind = s.get("kind")
    out = []

    def who(row: pd.Series) -> str:
        return (f"user {int(row['id'])}, {row.get('archetype', '?')} in "
                f"{str(row.get('region', '?')).replace('_', ' ').title()}, "
                f"{int(row.get('followers', 0)):,} followers, final score {fmt(row.get('score'))}, "
                f"relevance {fmt(row.get(rel))}{' (a fan)' if row.get(fan) else ''}, "
                f"pout {fmt(row.get(pout))}")

    def add(role: str, row: pd.Series, text: str) -> None:
        uid = int(row["id"])
        out.append({"role": role, "id": uid, "text": text,
                    "command": command("perksim", "explain", results_dir, "--user", str(uid),
                                       "--brand", brand)})

    if kind in ("score_threshold", "top_score") and "score" in u.columns:
        pool = u[~got]
        if kind == "score_threshold":
            bar = float(s.get("threshold", 63))
            pool = pool[pool["score"] < bar]
        if len(pool):
            row = pool.loc[pool["score"].idxmax()]
            gap = (f", {fmt(bar - float(row['score']))} points under the bar of {fmt_value(bar)}"
                   if kind == "score_threshold" else ", the highest score without a perk")
            add("The closest miss", row,
                f"{who(row)}{gap}. (Scores move after the perks are handed out; `explain` shows "
                "the score on the day of the allocation.)")
    if fan in u.columns and rel in u.columns:
        contact = kind == "outreach"
        pool = u[~got & u[fan]]
        if len(pool):
            row = pool.loc[pool[rel].idxmax()]
            add("A highly relevant fan left out", row,
                f"{who(row)} — {'not contacted' if contact else 'no perk'}.")
        pool = u[got]
        if len(pool):
            row = pool.loc[pool[rel].idxmin()]
            add("An irrelevant contact" if contact else "An irrelevant recipient", row,
                f"{who(row)} — {'contacted' if contact else 'got a perk'}.")
    return out


# --- figures -------------------------------------------------------------------------------------------


def figure_caption(stem: str, params: Sequence[str] = ()) -> str:
    """How to read a figure, from its file name (``figures/<stem>.png``)."""
    base = re.sub(r"_(?!.*_)[^_]+$", "", stem)
    if stem.startswith("timeseries"):
        return ("Key metrics over the days of the campaign, one line per variant (the mean over "
                "replicates, with a 95% band). Read: nothing happens before the first perks are "
                "handed out; then watch how fast reach grows, and when pout builds up.")
    if stem.startswith("final_metrics"):
        return ("Final value of each key metric, one bar per variant (grouped by sweep value in a "
                "sweep), with 95% interval whiskers. Read: the panel title says which direction is "
                "better; for whether two variants really differ, use the paired reading below.")
    if stem.startswith("tradeoff"):
        return ("Fans reached (engaged_reach, right is better) against the pout of the fans left "
                "out (pout_fans, lower is better), one point per variant with 95% whiskers. Read: "
                "the bottom-right corner is best; a hollow marker is beaten on both by another point.")
    if stem.startswith("network"):
        variant = stem.removeprefix("network_")
        return (f"The follows graph of the first replicate{' of ' + variant if variant else ''}, "
                "each user coloured by their state towards the brand (the legend: got a perk, "
                "adopted, pouting, reached, not reached). Read: do the perks sit among the fans or "
                "in the crowded centre, and where are the pouting users?")
    if stem.startswith("sweep_"):
        metric = next((m for m in sorted(METRIC_WORDS, key=len, reverse=True)
                       if stem.endswith(f"_{m}") or f"_{m}_" in stem), None)
        param = next((p for p in params if re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_") in stem),
                     None)
        what = f"`{metric}`" if metric else "a final metric"
        along = f"`{short_param(param)}`" if param else "the swept value"
        return (f"{what} against {along}, one line per variant (mean with 95% interval). Read: a "
                "rise or fall counts only where it is larger than the intervals.")
    return f"Figure {base or stem}."


FIGURE_ORDER = ("timeseries", "final_metrics", "tradeoff", "sweep_", "network")


def figure_order(paths: Iterable[Path]) -> list[Path]:
    """Figures in reading order: over time, final values, trade-off, sweeps, networks, others."""
    def key(p: Path) -> tuple[int, str]:
        rank = next((i for i, prefix in enumerate(FIGURE_ORDER) if p.stem.startswith(prefix)),
                    len(FIGURE_ORDER))
        return rank, p.name
    return sorted(paths, key=key)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# --- building the report --------------------------------------------------------------------------------


def build(f: Folder, docs_base: str = MODEL_DOC) -> tuple[str, list[Section]]:
    """The report as a title and its sections."""
    doc, man, table = f.document, f.manifest, f.table
    name = doc.get("name") or man.get("scenario") or f.path.name
    title = f"perksim report: {name}"
    docs = variant_documents(f)
    sections = [
        _section_question(f, doc, man),
        _section_design(f, doc, man, table, docs),
        _section_figures(f, table),
        _section_reading(f, table),
        _section_notice(f, doc, table, docs),
        _section_try(f),
        _section_discussion(f, doc, table, docs),
        _section_assumptions(doc, docs_base),
        _section_users(f, table, docs),
    ]
    return title, sections


def _section_question(f: Folder, doc: dict[str, Any], man: dict[str, Any]) -> Section:
    s = Section("1. The question and the scenario", "question")
    question = doc.get("question") or man.get("question")
    if question:
        s.p(f"**{question}**")
    about = " ".join((doc.get("description") or "").split())
    if about:
        s.p(about)
    pop = doc.get("population", {})
    regions = pop.get("regions") or {}
    region_text = ", ".join(f"{_region_words(r)} {fmt_value(round(100 * float(v)))}%"
                            for r, v in regions.items())
    topics = ", ".join(pop.get("topics") or [])
    archetypes = pop.get("archetypes") or {}
    arche = ", ".join(f"{k} {fmt_value(round(100 * float(a.get('share', 0))))}%"
                      for k, a in archetypes.items())
    users = man.get("users") or pop.get("size")
    graph = man.get("graph") or _flow(pop.get("graph"))
    assort = (man.get("assortativity") or {}).get("assortativity")
    items = [
        f"**Population:** {users:,} users" if isinstance(users, int) else f"**Population:** {users} users",
        f"**Graph:** {graph}" + (f" — who follows whom; {man['follows']:,} follow ties"
                                 if isinstance(man.get("follows"), int) else ""),
        f"**Regions:** {region_text}" if region_text else "",
        f"**Topics:** {topics}" if topics else "",
        f"**Posting habits:** {arche}" if arche else "",
        (f"**Homophily:** {fmt_value(pop.get('homophily'))} (0 = interests independent of the graph, "
         "1 = everyone shares their neighbourhood's main topic)"
         + (f"; achieved assortativity {fmt(assort)}" if finite(assort) else "")),
        f"**Duration:** {doc.get('steps', '?')} days (one step is a day)",
    ]
    s.ul([i for i in items if i])
    campaigns = doc.get("campaigns") or []
    s.p("**The campaign" + ("s" if len(campaigns) > 1 else "") + "** "
        + ("(as run):" if f.kind == "run" else
           "(as written in the scenario; the variants below change parts of it):"))
    s.ul([describe_campaign(c) for c in campaigns])
    return s


def _section_design(f: Folder, doc: dict[str, Any], man: dict[str, Any], table: Table,
                    docs: dict[str, dict[str, Any]]) -> Section:
    s = Section("2. What was compared, and how", "design")
    changes = doc.get("variants") or {}
    n = table.max_n()
    kind = f.kind
    if kind == "run":
        variant = man.get("variant")
        what = f"variant **{variant}**" if variant else "the scenario as written"
        s.p(f"A single `perksim run` of {what}" + (f", {n} replicates" if n > 1 else ", one replicate")
            + f", seed {man.get('seed', doc.get('seed'))}.")
    else:
        s.p(f"`perksim {kind}`: {len(table.variants)} variant"
            f"{'s' if len(table.variants) != 1 else ''} × {n} replicate{'s' if n != 1 else ''}"
            + (f" × {len(table.points)} sweep values" if table.sweep else "")
            + f", master seed {man.get('seed', doc.get('seed'))}.")
    rows = []
    for i, variant in enumerate(table.variants):
        change = changes.get(variant)
        if change:
            what = "; ".join(describe_change(k, v) for k, v in change.items())
        elif kind == "run" and man.get("variant"):
            what = "the scenario's variant (already applied above)"
        else:
            what = "the scenario as written"
        vdoc = docs.get(variant, doc)
        rules = "; ".join(f"{c.get('brand')}: {describe_strategy(c.get('strategy', {}), c)}"
                          for c in vdoc.get("campaigns") or [])
        rows.append([f"**{variant}**" + (" (reference)" if i == 0 and len(table.variants) > 1 else ""),
                     what, rules])
    who = "who gets the perks"
    if table.sweep:
        who += f" (at the first sweep value, {_point_label(table, table.points[0])})"
    s.table(["variant", "what it changes", who], rows)
    if len(table.variants) == 1 and n > 1 and not table.sweep:
        s.p("Each replicate runs with its own seed, spawned from the master seed, so every "
            "replicate can be repeated exactly (`perksim run --replicate R`).")
    elif len(table.variants) > 1 or table.sweep:
        s.p("**Paired seeds (common random numbers):** replicate r of every variant"
            + (" and every sweep value" if table.sweep else "")
            + " runs with the same seed, so it starts from the same users, graph and scores; a "
            "difference between variants in the same replicate comes from what the variant "
            "changes, not from a luckier draw, and the report compares variants replicate by "
            "replicate (paired differences with 95% intervals).")
    failures = _read_csv(f.path / "failures.csv")
    if failures is not None and len(failures):
        first = str(failures.iloc[0].get("error", "")).strip()
        s.p(f"**{len(failures)} run{'s' if len(failures) != 1 else ''} failed** and "
            f"{'are' if len(failures) != 1 else 'is'} missing from every table below (see "
            f"failures.csv; the first error: `{first}`).")
    if table.sweep:
        sweep = doc.get("sweep") or {}
        items = [f"`{k}`: {', '.join(fmt_value(v) for v in vals)}"
                 for k, vals in (sweep.get("grid") or {}).items()]
        if sweep.get("samples"):
            items += [f"`{k}`: {sweep['samples']} Latin-hypercube samples between {fmt_value(lo)} "
                      f"and {fmt_value(hi)}" for k, (lo, hi) in (sweep.get("ranges") or {}).items()]
        if not items:
            items = [f"`{p}`: " + ", ".join(_point_label(table, q) for q in table.points)
                     for p in table.params]
        s.p("**Swept parameters** (every variant runs at every value):")
        s.ul(items)
    return s


def _section_figures(f: Folder, table: Table) -> Section:
    s = Section("3. Figures", "figures")
    if not f.figures:
        s.p("This folder has no figures (`perksim plot RESULTS_DIR` draws them).")
    for path in f.figures:
        s.blocks.append(Block("figure", {"path": path, "caption": figure_caption(path.stem, table.params)}))
    return s


def shown_metrics(f: Folder) -> list[str]:
    """The scenario's own metrics (its ``metrics:``) first, then the headline ones present."""
    present = set(f.comparison["metric"]) if "metric" in f.comparison else set()
    wanted = [*(f.document.get("metrics") or []), *KEY_METRICS]
    return [m for m in dict.fromkeys(wanted) if m in present]


def claims_checked(f: Folder) -> list[Any]:
    """The scenario's claims that apply to this folder, checked against its runs."""
    if not f.document.get("claims") or f.summary is None:
        return []
    from simulator.experiment.claims import check_claims
    from simulator.scenario.loader import validate_document

    try:
        scenario = validate_document(f.document, file=str(f.path / "scenario.yaml"),
                                     check_variants=False)
        return check_claims(scenario, f.summary)
    except (ValueError, KeyError):  # a folder from an older version: no claims to check
        return []


def _section_reading(f: Folder, table: Table) -> Section:
    s = Section("4. What the numbers say", "reading")
    metrics = shown_metrics(f)
    lines = reading(f.comparison, f.summary, metrics)
    if lines:
        s.p(lines[0])
        s.ul(lines[1:])
    if table.max_n() <= 1:
        s.p("The table: the final values (one run each, so no intervals).")
    else:
        rare = any(is_rare(r) for r in table.rows.values() if r["metric"] in KEY_METRICS)
        s.p("The table: mean and 95% interval over the replicates (bootstrap)"
            + ("; below it, Δ, the paired difference to the first variant (✱ = its 95% interval "
               "excludes 0)" if len(table.variants) > 1 and not table.sweep else "")
            + (f". *Rare*: fewer than {MIN_NONZERO} runs with a non-zero value, so no interval and "
               "no ✱; the replicates at which about that many are expected are given"
               if rare else "") + ".")
    for header, rows in summary_tables(table, metrics):
        s.table(header, rows)
    checked = claims_checked(f)
    if checked:
        held = sum(c.holds for c in checked)
        runs = table.max_n()
        s.p(f"**What the scenario claims, checked against these runs** ({held} of {len(checked)} "
            f"hold at {runs} replicate{'s' if runs != 1 else ''}; the claims were written for the "
            f"scenario's own size and replicate count):")
        s.ul([f"{'✔' if c.holds else '✘ does not hold here:'} {c.says} — {c.evidence}"
              for c in checked])
    return s


def summary_tables(table: Table, metrics: Sequence[str] = KEY_METRICS,
                   max_points: int = 12) -> list[tuple[list[str], list[list[str]]]]:
    """Key metrics × variants (or × sweep values, one table per variant and brand)."""
    metrics = [m for m in metrics if m in table.metrics]
    out = []
    for brand in table.brands:
        if table.sweep:
            points = _sorted_points(table)[:max_points]
            for variant in table.variants:
                header = [f"{brand} · {variant}"] + [_point_label(table, p) for p in points]
                rows = []
                for m in metrics:
                    cells = [f"`{m}`"]
                    for p in points:
                        r = table.get(variant, brand, m, p)
                        cells.append(_cell(r, False) if r else "")
                    rows.append(cells)
                out.append((header, rows))
            continue
        header = [brand, *table.variants]
        rows = []
        for m in metrics:
            cells = [f"`{m}`"]
            for v in table.variants:
                r = table.get(v, brand, m)
                cells.append(_cell(r, v != table.variants[0], table.get(table.variants[0], brand, m))
                             if r else "")
            rows.append(cells)
        out.append((header, rows))
    return out


def _cell(r: dict[str, Any], diff: bool, ref: dict[str, Any] | None = None) -> str:
    """Mean [interval] (rare: how rare, replicates needed), and the Δ to the first variant."""
    text = fmt(r["mean"])
    rare = is_rare(r)
    ci = fmt_ci(r["ci_low"], r["ci_high"])
    if rare:
        need = replicates_needed([r]).replace("about ", "~").replace("at least ", "≥ ")
        text += f" (rare: {rare_words(r)}; {need} needed)"
    elif ci:
        text += f" {ci}"
    if diff and finite(r["diff_mean"]) and diff_is_rare(r, ref) and _count(r.get("diff_n")) > 1:
        text += f"<br>Δ {fmt(r['diff_mean'], signed=True)} ({too_rare([r, ref])})"
    elif diff and finite(r["diff_mean"]) and finite(r["diff_ci_low"]):
        star = " ✱" if verdict(r["diff_ci_low"], r["diff_ci_high"], 1) != "noise" else ""
        text += f"<br>Δ {fmt(r['diff_mean'], signed=True)} " \
                f"{fmt_ci(r['diff_ci_low'], r['diff_ci_high'], signed=True)}{star}"
    return text


def _strategy_kinds(docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {v: {c.get("brand"): strategy_params(c.get("strategy", {})).get("kind")
                for c in d.get("campaigns") or []} for v, d in docs.items()}


def _section_notice(f: Folder, doc: dict[str, Any], table: Table,
                    docs: dict[str, dict[str, Any]]) -> Section:
    s = Section("5. Things to notice", "notice")
    users = f.manifest.get("users") or (doc.get("population") or {}).get("size")
    first = docs.get(table.variants[0], doc)
    perks = {c.get("brand"): int(c.get("perks", 0)) for c in first.get("campaigns") or []
             if strategy_params(c.get("strategy", {})).get("kind") != "outreach"}
    notes = things_to_notice(f.comparison, f.summary, _strategy_kinds(docs),
                             users if isinstance(users, int) else None, perks)
    s.ul(notes or ["Nothing stands out beyond the reading above."])
    return s


def _section_try(f: Folder) -> Section:
    s = Section("6. Things to try", "try")
    for why, cmd in things_to_try(f):
        s.p(why)
        s.code(cmd)
    return s


def _section_discussion(f: Folder, doc: dict[str, Any], table: Table,
                        docs: dict[str, dict[str, Any]]) -> Section:
    s = Section("7. Questions for discussion", "discussion")
    c = (doc.get("campaigns") or [{}])[0]
    brand = str(c.get("brand", "the brand"))
    topic = _topic_words(c.get("topic", "its topic"))
    region = _region_words(c.get("region", "national"))
    point = table.points[0] if table.sweep else None
    pout = _means(table, brand, "pout_fans", point) if brand in table.brands else {}
    auth = _means(table, brand, "authenticity", point) if brand in table.brands else {}
    pout_text = f" (here: {_compare_list(pout)})" if pout else ""
    auth_text = f" (here: {_compare_list(auth)})" if auth else ""
    s.ul([
        f"**Exclusivity.** {brand}'s offer is {_exclusivity_words(float(c.get('exclusivity', 0.5)))}. "
        "Does feeling chosen make people talk more about a brand? Is that worth the frustration of "
        "those who see the perk and did not get it? What would you measure in the real world to "
        "find out (the model's `exclusivity_boost` has no empirical anchor)?",
        f"**Fairness.** A score threshold, a search for {topic} fans in {region}, and a lottery "
        "exclude different people. Which exclusion is fair: by score, by interest, by place, or by "
        "chance? Users who never post cannot be found by search at all — does that matter?",
        f"**Authenticity.** Authenticity is the organic share of positive exposures{auth_text}. "
        "Is a paid mention by a real fan more authentic than one by a high scorer? Should it be "
        "labelled #ad even if the fan would have posted anyway?",
        f"**The people left out.** The mean pout of excluded fans{pout_text}. Pick one user from "
        "'Telling users' below: what would you say to them? Would published rules, or a lottery, "
        "feel fairer even if it reaches fewer fans?",
        "**Measuring influence.** The score measures volume and reach, not relevance. What should "
        "an 'influence' score measure, and who would game it?",
        "**Trusting the model.** Which assumption in section 8 would you change first, and which "
        "way would you expect the answer to move? Try it with `--set`.",
    ])
    return s


def _section_assumptions(doc: dict[str, Any], base: str) -> Section:
    s = Section("8. The model assumptions that matter most here", "assumptions")
    b = doc.get("behaviour") or {}
    procs = doc.get("processes") or {}
    campaigns = doc.get("campaigns") or []
    g = lambda key, default="?": fmt_value(b.get(key, default))  # noqa: E731

    def src(key: str) -> str:
        """``name = value (assumed)``: the parameter, its value here and where it comes from."""
        source = SOURCES.get(f"behaviour.{key}")
        kind = f", {source.kind}" if source else ""
        return f"{key} = {g(key)}{kind}"
    items = [
        ("The score measures volume and reach, never relevance: posts, followers and reactions "
         "per post, mapped so the mean is about 40 and about 5% score 63 or more.", "score"),
        ("Brands see only public signals: the score, follower counts, and what users post about "
         "and where they live; users who do not post cannot be found by search.", "strategies"),
        (f"A recipient mentions the brand with a chance that grows with the mention policy and with "
         f"how well the perk fits them; clear rules dampen it ({src('transparency_target_loss')}); "
         f"an exclusive framing raises it only if exclusivity_boost is above 0 (here: "
         f"{src('exclusivity_boost')}; Steinhoff & Palmatier 2016 found no effect on "
         "recipients).", "mentions"),
        (f"Fans talk about the brand on their own ({src('brand_talk')}): most adopters are "
         "persuaded by that talk, not by the campaign.", "mentions"),
        (f"Attention is limited: a follower sees a post with a chance that falls with the author's "
         f"audience ({src('attention_beta')}, from Markerly 2016 above 1k followers, extrapolated "
         f"below); paid mentions persuade less than organic ones ({src('persuasion_paid')} against "
         f"{src('persuasion_organic')}).", "exposure"),
        (f"Pout is relative deprivation: it needs seeing others' perks (in one's feed; hearing of "
         f"the programme: {src('publicity')}), wanting the product, feeling entitled — as a fan "
         f"({src('entitlement_fan')}) or after almost making it — and being left out; published "
         f"rules lower it ({src('transparency_relief')}) and so does an exclusive framing "
         f"({src('exclusivity_pout')}), as Steinhoff & Palmatier (2016) found; 'pouting' means pout "
         f"≥ {src('pout_threshold')}. Its size rests on assumptions: read it relative to other "
         "variants, not as an absolute.", "pout"),
    ]
    long_campaign = int(doc.get("steps", 60)) > 90 or any(int(c.get("waves", 1)) > 1 for c in campaigns)
    if procs.get("gaming", True):
        items.append((("Excluded users with a gaming habit post more and worse in proportion to their "
                       "pout" + (" — over a long campaign with several waves this can inflate scores."
                                 if long_campaign else " (small in a short, single-wave campaign).")),
                      "gaming"))
    items += [
        (f"Fans are the {fmt_value(100 * float(b.get('fan_quantile', 0.1)))}% most relevant users; "
         f"relevance outside the brand's region is scaled by region_mismatch = "
         f"{g('region_mismatch')}; interests are homophilous on the graph.", "initialization"),
        ("What each metric counts — reach counts only the campaign's own positive mentions, "
         "complaints are backlash (`reach_negative`, a cost), engaged reach counts fans beyond the "
         "recipients.", "observation"),
        ("Where every parameter comes from: measured, calibrated to a published target, or assumed "
         "with a plausible range to vary.", "calibration"),
    ]
    s.ul([f"{text} — {model_link(key, base)}" for text, key in items])
    return s


def _section_users(f: Folder, table: Table, docs: dict[str, dict[str, Any]]) -> Section:
    s = Section("Telling users", "users")
    if f.users is None:
        s.p("This folder has no users.csv, so no individual stories can be told.")
        return s
    first = table.variants[0]
    users = f.users[f.users["variant"] == first] if "variant" in f.users.columns else f.users
    if users.empty:
        users = f.users
    doc = docs.get(first, f.document)
    where = (f" at the first sweep value ({_point_label(table, table.points[0])})" if table.sweep else "")
    s.p(f"People behind the averages, from users.csv of the first variant, **{first}** "
        f"(replicate 0{where}). `perksim explain` re-runs that replicate exactly and tells the "
        "user's story: their score on the day of the allocation and its parts, the rule and how far "
        "they were from it, whether search could see them, what they saw, and their pout over time.")
    results_dir = str(f.path.resolve())
    any_user = False
    for c in doc.get("campaigns") or []:
        brand = str(c.get("brand"))
        found = telling_users(users, brand, c.get("strategy", {}), results_dir)
        kind = strategy_params(c.get("strategy", {})).get("kind")
        if kind not in ("score_threshold", "top_score"):
            rule = describe_strategy(c.get("strategy", {}), c)
            s.note(f"{brand} does not use a score bar in {first} ({rule}), so there is no closest miss.")
        for entry in found:
            any_user = True
            prefix = f"{brand}: " if len(doc.get("campaigns") or []) > 1 else ""
            s.p(f"**{prefix}{entry['role']}** — {entry['text']}")
            s.code(entry["command"])
    if not any_user:
        s.p("No user fits these descriptions in this run.")
    return s


# --- rendering ---------------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       max-width: 62rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 2px solid var(--line); }
.meta { color: var(--muted); font-size: .9rem; margin: 0 0 1rem; }
p, li { margin: .35rem 0; }
ul { padding-left: 1.3rem; }
li { margin: .45rem 0; }
code { font: .88em/1.4 "SFMono-Regular", Consolas, "Liberation Mono", monospace; background: var(--soft);
       padding: .05em .3em; border-radius: 3px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: .5rem .75rem;
      white-space: pre-wrap; word-break: break-all; margin: .3rem 0 .8rem; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .86rem; width: 100%; }
th, td { border: 1px solid var(--line); padding: .3rem .45rem; vertical-align: top; text-align: left; }
th { background: var(--soft); }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 1.5rem; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .3rem; }
.note { color: var(--muted); font-size: .92rem; border-left: 3px solid var(--line); padding-left: .75rem; }
a { color: var(--accent); }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  pre, table, li { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  figure img { max-height: 22cm; }
}
"""

_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")


def inline_html(text: str) -> str:
    """Inline Markdown (``code``, **bold**, [link](href), <br>) as escaped HTML."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(_escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(f"<code>{html.escape(m.group(1))}</code>")
        elif m.group(2) is not None:
            out.append(f"<strong>{inline_html(m.group(2))}</strong>")
        else:
            out.append(f'<a href="{html.escape(m.group(4), quote=True)}">{_escape(m.group(3))}</a>')
        pos = m.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _escape(text: str) -> str:
    return html.escape(text).replace("&lt;br&gt;", "<br>")


def render_html(title: str, meta: str, sections: Sequence[Section]) -> str:
    """A self-contained HTML page: inline CSS, figures as data URIs."""
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
             f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{inline_html(meta)}</p>']
    for s in sections:
        parts.append(f'<section id="{s.anchor}">')
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        for b in s.blocks:
            if b.kind == "p":
                parts.append(f"<p>{inline_html(b.content)}</p>")
            elif b.kind == "note":
                parts.append(f'<p class="note">{inline_html(b.content)}</p>')
            elif b.kind == "ul":
                parts.append("<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in b.content) + "</ul>")
            elif b.kind == "code":
                parts.append(f"<pre><code>{html.escape(b.content)}</code></pre>")
            elif b.kind == "table":
                head = "".join(f"<th>{inline_html(h)}</th>" for h in b.content["header"])
                body = "".join("<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in row) + "</tr>"
                               for row in b.content["rows"])
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif b.kind == "figure":
                path: Path = b.content["path"]
                parts.append(f'<figure><img src="{_data_uri(path)}" alt="{html.escape(path.stem)}">'
                             f"<figcaption><strong>{html.escape(path.name)}</strong> — "
                             f"{inline_html(b.content['caption'])}</figcaption></figure>")
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def render_markdown(title: str, meta: str, sections: Sequence[Section], folder: Path) -> str:
    """The Markdown twin: the same text, figures referenced relatively (figures/*.png)."""
    lines = [f"# {title}", "", meta, ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for b in s.blocks:
            if b.kind in ("p",):
                lines += [b.content.replace("<br>", " "), ""]
            elif b.kind == "note":
                lines += ["> " + b.content.replace("<br>", " "), ""]
            elif b.kind == "ul":
                lines += [f"- {i.replace('<br>', ' ')}" for i in b.content] + [""]
            elif b.kind == "code":
                lines += ["```sh", b.content, "```", ""]
            elif b.kind == "table":
                header = b.content["header"]
                lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
                lines.append("|" + "|".join("---" for _ in header) + "|")
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.content["rows"]]
                lines.append("")
            elif b.kind == "figure":
                path: Path = b.content["path"]
                rel = os.path.relpath(path, folder).replace(os.sep, "/")
                lines += [f"![{path.stem}]({rel})", "", f"*{path.name}* — {b.content['caption']}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _meta(f: Folder) -> str:
    man = f.manifest
    parts = [f"results folder `{f.path.name}`", f"kind: {f.kind}"]
    if man.get("finished"):
        parts.append(f"finished {str(man['finished'])[:19].replace('T', ' ')} UTC")
    version = (man.get("versions") or {}).get("perksim")
    if version:
        parts.append(f"perksim {version}")
    return " · ".join(parts)


def docs_base_for(folder: Path) -> str:
    """The href of docs/model.md as seen from ``folder``: relative to the repository checkout
    when there is one, else the repository path ``docs/model.md``."""
    target = REPO_ROOT / MODEL_DOC
    if target.is_file():
        try:
            return os.path.relpath(target, folder.resolve()).replace(os.sep, "/")
        except ValueError:  # another drive on Windows
            pass
    return MODEL_DOC


def write_report(folder: str | Path, docs_base: str | None = None) -> tuple[Path, Path]:
    """Write ``report.html`` (self-contained) and ``report.md`` into the results ``folder``.

    Works for folders of ``perksim run``, ``compare`` and ``sweep``; draws the figures first
    if the folder has none. ``docs_base`` is the href of ``docs/model.md`` used in links
    (default: relative to this checkout's docs, else ``docs/model.md``). Returns the two paths.
    """
    folder = Path(folder)
    f = load_folder(folder)
    base = docs_base if docs_base is not None else docs_base_for(folder)
    title, sections = build(f, base)
    meta = _meta(f)
    html_path, md_path = folder / "report.html", folder / "report.md"
    html_path.write_text(render_html(title, meta, sections), encoding="utf-8")
    md_path.write_text(render_markdown(title, meta, sections, folder), encoding="utf-8")
    return html_path, md_path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulator.views.report RESULTS_DIR...``: write the report of each folder."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m simulator.views.report", description=(
        "Write report.html (self-contained) and report.md into perksim results folders."))
    parser.add_argument("folders", nargs="+", type=Path, metavar="RESULTS_DIR")
    args = parser.parse_args(argv)
    written = 0
    for folder in args.folders:
        if not (folder / "summary.csv").is_file() and not (folder / "comparison.csv").is_file():
            print(f"skipped {folder}: no summary.csv, not a results folder of perksim",
                  file=sys.stderr)
            continue
        from simulator.experiment.results import ResultsFolderError

        try:
            paths = write_report(folder)
        except ResultsFolderError as exc:
            print(f"skipped {folder}: {exc}", file=sys.stderr)
            continue
        for path in paths:
            print(path)
        written += 1
    return 0 if written else 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
