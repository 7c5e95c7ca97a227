"""The results workflow as a library (simulator/api/): an experiment returns ``Results``, which
save to the folder ``perksim`` writes, reopen from it, draw and report — from Python, with no
command line. Scenarios are small (200 users, 10 steps) so each experiment takes seconds."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
import simulator.model.metrics
from simulator import Experiment, Results, compare, load_scenario, run, sweep
from simulator.api import ExperimentError
from simulator.cli import cli
from simulator.experiment.results import ResultsFolderError, read_manifest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["population.size=200", "steps=20"]
TABLES = ("steps.csv", "summary.csv", "comparison.csv", "users.csv", "edges.csv")


def digest(folder: Path) -> dict[str, str]:
    """SHA-256 of each table a results folder holds."""
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in TABLES if (folder / name).exists()}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios/klout_pout.yaml", overrides=SMALL)


@pytest.fixture(scope="module")
def saved(scenario, tmp_path_factory):
    """A compare in memory, saved (the notebook route)."""
    result = compare(scenario, replicates=2, variants=["klout_63", "lottery"])
    return result, result.save(tmp_path_factory.mktemp("api") / "results")


def test_compare_returns_results_with_the_tables_and_what_made_them(saved, scenario):
    result, _ = saved
    assert isinstance(result, Results) and isinstance(result, simulator.ExperimentResult)
    assert result.kind == "compare" and result.scenario == scenario
    assert list(dict.fromkeys(result.summary["variant"])) == ["klout_63", "lottery"]
    assert set(result.comparison["metric"]) >= {"reach", "pout_fans"}
    assert result.settings["replicates"] == 2 and result.settings["variants"] == ["klout_63", "lottery"]


@pytest.mark.slow
def test_save_writes_the_folder_perksim_compare_writes(saved, scenario, tmp_path):
    """Same tables byte for byte as the command line's, and a manifest that says it came from
    the library."""
    _, folder = saved
    assert folder.parent.name == scenario.name and not folder.name.endswith(".partial")
    assert (folder / "scenario.yaml").is_file() and (folder / "figures").is_dir()
    manifest = read_manifest(folder, required=("kind", "resolved_scenario"))
    assert manifest["kind"] == "compare" and manifest["status"] == "complete"
    assert manifest["command"] == ["simulator.compare"]
    out = tmp_path / "cli"
    done = CliRunner().invoke(cli, ["compare", str(ROOT / "scenarios/klout_pout.yaml"),
                                    *[a for s in SMALL for a in ("--set", s)], "--replicates", "2",
                                    "--variant", "klout_63", "--variant", "lottery",
                                    "--executor", "serial", "--out", str(out)])
    assert done.exit_code == 0, done.output
    [cli_folder] = list((out / scenario.name).iterdir())
    assert digest(folder) == digest(cli_folder)
    assert set(digest(folder)) >= {"steps.csv", "summary.csv", "comparison.csv"}


def test_open_reads_back_the_same_tables_and_scenario(saved, scenario):
    result, folder = saved
    again = Results.open(folder)
    assert again.kind == "compare" and again.folder == folder
    assert again.scenario.to_document() == scenario.to_document()
    # the tables in memory are normalised as if read back from CSV: equal, not just close
    pd.testing.assert_frame_equal(again.summary, result.summary)
    pd.testing.assert_frame_equal(again.comparison, result.comparison)
    assert again.seeds == result.seeds and again.facts["users"] == 200
    assert again.figures and all(p.parent == folder / "figures" for p in again.figures)


@pytest.mark.slow
def test_report_plot_and_explain_from_python(saved):
    _, folder = saved
    opened = Results.open(folder)
    html, md = opened.report()
    assert html == folder / "report.html" and "klout_63" in md.read_text(encoding="utf-8")
    figures = opened.plot()
    assert figures and all(p.is_file() for p in figures)
    story = opened.explain(user=0, brand="courtside")
    assert "user 0" in story.lower() or "User 0" in story


def test_results_held_in_memory_cannot_be_drawn_before_they_are_saved(scenario):
    result = run(scenario.model_copy(update={"steps": 16}))
    assert result.kind == "run" and result.folder is None
    with pytest.raises(ValueError, match="save"):
        result.report()


def test_open_refuses_a_damaged_or_unfinished_folder(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ResultsFolderError, match=r"manifest\.json"):
        Results.open(broken)
    with pytest.raises(ResultsFolderError, match="unfinished"):
        Results.open(tmp_path / "x.partial")


@pytest.mark.slow
def test_a_folder_experiment_runs_and_finishes_from_python(scenario, tmp_path):
    """Experiment.start → run: the resumable route of perksim compare/sweep, in Python."""
    sc = load_scenario(ROOT / "scenarios/threshold_sweep.yaml", overrides=SMALL)
    with Experiment.start(sc, "sweep", tmp_path, replicates=1, executor="serial") as exp:
        assert exp.folder.name.endswith(".partial")
        done = exp.run()
    assert done.folder.is_dir() and not done.folder.name.endswith(".partial")
    assert "point" in done.summary.columns
    assert read_manifest(done.folder)["kind"] == "sweep"
    in_memory = sweep(sc, replicates=1)
    pd.testing.assert_frame_equal(in_memory.summary, done.summary)


def test_an_experiment_that_cannot_run_says_why_before_any_folder(scenario, tmp_path):
    with pytest.raises(ExperimentError, match="no sweep"):
        Experiment.start(scenario, "sweep", tmp_path)
    with pytest.raises(ExperimentError, match="no variant 'nope'"):
        Experiment.start(scenario, "compare", tmp_path, variants=["nope"])
    assert not any(tmp_path.iterdir())


# --- how results show themselves (Jupyter's _repr_html_, and repr) -----------------------------------


def _cell(page: str, metric: str, column: int) -> str:
    """The text of cell ``column`` (1: the first variant) in ``metric``'s row of an HTML table."""
    row = re.search(rf"<tr>\s*<td><code>{metric}</code></td>(.*?)</tr>", page, re.S)
    assert row, f"no row for {metric}"
    return re.findall(r"<td>(.*?)</td>", row.group(1), re.S)[column - 1]


