"""The analysis kernel of ``perksim robust`` (issue 11): pure functions on tables, no runs.

A scenario's uncertain parameters are sampled (:mod:`~.design`); every variant runs at every
sample with paired replicates (the runner's job, not this package's); then, per headline
metric:

- :mod:`~simulator.experiment.robust.verdicts` — per sample, is a variant better than the
  reference beyond noise, worse or indistinguishable (paired), and in what share of the space
  (with a ``robust`` flag only from :data:`~.verdicts.ROBUST_SHARE` on);
- :mod:`~simulator.experiment.robust.sensitivity` — which assumptions drive each difference
  (Sobol' first-order and total indices, or Morris μ*/σ, by SALib);
- :mod:`~simulator.experiment.robust.flips` — where a verdict flips, as readable boxes from a
  shallow decision tree;
- :mod:`~simulator.experiment.robust.maps` — the winner at each sample over the two most
  influential assumptions (the verdict map's table).
"""

from simulator.experiment.robust.design import (
    Design,
    Problem,
    Uncertainty,
    lhs_design,
    morris_design,
    morris_samples,
    sobol_design,
    sobol_samples,
)
from simulator.experiment.robust.flips import EVERYWHERE, Flips, flip_conditions
from simulator.experiment.robust.maps import NO_WINNER, verdict_map
from simulator.experiment.robust.sensitivity import most_influential, sensitivity_indices
from simulator.experiment.robust.verdicts import (
    BOOTSTRAP_FROM,
    ROBUST_SHARE,
    paired_differences,
    sample_verdicts,
    verdict,
    verdict_shares,
)

__all__ = [
    "BOOTSTRAP_FROM",
    "EVERYWHERE",
    "NO_WINNER",
    "ROBUST_SHARE",
    "Design",
    "Flips",
    "Problem",
    "Uncertainty",
    "flip_conditions",
    "lhs_design",
    "morris_design",
    "morris_samples",
    "most_influential",
    "paired_differences",
    "sample_verdicts",
    "sensitivity_indices",
    "sobol_design",
    "sobol_samples",
    "verdict",
    "verdict_map",
    "verdict_shares",
]
