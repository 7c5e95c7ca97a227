"""Output problems caught before the work, and damaged results folders refused with a located
message (issue 9, items 8 and 9): every case exits 2 (or, for a disk that fills during the
work, 1 with what to do next), prints no traceback, writes nothing, within 10 s.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.experiment import output, results, store

TINY = """\
name: tiny
seed: 11
steps: 5
replicates: 2
population: {size: 100}
campaigns:
  - {brand: courtside, topic: sports, region: los_angeles, perks: 5, start: 1,
     strategy: {kind: score_threshold, threshold: 55}}
variants:
  threshold: {}
  lottery: {campaigns.0.strategy: {kind: lottery}}
"""
LIMIT = 10  # seconds a refusal may take


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@contextmanager
def within(seconds: int = LIMIT):
    def expired(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def refused(result, *fragments: str) -> None:
    """Exit 2, one ``error:`` message holding every fragment, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def pristine(scenario, tmp_path_factory) -> Path:
    """A complete compare folder (2 variants × 2 replicates), never modified."""
    out = tmp_path_factory.mktemp("pristine")
    result = invoke("compare", scenario, "--executor", "serial", "--out", out)
    assert result.exit_code == 0, result.output
    [folder] = list((out / "tiny").iterdir())
    return folder


@pytest.fixture(scope="module")
def pristine_partial(scenario, tmp_path_factory) -> Path:
    """A compare interrupted after its first run (resumable), never modified."""
    out = tmp_path_factory.mktemp("partial")
    with pytest.MonkeyPatch.context() as mp:
        calls = {"n": 0}
        real = store.FolderStore.save

        def save(self, task, result):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
            real(self, task, result)

        mp.setattr(store.FolderStore, "save", save)
        result = invoke("compare", scenario, "--executor", "serial", "--out", out)
    assert result.exit_code == 130, result.output
    [folder] = list((out / "tiny").iterdir())
    return folder


# --- damaging a folder ------------------------------------------------------------------------------


def write(name: str, text: str | bytes) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return damage


