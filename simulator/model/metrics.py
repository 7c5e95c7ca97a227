"""Per-step observations for every brand (docs/model.md §8).

The metric catalogue (:data:`CATALOGUE`) is the one place a metric is declared: its name,
words, direction and kind. ``brand_metrics`` computes one row of the tidy ``steps`` table:
the built-in metrics in one pass, then every metric that carries its own ``compute``.

A metric of your own is one :class:`Metric` with a ``compute`` function, registered with
:func:`add_metric`: it then is a column of ``steps.csv`` and ``summary.csv``, a row of
``comparison.csv``, has its label in the figures and its words in the report, and is in the
command line's tables when it is a headline metric. The catalogue and the lists derived from
it (:data:`METRICS`, :data:`HEADLINE`, :data:`STEP_COLUMNS`, :data:`BY_NAME`) are changed in
place, so every module that imported them sees it. Worker processes (the ``local`` and
``dask`` executors) start afresh and do not see a metric registered in this process: register
it in a module the workers import too, or run with the serial executor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from simulator.model.dynamics import ORIGIN_CAMPAIGN, ORIGIN_CHAIN
from simulator.model.dynamics import closeness as dyn_closeness

if TYPE_CHECKING:  # pragma: no cover
    from simulator.model.campaign import Brand, PerkCampaignModel

NAN = float("nan")


@dataclass(frozen=True)
class Metric:
    """What one metric is: the single place its name, words and direction are declared.

    ``better``: +1 more is better, −1 less is better, 0 neither (a quantity, not a goal).
    ``kind``: ``count`` (users, mentions, perks), ``share`` (0–1), ``cost`` or ``score`` —
    every metric is ≥ 0, and shares are ≤ 1.
    ``compute``: ``compute(model, brand)`` gives the metric's value at the model's current
    step; ``None`` for the built-in metrics, which ``brand_metrics`` computes together. It
    takes no part in comparing or hashing metrics.
    """

    name: str
    label: str
    unit: str
    better: int
    words: str
    kind: str = "count"
    headline: bool = False
    compute: Callable[[PerkCampaignModel, Brand], float | int] | None = field(
        default=None, compare=False, repr=False)

    @property
    def upper(self) -> float:
        """The largest value the metric can take (inf when unbounded)."""
        return 1.0 if self.kind == "share" else 100.0 if self.kind == "score" else float("inf")


CATALOGUE: list[Metric] = [
    Metric("reach", "Reach (campaign's own positive mentions)", "users", +1,
           "users reached by the campaign's own positive mentions — not by complaints, not by "
           "fans' own talk", headline=True),
    Metric("reach_organic", "Organic reach of the campaign", "users", +1,
           "users reached by organic mentions the campaign caused (outreach contacts and the "
           "adopters it persuaded)"),
    Metric("reach_paid", "Paid reach", "users", 0, "users reached by a paid mention"),
    Metric("reach_all", "All exposure (incl. complaints and fans' talk)", "users", 0,
           "users exposed to any mention of the brand: the campaign's, fans' own talk and "
           "complaints — not a success measure"),
    Metric("engaged_reach", "Engaged reach (fans reached, not recipients)", "users", +1,
           "fans reached by the campaign's own positive mentions, recipients not counted",
           headline=True),
    Metric("adopters", "Adopters, all", "users", +1,
           "users who adopted, whatever persuaded them, fans' own talk included; perk "
           "recipients are not counted", headline=True),
    Metric("adopters_campaign", "Adopters the campaign persuaded", "users", +1,
           "users the campaign persuaded, directly or through a chain of adopters", headline=True),
    Metric("chain_share", "Chain adoptions (depth ≥ 2)", "share, 0–1", 0,
           "share of the campaign's adopters persuaded through a chain (two or more steps "
           "from a seed)", kind="share"),
    Metric("mentions_paid", "Paid mentions, cumulative", "mentions", 0, "paid mentions posted"),
    Metric("mentions_organic", "Organic mentions, cumulative", "mentions", +1,
           "organic mentions posted (fans' own talk, adopters, outreach contacts)"),
    Metric("mentions_negative", "Negative mentions, cumulative", "mentions", -1,
           "complaints posted by pouting users"),
    Metric("authenticity", "Authenticity (organic share of positive exposures)", "share, 0–1", +1,
           "share of the brand's positive exposures that were organic rather than paid",
           kind="share", headline=True),
    Metric("recipient_fit", "Recipient fit (mean relevance of recipients)", "relevance, 0–1", +1,
           "mean relevance of the recipients to the brand", kind="share", headline=True),
    Metric("perks_given", "Perks given", "perks", 0, "perks handed out"),
    Metric("cost", "Cost", "cost units", -1, "what the perks (or contacts) cost", kind="cost"),
    Metric("cost_per_engaged_reach", "Cost per engaged fan", "cost units per user", -1,
           "cost per fan reached", kind="cost", headline=True),
    Metric("cost_per_adopter", "Cost per adopter persuaded", "cost units per user", -1,
           "cost per adopter the campaign persuaded", kind="cost"),
    Metric("fan_coverage", "Fan coverage (share of fans given a perk)", "share, 0–1", +1,
           "share of the brand's fans who received a perk", kind="share"),
    Metric("pout_mean", "Pout of the excluded", "mean pout, 0–1", -1,
           "mean pout of all users left out", kind="share"),
    Metric("pout_fans", "Pout of excluded fans", "mean pout, 0–1", -1,
           "mean pout of the fans left out", kind="share", headline=True),
    Metric("pout_near_miss", "Pout of near misses", "mean pout, 0–1", -1,
           "mean pout of excluded users who almost made the score bar (within closeness_scale "
           "of it, or above it without a perk)", kind="share"),
    Metric("pout_from_mentions", "Fans' pout from paid mentions seen", "share of pout, 0–1", 0,
           "share of excluded fans' pout that came from seeing paid mentions", kind="share"),
    Metric("pout_from_displays", "Fans' pout from perks shown on profiles", "share of pout, 0–1", 0,
           "share of excluded fans' pout that came from perks shown on profiles", kind="share"),
    Metric("pout_from_publicity", "Fans' pout from publicity", "share of pout, 0–1", 0,
           "share of excluded fans' pout that came from hearing of the programme", kind="share"),
    Metric("pouting_share", "Pouting share (pout ≥ threshold)", "share of users, 0–1", -1,
           "share of all users with pout at or above the pouting threshold", kind="share",
           headline=True),
    Metric("coverage_ratio", "Coverage ratio (least- / best-served group)", "ratio, 0–1", +1,
           "perk rate of the least-served group / best-served group, 1 = even", kind="share",
           headline=True),
    Metric("reach_maximin", "Reach of the least-reached group", "share, 0–1", +1,
           "reached share (as in reach) of the least-reached archetype or region",
           kind="share"),
    Metric("score_mean", "Mean score", "score, 1–100", 0, "mean score of all users",
           kind="score"),
    Metric("gaming_share", "Gaming share (post rate raised ≥ 10%)", "share of users, 0–1", -1,
           "share of users chasing the score (post rate raised by at least 10%)", kind="share"),
    Metric("gaming_score_gain", "Score gain of gamers", "score points", 0,
           "mean score rise since step 0 of the users chasing the score", kind="score"),
    Metric("reach_negative", "Backlash reach (complaints seen)", "users", -1,
           "users exposed to a complaint (or an undisclosed ad they recognised)", headline=True),
    Metric("contacts", "Outreach contacts", "contacts", 0, "outreach contacts made"),
    Metric("fans", "Fans of the brand", "users", 0, "number of fans of the brand"),
]
BY_NAME: dict[str, Metric] = {m.name: m for m in CATALOGUE}
# The columns of steps.csv / summary.csv, in order (docs/model.md §8).
METRICS = [m.name for m in CATALOGUE]
HEADLINE = [m.name for m in CATALOGUE if m.headline]
STEP_COLUMNS = ["step", "brand", *METRICS]
BUILT_IN: tuple[str, ...] = tuple(METRICS)  # the metrics of docs/model.md §8
KINDS = ("count", "share", "cost", "score")
# names a metric may not take: the other columns of the results tables
RESERVED = frozenset({"step", "brand", "variant", "replicate", "point", "metric", "seed"})
_COMPUTED: list[Metric] = []  # the registered metrics, each with its own compute

T = TypeVar("T")


class MetricView(Mapping[str, T]):
    """A read-only ``{metric name: value(metric)}`` of the catalogue as it is when read, so a
    metric registered later is in it too (a dict built at import would miss it)."""

    def __init__(self, value: Callable[[Metric], T]) -> None:
        self._value = value

    def __getitem__(self, name: str) -> T:
        return self._value(BY_NAME[name])

    def __iter__(self) -> Iterator[str]:
        return iter(list(METRICS))

    def __len__(self) -> int:
        return len(METRICS)


def add_metric(metric: Metric) -> Metric:
    """Add a metric of your own to the catalogue; returns it.

    ``metric.compute(model, brand)`` gives its value; it becomes the last column of the steps
    table (and everything drawn from it). The name must be new, lower case with underscores,
    and not a column of the results tables. Undo with :func:`remove_metric`.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", metric.name):
        raise ValueError(f"metric name {metric.name!r}: use lower case letters, digits and _")
    if metric.name in BY_NAME or metric.name in RESERVED:
        raise ValueError(f"metric name {metric.name!r} is taken")
    if metric.compute is None or not callable(metric.compute):
        raise ValueError(f"metric {metric.name!r} needs compute=f(model, brand)")
    if metric.kind not in KINDS:
        raise ValueError(f"metric {metric.name!r}: kind {metric.kind!r} is not one of {KINDS}")
    if metric.better not in (-1, 0, 1):
        raise ValueError(f"metric {metric.name!r}: better must be +1, -1 or 0")
    CATALOGUE.append(metric)
    BY_NAME[metric.name] = metric
    METRICS.append(metric.name)
    STEP_COLUMNS.append(metric.name)
    if metric.headline:
        HEADLINE.append(metric.name)
    _COMPUTED.append(metric)
    return metric


