"""The ``perksim`` command line — thin: parse, call, print (docs/reference/cli.md).

Exit codes: 0 success, 2 bad input (scenario, arguments, edge lists), 1 internal error or
failed runs (tables are still written), 130 interrupted (compare/sweep can be resumed).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from simulator import __version__
from simulator.experiment.executors import EXECUTORS
from simulator.experiment.plan import BASE_VARIANT, plan
from simulator.experiment.results import (
    RESUME_KEYS,
    FolderBusy,
    FolderStore,
    OutputError,
    ResultsFolderError,
    Work,
    check_output,
    claim,
    clean_stale,
    describe_os_error,
    discard,
    estimate_output_bytes,
    final_folder,
    finish,
    manifest,
    new_folder,
    read_manifest,
    run_id,
    saved_runs,
    scenario_folder,
    utc_now,
    write_error,
    write_experiment,
    write_json,
    write_yaml,
)
from simulator.experiment.runner import ExperimentResult, MemoryStore, run_experiment
from simulator.experiment.statistics import MIN_NONZERO
from simulator.model.graphs import EdgeListError
from simulator.model.metrics import HEADLINE, METRICS
from simulator.scenario.library import bundled, resolve
from simulator.scenario.loader import Override, load_scenario, validate_document
from simulator.scenario.schema import (
    MAX_REPLICATES,
    MAX_SEED,
    MAX_STEPS,
    MAX_USERS,
    Scenario,
    ScenarioError,
    json_schema,
)
from simulator.views.plots import plot_run

MAX_WORKERS = 1024  # worker processes of --workers (more is surely a typo)
SUMMARY_METRICS = METRICS  # every metric of docs/model.md §8, in the order of steps.csv
KEY_METRICS = HEADLINE  # the catalogue's headline metrics, in its order


def shown_metrics(sc: Scenario) -> list[str]:
    """The scenario's own metrics (``metrics:``) first, then the headline ones."""
    return list(dict.fromkeys([*sc.metrics, *HEADLINE]))


def _bad_input(message: object) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _fmt(v: object) -> str:
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)  # type: ignore[arg-type]
    if v != v:
        return "–"
    if v.is_integer() and abs(v) >= 10:
        return f"{v:,.0f}"
    return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"


def format_summary(summary: pd.DataFrame) -> str:
    """The final metrics of one run: one row per metric, one column per brand."""
    table = pd.DataFrame({row["brand"]: [_fmt(row[m]) for m in SUMMARY_METRICS]
                          for row in summary.to_dict("records")}, index=SUMMARY_METRICS)
    return table.to_string()


def format_comparison(comparison: pd.DataFrame, metrics: list[str] = KEY_METRICS) -> str:
    """Mean [95% bootstrap interval] per metric (rows) and variant (columns), one block per
    brand; the paired difference to the first variant is marked * when its 95% interval
    excludes zero and the difference is not too rare to judge. A rare row (fewer than
    MIN_NONZERO runs with a non-zero count) shows how rare it is and the replicates needed
    instead of an interval."""
    blocks = []
    rare_seen = False
    for brand, part in comparison.groupby("brand", sort=False):
        cells: dict[str, list[str]] = {}
        for variant, rows in part.groupby("variant", sort=False):
            by_metric = rows.set_index("metric")
            col = []
            for m in metrics:
                r = by_metric.loc[m]
                text = _fmt(r["mean"])
                rare = _rare(r)
                if rare:
                    text += f" ({_rare_note(r)})"
                    rare_seen = True
                elif r["n"] > 1 and np.isfinite(r["ci_low"]):
                    text += f" [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
                lo, hi = r["diff_ci_low"], r["diff_ci_high"]
                if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0) \
                        and not bool(r.get("diff_rare", False)):
                    text += " *"
                col.append(text)
            cells[str(variant)] = col
        table = pd.DataFrame(cells, index=metrics).to_string()
        blocks.append(f"brand {brand}:\n{table}")
    note = "\n(* paired difference to the first variant: 95% interval excludes 0)"
    if rare_seen:
        note += (f"\n(rare, few runs: fewer than {MIN_NONZERO} runs with a count ≠ 0, so no interval; "
                 f"* only where the paired differences are not that rare; reps needed: replicates "
                 f"that give ~{MIN_NONZERO} such runs, ≥ if none seen)")
    return "\n\n".join(blocks) + note


