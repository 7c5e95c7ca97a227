"""The interactive classroom dashboard: a Mesa SolaraViz page (``perksim dashboard``).

The sidebar holds the campaign's levers — allocation strategy, score threshold, number of
perks, exclusivity framing, rule transparency, mention policy, disclosure, seed and a
population size capped for the live view. The main area shows the follows network, coloured
by who got a perk, adopted, was reached or is pouting, and the campaign's metrics over time.
Changing a lever takes effect on **Reset**; **Step** and **▶** run the model.

The model is a :class:`PerkCampaignModel` built from a base scenario file (the bundled
``klout_pout`` unless ``PERKSIM_DASHBOARD_SCENARIO`` names another) with the levers applied
to its first campaign as overrides, and the campaign starting early (day 3) so something
happens within a few clicks. The network layout is computed once per graph (networkx spring
layout, fixed seed) and cached; it is never recomputed on a redraw.

Start it with ``perksim dashboard`` or :func:`serve`; ``solara run simulator.views.dashboard:page`` works
too. Importing this module only defines the page: no model is built until a browser connects.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import solara

from simulator.model.campaign import PerkCampaignModel
from simulator.model.strategies import registry
from simulator.scenario.library import resolve, scenarios_dir
from simulator.scenario.loader import load_scenario
from simulator.scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

SCENARIO_ENV = "PERKSIM_DASHBOARD_SCENARIO"
DEFAULT_SCENARIO = "klout_pout"
TITLE = "Klout Pout: who gets the perk — and who pouts?"
INTRO = ("A brand hands out perks to some users. Choose how it picks them (left), press "
         "Reset to apply, then Step or ▶: watch who is reached — and who feels left out.")
STRATEGIES = ["score_threshold", "top_score", "relevance", "hybrid", "lottery", "outreach"]
MENTIONS = ["none", "recommended", "required"]
DEFAULT_SIZE = 300
MAX_LIVE_USERS = 600  # the live view redraws every node each step: keep it small
MAX_DRAWN_USERS = 1000  # graphs that fix their own size are drawn only up to this
CAMPAIGN_START = 3  # day the perks go out in the dashboard (early, so class sees it)
LAYOUT_SEED = 42

# node colours, in drawing priority (a user with a perk is shown as such even if pouting)
STATES: list[tuple[str, str]] = [
    ("got a perk", "#f2a900"),
    ("adopted", "#2ca02c"),
    ("pouting", "#d62728"),
    ("reached by the campaign", "#4f8fd6"),
    ("none", "#d3d3d3"),
]
SERIES: list[tuple[str, str, str]] = [  # metric, panel title, colour
    ("reach", "reach — saw the campaign's own mentions", "#4f8fd6"),
    ("engaged_reach", "engaged reach — fans reached", "#2ca02c"),
    ("authenticity", "authenticity — organic share", "#9467bd"),
    ("pout_fans", "pout among left-out fans", "#d62728"),
]


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


def overrides(*, strategy: str = "score_threshold", threshold: int = 63, perks: int = 50,
              exclusivity: float = 0.5, transparency: float = 0.0, mention: str = "recommended",
              disclosure: bool = True, seed: int | str = 2012, size: int = DEFAULT_SIZE,
              start: int = CAMPAIGN_START) -> list[str]:
    """The dashboard's levers as scenario overrides (``path=value``) for campaign 0."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if mention not in MENTIONS:
        raise ValueError(f"unknown mention policy {mention!r}; choose one of {', '.join(MENTIONS)}")
    kinds = {
        "score_threshold": f"{{kind: score_threshold, threshold: {int(threshold)}}}",
        "outreach": f"{{kind: outreach, contacts: {int(perks)}}}",  # contacts play the perks' part
    }
    c = "campaigns[0]"
    return [
        f"seed={parse_seed(seed)}",
        f"population.size={max(2, min(int(size), MAX_LIVE_USERS))}",
        f"{c}.strategy={kinds.get(strategy, f'{{kind: {strategy}}}')}",
        f"{c}.perks={int(perks)}",
        f"{c}.start={int(start)}",
        f"{c}.exclusivity={float(exclusivity)}",
        f"{c}.rule_transparency={float(transparency)}",
        f"{c}.mention={mention}",
        f"{c}.disclosure={'true' if disclosure else 'false'}",
    ]


