"""The ``perksim`` command line — thin: parse, call, print (docs/reference/cli.md).

Exit codes: 0 success, 2 bad input (scenario, arguments, edge lists), 1 internal error or
failed runs (tables are still written), 130 interrupted (compare/sweep can be resumed).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from simulator import __version__
from simulator.scenario.library import bundled, resolve, unknown

if TYPE_CHECKING:
    from simulator.api.experiment import Experiment
    from simulator.experiment.runner import ExperimentResult
    from simulator.scenario.loader import Override
    from simulator.scenario.schema import Scenario

# The command line imports the model, pandas and matplotlib only in the commands that use them:
# `perksim --version`, `perksim --help` and `perksim list` load none of them (tests/test_cli_fast.py).
# The catalogues that options offer are read when an option is first parsed or shown, from:
SCHEMA = "simulator.scenario.schema"
FORMATS = "simulator.experiment.formats"
EXECUTORS = "simulator.experiment.executors"
DESIGN = "simulator.experiment.robust.design"
EXPORT = "simulator.experiment.export"


class _Imported:
    """``module.NAME`` (plus ``offset``), imported when first read."""

    def __init__(self, module: str, name: str, offset: int = 0) -> None:
        self.module, self.name, self.offset = module, name, offset

    def __call__(self) -> Any:
        value = getattr(importlib.import_module(self.module), self.name)
        return value + self.offset if self.offset else value


class _Choice(click.Choice):
    """A :class:`click.Choice` of a catalogue imported when the option is first used."""

    def __init__(self, choices: _Imported) -> None:
        self._choices = choices
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        """The catalogue's names."""
        return tuple(self._choices())

    @choices.setter
    def choices(self, value: tuple[str, ...]) -> None:  # click.Choice.__init__ sets it
        pass


class _UpTo(click.IntRange):
    """A :class:`click.IntRange` from ``low`` to a ceiling imported when the option is first used."""

    def __init__(self, low: int, high: _Imported) -> None:
        self._high = high
        super().__init__(low, None)

    @property
    def max(self) -> int:  # type: ignore[override]
        """The ceiling."""
        return self._high()

    @max.setter
    def max(self, value: int | None) -> None:  # click.IntRange.__init__ sets it
        pass


def _range(name: str, low: int = 0, offset: int = 0) -> _UpTo:
    """``low`` to the scenario schema's ``name`` (+ ``offset``)."""
    return _UpTo(low, _Imported(SCHEMA, name, offset))


def __getattr__(name: str) -> Any:
    """``simulator.cli.format_comparison``, importable from here as before the lazy imports."""
    if name == "format_comparison":
        from simulator.views.console import format_comparison

        return format_comparison
    raise AttributeError(f"module 'simulator.cli' has no attribute {name!r}")


MAX_WORKERS = 1024  # worker processes of --workers (more is surely a typo)
MAX_SAMPLES = 4096  # --samples: Morris trajectories, Sobol' base size or LHS points


def shown_metrics(sc: Scenario) -> list[str]:
    """The scenario's own metrics (``metrics:``) first, then the headline ones."""
    from simulator.model.metrics import HEADLINE

    return list(dict.fromkeys([*sc.metrics, *HEADLINE]))


def _say(message: str) -> None:
    """One line on standard error (notes and warnings of the library calls)."""
    click.echo(message, err=True)


def _bad_input(message: object) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perksim")
def cli() -> None:
    """Simulate influencer-perk campaigns: who gets perks, who is reached, who pouts."""


def _load(scenario: Path, overrides: list[str | Override], variant: str | None = None) -> Scenario:
    """Load and validate, or exit 2 with every located problem (and a bad PERKSIM_KERNELS)."""
    from simulator.model import kernels
    from simulator.scenario.loader import load_scenario
    from simulator.scenario.schema import ScenarioError

    try:
        kernels.choice()
    except kernels.KernelError as exc:
        _bad_input(exc)
    try:
        return load_scenario(scenario, overrides=overrides, variant=variant)
    except ScenarioError as exc:
        _bad_input(f"{scenario} is not a valid scenario:\n{exc}")
        raise  # unreachable: _bad_input exits


