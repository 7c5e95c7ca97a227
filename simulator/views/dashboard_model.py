"""The classroom dashboard's model: the base scenario at a drawable size, with the sidebar's
levers applied (:mod:`simulator.views.dashboard` is the page).

The dashboard runs the base scenario as ``perksim run`` would, with its own timings (the perk
day, the number of days) and the first replicate's seed, at no more than
:data:`MAX_LIVE_USERS` users so the network stays drawable. Everything counted in users —
every campaign's perks, outreach's contacts — is scaled with the size, so perks offered per
user stay as in the scenario (50 perks for 3,000 users become 10 for 600). Only the levers
that differ from the scenario become overrides, and :func:`run_command` writes them as the
``perksim run`` command that gives the same numbers.

No solara here: the model can be built and tested without a browser.
"""

from __future__ import annotations

import math
import os
import shlex
import zlib
from pathlib import Path
from typing import Any

import yaml

from simulator.experiment.plan import replicate_seed
from simulator.model.campaign import PerkCampaignModel
from simulator.model.strategies import Lever, registry
from simulator.scenario.library import resolve, scenarios_dir
from simulator.scenario.loader import Override, load_scenario
from simulator.scenario.schema import GRAPHS_WITH_OWN_SIZE, Scenario

SCENARIO_ENV = "PERKSIM_DASHBOARD_SCENARIO"
DEFAULT_SCENARIO = "klout_pout"
MENTIONS = ["none", "recommended", "required"]
MAX_LIVE_USERS = 600  # the live view redraws every node each step: keep it small
MIN_LIVE_USERS = 50  # the users slider's lowest value
PAID_ONLY = ("exclusivity", "transparency", "mention", "disclosure")  # levers of paid perks


# --- the base scenario ----------------------------------------------------------------------


def base_scenario_path(scenario: str | os.PathLike[str] | None = None) -> Path:
    """The base scenario file: ``scenario`` (a path or a bundled name), else the environment's
    ``PERKSIM_DASHBOARD_SCENARIO``, else the bundled ``klout_pout``."""
    name = scenario or os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO
    path = resolve(name)
    if not path.exists() and str(name) == DEFAULT_SCENARIO:
        folder = scenarios_dir()
        if folder is not None:
            path = folder / f"{DEFAULT_SCENARIO}.yaml"
    return path


def parse_seed(seed: int | str) -> int:
    """A seed from the seed box: an integer as typed, any other text hashed to one."""
    text = str(seed).strip()
    try:
        return abs(int(text)) % 2**63
    except ValueError:
        return zlib.crc32(text.encode("utf-8"))


def fixed_size(scenario: Scenario) -> bool:
    """Whether the scenario's graph fixes its own size (a real graph, a tree): no users lever."""
    return scenario.population.graph.kind in GRAPHS_WITH_OWN_SIZE


def live_size(scenario: Scenario, size: int | None = None) -> int:
    """The population the dashboard runs: ``size`` (default: the scenario's), at most
    :data:`MAX_LIVE_USERS`; the scenario's own where its graph fixes the size."""
    full = scenario.population.size
    if fixed_size(scenario):
        return full
    return max(2, min(int(full if size is None else size), MAX_LIVE_USERS))


def scaled(count: int, size: int, full: int) -> int:
    """``count`` (users: perks, contacts) of a population of ``full`` scaled to ``size`` users,
    keeping the share: rounded half up, and at least 1 where ``count`` is not 0.

    >>> scaled(50, 600, 3000), scaled(50, 300, 3000), scaled(1, 50, 3000), scaled(0, 50, 3000)
    (10, 5, 1, 0)
    """
    if count == 0 or size == full:
        return count
    return max(1, math.floor(count * size / full + 0.5))


# --- the strategies and their levers, from the registry ------------------------------------


def strategies() -> list[str]:
    """The strategies the dashboard offers: every registered one (built-ins first, then
    plug-ins in the order registered) that is ``on_dashboard``."""
    return [name for name, cls in registry().items() if cls.on_dashboard]


