"""Tables as Parquet (docs/reference/results.md#table-formats): ``--users-table
csv|parquet|none`` and ``--table-format csv|parquet``. Parquet holds the same rows and
values as CSV, every reader (``Results.open``, ``plot``, ``report``) reads it back, a folder
without a users table still reports, and without pyarrow a Parquet request is bad input
(exit 2, nothing written). Runs are small (150 users, 12–16 steps) and draw no figures (the
figures are the same code whichever format the tables were read from)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from simulator import Results, scenario_from_text
from simulator.api.experiment import Experiment
from simulator.cli import cli
from simulator.experiment.formats import FormatError, read_parquet, table_formats, write_dataset
from simulator.experiment.saved import SavedFolder
from simulator.views.plots import read_tables
from tests.test_robust import TINY

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ds = pytest.importorskip("pyarrow.dataset")

ROOT = Path(__file__).parents[1]
KLOUT = ROOT / "tests" / "data" / "klout_pout_standalone.yaml"
SMALL = ["--set", "population.size=150", "--steps", "16"]
# the tiny two-variant scenario (variants not in alphabetical order) as a sweep: two grid
# points × two variants × two replicates
SWEEP = yaml.safe_dump({**{k: v for k, v in yaml.safe_load(TINY).items() if k != "uncertainties"},
                        "name": "tiny_sweep", "replicates": 2,
                        "sweep": {"grid": {"campaigns[0].perks": [5, 10]}}}, sort_keys=False)
INSTALL = "pip install -e '.[parquet]'"


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def folder_of(out: Path) -> Path:
    found = [p for p in out.glob("*/*") if p.is_dir()]
    assert len(found) == 1, found
    return found[0]


def no_figures(patch: pytest.MonkeyPatch) -> None:
    """Results folders written and reported without drawing (figures take seconds)."""
    for where in ("simulator.api.results.draw", "simulator.api.experiment.draw"):
        patch.setattr(where, lambda folder, notify=None: [])
    patch.setattr("simulator.views.plots.plot_run", lambda folder, tables=None: [])


@pytest.fixture(autouse=True)
def _no_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    no_figures(monkeypatch)


def without_pyarrow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import pyarrow`` (and its modules) fail, as if it were not installed."""
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same small run written with each --users-table choice."""
    out = tmp_path_factory.mktemp("runs")
    folders = {}
    with pytest.MonkeyPatch.context() as patch:
        no_figures(patch)
        for choice in ("csv", "parquet", "none"):
            done = invoke("run", KLOUT, *SMALL, "--users-table", choice, "--out", out / choice)
            assert done.exit_code == 0, done.output
            folders[choice] = folder_of(out / choice)
    return folders


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    """The same small sweep written with each --table-format."""
    out = tmp_path_factory.mktemp("sweeps")
    scenario = out / "tiny_sweep.yaml"
    scenario.write_text(SWEEP, encoding="utf-8")
    folders = {}
    with pytest.MonkeyPatch.context() as patch:
        no_figures(patch)
        for choice in ("csv", "parquet"):
            done = invoke("sweep", scenario, "--executor", "serial", "--table-format", choice,
                          "--out", out / choice)
            assert done.exit_code == 0, done.output
            folders[choice] = folder_of(out / choice)
    return folders


# --- --users-table ---------------------------------------------------------------------------


def test_users_parquet_holds_the_rows_and_values_of_users_csv(runs):
    csv = pd.read_csv(runs["csv"] / "users.csv")
    parquet = pq.read_table(runs["parquet"] / "users.parquet").to_pandas()
    assert not (runs["parquet"] / "users.csv").exists()
    assert list(parquet.columns) == list(csv.columns)
    pd.testing.assert_frame_equal(parquet, csv, check_dtype=False)
    for name in ("steps.csv", "summary.csv", "comparison.csv", "edges.csv"):  # the rest unchanged
        assert (runs["parquet"] / name).read_bytes() == (runs["csv"] / name).read_bytes(), name


def test_the_manifest_records_which_users_table_was_written(runs):
    for choice, folder in runs.items():
        manifest = json.loads((folder / "manifest.json").read_text())
        assert (manifest["users_table"], manifest["table_format"]) == (choice, "csv")


def test_results_open_reads_users_parquet_back(runs):
    csv, parquet = Results.open(runs["csv"]), Results.open(runs["parquet"])
    pd.testing.assert_frame_equal(parquet.users, csv.users, check_dtype=False)
    assert parquet.settings["users_table"] == "parquet"
    drawn = read_tables(runs["parquet"])  # what the network figure is drawn from
    pd.testing.assert_frame_equal(drawn.users, read_tables(runs["csv"]).users, check_dtype=False)


def test_users_table_none_writes_no_per_user_tables_and_still_reports(runs):
    folder = runs["none"]
    assert not list(folder.glob("users.*")) and not (folder / "edges.csv").exists()
    assert Results.open(folder).users is None
    done = invoke("report", folder)
    assert done.exit_code == 0, done.output
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "no users table (it was written with `--users-table none`)" in report
    assert "No network picture" in report


def test_the_report_names_users_parquet(runs):
    done = invoke("report", runs["parquet"])
    assert done.exit_code == 0, done.output
    report = (runs["parquet"] / "report.md").read_text(encoding="utf-8")
    assert "from users.parquet of the first variant" in report


def test_a_damaged_users_parquet_is_named(runs, tmp_path):
    import shutil

    folder = tmp_path / runs["parquet"].name
    shutil.copytree(runs["parquet"], folder)
    (folder / "users.parquet").write_bytes(b"PAR1 not really")
    done = invoke("plot", folder)
    assert done.exit_code == 2
    assert "users.parquet" in done.output and "damaged" in done.output


# --- without pyarrow -------------------------------------------------------------------------


def test_parquet_without_pyarrow_is_bad_input_and_writes_nothing(monkeypatch, tmp_path):
    without_pyarrow(monkeypatch)
    done = invoke("run", KLOUT, *SMALL, "--users-table", "parquet", "--out", tmp_path / "r")
    assert done.exit_code == 2
    assert "--users-table parquet needs pyarrow" in done.output and INSTALL in done.output
    assert not (tmp_path / "r").exists()
    scenario = tmp_path / "tiny_sweep.yaml"
    scenario.write_text(SWEEP, encoding="utf-8")
    done = invoke("sweep", scenario, "--table-format", "parquet", "--out", tmp_path / "s")
    assert done.exit_code == 2
    assert "--table-format parquet needs pyarrow" in done.output and INSTALL in done.output
    assert not (tmp_path / "s").exists()
    with pytest.raises(FormatError, match="needs pyarrow"):
        table_formats("csv", "parquet")


def test_reading_parquet_without_pyarrow_says_what_to_install(monkeypatch, runs):
    without_pyarrow(monkeypatch)
    done = invoke("report", runs["parquet"])
    assert done.exit_code == 2
    assert "users.parquet" in done.output and INSTALL in done.output


def test_an_unknown_choice_names_the_option_and_the_choices():
    with pytest.raises(FormatError, match="--users-table 'xlsx': choose one of csv, parquet, none"):
        table_formats("xlsx")
    done = invoke("run", KLOUT, "--users-table", "xlsx")
    assert done.exit_code == 2 and "--users-table" in done.output


# --- --table-format --------------------------------------------------------------------------


def test_sweep_steps_dataset_has_the_rows_of_steps_csv(sweeps):
    csv, parquet = sweeps["csv"], sweeps["parquet"]
    assert not (parquet / "steps.csv").exists() and (parquet / "steps.parquet").is_dir()
    assert (parquet / "steps.parquet" / "point=1" / "variant=lottery").is_dir()
    expected = pd.read_csv(csv / "steps.csv")
    table = ds.dataset(parquet / "steps.parquet", partitioning="hive").to_table().to_pandas()
    assert sorted(table.columns) == sorted(expected.columns)
    keys = ["point", "variant", "replicate", "step", "brand"]
    table = table[list(expected.columns)].sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False, check_categorical=False)
    for name in ("summary.csv", "comparison.csv", "users.csv", "edges.csv"):  # these stay CSV
        assert (parquet / name).read_bytes() == (csv / name).read_bytes(), name


def test_readers_get_the_steps_back_in_order(sweeps):
    csv, parquet = SavedFolder(sweeps["csv"]), SavedFolder(sweeps["parquet"])
    pd.testing.assert_frame_equal(parquet.table("steps"), csv.table("steps"), check_dtype=False)
    opened = Results.open(sweeps["parquet"])
    assert opened.settings["table_format"] == "parquet" and len(opened.steps) == 2 * 2 * 2 * 12
    drawn = read_tables(sweeps["parquet"])  # what the figures are drawn from
    pd.testing.assert_frame_equal(drawn.steps, read_tables(sweeps["csv"]).steps, check_dtype=False)
    done = invoke("report", sweeps["parquet"])
    assert done.exit_code == 0, done.output


def test_resume_keeps_the_formats_it_started_with(tmp_path):
    def interrupt(done: int, failed: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt

    sc = scenario_from_text(SWEEP)
    with Experiment.start(sc, "compare", tmp_path, executor="serial", users_table="parquet",
                          table_format="parquet") as experiment, pytest.raises(KeyboardInterrupt):
        experiment.run(interrupt)
    partial = experiment.folder
    assert experiment.saved_runs() == 1
    done = invoke("compare", "--resume", partial, "--users-table", "csv")
    assert done.exit_code == 2 and "--users-table or --table-format" in done.output
    with Experiment.resume(partial, "compare", executor="serial") as resumed:
        results = resumed.run()
    folder = results.folder
    assert (folder / "users.parquet").is_file() and (folder / "steps.parquet").is_dir()
    assert not (folder / "users.csv").exists() and not (folder / "steps.csv").exists()
    assert sorted(p.name for p in (folder / "steps.parquet").iterdir()) == [
        "variant=lottery", "variant=threshold"]
    opened = Results.open(folder)
    pd.testing.assert_frame_equal(opened.steps, results.steps, check_dtype=False)


def test_a_dataset_reads_back_in_the_order_it_was_written(tmp_path):
    frame = pd.DataFrame({
        "point": [p for p in range(12) for _ in range(4)],
        "x": [p / 10 for p in range(12) for _ in range(4)],
        "variant": ["zeta", "zeta", "10", "10"] * 12,
        "replicate": [0, 1, 0, 1] * 12,
        "value": range(48),
    })
    write_dataset(frame, tmp_path / "steps.parquet")
    write_dataset(frame, tmp_path / "again.parquet")
    files = sorted(p.relative_to(tmp_path / "steps.parquet")
                   for p in (tmp_path / "steps.parquet").rglob("*.parquet"))
    assert len(files) == 24 and files[0].as_posix() == "point=0/variant=10/part-0.parquet"
    for file in files:  # byte-identical when written again
        assert (tmp_path / "again.parquet" / file).read_bytes() == \
            (tmp_path / "steps.parquet" / file).read_bytes()
    back = read_parquet(tmp_path / "steps.parquet")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert back["variant"].tolist() == frame["variant"].tolist()  # "10" stays text
    empty = frame.iloc[:0]
    write_dataset(empty, tmp_path / "empty.parquet")
    assert list(read_parquet(tmp_path / "empty.parquet").columns) == list(frame.columns)
