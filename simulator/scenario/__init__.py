"""The scenario layer: what to simulate, read and validated once (docs/reference/scenario.md).

It builds on the model layer's catalogues (strategies, graph kinds, metrics), so a scenario is
checked against what the model can do; it imports nothing from the experiment or view layers.

- :mod:`~simulator.scenario.schema` — the typed sections, their ranges and defaults
- :mod:`~simulator.scenario.reader` — bounded YAML reading, with positions
- :mod:`~simulator.scenario.loader` — ``extends:``, overrides, variants, validation
- :mod:`~simulator.scenario.messages`, :mod:`~simulator.scenario.checks` — located error
  messages, and the checks across fields
- :mod:`~simulator.scenario.memory` — the size limit and memory estimate
- :mod:`~simulator.scenario.library` — the bundled scenario files
- :mod:`~simulator.scenario.sources` — where each behavioural parameter comes from
"""

from simulator.scenario.loader import (
    load_scenario,
    make_variant,
    scenario_from_text,
    validate_document,
)
from simulator.scenario.schema import Campaign, Population, Problem, Scenario, ScenarioError

__all__ = [
    "Campaign", "Population", "Problem", "Scenario", "ScenarioError", "load_scenario",
    "make_variant", "scenario_from_text", "validate_document",
]