def delete(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def manifest(**changes) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / "manifest.json"
        doc = json.loads(path.read_text())
        for key, value in changes.items():
            if value is DROP:
                doc.pop(key)
            else:
                doc[key] = value
        path.write_text(json.dumps(doc, indent=2))
    return damage


DROP = object()


def table(name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        frame = edit(pd.read_csv(path, dtype=str))
        frame.to_csv(path, index=False)
    return damage


def cell(column: str, value: str, row: int = 1) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame
    return edit


def drop(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.drop(columns=[column])


def lines(name: str, edit: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    return damage


EXPLAIN = ["--user", "0", "--brand", "courtside"]
# (case, damage, commands that read the damaged file, what the message names)
DAMAGED = [
    ("manifest_missing", delete("manifest.json"), ["report", "explain"], "manifest.json"),
    ("manifest_not_json", write("manifest.json", '{\n  "scenario": "tiny",\n  "seed": 11,,\n'),
     ["report", "explain"], "manifest.json:3:"),
    ("manifest_not_utf8", write("manifest.json", b"\xff\xfe{\x00garbage"), ["report", "explain"],
     "manifest.json: not UTF-8"),
    ("manifest_a_list", write("manifest.json", "[1, 2, 3]"), ["report", "explain"],
     "manifest.json: should hold a JSON object"),
    ("manifest_empty", write("manifest.json", ""), ["report", "explain"], "manifest.json:1:1:"),
    ("manifest_no_scenario", manifest(resolved_scenario=DROP), ["explain"],
     "manifest.json: no key 'resolved_scenario'"),
    ("manifest_scenario_garbled", manifest(resolved_scenario={"campaigns": 5}), ["report", "explain"],
     "manifest.json"),
    ("manifest_kind_number", manifest(kind=7), ["report", "explain"], "'kind' should be"),
    ("manifest_variants_text", manifest(variants="abc"), ["report"], "'variants' should be"),
    ("manifest_users_text", manifest(users="many"), ["report"], "'users' should be"),
    ("summary_missing", delete("summary.csv"), ["plot", "report", "explain"], "summary.csv"),
    ("summary_empty", write("summary.csv", ""), ["plot", "report", "explain"], "summary.csv: empty"),
    ("summary_not_utf8", write("summary.csv", b"variant,brand\n\xff\xfe\x00\x01\n"),
     ["plot", "report", "explain"], "summary.csv"),
    ("summary_wrong_columns", lines("summary.csv", lambda ls: ["a,b,c", "1,2,3"]),
     ["plot", "report", "explain"], "summary.csv:1: no column 'variant'"),
    ("summary_no_brand", table("summary.csv", drop("brand")), ["plot", "report", "explain"],
     "summary.csv:1: no column 'brand'"),
    ("summary_text_metric", table("summary.csv", cell("reach", "lots")), ["plot", "report", "explain"],
     "summary.csv:3: column 'reach': 'lots' is not a number"),
    ("summary_bad_replicate", table("summary.csv", cell("replicate", "-1")), ["plot", "report", "explain"],
     "summary.csv:3: column 'replicate'"),
    ("summary_extra_fields", lines("summary.csv", lambda ls: [*ls[:2], ls[2] + ",1,2,3", *ls[3:]]),
     ["plot", "report", "explain"], "summary.csv:3:"),
    ("summary_empty_label", table("summary.csv", cell("variant", "")), ["plot", "report", "explain"],
     "summary.csv:3: column 'variant' is empty"),
    ("summary_a_folder", lambda f: ((f / "summary.csv").unlink(), (f / "summary.csv").mkdir()),
     ["plot", "report", "explain"], "summary.csv"),
    ("explain_metric_missing", table("summary.csv", drop("perks_given")), ["explain"],
     "summary.csv:1: no column 'perks_given'"),
    ("comparison_no_mean", table("comparison.csv", drop("mean")), ["report"],
     "comparison.csv:1: no column 'mean'"),
    ("comparison_text_interval", table("comparison.csv", cell("ci_low", "wide")), ["report"],
     "comparison.csv:3: column 'ci_low'"),
    ("steps_no_step", table("steps.csv", drop("step")), ["plot"], "steps.csv:1: no column 'step'"),
    ("steps_garbled", lines("steps.csv", lambda ls: [ls[0], *("x" * 50 + "," * 60 for _ in ls[1:3])]),
     ["plot"], "steps.csv:2:"),
    ("users_text_followers", table("users.csv", cell("followers", "several")), ["plot", "report"],
     "users.csv:3: column 'followers'"),
    ("users_no_pout", table("users.csv", drop("pout_courtside")), ["plot"],
     "users.csv:1: no column 'pout_courtside'"),
    ("users_no_id", table("users.csv", drop("id")), ["plot", "report"], "users.csv:1: no column 'id'"),
    ("edges_beyond_users", table("edges.csv", cell("author", "5000", row=0)), ["plot"],
     "edges.csv:2: user 5000 is not in users.csv"),
    ("edges_text", table("edges.csv", cell("follower", "nobody")), ["plot"],
     "edges.csv:3: column 'follower'"),
    ("failures_wrong_columns", write("failures.csv", "what,why\nx,y\n"), ["report"],
     "failures.csv:1: no column 'run'"),
    ("figures_a_file", lambda f: (shutil.rmtree(f / "figures"), (f / "figures").write_text("x")),
     ["plot"], "figures is a file, not a folder"),
]
CASES = [pytest.param(damage, command, where, id=f"{case}-{command}")
         for case, damage, commands, where in DAMAGED for command in commands]


@pytest.mark.parametrize(("damage", "command", "where"), CASES)
def test_a_damaged_results_folder_is_refused_with_a_located_message(pristine, tmp_path, damage,
                                                                    command, where):
    folder = tmp_path / pristine.name
    shutil.copytree(pristine, folder)
    damage(folder)
    before = snapshot(folder)
    with within():
        result = invoke(command, folder, *(EXPLAIN if command == "explain" else []))
    refused(result, where)
    assert str(folder) in result.stderr
    assert snapshot(folder) == before, "nothing may be written into a damaged folder"


RESUME = [
    ("manifest_missing", delete("manifest.json"), "manifest.json: not found"),
    ("manifest_not_json", write("manifest.json", "{\n  oops\n"), "manifest.json:2:3: not valid JSON"),
    ("no_replicates", manifest(replicates=DROP), "manifest.json: no key 'replicates'"),
    ("replicates_text", manifest(replicates="three"), "'replicates' should be a whole number"),
    ("variants_number", manifest(variants=3), "'variants' should be a list"),
    ("started_nonsense", manifest(started="yesterday"), "'started' should be an ISO 8601 time"),
    ("scenario_garbled", manifest(resolved_scenario={"name": "tiny", "steps": "many"}),
     "manifest.json"),
    ("kind_run", manifest(kind="run"), "cannot be resumed"),
    ("kind_sweep", manifest(kind="sweep"), "resume it with perksim sweep"),
]


@pytest.mark.parametrize(("damage", "where"), [pytest.param(d, w, id=c) for c, d, w in RESUME])
def test_resume_of_a_damaged_experiment_is_refused_with_a_located_message(pristine_partial, tmp_path,
                                                                          damage, where):
    folder = tmp_path / pristine_partial.name
    shutil.copytree(pristine_partial, folder)
    damage(folder)
    before = snapshot(folder)
    with within():
        result = invoke("compare", "--resume", folder)
    refused(result, where, str(folder))
    assert snapshot(folder) == before


def test_resume_of_a_finished_folder_is_refused(pristine):
    with within():
        result = invoke("compare", "--resume", pristine)
    refused(result, "not an unfinished results folder")


def test_explain_of_an_unfinished_experiment_is_refused(pristine_partial):
    with within():
        result = invoke("explain", pristine_partial, *EXPLAIN)
    refused(result, "unfinished")


# --- the output folder, checked before any run -----------------------------------------------------


@pytest.fixture
def read_only(tmp_path: Path):
    """A folder nobody (root included) can write in: a read-only tmpfs when root, else
    permissions."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs as root: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_read_only_out_is_refused_before_any_run(scenario, read_only, command, monkeypatch):
    ran = []
    monkeypatch.setattr("simulator.api.experiment.run_experiment", lambda *a, **k: ran.append(1))
    with within():
        result = invoke(command, scenario, "--out", read_only / "results")
    refused(result, f"--out {read_only / 'results'}: cannot write in", str(read_only))
    assert not ran, "nothing may run before the output is known to be writable"
    assert not any(read_only.iterdir())


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_an_out_below_a_file_is_refused_before_any_run(scenario, tmp_path, command, monkeypatch):
    ran = []
    monkeypatch.setattr("simulator.api.experiment.run_experiment", lambda *a, **k: ran.append(1))
    a_file = tmp_path / "hostname"
    a_file.write_text("a file")
    text = TINY + "sweep:\n  grid: {campaigns.0.perks: [3, 5]}\n"
    (tmp_path / "tiny.yaml").write_text(text)
    with within():
        result = invoke(command, tmp_path / "tiny.yaml", "--out", a_file / "sub")
    refused(result, f"{a_file} is a file, not a folder")
    assert not ran and a_file.read_text() == "a file"


def test_too_little_free_space_is_refused_before_any_run(scenario, tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr("simulator.api.experiment.run_experiment", lambda *a, **k: ran.append(1))
    monkeypatch.setattr(output.shutil, "disk_usage",
                        lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 2**20, 2**20))
    out = tmp_path / "out"
    with within():
        result = invoke("compare", scenario, "--out", out)
    refused(result, "not enough free space for the results", "1.0 MiB free, about")
    assert not ran and snapshot(out) == {}, "folders created by the check are removed again"


# --- a disk that fills up during the work ---------------------------------------------------------------


def no_space(path: object) -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", str(path))


def test_run_on_a_disk_that_fills_says_so_and_keeps_nothing(scenario, tmp_path, monkeypatch):
    def full(frame, path):
        raise no_space(path)

    monkeypatch.setattr(results, "write_table", full)
    out = tmp_path / "out"
    result = invoke("run", scenario, "--out", out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert "error: could not write in" in result.stderr and "No space left on device" in result.stderr
    assert "nothing was kept" in result.stderr
    assert list((out / "tiny").iterdir()) == []


@pytest.mark.slow
def test_compare_on_a_disk_that_fills_gives_the_resume_command_which_then_finishes(scenario, tmp_path,
                                                                                   monkeypatch):
    calls = {"n": 0}
    real = store.FolderStore.save

    def save(self, task, result):
        calls["n"] += 1
        if calls["n"] == 2:
            raise no_space(self.runs / task.key / "steps.csv")
        real(self, task, result)

    monkeypatch.setattr(store.FolderStore, "save", save)
    out = tmp_path / "out"
    result = invoke("compare", scenario, "--executor", "serial", "--out", out)
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [partial] = list((out / "tiny").iterdir())
    assert "No space left on device" in result.stderr
    assert f"1 finished runs are saved in {partial}" in result.stderr
    assert f"continue with: perksim compare --resume {partial}" in result.stderr
    assert not list((partial / "runs").glob(".*")), "no half-written run is left"
    resumed = invoke("compare", "--resume", partial)
    assert resumed.exit_code == 0, resumed.output
    [final] = list((out / "tiny").iterdir())
    assert len(pd.read_csv(final / "summary.csv")) == 4


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 16 MiB tmpfs (root only)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.slow
def test_a_real_disk_that_fills_during_a_compare(scenario, small_disk, monkeypatch):
    """The space check is fooled (it says 0 bytes are needed); the disk is nearly full, so the
    kernel refuses a write during the work: a message and the --resume command, no traceback."""
    monkeypatch.setattr("simulator.api.experiment.estimate_output_bytes", lambda *a, **k: 0)
    filler = small_disk / "filler"
    with filler.open("wb") as f:
        while shutil.disk_usage(small_disk).free > 40_000:
            f.write(b"\0" * 16_384)
            f.flush()
    out = small_disk / "out"
    result = invoke("compare", scenario, "--executor", "serial", "--out", out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "No space left on device" in result.stderr
    [partial] = list((out / "tiny").iterdir())
    assert f"perksim compare --resume {partial}" in result.stderr
    filler.unlink()
    monkeypatch.undo()
    resumed = invoke("compare", "--resume", partial)
    assert resumed.exit_code == 0, resumed.output


# --- the dashboard -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "warned"), [
    ("127.0.0.1", False), ("localhost", False), ("::1", False), ("127.0.0.2", False),
    ("0.0.0.0", True), ("::", True), ("192.168.1.20", True),
])
def test_the_dashboard_warns_when_bound_beyond_loopback(host, warned):
    pytest.importorskip("solara")
    from simulator.views.server import exposure_warning

    warning = exposure_warning(host, 8765)
    assert (warning is not None) == warned
    if warned:
        assert "port 8765" in warning and "--host 127.0.0.1" in warning
    if host == "0.0.0.0":
        assert "every network interface" in warning


def test_serve_prints_the_warning_before_starting(monkeypatch, capsys):
    pytest.importorskip("solara")
    from simulator.views import server as app

    class Server:
        returncode = 0

        def __init__(self, command, env):
            self.command = command

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(app, "fetch_frontend_assets", lambda: [])
    monkeypatch.setattr(app.subprocess, "Popen", Server)
    app.serve(None, host="0.0.0.0", port=8765)
    err = capsys.readouterr().err
    assert err.startswith("warning: the dashboard is served on every network interface")


# --- the reference documents these cases -------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def test_the_exit_code_table_and_output_folder_section_document_these_cases():
    text = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    rows = {cells[1].strip(): line for line in text.splitlines() if line.startswith("| ")
            and (cells := line.split("|"))[1].strip() in ("0", "1", "2", "130")}
    for phrase in ("`--out /etc/hostname/sub`", "read-only", "free space", "damaged",
                   "`plot`, `report`, `explain` or `--resume`", "being worked on by another perksim"):
        assert phrase in rows["2"], phrase
    assert "disk filled up" in rows["1"] and "`--resume` command" in rows["1"]
    assert "ignore Ctrl-C" in rows["130"]
    source = "".join((ROOT / "simulator" / name).read_text(encoding="utf-8")
                     for name in ("experiment/output.py", "experiment/folders.py", "api/experiment.py",
                                  "cli.py", "views/server.py"))
    for example in ("is a file, not a folder, so", "cannot write in", "not enough free space for the "
                    "results in", "is being worked on by another perksim", "left by an interrupted "
                    "perksim run", "is an unfinished", "wait for it to finish, or stop it first",
                    "warning: the dashboard is served", "so anyone who can reach port"):
        assert example in text and example in source, example
    results_md = (ROOT / "docs" / "reference" / "results.md").read_text(encoding="utf-8")
    for phrase in ("`<run-id>-2`", "`.lock`", "`flock`", "`.<run-id>.partial-<pid>-<random>`",
                   "never replaces a finished folder"):
        assert phrase in results_md, phrase
