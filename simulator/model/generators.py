"""Random graph generators vectorised with numpy and driven only by the run's Generator.

networkx's generators are pure Python: at a million users its Holme–Kim generator took
about a minute, and at 3,000 users it was most of a run's time. igraph and networkit have
C cores but draw from process-wide random state (igraph's ``set_random_number_generator``,
networkit's ``setSeed``), which the project's rule — randomness only from the run's
``numpy.random.Generator`` — excludes, and neither has Holme–Kim. So each generated kind is
written here as whole-array numpy operations on the run's generator, each one the published
model it names, and ``tests/test_generators.py`` checks them against networkx's
distributionally at 10,000 users (degree distribution by a two-sample KS test, mean
clustering, assortativity).

All functions return undirected edges as two int64 arrays ``(u, v)``; self-loops and repeated
edges may remain where noted and are dropped by :func:`simulator.model.graphs.from_edges`.
"""

from __future__ import annotations

import numpy as np

Edges = tuple[np.ndarray, np.ndarray]
#: Rounds of redrawing a repeated choice before it is left to be dropped as a duplicate.
REDRAW_ROUNDS = 12
#: Up to this many candidate pairs G(n, p) draws every pair; above, the edge count and then
#: that many distinct pairs (which takes less memory than listing every pair).
ENUMERATE_PAIRS = 200_000


def _empty() -> Edges:
    return np.empty(0, np.int64), np.empty(0, np.int64)


def _resolve(src: np.ndarray, tgt: np.ndarray, ptr: np.ndarray, todo: np.ndarray) -> None:
    """Fill ``tgt[todo]`` by following pointers into the endpoint list, in place.

    Position ``2e`` of the endpoint list is edge ``e``'s source, ``2e + 1`` its target. An
    unresolved target at edge ``e`` points at an earlier position ``ptr[e]``; a pointer to a
    target not yet known is followed to that target's own pointer (Batagelj & Brandes 2005).
    Half the pointers land on a known end, so the unresolved halve at each pass.
    """
    cur = ptr[todo]
    pending = np.arange(todo.size, dtype=todo.dtype)
    while pending.size:
        half = cur >> 1
        val = tgt[half]
        even = (cur & 1) == 0
        val[even] = src[half[even]]
        done = val >= 0
        tgt[todo[pending[done]]] = val[done]
        keep = ~done
        pending = pending[keep]
        cur = ptr[half[keep]]


def _repeats(rows: np.ndarray) -> np.ndarray:
    """Mask of entries equal to an earlier entry of the same row."""
    mask = np.zeros(rows.shape, dtype=bool)
    if rows.shape[1] <= 8:  # a few column comparisons beat sorting every row
        for j in range(1, rows.shape[1]):
            mask[:, j] = (rows[:, :j] == rows[:, j:j + 1]).any(axis=1)
        return mask
    order = np.argsort(rows, axis=1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=1)
    r, k = np.nonzero(ordered[:, 1:] == ordered[:, :-1])
    mask[r, order[r, k + 1]] = True
    return mask


#: Candidates drawn at once for a repeated triangle-closing choice.
CLOSE_TRIES = 16


def preferential_attachment(n: int, m: int, p: float, rng: np.random.Generator,
                            start_from: str = "star") -> Edges:
    """Holme & Kim's (2002) growth model; Barabási & Albert's (1999) when ``p = 0``.

    The graph starts from a star of ``m + 1`` nodes (``start_from="star"``, networkx's
    ``barabasi_albert_graph``) or from ``m`` nodes each counted once before node ``m`` joins
    them all (``"isolated"``, networkx's ``powerlaw_cluster_graph``). Every later node adds
    ``m`` edges. The first goes to a node chosen in proportion to its degree; each further
    one, with probability ``p``, closes a triangle with a random neighbour of the last node so
    chosen, and otherwise is another degree-proportional choice.

    As in Batagelj & Brandes (2005, "Efficient generation of large random networks"), a
    degree-proportional choice is a uniformly drawn earlier position of the endpoint list, so
    all choices are drawn at once and resolved by following pointers. The first triangle
    closed after a choice takes the other end of the very edge through which the node was
    chosen: conditioned on the node, that edge is uniform among its edges. A node's repeated
    choices are drawn again (:func:`_redraw_repeats`).
    """
    m = min(m, n - 1)
    if m < 1:
        return _empty()
    centre = 0 if start_from == "star" else m
    # phantom endpoints: each initial node counted once more, as powerlaw_cluster_graph does
    phantom = 0 if start_from == "star" else (m + 1) // 2
    first = phantom + m  # edges known before the growth
    later = n - m - 1
    edges = first + later * m
    index = np.int32 if 2 * edges < 2**31 else np.int64  # half the memory traffic
    src = np.empty(edges, index)
    tgt = np.full(edges, -1, index)
    ring = np.arange(2 * phantom) % m
    src[:phantom], tgt[:phantom] = ring[0::2], ring[1::2]
    src[phantom:first] = centre
    tgt[phantom:first] = np.arange(1, m + 1) if start_from == "star" else np.arange(m)
    if later > 0:
        nodes = np.arange(m + 1, n, dtype=index)
        src[first:] = np.repeat(nodes, m)
        start = 2 * (first + (nodes - m - 1) * m)  # endpoint positions before the node's
        ptr = np.zeros(edges, index)
        draw = (rng.random((later, m)) * start[:, None]).astype(index)
        attach = np.ones((later, m), dtype=bool)
        if p > 0 and m > 1:
            attach[:, 1:] = rng.random((later, m - 1)) >= p
        slot = np.broadcast_to(np.arange(m), (later, m))
        last = np.maximum.accumulate(np.where(attach, slot, 0), axis=1)
        through = np.take_along_axis(draw, last, axis=1)
        ptr[first:] = np.where(attach, draw, through ^ 1).ravel()
        _resolve(src, tgt, ptr, np.arange(first, edges, dtype=index))
        _redraw_repeats(src, tgt, ptr, first, attach, last, start, n, rng)
    return src[phantom:].astype(np.int64), tgt[phantom:].astype(np.int64)