def strategy_levers() -> dict[str, tuple[Lever, Any]]:
    """The strategies' own levers by control (a parameter's name), with their starting value
    (the parameter's default); the first strategy to declare a control defines it. Levers
    that follow the Perks slider (outreach's contacts) have no control of their own."""
    out: dict[str, tuple[Lever, Any]] = {}
    for kind in strategies():
        cls = registry()[kind]
        for lever in cls.levers:
            if not lever.follows and lever.param not in out:
                out[lever.param] = (lever, _held(lever, cls.Params.model_fields[lever.param].default))
    return out


def _held(lever: Lever, value: Any) -> Any:
    """``value`` as the lever's control holds it (an int slider: a rounded number)."""
    return {"int": round, "float": float, "bool": bool}.get(lever.control, lambda v: v)(value)


def _typed(lever: Lever, value: Any) -> Any:
    return {"int": int, "float": float, "bool": bool}.get(lever.control, lambda v: v)(value)


def applicable(strategy: str, scenario: Scenario) -> list[str]:
    """The levers that apply to ``strategy`` in this scenario, in the sidebar's order: its own
    (the threshold only for the threshold), perks; framing, transparency, mention and
    disclosure only for paid perks; the seed; the users unless the graph fixes its size."""
    cls = registry()[strategy]
    own = [lever.param for lever in cls.levers if not lever.follows]
    paid = list(PAID_ONLY) if cls.paid else []
    return ["strategy", *own, "perks", *paid, "seed",
            *([] if fixed_size(scenario) else ["size"])]


def own_transparency(strategy: str, scenario: Scenario) -> float:
    """The rule transparency campaign 0 has with ``strategy``: the scenario's, else the
    strategy's own (a published lottery, an opaque threshold)."""
    camp = scenario.campaigns[0]
    return float(camp.rule_transparency if camp.rule_transparency is not None
                 else registry()[strategy].transparency)


def perks_of(camp: Any) -> int:
    """What campaign ``camp`` hands out per wave: its perks, or the parameter that plays the
    perks' part in its strategy (outreach's contacts)."""
    follows = [lev.param for lev in registry()[camp.strategy.kind].levers if lev.follows == "perks"]
    return int(getattr(camp.strategy, follows[0])) if follows else int(camp.perks)


def lever_defaults(scenario: Scenario, size: int | None = None) -> dict[str, Any]:
    """The sidebar's starting values, read from the base scenario's first campaign, at the
    dashboard's size (``size``, default :func:`live_size`): perks scaled with it."""
    camp = scenario.campaigns[0]
    kind = camp.strategy.kind if camp.strategy.kind in strategies() else "score_threshold"
    n = live_size(scenario, size)
    own = {key: _held(lever, getattr(camp.strategy, key)) if hasattr(camp.strategy, key) else start
           for key, (lever, start) in strategy_levers().items()}
    return dict(
        strategy=kind,
        **own,
        perks=scaled(perks_of(camp), n, scenario.population.size),
        exclusivity=float(camp.exclusivity),
        transparency=own_transparency(kind, scenario),
        mention=camp.mention,
        disclosure=bool(camp.disclosure),
        seed=str(scenario.seed),
        size=n,
    )


def model_params(base: Path, defaults: dict[str, Any]) -> dict[str, Any]:
    """The sidebar's controls (SolaraViz's ``model_params`` format) and the fixed base
    scenario; :func:`applicable` says which are shown for a strategy."""
    d = defaults
    return {
        "strategy": {"type": "Select", "label": "Strategy (who gets a perk)",
                     "value": d["strategy"], "values": strategies()},
        **{key: _control(lever, d[key]) for key, (lever, _) in strategy_levers().items()},
        "perks": {"type": "SliderInt", "label": "Perks",
                  "value": d["perks"], "min": 0, "max": max(150, d["perks"]), "step": 1},
        "exclusivity": {"type": "SliderFloat", "label": "Exclusivity",
                        "value": d["exclusivity"], "min": 0.0, "max": 1.0, "step": 0.05},
        "transparency": {"type": "SliderFloat", "label": "Transparency",
                         "value": d["transparency"], "min": 0.0, "max": 1.0, "step": 0.05},
        "mention": {"type": "Select", "label": "Mention policy", "value": d["mention"],
                    "values": MENTIONS},
        "disclosure": {"type": "Checkbox", "label": "Disclosure (#ad)",
                       "value": d["disclosure"]},
        "seed": {"type": "InputText", "label": "Seed (press Enter)", "value": d["seed"]},
        "size": {"type": "SliderInt", "label": "Users", "value": d["size"],
                 "min": MIN_LIVE_USERS, "max": MAX_LIVE_USERS, "step": MIN_LIVE_USERS},
        "base": str(base),
    }


