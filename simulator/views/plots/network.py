"""The network picture: a deterministic layout of the follows graph (spectral start,
force-directed refinement, cached per graph), users coloured by their state towards a brand and
ringed when they are its fans; above :data:`NETWORK_WHOLE` users, a reproducible sample of
:data:`NETWORK_SAMPLE` of them around the perk recipients."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy.sparse.csgraph import connected_components

from simulator.model.graphs import NETWORK_MAX_USERS
from simulator.scenario.schema import Behaviour
from simulator.views.plots.style import _fit, _legend
from simulator.views.plots.tables import _require

# "pouting" in the network picture when no scenario says otherwise: the scenario format's default
DEFAULT_POUT_THRESHOLD: float = Behaviour.model_fields["pout_threshold"].default
RASTERIZE_NODES = 1000  # above this many users, nodes are a bitmap inside the SVG (~1 kB each)
LAYOUT_SEED = 2012
# graphs of up to NETWORK_WHOLE users are drawn whole (the dashboard's live models have at most
# 600); larger ones as a sample of NETWORK_SAMPLE users around the perk recipients
NETWORK_WHOLE = 600
NETWORK_SAMPLE = 400
SAMPLE_GROUPS = ("perk recipients", "users who follow them", "other users")
FAN_RING = "#000000"  # fans of the brand: a black ring around the dot, whatever its state
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


@dataclass(frozen=True)
class NetworkSample:
    """The users the network picture draws (:func:`network_sample`): their ids, sorted, and the
    population's members of each group of :data:`SAMPLE_GROUPS` they were drawn from."""

    ids: np.ndarray
    pools: dict[str, np.ndarray]

    @property
    def groups(self) -> dict[str, tuple[int, int]]:
        """Per group: how many were drawn, of how many in the population."""
        return {g: (int(np.isin(pool, self.ids).sum()), len(pool)) for g, pool in self.pools.items()}

    @property
    def everyone(self) -> bool:
        """Whether every user is drawn."""
        return all(drawn == total for drawn, total in self.groups.values())

    def rule(self) -> str:
        """The sample rule in words, e.g. "all 50 perk recipients, 275 of the 1,432 users
        who follow them and 275 of the 1,518 other users, at random"."""
        if self.everyone:
            return f"all {len(self.ids):,} users"
        parts = [f"all {total:,} {group}" if drawn == total else f"{drawn:,} of the {total:,} {group}"
                 for group, (drawn, total) in self.groups.items() if total]
        return (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + ", at random"


def _draw(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    return pool if k >= len(pool) else np.sort(rng.choice(pool, size=k, replace=False))


def network_sample(ids: np.ndarray, perk: np.ndarray, edges: pd.DataFrame,
                   size: int = NETWORK_SAMPLE, seed: int | None = None,
                   whole: int = NETWORK_WHOLE) -> NetworkSample:
    """The users drawn in the network picture: everyone if there are at most ``max(whole,
    size)``, else a sample of ``size`` around the perk recipients (``perk``: a mask over ``ids``).

    Up to half of ``size`` goes to the recipients (all of them, unless there are more), half of
    what is left to the users who follow a drawn recipient (their audience: who sees their
    mentions), the rest to the other users (and to more recipients if there are too few of
    them); each group is drawn at random without replacement with a numpy Generator seeded
    with ``seed`` (the run's seed; :data:`LAYOUT_SEED` if None), so the same run always gives
    the same picture.
    """
    ids = np.asarray(ids, dtype=np.int64)
    recipients = np.unique(ids[np.asarray(perk, dtype=bool)])
    ids = np.unique(ids)
    rng = np.random.default_rng(LAYOUT_SEED if seed is None else seed)
    size = max(int(size), 1)
    everyone = len(ids) <= max(size, whole)  # then every draw below takes its whole pool
    take_r = _draw(rng, recipients, len(recipients) if everyone else max(size // 2, 1))
    author = edges["author"].to_numpy(dtype=np.int64)
    audience = np.unique(edges["follower"].to_numpy(dtype=np.int64)[np.isin(author, take_r)])
    followers = np.setdiff1d(np.intersect1d(audience, ids), recipients)
    take_f = _draw(rng, followers, len(followers) if everyone else (size - len(take_r)) // 2)
    others = np.setdiff1d(ids, np.union1d(recipients, followers))
    take_o = _draw(rng, others, size - len(take_r) - len(take_f))
    # too few others (most users got a perk): more recipients fill the sample
    more = _draw(rng, np.setdiff1d(recipients, take_r), size - len(take_r) - len(take_f) - len(take_o))
    return NetworkSample(np.sort(np.concatenate([take_r, more, take_f, take_o])),
                         dict(zip(SAMPLE_GROUPS, (recipients, followers, others), strict=True)))


def _ring_outliers(pos: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, int]:
    """``pos`` (a sample's layout, ``pairs`` its ties) with the users outside the largest
    connected group — the layout flings them far out, stacked on a few points, which shrinks
    the rest — spread evenly on a circle just around that group, each small group together;
    and how many they are."""
    n = len(pos)
    adj = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    out = label != np.argmax(np.bincount(label))
    if not out.any():
        return pos, 0
    pos = np.array(pos, dtype=float)
    centre = pos[~out].mean(axis=0)
    radius = 1.1 * max(float(np.linalg.norm(pos[~out] - centre, axis=1).max()), 0.5)
    order = np.flatnonzero(out)[np.lexsort((np.flatnonzero(out), label[out]))]  # groups together
    angle = 2 * np.pi * np.arange(len(order)) / len(order)
    pos[order] = centre + radius * np.column_stack([np.cos(angle), np.sin(angle)])
    return pos, len(order)


def _label(text: str, total: int, drawn: int, everyone: bool) -> str:
    return f"{text} ({total:,})" if everyone else f"{text} ({total:,}; {drawn:,} drawn)"


def _share(part: np.ndarray) -> str:
    return f"{100 * part.mean():.0f}%" if len(part) else "none"


def _fan_legend(ax: Axes, fan: np.ndarray, drawn: np.ndarray, groups: list[np.ndarray],
                everyone: bool) -> None:
    """The fans' key, just above the picture: a black ring, the whole population's count, and
    how many of the recipients, of the users who follow them and of the others are fans."""
    recipients, followers, others = (fan[g] for g in groups)
    ring = Line2D([], [], linestyle="none", marker="o", markersize=8, color="#BBBBBB",
                  markeredgecolor=FAN_RING, markeredgewidth=1.5)
    among = (f"{int(recipients.sum()):,} of {len(recipients):,} perk recipients, {_share(followers)} "
             f"of the users who follow them, {_share(others)} of the other users" if len(recipients)
             else f"{_share(fan)} of all users (no perks given yet)")
    label = _label("black ring: a fan of the brand, whatever the colour", int(fan.sum()),
                   int((fan & drawn).sum()), everyone)
    width = ax.get_figure().get_figwidth() - 0.8  # inches left for the text beside the ring
    ax.legend([ring], [f"{label}\n{_fit(f'fans are {among}', width, 9)}"], loc="lower center",
              bbox_to_anchor=(0.5, 1.0), fontsize=9, frameon=False, borderaxespad=0.2)


def plot_network(users: pd.DataFrame, edges: pd.DataFrame, brand: str,
                 variant: str | None = None, *, pout_threshold: float = DEFAULT_POUT_THRESHOLD,
                 fig: Figure | None = None, title: str | None = None,
                 sample: int = NETWORK_SAMPLE, seed: int | None = None,
                 whole: int = NETWORK_WHOLE) -> Figure:
    """The follows graph with users coloured by their state towards ``brand`` — got a perk,
    adopted, pouting (pout ≥ ``pout_threshold``: the scenario's, see :func:`pout_threshold`),
    heard of the brand (any mention: this is awareness, ``reach_all``, not ``reach``), never
    heard of it — ringed in black when they are the brand's fans, and sized by √followers.

    Graphs of at most ``max(whole, sample)`` users are drawn whole; larger ones as the sample of
    :func:`network_sample` (the perk recipients, users who follow them and other users, drawn
    with a Generator seeded with ``seed``, the run's seed), laid out on the follows among the
    drawn users. The legends count the whole population (``N; M drawn`` when sampled), and
    the title states the sample rule and the number of follows: directed follow relations,
    one per row of ``edges.csv`` (a mutual follow is two follows, drawn as one line).

    ``users`` is ``users.csv`` (one row per user per variant) or a live model's
    ``users_frame()``; ``variant`` defaults to the first. For sweeps, the first sweep point in
    the table is drawn. Graphs above ``NETWORK_MAX_USERS`` users are refused. Drawn on ``fig``
    if given (with a constrained layout, for the legends below), else on a new figure;
    ``title`` replaces the figure's title.
    """
    users = users.copy()
    if "variant" not in users.columns:
        users.insert(0, "variant", "base")
    users["variant"] = users["variant"].astype(str)
    columns = [f"{c}_{brand}" for c in ("perk", "adopted", "aware", "pout", "fan")]
    _require(users, ["id", "followers", *columns], "plot_network")
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
    state = network_states(part, brand, pout_threshold)
    fan = _flag(part[f"fan_{brand}"])
    drawn = network_sample(ids, state == "perk", edges, sample, seed, whole)
    follows = np.unique(edges[["author", "follower"]].to_numpy(dtype=np.int64).reshape(-1, 2), axis=0)
    follows = follows[follows[:, 0] != follows[:, 1]]
    if drawn.everyone:
        pos, keep = network_layout(edges, n), np.ones(len(ids), dtype=bool)  # the cached full layout
        apart = 0
        inner = follows
    else:
        keep = np.isin(ids, drawn.ids)
        inner = follows[np.isin(follows, drawn.ids).all(axis=1)]
        local = np.searchsorted(drawn.ids, inner)  # users renumbered 0…k-1 in the drawn subgraph
        pos = np.zeros((n, 2))
        pos[drawn.ids], apart = _ring_outliers(network_layout(
            pd.DataFrame(local, columns=["author", "follower"]), len(drawn.ids)), local)
    pairs = _pairs(pd.DataFrame(inner, columns=["author", "follower"]))
    fig = fig if fig is not None else Figure(figsize=(8.5, 8.5), layout="constrained")
    ax = fig.add_subplot()
    alpha = float(np.clip(12 / np.sqrt(max(len(pairs), 1)), 0.05, 0.5))
    ax.add_collection(LineCollection(pos[pairs], colors="#888888", linewidths=0.4, alpha=alpha,
                                     zorder=0, rasterized=True))  # keeps the SVG small
    followers = part["followers"].to_numpy(dtype=float)
    k = int(keep.sum())
    big = float(np.clip(36000 / max(k, 1), 30, 160))
    sizes = big * (0.08 + 0.92 * np.sqrt(followers / max(followers.max(initial=0), 1)))
    xy = pos[ids]
    for z, (key, label, color) in enumerate(NETWORK_STATES):
        mask = (state == key) & keep
        ring = fan[mask]
        ax.scatter(xy[mask, 0], xy[mask, 1], s=sizes[mask], label=label.format(threshold=pout_threshold),
                   facecolors=to_rgba(color, 0.6 if key == "none" else 1.0),  # the unreached in the back
                   edgecolors=np.where(ring, FAN_RING, "white").tolist(),
                   linewidths=np.where(ring, 1.3, 0.0 if key == "none" else 0.3), zorder=z + 1,
                   rasterized=k > RASTERIZE_NODES)
    every = drawn.everyone
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=8, color=color,
                      markeredgecolor="white") for _, _, color in NETWORK_STATES]
    labels = [_label(label.format(threshold=pout_threshold), int((state == key).sum()),
                     int(((state == key) & keep).sum()), every) for key, label, _ in NETWORK_STATES]
    whole_text = f"of {len(part):,} users" + ("" if every else f"; {k:,} drawn")
    _legend(fig, handles[::-1], labels[::-1], f"state towards the brand ({whole_text})")
    _fan_legend(ax, fan, keep, [np.isin(ids, pool) for pool in drawn.pools.values()], every)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    circle = (f"; the {apart:,} not tied to the main group sit on the outer circle" if apart else "")
    shown = "" if every else _fit(f"Drawn: {drawn.rule()}, with the {len(inner):,} follows among "
                                  f"them{circle}.", fig.get_figwidth() - 0.3, 10)
    fig.suptitle(title or f"{brand}, variant {variant}: do the perks sit among the fans?\n"
                 f"{len(part):,} users, {len(follows):,} follows (rows of edges.csv); "
                 f"node size ∝ √followers" + (f"\n{shown}" if shown else ""), fontsize=10)
    return fig
