"""Running experiments: in memory for notebooks (:func:`run`, :func:`compare`, :func:`sweep`,
each returning :class:`~simulator.api.results.Results`), or into a results folder that is
written as the runs finish and can be resumed (:class:`Experiment`, what ``perksim compare``
and ``perksim sweep`` call).

A folder experiment lives in ``<out>/<scenario>/<run-id>.partial/`` (locked while a process
works on it) until it is complete, then takes its final name; see docs/reference/results.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.api.results import Notify, Results, draw, settings_of, warn
from simulator.experiment.folders import (
    FolderBusy,
    Work,
    claim,
    clean_stale,
    discard,
    final_folder,
    finish,
    run_id,
    saved_runs,
)
from simulator.experiment.formats import table_formats
from simulator.experiment.output import (
    OutputError,
    check_output,
    describe_os_error,
    estimate_output_bytes,
    scenario_folder,
)
from simulator.experiment.plan import BASE_VARIANT, plan, task_scenarios
from simulator.experiment.results import (
    RESUME_KEYS,
    ResultsFolderError,
    manifest,
    read_manifest,
    utc_now,
    write_json,
    write_yaml,
)
from simulator.experiment.runner import Progress, run_experiment
from simulator.experiment.store import FolderStore, MemoryStore
from simulator.scenario.loader import validate_document
from simulator.scenario.schema import Scenario, ScenarioError


class ExperimentError(ValueError):
    """An experiment that cannot start or resume, with a message that says why (bad input:
    the command line exits 2 with it)."""


# --- in memory ------------------------------------------------------------------------------


def run(scenario: Scenario, replicates: int = 1, replicate: int | None = None,
        variant: str | None = None, progress: Progress | None = None,
        users: bool = True) -> Results:
    """Run ``scenario`` (already holding its variant, if any): ``replicates`` replicates, or
    replicate ``replicate`` alone (the same run as replicate R of a compare); in memory.
    ``users=False`` keeps no per-user tables (``.users``, ``.edges``)."""
    started = utc_now()
    sc = scenario.model_copy(update={"variants": {}, "sweep": None})
    ids = [replicate] if replicate is not None else None
    result = run_experiment(sc, replicates=replicates, replicate_ids=ids, executor="serial",
                            store=MemoryStore(), progress=progress,
                            base_label=variant or BASE_VARIANT, keep_users=users)
    return Results.of(result, "run", sc, started=started,
                      settings={"variant": variant, "replicates": replicates,
                                "replicate": replicate})


def _in_memory(kind: str, scenario: Scenario, replicates: int | None,
               variants: list[str] | None, executor: str, workers: int | None,
               scheduler: str | None, progress: Progress | None) -> Results:
    started = utc_now()
    result = run_experiment(scenario, sweep=kind == "sweep", replicates=replicates,
                            variants=variants, executor=executor, workers=workers,
                            scheduler=scheduler, progress=progress)
    return Results.of(result, kind, scenario, started=started, settings=settings_of(
        replicates or scenario.replicates, variants or [], executor, workers, scheduler,
        len(result.failures)))


def compare(scenario: Scenario, replicates: int | None = None, variants: list[str] | None = None,
            executor: str = "serial", workers: int | None = None, scheduler: str | None = None,
            progress: Progress | None = None) -> Results:
    """Run the scenario's variants side by side with paired seeds, in memory.

    ``.comparison`` holds the means with 95% intervals; ``.save("results")`` writes the
    results folder ``perksim compare`` writes.

    >>> from simulator import compare, load_scenario
    >>> sc = load_scenario("scenarios/klout_pout.yaml",
    ...                    overrides=["population.size=300", "steps=20"])
    >>> result = compare(sc, replicates=2)
    >>> sorted(set(result.summary["variant"]))
    ['klout_63', 'lottery', 'lottery_opaque', 'relevance']
    """
    return _in_memory("compare", scenario, replicates, variants, executor, workers, scheduler,
                      progress)


def sweep(scenario: Scenario, replicates: int | None = None, variants: list[str] | None = None,
          executor: str = "serial", workers: int | None = None, scheduler: str | None = None,
          progress: Progress | None = None) -> Results:
    """Run the scenario's ``sweep`` grid × variants × replicates, in memory."""
    return _in_memory("sweep", scenario, replicates, variants, executor, workers, scheduler,
                      progress)


# paired replicates per sample and variant: with 2 the t-interval's factor is 12.7 and almost
# every sample reads "indistinguishable"; with 5 it is 2.8
ROBUST_REPLICATES = 5


