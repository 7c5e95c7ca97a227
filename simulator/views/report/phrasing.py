"""The statistics in words: the verdict of an interval (better, worse, noise, unknown, rare)
and the sentences for metrics too rare to compare at the replicate count that was run.

A difference is a verdict only when its paired 95% interval excludes 0; a metric with fewer
than ``MIN_NONZERO`` runs with a non-zero value (``rare`` in ``comparison.csv``) gets none."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from simulator.experiment.statistics import MIN_NONZERO
from simulator.views.report.vocabulary import cap, finite, join


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


def opposite(v: str) -> str:
    """The verdict seen from the other side of the pair."""
    return {"better": "worse", "worse": "better", "higher": "lower", "lower": "higher"}.get(v, v)


def count(v: Any) -> int:
    """A count from a table cell (0 when missing)."""
    return int(float(v)) if finite(v) else 0


def is_rare(row: dict[str, Any] | None) -> bool:
    """Whether a comparison row is too rare to compare: fewer than ``MIN_NONZERO`` runs with a
    finite, non-zero value (the ``rare`` column; tables without it, from older versions, are
    taken as not rare). A single run is never called rare: it has no interval anyway."""
    if row is None or count(row.get("runs", row.get("n"))) <= 1:
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
    nonzero, runs = count(row.get("nonzero")), count(row.get("runs", row.get("n")))
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


def too_rare(rows: Iterable[dict[str, Any] | None], where: str = "") -> str:
    """``too rare to compare at this replicate count``, or ``too few replicates to compare``
    when there are fewer replicates than ``MIN_NONZERO`` (so every row is rare); ``where``
    (sweep values) is said after ``compare at``."""
    few = all(count(r.get("runs", r.get("n"))) < MIN_NONZERO for r in rows if is_rare(r))
    at = f" at {where}" if where else ""
    if few:
        return f"too few replicates to compare{at}"
    return f"too rare to compare{at} with this many replicates" if where else \
        "too rare to compare at this replicate count"


def too_rare_sentence(rows: Sequence[dict[str, Any]]) -> str:
    """The sentence for a metric with rare rows: which, and how many replicates would do."""
    rare = [r for r in rows if is_rare(r)]
    if not rare:
        return ""
    which = join([f"{r['variant']} ({rare_words(r)})" for r in rare])
    return (f"{cap(too_rare(rare))} — fewer than {MIN_NONZERO} runs with a non-zero value for "
            f"{which}: {replicates_needed(rare)} would be needed.")
