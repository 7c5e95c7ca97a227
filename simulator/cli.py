"""The ``perksim`` command line — thin: parse, call, print (docs/reference/cli.md).

Exit codes: 0 success, 2 bad input (scenario, arguments, edge lists), 1 internal error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd

from . import __version__
from .experiment import run_once
from .graphs import EdgeListError
from .library import bundled, resolve
from .metrics import METRICS
from .plots import plot_run
from .results import atomic_folder, manifest, run_folder, utc_now, write_json, write_table, write_yaml
from .scenario import Scenario, ScenarioError, json_schema, load_scenario

SUMMARY_METRICS = METRICS  # every metric of docs/model.md §8, in the order of steps.csv


def _bad_input(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _progress(label: str, total: int):
    """A progress bar on a terminal; silence otherwise."""
    if not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True)
    bar.__enter__()
    return bar, (lambda done, _total: bar.update(1))


def format_summary(summary: pd.DataFrame) -> str:
    """The final metrics as a readable table: one row per metric, one column per brand."""
    def fmt(v: object) -> str:
        if isinstance(v, (int, np.integer)):
            return f"{int(v):,}"
        v = float(v)  # type: ignore[arg-type]
        if v != v:
            return "–"
        if v.is_integer() and abs(v) >= 10:
            return f"{v:,.0f}"
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"

    table = pd.DataFrame({
        row["brand"]: [fmt(row[m]) for m in SUMMARY_METRICS]
        for row in summary.to_dict("records")
    }, index=SUMMARY_METRICS)
    return table.to_string()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perksim")
def cli() -> None:
    """Simulate influencer-perk campaigns: who gets perks, who is reached, who pouts."""


def _load(scenario: Path, overrides: list[str], variant: str | None = None) -> Scenario:
    """Load and validate, or exit 2 with every located problem."""
    try:
        return load_scenario(scenario, overrides=overrides, variant=variant)
    except ScenarioError as exc:
        _bad_input(f"{scenario} is not a valid scenario:\n{exc}")
        raise  # unreachable: _bad_input exits


SCENARIO_ARG = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path),
                              callback=lambda ctx, param, value: resolve(value))


@cli.command()
@SCENARIO_ARG
@click.option("--variant", metavar="NAME", help="Run one of the scenario's variants.")
@click.option("--seed", type=click.IntRange(min=0), help="Master seed (default: the scenario's).")
@click.option("--steps", type=click.IntRange(min=1), help="Number of steps (default: the scenario's).")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
              help="Override a scenario field, e.g. --set campaigns[0].perks=10 (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="Folder under which results/<scenario>/<run-id>/ is written.")
def run(scenario: Path, variant: str | None, seed: int | None, steps: int | None,
        overrides: tuple[str, ...], out: Path) -> None:
    """Run SCENARIO once and write a results folder.

    SCENARIO is a scenario file, or the name of a bundled one (see `perksim list`).
    """
    extra = list(overrides)
    if seed is not None:
        extra.append(f"seed={seed}")
    if steps is not None:
        extra.append(f"steps={steps}")
    sc = _load(scenario, extra, variant)
    started = utc_now()
    bar, progress = _progress(f"{sc.name}", sc.steps)
    try:
        result = run_once(sc, progress=progress)
    except EdgeListError as exc:
        _bad_input(str(exc))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    finished = utc_now()
    folder = run_folder(out, sc, started)
    model = result.model
    with atomic_folder(folder) as tmp:
        write_yaml(sc.to_document(), tmp / "scenario.yaml")
        write_table(result.steps, tmp / "steps.csv")
        write_table(result.summary, tmp / "summary.csv")
        write_table(result.users, tmp / "users.csv")
        plot_run(tmp)
        write_json(manifest(
            sc, source=scenario, seed=sc.seed, derived_seeds={"replicate_0": result.seed},
            started=started, finished=finished, command=["perksim", *sys.argv[1:]],
            extra={"variant": variant, "users": model.n, "graph": model.graph.description,
                   "follows": model.graph.edges,
                   "assortativity": model.population.assortativity},
        ), tmp / "manifest.json")
    click.echo(f"{sc.name}: {model.n:,} users, {model.graph.description}, {sc.steps} steps, "
               f"seed {sc.seed}")
    click.echo(format_summary(result.summary))
    click.echo(f"results: {folder}")


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