def _overrides(overrides: tuple[str, ...], seed: int | None,
               steps: int | None) -> list[str | Override]:
    """The ``--set`` strings, then ``--seed`` and ``--steps`` as typed values (ints as given)."""
    from simulator.scenario.loader import Override

    extra: list[str | Override] = list(overrides)
    if seed is not None:
        extra.append(Override("seed", seed, f"--seed {seed}"))
    if steps is not None:
        extra.append(Override("steps", steps, f"--steps {steps}"))
    return extra


def _scenario(value: Path | None) -> Path | None:
    """A scenario file or bundled name as a file; exit 2 for a bare name that is neither, with
    the bundled names close to it."""
    if value is None:
        return None
    if why := unknown(value):
        _bad_input(why)
    return resolve(value)


def _scenario_arg(required: bool = True) -> Callable:
    return click.argument("scenario", required=required,
                          type=click.Path(dir_okay=False, path_type=Path),
                          callback=lambda ctx, param, value: _scenario(value))


def _common(f: Callable) -> Callable:
    for option in reversed([
        click.option("--seed", type=_range("MAX_SEED"),
                     help="Master seed (default: the scenario's)."),
        click.option("--steps", type=_range("MAX_STEPS", low=1),
                     help="Number of steps (default: the scenario's)."),
        click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
                     help="Override a scenario field, e.g. --set campaigns[0].perks=10 (repeatable)."),
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
                     show_default=True, help="Folder under which <scenario>/<run-id>/ is written."),
    ]):
        f = option(f)
    return f


def _users_table(default: str | None) -> Callable:
    return click.option(
        "--users-table", type=_Choice(_Imported(FORMATS, "USERS_TABLES")), default=default,
        show_default=default is not None,
        help="The per-user table: users.csv, users.parquet (needs pyarrow: pip install -e "
             "'.[parquet]') or none (no users or edges table)"
             + ("." if default else " [default: csv]."))


def _executor_options(f: Callable, claims: bool = True,
                      replicates: str = "Replicates per variant (default: the scenario's).") -> Callable:
    for option in reversed([
        click.option("--replicates", type=_range("MAX_REPLICATES", low=1), help=replicates),
        click.option("--variant", "variants", multiple=True, metavar="NAME",
                     help="Run only these variants (repeatable; default: all)."),
        click.option("--executor", type=_Choice(_Imported(EXECUTORS, "EXECUTORS")), default="local",
                     show_default=True,
                     help="serial: this process; local: a process pool; dask: a Dask cluster."),
        click.option("--workers", type=click.IntRange(1, MAX_WORKERS),
                     help="Worker processes (default: the cores available)."),
        click.option("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler, e.g. tcp://127.0.0.1:8786 (with --executor dask; "
                          "without it a local Dask cluster is started)."),
        click.option("--resume", type=click.Path(file_okay=False, exists=True, path_type=Path),
                     metavar="RESULTS_DIR", help="Continue an interrupted experiment (*.partial)."),
        click.option("--report", "with_report", is_flag=True,
                     help="Also write the teaching report (report.html, report.md)."),
        *([click.option("--check-claims", "with_claims", is_flag=True,
                        help="Check the scenario's claims: against these results; exit 1 if "
                             "one fails.")] if claims else []),
        _users_table(None),
        click.option("--table-format", type=_Choice(_Imported(FORMATS, "TABLE_FORMATS")),
                     help="The steps table: steps.csv, or a Parquet dataset steps.parquet/ "
                          "partitioned by sweep point and variant (needs pyarrow) "
                          "[default: csv]."),
    ]):
        f = option(f)
    return f


def _output(out: Path, sc: Scenario, tasks: int, variants: int, experiment: bool,
            with_report: bool) -> Path:
    """``<out>/<scenario>``, checked before any work: a folder, writable, with room for the
    results; else exit 2 naming the folder. Prints what interrupted commands left there."""
    from simulator.api.experiment import output_folder
    from simulator.experiment.output import OutputError

    try:
        base, notes = output_folder(out, sc, tasks, variants, experiment=experiment,
                                    report=with_report)
    except (OutputError, ValueError) as exc:
        _bad_input(str(exc))
    for note in notes:
        _say(note)
    return base