def robust_design(scenario: Scenario, method: str | None = None, samples: int | None = None,
                  variants: Sequence[str] = (), source: str | Path | None = None) -> Any:
    """The samples a robustness study of ``scenario`` runs at (a
    :class:`~simulator.experiment.robust.design.Design`); :class:`ExperimentError` if it cannot
    run (no ``uncertainties:`` — named by ``source``, the file, if given —, fewer than two
    variants, an unknown variant or method, a Sobol' size that is not a power of two)."""
    from simulator.experiment.robust.study import DEFAULT_METHOD, design_of

    if not scenario.uncertainties and source is not None:
        raise ExperimentError(f"{source} has no uncertainties: section (see "
                              "docs/reference/scenario.md#uncertainties-what-is-not-known)")

    names = list(variants) or list(scenario.variants)
    unknown = [v for v in names if v not in scenario.variants]
    if unknown:
        raise ExperimentError(f"no variant '{unknown[0]}' in scenario {scenario.name!r}; "
                              f"variants: {', '.join(scenario.variants) or 'none'}")
    if len(names) < 2:
        raise ExperimentError(f"scenario {scenario.name!r}: a robustness study compares variants; "
                              "it needs at least two")
    try:
        design = design_of(scenario, method or DEFAULT_METHOD, samples)
    except ValueError as exc:
        raise ExperimentError(str(exc)) from None
    # every variant must take the sampled values (e.g. a threshold on a strategy without one):
    # the first sample sets every uncertain field, so it finds what would fail every run
    from simulator.experiment.robust.study import design_points

    first = design_points(design)[:1]
    tasks = plan(robust_scenario(scenario), 1, names, points=first)
    for (variant, _), prepared in task_scenarios(robust_scenario(scenario), tasks,
                                                 variant_wins=True).items():
        if isinstance(prepared, str):
            problem = re.sub(r"^([\w.]*Error: )?(<[^>]*>: )?", "", prepared.strip().splitlines()[-1])
            raise ExperimentError(f"variant {variant!r} cannot take the uncertainties' values "
                                  f"(sample 0): {problem}")
    return design


def robust_runs(design: Any, scenario: Scenario, variants: Sequence[str],
                replicates: int | None) -> int:
    """How many runs a study of ``design`` is: samples × variants × replicates."""
    names = list(variants) or list(scenario.variants)
    return design.evaluations * len(names) * (replicates or ROBUST_REPLICATES)


def robust_settings(design: Any) -> dict[str, Any]:
    """The manifest's record of how the uncertainties were sampled (what resuming rebuilds)."""
    return {"method": design.method, "samples": design.samples, "design_seed": design.seed}


def robust_scenario(scenario: Scenario) -> Scenario:
    """The scenario a robustness study runs: its samples take the sweep's place."""
    return scenario.model_copy(update={"sweep": None})


# --- into a results folder --------------------------------------------------------------------


def check(scenario: Scenario, kind: str, variants: Sequence[str], source: str | Path,
          replicates: int | None = None, method: str | None = None,
          samples: int | None = None) -> int:
    """How many runs a ``kind`` experiment of ``scenario`` has; :class:`ExperimentError` if it
    cannot run (no sweep section, an unknown variant, a grid that does not expand; for
    ``robust``, see :func:`robust_design`)."""
    if kind == "robust":
        return robust_runs(robust_design(scenario, method, samples, variants, source), scenario,
                           variants, replicates)
    if kind == "sweep" and scenario.sweep is None:
        raise ExperimentError(f"{source} has no sweep: section (see docs/reference/scenario.md)")
    unknown = [v for v in variants if v not in scenario.variants]
    if unknown:
        raise ExperimentError(f"no variant '{unknown[0]}' in {source}; "
                              f"variants: {', '.join(scenario.variants) or 'none'}")
    try:
        return len(plan(scenario, replicates, list(variants) or None, sweep=kind == "sweep"))
    except (ValueError, KeyError) as exc:
        raise ExperimentError(str(exc)) from None


def output_folder(out: str | Path, scenario: Scenario, tasks: int, variants: int, *,
                  experiment: bool, report: bool) -> tuple[Path, list[str]]:
    """``<out>/<scenario>``, checked before any work (a folder, writable, with room for the
    results: else :class:`OutputError`), and a note for each folder interrupted commands
    left there."""
    base = scenario_folder(out, scenario)
    need = estimate_output_bytes(scenario, tasks, variants, experiment=experiment, report=report)
    check_output(base, need, label=f"--out {out}")
    return base, clean_stale(base)


