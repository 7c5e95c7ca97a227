"""Text for the terminal: the tables ``perksim run``, ``compare``, ``sweep`` and ``robust``
print. The progress of long work is :class:`~simulator.views.progress.Progress` (re-exported
here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.experiment.statistics import MIN_NONZERO
from simulator.model.metrics import HEADLINE, METRICS
from simulator.views.columns import sweep_params
from simulator.views.fields import param_name
from simulator.views.progress import Progress

__all__ = ["KEY_METRICS", "SUMMARY_METRICS", "Progress", "format_comparison", "format_profile",
           "format_response", "format_robust", "format_summary", "response_table"]

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.schema import Scenario

SUMMARY_METRICS = METRICS  # every metric of docs/model.md §8, in the order of steps.csv
KEY_METRICS = HEADLINE  # the catalogue's headline metrics, in its order


def _fmt(v: object) -> str:
    """A number in a terminal table: fixed decimals (3 below 10, 1 above), so the columns of
    a metric line up. The report's prose uses ``views.report.vocabulary.fmt`` instead (about
    three significant digits, a typographic minus) and check-model ``validation.render.fmt``
    (percentages too): three readers, three rules, on purpose."""
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)  # type: ignore[arg-type]
    if v != v:
        return "–"
    if v.is_integer() and abs(v) >= 10:
        return f"{v:,.0f}"
    return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"


def format_summary(summary: pd.DataFrame) -> str:
    """The final metrics of one run: one row per metric, one column per brand."""
    table = pd.DataFrame({row["brand"]: [_fmt(row[m]) for m in SUMMARY_METRICS]
                          for row in summary.to_dict("records")}, index=SUMMARY_METRICS)
    return table.to_string()


def format_comparison(comparison: pd.DataFrame, metrics: list[str] = KEY_METRICS) -> str:
    """Mean [95% bootstrap interval] per metric (rows) and variant (columns), one block per
    brand; the paired difference to the first variant is marked * when its 95% interval
    excludes zero and the difference is not too rare to judge. A rare row (fewer than
    MIN_NONZERO runs with a non-zero count) shows how rare it is and the replicates needed
    instead of an interval."""
    blocks = []
    rare_seen = False
    for brand, part in comparison.groupby("brand", sort=False):
        cells: dict[str, list[str]] = {}
        for variant, rows in part.groupby("variant", sort=False):
            by_metric = rows.set_index("metric")
            col = []
            for m in metrics:
                text, rare = _cell(by_metric.loc[m])
                rare_seen |= rare
                col.append(text)
            cells[str(variant)] = col
        table = pd.DataFrame(cells, index=metrics).to_string()
        blocks.append(f"brand {brand}:\n{table}")
    return "\n\n".join(blocks) + _notes(rare_seen)


def _cell(r: pd.Series) -> tuple[str, bool]:
    """One row of comparison.csv as a cell: ``mean [low, high]``, ``*`` when the paired
    difference to the first variant excludes 0; and whether the row is rare (a note instead
    of the interval)."""
    text = _fmt(r["mean"])
    rare = _rare(r)
    if rare:
        text += f" ({_rare_note(r)})"
    elif r["n"] > 1 and np.isfinite(r["ci_low"]):
        text += f" [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
    lo, hi = r["diff_ci_low"], r["diff_ci_high"]
    if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0) \
            and not bool(r.get("diff_rare", False)):
        text += " *"
    return text, rare


def _notes(rare_seen: bool) -> str:
    note = "\n(* paired difference to the first variant: 95% interval excludes 0)"
    if rare_seen:
        note += (f"\n(rare, few runs: fewer than {MIN_NONZERO} runs with a count ≠ 0, so no interval; "
                 f"* only where the paired differences are not that rare; reps needed: replicates "
                 f"that give ~{MIN_NONZERO} such runs, ≥ if none seen)")
    return note


MAX_RESPONSE_POINTS = 24  # sweep points in the terminal's response table; more: comparison.csv


def response_table(comparison: pd.DataFrame, metrics: Sequence[str] = KEY_METRICS,
                   scenario: Scenario | None = None) -> tuple[dict[str, pd.DataFrame], bool]:
    """The cells of :func:`format_response`, per brand: a table with a row per metric and
    sweep value (the swept fields named in words, :func:`~simulator.views.fields.param_name`)
    and a column per variant; and whether a cell is rare."""
    params = sweep_params(comparison)
    brands = list(dict.fromkeys(comparison["brand"].astype(str)))
    names = [param_name(p, scenario, len(brands)) for p in params]
    shown = [m for m in metrics if m in set(comparison["metric"])]
    tables: dict[str, pd.DataFrame] = {}
    rare_seen = False
    for brand, part in comparison.groupby(comparison["brand"].astype(str), sort=False):
        points = part.drop_duplicates("point").set_index("point")[params]
        cells: dict[str, list[str]] = {}
        for variant, rows in part.groupby(part["variant"].astype(str), sort=False):
            by = rows.set_index(["metric", "point"])
            col = []
            for metric in shown:
                for point in points.index:
                    text, rare = _cell(by.loc[(metric, point)]) \
                        if (metric, point) in by.index else ("–", False)
                    rare_seen |= rare
                    col.append(text)
            cells[variant] = col
        index = pd.MultiIndex.from_tuples(
            [(metric, *(_fmt_value(v) for v in values)) for metric in shown
             for values in points.itertuples(index=False)], names=["metric", *names])
        tables[brand] = pd.DataFrame(cells, index=index)
    return tables, rare_seen


def _fmt_value(v: object) -> str:
    """A swept value as the scenario would write it (``40``, ``0.25``, ``top``)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def format_response(comparison: pd.DataFrame, metrics: Sequence[str] = KEY_METRICS,
                    scenario: Scenario | None = None) -> str:
    """What ``perksim sweep`` prints: per brand, the mean [95% bootstrap interval] of each
    metric (in ``metrics``' order) by sweep value (rows) and variant (columns) — the rows of
    ``comparison.csv`` (its means and intervals; ``*`` and the rare notes as in
    :func:`format_comparison`). ``scenario`` names a swept campaign field by its brand when
    there are several. A table without sweep points is :func:`format_comparison`'s; more
    than ``MAX_RESPONSE_POINTS`` points are left to comparison.csv."""
    if not sweep_params(comparison):
        return format_comparison(comparison, list(metrics))
    points = comparison["point"].nunique()
    if points > MAX_RESPONSE_POINTS:
        return (f"({points} sweep points: too many for the terminal; the mean and 95% interval "
                "of each metric by point and variant are in comparison.csv)")
    tables, rare_seen = response_table(comparison, metrics, scenario)
    blocks = [f"brand {brand}: mean [95% interval] by "
              f"{' and '.join(n for n in table.index.names[1:])} (rows) and variant (columns)\n"
              f"{table.to_string(sparsify=True)}" for brand, table in tables.items()]
    return "\n\n".join(blocks) + _notes(rare_seen)