def _control(lever: Lever, value: Any) -> dict[str, Any]:
    """A strategy lever as a control."""
    if lever.control == "choice":
        return {"type": "Select", "label": lever.label, "value": value, "values": list(lever.choices)}
    if lever.control == "bool":
        return {"type": "Checkbox", "label": lever.label, "value": value}
    kind, number = ("SliderInt", int) if lever.control == "int" else ("SliderFloat", float)
    return {"type": kind, "label": lever.label, "value": value, "min": number(lever.min),
            "max": number(lever.max), "step": number(lever.step)}


# --- the levers as overrides -----------------------------------------------------------------


def _strategy_changes(strategy: str, perks: int, levers: dict[str, Any],
                      camp: Any) -> list[tuple[str, Any, str]]:
    """Campaign 0's strategy as the levers describe it, as changes to the scenario's: one per
    changed parameter of the same kind, or the whole strategy (its kind and levers)."""
    cls = registry()[strategy]
    values = {lever.param: _typed(lever, perks if lever.follows == "perks" else levers[lever.param])
              for lever in cls.levers}
    what = "the strategy levers"
    if strategy != camp.strategy.kind:
        return [("campaigns[0].strategy", {"kind": strategy, **values}, what)]
    current = cls.Params.model_validate({**camp.strategy.model_dump(), **values})
    return [(f"campaigns[0].strategy.{key}", value, what) for key, value in values.items()
            if getattr(current, key) != getattr(camp.strategy, key)]


def overrides(scenario: Scenario | None = None, **levers: Any) -> list[Override]:
    """The dashboard's levers as typed overrides of ``scenario`` (default: the base scenario),
    only where they change it; a lever not given keeps the scenario's value (perks: scaled
    with the size). Each override names its lever in messages.
    ``levers``: ``strategy``, ``perks``, ``exclusivity``, ``transparency``, ``mention``,
    ``disclosure``, ``seed``, ``size`` and the strategies' own (``threshold=63``; see
    :func:`strategy_levers`); levers that do not apply to the strategy are ignored."""
    base = scenario if scenario is not None else load_scenario(base_scenario_path())
    unknown = sorted(set(levers) - set(lever_defaults(base)))
    if unknown:
        raise TypeError(f"unknown lever(s) {', '.join(unknown)}; the dashboard's levers: "
                        f"{', '.join(lever_defaults(base))}")
    d = {**lever_defaults(base, levers.get("size")), **levers}
    if "transparency" not in levers and d["strategy"] in registry():
        d["transparency"] = own_transparency(d["strategy"], base)  # the strategy's own
    offered = strategies()
    if d["strategy"] not in offered:
        raise ValueError(f"unknown strategy {d['strategy']!r}; choose one of {', '.join(offered)}")
    if d["mention"] not in MENTIONS:
        raise ValueError(f"unknown mention policy {d['mention']!r}; choose one of "
                         f"{', '.join(MENTIONS)}")
    camp, full = base.campaigns[0], base.population.size
    size, strategy, perks = live_size(base, d["size"]), d["strategy"], int(d["perks"])
    changes: list[tuple[str, Any, str]] = [
        ("seed", parse_seed(d["seed"]), "the seed"),
        ("population.size", size, "the users slider"),
        *_strategy_changes(strategy, perks, d, camp),
    ]
    if not any(lever.follows == "perks" for lever in registry()[strategy].levers):
        changes.append(("campaigns[0].perks", perks, "the perks slider"))
    if registry()[strategy].paid:
        changes += [
            ("campaigns[0].exclusivity", float(d["exclusivity"]), "the exclusivity slider"),
            ("campaigns[0].rule_transparency", float(d["transparency"]), "the transparency slider"),
            ("campaigns[0].mention", d["mention"], "the mention policy"),
            ("campaigns[0].disclosure", bool(d["disclosure"]), "the disclosure switch")]
    for i, other in enumerate(base.campaigns[1:], start=1):  # the other brands keep their share
        changes += _scaled_campaign(i, other, size, full)
    current = {"seed": base.seed, "population.size": full, "campaigns[0].perks": camp.perks,
               "campaigns[0].exclusivity": camp.exclusivity,
               "campaigns[0].rule_transparency": own_transparency(strategy, base),
               "campaigns[0].mention": camp.mention, "campaigns[0].disclosure": camp.disclosure}
    return [Override(path, value, f"{what} ({path}={value!r})") for path, value, what in changes
            if path not in current or current[path] != value]


