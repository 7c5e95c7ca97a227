"""Cross-field checks of a validated scenario: what one field's range cannot say (a campaign
starting after the run ends, a region no user lives in, variants and sweep values that do not
validate, uncertainties naming no number field or with values it refuses, claims naming
unknown metrics or variants). Each problem is a field path and a message, located by the
loader."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator.model.graphs import EdgeListError, read_edgelist
from simulator.model.metrics import BY_NAME
from simulator.model.population import NATIONAL
from simulator.scenario.memory import population_problems
from simulator.scenario.reader import clip, shorten
from simulator.scenario.schema import (
    TOLERANCE,
    Campaign,
    Population,
    Scenario,
    dotted,
    parse_field_path,
)
from simulator.scenario.uncertainty import field_value, is_number

Found = list[tuple[tuple[Any, ...], str]]
MAX_CHECKED_VALUES = 2_000_000  # document values × (variants + sweep values), each validated


# --- cross-field checks ------------------------------------------------------------------------


def _check_population(pop: Population, n_campaigns: int, steps: int = 60, window: int = 14,
                      warmup: int = 28) -> Found:
    """Cross-field checks of the population that a schema alone cannot express; ``steps``,
    ``window`` and ``warmup`` (the run's) count in its memory estimate."""
    bad: Found = []
    shares = sum(a.share for a in pop.archetypes.values())
    if not pop.archetypes:
        bad.append((("population", "archetypes"), "at least one archetype is needed"))
    elif abs(shares - 1.0) > TOLERANCE:
        bad.append((("population", "archetypes"),
                    f"archetype shares must sum to 1 (±{TOLERANCE}); they sum to {shares:.4g}"))
    if not pop.regions:
        bad.append((("population", "regions"), "at least one region is needed"))
    else:
        total = sum(pop.regions.values())
        if abs(total - 1.0) > TOLERANCE:
            bad.append((("population", "regions"),
                        f"region shares must sum to 1 (±{TOLERANCE}); they sum to {total:.4g}"))
    if NATIONAL in pop.regions:
        bad.append((("population", "regions", NATIONAL),
                    f"'{NATIONAL}' is reserved for campaigns that target every region"))
    if len(set(pop.topics)) != len(pop.topics):
        bad.append((("population", "topics"), "topics must be unique"))
    graph = pop.graph
    if graph.kind == "edgelist":
        where = ("population", "graph", "path")
        try:
            path = Path(graph.path).expanduser()
            if not (path.exists() or path.is_symlink()):
                bad.append((where, f"edge-list file not found: {clip(graph.path, 200)} "
                                   "(relative paths are relative to the scenario file)"))
            else:
                read_edgelist(path, directed=graph.directed)  # parseable, before any work
        except EdgeListError as exc:
            bad.append((where, f"the edge list cannot be read: {exc}"))
        except (OSError, RuntimeError, ValueError) as exc:
            bad.append((where, f"unusable edge-list path {shorten(graph.path)}: "
                               f"{clip(str(exc), 200)}"))
    # the size limit, from the graph that will be built (an unreadable edge list: reported above)
    readable = not any(loc[:2] == ("population", "graph") for loc, _ in bad)
    bad += population_problems(pop, n_campaigns, steps, window, warmup, read_files=readable)
    return bad


def _check_campaign(i: int, c: Campaign, pop: Population, steps: int, brands: list[str]) -> Found:
    """Cross-field checks of one campaign against the population and the run length."""
    bad: Found = []
    if brands.count(c.brand) > 1:
        bad.append((("campaigns", i, "brand"), f"brand name '{c.brand}' is used twice"))
    topics = [c.topic] if isinstance(c.topic, str) else list(c.topic)
    for t in topics:
        if t not in pop.topics:
            hint = difflib.get_close_matches(t, pop.topics, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            bad.append((("campaigns", i, "topic"),
                        f"topic '{t}' is not one of population.topics {pop.topics}{extra}"))
    if isinstance(c.topic, dict) and not sum(c.topic.values()) > 0:
        bad.append((("campaigns", i, "topic"), "a topic mix needs a positive weight"))
    if c.region != NATIONAL and c.region not in pop.regions:
        hint = difflib.get_close_matches(c.region, list(pop.regions), n=1)
        extra = f"; did you mean '{hint[0]}'?" if hint else ""
        bad.append((("campaigns", i, "region"),
                    f"region '{c.region}' is not one of population.regions "
                    f"{list(pop.regions)} or '{NATIONAL}'{extra}"))
    if c.start >= steps:
        bad.append((("campaigns", i, "start"),
                    f"the campaign starts at step {c.start} but the run has only "
                    f"{steps} steps (0…{steps - 1})"))
    return bad


def _check_scenario(sc: Scenario) -> Found:
    bad = _check_population(sc.population, len(sc.campaigns), sc.steps, sc.score.window,
                            sc.score.warmup)
    brands = [c.brand for c in sc.campaigns]
    for i, c in enumerate(sc.campaigns):
        bad += _check_campaign(i, c, sc.population, sc.steps, brands)
    return bad


def _check_parts(data: dict[str, Any]) -> Found:
    """Cross-field checks of the parts that are valid when the whole scenario is not,
    so that a typo elsewhere does not hide, say, region shares that sum to 1.2."""
    raw = data.get("campaigns")
    try:
        pop = Population.model_validate(data.get("population") or {})
    except (ValidationError, TypeError):
        return []
    bad = _check_population(pop, len(raw) if isinstance(raw, list) else 1)
    steps = data.get("steps", Scenario.model_fields["steps"].default)
    if not isinstance(steps, int) or isinstance(steps, bool) or not isinstance(raw, list):
        return bad
    campaigns: list[tuple[int, Campaign]] = []
    for i, item in enumerate(raw):
        try:
            campaigns.append((i, Campaign.model_validate(item)))
        except (ValidationError, TypeError):
            continue
    brands = [c.brand for _, c in campaigns]
    for i, c in campaigns:
        bad += _check_campaign(i, c, pop, steps, brands)
    return bad


def _check_metric_name(loc: tuple[Any, ...], name: str) -> Found:
    if name in BY_NAME:
        return []
    return [(loc, _unknown_metric(name))]


@functools.lru_cache(maxsize=256)
def _unknown_metric(name: str) -> str:
    close = difflib.get_close_matches(name, list(BY_NAME), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown metric '{clip(name)}'{hint} (the metrics: docs/model.md §8)"


def grid_key(path: str, grid: dict[str, Any]) -> str | None:
    """The key of ``grid`` that names the same field as ``path`` (``campaigns.0.x`` and
    ``campaigns[0].x`` are the same field), or None."""
    try:
        wanted = parse_field_path(path)
    except ValueError:
        return None
    for key in grid:
        try:
            if parse_field_path(key) == wanted:
                return key
        except ValueError:
            continue
    return None


def _check_claims(sc: Scenario) -> Found:
    """Metrics, variants, brands and sweep points named by ``metrics:`` and ``claims:`` exist."""
    bad: Found = []
    for i, name in enumerate(sc.metrics):
        bad += _check_metric_name(("metrics", i), name)
    names = list(sc.variants) or ["base"]
    brands = [c.brand for c in sc.campaigns]
    grid = sc.sweep.grid if sc.sweep else {}
    for i, claim in enumerate(sc.claims):
        bad += _check_metric_name(("claims", i, "metric"), claim.metric)
        form = claim.form
        for key in (form, "than"):
            value = getattr(claim, key)
            for j, v in enumerate(value if isinstance(value, list) else [value]):
                if v is None or v in names:
                    continue
                close = difflib.get_close_matches(v, names, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                loc = ("claims", i, key, j) if isinstance(value, list) else ("claims", i, key)
                bad.append((loc, f"no variant '{v}'{hint}; variants: {', '.join(names)}"))
        if claim.brand is not None and claim.brand not in brands:
            bad.append((("claims", i, "brand"), f"no campaign of brand '{claim.brand}'; "
                                                f"brands: {', '.join(brands)}"))
        metric = BY_NAME.get(claim.metric)
        if form == "better" and metric is not None and metric.better == 0:
            bad.append((("claims", i, "better"), f"'{claim.metric}' has no better direction: "
                                                 "write higher: or lower: instead"))
        for key, value in (claim.at or {}).items():
            swept = grid_key(key, grid)
            if swept is None:
                bad.append((("claims", i, "at"), f"'{key}' is not swept; the sweep grid has: "
                                                 f"{', '.join(grid) or 'nothing'}"))
            elif value not in grid[swept]:
                bad.append((("claims", i, "at"), f"{key} = {value!r} is not a point of the sweep "
                                                 f"grid {grid[swept]}"))
    return bad


# --- uncertainties --------------------------------------------------------------------------------

# Fields that say what a scenario is, or how it is run and read, rather than a parameter
NOT_UNCERTAIN = ("name", "question", "description", "seed", "replicates", "variants", "sweep",
                 "uncertainties", "metrics", "claims")


def _check_uncertainties(sc: Scenario, trial: Callable[[tuple[Any, ...], Any], object]) -> Found:
    """Each uncertain path names a field of the scenario (a number field for a range, any for
    ``values:``), at most once, and each end of a range and each listed value is a valid value
    of it: ``trial(path, value)`` applies the value to the scenario's document and validates
    the whole (raising ``ValueError``, a :class:`ScenarioError` listing its problems)."""
    bad: Found = []
    document = sc.to_document()
    seen: dict[tuple[Any, ...], str] = {}
    for key, unc in sc.uncertainties.items():
        loc = ("uncertainties", key)
        try:
            path = parse_field_path(key)
        except ValueError as exc:
            bad.append((loc, str(exc)))
            continue
        if path[0] in NOT_UNCERTAIN:
            bad.append((loc, f"'{path[0]}' cannot be uncertain: uncertainties are the model's "
                             "parameters (population, score, behaviour, processes, campaigns, "
                             "steps)"))
            continue
        other = next((k for p, k in seen.items() if p[:len(path)] == path or path[:len(p)] == p),
                     None)
        if other is not None:
            how = "names the same field as" if parse_field_path(other) == path else "overlaps"
            bad.append((loc, f"{how} '{other}'; each field is uncertain at most once"))
            continue
        seen[path] = key
        found, current = field_value(document, path)
        if unc.kind != "values" and found and current is not None and not is_number(current):
            bad.append((loc, f"{key} is not a number field (it holds {shorten(current)}): "
                             f"{unc.kind}: needs one; list the possibilities with "
                             "{values: [a, b, ...]}"))
            continue
        bad += _check_choices(loc, key, unc.kind, unc.choices, trial, path)
        if found or any(lc == loc for lc, _ in bad):
            continue
        bad.append((loc, f"{key} is not a field of this scenario; an uncertainty varies a "
                         "field the scenario has (a default counts)"))
    return bad


def _check_choices(loc: tuple[Any, ...], key: str, kind: str, choices: list[Any],
                   trial: Callable[[tuple[Any, ...], Any], object],
                   path: tuple[Any, ...]) -> Found:
    """The first end or listed value of one uncertainty that the field refuses, if any."""
    names = ["low end", "high end"] if kind != "values" else ["value"] * len(choices)
    for name, value in zip(names, choices, strict=True):
        try:
            trial(path, value)
        except ValueError as exc:  # ScenarioError is a ValueError
            detail = "; ".join(f"{p.path}: {p.message}" if p.path not in ("", key, dotted(path))
                               else p.message for p in getattr(exc, "problems", [])) or str(exc)
            return [(loc, f"{kind}: {name} {shorten(value)} is not a valid value of {key}: "
                          f"{detail}")]
    return []
