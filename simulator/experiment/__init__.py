"""The experiment layer: many seeded runs of a scenario, turned into tables.

It builds on the scenario and model layers; nothing here draws or writes prose.

- :mod:`~simulator.experiment.plan` — seeds, variants, sweep points, tasks, one run
- :mod:`~simulator.experiment.executors` — serial, process pool and Dask executors
- :mod:`~simulator.experiment.runner` — :func:`run_experiment`: tasks → tables (the
  :mod:`simulator.api` wraps it in ``compare``, ``sweep`` and ``Results``)
- :mod:`~simulator.experiment.statistics` — bootstrap intervals, rarity, the comparison table
- :mod:`~simulator.experiment.results` — the results folder: written atomically, read back
- :mod:`~simulator.experiment.formats` — its tables as CSV or Parquet (files and datasets)
- :mod:`~simulator.experiment.claims` — a scenario's claims checked against its tables
- :mod:`~simulator.experiment.validation` — ``perksim check-model``: the model's own checks
"""

from simulator.experiment.plan import replicate_seed, run_once
from simulator.experiment.runner import ExperimentResult, run_experiment

__all__ = ["ExperimentResult", "replicate_seed", "run_experiment", "run_once"]
