"""Holme–Kim graphs from perksim's generator against networkx's, at 10,000 users.

Prints, for each triangle-closing probability p, the mean and standard deviation over five
seeds of mean clustering, degree assortativity and the largest degree, for:
- ``perksim``: simulator.model.generators.preferential_attachment (vectorised numpy);
- ``networkx``: networkx.powerlaw_cluster_graph;
- ``networkx, random pop``: networkx's code transcribed, except that the degree-proportional
  candidate a node closes triangles around is popped at random, as in Holme & Kim (2002),
  rather than by ``set.pop()`` (the smallest, i.e. oldest, node id).

    python tools/compare_generators.py            # docs/model.md "The follows graph"
"""

from __future__ import annotations

import random
import sys

import networkx as nx
import numpy as np

from simulator.model import generators

N, M, SEEDS = 10_000, 4, range(5)


def holme_kim_random_pop(n: int, m: int, p: float, seed: int) -> nx.Graph:
    """networkx's powerlaw_cluster_graph with the candidates popped in random order."""
    rnd = random.Random(seed)
    g = nx.empty_graph(m)
    repeated = list(range(m))
    for source in range(m, n):
        candidates: set[int] = set()
        while len(candidates) < m:
            candidates.add(rnd.choice(repeated))
        order = list(candidates)
        rnd.shuffle(order)
        target = order.pop()
        g.add_edge(source, target)
        repeated.append(target)
        count = 1
        while count < m:
            if rnd.random() < p:
                free = [x for x in g.neighbors(target) if not g.has_edge(source, x) and x != source]
                if free:
                    x = rnd.choice(free)
                    g.add_edge(source, x)
                    repeated.append(x)
                    count += 1
                    continue
            target = order.pop()
            g.add_edge(source, target)
            repeated.append(target)
            count += 1
        repeated.extend([source] * m)
    return g


def ours(p: float, seed: int) -> nx.Graph:
    u, v = generators.preferential_attachment(N, M, p, np.random.default_rng(seed), "isolated")
    g = nx.empty_graph(N)
    g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    return g


def measure(g: nx.Graph) -> tuple[float, float, float]:
    return (nx.average_clustering(g), nx.degree_assortativity_coefficient(g),
            max(d for _, d in g.degree()))


def main(ps: list[float]) -> None:
    makers = {"perksim": ours,
              "networkx": lambda p, s: nx.powerlaw_cluster_graph(N, M, p, seed=s),
              "networkx, random pop": lambda p, s: holme_kim_random_pop(N, M, p, s)}
    print(f"Holme–Kim, {N:,} users, m = {M}; mean ± sd over {len(SEEDS)} seeds\n")
    print("| p | generator | mean clustering | assortativity | largest degree |")
    print("|---|---|---|---|---|")
    for p in ps:
        for name, make in makers.items():
            stats = np.array([measure(make(p, s)) for s in SEEDS])
            mean, sd = stats.mean(axis=0), stats.std(axis=0)
            print(f"| {p} | {name} | {mean[0]:.4f} ± {sd[0]:.4f} | {mean[1]:.4f} ± {sd[1]:.4f} "
                  f"| {mean[2]:.0f} ± {sd[2]:.0f} |")


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [0.0, 0.3, 0.9])
