"""The interactive classroom dashboard: a solara page (``perksim dashboard``) on a Mesa model.

It tells the scenario's own story: the base scenario (the bundled ``klout_pout`` unless
``PERKSIM_DASHBOARD_SCENARIO`` names another) with its own timings — perks go out on its perk
day — at no more than 600 users so the network stays drawable, with its perks (and anything
else counted in users) scaled to keep their share of the population, and seeded as
``perksim run``'s first replicate: the numbers are those of the ``perksim run`` command the
page shows (see :mod:`simulator.views.dashboard_model`).

The sidebar holds the campaign's levers — allocation strategy, the strategy's own levers (the
score threshold for the threshold), perks, and for paid perks their framing, rule
transparency, mention policy and disclosure — the seed and the users, each shown only when it
applies to the chosen strategy, sliders showing their values. The strategies offered are
those of the registry, plug-ins included. The main area shows the follows network, coloured
by who got a perk, adopted, is pouting or was reached, and the campaign's metrics over time.
Changing a lever takes effect on **Reset**; **Step** and **▶** run the model (Mesa's
controller; its threads and render-interval controls are not offered: "Days per Step" is the
render interval, explained on the page).

The pictures are the figures ``perksim run`` saves (:mod:`simulator.views.plots`), drawn from
the live model's tables after every step; the network layout is computed once per graph and
cached, never recomputed on a redraw.

Start it with ``perksim dashboard`` or :func:`simulator.views.server.serve`;
``solara run simulator.views.dashboard:page`` works too. Importing this module only defines
the page: no model is built until a browser connects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
import solara

from simulator.model.campaign import PerkCampaignModel
from simulator.model.strategies import registry
from simulator.scenario.loader import load_scenario
from simulator.scenario.schema import Scenario
from simulator.views import plots
from simulator.views.dashboard_model import (
    DEFAULT_SCENARIO,
    MAX_LIVE_USERS,
    MENTIONS,
    SCENARIO_ENV,
    ClassroomModel,
    applicable,
    base_scenario_path,
    lever_defaults,
    live_size,
    make_scenario,
    model_params,
    overrides,
    own_transparency,
    parse_seed,
    perks_of,
    run_command,
    scaled,
    strategies,
    strategy_levers,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["DEFAULT_SCENARIO", "MAX_LIVE_USERS", "MENTIONS", "SCENARIO_ENV", "ClassroomModel",
           "base_scenario_path", "lever_defaults", "load_scenario", "make_scenario",
           "model_params", "overrides", "page", "parse_seed", "run_command", "strategies", "strategy_levers"]

TITLE = "Klout Pout: who gets the perk — and who pouts?"
INTRO = ("A brand hands out perks to some users. Choose how it picks them (left), press "
         "Reset to apply, then Step or ▶: watch who is reached — and who feels left out.")
RUN_HELP = ("Step runs the model {days} (“Days per Step”: Mesa's render interval); ▶ runs on, "
            "a day every 0.3 s, redrawing after every {days}; ❚❚ pauses. Reset builds a new run "
            "from the levers below.")
MAX_DRAWN_USERS = 1000  # graphs that fix their own size are drawn only up to this
PLAY_INTERVAL = 300  # ms between days when playing
MAX_DAYS_PER_STEP = 10
THUMB_ROOM = {"padding-top": "30px"}  # room above a slider for its value, always shown
FIGSIZE = (5.6, 5.2)  # inches; × FIGURE_DPI ≈ 640 × 600 pixels, half the page's width
FIGURE_DPI = 115  # the figures' 9–11 pt text at this size reads on a classroom projector
SERIES = ["reach", "engaged_reach", "authenticity", "pout_fans"]  # metrics of the catalogue


def day_label(model: PerkCampaignModel) -> str:
    """The last day run, numbered as ``perksim run``'s steps table and figures number them
    (day 0 is the first; the perks go out on the campaign's ``start`` day)."""
    if model.t == 0:
        return f"Not started (days 0–{model.spec.steps - 1}; press Step)"
    return f"Day {model.t - 1} of days 0–{model.spec.steps - 1}"


# --- the pictures: the figures of simulator.views.plots, from the live model's tables ---------


def _steps_so_far(model: PerkCampaignModel) -> pd.DataFrame:
    """``model.steps_frame()``, safe while a step is being recorded in another thread.

    (▶ steps the model in a thread while the page may draw; a row is appended one column
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
        fig=fig, title=f"Who follows whom — {name}, "
              f"{f'day {model.t - 1}' if model.t else 'before day 0'}\n"
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
    """One line of plain words on where the campaign stands (the steps table's numbers of
    the last day run: ``perks_given``, ``reach``, ``adopters``)."""
    b = model.brands[brand]
    given = int((model.perk[:, brand] > 0).sum())
    pouting = int((model.pout[:, brand] >= model.spec.behaviour.pout_threshold).sum())
    what = "contacted" if not b.strategy.paid else "perks given"
    return (f"{day_label(model)} · strategy: {b.strategy.name} · "
            f"{what}: {given} of {b.strategy.budget(b.campaign.perks)} · "
            f"reached: {int(model.reached_positive[:, brand].sum())} · "
            f"adopted: {int(model.adopted[:, brand].sum())} · pouting: {pouting} · "
            f"saw complaints: {int(model.reached_negative[:, brand].sum())} · "
            f"users: {model.n}")


def settings_line(model: PerkCampaignModel, brand: int = 0) -> str:
    """The levers the running model was built with (the sidebar's take effect on Reset)."""
    b = model.brands[brand]
    c = b.campaign
    amount = f"{b.strategy.budget(c.perks)} {'perks' if b.strategy.paid else 'contacts'}"
    framing = (f" · exclusivity {c.exclusivity:.2f} · transparency {b.transparency:.2f} · "
               f"mention {c.mention} · #ad {'on' if c.disclosure else 'off'}"
               if b.strategy.paid else "")
    return (f"Running: {b.strategy.rule_label()} · {amount}{framing} · seed {model.spec.seed} · "
            f"perks go out on day {c.start}  (changed settings apply on Reset)")


@solara.component
def Views(model: PerkCampaignModel):
    """The network and the metrics side by side, redrawn after every step."""
    from mesa.visualization.utils import update_counter

    update_counter.get()  # the controller bumps this after each step
    solara.Text(settings_line(model), style={"font-size": "14px", "display": "block"})
    command = getattr(model, "command", None)
    if command:
        solara.Text(f"The same run on the command line: {command}",
                    style={"font-size": "13px", "color": "#555", "display": "block"})
    solara.Text(status_line(model), style={"font-size": "16px", "font-weight": "600",
                                           "display": "block", "margin": "4px 0"})
    with solara.Columns([1, 1]):
        _NetworkFigure(model, model.t)
        _MetricsFigure(model, model.t)


def _input(name: str, spec: dict[str, Any], value: Any, on_value: Callable[[Any], None]) -> None:
    """One lever's control, its value shown (sliders: always on the thumb)."""
    kind, label = spec["type"], spec["label"]
    if kind in ("SliderInt", "SliderFloat"):
        slider = solara.SliderInt if kind == "SliderInt" else solara.SliderFloat
        with solara.Div(style=THUMB_ROOM):
            slider(label, value=value, on_value=on_value, min=spec["min"], max=spec["max"],
                   step=spec["step"], thumb_label="always")
    elif kind == "Select":
        solara.Select(label, value=value, values=spec["values"], on_value=on_value)
    elif kind == "Checkbox":
        solara.Checkbox(label=label, value=value, on_value=on_value)
    else:
        solara.InputText(label, value=value, on_value=on_value)


def perks_note(values: dict[str, Any], scenario: Scenario) -> str:
    """The perks' share of the users, against the scenario's."""
    full, offered = scenario.population.size, perks_of(scenario.campaigns[0])
    perks, users = int(values["perks"]), live_size(scenario, values["size"])
    what = "perks" if registry()[values["strategy"]].paid else "contacts"

    def share(k: int, n: int) -> str:
        return f" (1 in {n / k:.0f})" if k else ""

    return (f"{perks} {what} for {users:,} users{share(perks, users)}; the scenario: "
            f"{offered} for {full:,}{share(offered, full)}. The perks follow the users slider.")


@solara.component
def Controls(model: solara.Reactive[PerkCampaignModel], params: dict[str, Any],
             scenario: Scenario):
    """The sidebar: Mesa's Reset / ▶ / Step, days per step, and the levers that apply to the
    chosen strategy. Moving the users keeps the perks' share while the perks are the
    scenario's; choosing a strategy sets the transparency to its own."""
    from mesa.visualization.solara_viz import ModelController

    values = solara.use_reactive({k: (v["value"] if isinstance(v, dict) else v)
                                  for k, v in params.items()})
    days = solara.use_reactive(1)
    play = solara.use_reactive(PLAY_INTERVAL)
    threads = solara.use_reactive(False)  # drawing while stepping: no (the tables grow row by row)
    full, offered = scenario.population.size, perks_of(scenario.campaigns[0])

    def change(name: str, value: Any) -> None:
        new = {**values.value, name: value}
        if name == "strategy":
            new["transparency"] = own_transparency(value, scenario)
        old = live_size(scenario, values.value["size"])
        if name == "size" and values.value["perks"] == scaled(offered, old, full):
            new["perks"] = scaled(offered, live_size(scenario, value), full)  # keep the share
        values.value = new

    with solara.Card("Run"):
        ModelController(model, model_parameters=values, play_interval=play,
                        render_interval=days, use_threads=threads)  # reactive, as it reads them
        with solara.Div(style=THUMB_ROOM):
            solara.SliderInt("Days per Step", value=days, min=1, max=MAX_DAYS_PER_STEP,
                             thumb_label="always")
        days_words = f"{days.value} day{'s' if days.value > 1 else ''}"
        solara.Text(RUN_HELP.format(days=days_words), style={"font-size": "13px", "color": "#555"})
    with solara.Card("Campaign levers (apply on Reset)"):
        for name in applicable(values.value["strategy"], scenario):
            _input(name, params[name], values.value[name],
                   lambda value, name=name: change(name, value))
            if name == "perks":
                solara.Text(perks_note(values.value, scenario),
                            style={"font-size": "13px", "color": "#555"})


@solara.component
def Page():
    """The dashboard: one model per browser session, built from the base scenario."""
    base = solara.use_memo(lambda: base_scenario_path(), [])
    scenario = solara.use_memo(lambda: load_scenario(base), [base])
    defaults = solara.use_memo(lambda: lever_defaults(scenario), [scenario])
    params = solara.use_memo(lambda: model_params(base, defaults), [base, defaults])
    first = solara.use_memo(lambda: ClassroomModel(**defaults, base=str(base)), [base])
    model = solara.use_reactive(first)  # the controller replaces .value on Reset
    # our own AppLayout, so the sidebar renders headless (solara.render) as under `solara run`
    with solara.AppLayout(title=TITLE):
        with solara.Sidebar():
            Controls(model, params, scenario)
        with solara.Column(gap="0px"):
            solara.Text(INTRO, style={"font-size": "16px", "display": "block"})
            solara.Text(f"Scenario: {model.value.spec.name} — {model.value.spec.question}",
                        style={"font-size": "14px", "color": "#555", "display": "block"})
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
