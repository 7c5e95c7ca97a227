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

The names below are imported on first use (PEP 562): :mod:`~simulator.scenario.library` alone
(``perksim list``) needs neither pydantic nor the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator._lazy import exports

_EXPORTS = {
    "Campaign": "simulator.scenario.schema",
    "Population": "simulator.scenario.schema",
    "Problem": "simulator.scenario.schema",
    "Scenario": "simulator.scenario.schema",
    "ScenarioError": "simulator.scenario.schema",
    "load_scenario": "simulator.scenario.loader",
    "make_variant": "simulator.scenario.loader",
    "scenario_from_text": "simulator.scenario.loader",
    "validate_document": "simulator.scenario.loader",
}

__all__ = [
    "Campaign", "Population", "Problem", "Scenario", "ScenarioError", "load_scenario",
    "make_variant", "scenario_from_text", "validate_document",
]


__getattr__, __dir__ = exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from simulator.scenario.loader import (
        load_scenario,
        make_variant,
        scenario_from_text,
        validate_document,
    )
    from simulator.scenario.schema import Campaign, Population, Problem, Scenario, ScenarioError