def _scaled_campaign(i: int, camp: Any, size: int, full: int) -> list[tuple[str, Any, str]]:
    """Campaign ``i``'s counts of users (perks, a strategy's contacts) at ``size`` users."""
    out = [(f"campaigns[{i}].perks", scaled(camp.perks, size, full), "the users slider")]
    out += [(f"campaigns[{i}].strategy.{lever.param}",
             scaled(int(getattr(camp.strategy, lever.param)), size, full), "the users slider")
            for lever in registry()[camp.strategy.kind].levers if lever.follows == "perks"]
    return [change for change in out if change[1] != _current(camp, change[0])]


def _current(camp: Any, path: str) -> Any:
    return getattr(camp.strategy, path.rsplit(".", 1)[1]) if ".strategy." in path else camp.perks


def make_scenario(base: str | os.PathLike[str] | None = None, **levers: Any) -> Scenario:
    """The base scenario with the dashboard's levers applied (see :func:`overrides`)."""
    path = base_scenario_path(base)
    return load_scenario(path, overrides=overrides(load_scenario(path), **levers))


def run_command(base: str | os.PathLike[str] | None, changes: list[Override]) -> str:
    """The ``perksim run`` command that runs what the dashboard runs (the same numbers, day by
    day): the base scenario (a bundled one by name) with ``changes`` as ``--seed`` and
    ``--set PATH=VALUE`` options."""
    path = base_scenario_path(base)
    folder = scenarios_dir()
    name = path.stem if folder is not None and path.resolve().parent == folder.resolve() else str(path)
    words = ["perksim", "run", name]
    for change in changes:
        if change.path == "seed":
            words += ["--seed", str(change.value)]
        else:
            text = yaml.safe_dump(change.value, default_flow_style=True, sort_keys=False,
                                  width=10_000)
            words += ["--set", f"{change.path}={text.removesuffix(chr(10)).removesuffix('...').strip()}"]
    return shlex.join(words)


class ClassroomModel(PerkCampaignModel):
    """A :class:`PerkCampaignModel` built from the dashboard's levers, seeded as replicate 0
    of ``perksim run`` (so its numbers are those of :attr:`command`).

    The page re-creates the model on **Reset** by calling this class with the sidebar's
    values as keyword arguments, so every lever is a keyword here.
    """

    def __init__(self, base: str | None = None, scenario: Any = None, **levers: Any):
        # ``levers``: see :func:`overrides`; ``scenario``: mesa's own, which its controller
        # passes on Reset — ignored, as the scenario is built from the levers
        path = base_scenario_path(base)
        self.levers = dict(levers)
        self.changes = overrides(load_scenario(path), **levers)
        self.command = run_command(path, self.changes)
        spec = load_scenario(path, overrides=self.changes)
        super().__init__(spec, rng=replicate_seed(spec.seed, 0))
