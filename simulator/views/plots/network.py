"""The network picture: a deterministic layout of the follows graph (spectral start,
force-directed refinement, cached per graph) and users coloured by their state towards a brand."""

from __future__ import annotations

import functools
import threading

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulator.model.graphs import NETWORK_MAX_USERS
from simulator.scenario.schema import Behaviour
from simulator.views.plots.style import _legend
from simulator.views.plots.tables import _require

# "pouting" in the network picture when no scenario says otherwise: the scenario format's default
DEFAULT_POUT_THRESHOLD: float = Behaviour.model_fields["pout_threshold"].default
RASTERIZE_NODES = 1000  # above this many users, nodes are a bitmap inside the SVG (~1 kB each)
LAYOUT_SEED = 2012
# network picture: states in drawing order (later on top) and legend order (reversed); the
# labels are formatted with the pout threshold
NETWORK_STATES = [
    ("none", "never heard of the brand", "#BBBBBB"),
    ("aware", "heard of it (any mention, complaints too)", "#56B4E9"),
    ("pouting", "pouting, pout ≥ {threshold:g}", "#D55E00"),
    ("adopted", "adopted", "#009E73"),
    ("perk", "got a perk", "#E69F00"),
]


def _pairs(edges: pd.DataFrame) -> np.ndarray:
    """Sorted unique undirected pairs ``(u < v)`` of a follows table, without self-loops."""
    arr = edges[["author", "follower"]].to_numpy(dtype=np.int64).reshape(-1, 2)
    arr = arr[arr[:, 0] != arr[:, 1]]
    return np.unique(np.sort(arr, axis=1), axis=0)


def _spectral(pairs: np.ndarray, n: int, iterations: int = 300) -> np.ndarray:
    """Spectral start positions (Koren 2005, "Drawing graphs by eigenvectors"), deterministic.

    The two leading non-trivial eigenvectors of the lazy random walk ``(I + D⁻¹A)/2``, found by
    power iteration with degree-weighted orthogonalisation from a fixed start. The graph is
    regularised with a weak all-to-all tie of total weight ``τ`` = mean degree per user
    (regularised spectral embedding), so small components and isolated users do not take
    over the eigenvectors. Only sparse products and numpy sums are used: the same graph
    always gives the same positions, which ARPACK (networkx's ``spectral_layout``) does not
    guarantee from call to call.
    """
    adj = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    adj = (adj + adj.T).tocsr()
    degree = np.asarray(adj.sum(axis=1)).ravel()
    tau = max(float(degree.mean()), 1.0)
    degree = degree + tau
    rng = np.random.default_rng(LAYOUT_SEED)
    basis = [np.ones(n)]
    for _ in range(2):
        u = rng.random(n) - 0.5
        for _ in range(iterations):
            for b in basis:
                bb = (b * degree * b).sum()
                u = u - (u * degree * b).sum() / bb * b if bb > 0 else u
            u = 0.5 * (u + (adj @ u + tau * u.mean()) / degree)
            norm = np.sqrt((u * u).sum())
            if norm < 1e-12:  # fewer than three users: no second direction left
                u = np.zeros(n)
                break
            u = u / norm
        basis.append(u)
    return nx.rescale_layout(np.column_stack(basis[1:]))


_LAYOUT_LOCK = threading.Lock()  # the dashboard draws in threads of one server


