"""The ``perksim`` command line — thin: parse, call, print (docs/reference/cli.md).

Exit codes: 0 success, 2 bad input (scenario, arguments, edge lists), 1 internal error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd

from . import __version__
from .experiment import run_once
from .graphs import EdgeListError
from .metrics import METRICS
from .plots import plot_run
from .results import atomic_folder, manifest, run_folder, utc_now, write_json, write_table, write_yaml
from .scenario import ScenarioError, load_scenario

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


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), help="Master seed (default: the scenario's).")
@click.option("--steps", type=click.IntRange(min=1), help="Number of steps (default: the scenario's).")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
              help="Override a scenario field, e.g. --set campaigns[0].perks=10 (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="Folder under which results/<scenario>/<run-id>/ is written.")
def run(scenario: Path, seed: int | None, steps: int | None, overrides: tuple[str, ...],
        out: Path) -> None:
    """Run SCENARIO once and write a results folder."""
    extra = list(overrides)
    if seed is not None:
        extra.append(f"seed={seed}")
    if steps is not None:
        extra.append(f"steps={steps}")
    try:
        sc = load_scenario(scenario, overrides=extra)
    except ScenarioError as exc:
        _bad_input(f"{scenario} is not a valid scenario:\n{exc}")
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
            extra={"users": model.n, "graph": model.graph.description,
                   "follows": model.graph.edges,
                   "assortativity": model.population.assortativity},
        ), tmp / "manifest.json")
    click.echo(f"{sc.name}: {model.n:,} users, {model.graph.description}, {sc.steps} steps, "
               f"seed {sc.seed}")
    click.echo(format_summary(result.summary))
    click.echo(f"results: {folder}")


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
