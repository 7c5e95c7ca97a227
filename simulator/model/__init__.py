"""The model layer: one simulated campaign, from graph to metrics (docs/model.md).

Bottom layer: it imports no other layer of the package. It reads a validated scenario
(:mod:`simulator.scenario`) by attribute, and names its types only for type checking.

- :mod:`~simulator.model.graphs` — social graphs: generators, bundled datasets, edge lists
- :mod:`~simulator.model.population` — users: archetypes, interests, regions, fans
- :mod:`~simulator.model.score` — the public influence score
- :mod:`~simulator.model.strategies` — who gets the perks (the strategy catalogue, plug-ins)
- :mod:`~simulator.model.dynamics` — vectorised kernels: mentions, exposure, adoption, pout
- :mod:`~simulator.model.metrics` — the metric catalogue and the per-brand metrics
- :mod:`~simulator.model.campaign` — :class:`PerkCampaignModel`, the mesa model tying them together
"""

from simulator.model.campaign import PerkCampaignModel, UserView

__all__ = ["PerkCampaignModel", "UserView"]