def _memory(sc: Scenario, runs: int, replicates: int, variants: int = 1, executor: str = "serial",
            workers: int | None = None, scheduler: str | None = None, options: str = "",
            users_table: str = "csv") -> None:
    """Exit 2 if the experiment's estimated peak memory (simulator.scenario.memory) exceeds this
    machine's allowance; above a GiB, say how much it will take (one line on stderr)."""
    from simulator.experiment.executors import available_cores
    from simulator.scenario import memory

    parallel = 1
    if executor == "dask" and scheduler:
        parallel = 0  # the runs take the cluster's memory, not this machine's
    elif executor in ("local", "dask"):
        parallel = max(1, min(workers or available_cores(), runs))
    est, problem = memory.experiment_problem(sc, runs, replicates, variants, parallel, options,
                                             users_table)
    if problem:
        _bad_input(problem)
    if est is not None and est.bytes > memory.NOTICE_BYTES:
        what = "this run" if runs == 1 else f"these {runs:,} runs"
        click.echo(f"memory: {what} need{'s' if runs == 1 else ''} {est.describe()}; this "
                   f"machine allows {memory.gib(memory.memory_limit_bytes())}", err=True)


def _write_failed(exc: OSError, where: Path, then: str) -> None:
    """The disk or folder failed while results were written: a message, exit 1."""
    from simulator.experiment.output import describe_os_error

    click.echo(f"error: could not write in {where}: {describe_os_error(exc)}\n{then}", err=True)
    sys.exit(1)


@cli.command()
@_scenario_arg()
@click.option("--variant", metavar="NAME", help="Run one of the scenario's variants.")
@click.option("--replicates", type=_range("MAX_REPLICATES", low=1), default=1, show_default=True,
              help="Independent replicates (seeds spawned from the master seed).")
@click.option("--replicate", type=_range("MAX_REPLICATES", offset=-1), metavar="R",
              help="Run replicate R alone (reproduces replicate R of compare/sweep exactly).")
@click.option("--report", "with_report", is_flag=True,
              help="Also write the teaching report (report.html, report.md).")
@click.option("--profile", is_flag=True,
              help="Time each phase of one run (replicate 0, or --replicate R) and print the "
                   "table; writes no results folder.")
@_users_table("csv")
@_common
def run(scenario: Path, variant: str | None, replicates: int, replicate: int | None,
        with_report: bool, profile: bool, users_table: str, seed: int | None, steps: int | None,
        overrides: tuple[str, ...], out: Path) -> None:
    """Run SCENARIO and write a results folder.

    SCENARIO is a scenario file, or the name of a bundled one (see `perksim list`).
    """
    from simulator import api
    from simulator.experiment.formats import FormatError, table_formats
    from simulator.experiment.output import OutputError, scenario_folder, write_error
    from simulator.model.graphs import EdgeListError
    from simulator.views.console import SUMMARY_METRICS, Progress, format_comparison, format_summary

    try:
        table_formats(users_table)
    except FormatError as exc:
        _bad_input(exc)
    sc = _load(scenario, _overrides(overrides, seed, steps), variant)
    if profile:
        _profile(sc, replicate or 0)
        return
    ids = [replicate] if replicate is not None else None
    _memory(sc, runs=1 if ids else replicates, replicates=1 if ids else replicates,
            options="" if ids or replicates == 1 else f"--replicates {replicates}",
            users_table=users_table)
    _output(out, sc, tasks=1 if ids else replicates, variants=1, experiment=False,
            with_report=with_report)
    progress = Progress(sc.name)
    try:
        results = api.run(sc, replicates=replicates, replicate=replicate, variant=variant,
                          progress=progress, users=users_table != "none")
    except EdgeListError as exc:
        _bad_input(str(exc))
    finally:
        progress.close()
    results.source = str(scenario)
    try:
        folder = results.save(out, command=["perksim", *sys.argv[1:]], notify=_say,
                              users_table=users_table)
    except OSError as exc:
        if not write_error(exc):
            raise
        _write_failed(exc, scenario_folder(out, sc),
                      "nothing was kept; make room (or choose another --out) and run again")
    except OutputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    facts, sc = results.facts, results.scenario
    click.echo(f"{sc.name}: {facts['users']:,} users, {facts['graph']}, {sc.steps} steps, seed {sc.seed}")
    if len(results.summary) == len(sc.campaigns):
        click.echo(format_summary(results.summary))
    else:
        click.echo(format_comparison(results.comparison, SUMMARY_METRICS))
    _report_failures(results)
    click.echo(f"results: {folder}")
    if with_report:
        _write_report(folder)
    if len(results.failures):
        sys.exit(1)


