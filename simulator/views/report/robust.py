"""A robustness study in words and tables (``perksim robust``, issue 11), from its tables
(:class:`~simulator.experiment.robust.study.RobustTables`) by pure functions.

For each variant against the reference and each metric shown, the shares of the sampled
assumptions in which the variant is better, worse or indistinguishable are read as one of
four findings: **robust** (better or worse in at least
:data:`~simulator.experiment.robust.verdicts.ROBUST_SHARE` of the samples), **no difference**
(indistinguishable that often), **undefined** (no verdict that often), or **split** — and a
split is never given a winner: it is told with its shares and the flip boxes, the conditions
under which each verdict holds. Every number these sentences quote is a cell of
:func:`share_rows` or :func:`flip_rows`, formatted by the same functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from simulator.experiment.robust.flips import EVERYWHERE, Flips
from simulator.experiment.robust.verdicts import INDISTINGUISHABLE, ROBUST_SHARE, UNDEFINED, WORDS
from simulator.model.metrics import HEADLINE
from simulator.views.report.vocabulary import finite, join

MAX_SPLITS = 8  # split comparisons told in sentences; the others are in the tables
MAX_PROMPTS = 4


def flip_sentences(flips: Flips) -> list[str]:
    """One sentence per box: ``relevance vs lottery, reach: p2 ≤ 0.3 → worse (286 of 300
    samples; tree accuracy 97%)``."""
    out = []
    for row in flips.boxes.itertuples(index=False):
        where = "everywhere" if row.condition == EVERYWHERE else row.condition
        out.append(f"{row.variant} vs {row.reference}, {row.metric}: {where} → {row.verdict} "
                   f"({row.agreeing} of {row.samples} samples; tree accuracy "
                   f"{100 * row.accuracy:.0f}%)")
    return out


def percent(share: float) -> str:
    """A share as a whole percentage, never rounded across :data:`ROBUST_SHARE` (0.8996 →
    ``89.9%``, not ``90%``), nor to 0% or 100% when it is neither (``<1%``, ``>99%``)."""
    if not finite(share):
        return "–"
    share = float(share)
    whole = round(100 * share)
    if (whole >= 100 * ROBUST_SHARE) != (share >= ROBUST_SHARE):
        return f"{math.floor(1000 * share) / 10:.1f}%"
    if whole == 0 and share > 0:
        return "<1%"
    if whole == 100 and share < 1:
        return ">99%"
    return f"{whole}%"


@dataclass(frozen=True)
class Pair:
    """One variant against the reference on one metric: its verdict counts and shares."""

    brand: str
    variant: str
    reference: str
    metric: str
    direction: int
    samples: int
    counts: dict[str, int]
    shares: dict[str, float]

    @property
    def finding(self) -> str:
        """``robust``, ``same`` (indistinguishable), ``undefined`` or ``split``: ``robust``
        only when better or worse holds in at least :data:`ROBUST_SHARE` of the samples."""
        if self.robust_verdict:
            return "robust"
        if self.shares.get(INDISTINGUISHABLE, 0.0) >= ROBUST_SHARE:
            return "same"
        return "undefined" if self.shares.get(UNDEFINED, 0.0) >= ROBUST_SHARE else "split"

    @property
    def robust_verdict(self) -> str | None:
        """``better`` or ``worse`` (``higher``/``lower``) when it holds in at least
        :data:`ROBUST_SHARE` of the samples, else ``None``."""
        return next((w for w in WORDS[self.direction]
                     if self.shares.get(w, 0.0) >= ROBUST_SHARE), None)

    def share_of(self, verdict: str) -> str:
        """The share of ``verdict`` as the shares table shows it."""
        return percent(self.shares.get(verdict, 0.0))

    def spread(self) -> str:
        """``better in 62%, indistinguishable in 30% and worse in 8%`` (largest first)."""
        seen = sorted(((s, v) for v, s in self.shares.items() if self.counts.get(v, 0)),
                      key=lambda sv: -sv[0])
        return join([f"{v} in {percent(s)}" for s, v in seen])


def pairs(shares: pd.DataFrame) -> list[Pair]:
    """The (brand, variant, metric) comparisons of ``robust_shares.csv``, in its order."""
    out = []
    shares = shares if "brand" in shares.columns else shares.assign(brand="")
    group = ["brand", "variant", "reference", "metric"]
    for key, part in shares.groupby(group, sort=False):
        brand, variant, reference, metric = (str(k) for k in key)
        samples = part["samples"].max()
        out.append(Pair(brand, variant, reference, metric, int(part["direction"].iloc[0]),
                        int(samples) if finite(samples) else 0,
                        dict(zip(part["verdict"].astype(str), part["count"].astype(int), strict=True)),
                        dict(zip(part["verdict"].astype(str), part["share"].astype(float),
                                 strict=True))))
    return out


def shown_metrics(shares: pd.DataFrame, scenario_metrics: Sequence[str] = ()) -> list[str]:
    """The metrics the report reads: the scenario's own ``metrics:`` that were judged, else the
    headline metrics that were."""
    judged = set(shares["metric"].astype(str))
    own = [m for m in dict.fromkeys(scenario_metrics) if m in judged]
    return own or [m for m in HEADLINE if m in judged]


def shown_pairs(shares: pd.DataFrame, metrics: Sequence[str]) -> list[Pair]:
    """The comparisons of ``metrics``, metric by metric in their order, variants in the
    table's order."""
    found = pairs(shares)
    return [p for m in metrics for p in found if p.metric == m]