def test_results_show_what_they_are_and_the_key_table_in_jupyter(saved):
    from simulator.views.report.render import inline_html
    from simulator.views.report.tables import Table, summary_tables
    from simulator.views.report.vocabulary import fmt

    result, folder = saved
    page = result._repr_html_()
    assert page.count("<table") == 1  # one brand: one table, metrics × variants
    for fact in ("<strong>scenario</strong>: klout_pout", "<strong>kind</strong>: compare",
                 "<strong>variants</strong>: 2: klout_63, lottery",
                 "<strong>replicates</strong>: 2 per variant", "<strong>seed</strong>: 2012",
                 "<strong>size</strong>: 200 users, 20 steps",
                 f"<strong>folder</strong>: {html.escape(str(folder))}"):
        assert fact in page
    assert "<th>klout_63</th>" in page and "<th>lottery</th>" in page
    fit = result.comparison.set_index(["variant", "metric"]).loc[("lottery", "recipient_fit")]
    cell = _cell(page, "recipient_fit", 2)
    assert cell.startswith(fmt(fit["mean"]) + " ")  # the mean, written as the report writes it
    [(_, rows)] = summary_tables(Table(result.comparison), ["recipient_fit"])
    assert cell == inline_html(rows[0][2])  # the very cell of the report's table


def test_results_print_the_table_perksim_compare_prints(saved, scenario):
    from simulator.views.console import format_comparison

    result, _ = saved
    text = repr(result)
    assert text.startswith("perksim results: compare of klout_pout\n")
    metrics = [m for m in dict.fromkeys([*scenario.metrics, *simulator.model.metrics.HEADLINE])]
    assert text.endswith(format_comparison(result.comparison, metrics))
    assert "DataFrame" not in text and len(text.splitlines()) < 40  # not the dataclass's dump


def test_opened_results_show_their_folder_and_the_same_table(saved):
    result, folder = saved
    page = Results.open(folder)._repr_html_()
    assert f"<strong>folder</strong>: {html.escape(str(folder))}" in page
    assert page.split("</ul>")[1] == result._repr_html_().split("</ul>")[1]


def test_the_display_escapes_names_and_says_when_no_run_finished(saved):
    result, _ = saved
    bad = "<img src=x onerror=alert(1)>"
    renamed = dataclasses.replace(
        result, summary=result.summary.replace({"variant": {"lottery": bad}}),
        comparison=result.comparison.replace({"variant": {"lottery": bad}}))
    page = renamed._repr_html_()
    assert "<img" not in page and f"<th>{html.escape(bad)}</th>" in page
    empty = dataclasses.replace(result, summary=result.summary.iloc[:0],
                                comparison=result.comparison.iloc[:0])
    assert "<table" not in empty._repr_html_() and "no run finished" in empty._repr_html_()
    assert repr(empty).endswith("no run finished, so there is no table")


def test_a_single_run_shows_its_final_values(scenario):
    from simulator.views.console import format_summary

    result = run(scenario.model_copy(update={"steps": 16}))
    assert repr(result).endswith(format_summary(result.summary))
    page = result._repr_html_()
    assert "one run each, so no intervals" in page and "<th>base</th>" in page
    assert "<strong>folder</strong>: not saved" in page


def test_a_sweep_shows_a_table_per_variant_by_sweep_value():
    sc = load_scenario(ROOT / "scenarios/threshold_sweep.yaml", overrides=SMALL)
    result = sweep(sc, replicates=2)
    page = result._repr_html_()
    names = list(dict.fromkeys(result.summary["variant"]))
    assert page.count("<table") == len(names) == 2
    assert all(f"<th>courtside · {v}</th>" in page for v in names)
    assert "<strong>sweep points</strong>: 4" in page and "<th>63</th>" in page
    assert "sweep points: 4" in repr(result)


@pytest.mark.slow
def test_a_robustness_study_shows_its_shares(scenario):
    from simulator import robust

    result = robust(scenario, method="lhs", samples=4, replicates=2, variants=["klout_63", "lottery"])
    page = result._repr_html_()
    assert "<strong>design</strong>: lhs, 4 samples" in page and "<th>better</th>" in page
    assert "<td>lottery</td>" in page and "<td>klout_63</td>" in page
    assert "share of the sampled assumptions" in repr(result)