def _rare(row: pd.Series) -> bool:
    """A rare row of comparison.csv (a single run is not called rare: it has no interval)."""
    return bool(row.get("rare", False)) and row.get("runs", row["n"]) > 1


def _rare_note(row: pd.Series) -> str:
    """``rare: 2/20 runs ≠ 0, ~50 reps needed`` (``≥34`` when no run was non-zero; ``few runs``
    when every run was non-zero but there are fewer than MIN_NONZERO)."""
    runs, nonzero = int(row.get("runs", row["n"])), int(row["nonzero"])
    need = row["replicates_needed"]
    bound = "≥" if bool(row.get("replicates_needed_is_lower_bound", False)) else "~"
    head = f"few runs: {runs}" if nonzero == runs else f"rare: {nonzero}/{runs} runs ≠ 0"
    return f"{head}, {bound}{_fmt(int(need))} reps needed"


VERDICT_SHORT = {"better": "better", "worse": "worse", "indistinguishable": "same",
                 "undefined": "n/a"}


def format_robust(tables: Any, metrics: list[str] = KEY_METRICS) -> str:
    """A robustness study in the terminal: per brand, metric (rows) and variant (columns), the
    share of the sampled assumptions in which the variant is better than the reference beyond
    noise, worse, or the same (``R`` marks better or worse in at least the robust share); then the
    assumption that moves each difference most (rank 1 of the indices)."""
    from simulator.experiment.robust.verdicts import ROBUST_SHARE

    shares = tables.shares
    blocks = []
    for brand, part in shares.groupby("brand", sort=False):
        reference = str(part["reference"].iloc[0])
        shown = [m for m in metrics if m in set(part["metric"])]
        cells: dict[str, list[str]] = {}
        for variant, rows in part.groupby("variant", sort=False):
            col = []
            for metric in shown:
                own = rows[rows["metric"] == metric].set_index("verdict")
                words = []
                for verdict in ("better", "worse", "indistinguishable"):
                    if verdict in own.index and own.loc[verdict, "count"] > 0:
                        share = float(own.loc[verdict, "share"])
                        mark = (" R" if share >= ROBUST_SHARE and verdict != "indistinguishable"
                                else "")
                        words.append(f"{VERDICT_SHORT[verdict]} {100 * share:.0f}%{mark}")
                col.append(" · ".join(words) or "n/a")
            cells[f"{variant} vs {reference}"] = col
        table = pd.DataFrame(cells, index=shown).to_string()
        lines = [f"brand {brand}: share of the sampled assumptions where each variant is "
                 f"better / worse / the same as {reference} (paired, beyond noise)", table]
        if tables.indices is not None:
            top = tables.indices[(tables.indices["brand"].astype(str) == str(brand))
                                 & (tables.indices["rank"] == 1)
                                 & tables.indices["metric"].isin(shown)]
            top = top[top["value"].notna()].drop_duplicates(["variant", "metric"])
            if len(top):
                lines.append("what moves each difference most:")
                lines += [f"  {r.variant} − {r.reference}, {r.metric}: {r.parameter}"
                          for r in top.itertuples(index=False)]
        blocks.append("\n".join(lines))
    note = (f"(R: a robust verdict, better or worse in at least {100 * ROBUST_SHARE:.0f}% of the "
            "samples; 'same' is no verdict: a difference smaller than the noise would not show. "
            "The flip conditions are in robust_flips.csv and the report)")
    return "\n\n".join(blocks) + "\n" + note


def format_profile(table: pd.DataFrame, users: int, steps: int) -> str:
    """``perksim run --profile``: seconds, share of the run and (step phases) microseconds per
    user-step of each phase, then the totals."""
    lines = [f"{'phase':<24} {'seconds':>9} {'share':>7} {'µs/user-step':>13}  covers"]
    for part, rows in table.groupby("part", sort=False):
        lines.append(f"{'building' if part == 'build' else 'stepping'}:")
        for r in rows.itertuples(index=False):
            per = "" if r.us_per_user_step != r.us_per_user_step else f"{r.us_per_user_step:.3f}"
            lines.append(f"  {r.phase:<22} {r.seconds:>9.3f} {100 * r.share:>6.1f}% {per:>13}  "
                         f"{r.covers}")
    build = float(table.loc[table["part"] == "build", "seconds"].sum())
    step = float(table.loc[table["part"] == "step", "seconds"].sum())
    per = 1e6 * step / (users * steps) if users and steps else float("nan")
    lines.append(f"total {build + step:.3f} s: building {build:.3f} s, stepping {step:.3f} s "
                 f"({users:,} users × {steps} steps: {per:.3f} µs per user-step)")
    return "\n".join(lines)