def _rare(row: pd.Series) -> bool:
    """A rare row of comparison.csv (a single run is not called rare: it has no interval)."""
    return bool(row.get("rare", False)) and row.get("runs", row["n"]) > 1


def _rare_note(row: pd.Series) -> str:
    """``rare: 2/20 runs ≠ 0, ~50 reps needed`` (``≥34`` when no run was non-zero; ``few runs``
    when every run was non-zero but there are fewer than MIN_NONZERO)."""
    runs, nonzero = int(row.get("runs", row["n"])), int(row["nonzero"])
    need = row["replicates_needed"]
    bound = "≥" if bool(row.get("replicates_needed_is_lower_bound", False)) else "~"
    head = f"few runs: {runs}" if nonzero == runs else f"rare: {nonzero}/{runs} runs ≠ 0"
    return f"{head}, {bound}{_fmt(int(need))} reps needed"


class Progress:
    """A progress bar with runs done, failures and time left on a terminal; plain periodic
    lines otherwise (every 10% of the runs, at most every 15 s)."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.last_line = 0.0
        self.last_done = -1
        self.bar: Any = None

    def __call__(self, done: int, failed: int, total: int) -> None:
        """Report progress: ``done`` and ``failed`` runs out of ``total`` (the experiment's callback)."""
        finished = done + failed
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                             show_eta=True, show_pos=True,
                                             item_show_func=lambda _: f"{failed} failed" if failed else "")
                self.bar.__enter__()
                self.start_done = finished
            self.bar.current_item = finished
            self.bar.update(finished - self.bar.pos)
            return
        now = time.monotonic()
        step = max(1, total // 10)
        if finished == 0:
            return
        if finished == total or (finished // step != self.last_done // step and now - self.last_line > 15):
            rate = (now - self.start) / max(finished, 1)
            left = rate * (total - finished)
            click.echo(f"{self.label}: {finished}/{total} runs, {failed} failed, "
                       f"~{left:.0f} s left", err=True)
            self.last_line, self.last_done = now, finished

    def close(self) -> None:
        """Finish the progress bar, if one was drawn."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perksim")
def cli() -> None:
    """Simulate influencer-perk campaigns: who gets perks, who is reached, who pouts."""


def _load(scenario: Path, overrides: list[str | Override], variant: str | None = None) -> Scenario:
    """Load and validate, or exit 2 with every located problem."""
    try:
        return load_scenario(scenario, overrides=overrides, variant=variant)
    except ScenarioError as exc:
        _bad_input(f"{scenario} is not a valid scenario:\n{exc}")
        raise  # unreachable: _bad_input exits


def _overrides(overrides: tuple[str, ...], seed: int | None,
               steps: int | None) -> list[str | Override]:
    """The ``--set`` strings, then ``--seed`` and ``--steps`` as typed values (ints as given)."""
    extra: list[str | Override] = list(overrides)
    if seed is not None:
        extra.append(Override("seed", seed, f"--seed {seed}"))
    if steps is not None:
        extra.append(Override("steps", steps, f"--steps {steps}"))
    return extra


def _scenario_arg(required: bool = True) -> Callable:
    return click.argument("scenario", required=required,
                          type=click.Path(dir_okay=False, path_type=Path),
                          callback=lambda ctx, param, value: resolve(value) if value else None)


def _common(f: Callable) -> Callable:
    for option in reversed([
        click.option("--seed", type=click.IntRange(0, MAX_SEED),
                     help="Master seed (default: the scenario's)."),
        click.option("--steps", type=click.IntRange(1, MAX_STEPS),
                     help="Number of steps (default: the scenario's)."),
        click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
                     help="Override a scenario field, e.g. --set campaigns[0].perks=10 (repeatable)."),
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
                     show_default=True, help="Folder under which <scenario>/<run-id>/ is written."),
    ]):
        f = option(f)
    return f


def _executor_options(f: Callable) -> Callable:
    for option in reversed([
        click.option("--replicates", type=click.IntRange(1, MAX_REPLICATES),
                     help="Replicates per variant (default: the scenario's)."),
        click.option("--variant", "variants", multiple=True, metavar="NAME",
                     help="Run only these variants (repeatable; default: all)."),
        click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
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
        click.option("--check-claims", "with_claims", is_flag=True,
                     help="Check the scenario's claims: against these results; exit 1 if one fails."),
    ]):
        f = option(f)
    return f


def _output(out: Path, sc: Scenario, tasks: int, variants: int, experiment: bool,
            with_report: bool) -> Path:
    """``<out>/<scenario>``, checked before any work: a folder, writable, with room for the
    results; else exit 2 naming the folder. Prints what interrupted commands left there."""
    try:
        base = scenario_folder(out, sc)
        need = estimate_output_bytes(sc, tasks, variants, experiment=experiment, report=with_report)
        check_output(base, need, label=f"--out {out}")
    except (OutputError, ValueError) as exc:
        _bad_input(str(exc))
    for note in clean_stale(base):
        click.echo(note, err=True)
    return base


def _memory(sc: Scenario, runs: int, replicates: int, variants: int = 1, executor: str = "serial",
            workers: int | None = None, scheduler: str | None = None, options: str = "") -> None:
    """Exit 2 if the experiment's estimated peak memory (simulator.scenario.memory) exceeds this
    machine's allowance; above a GiB, say how much it will take (one line on stderr)."""
    from simulator.experiment.executors import available_cores
    from simulator.scenario import memory

    parallel = 1
    if executor == "dask" and scheduler:
        parallel = 0  # the runs take the cluster's memory, not this machine's
    elif executor in ("local", "dask"):
        parallel = max(1, min(workers or available_cores(), runs))
    est, problem = memory.experiment_problem(sc, runs, replicates, variants, parallel, options)
    if problem:
        _bad_input(problem)
    if est is not None and est.bytes > memory.NOTICE_BYTES:
        what = "this run" if runs == 1 else f"these {runs:,} runs"
        click.echo(f"memory: {what} need{'s' if runs == 1 else ''} {est.describe()}; this "
                   f"machine allows {memory.gib(memory.memory_limit_bytes())}", err=True)


def _write_failed(exc: OSError, where: Path, then: str) -> None:
    """The disk or folder failed while results were written: a message, exit 1."""
    click.echo(f"error: could not write in {where}: {describe_os_error(exc)}\n{then}", err=True)
    sys.exit(1)


def _draw(folder: Path) -> list[Path]:
    try:
        return plot_run(folder)
    except Exception as exc:  # a figure must never cost the user their tables
        click.echo(f"warning: figures could not be drawn: {exc}", err=True)
        return []


@cli.command()
@_scenario_arg()
@click.option("--variant", metavar="NAME", help="Run one of the scenario's variants.")
@click.option("--replicates", type=click.IntRange(1, MAX_REPLICATES), default=1, show_default=True,
              help="Independent replicates (seeds spawned from the master seed).")
@click.option("--replicate", type=click.IntRange(0, MAX_REPLICATES - 1), metavar="R",
              help="Run replicate R alone (reproduces replicate R of compare/sweep exactly).")
@click.option("--report", "with_report", is_flag=True,
              help="Also write the teaching report (report.html, report.md).")
@_common
def run(scenario: Path, variant: str | None, replicates: int, replicate: int | None,
        with_report: bool, seed: int | None, steps: int | None, overrides: tuple[str, ...],
        out: Path) -> None:
    """Run SCENARIO and write a results folder.

    SCENARIO is a scenario file, or the name of a bundled one (see `perksim list`).
    """
    sc = _load(scenario, _overrides(overrides, seed, steps), variant)
    sc = sc.model_copy(update={"variants": {}, "sweep": None})
    started = utc_now()
    ids = [replicate] if replicate is not None else None
    _memory(sc, runs=1 if ids else replicates, replicates=1 if ids else replicates,
            options="" if ids or replicates == 1 else f"--replicates {replicates}")
    base = _output(out, sc, tasks=1 if ids else replicates, variants=1, experiment=False,
                   with_report=with_report)
    progress = Progress(sc.name)
    try:
        result = run_experiment(sc, replicates=replicates, replicate_ids=ids, executor="serial",
                                store=MemoryStore(), progress=progress,
                                base_label=variant or BASE_VARIANT)
    except EdgeListError as exc:
        _bad_input(str(exc))
    finally:
        progress.close()
    try:
        with new_folder(base, run_id(started, sc), "run") as work:
            tmp = work.path
            write_yaml(sc.to_document(), tmp / "scenario.yaml")
            write_experiment(tmp, result)
            _draw(tmp)
            write_json(manifest(sc, source=scenario, seed=sc.seed, derived_seeds=result.seeds,
                                started=started, finished=utc_now(),
                                command=["perksim", *sys.argv[1:]],
                                extra={"kind": "run", "variant": variant, "replicates": replicates,
                                       "replicate": replicate, **result.facts}),
                       tmp / "manifest.json")
    except OSError as exc:
        if not write_error(exc):
            raise
        _write_failed(exc, base, "nothing was kept; make room (or choose another --out) and run again")
    except OutputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    folder = work.final
    facts = result.facts
    click.echo(f"{sc.name}: {facts['users']:,} users, {facts['graph']}, {sc.steps} steps, seed {sc.seed}")
    if len(result.summary) == len(sc.campaigns):
        click.echo(format_summary(result.summary))
    else:
        click.echo(format_comparison(result.comparison, SUMMARY_METRICS))
    _report_failures(result)
    click.echo(f"results: {folder}")
    if with_report:
        _write_report(folder)
    if len(result.failures):
        sys.exit(1)


def _report_failures(result: ExperimentResult) -> None:
    for row in result.failures.itertuples():
        click.echo(f"failed: {row.run}: {row.error}", err=True)


def _experiment(kind: str, scenario: Path | None, replicates: int | None, variants: tuple[str, ...],
                executor: str, workers: int | None, scheduler: str | None, resume: Path | None,
                seed: int | None, steps: int | None, overrides: tuple[str, ...], out: Path,
                with_report: bool = False, with_claims: bool = False) -> None:
    """compare and sweep: a resumable experiment written into <run-id>.partial until done.

    The folder is locked while this process works on it, so a second --resume of it is
    refused; a disk that fills up stops the work with the --resume command to continue."""
    if resume is not None:
        if scenario is not None or overrides or seed is not None or steps is not None:
            _bad_input("--resume continues an experiment exactly as it was started: "
                       "give no SCENARIO, --set, --seed or --steps with it")
        try:
            final_folder(resume)
            work = Work.resume(resume, kind)
        except FolderBusy as exc:
            _bad_input(f"cannot resume: {exc}; wait for it to finish, or stop it first")
        except (ValueError, OSError) as exc:
            _bad_input(f"cannot resume {resume}: {exc}")
        try:
            info = read_manifest(resume, RESUME_KEYS)
            sc = validate_document(info["resolved_scenario"], file=str(resume / "manifest.json"))
            if info["kind"] == "run":
                raise OutputError(f"{resume} was left by perksim run, which cannot be resumed: "
                                  "run it again")
            if info["kind"] != kind:
                raise OutputError(f"{resume} is a '{info['kind']}' experiment; "
                                  f"resume it with perksim {info['kind']}")
            replicates, variants = info["replicates"], tuple(info["variants"] or ())
            tasks = len(plan(sc, replicates, list(variants) or None, sweep=kind == "sweep"))
            need = estimate_output_bytes(sc, tasks, len(variants) or max(1, len(sc.variants)),
                                         experiment=True, report=with_report)
            check_output(resume, need, label="--resume")
        except (ResultsFolderError, ScenarioError, OutputError, ValueError, KeyError) as exc:
            work.lock.release(remove=work.lock.created)  # leave the folder as it was
            _bad_input(exc if isinstance(exc, OutputError) else f"cannot resume {resume}: {exc}")
        work.lock.record(kind)
        partial, started = resume, info["started"]
        source = info.get("source_file")
    else:
        if scenario is None:
            _bad_input("give a SCENARIO, or --resume RESULTS_DIR")
        sc = _load(scenario, _overrides(overrides, seed, steps))
        if kind == "sweep" and sc.sweep is None:
            _bad_input(f"{scenario} has no sweep: section (see docs/reference/scenario.md)")
        unknown = [v for v in variants if v not in sc.variants]
        if unknown:
            _bad_input(f"no variant '{unknown[0]}' in {scenario}; "
                       f"variants: {', '.join(sc.variants) or 'none'}")
        start = utc_now()
        started = start.isoformat()
        tasks = _plan_size(sc, kind, replicates, variants)
        _memory(sc, tasks, replicates or sc.replicates, len(variants) or max(1, len(sc.variants)),
                executor, workers, scheduler, _options(replicates, workers, executor))
        base = _output(out, sc, tasks, len(variants) or max(1, len(sc.variants)), experiment=True,
                       with_report=with_report)
        try:
            work = claim(base, run_id(start, sc), kind)
        except (OSError, OutputError) as exc:
            _bad_input(f"--out {out}: cannot create the results folder in {base}: {exc}")
        partial, source = work.path, str(scenario)
        try:
            write_yaml(sc.to_document(), partial / "scenario.yaml")
        except OSError as exc:
            discard(work)
            _bad_input(f"--out {out}: cannot write in {partial}: {describe_os_error(exc)}")
    replicates = replicates or sc.replicates

    def write_manifest(status: str, result: ExperimentResult | None = None) -> None:
        doc = manifest(sc, source=source, seed=sc.seed,
                       derived_seeds=result.seeds if result else {},
                       started=_parse_time(started), finished=utc_now(),
                       command=["perksim", *sys.argv[1:]],
                       extra={"kind": kind, "replicates": replicates, "variants": list(variants),
                              "executor": executor, "workers": workers, "scheduler": scheduler,
                              "failures": len(result.failures) if result else None,
                              **(result.facts if result else {})})
        doc["status"] = status
        write_json(doc, partial / "manifest.json")

    try:
        _work(kind, sc, work, replicates, variants, executor, workers, scheduler, write_manifest,
              with_report, with_claims)
    finally:
        work.lock.release()  # (the operating system would at exit; not so when called in-process)


def _work(kind: str, sc: Scenario, work: Work, replicates: int, variants: tuple[str, ...],
          executor: str, workers: int | None, scheduler: str | None,
          write_manifest: Callable[..., None], with_report: bool, with_claims: bool) -> None:
    """Run (the rest of) an experiment in its locked folder, write its tables and figures,
    and rename it into place; a full disk or Ctrl-C stops it with the --resume command."""
    partial = work.path

    def stopped(exc: OSError) -> None:
        progress.close()
        _write_failed(exc, partial, f"{saved_runs(partial)} finished runs are saved in {partial}; "
                      f"make room, then continue with: perksim {kind} --resume {partial}")

    progress = Progress(f"{kind} {sc.name}")
    try:
        write_manifest("running")
        store = FolderStore(partial)
        store.done()
        for key, problem in store.damaged.items():
            click.echo(f"warning: run {key} cannot be read back ({problem}); it is run again",
                       err=True)
        result = run_experiment(sc, sweep=kind == "sweep", replicates=replicates,
                                variants=list(variants) or None, executor=executor, workers=workers,
                                scheduler=scheduler, store=store, progress=progress)
    except KeyboardInterrupt:
        progress.close()
        click.echo(f"\ninterrupted: {saved_runs(partial)} finished runs are saved in {partial}\n"
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
    progress.close()
    try:
        write_experiment(partial, result)
        figures = _draw(partial)
        write_manifest("complete", result)
        folder = finish(work)
    except OSError as exc:
        if not write_error(exc):
            raise
        stopped(exc)
    except OutputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{kind} {sc.name}: {len(set(result.summary['variant']))} variants × "
               f"{replicates} replicates{_points(result)}, seed {sc.seed}")
    if kind == "compare":
        click.echo(format_comparison(result.comparison, shown_metrics(sc)))
    _report_failures(result)
    click.echo(f"results: {folder}")
    if figures:
        click.echo("figures: " + ", ".join(p.name for p in figures if p.suffix == ".png"))
    if with_report:
        _write_report(folder)
    failed_claims = _claims(sc, result, kind) if with_claims else 0
    if len(result.failures) or failed_claims:
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


def _plan_size(sc: Scenario, kind: str, replicates: int | None, variants: tuple[str, ...]) -> int:
    """How many runs the experiment has (for the space the results need)."""
    try:
        return len(plan(sc, replicates, list(variants) or None, sweep=kind == "sweep"))
    except (ValueError, KeyError) as exc:
        _bad_input(str(exc))
        raise  # unreachable: _bad_input exits


def _points(result: ExperimentResult) -> str:
    if "point" not in result.summary.columns:
        return ""
    return f" × {result.summary['point'].nunique()} sweep points"


def _parse_time(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


@cli.command()
@_scenario_arg(required=False)
@_executor_options
@_common
def compare(scenario: Path | None, replicates: int | None, variants: tuple[str, ...], executor: str,
            workers: int | None, scheduler: str | None, resume: Path | None, with_report: bool,
            with_claims: bool, seed: int | None, steps: int | None, overrides: tuple[str, ...],
            out: Path) -> None:
    """Run SCENARIO's variants side by side with paired seeds; write tables with 95% CIs and
    figures."""
    _experiment("compare", scenario, replicates, variants, executor, workers, scheduler, resume,
                seed, steps, overrides, out, with_report, with_claims)


@cli.command()
@_scenario_arg(required=False)
@_executor_options
@_common
def sweep(scenario: Path | None, replicates: int | None, variants: tuple[str, ...], executor: str,
          workers: int | None, scheduler: str | None, resume: Path | None, with_report: bool,
          with_claims: bool, seed: int | None, steps: int | None, overrides: tuple[str, ...],
          out: Path) -> None:
    """Run SCENARIO's sweep: grid points × variants × replicates, one tidy table."""
    _experiment("sweep", scenario, replicates, variants, executor, workers, scheduler, resume,
                seed, steps, overrides, out, with_report, with_claims)


@cli.command()
@click.argument("results_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
def plot(results_dir: Path) -> None:
    """(Re)draw the figures of a results folder from its tables."""
    if not (results_dir / "summary.csv").is_file():
        _bad_input(f"{results_dir} has no summary.csv: is it a results folder of perksim?")
    from simulator.views.plots import read_tables

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
    from simulator.views.report import write_report

    try:
        html, md = write_report(folder)
    except OSError as exc:
        if not write_error(exc):
            raise
        _write_failed(exc, folder, f"the report is missing or incomplete; the results are complete "
                      f"in {folder}; write it later with: perksim report {folder}")
    click.echo(f"report: {html}\nmarkdown: {md}")


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
@click.option("--user", "user", type=click.IntRange(0, MAX_USERS - 1), required=True, metavar="ID",
              help="The user's id (row of users.csv).")
@click.option("--brand", required=True, metavar="NAME", help="The brand (campaign) to explain.")
@click.option("--variant", metavar="NAME", help="Which variant (default: the first).")
@click.option("--replicate", type=click.IntRange(0, MAX_REPLICATES - 1), metavar="R",
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
    bad = 0
    for file in files:
        path = resolve(file)
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