def make_scenario(base: str | os.PathLike[str] | None = None, **levers: Any) -> Scenario:
    """The base scenario with the dashboard's levers applied (see :func:`overrides`)."""
    return load_scenario(base_scenario_path(base), overrides=overrides(**levers))


class ClassroomModel(PerkCampaignModel):
    """A :class:`PerkCampaignModel` built from the dashboard's levers.

    SolaraViz re-creates the model on **Reset** by calling this class with the sidebar's
    values as keyword arguments, so every lever is a keyword here.
    """

    def __init__(self, strategy: str = "score_threshold", threshold: int = 63, perks: int = 50,
                 exclusivity: float = 0.5, transparency: float = 0.0,
                 mention: str = "recommended", disclosure: bool = True, seed: int | str = 2012,
                 size: int = DEFAULT_SIZE, base: str | None = None):
        self.levers = dict(strategy=strategy, threshold=threshold, perks=perks,
                           exclusivity=exclusivity, transparency=transparency, mention=mention,
                           disclosure=disclosure, seed=seed, size=size)
        scenario = make_scenario(base, **self.levers)
        super().__init__(scenario, rng=scenario.seed)


def lever_defaults(scenario: Scenario) -> dict[str, Any]:
    """The sidebar's starting values, read from the base scenario's first campaign."""
    camp = scenario.campaigns[0]
    kind = camp.strategy.kind if camp.strategy.kind in STRATEGIES else "score_threshold"
    transparency = (camp.rule_transparency if camp.rule_transparency is not None
                    else registry()[camp.strategy.kind].transparency)
    return dict(
        strategy=kind,
        threshold=round(getattr(camp.strategy, "threshold", 63)),
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
                     "value": d["strategy"], "values": STRATEGIES},
        "threshold": {"type": "SliderInt", "label": "Score threshold",
                      "value": d["threshold"], "min": 1, "max": 100, "step": 1},
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


# --- the network picture ------------------------------------------------------------------

_LAYOUTS: OrderedDict[str, np.ndarray] = OrderedDict()
_LAYOUT_CACHE_SIZE = 32
_LAYOUTS_LOCK = threading.Lock()


def _graph_key(model: PerkCampaignModel) -> str:
    f = model.graph.followers
    h = hashlib.sha1(np.int64(f.shape[0]).tobytes())
    h.update(np.ascontiguousarray(f.indptr).tobytes())
    h.update(np.ascontiguousarray(f.indices).tobytes())
    return h.hexdigest()


def layout(model: PerkCampaignModel) -> np.ndarray:
    """Node positions (n × 2) of the model's follows graph, computed once per graph.

    A networkx spring layout with a fixed seed, cached by the graph's content: re-creating
    a model with the same graph (Reset with the same seed and size) reuses it.
    """
    key = _graph_key(model)
    with _LAYOUTS_LOCK:  # browser sessions render in threads of one server
        pos = _LAYOUTS.get(key)
        if pos is None:
            import networkx as nx

            g = nx.from_scipy_sparse_array(model.graph.followers)
            placed = nx.spring_layout(g, seed=LAYOUT_SEED, iterations=60)
            pos = np.array([placed[i] for i in range(model.n)], dtype=float).reshape(model.n, 2)
            pos.setflags(write=False)  # shared by every session drawing this graph
            _LAYOUTS[key] = pos
            while len(_LAYOUTS) > _LAYOUT_CACHE_SIZE:
                _LAYOUTS.popitem(last=False)
        else:
            _LAYOUTS.move_to_end(key)
        return pos