def _redraw_repeats(src: np.ndarray, tgt: np.ndarray, ptr: np.ndarray, first: int,
                    attach: np.ndarray, last: np.ndarray, start: np.ndarray, n: int,
                    rng: np.random.Generator) -> None:
    """Draw again each choice that repeats an earlier one of the same node, in place.

    A repeated triangle-closing choice takes a uniformly drawn neighbour of the same chosen
    node among those it had when the node joined and the node is not yet tied to, as
    networkx does; it becomes a degree-proportional choice when there is none. A repeated
    degree-proportional choice is drawn again. After the first round, which redraws most,
    every choice still given by a pointer is resolved again, so later nodes see the redrawn
    edges; the few redrawn in later rounds are not followed.
    """
    later, m = attach.shape
    rows = tgt[first:].reshape(later, m)
    attach = attach.copy()
    fixed = np.zeros(tgt.size, dtype=bool)
    fixed[:first] = True
    drawn_from = np.full((later, m), -1, np.int64)  # the node a redrawn triangle closed on
    check = np.arange(later)  # the rows that may hold a repeat
    for round_ in range(REDRAW_ROUNDS):
        sub = rows[check]
        chosen = np.take_along_axis(sub, last[check], axis=1)
        stale = (drawn_from[check] >= 0) & (drawn_from[check] != chosen)
        rr, k = np.nonzero(_repeats(sub) | stale)
        if rr.size == 0:
            break
        r = check[rr]
        edge = first + r * m + k
        close = np.flatnonzero(~attach[r, k])
        if close.size:
            w = chosen[rr[close], k[close]]
            pick, found = _earlier_neighbour(src, tgt, n, w, r[close] + m + 1, rows[r[close]],
                                             rng)
            tgt[edge[close[found]]] = pick[found]
            fixed[edge[close[found]]] = True
            drawn_from[r[close[found]], k[close[found]]] = w[found]
            lost = close[~found]
            attach[r[lost], k[lost]] = True
            fixed[edge[lost]] = False
            drawn_from[r[lost], k[lost]] = -1
        anew = attach[r, k]
        pos = (rng.random(int(anew.sum())) * start[r[anew]]).astype(np.int64)
        if round_ == 0:
            # the first round redraws most (a node's second triangle repeats its first), so
            # every choice given by a pointer is resolved again: later nodes see the new edges
            ptr[edge[anew]] = pos
            todo = np.flatnonzero(~fixed).astype(src.dtype)
            tgt[todo] = -1
            _resolve(src, tgt, ptr, todo)
        else:  # later rounds redraw a few in a thousand; they are drawn in place
            tgt[edge[anew]] = np.where((pos & 1) == 0, src[pos >> 1], tgt[pos >> 1])
            check = np.unique(r)


