"""Why one user did or did not get a perk (``perksim explain``).

Runs are reproducible, so the explanation re-runs the user's replicate exactly (same seed,
same scenario) while watching that user, then checks that the re-run gives the stored
results before telling the story: their score and its parts, the bar they were measured
against, their relevance and whether search could see them, what of the campaign they saw,
and their pout over time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.experiment.plan import replicate_seed
from simulator.experiment.results import ResultsFolderError
from simulator.experiment.saved import SavedFolder
from simulator.model.campaign import PerkCampaignModel
from simulator.model.strategies import Strategy, registry

SPARK = " ▁▂▃▄▅▆▇█"


class ExplainError(ValueError):
    """The folder, user, brand or variant asked for does not exist."""


@dataclass
class Explanation:
    """Everything ``perksim explain`` says about one user and one brand."""

    user: int
    brand: str
    variant: str
    replicate: int
    strategy: str
    strategy_params: dict[str, Any]
    profile: dict[str, Any]
    allocation: dict[str, Any] | None
    relevance: float
    fan: bool
    fan_cut: float
    fan_quantile: float
    seen: dict[str, int]
    pout: list[tuple[int, float]]
    pout_threshold: float
    outcome: dict[str, Any]
    consistent: bool
    entitled: dict[str, float] | None = None  # at the step they saw the most of the perks

    def to_text(self) -> str:
        """The story as plain text: profile, allocation, exposure, pout, in short lines."""
        p, a, o = self.profile, self.allocation, self.outcome
        lines = [
            f"User {self.user} and brand {self.brand} "
            f"(variant {self.variant}, replicate {self.replicate})",
            "",
            f"Who: {article(p['archetype'])} {p['archetype']} in {p['region']} with "
            f"{p['followers']} followers, "
            f"posting {p['post_rate']:.2f} times a day (quality {p['quality']:.2f}).",
        ]
        if a is None:
            lines.append("The campaign never allocated perks in this run.")
        else:
            lines += [
                f"Score when perks were handed out (step {a['step']}): {a['score']:.1f} "
                f"— activity {a['activity']:.2f} posts/day, reach {p['followers']} followers, "
                f"amplification {a['amplification']:.2f} (the score measures volume and reach, "
                "not relevance).",
                self._rule_sentence(a),
            ]
        got = "received a perk" if o["perk"] else "did not receive a perk"
        if not self._rule().paid:  # a personal contact, not a perk
            got = "was contacted" if o["perk"] else "was not contacted"
        lines.append(f"Result: {got}.")
        fan = (f"a fan (top {self._fan_share()} relevance)" if self.fan
               else f"not a fan (fans have relevance ≥ {self.fan_cut:.2f})")
        lines.append(f"Relevance to {self.brand}: {self.relevance:.2f} — {fan}.")
        if a is not None:
            if a["recent_posts"] > 0:
                lines.append(
                    f"Search could see them: {a['recent_posts']} recent posts whose topics match "
                    f"the brand's at {a['observed_topic']:.2f} (cosine, 0–1); observed relevance "
                    f"{a['observed_relevance']:.2f}"
                    + (f" (lowest picked: {a['lowest_picked_relevance']:.2f})."
                       if a.get("lowest_picked_relevance") is not None else "."))
            else:
                lines.append("Search could not see them: no posts in the recent window.")
        s = self.seen
        lines.append(
            f"What they saw of the campaign: {count(s['paid_seen'], 'paid mention')}, "
            f"{count(s['displays_seen'], 'perk')} shown on profiles, heard of the programme "
            f"{times(s['heard_of_programme'])}; {count(s['organic_seen'], 'organic mention')} "
            f"and {count(s['negative_seen'], 'negative mention')}.")
        via = {"talk": "persuaded by fans' own talk", "campaign": "persuaded by the campaign",
               "chain": "persuaded through a chain of adopters the campaign started"}
        adopted = f"yes, {via[o['adopted_via']]}" if o["adopted"] else "no"
        lines.append(f"Aware of the brand: {'yes' if o['aware'] else 'no'}; adopted: {adopted}.")
        if self.pout:
            values = [v for _, v in self.pout]
            peak_step, peak = max(self.pout, key=lambda sv: sv[1])
            lines.append(
                f"Pout over time (0–1; pouting at ≥ {self.pout_threshold:g}): "
                f"{sparkline(values)}  final {values[-1]:.2f}, peak {peak:.2f} at step {peak_step}.")
            lines.append(self._pout_sources())
            if self.entitled is not None and not o["perk"]:
                e = self.entitled
                when = ("when perks were in view" if e["visible"] > 0
                        else "(had they seen a perk)")
                lines.append(
                    f"Feeling entitled {when}: {e['entitled']:.2f} (0–1) — "
                    f"as a fan {e['fan']:.2f}, as a near miss {e['closeness']:.2f}"
                    + (f", relieved by the rule's transparency {e['transparency']:g}"
                       if e["transparency"] else "") + ".")
        if not self.consistent:
            lines.append("WARNING: the re-run did not reproduce the stored results; the folder "
                         "may come from another version of perksim.")
        return "\n".join(lines)

    def _pout_sources(self) -> str:
        parts = self.outcome["pout_from"]
        total = sum(parts.values())
        if self.outcome["perk"] and total <= 0:
            return "Pout by what they saw: none — recipients do not pout about a perk they got."
        if total <= 0:
            return "Pout by what they saw: none — they saw no perk given to someone else."
        words = {"mentions": "paid mentions", "displays": "perks shown on profiles",
                 "publicity": "hearing of the programme (publicity)"}
        shares = ", ".join(f"{v / total:.0%} from {words[k]}" for k, v in parts.items())
        return f"Pout by what they saw (final {total:.3f}): {shares}."

    def _fan_share(self) -> str:
        return f"{self.fan_quantile:.0%}"

    def _rule(self) -> Strategy:
        """The strategy, with the parameters of the run (for its own words)."""
        cls = registry()[self.strategy]
        return cls(cls.Params.model_construct(kind=self.strategy, **self.strategy_params))

    def _rule_sentence(self, a: dict[str, Any]) -> str:
        return self._rule().rule_sentence(a)


def sparkline(values: list[float], width: int = 40) -> str:
    """A text picture of values in [0, 1], at most ``width`` characters (maxima kept)."""
    if len(values) > width:
        chunks = np.array_split(np.asarray(values), width)
        values = [float(c.max()) for c in chunks]
    return "".join(SPARK[min(len(SPARK) - 1, round(v * (len(SPARK) - 1)))] for v in values)


def article(word: str) -> str:
    """``"a"`` or ``"an"`` for ``word`` (by its first letter)."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def count(n: int, noun: str) -> str:
    """``"1 mention"``, ``"3 mentions"``: ``n`` and ``noun``, plural unless n is 1."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def times(n: int) -> str:
    """``"never"``, ``"once"``, ``"twice"``, else ``"n times"``."""
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


CHECKED_METRICS = ("reach", "engaged_reach", "perks_given", "adopters")  # compared after the re-run


def _read_summary(saved: SavedFolder) -> pd.DataFrame:
    """summary.csv (after the manifest), checked: a missing or damaged file is an ExplainError
    naming the file (and line)."""
    folder = saved.path
    if folder.name.endswith(".partial"):
        raise ExplainError(f"{folder} is not a complete results folder: the experiment is "
                           "unfinished (continue it with perksim compare|sweep --resume)")
    try:
        saved.manifest(required=("resolved_scenario",))
        summary = saved.table("summary", required=CHECKED_METRICS, optional=False)
    except ResultsFolderError as exc:
        raise ExplainError(f"{folder} is not a complete results folder: {exc}") from None
    assert summary is not None
    if summary.empty:
        raise ExplainError(f"{folder} is not a complete results folder: "
                           f"{folder / 'summary.csv'} has no rows")
    cols = list(summary.columns)
    if "point" in cols and cols.index("point") > cols.index("variant"):
        raise ExplainError(f"{folder} is not a complete results folder: {folder / 'summary.csv'}:1: "
                           "the sweep columns must come before 'variant'")
    return summary


def explain(folder: str | Path, user: int, brand: str, variant: str | None = None,
            replicate: int | None = None) -> Explanation:
    """Explain user ``user``'s story with ``brand`` in a results folder (re-running exactly)."""
    saved = SavedFolder(folder)
    folder = saved.path
    summary = _read_summary(saved)
    variants = list(dict.fromkeys(summary["variant"]))
    variant = variant or variants[0]
    if variant not in variants:
        raise ExplainError(f"no variant {variant!r} in {folder}; variants: {', '.join(variants)}")
    rows = summary[summary["variant"] == variant]
    replicate = int(rows["replicate"].min()) if replicate is None else replicate
    rows = rows[rows["replicate"] == replicate]
    if rows.empty:
        raise ExplainError(f"no replicate {replicate} of variant {variant!r} in {folder}")
    if brand not in set(rows["brand"]):
        brands = ", ".join(dict.fromkeys(rows["brand"]))
        raise ExplainError(f"no brand {brand!r} in {folder}; brands: {brands}")
    point: dict[str, Any] = {}
    if "point" in rows.columns:
        first = rows.iloc[0]
        param_cols = list(rows.columns[1:list(rows.columns).index("variant")])
        point = {c: _plain(first[c]) for c in param_cols}
        rows = rows[rows["point"] == int(first["point"])]
    try:
        scenario = saved.scenario(variant, point)
    except ResultsFolderError as exc:
        raise ExplainError(str(exc)) from None
    assert scenario is not None  # the manifest has a resolved_scenario
    model = PerkCampaignModel(scenario, rng=replicate_seed(scenario.seed, replicate))
    if not 0 <= user < model.n:
        raise ExplainError(f"user {user} does not exist: ids run from 0 to {model.n - 1}")
    model.watch([user])
    model.run()
    stored = rows[rows["brand"] == brand].iloc[0]
    again = model.summary().set_index("brand").loc[brand]
    consistent = all(np.isclose(float(stored[m]), float(again[m]), rtol=1e-8, equal_nan=True)
                     for m in CHECKED_METRICS)
    return _build(model, user, brand, variant, replicate, consistent)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _build(model: PerkCampaignModel, user: int, brand_name: str, variant: str, replicate: int,
           consistent: bool) -> Explanation:
    brand = next(b for b in model.brands if b.name == brand_name)
    log = [r for r in model.watched[user] if r["brand"] == brand_name]
    alloc_rows = [r for r in log if r["phase"] == "allocation"]
    allocation = None
    if alloc_rows:
        picked_rows = [r for r in alloc_rows if r["picked"]]
        allocation = dict((picked_rows or alloc_rows)[0])  # the wave that picked them, else the first
    seen = {k: int(sum(r.get(k, 0) for r in log)) for k in
            ("paid_seen", "displays_seen", "heard_of_programme", "organic_seen", "negative_seen")}
    pout = [(r["step"], float(r["pout"])) for r in log if r["phase"] == "end"]
    pop = model.population
    parts = model.tracker.parts(model.graph.followers_count)
    profile = {
        "archetype": pop.archetype_names[pop.archetype[user]],
        "region": pop.region_names[pop.region[user]],
        "followers": int(model.graph.followers_count[user]),
        "post_rate": float(pop.post_rate[user]), "quality": float(pop.quality[user]),
        "activity": float(parts["activity"][user]),
        "amplification": float(parts["amplification"][user]),
        "final_score": float(model.score[user]),
    }
    c = brand.index
    view = model.user(user).brands[brand_name]
    outcome = {"perk": int(model.perk[user, c]), "aware": bool(model.aware[user, c]),
               "adopted": bool(model.adopted[user, c]), "adopted_via": view["adopted_via"],
               "pout": float(model.pout[user, c]), "pout_from": dict(view["pout_from"])}
    pout_rows = [r for r in log if r["phase"] == "pout"]
    entitled = None
    if pout_rows:
        r = max(pout_rows, key=lambda row: row["visible"])
        entitled = {"entitled": float(r["entitled"]), "closeness": float(r["closeness"]),
                    "visible": float(r["visible"]),
                    "fan": float(model.spec.behaviour.entitlement_fan * brand.fanness[user]),
                    "transparency": float(brand.transparency)}
    fans = brand.relevance[brand.fans]
    return Explanation(
        user=user, brand=brand_name, variant=variant, replicate=replicate,
        strategy=brand.strategy.name,
        strategy_params=brand.strategy.params.model_dump(exclude={"kind"}),
        profile=profile, allocation=allocation, relevance=float(brand.relevance[user]),
        fan=bool(brand.fans[user]), fan_cut=float(fans.min()) if fans.size else float("nan"),
        fan_quantile=model.spec.behaviour.fan_quantile,
        seen=seen, pout=pout, pout_threshold=model.spec.behaviour.pout_threshold,
        outcome=outcome, consistent=consistent, entitled=entitled,
    )
