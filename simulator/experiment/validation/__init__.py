"""Literature validation: ``perksim check-model`` runs the model against published results.

Each :class:`Check` names its source, its setting (a scenario file under
``scenarios/checks/`` that ``perksim run`` can run as it is), what it measures, and for each
row of the table the published value, the tolerance and why. The check code loads its file
and changes only what the check is about (p, the number of seeds, the seeds themselves) with
the loader's ``--set``-style overrides. Many campaigns in one scenario are independent
cascades in independent columns of one model run, so a batch of single-seed campaigns
measures a batch of cascades at once.

Simulations are *jobs* — pure functions of plain arguments — so they run in this process or
on a pool of worker processes and give the same numbers either way; their results are
assembled in job order. Every random number comes from a ``numpy.random.SeedSequence``
derived from the scenario file's ``seed``: two runs give byte-identical tables.

The results render as a Markdown page (docs/validation.md is exactly that page) whose last
block is the machine-readable record of the measured numbers, so the page can be re-rendered
from itself (:func:`parse_markdown`, :func:`render_markdown`).

The modules, from the bottom up:

- :mod:`~simulator.experiment.validation.records` — sizes, the declarations of a check and
  its rows, the measured record (JSON both ways);
- :mod:`~simulator.experiment.validation.checks` — the catalogue of checks and the
  parameters of their studies;
- :mod:`~simulator.experiment.validation.jobs` — the check scenarios and the simulations as
  jobs;
- :mod:`~simulator.experiment.validation.stats` — Wilson and t intervals, the bootstrap;
- :mod:`~simulator.experiment.validation.render` — numbers, the terminal table, the Markdown
  page and its record, ``checks.csv``'s rows;
- :mod:`~simulator.experiment.validation.evaluate` — judging each check from its study's
  results;
- :mod:`~simulator.experiment.validation.runner` — :func:`run_checks`: jobs here or on a
  pool, outcomes in table order;
- :mod:`~simulator.experiment.validation.folder` — the results folder.
"""

from __future__ import annotations

from simulator.experiment.validation.checks import (
    BINS,
    BY_KEY,
    CHECKS,
    KKT_K,
    KKT_P,
    KKT_STRATEGIES,
    KLOUT_TOP,
    ORDINARY_BINS,
    PAID_VARIANT,
    TOP_SHARE,
    TREE_DEPTHS,
    TREE_FAMILY,
    TREE_P,
)
from simulator.experiment.validation.evaluate import (
    EVALUATE,
    evaluate_bakshy,
    evaluate_goel,
    evaluate_kkt,
    evaluate_live_edge,
    evaluate_score,
    evaluate_tree,
    evaluate_watts_dodds,
)
from simulator.experiment.validation.evaluate import (
    _best_bins as _best_bins,  # private; tests/test_validation.py uses it
)
from simulator.experiment.validation.folder import results_folder, write_results
from simulator.experiment.validation.jobs import (
    JOBS,
    SELECT_STREAM,
    Job,
    checks_dir,
    job_cascades,
    job_live_edge,
    job_score,
    job_seeded,
    load_check,
    run_job,
    study_jobs,
)
from simulator.experiment.validation.records import (
    FULL,
    QUICK,
    SIZES,
    Check,
    Item,
    Measured,
    Outcome,
    Size,
    Table,
    Validation,
)
from simulator.experiment.validation.render import (
    COMMAND,
    RESULTS_MARK,
    checks_frame,
    fmt,
    measured_text,
    parse_markdown,
    render_markdown,
    render_text,
    result_text,
    table_rows,
)
from simulator.experiment.validation.runner import available_cores, run_checks
from simulator.experiment.validation.stats import BOOTSTRAP_STREAM, t_interval, wilson

__all__ = [
    "BINS", "BOOTSTRAP_STREAM", "BY_KEY", "CHECKS", "COMMAND", "EVALUATE", "FULL", "JOBS", "KKT_K",
    "KKT_P", "KKT_STRATEGIES", "KLOUT_TOP", "ORDINARY_BINS", "PAID_VARIANT", "QUICK",
    "RESULTS_MARK", "SELECT_STREAM", "SIZES", "TOP_SHARE", "TREE_DEPTHS", "TREE_FAMILY", "TREE_P",
    "Check", "Item", "Job", "Measured", "Outcome", "Size", "Table", "Validation",
    "available_cores", "checks_dir", "checks_frame", "evaluate_bakshy", "evaluate_goel",
    "evaluate_kkt", "evaluate_live_edge", "evaluate_score", "evaluate_tree",
    "evaluate_watts_dodds", "fmt", "job_cascades", "job_live_edge", "job_score", "job_seeded",
    "load_check", "measured_text", "parse_markdown", "render_markdown", "render_text",
    "result_text", "results_folder", "run_checks", "run_job", "study_jobs", "t_interval",
    "table_rows", "wilson", "write_results"
]