def several_brands(found: Sequence[Pair]) -> bool:
    """Whether the comparisons span more than one brand (then every line names its brand)."""
    return len({p.brand for p in found}) > 1


def _who(p: Pair, brands: bool) -> str:
    return f"{p.brand}: **{p.variant}**" if brands else f"**{p.variant}**"


def share_rows(found: Sequence[Pair]) -> tuple[list[str], list[list[str]]]:
    """The shares table: per comparison, the share of the samples with each verdict, the
    samples and the finding; an ``undefined`` column only if any sample had no verdict."""
    undefined = any(p.counts.get(UNDEFINED, 0) for p in found)
    brands = several_brands(found)
    header = [*(["brand"] if brands else []), "variant", "against", "metric", "better", "worse",
              INDISTINGUISHABLE, *([UNDEFINED] if undefined else []), "samples", "finding"]
    rows = []
    for p in found:
        if p.direction:
            cells = [p.share_of("better"), p.share_of("worse")]
        else:  # no better direction: higher and lower
            cells = [f"higher {p.share_of('higher')}", f"lower {p.share_of('lower')}"]
        cells.append(p.share_of(INDISTINGUISHABLE))
        rows.append([*([p.brand] if brands else []), p.variant, p.reference, f"`{p.metric}`",
                     *cells, *([p.share_of(UNDEFINED)] if undefined else []), str(p.samples),
                     _finding_cell(p)])
    return header, rows


def _finding_cell(p: Pair) -> str:
    if p.finding == "robust":
        return f"**robust: {p.robust_verdict}**"
    return {"same": "no difference told", "undefined": "no verdict", "split": "split"}[p.finding]


def boxes_of(flips: Flips, p: Pair) -> pd.DataFrame:
    """The flip boxes of one comparison (``robust_flips.csv``)."""
    b = flips.boxes
    mask = (b["variant"].astype(str) == p.variant) & (b["metric"].astype(str) == p.metric)
    if "brand" in b.columns and p.brand:
        mask &= b["brand"].astype(str) == p.brand
    return b[mask]


def flips_at_all(flips: Flips, p: Pair) -> bool:
    """Whether the comparison's verdict changes with the assumptions: more than one box."""
    return len(boxes_of(flips, p)) > 1


def _agree(row) -> str:
    return f"{int(row.agreeing)} of {int(row.samples)} samples agree"


def condition(text: str) -> str:
    """A box's condition as inline code, one code span per parameter joined by "and";
    ``everywhere`` as a word."""
    if text == EVERYWHERE:
        return "everywhere"
    return " and ".join(f"`{part}`" for part in text.split(" and "))


def flip_rows(flips: Flips, found: Sequence[Pair]) -> tuple[list[str], list[list[str]]]:
    """The flip-box table of the comparisons ``found``: where, which verdict, how many samples
    the box holds and how many of them agree, and the accuracy of the tree."""
    brands = several_brands(found)
    header = [*(["brand"] if brands else []), "variant", "metric", "where", "verdict", "samples",
              "agreeing", "tree accuracy"]
    rows = []
    for p in found:
        for row in boxes_of(flips, p).itertuples(index=False):
            rows.append([*([p.brand] if brands else []), p.variant, f"`{p.metric}`",
                         condition(str(row.condition)), str(row.verdict), str(int(row.samples)),
                         str(int(row.agreeing)), percent(float(row.accuracy))])
    return header, rows


def robust_reading(found: Sequence[Pair], flips: Flips, replicates: int | None,
                   max_splits: int = MAX_SPLITS) -> tuple[list[str], list[Pair]]:
    """What the shares say, grouped: per variant its robust verdicts, then the metrics on which
    no difference could be told, then each split comparison (at most ``max_splits``) with its
    shares and flip boxes — never with a winner. Returns the sentences and the split
    comparisons told (their boxes go into the flip-box table)."""
    brands = several_brands(found)
    lines: list[str] = []
    keys = list(dict.fromkeys((p.brand, p.variant) for p in found))
    for key in keys:
        own = [p for p in found if (p.brand, p.variant) == key]
        robust = [p for p in own if p.finding == "robust"]
        if robust:
            words = {v: [p for p in robust if p.robust_verdict == v] for v in
                     dict.fromkeys(p.robust_verdict for p in robust)}
            said = "; ".join(f"{v} on " + join([f"`{p.metric}` ({p.share_of(v)})" for p in ps])
                             for v, ps in words.items())
            lines.append(f"{_who(robust[0], brands)} against {robust[0].reference}, "
                         f"**robust** (the same verdict in at least {percent(ROBUST_SHARE)} of "
                         f"the sampled assumptions): {said}.")
    for key in keys:
        same = [p for p in found if (p.brand, p.variant) == key and p.finding == "same"]
        if same:
            reps = f" at {replicates} replicates per sample" if replicates else ""
            lines.append(f"{_who(same[0], brands)} against {same[0].reference} — no difference "
                         "could be told on " + join([f"`{p.metric}` ({p.share_of(INDISTINGUISHABLE)})"
                                                     for p in same])
                         + f" of the sampled assumptions{reps}; a difference smaller than the "
                         "noise would not show.")
    undefined = [p for p in found if p.finding == "undefined"]
    if undefined:
        lines.append("No verdict on " + join([f"`{p.metric}` for {p.variant}" for p in undefined])
                     + ": too few runs had a value to compare.")
    splits = [p for p in found if p.finding == "split"]
    lines += [_split_sentence(p, flips, brands) for p in splits[:max_splits]]
    if len(splits) > max_splits:
        lines.append(f"{len(splits) - max_splits} more split comparisons: their shares are in "
                     "the table above, their flip boxes in robust_flips.csv.")
    return lines, splits[:max_splits]