def node_states(model: PerkCampaignModel, brand: int = 0) -> np.ndarray:
    """Each user's state index into :data:`STATES` (perk > adopted > pouting > reached > none);
    "reached" means by one of the campaign's own positive mentions, never by complaints."""
    threshold = model.spec.behaviour.pout_threshold
    state = np.full(model.n, len(STATES) - 1, dtype=np.int64)
    masks = [model.perk[:, brand] > 0, model.adopted[:, brand],
             model.pout[:, brand] >= threshold, model.reached_positive[:, brand]]
    for i in reversed(range(len(masks))):  # lowest priority first, then overwrite
        state[masks[i]] = i
    return state


def network_figure(model: PerkCampaignModel, brand: int = 0) -> Figure:
    """The follows network coloured by user state, with a legend counting each state."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(6.4, 6.0), dpi=100)
    ax = fig.add_axes((0.0, 0.13, 1.0, 0.76))
    ax.set_axis_off()
    if model.n > MAX_DRAWN_USERS:
        ax.text(0.5, 0.5, f"{model.n} users: too many to draw live.\n"
                "Use a smaller graph to see the network.", ha="center", va="center",
                fontsize=13, transform=ax.transAxes)
        return fig
    pos = layout(model)
    f = model.graph.followers.tocoo()
    keep = f.row < f.col  # mutual follows would be drawn twice
    segments = np.stack([pos[f.row[keep]], pos[f.col[keep]]], axis=1)
    ax.add_collection(LineCollection(segments, colors="#9a9a9a", linewidths=0.4, alpha=0.35,
                                     zorder=1))
    state = node_states(model, brand)
    followers = model.graph.followers_count.astype(float)
    size = 12 + 90 * np.sqrt(followers / max(followers.max(), 1.0))
    counts = np.bincount(state, minlength=len(STATES))
    for i in reversed(range(len(STATES))):  # draw "none" first, perks on top
        on = state == i
        if on.any():
            ax.scatter(pos[on, 0], pos[on, 1], s=size[on] * (1.6 if i == 0 else 1.0),
                       c=STATES[i][1], edgecolors="black" if i == 0 else "white",
                       linewidths=0.8 if i == 0 else 0.3, zorder=2 + len(STATES) - i)
    ax.autoscale_view()
    ax.margins(0.02)
    handles = [Line2D([], [], marker="o", linestyle="", markersize=10, markerfacecolor=colour,
                      markeredgecolor="black" if i == 0 else "white",
                      label=f"{label} ({counts[i]})")
               for i, (label, colour) in enumerate(STATES)]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=12, frameon=False,
               handletextpad=0.2, columnspacing=1.2)
    brand_name = model.brands[brand].name if model.brands else ""
    ax.set_title(f"Who follows whom — {brand_name}, day {model.t} of {model.spec.steps}\n"
                 "(bigger dot = more followers)", fontsize=12)
    return fig


def _steps_so_far(model: PerkCampaignModel) -> pd.DataFrame:
    """``model.steps_frame()``, safe while a step is being recorded in another thread.

    (SolaraViz's "Use Threads" draws while the model steps; a row is appended one column
    at a time, so the columns may briefly differ in length: keep only complete rows.)
    """
    table = {k: list(v) for k, v in model.datacollector.tables["steps"].items()}
    rows = min((len(v) for v in table.values()), default=0)
    return pd.DataFrame({k: v[:rows] for k, v in table.items()})


def metrics_figure(model: PerkCampaignModel, brand: int = 0) -> Figure:
    """Reach, engaged reach, authenticity and pout among left-out fans over the days."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 6.0), dpi=100, layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    frame = _steps_so_far(model)
    name = model.brands[brand].name if model.brands else None
    if not frame.empty and name is not None:
        frame = frame[frame["brand"] == name]
    start = model.brands[brand].campaign.start if model.brands else None
    for ax, (metric, title, colour) in zip(axes.flat, SERIES, strict=True):
        if not frame.empty:
            ax.plot(frame["step"], frame[metric], color=colour, linewidth=2)
        ax.set_title(title, fontsize=11)
        ax.set_xlim(0, model.spec.steps)
        values = frame[metric].to_numpy(dtype=float) if not frame.empty else np.zeros(0)
        top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
        if metric == "authenticity":
            ax.set_ylim(-0.02, 1.02)
        elif metric == "pout_fans":  # a share too, but small: zoom in unless it grows
            ax.set_ylim(-0.01, min(1.02, max(0.5, top * 1.15)))
        else:
            ax.set_ylim(0, max(10.0, top * 1.15))
        if start is not None:
            ax.axvline(start, color="#f2a900", linestyle="--", linewidth=1.2)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=10)
    for ax in axes[1]:
        ax.set_xlabel("day", fontsize=11)
    fig.suptitle("Campaign over time (dashed line: perks handed out)", fontsize=12)
    return fig


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
    rule = b.strategy.name
    if rule == "score_threshold":
        rule += f" ≥ {c.strategy.threshold:g}"
    amount = (f"{c.strategy.contacts} contacts" if rule == "outreach" else f"{c.perks} perks")
    return (f"Running: {rule} · {amount} · exclusivity {c.exclusivity:.2f} · "
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


# --- serving ------------------------------------------------------------------------------

_CDN_REF = re.compile(r"(?:\{\{\s*cdn\s*\}\}|\$\{this\.getCdn\(\)\})/"
                      r"((?:@[\w.\-]+/)?[\w.\-]+@\d+\.\d+\.\d+[\w.\-]*)/")
# solara files naming the CDN packages this page uses: the page template and the draggable
# grid SolaraViz lays its views out with (the page avoids solara.Markdown, which needs more)
_CDN_SOURCES = ("server/templates/solara.html.j2", "widgets/vue/gridlayout.vue",
                "widgets/vue/gridlayout_v3.vue")


def frontend_packages() -> list[str]:
    """The npm packages (``name@version``) the served page loads through solara's CDN proxy."""
    import ipyvue
    import solara.server.settings as solara_settings

    root = Path(solara.__file__).parent
    found: set[str] = set()
    for name in _CDN_SOURCES:
        if (root / name).exists():
            found.update(_CDN_REF.findall((root / name).read_text(encoding="utf-8")))
    # the template names the vuetify 2 and the vuetify 3 app; the server uses one
    unused = ("@widgetti/solara-vuetify-app@" if ipyvue.__version__.startswith("3")
              else "@widgetti/solara-vuetify3-app@")
    found = {p for p in found if not p.startswith(unused)}
    assets = solara_settings.assets
    if assets.fontawesome_enabled:
        found.add(assets.fontawesome_path.strip("/").split("/")[0])
    return sorted(found)


def frontend_cache_dir() -> Path:
    """Where solara's server looks for CDN files before fetching them (its proxy cache)."""
    import solara.server.settings as solara_settings

    return Path(solara_settings.assets.proxy_cache_dir)


def fetch_frontend_assets(cache_dir: Path | None = None, npm: str = "npm") -> list[str]:
    """Put the page's browser files into solara's CDN cache, from the npm registry.

    ``solara run`` fetches them from a CDN on first use; where only package registries can
    be reached (a school network, CI), this fetches the same packages with ``npm pack`` and
    unpacks them where the server looks first. Packages already there are skipped. Returns
    the packages fetched; raises ``RuntimeError`` if npm fails.
    """
    import shutil
    import tarfile
    import tempfile

    cache = Path(cache_dir) if cache_dir is not None else frontend_cache_dir()
    missing = [p for p in frontend_packages() if not (cache / p / "package.json").exists()]
    if not missing:
        return []
    exe = shutil.which(npm)
    if exe is None:
        raise RuntimeError(f"npm is needed to fetch {', '.join(missing)} (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in missing:
            done = subprocess.run([exe, "pack", "--silent", pkg], cwd=tmp, capture_output=True,
                                  text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"npm pack {pkg} failed: {done.stderr.strip()}")
            tarball = Path(tmp) / done.stdout.strip().splitlines()[-1]
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tarball) as tar:
                tar.extractall(unpacked, filter="data")
            target = cache / pkg
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(target, ignore_errors=True)
            shutil.move(str(unpacked / "package"), str(target))
            shutil.rmtree(unpacked, ignore_errors=True)
    return missing



def server_command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The ``solara run`` command line that serves :data:`page`."""
    return [sys.executable, "-m", "solara", "run", "simulator.views.dashboard:page", "--host", host,
            "--port", str(port), "--production"]


def server_env(scenario: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The environment for the server: the base scenario, no usage telemetry, less noise."""
    env = dict(os.environ)
    env[SCENARIO_ENV] = str(base_scenario_path(scenario).resolve())
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    # solara warns on every page load that a loopback http server cannot set https cookies
    quiet = "ignore:Cookies with samesite=none require https:UserWarning"
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), quiet]))
    return env


