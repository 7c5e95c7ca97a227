"""perksim — an agent-based simulator of influencer-perk campaigns and their fairness.

Public API (see docs/reference/api.md)::

    from simulator import load_scenario, PerkCampaignModel
    model = PerkCampaignModel(load_scenario("scenarios/klout_pout.yaml"), rng=2012)
    model.run()
    model.summary()

    from simulator import compare
    result = compare(load_scenario("scenarios/klout_pout.yaml"))  # variants × replicates
    result.comparison                                             # means with 95% CIs
"""

from simulator.experiment.plan import replicate_seed, run_once
from simulator.experiment.runner import ExperimentResult, compare, sweep
from simulator.model.campaign import PerkCampaignModel, UserView
from simulator.model.strategies import Strategy, register
from simulator.scenario.loader import load_scenario, scenario_from_text
from simulator.scenario.schema import Scenario, ScenarioError

__version__ = "0.1.0"

__all__ = [
    "ExperimentResult",
    "PerkCampaignModel",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "UserView",
    "__version__",
    "compare",
    "load_scenario",
    "register",
    "replicate_seed",
    "run_once",
    "scenario_from_text",
    "sweep",
]