def remove_metric(name: str) -> None:
    """Take a metric added by :func:`add_metric` out of the catalogue again (built-in metrics
    cannot be removed)."""
    if name in BUILT_IN:
        raise ValueError(f"{name!r} is a built-in metric")
    metric = BY_NAME.pop(name)  # KeyError when there is no such metric
    CATALOGUE.remove(metric)
    METRICS.remove(name)
    STEP_COLUMNS.remove(name)
    if name in HEADLINE:
        HEADLINE.remove(name)
    _COMPUTED.remove(metric)

GAMING_FACTOR = 1.1  # a user "games" when their post rate is raised by at least 10 %


def _count(mask: np.ndarray) -> int:
    """How many entries of a boolean array are true (np.count_nonzero, as a Python int)."""
    return int(np.count_nonzero(mask))


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else NAN


def group_rates(mask: np.ndarray, groups: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Share of each (non-empty) group for which ``mask`` holds; ``size`` = group sizes."""
    hit = np.bincount(groups[mask], minlength=size.size)
    keep = size > 0
    return hit[keep] / size[keep]


def coverage_ratio(model: PerkCampaignModel, selected: np.ndarray) -> float:
    """min/max perk rate across archetypes and across regions (the lower of the two); 1 = even."""
    if not selected.any():
        return NAN
    ratios = [rates.min() / rates.max() for rates in
              (group_rates(selected, g, size) for g, size in model.population.groupings)]
    return float(min(ratios))


def reach_maximin(model: PerkCampaignModel, reached: np.ndarray) -> float:
    """Lowest reached fraction over archetype and region groups (Fish et al. 2019)."""
    return float(min(group_rates(reached, g, size).min() for g, size in model.population.groupings))


def _share_of(parts: np.ndarray, who: np.ndarray) -> list[float]:
    """Each column's share of the total of ``parts`` over the rows ``who``."""
    sums = np.take(parts, np.flatnonzero(who), axis=0).sum(axis=0)  # parts[who], faster
    total = float(sums.sum())
    return [float(x) / total if total > 0 else NAN for x in sums]


def near_misses(score: np.ndarray, cutoff: float | None, scale: float) -> np.ndarray:
    """Users who almost made it: closeness (§5.5) at least exp(−1), i.e. within about one
    ``scale`` below the cutoff. Closeness is computed only for users within 1.01 scales (a
    margin far above rounding), the others cannot qualify."""
    near = np.zeros(score.shape, dtype=bool)
    if cutoff is None:
        return near
    maybe = np.flatnonzero(score >= cutoff - 1.01 * scale)
    near[maybe] = dyn_closeness(score[maybe], cutoff, scale) >= np.exp(-1.0)
    return near


def brand_metrics(model: PerkCampaignModel, brand: Brand) -> dict[str, object]:
    """One row of the steps table for ``brand`` at the model's current step."""
    c = brand.index
    b = model.spec.behaviour
    totals = brand.totals
    selected = model.perk[:, c] > 0
    excluded = ~selected
    reached = model.reached_positive[:, c]
    engaged = _count(model.reached_without_perk[:, c] & brand.fans)
    pout = model.pout[:, c]
    excluded_fans = excluded & brand.fans
    positive_exposures = totals["exposures_organic"] + totals["exposures_paid_positive"]
    origin = model.origin[:, c]
    persuaded = _count(origin >= ORIGIN_CAMPAIGN)  # ORIGIN_CAMPAIGN or ORIGIN_CHAIN
    near = near_misses(model.score, brand.cutoff, b.closeness_scale) & excluded
    from_mentions, from_displays, from_publicity = _share_of(model.pout_parts[:, c, :], excluded_fans)
    gaming = model.post_factor >= GAMING_FACTOR
    row: dict[str, object] = {
        "step": model.t,
        "brand": brand.name,
        "reach": _count(reached),
        "reach_organic": _count(model.reached_organic[:, c]),
        "reach_paid": _count(model.reached_paid[:, c]),
        "reach_all": _count(model.aware[:, c]),
        "engaged_reach": engaged,
        "adopters": _count(model.adopted[:, c]),
        "adopters_campaign": persuaded,
        "chain_share": _ratio(_count(origin == ORIGIN_CHAIN), persuaded),
        "mentions_paid": int(totals["mentions_paid"]),
        "mentions_organic": int(totals["mentions_organic"]),
        "mentions_negative": int(totals["mentions_negative"]),
        "authenticity": _ratio(totals["exposures_organic"], positive_exposures),
        "recipient_fit": float(brand.relevance[selected].mean()) if selected.any() else NAN,
        "perks_given": int(totals["perks_given"]),
        "cost": float(totals["cost"]),
        "cost_per_engaged_reach": _ratio(totals["cost"], engaged),
        "cost_per_adopter": _ratio(totals["cost"], persuaded),
        "fan_coverage": _ratio(_count(selected & brand.fans), _count(brand.fans)),
        "pout_mean": float(pout[excluded].mean()) if excluded.any() else NAN,
        "pout_fans": float(pout[excluded_fans].mean()) if excluded_fans.any() else NAN,
        "pout_near_miss": float(pout[near].mean()) if near.any() else NAN,
        "pout_from_mentions": from_mentions,
        "pout_from_displays": from_displays,
        "pout_from_publicity": from_publicity,
        "pouting_share": _count(pout >= b.pout_threshold) / pout.size,
        "coverage_ratio": coverage_ratio(model, selected),
        "reach_maximin": reach_maximin(model, reached),
        "score_mean": float(model.score.mean()),
        "gaming_share": _count(gaming) / gaming.size,
        "gaming_score_gain": (float((model.score - model.score_start)[gaming].mean())
                              if gaming.any() else NAN),
        "reach_negative": _count(model.reached_negative[:, c]),
        "contacts": int(totals["contacts"]),
        "fans": _count(brand.fans),
    }
    for metric in _COMPUTED:  # metrics of your own (add_metric), after the built-in ones
        row[metric.name] = metric.compute(model, brand)
    return row