def exposure_warning(host: str, port: int) -> str | None:
    """A warning when ``host`` makes the dashboard reachable beyond this machine (anything
    but loopback: ``0.0.0.0``, ``::``, a LAN address or a name that resolves to one)."""
    import ipaddress
    import socket

    name = host.strip().strip("[]")
    if name.lower() in ("localhost", "localhost.localdomain"):
        return None
    try:
        addresses = {ipaddress.ip_address(name.split("%")[0])}
    except ValueError:
        try:
            addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0])
                         for info in socket.getaddrinfo(name, port)}
        except (OSError, UnicodeError, ValueError):
            addresses = set()
    if addresses and all(a.is_loopback for a in addresses):
        return None
    where = ("on every network interface of this machine"
             if any(a.is_unspecified for a in addresses) else f"at {host}")
    return (f"warning: the dashboard is served {where}, so anyone who can reach port {port} "
            "of this machine can use it (it has no login, and every visitor's model runs "
            "here); use --host 127.0.0.1 to keep it on this machine")


def serve(scenario: str | None = None, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the dashboard with ``solara run`` until interrupted (Ctrl+C).

    ``scenario`` is a scenario file or a bundled name (default ``klout_pout``); it is
    validated first, so a bad file fails here with located messages, not in the browser.
    A ``host`` beyond loopback is served, with a warning on standard error
    (:func:`exposure_warning`).
    """
    path = base_scenario_path(scenario)
    load_scenario(path)  # raises ScenarioError with file:line messages
    if warning := exposure_warning(host, port):
        print(warning, file=sys.stderr, flush=True)
    try:  # so the page also loads where only package registries are reachable
        if fetched := fetch_frontend_assets():
            print(f"fetched the page's browser files: {', '.join(fetched)}", flush=True)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"note: browser files not cached ({exc}); solara will fetch them from its CDN",
              file=sys.stderr, flush=True)
    env = server_env(path)
    print(f"dashboard: http://{host}:{port}  (scenario {path}; Ctrl+C to stop)", flush=True)
    proc = subprocess.Popen(server_command(host, port), env=env)

    def _stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:  # a plain `kill` of this process must not leave the server running
        previous = signal.signal(signal.SIGTERM, _stop)
    except ValueError:  # not the main thread: no signal handlers there
        previous = None
    interrupted = False
    try:
        proc.wait()
    except KeyboardInterrupt:  # Ctrl+C: the usual way to stop; the server got it too
        interrupted = True
    except SystemExit:
        interrupted = True
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not interrupted and proc.returncode not in (0, None):
            raise RuntimeError(f"the dashboard server (solara) exited with code {proc.returncode}")
