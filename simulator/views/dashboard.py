"""The interactive classroom dashboard: a Mesa SolaraViz page (``perksim dashboard``).

The sidebar holds the campaign's levers — allocation strategy, the strategies' own levers
(the score threshold; each strategy class lists its ``levers``), number of perks, exclusivity
framing, rule transparency, mention policy, disclosure, seed and a population size capped
for the live view. The strategies offered are those of the registry, plug-ins included. The
main area shows the follows network, coloured by who got a perk, adopted, is pouting or was
reached, and the campaign's metrics over time. Changing a lever takes effect on **Reset**;
**Step** and **▶** run the model.

The model is a :class:`PerkCampaignModel` built from a base scenario file (the bundled
``klout_pout`` unless ``PERKSIM_DASHBOARD_SCENARIO`` names another) with the levers applied
to its first campaign as overrides, and the campaign starting early (day 3) so something
happens within a few clicks. The pictures are the figures ``perksim run`` saves
(:mod:`simulator.views.plots`), drawn from the live model's tables after every step; the
network layout is computed once per graph and cached, never recomputed on a redraw.

Start it with ``perksim dashboard`` or :func:`simulator.views.server.serve`;
``solara run simulator.views.dashboard:page`` works too. Importing this module only defines
the page: no model is built until a browser connects.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import solara

from simulator.model.campaign import PerkCampaignModel
from simulator.model.strategies import Lever, registry
from simulator.scenario.library import resolve, scenarios_dir
from simulator.scenario.loader import Override, load_scenario
from simulator.scenario.schema import Scenario
from simulator.views import plots

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

SCENARIO_ENV = "PERKSIM_DASHBOARD_SCENARIO"
DEFAULT_SCENARIO = "klout_pout"
TITLE = "Klout Pout: who gets the perk — and who pouts?"
INTRO = ("A brand hands out perks to some users. Choose how it picks them (left), press "
         "Reset to apply, then Step or ▶: watch who is reached — and who feels left out.")
MENTIONS = ["none", "recommended", "required"]
DEFAULT_SIZE = 300
MAX_LIVE_USERS = 600  # the live view redraws every node each step: keep it small
MAX_DRAWN_USERS = 1000  # graphs that fix their own size are drawn only up to this
CAMPAIGN_START = 3  # day the perks go out in the dashboard (early, so class sees it)
FIGSIZE = (5.6, 5.2)  # inches; × FIGURE_DPI ≈ 640 × 600 pixels, half the page's width
FIGURE_DPI = 115  # the figures' 9–11 pt text at this size reads on a classroom projector
SERIES = ["reach", "engaged_reach", "authenticity", "pout_fans"]  # metrics of the catalogue


# --- the model factory --------------------------------------------------------------------


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


def strategy_override(strategy: str, perks: int, levers: dict[str, Any]) -> dict[str, Any]:
    """The strategy the levers describe, as the value of ``campaigns[0].strategy``: its kind
    and its levers' values (``levers``: by control; a missing one takes the parameter's
    default), each of the type its control holds."""
    cls = registry()[strategy]
    value: dict[str, Any] = {"kind": strategy}
    for lever in cls.levers:
        held = perks if lever.follows == "perks" else levers.get(
            lever.param, _held(lever, cls.Params.model_fields[lever.param].default))
        value[lever.param] = {"int": int, "float": float, "bool": bool}.get(
            lever.control, lambda v: v)(held)
    return value


def overrides(*, strategy: str = "score_threshold", perks: int = 50,
              exclusivity: float = 0.5, transparency: float = 0.0, mention: str = "recommended",
              disclosure: bool = True, seed: int | str = 2012, size: int = DEFAULT_SIZE,
              start: int = CAMPAIGN_START, **levers: Any) -> list[Override]:
    """The dashboard's levers as typed scenario overrides for campaign 0 (values used as they
    are, no YAML text; each names its lever in messages).
    ``levers``: the strategies' own (``threshold=63``; see :func:`strategy_levers`)."""
    offered = strategies()
    if strategy not in offered:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(offered)}")
    if mention not in MENTIONS:
        raise ValueError(f"unknown mention policy {mention!r}; choose one of {', '.join(MENTIONS)}")
    unknown = sorted(set(levers) - set(strategy_levers()))
    if unknown:
        raise TypeError(f"unknown lever(s) {', '.join(unknown)}; the strategies' levers: "
                        f"{', '.join(strategy_levers())}")
    c = "campaigns[0]"
    values: list[tuple[str, Any, str]] = [
        ("seed", parse_seed(seed), "the seed"),
        ("population.size", max(2, min(int(size), MAX_LIVE_USERS)), "the users slider"),
        (f"{c}.strategy", strategy_override(strategy, perks, levers), "the strategy levers"),
        (f"{c}.perks", int(perks), "the perks slider"),
        (f"{c}.start", int(start), "the campaign start"),
        (f"{c}.exclusivity", float(exclusivity), "the exclusivity slider"),
        (f"{c}.rule_transparency", float(transparency), "the transparency slider"),
        (f"{c}.mention", mention, "the mention policy"),
        (f"{c}.disclosure", bool(disclosure), "the disclosure switch"),
    ]
    return [Override(path, value, f"{what} ({path}={value!r})") for path, value, what in values]


