"""A scenario's findings, checked against its results (``claims:``; docs/reference/scenario.md).

A finding is code, not prose: each claim names a metric, the variants it is about and what it
says of them; :func:`check_claims` decides from a ``summary`` table (one row per run) whether
it holds. Differences are paired by replicate (and brand and sweep point) and judged with the
bootstrap interval used everywhere else (:func:`simulator.experiment.statistics.mean_interval`); a
difference that rests on too few events (:func:`simulator.experiment.statistics.differences_rare`)
supports no ``better``/``higher``/``lower`` claim, and ``rare`` claims that a metric is too
rare to compare (:func:`simulator.experiment.statistics.rarity`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.experiment.statistics import (
    counts_events,
    differences_rare,
    interval_label,
    mean_interval,
    rarity,
)
from simulator.model.metrics import BY_NAME
from simulator.scenario.checks import grid_key
from simulator.scenario.schema import Claim, Scenario


@dataclass(frozen=True)
class ClaimResult:
    """One claim and what the run says of it."""

    claim: Claim
    holds: bool
    evidence: str  # the numbers behind the verdict, in words

    @property
    def says(self) -> str:
        """The claim in words, as the scenario states it."""
        return self.claim.says

    def to_text(self) -> str:
        """``holds: <claim> — <evidence>`` (``FAILS: …`` if it does not hold), one line."""
        return f"{'holds' if self.holds else 'FAILS'}: {self.claim.says} — {self.evidence}"


def applies(claim: Claim, sweep: bool) -> bool:
    """Claims with ``at:`` are about sweep points (``perksim sweep``), the others about
    ``perksim compare``."""
    return (claim.at is not None) == sweep


def _num(v: float, signed: bool = False) -> str:
    """Three significant digits, whole numbers from 100 on (1,055 rather than 1.06e+03)."""
    if not np.isfinite(v):
        return "–"
    sign = "+" if signed else ""
    text = f"{v:{sign},.0f}" if abs(v) >= 100 else f"{v:{sign}.3g}"
    return text.replace("-", "−")


def _runs(summary: pd.DataFrame, claim: Claim, brand: str, variant: str) -> pd.DataFrame:
    rows = summary[(summary["variant"] == variant) & (summary["brand"] == brand)]
    columns = {c: c for c in summary.columns}
    for key, value in (claim.at or {}).items():
        column = grid_key(key, columns)  # the swept field's column, however the path is written
        if column is None:
            raise KeyError(f"no column for the sweep field {key!r} in the summary")
        rows = rows[np.isclose(rows[column].astype(float), float(value))]
    return rows


def _values(summary: pd.DataFrame, claim: Claim, brand: str, variant: str) -> pd.Series:
    """The claim's metric for ``variant``, one value per replicate."""
    rows = _runs(summary, claim, brand, variant)
    return rows.set_index("replicate")[claim.metric].astype(float)


def _rare_note(values: pd.Series, variant: str) -> str:
    r = rarity(values.to_numpy())
    need = r["replicates_needed"]
    more = f"≥ {need}" if r["replicates_needed_is_lower_bound"] else f"~{need}"
    return (f"{variant}: only {r['nonzero']} of {r['runs']} runs ≠ 0, too rare to compare "
            f"({more} replicates needed)")


def _paired(summary: pd.DataFrame, claim: Claim, brand: str, a: str, b: str,
            sign: int) -> tuple[bool, str]:
    """Does a − b have the sign ``sign`` (+1, −1) beyond noise (0: indistinguishable)?"""
    va, vb = _values(summary, claim, brand, a), _values(summary, claim, brand, b)
    diff = (va - vb.reindex(va.index)).to_numpy()
    if sign != 0 and differences_rare(diff, counts_events(claim.metric)):
        # a difference made of a handful of events: nothing to judge (a structural zero on
        # one side against a value in every run on the other is not rare: the differences are not)
        return False, _rare_note(pd.Series(diff), f"{a} − {b}")
    label = interval_label("claim", brand, claim.metric, a, b, *sorted((claim.at or {}).items()))
    mean, _sd, low, high, n = mean_interval(diff, label)
    if n < 2:
        return False, f"fewer than two paired runs of {a} and {b}"
    evidence = (f"{a} − {b} = {_num(mean, True)} [{_num(low, True)}, {_num(high, True)}] "
                f"(95% bootstrap interval, {n} paired runs; means {_num(float(va.mean()))} vs "
                f"{_num(float(vb.mean()))})")
    if sign == 0:
        return bool(low <= 0 <= high), evidence
    return bool(low > 0 if sign > 0 else high < 0), evidence


def check_claim(claim: Claim, summary: pd.DataFrame, scenario: Scenario) -> ClaimResult:
    """Whether ``claim`` holds in ``summary`` (the runs of ``scenario``'s experiment)."""
    brand = claim.brand or scenario.campaigns[0].brand
    form = claim.form
    metric = BY_NAME[claim.metric]
    if form in ("better", "higher", "lower"):
        a = getattr(claim, form)
        sign = {"better": metric.better, "higher": 1, "lower": -1}[form]
        holds, evidence = _paired(summary, claim, brand, a, claim.than, sign)
    elif form == "same":
        holds, evidence = _paired(summary, claim, brand, claim.same[0], claim.same[1], 0)
    elif form == "rare":
        values = _values(summary, claim, brand, claim.rare)
        holds = bool(rarity(values.to_numpy())["rare"])
        evidence = (_rare_note(values, claim.rare) if holds else
                    f"{claim.rare}: {rarity(values.to_numpy())['nonzero']} of {values.size} runs ≠ 0 "
                    "— not rare")
    else:  # variant or ratio, with between
        lo, hi = claim.between
        if form == "variant":
            values = _values(summary, claim, brand, claim.variant)
            value = float(values.mean())
            what = f"mean of {claim.variant} over {values.size} runs"
        else:
            a, b = claim.ratio
            mean_a = float(_values(summary, claim, brand, a).mean())
            mean_b = float(_values(summary, claim, brand, b).mean())
            value = mean_a / mean_b if mean_b else float("nan")
            what = f"mean of {a} / mean of {b} ({_num(mean_a)} / {_num(mean_b)})"
        holds = bool(np.isfinite(value) and lo <= value <= hi)
        evidence = f"{what} = {_num(value)}, claimed {_num(lo)} to {_num(hi)}"
    return ClaimResult(claim=claim, holds=holds, evidence=f"{claim.metric}: {evidence}")


def check_claims(scenario: Scenario, summary: pd.DataFrame,
                 sweep: bool | None = None) -> list[ClaimResult]:
    """Check the scenario's claims that apply to ``summary``: those with ``at:`` against a
    sweep's summary (it has a ``point`` column), the others against a comparison's."""
    is_sweep = "point" in summary.columns if sweep is None else sweep
    return [check_claim(c, summary, scenario) for c in scenario.claims if applies(c, is_sweep)]


def describe(results: list[ClaimResult]) -> str:
    """The claims and whether each holds, one per line, for the terminal."""
    if not results:
        return ""
    held = sum(r.holds for r in results)
    lines = [f"claims: {held} of {len(results)} hold"]
    lines += [f"  {r.to_text()}" for r in results]
    return "\n".join(lines)
