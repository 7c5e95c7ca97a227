"""The library's results workflow, on top of the views: experiments that return
:class:`Results`, which save to a results folder, reopen from one, draw and report.

The command line (``simulator.cli``) only parses arguments, calls these and prints.
"""

from simulator.api.experiment import Experiment, ExperimentError, compare, run, sweep
from simulator.api.results import FormatError, Results
from simulator.api.robust import robust

__all__ = ["Experiment", "ExperimentError", "FormatError", "Results", "compare", "robust", "run",
           "sweep"]