def _profile(sc: Scenario, replicate: int) -> None:
    """``perksim run --profile``: one run with every phase timed, as a table."""
    from simulator.experiment.plan import replicate_seed
    from simulator.model.graphs import EdgeListError
    from simulator.model.profile import profile_run
    from simulator.views.console import format_profile

    _memory(sc, runs=1, replicates=1, users_table="none")  # a profile writes no tables
    try:
        model, timings = profile_run(sc, rng=replicate_seed(sc.seed, replicate))
    except EdgeListError as exc:
        _bad_input(str(exc))
    click.echo(f"{sc.name}: {model.n:,} users, {model.graph.description}, {sc.steps} steps, "
               f"seed {sc.seed}, replicate {replicate}")
    click.echo(format_profile(timings.table(), timings.users, timings.steps))


def _report_failures(result: ExperimentResult) -> None:
    for row in result.failures.itertuples():
        click.echo(f"failed: {row.run}: {row.error}", err=True)


def _experiment(kind: str, scenario: Path | None, replicates: int | None, variants: tuple[str, ...],
                executor: str, workers: int | None, scheduler: str | None, resume: Path | None,
                seed: int | None, steps: int | None, overrides: tuple[str, ...], out: Path,
                with_report: bool = False, with_claims: bool = False, method: str | None = None,
                samples: int | None = None, users_table: str | None = None,
                table_format: str | None = None) -> None:
    """compare, sweep and robust: a resumable experiment (:class:`simulator.api.Experiment`)
    written into <run-id>.partial until done; problems found before the work exit 2."""
    from simulator.api.experiment import Experiment, ExperimentError
    from simulator.api.experiment import check as api_check
    from simulator.experiment.formats import FormatError
    from simulator.experiment.output import OutputError

    command = ["perksim", *sys.argv[1:]]
    try:
        if resume is not None:
            if (scenario is not None or overrides or seed is not None or steps is not None
                    or method is not None or samples is not None or replicates is not None
                    or variants or users_table is not None or table_format is not None):
                _bad_input("--resume continues an experiment exactly as it was started: "
                           "give no SCENARIO, --set, --seed, --steps, --replicates, --variant, "
                           "--method, --samples, --users-table or --table-format with it")
            experiment = Experiment.resume(resume, kind, executor=executor, workers=workers,
                                           scheduler=scheduler, command=command,
                                           report=with_report)
        else:
            if scenario is None:
                _bad_input("give a SCENARIO, or --resume RESULTS_DIR")
            sc = _load(scenario, _overrides(overrides, seed, steps))
            tasks = api_check(sc, kind, variants, scenario, replicates, method, samples)
            _memory(sc, tasks, replicates or sc.replicates,
                    len(variants) or max(1, len(sc.variants)), executor, workers, scheduler,
                    _options(replicates, workers, executor), users_table or "csv")
            experiment = Experiment.start(sc, kind, out, replicates=replicates, variants=variants,
                                          executor=executor, workers=workers,
                                          scheduler=scheduler, source=scenario, command=command,
                                          report=with_report, notify=_say, tasks=tasks,
                                          method=method, samples=samples,
                                          users_table=users_table or "csv",
                                          table_format=table_format or "csv")
    except (ExperimentError, OutputError, FormatError) as exc:
        _bad_input(str(exc))
    if kind == "robust":
        _budget(experiment)
    with experiment:
        _work(experiment, with_report, with_claims)