def make_scenario(base: str | os.PathLike[str] | None = None, **levers: Any) -> Scenario:
    """The base scenario with the dashboard's levers applied (see :func:`overrides`)."""
    return load_scenario(base_scenario_path(base), overrides=overrides(**levers))


class ClassroomModel(PerkCampaignModel):
    """A :class:`PerkCampaignModel` built from the dashboard's levers.

    SolaraViz re-creates the model on **Reset** by calling this class with the sidebar's
    values as keyword arguments, so every lever is a keyword here.
    """

    def __init__(self, strategy: str = "score_threshold", perks: int = 50,
                 exclusivity: float = 0.5, transparency: float = 0.0,
                 mention: str = "recommended", disclosure: bool = True, seed: int | str = 2012,
                 size: int = DEFAULT_SIZE, base: str | None = None, scenario: Any = None,
                 **levers: Any):
        # ``levers``: the strategies' own (``threshold``, and any a plug-in strategy declares);
        # ``scenario``: mesa's own, which SolaraViz passes on Reset — ignored, as the scenario
        # is built from the levers
        self.levers = dict(strategy=strategy, **levers, perks=perks,
                           exclusivity=exclusivity, transparency=transparency, mention=mention,
                           disclosure=disclosure, seed=seed, size=size)
        scenario = make_scenario(base, **self.levers)
        super().__init__(scenario, rng=scenario.seed)


def lever_defaults(scenario: Scenario) -> dict[str, Any]:
    """The sidebar's starting values, read from the base scenario's first campaign."""
    camp = scenario.campaigns[0]
    kind = camp.strategy.kind if camp.strategy.kind in strategies() else "score_threshold"
    transparency = (camp.rule_transparency if camp.rule_transparency is not None
                    else registry()[camp.strategy.kind].transparency)
    own = {key: _held(lever, getattr(camp.strategy, key)) if hasattr(camp.strategy, key) else start
           for key, (lever, start) in strategy_levers().items()}
    return dict(
        strategy=kind,
        **own,
        perks=int(camp.perks),
        exclusivity=float(camp.exclusivity),
        transparency=float(transparency),
        mention=camp.mention,
        disclosure=bool(camp.disclosure),
        seed=str(scenario.seed),
        size=min(scenario.population.size, DEFAULT_SIZE),
    )


