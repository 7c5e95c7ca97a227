"""perksim — an agent-based simulator of influencer-perk campaigns and their fairness.

Public API (see docs/reference/api.md)::

    from simulator import load_scenario, PerkCampaignModel
    model = PerkCampaignModel(load_scenario("scenarios/klout_pout.yaml"), rng=2012)
    model.run()
    model.summary()

    from simulator import compare, Results
    result = compare(load_scenario("scenarios/klout_pout.yaml"))  # variants × replicates
    result.comparison                                             # means with 95% CIs
    folder = result.save("results")                               # what perksim compare writes
    Results.open(folder).report()                                 # report.html and report.md

The names are imported on first use (PEP 562), so that ``import simulator`` (and with it
``perksim --version`` and ``perksim list``) does not load pandas, Mesa or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator._lazy import exports

__version__ = "0.2.0"

# each public name and the module it comes from
_EXPORTS = {
    "Experiment": "simulator.api",
    "ExperimentResult": "simulator.experiment.runner",
    "PerkCampaignModel": "simulator.model.campaign",
    "Results": "simulator.api",
    "Scenario": "simulator.scenario.schema",
    "ScenarioError": "simulator.scenario.schema",
    "Strategy": "simulator.model.strategies",
    "UserView": "simulator.model.campaign",
    "compare": "simulator.api",
    "load_scenario": "simulator.scenario.loader",
    "register": "simulator.model.strategies",
    "replicate_seed": "simulator.experiment.plan",
    "robust": "simulator.api",
    "run": "simulator.api",
    "run_once": "simulator.experiment.plan",
    "scenario_from_text": "simulator.scenario.loader",
    "sweep": "simulator.api",
}

__all__ = [
    "Experiment",
    "ExperimentResult",
    "PerkCampaignModel",
    "Results",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "UserView",
    "__version__",
    "compare",
    "load_scenario",
    "register",
    "replicate_seed",
    "robust",
    "run",
    "run_once",
    "scenario_from_text",
    "sweep",
]


__getattr__, __dir__ = exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from simulator.api import Experiment, Results, compare, robust, run, sweep
    from simulator.experiment.plan import replicate_seed, run_once
    from simulator.experiment.runner import ExperimentResult
    from simulator.model.campaign import PerkCampaignModel, UserView
    from simulator.model.strategies import Strategy, register
    from simulator.scenario.loader import load_scenario, scenario_from_text
    from simulator.scenario.schema import Scenario, ScenarioError