def _work(experiment: Experiment, with_report: bool, with_claims: bool) -> None:
    """Run (the rest of) an experiment in its locked folder and print what it found; a full
    disk or Ctrl-C stops it with the --resume command."""
    from simulator.experiment.output import OutputError, write_error
    from simulator.views.console import Progress, format_comparison

    kind, sc, partial = experiment.kind, experiment.scenario, experiment.folder

    def stopped(exc: OSError) -> None:
        progress.close()
        _write_failed(exc, partial, f"{experiment.saved_runs()} finished runs are saved in "
                      f"{partial}; make room, then continue with: perksim {kind} --resume {partial}")

    progress = Progress(f"{kind} {sc.name}")
    try:
        results = experiment.run(progress, notify=_say)
    except KeyboardInterrupt:
        progress.close()
        click.echo(f"\ninterrupted: {experiment.saved_runs()} finished runs are saved in {partial}\n"
                   f"continue with: perksim {kind} --resume {partial}", err=True)
        sys.exit(130)
    except OSError as exc:
        if not write_error(exc):
            raise
        stopped(exc)
    except RuntimeError as exc:
        progress.close()
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except OutputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        progress.close()
    click.echo(f"{kind} {sc.name}: {len(set(results.summary['variant']))} variants × "
               f"{experiment.replicates} replicates{_points(results)}, seed {sc.seed}")
    if kind == "compare":
        click.echo(format_comparison(results.comparison, shown_metrics(sc)))
    if kind == "sweep":
        from simulator.views.console import format_response

        click.echo(format_response(results.comparison, shown_metrics(sc), sc))
    if kind == "robust":
        from simulator.views.console import format_robust

        click.echo(format_robust(results.robust, shown_metrics(sc)))
    _report_failures(results)
    click.echo(f"results: {results.folder}")
    if results.figures:
        click.echo("figures: " + ", ".join(p.name for p in results.figures if p.suffix == ".png"))
    if with_report:
        _write_report(results.folder)
    failed_claims = _claims(sc, results, kind) if with_claims else 0
    if len(results.failures) or failed_claims:
        sys.exit(1)


def _claims(sc: Scenario, result: ExperimentResult, kind: str) -> int:
    """Print the claims that apply to this experiment; return how many fail."""
    from simulator.experiment.claims import applies, check_claims, describe

    checked = check_claims(sc, result.summary, sweep=kind == "sweep")
    other = [c for c in sc.claims if not applies(c, kind == "sweep")]
    if checked:
        click.echo(describe(checked))
    elif not sc.claims:
        click.echo("claims: the scenario states none")
    if other:
        many = len(other) != 1
        click.echo(f"({len(other)} more claim{'s' if many else ''} need{'' if many else 's'} "
                   f"perksim {'compare' if kind == 'sweep' else 'sweep'})")
    return sum(not r.holds for r in checked)


def _options(replicates: int | None, workers: int | None, executor: str) -> str:
    """The command-line options that shape an experiment's memory, for a message."""
    given = [f"--replicates {replicates}" if replicates else "",
             f"--workers {workers}" if workers else "",
             f"--executor {executor}" if executor != "local" else ""]
    return " ".join(g for g in given if g)


def _points(result: ExperimentResult) -> str:
    if "point" not in result.summary.columns:
        return ""
    what = "samples" if getattr(result, "kind", "") == "robust" else "sweep points"
    return f" × {result.summary['point'].nunique()} {what}"


def _budget(experiment: Experiment) -> None:
    """Before a robustness study: its runs, and the time they will take, from one run timed now."""
    from simulator.api.robust import estimate_seconds
    from simulator.experiment.executors import available_cores

    design, sc = experiment.design, experiment.scenario
    variants = len(experiment.variants) or len(sc.variants)
    runs = design.evaluations * variants * experiment.replicates
    left = runs - experiment.saved_runs()
    parallel = 1 if experiment.executor == "serial" else (experiment.workers or available_cores())
    running, analysis, one = estimate_seconds(sc, design, left, parallel)
    where = ("on this machine" if experiment.scheduler is None else
             f"if the cluster has {parallel} workers like this machine's cores")
    click.echo(f"robust {sc.name}: {design.evaluations} samples of {design.problem.dimension} "
               f"uncertain parameters ({design.method}) × {variants} variants × "
               f"{experiment.replicates} replicates = {runs:,} runs"
               + (f", {left:,} left" if left != runs else ""), err=True)
    click.echo(f"estimate: about {_duration(running)} of runs with {parallel} worker"
               f"{'s' if parallel != 1 else ''} {where} (one run took "
               f"{_duration(one)}), then about "
               f"{_duration(analysis)} of analysis; --samples and --replicates trade precision "
               "for time", err=True)


