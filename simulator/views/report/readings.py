"""The reading: what the comparison table says, metric by metric, in sentences (inline
Markdown), generated from the numbers by pure functions.

A variant is said to *lead* on a metric only when the paired 95% interval of its difference
to every other variant excludes 0 in the better direction; a difference whose interval
contains 0 is called not distinguishable from noise; a single run (n = 1) gets no interval
and no verdict; a metric too rare to compare gets none either. Sweeps are read in
:mod:`simulator.views.report.sweeps`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from simulator.views.report.phrasing import (
    diff_is_rare,
    is_rare,
    opposite,
    too_rare,
    too_rare_sentence,
    verdict,
)
from simulator.views.report.sweeps import sweep_reading
from simulator.views.report.tables import Table, brand_prefix, clean, paired_difference
from simulator.views.report.vocabulary import (
    CONFIDENCE,
    KEY_METRICS,
    direction,
    finite,
    fmt,
    fmt_ci,
    join,
    metric_label,
)


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
        return sweep_reading(table, clean(summary), metrics)
    if table.max_n() <= 1:
        return _single_reading(table, metrics)
    return _compare_reading(table, clean(summary), metrics)


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
                out.append(f"{brand_prefix(table, brand)}{metric_label(metric)}: {', '.join(cells)}"
                           + (" — one run each, so no verdict." if several else "."))
    return out


def pair_verdict(table: Table, summary: pd.DataFrame | None, metric: str, brand: str,
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
        return opposite(verdict(row["diff_ci_low"], row["diff_ci_high"], sign,
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
    verdicts = {(x, y): pair_verdict(table, summary, metric, brand, x, y, point)
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
            text = f"{brand_prefix(table, brand)}{metric_label(metric)}: "
            if len(table.variants) > 1:
                text += _leader_sentence(table, summary, metric, brand) + " "
            elif any(is_rare(r) for r in rows):
                text += too_rare_sentence(rows) + " "
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
    rare = too_rare_sentence(rows)
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
            v = pair_verdict(table, summary, metric, brand, x, y, point)
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
                f"{join(untested)}; only differences to the first variant are in comparison.csv).")
    wins = "; ".join(f"{x} is ahead of {join(ys)}" for x, ys in ahead.items())
    text = f"No single variant leads. Beyond noise, {wins}."
    if noise:
        text += (f" Not distinguishable from noise: {join(noise)}." if len(noise) <= 3
                 else " Every other difference is within noise.")
    if untested:
        text += (f" Not tested: {join(untested)} (only differences to the first variant are in "
                 "comparison.csv).")
    return text


def _pairs_text(table: Table, summary: pd.DataFrame | None, metric: str, brand: str, point: Any,
                variants: Sequence[str]) -> str:
    """`` Of the others, …`` — the verdicts between the variants that are not rare."""
    ahead, noise, untested = [], [], []
    for i, x in enumerate(variants):
        for y in variants[i + 1:]:
            v = pair_verdict(table, summary, metric, brand, x, y, point)
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
        parts.append(f"not distinguishable from noise: {join(noise)}")
    if untested:
        parts.append(f"not tested: {join(untested)}")
    return f" Of the others, {'; '.join(parts)}." if parts else ""