class Experiment:
    """A compare, sweep or robustness study written into its locked ``.partial`` folder as the
    runs finish.

    Start one with :meth:`start` or continue one with :meth:`resume`, then :meth:`run` it; use
    it as a context manager so the lock is released however the block ends. A full disk or
    Ctrl-C leaves the finished runs saved: :meth:`resume` continues from them.
    """

    def __init__(self, kind: str, scenario: Scenario, work: Work, *, replicates: int,
                 variants: Sequence[str], executor: str, workers: int | None,
                 scheduler: str | None, source: str | None, started: str,
                 command: Sequence[str] | None, design: Any = None,
                 formats: dict[str, str] | None = None):
        self.kind, self.scenario, self.work = kind, scenario, work
        self.formats = formats or table_formats()  # how the tables are written
        self.design = design  # a robustness study's samples (robust_design); None otherwise
        self.replicates, self.variants = replicates, tuple(variants)
        self.executor, self.workers, self.scheduler = executor, workers, scheduler
        self.source, self.started = source, started
        self.command = list(command) if command is not None else [f"simulator.{kind}"]

    @property
    def folder(self) -> Path:
        """The ``.partial`` folder being written (the final folder once finished)."""
        return self.work.path

    def saved_runs(self) -> int:
        """How many finished runs the folder holds."""
        return saved_runs(self.folder)

    def __enter__(self) -> Experiment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the folder's lock (the operating system would at exit; not so in-process)."""
        self.work.lock.release()

    @classmethod
    def start(cls, scenario: Scenario, kind: str, out: str | Path = "results", *,
              replicates: int | None = None, variants: Sequence[str] = (),
              executor: str = "local", workers: int | None = None, scheduler: str | None = None,
              source: str | Path | None = None, command: Sequence[str] | None = None,
              report: bool = False, notify: Notify | None = None,
              tasks: int | None = None, method: str | None = None, samples: int | None = None,
              users_table: str = "csv", table_format: str = "csv") -> Experiment:
        """Claim a new ``<out>/<scenario>/<run-id>.partial`` folder for a ``compare``, ``sweep``
        or ``robust`` study (``method`` and ``samples`` as :func:`robust`; ``users_table`` and
        ``table_format`` as :meth:`Results.save`) and write the scenario into it. Checks first:
        :class:`ExperimentError` if the experiment cannot run, ``FormatError`` if a Parquet table
        cannot be written, :class:`OutputError` if ``out`` is not writable or lacks room.
        ``tasks``, the run count, skips the checks when the caller has made them (:func:`check`)."""
        formats, design = table_formats(users_table, table_format), None
        if kind == "robust":
            replicates = replicates or ROBUST_REPLICATES
            design = robust_design(scenario, method, samples, variants, source or scenario.name)
            tasks = tasks or robust_runs(design, scenario, variants, replicates)
        elif tasks is None:  # the command line has checked already and knows the count
            tasks = check(scenario, kind, variants, source or scenario.name, replicates)
        n_variants = len(variants) or max(1, len(scenario.variants))
        base, notes = output_folder(out, scenario, tasks, n_variants, experiment=True,
                                    report=report)
        for note in notes:
            (notify or warn)(note)
        begun = utc_now()
        try:
            work = claim(base, run_id(begun, scenario), kind)
        except (OSError, OutputError) as exc:
            raise ExperimentError(f"--out {out}: cannot create the results folder in {base}: "
                                  f"{exc}") from None
        try:
            write_yaml(scenario.to_document(), work.path / "scenario.yaml")
        except OSError as exc:
            discard(work)
            raise ExperimentError(f"--out {out}: cannot write in {work.path}: "
                                  f"{describe_os_error(exc)}") from None
        return cls(kind, scenario, work, replicates=replicates or scenario.replicates,
                   variants=variants, executor=executor, workers=workers, scheduler=scheduler,
                   source=str(source) if source is not None else None,
                   started=begun.isoformat(), command=command, design=design, formats=formats)

    @classmethod
    def resume(cls, folder: str | Path, kind: str, *, executor: str = "local",
               workers: int | None = None, scheduler: str | None = None,
               command: Sequence[str] | None = None, report: bool = False) -> Experiment:
        """Lock an unfinished ``.partial`` folder to continue it exactly as it was started
        (its scenario, replicates and variants); :class:`ExperimentError` if it cannot be."""
        folder = Path(folder)
        try:
            final_folder(folder)
            work = Work.resume(folder, kind)
        except FolderBusy as exc:
            message = f"cannot resume: {exc}; wait for it to finish, or stop it first"
            raise ExperimentError(message) from None
        except (ValueError, OSError) as exc:
            raise ExperimentError(f"cannot resume {folder}: {exc}") from None
        try:
            info = read_manifest(folder, RESUME_KEYS)
            sc = validate_document(info["resolved_scenario"], file=str(folder / "manifest.json"))
            if info["kind"] == "run":
                raise OutputError(f"{folder} was left by perksim run, which cannot be resumed: "
                                  "run it again")
            if info["kind"] != kind:
                raise OutputError(f"{folder} is a '{info['kind']}' experiment; "
                                  f"resume it with perksim {info['kind']}")
            replicates, variants = info["replicates"], tuple(info["variants"] or ())
            formats = table_formats(info.get("users_table", "csv"), info.get("table_format", "csv"))
            design = None
            if kind == "robust":
                design = robust_design(sc, info.get("method"), info.get("samples"), variants,
                                       folder)
                tasks = robust_runs(design, sc, variants, replicates)
            else:
                tasks = len(plan(sc, replicates, list(variants) or None, sweep=kind == "sweep"))
            need = estimate_output_bytes(sc, tasks, len(variants) or max(1, len(sc.variants)),
                                         experiment=True, report=report)
            check_output(folder, need, label="--resume")
        except (ResultsFolderError, ScenarioError, OutputError, ValueError, KeyError) as exc:
            # ExperimentError is a ValueError: a study that cannot be rebuilt
            work.lock.release(remove=work.lock.created)  # leave the folder as it was
            raise ExperimentError(str(exc) if isinstance(exc, OutputError)
                                  else f"cannot resume {folder}: {exc}") from None
        work.lock.record(kind)
        return cls(kind, sc, work, replicates=replicates, variants=variants, executor=executor,
                   workers=workers, scheduler=scheduler, source=info.get("source_file"),
                   started=info["started"], command=command, design=design, formats=formats)

    def _manifest(self, status: str, results: Results | None = None) -> None:
        """Write ``manifest.json`` with ``status`` (``running``, then ``complete``)."""
        settings = settings_of(self.replicates, self.variants, self.executor, self.workers,
                             self.scheduler, len(results.failures) if results else None)
        if self.design is not None:
            settings.update(robust_settings(self.design))
        doc = manifest(self.scenario, source=self.source, seed=self.scenario.seed,
                       derived_seeds=results.seeds if results else {},
                       started=datetime.fromisoformat(self.started), finished=utc_now(),
                       command=self.command,
                       extra={"kind": self.kind, **settings, **self.formats,
                              **(results.facts if results else {})})
        doc["status"] = status
        write_json(doc, self.folder / "manifest.json")
        if results is not None:
            results.settings, results.source = {**settings, **self.formats}, self.source
            results.started = datetime.fromisoformat(self.started)

    def run(self, progress: Progress | None = None, notify: Notify | None = None) -> Results:
        """Run the runs not yet saved, write the tables, figures and manifest, and rename the
        folder into place; returns the results (``.folder`` is the final folder).

        An ``OSError`` (a full disk) or ``KeyboardInterrupt`` leaves the finished runs saved
        in :attr:`folder` for :meth:`resume`; ``RuntimeError`` if every run failed."""
        self._manifest("running")
        store = FolderStore(self.folder)
        store.done()
        for key, problem in store.damaged.items():
            (notify or warn)(f"warning: run {key} cannot be read back ({problem}); it is run again")
        points = scenario = None
        if self.design is not None:
            from simulator.experiment.robust.study import design_points

            points, scenario = design_points(self.design), robust_scenario(self.scenario)
        result = run_experiment(scenario or self.scenario, sweep=self.kind == "sweep",
                                replicates=self.replicates, variants=list(self.variants) or None,
                                executor=self.executor, workers=self.workers,
                                scheduler=self.scheduler, store=store, progress=progress,
                                points=points, variant_wins=self.design is not None,
                                keep_users=self.formats["users_table"] != "none")
        results = Results.of(result, self.kind, self.scenario)
        if self.design is not None:
            from simulator.experiment.robust.study import analyse_study

            results.robust = analyse_study(result.summary, self.design, self.scenario,
                                           self.variants)
        return self.finish(results, notify)

    def finish(self, results: Results, notify: Notify | None = None) -> Results:
        """Write the finished experiment's files and rename its folder into place."""
        results.write_tables(self.folder, **self.formats)
        results.figures = draw(self.folder, notify)
        self._manifest("complete", results)
        partial = self.folder
        results.folder = finish(self.work)
        results.figures = [results.folder / p.relative_to(partial) for p in results.figures]
        return results