def _earlier_neighbour(src: np.ndarray, tgt: np.ndarray, n: int, w: np.ndarray,
                       before: np.ndarray, taken: np.ndarray,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """For each ``w``, a uniform neighbour below ``before`` and not in its row of ``taken``."""
    wanted = np.zeros(n, dtype=bool)
    wanted[w] = True
    a = wanted[src]
    b = wanted[tgt]
    w = w.astype(np.int64)
    keys = np.sort(np.concatenate([src[a].astype(np.int64) * n + tgt[a],
                                   tgt[b].astype(np.int64) * n + src[b]]))
    lo = np.searchsorted(keys, w * n)
    count = np.searchsorted(keys, w * n + before) - lo
    cands = keys[lo[:, None] + (rng.random((w.size, CLOSE_TRIES)) * count[:, None])
                 .astype(np.int64)] % n if keys.size else np.zeros((w.size, CLOSE_TRIES), int)
    free = ~(cands[:, :, None] == taken[:, None, :]).any(axis=2) & (count[:, None] > 0)
    found = free.any(axis=1)
    return cands[np.arange(w.size), free.argmax(axis=1)], found


def _pairs_within(lo: int, size: int, p: float, rng: np.random.Generator) -> Edges:
    """G(size, p) on the nodes ``lo … lo + size - 1``: each pair joined independently."""
    pairs = size * (size - 1) // 2
    if pairs == 0 or p <= 0:
        return _empty()
    if pairs <= ENUMERATE_PAIRS:
        u, v = np.triu_indices(size, k=1)
        keep = rng.random(pairs) < p
        return u[keep].astype(np.int64) + lo, v[keep].astype(np.int64) + lo
    count = int(rng.binomial(pairs, p))
    return _distinct(count, lambda k: _draw_pairs(size, k, rng), size, lo)


def _draw_pairs(size: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    u = rng.integers(0, size, k)
    v = rng.integers(0, size - 1, k)
    v += v >= u
    return u, v


def _distinct(count: int, draw, size: int, lo: int = 0) -> Edges:
    """The first ``count`` distinct unordered pairs of a stream of uniform draws.

    Rejection sampling without replacement: the first ``count`` distinct draws are a uniform
    random ``count``-subset, so G(n, p) given its edge count is exact.
    """
    keys = np.empty(0, np.int64)
    while keys.size < count:
        u, v = draw(int((count - keys.size) * 1.05) + 16)
        new = np.minimum(u, v) * size + np.maximum(u, v)
        keys = np.concatenate([keys, new])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
    keys = keys[:count]
    return keys // size + lo, keys % size + lo


def erdos_renyi(n: int, p: float, rng: np.random.Generator) -> Edges:
    """Gilbert's G(n, p): every pair of users joined independently with probability ``p``."""
    return _pairs_within(0, n, p, rng)


def stochastic_block(sizes: list[int], within: float, between: float,
                     rng: np.random.Generator) -> Edges:
    """The planted-partition stochastic block model over consecutive blocks of ``sizes``."""
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    parts = [_pairs_within(int(starts[b]), s, within, rng) for b, s in enumerate(sizes)]
    n = int(starts[-1])
    if len(sizes) > 1 and between > 0:
        block = np.repeat(np.arange(len(sizes)), sizes)
        squares = sum(s * s for s in sizes)
        pairs = (n * n - squares) // 2
        count = int(rng.binomial(pairs, min(between, 1.0)))

        def draw(k: int) -> tuple[np.ndarray, np.ndarray]:
            u, v = _draw_pairs(n, k, rng)
            apart = block[u] != block[v]
            return u[apart], v[apart]

        parts.append(_distinct(count, draw, n))
    return (np.concatenate([a for a, _ in parts]) if parts else np.empty(0, np.int64),
            np.concatenate([b for _, b in parts]) if parts else np.empty(0, np.int64))


def watts_strogatz(n: int, k: int, p: float, rng: np.random.Generator) -> Edges:
    """Watts & Strogatz (1998): a ring of ``k`` nearest neighbours, each edge rewired with ``p``.

    A rewired edge keeps its first end and moves its second to a uniformly drawn user; a draw
    that would make a self-loop or repeat an edge is drawn again, as in networkx, and an edge
    that finds no free end within the rounds keeps its place.
    """
    half = min(k, n - 1) // 2
    if half == 0:
        return _empty()
    u = np.tile(np.arange(n, dtype=np.int64), half)
    v = (u + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n
    moved = np.flatnonzero(rng.random(u.size) < p)
    is_moved = np.zeros(u.size, dtype=bool)
    is_moved[moved] = True
    lattice = v.copy()
    pending = moved
    for _ in range(REDRAW_ROUNDS):
        if pending.size == 0:
            break
        v[pending] = rng.integers(0, n, pending.size)
        keys = np.minimum(u, v) * n + np.maximum(u, v)
        order = np.lexsort((is_moved, keys))  # of equal edges, an unmoved one comes first
        ordered = keys[order]
        repeat = np.zeros(keys.size, dtype=bool)
        repeat[order[1:]] = ordered[1:] == ordered[:-1]
        pending = np.flatnonzero(((u == v) | repeat) & is_moved)
    v[pending] = lattice[pending]
    return u, v


def balanced_tree(branching: int, height: int) -> Edges:
    """The full ``branching``-ary tree of ``height`` levels, numbered breadth first."""
    n = height + 1 if branching == 1 else (branching ** (height + 1) - 1) // (branching - 1)
    child = np.arange(1, n, dtype=np.int64)
    return (child - 1) // branching, child