def model_params(base: Path, defaults: dict[str, Any]) -> dict[str, Any]:
    """SolaraViz's ``model_params``: the sidebar controls and the fixed base scenario."""
    d = defaults
    return {
        "strategy": {"type": "Select", "label": "Strategy (who gets a perk)",
                     "value": d["strategy"], "values": strategies()},
        **{key: _control(lever, d[key]) for key, (lever, _) in strategy_levers().items()},
        "perks": {"type": "SliderInt", "label": "Perks",
                  "value": d["perks"], "min": 0, "max": 150, "step": 1},
        "exclusivity": {"type": "SliderFloat", "label": "Exclusivity",
                        "value": d["exclusivity"], "min": 0.0, "max": 1.0, "step": 0.05},
        "transparency": {"type": "SliderFloat",
                         "label": "Transparency",
                         "value": d["transparency"], "min": 0.0, "max": 1.0, "step": 0.05},
        "mention": {"type": "Select", "label": "Mention policy", "value": d["mention"],
                    "values": MENTIONS},
        "disclosure": {"type": "Checkbox", "label": "Disclosure (#ad)",
                       "value": d["disclosure"]},
        "seed": {"type": "InputText", "label": "Seed (press Enter)", "value": d["seed"]},
        "size": {"type": "SliderInt", "label": "Users",
                 "value": d["size"], "min": 50, "max": MAX_LIVE_USERS, "step": 50},
        "base": str(base),
    }


def _control(lever: Lever, value: Any) -> dict[str, Any]:
    """A strategy lever as a SolaraViz control."""
    if lever.control == "choice":
        return {"type": "Select", "label": lever.label, "value": value, "values": list(lever.choices)}
    if lever.control == "bool":
        return {"type": "Checkbox", "label": lever.label, "value": value}
    kind, number = ("SliderInt", int) if lever.control == "int" else ("SliderFloat", float)
    return {"type": kind, "label": lever.label, "value": value, "min": number(lever.min),
            "max": number(lever.max), "step": number(lever.step)}


# --- the pictures: the figures of simulator.views.plots, from the live model's tables ---------


def _steps_so_far(model: PerkCampaignModel) -> pd.DataFrame:
    """``model.steps_frame()``, safe while a step is being recorded in another thread.

    (SolaraViz's "Use Threads" draws while the model steps; a row is appended one column
    at a time, so the columns may briefly differ in length: keep only complete rows.)
    """
    table = {k: list(v) for k, v in model.datacollector.tables["steps"].items()}
    rows = min((len(v) for v in table.values()), default=0)
    return pd.DataFrame({k: v[:rows] for k, v in table.items()})


def _edges(model: PerkCampaignModel) -> pd.DataFrame:
    """The model's follows as ``edges.csv`` lists them."""
    coo = model.graph.followers.tocoo()
    return pd.DataFrame({"author": coo.row, "follower": coo.col})


def network_figure(model: PerkCampaignModel, brand: int = 0) -> Figure:
    """The follows network coloured by user state (:func:`simulator.views.plots.plot_network`,
    the picture ``perksim run`` saves, with the same layout for the same graph), pouting at
    the scenario's own ``behaviour.pout_threshold``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=FIGURE_DPI, layout="constrained")
    if model.n > MAX_DRAWN_USERS:
        fig.text(0.5, 0.5, f"{model.n} users: too many to draw live.\n"
                 "Use a smaller graph to see the network.", ha="center", va="center",
                 fontsize=11)
        return fig
    name = model.brands[brand].name
    return plots.plot_network(
        model.users_frame(), _edges(model), name, pout_threshold=model.spec.behaviour.pout_threshold,
        fig=fig, title=f"Who follows whom — {name}, day {model.t} of {model.spec.steps}\n"
                       "(bigger dot = more followers)")


def metrics_figure(model: PerkCampaignModel, brand: int = 0) -> Figure:
    """The campaign's metrics over the days so far
    (:func:`simulator.views.plots.plot_timeseries`, labels from the metric catalogue)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=FIGURE_DPI, layout="constrained")
    b = model.brands[brand]
    steps = _steps_so_far(model).assign(variant=b.strategy.name)  # the legend names the rule
    return plots.plot_timeseries(steps, SERIES, b.name, fig=fig, columns=2, days=model.spec.steps,
                                 start=b.campaign.start,
                                 title="Campaign over time (dashed line: perks handed out)",
                                 title_width=0.35 * FIGSIZE[0])


# --- the page -----------------------------------------------------------------------------


