"""Per-step observations for every brand (docs/model.md §8).

Each reporter is a small named function of the model and a brand; ``brand_metrics`` gathers
them into one row of the tidy ``steps`` table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .model import Brand, PerkCampaignModel

NAN = float("nan")

# The columns of steps.csv / summary.csv, in order. The metric names are those of docs/model.md §8.
METRICS = [
    "reach", "reach_organic", "reach_paid", "engaged_reach", "adopters",
    "mentions_paid", "mentions_organic", "mentions_negative", "authenticity",
    "recipient_fit", "perks_given", "cost", "cost_per_engaged_reach", "fan_coverage",
    "pout_mean", "pout_fans", "pouting_share", "coverage_ratio", "reach_maximin",
    "score_mean", "gaming_share",
    # additional observations, documented in docs/model.md §8
    "reach_negative", "contacts", "fans",
]
STEP_COLUMNS = ["step", "brand", *METRICS]

GAMING_FACTOR = 1.1  # a user "games" when their post rate is raised by at least 10 %


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else NAN


def group_rates(mask: np.ndarray, groups: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Share of each (non-empty) group for which ``mask`` holds; ``size`` = group sizes."""
    hit = np.bincount(groups, weights=mask.astype(float), minlength=size.size)
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


def brand_metrics(model: PerkCampaignModel, brand: Brand) -> dict[str, object]:
    """One row of the steps table for ``brand`` at the model's current step."""
    c = brand.index
    b = model.spec.behaviour
    totals = brand.totals
    selected = model.perk[:, c] > 0
    excluded = ~selected
    reached_any = model.reached_paid[:, c] | model.reached_organic[:, c] | model.reached_negative[:, c]
    reached_positive = model.reached_positive[:, c]
    engaged = int((reached_positive & brand.fans).sum())
    pout = model.pout[:, c]
    excluded_fans = excluded & brand.fans
    positive_exposures = totals["exposures_organic"] + totals["exposures_paid_positive"]
    return {
        "step": model.t,
        "brand": brand.name,
        "reach": int(reached_any.sum()),
        "reach_organic": int(model.reached_organic[:, c].sum()),
        "reach_paid": int(model.reached_paid[:, c].sum()),
        "engaged_reach": engaged,
        "adopters": int(model.adopted[:, c].sum()),
        "mentions_paid": int(totals["mentions_paid"]),
        "mentions_organic": int(totals["mentions_organic"]),
        "mentions_negative": int(totals["mentions_negative"]),
        "authenticity": _ratio(totals["exposures_organic"], positive_exposures),
        "recipient_fit": float(brand.relevance[selected].mean()) if selected.any() else NAN,
        "perks_given": int(totals["perks_given"]),
        "cost": float(totals["cost"]),
        "cost_per_engaged_reach": _ratio(totals["cost"], engaged),
        "fan_coverage": _ratio((selected & brand.fans).sum(), brand.fans.sum()),
        "pout_mean": float(pout[excluded].mean()) if excluded.any() else NAN,
        "pout_fans": float(pout[excluded_fans].mean()) if excluded_fans.any() else NAN,
        "pouting_share": float((pout >= b.pout_threshold).mean()),
        "coverage_ratio": coverage_ratio(model, selected),
        "reach_maximin": reach_maximin(model, reached_any),
        "score_mean": float(model.score.mean()),
        "gaming_share": float((model.post_factor >= GAMING_FACTOR).mean()),
        "reach_negative": int(model.reached_negative[:, c].sum()),
        "contacts": int(totals["contacts"]),
        "fans": int(brand.fans.sum()),
    }