def _duration(seconds: float) -> str:
    """``0.25 s``, ``4.2 s``, ``42 s``, ``6 min``, ``1.5 h``."""
    if seconds < 10:
        return f"{float(f'{seconds:.2g}'):g} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@cli.command()
@_scenario_arg(required=False)
@_executor_options
@_common
def compare(scenario: Path | None, replicates: int | None, variants: tuple[str, ...], executor: str,
            workers: int | None, scheduler: str | None, resume: Path | None, with_report: bool,
            with_claims: bool, users_table: str | None, table_format: str | None,
            seed: int | None, steps: int | None, overrides: tuple[str, ...], out: Path) -> None:
    """Run SCENARIO's variants side by side with paired seeds; write tables with 95% CIs and
    figures."""
    _experiment("compare", scenario, replicates, variants, executor, workers, scheduler, resume,
                seed, steps, overrides, out, with_report, with_claims, users_table=users_table,
                table_format=table_format)


@cli.command()
@_scenario_arg(required=False)
@_executor_options
@_common
def sweep(scenario: Path | None, replicates: int | None, variants: tuple[str, ...], executor: str,
          workers: int | None, scheduler: str | None, resume: Path | None, with_report: bool,
          with_claims: bool, users_table: str | None, table_format: str | None,
          seed: int | None, steps: int | None, overrides: tuple[str, ...], out: Path) -> None:
    """Run SCENARIO's sweep: grid points × variants × replicates, one tidy table."""
    _experiment("sweep", scenario, replicates, variants, executor, workers, scheduler, resume,
                seed, steps, overrides, out, with_report, with_claims, users_table=users_table,
                table_format=table_format)


@cli.command()
@_scenario_arg(required=False)
@click.option("--method", type=_Choice(_Imported(DESIGN, "METHODS")),
              help="morris (default): which assumptions matter, a cheap screening; sobol: how "
                   "much each matters, with intervals (costly); lhs: who wins where, no indices.")
@click.option("--samples", type=click.IntRange(1, MAX_SAMPLES), metavar="N",
              help="morris: trajectories (default 4); sobol: base samples, a power of two "
                   "(default 8); lhs: points (default 64).")
@partial(_executor_options, claims=False,
         replicates="Paired replicates per sample and variant (default: 5).")
@_common
def robust(scenario: Path | None, method: str, samples: int | None, replicates: int | None,
           variants: tuple[str, ...], executor: str, workers: int | None, scheduler: str | None,
           resume: Path | None, with_report: bool, users_table: str | None,
           table_format: str | None, seed: int | None, steps: int | None,
           overrides: tuple[str, ...], out: Path) -> None:
    """Which of SCENARIO's assumptions decide which variant wins: every variant at every
    sample of its uncertainties: section, with paired replicates; verdict shares, sensitivity
    indices, flip conditions and verdict maps."""
    _experiment("robust", scenario, replicates, variants, executor, workers, scheduler, resume,
                seed, steps, overrides, out, with_report, method=method, samples=samples,
                users_table=users_table, table_format=table_format)