def _split_sentence(p: Pair, flips: Flips, brands: bool) -> str:
    """A split in words: its shares, then where each decisive verdict (better, worse; higher,
    lower) holds, by its flip boxes; the other boxes are "elsewhere"."""
    head = (f"{_who(p, brands)} against {p.reference} on `{p.metric}` — split: {p.spread()} of "
            f"the sampled assumptions; no verdict holds in {percent(ROBUST_SHARE)} of them.")
    boxes = boxes_of(flips, p)
    decisive = boxes[boxes["verdict"].isin(WORDS[p.direction])]
    if len(boxes) <= 1 or decisive.empty:
        return head + (" No region of the space where it is better or worse: the flip boxes "
                       "(a tree of two conditions) find none, so those samples are scattered — "
                       "or noise.")
    told = "; ".join(f"{verdict} where {_where(part)}"
                     for verdict, part in decisive.groupby("verdict", sort=False))
    others = list(dict.fromkeys(boxes.loc[~boxes.index.isin(decisive.index), "verdict"]))
    if others:
        told += f"; {join(others, 'or')} elsewhere"
    return f"{head} {told[:1].upper()}{told[1:]}."


def robust_prompts(found: Sequence[Pair], flips: Flips, told: Sequence[Pair],
                   setting: str = "") -> list[str]:
    """Discussion prompts (at most :data:`MAX_PROMPTS`) built on the flip boxes of the split
    comparisons ``told``: first where the reference comes out ahead, then where a variant wins
    only in part of the space; when nothing flips, a prompt about what is robust.
    ``setting``: e.g. ``courtside, a sports brand in Los Angeles``."""
    where = f" for {setting}" if setting else ""
    ahead: dict[tuple[str, str, str], list[str]] = {}  # (reference, metric, where) → variants
    pays: dict[tuple[str, str, str], list[str]] = {}
    for p in told:
        boxes = boxes_of(flips, p)
        if p.direction == 0 or len(boxes) <= 1:
            continue
        for verdict, found_in in (("worse", ahead), ("better", pays)):
            text = _where(boxes[boxes["verdict"] == verdict])
            if text:
                found_in.setdefault((p.reference, p.metric, text), []).append(p.variant)
    prompts = [f"**Under which assumptions would the defenders of {ref} be right?** The study "
               f"finds {ref} ahead of {join(variants)} on `{metric}` only where {text}. Is "
               f"that plausible{where}? What would you measure to find out?"
               for (ref, metric, text), variants in ahead.items()]
    prompts += [f"**When does {join(variants, 'or')} pay off?** "
                f"{'It beats' if len(variants) == 1 else 'They beat'} {ref} on `{metric}` only "
                f"where {text}. Could a brand know, before choosing, whether it is in that part "
                "of the space?" for (ref, metric, text), variants in pays.items()]
    return prompts[:MAX_PROMPTS] if prompts else [_robust_prompt(found)]


def _where(boxes: pd.DataFrame) -> str:
    """The boxes' conditions with their agreement, joined by ``or`` (e.g. ``a > 1`` (5 of 6
    samples agree) or ``b ≤ 2`` (3 of 4 samples agree)); empty without boxes."""
    return " or ".join(f"{condition(str(row.condition))} ({_agree(row)})"
                       for row in boxes.itertuples(index=False))


def _robust_prompt(found: Sequence[Pair]) -> str:
    robust = [p for p in found if p.finding == "robust"]
    if robust:
        p = robust[0]
        return (f"**What could still overturn it?** {p.variant} is {p.robust_verdict} than "
                f"{p.reference} on `{p.metric}` across the sampled assumptions. Which assumption "
                "is missing from the scenario's `uncertainties:`, or which range is too narrow, "
                "that could change this? Add it and run the study again.")
    return ("**Nothing here is robust, and nothing flips cleanly.** Are the variants really "
            "alike, or are there too few replicates per sample to tell them apart? What would "
            "you change first: more replicates, more samples, or wider ranges?")