@functools.lru_cache(maxsize=32)
def _layout(pairs: bytes, n: int) -> np.ndarray:
    edges = np.frombuffer(pairs, dtype=np.int64).reshape(-1, 2)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges.tolist())
    start = _spectral(edges, n)
    # force-directed refinement from the spectral start; networkx's sparse solver (n ≥ 500)
    # costs ~0.45 s per iteration at 3,000 users on this machine's kind: 6 iterations there
    # (≈ 3 s; the picture barely changes beyond), more for smaller graphs
    iterations = 50 if n < 500 else max(6, 15_000 // n)
    pos = nx.spring_layout(g, pos=dict(enumerate(start)), iterations=iterations, seed=LAYOUT_SEED,
                           method="force")
    out = np.array([pos[i] for i in range(n)], dtype=float)
    out.flags.writeable = False
    return out


def network_layout(edges: pd.DataFrame, n: int) -> np.ndarray:
    """Positions (``n × 2``) of users ``0…n-1`` for the follows graph in ``edges``.

    A spectral start refined by networkx's ``spring_layout`` (fixed seed, limited iterations);
    computed once per graph and cached (keyed on the table's edge pairs, whatever their
    order), so the pictures of all variants — and every redraw of a live model's graph in the
    dashboard — share one layout.
    """
    key = _pairs(edges).tobytes()
    with _LAYOUT_LOCK:  # one computation per graph, even when sessions ask at once
        return _layout(key, int(n))


def _flag(column: pd.Series) -> np.ndarray:
    return column.astype(str).str.strip().str.lower().isin(["true", "1", "1.0"]).to_numpy()


def network_states(users: pd.DataFrame, brand: str,
                   pout_threshold: float = DEFAULT_POUT_THRESHOLD) -> np.ndarray:
    """Each user's state towards ``brand`` for the network picture, by priority: ``perk`` (got a
    perk), ``adopted``, ``pouting`` (pout ≥ ``pout_threshold``, the scenario's
    ``behaviour.pout_threshold``), ``aware`` (reached), else ``none``."""
    state = np.full(len(users), "none", dtype=object)
    aware = _flag(users[f"aware_{brand}"])
    pouting = users[f"pout_{brand}"].fillna(0).to_numpy(dtype=float) >= pout_threshold
    adopted = _flag(users[f"adopted_{brand}"])
    perk = users[f"perk_{brand}"].fillna(0).to_numpy(dtype=float) > 0
    for mask, name in ((aware, "aware"), (pouting, "pouting"), (adopted, "adopted"), (perk, "perk")):
        state[mask] = name
    return state


def plot_network(users: pd.DataFrame, edges: pd.DataFrame, brand: str,
                 variant: str | None = None, *, pout_threshold: float = DEFAULT_POUT_THRESHOLD,
                 fig: Figure | None = None, title: str | None = None) -> Figure:
    """The follows graph with users coloured by their state towards ``brand`` — got a perk,
    adopted, pouting (pout ≥ ``pout_threshold``: the scenario's, see :func:`pout_threshold`),
    heard of the brand (any mention: this is awareness, ``reach_all``, not ``reach``), never
    heard of it — and sized by √followers.

    ``users`` is ``users.csv`` (one row per user per variant) or a live model's
    ``users_frame()``; ``variant`` defaults to the first. For sweeps, the first sweep point in
    the table is drawn. Graphs above ``NETWORK_MAX_USERS`` users are refused (the layout would
    be slow and unreadable). Drawn on ``fig`` if given (with a constrained layout, for the
    legend below), else on a new figure; ``title`` replaces the figure's title.
    """
    users = users.copy()
    if "variant" not in users.columns:
        users.insert(0, "variant", "base")
    users["variant"] = users["variant"].astype(str)
    _require(users, ["id", "followers", *(f"{c}_{brand}" for c in ("perk", "adopted", "aware", "pout"))],
             "plot_network")
    _require(edges, ["author", "follower"], "plot_network")
    variants = list(dict.fromkeys(users["variant"]))
    variant = variants[0] if variant is None else variant
    if variant not in variants:
        raise ValueError(f"no variant {variant!r} in users (variants: {', '.join(variants)})")
    part = users[users["variant"] == variant]
    if "point" in part.columns:
        part = part[part["point"] == part["point"].iloc[0]]
    part = part.sort_values("id")
    ids = part["id"].to_numpy(dtype=np.int64)
    n = int(max(ids.max(initial=-1), edges[["author", "follower"]].to_numpy().max(initial=-1)) + 1)
    if n == 0:
        raise ValueError("plot_network: no users to draw")
    if n > NETWORK_MAX_USERS:
        raise ValueError(f"plot_network: {n:,} users; pictures are drawn up to {NETWORK_MAX_USERS:,}")
    pos = network_layout(edges, n)
    pairs = _pairs(edges)
    fig = fig if fig is not None else Figure(figsize=(8.5, 7.5), layout="constrained")
    ax = fig.add_subplot()
    alpha = float(np.clip(12 / np.sqrt(max(len(pairs), 1)), 0.05, 0.5))
    ax.add_collection(LineCollection(pos[pairs], colors="#888888", linewidths=0.4, alpha=alpha,
                                     zorder=0, rasterized=True))  # keeps the SVG small
    followers = part["followers"].to_numpy(dtype=float)
    big = float(np.clip(36000 / max(n, 1), 30, 160))
    sizes = big * (0.08 + 0.92 * np.sqrt(followers / max(followers.max(initial=0), 1)))
    state = network_states(part, brand, pout_threshold)
    xy = pos[ids]
    for z, (key, label, color) in enumerate(NETWORK_STATES):
        label = label.format(threshold=pout_threshold)
        mask = state == key
        ax.scatter(xy[mask, 0], xy[mask, 1], s=sizes[mask], c=color, label=label,
                   edgecolors="black" if key == "perk" else "white",
                   linewidths={"perk": 0.6, "none": 0.0}.get(key, 0.3), zorder=z + 1,
                   alpha=0.6 if key == "none" else 1.0,  # the unreached crowd stays in the back
                   rasterized=n > RASTERIZE_NODES)
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=8, color=color,
                      markeredgecolor="black" if key == "perk" else "white")
               for key, _, color in NETWORK_STATES]
    labels = [f"{label.format(threshold=pout_threshold)} ({(state == key).sum():,})"
              for key, label, _ in NETWORK_STATES]
    _legend(fig, handles[::-1], labels[::-1], "state towards the brand (users)")
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    fig.suptitle(title or f"{brand}, variant {variant}: who got a perk, who adopted, who pouts\n"
                 f"{len(part):,} users, {len(pairs):,} follow ties; node size ∝ √followers",
                 fontsize=11)
    return fig