@cli.command()
@click.argument("results_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
def plot(results_dir: Path) -> None:
    """(Re)draw the figures of a results folder from its tables."""
    if not (results_dir / "summary.csv").is_file():
        _bad_input(f"{results_dir} has no summary.csv: is it a results folder of perksim?")
    from simulator.experiment.output import OutputError, check_output, write_error
    from simulator.experiment.results import ResultsFolderError
    from simulator.views.plots import plot_run, read_tables

    try:
        tables = read_tables(results_dir)  # every table checked before anything is drawn
        check_output(results_dir / "figures", 16 * 2**20, label="plot")
    except (ResultsFolderError, OutputError) as exc:
        _bad_input(str(exc))
    try:
        paths = plot_run(results_dir, tables=tables)
    except OSError as exc:
        if not write_error(exc):
            raise
        _write_failed(exc, results_dir / "figures", "the figures are incomplete; run perksim plot again")
    for path in paths:
        click.echo(str(path))


@cli.command()
@click.argument("results_dirs", nargs=-1, required=True, metavar="RESULTS_DIR...",
                type=click.Path(file_okay=False, exists=True, path_type=Path))
def report(results_dirs: tuple[Path, ...]) -> None:
    """Write the teaching report (report.html, self-contained, and report.md) of results folders."""
    from simulator.experiment.output import OutputError, check_output
    from simulator.experiment.results import ResultsFolderError
    from simulator.views.report import load_folder

    for folder in results_dirs:
        if not (folder / "summary.csv").is_file() or not (folder / "manifest.json").is_file():
            _bad_input(f"{folder} is not a complete results folder of perksim "
                       "(no summary.csv or manifest.json)")
    for folder in results_dirs:  # every folder checked before any report is written
        try:
            load_folder(folder, draw=False)
            check_output(folder, 16 * 2**20, label="report")
        except (ResultsFolderError, OutputError) as exc:
            _bad_input(str(exc))
    for folder in results_dirs:
        _write_report(folder)


def _write_report(folder: Path) -> None:
    from simulator.experiment.output import write_error
    from simulator.views.report import handout_path, write_report

    try:
        html, md = write_report(folder)
    except OSError as exc:
        if not write_error(exc):
            raise
        _write_failed(exc, folder, f"the report is missing or incomplete; the results are complete "
                      f"in {folder}; write it later with: perksim report {folder}")
    click.echo(f"report: {html}\nmarkdown: {md}")
    handout = handout_path(folder)
    if handout.is_file():  # run, compare and sweep folders (not robust)
        click.echo(f"handout: {handout}")


@cli.command()
@click.argument("results_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--to", "to", required=True,
              type=_Choice(_Imported(EXPORT, "FORMATS")),
              help="gexf or graphml: the follow graph with each user's outcomes (Gephi, "
                   "Cytoscape); parquet: every table (needs pyarrow).")
@click.option("--out", type=click.Path(path_type=Path), metavar="PATH",
              help="Where to write (default: graph.gexf, graph.graphml or parquet/ in "
                   "RESULTS_DIR).")
@click.option("--variant", metavar="NAME",
              help="Whose users' outcomes the graph carries (default: the first variant).")
def export(results_dir: Path, to: str, out: Path | None, variant: str | None) -> None:
    """Export a results folder: the follow graph as GEXF or GraphML, or the tables as Parquet."""
    from simulator.experiment.export import ExportError, export_folder
    from simulator.experiment.output import write_error
    from simulator.experiment.results import ResultsFolderError

    try:
        done = export_folder(results_dir, to, out=out, variant=variant)
    except (ExportError, ResultsFolderError) as exc:
        _bad_input(exc)
        raise
    except OSError as exc:
        if not write_error(exc):
            raise
        _write_failed(exc, Path(out or results_dir), "nothing was written; make room (or choose "
                      "another --out) and export again")
    click.echo(f"{to}: {done.path} ({done.description})")


@cli.command()
@_scenario_arg(required=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
def dashboard(scenario: Path | None, host: str, port: int) -> None:
    """The interactive classroom dashboard (default scenario: klout_pout); prints its address."""
    if scenario is not None:
        _load(scenario, [])
    try:
        from simulator.views.server import serve
    except ImportError as exc:
        click.echo(f"error: the dashboard needs its extra: pip install 'perksim[dashboard]' ({exc})",
                   err=True)
        sys.exit(1)
    serve(str(scenario) if scenario else None, host=host, port=port)


@cli.command()
@click.argument("results_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--user", "user", type=_range("MAX_USERS", offset=-1), required=True, metavar="ID",
              help="The user's id (row of users.csv).")
@click.option("--brand", required=True, metavar="NAME", help="The brand (campaign) to explain.")
@click.option("--variant", metavar="NAME", help="Which variant (default: the first).")
@click.option("--replicate", type=_range("MAX_REPLICATES", offset=-1), metavar="R",
              help="Which replicate (default: the first).")
def explain(results_dir: Path, user: int, brand: str, variant: str | None,
            replicate: int | None) -> None:
    """Why one user did or did not get a perk: score, rule, relevance, what they saw, pout.

    Re-runs the user's replicate exactly (runs are reproducible) while watching the user.
    """
    from simulator.views.explain import ExplainError
    from simulator.views.explain import explain as explain_user

    try:
        story = explain_user(results_dir, user, brand, variant, replicate)
    except ExplainError as exc:
        _bad_input(str(exc))
        raise
    click.echo(story.to_text())


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario FILES (and their variants) without running them.

    Exit 0 if all are valid; 2, with every located problem, if any is not.
    """
    from simulator.scenario.loader import load_scenario
    from simulator.scenario.schema import ScenarioError

    bad = 0
    for file in files:
        path = resolve(file)
        if why := unknown(file):
            bad += 1
            click.echo(f"invalid: {path} (1 problem)\n{why}", err=True)
            continue
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            click.echo(f"invalid: {path} ({len(exc.problems)} problem"
                       f"{'s' if len(exc.problems) != 1 else ''})", err=True)
            click.echo(str(exc), err=True)
            continue
        variants = f", {len(sc.variants)} variants" if sc.variants else ""
        click.echo(f"ok: {path} — {sc.name}{variants}")
    if bad:
        sys.exit(2)


@cli.command(name="schema")
def schema_command() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from simulator.scenario.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@cli.command(name="list")
def list_command() -> None:
    """List the bundled scenarios with the question each one answers."""
    entries = bundled()
    if not entries:
        click.echo("no bundled scenarios found", err=True)
        sys.exit(1)
    width = max(len(e.name) for e in entries)
    for e in entries:
        click.echo(f"{e.name:<{width}}  {e.question}")
    click.echo(f"\n(files in {entries[0].path.parent}; run one with: perksim run NAME)")


@cli.command(name="check-model")
@click.option("--quick", is_flag=True, help="Every check at a small size (seconds; for tests). "
              "Rows too small to decide are reported but not judged.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Also write the table as Markdown to PATH (docs/validation.md is that file).")
@click.option("--check", "only", multiple=True, metavar="NAME",
              help="Run only this check (repeatable); default: all.")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS),
              help="Worker processes (default: the cores available; 1: this process).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="Root of the results folder check-model/<run-id>/.")
def check_model(quick: bool, markdown: Path | None, only: tuple[str, ...], workers: int | None,
                out: Path) -> None:
    """Run the model against published results (docs/validation.md) and print the table.

    Exit 0 if every judged row passes, 1 if any fails (each is printed on standard error).
    """
    from simulator.experiment import validation as v
    from simulator.experiment.results import utc_now

    unknown = [name for name in only if name not in v.BY_KEY]
    if unknown:
        _bad_input(f"no check '{unknown[0]}'; checks: {', '.join(v.BY_KEY)}")
    size = v.QUICK if quick else v.FULL
    workers = workers or v.available_cores()
    started = utc_now()
    seconds: dict[str, float] = {}

    def progress(key: str, outcome: v.Outcome, elapsed: float) -> None:
        seconds[key] = elapsed
        state = f"{len(outcome.failed)} row(s) FAIL" if outcome.failed else "pass"
        click.echo(f"check-model: {key} done at {elapsed:.0f} s — {state}", err=True)

    count = len(only) or len(v.CHECKS)
    click.echo(f"check-model: {count} check{'s' if count != 1 else ''}, {size.name} size, "
               f"{workers} worker{'s' if workers != 1 else ''}", err=True)
    result = v.run_checks(size, only=list(only) or None, workers=workers, progress=progress)
    click.echo(v.render_text(result))
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(v.render_markdown(result), encoding="utf-8")
        click.echo(f"markdown: {markdown}")
    folder = v.write_results(out, result, started=started, workers=workers, seconds=seconds,
                             command=["perksim", *sys.argv[1:]])
    click.echo(f"results: {folder}")
    for key, row in result.failed:
        m = result.outcomes[key].items[row]
        item = v.BY_KEY[key].item(row)
        click.echo(f"failed: {key}/{row}: {item.label}: measured {v.measured_text(m, item.kind)}, "
                   f"tolerance {item.tolerance}", err=True)
    if not result.passed:
        sys.exit(1)


def main() -> None:
    """Entry point of the ``perksim`` command."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        exc.show()
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