def _figure_view(draw: Callable[[PerkCampaignModel], Figure]):
    @solara.component
    def FigureView(model: PerkCampaignModel, t: int):
        # redrawn only when the model or its day changes (the model object, not its id, so a
        # new model after Reset can never be mistaken for the old one); ``t`` is a prop so a
        # step re-renders this component although the model object is the same
        fig = solara.use_memo(lambda: draw(model), [model, t])
        solara.FigureMatplotlib(fig, format="png", dependencies=[model, t])

    FigureView.__name__ = draw.__name__
    return FigureView


_NetworkFigure = _figure_view(network_figure)
_MetricsFigure = _figure_view(metrics_figure)


def status_line(model: PerkCampaignModel, brand: int = 0) -> str:
    """One line of plain words on where the campaign stands."""
    b = model.brands[brand]
    given = int((model.perk[:, brand] > 0).sum())
    pouting = int((model.pout[:, brand] >= model.spec.behaviour.pout_threshold).sum())
    what = "contacted" if not b.strategy.paid else "perks given"
    return (f"Day {model.t} of {model.spec.steps} · strategy: {b.strategy.name} · "
            f"{what}: {given} · reached: {int(model.reached_positive[:, brand].sum())} · "
            f"adopted: {int(model.adopted[:, brand].sum())} · pouting: {pouting} · "
            f"saw complaints: {int(model.reached_negative[:, brand].sum())} · "
            f"users: {model.n}")


def settings_line(model: PerkCampaignModel, brand: int = 0) -> str:
    """The levers the running model was built with (the sidebar's take effect on Reset)."""
    b = model.brands[brand]
    c = b.campaign
    amount = f"{b.strategy.budget(c.perks)} {'perks' if b.strategy.paid else 'contacts'}"
    return (f"Running: {b.strategy.rule_label()} · {amount} · exclusivity {c.exclusivity:.2f} · "
            f"transparency {b.transparency:.2f} · mention {c.mention} · "
            f"#ad {'on' if c.disclosure else 'off'} · seed {model.spec.seed} · "
            f"perks go out on day {c.start}  (changed settings apply on Reset)")


@solara.component
def Views(model: PerkCampaignModel):
    """The network and the metrics side by side, redrawn after every step.

    Laid out here rather than through SolaraViz's ``components`` (its draggable grid needs a
    browser library that fails under vuetify 3 and adds nothing for a classroom).
    """
    from mesa.visualization.utils import update_counter

    update_counter.get()  # SolaraViz bumps this after each step
    solara.Text(settings_line(model), style={"font-size": "14px", "display": "block"})
    solara.Text(status_line(model), style={"font-size": "16px", "font-weight": "600",
                                           "display": "block", "margin": "4px 0"})
    with solara.Columns([1, 1]):
        _NetworkFigure(model, model.t)
        _MetricsFigure(model, model.t)


@solara.component
def Page():
    """The dashboard: one model per browser session, built from the base scenario."""
    from mesa.visualization import SolaraViz  # here, so importing this module stays cheap

    base = solara.use_memo(lambda: base_scenario_path(), [])
    defaults = solara.use_memo(lambda: lever_defaults(load_scenario(base)), [base])
    params = solara.use_memo(lambda: model_params(base, defaults), [base, defaults])
    first = solara.use_memo(lambda: ClassroomModel(**defaults, base=str(base)), [base])
    model = solara.use_reactive(first)  # SolaraViz replaces .value on Reset
    # our own AppLayout, so the sidebar renders headless (solara.render) as under `solara run`
    with solara.AppLayout(title=TITLE), solara.Column(gap="0px"):
        solara.Text(INTRO, style={"font-size": "16px", "display": "block"})
        solara.Text(f"Scenario: {model.value.spec.name} — {model.value.spec.question}",
                    style={"font-size": "14px", "color": "#555", "display": "block"})
        SolaraViz(model, components=[], model_params=params, name=TITLE, play_interval=300)
        Views(model.value)


page = Page()


@solara.component
def Layout(children: list | None = None):
    """The layout ``solara run`` puts around :data:`page`: none, as the page brings its own.

    (Solara's default layout is an AppLayout; nested in it, the page's own AppLayout would
    fold the sidebar's controls into a menu.)
    """
    children = children or []
    return children[0] if len(children) == 1 else solara.Column(children=children)
