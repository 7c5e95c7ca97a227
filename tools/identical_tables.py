"""Prove that a refactor keeps perksim's results byte-identical.

The tool runs every bundled scenario through the command line, records the SHA-256 of every
table of each results folder, and compares them with a digest recorded earlier (the baseline).
It uses nothing of the package but ``python -m simulator`` (run in a subprocess with
``sys.executable``, the project root first on ``PYTHONPATH``), so it keeps working whatever
the package's internal layout becomes.

What is run, with ``--replicates R`` (default 3), ``--executor serial`` and the scenarios' own
seeds, each into a fresh temporary ``--out`` folder:

- ``perksim compare scenarios/<name>.yaml`` for every ``scenarios/*.yaml`` (not the
  sub-folders ``base/`` and ``checks/``: bases and model checks), keyed ``compare/<name>``;
- ``perksim sweep scenarios/<name>.yaml`` for every scenario whose resolved scenario (the
  ``scenario.yaml`` its compare wrote) declares a ``sweep:``, keyed ``sweep/<name>``.

What is hashed, by path inside ``<out>/<scenario>/<run-id>/`` (the run id holds the start time,
so it is left out of the key):

- every file of the folder: ``steps.csv``, ``summary.csv``, ``comparison.csv``, ``users.csv``,
  ``edges.csv``, ``failures.csv`` if any, ``scenario.yaml`` — and any file a later version adds;
- ``manifest.json`` key by key, as ``manifest.json:<key>`` (the value as JSON with sorted keys),
  leaving out the keys that change from run to run or machine to machine: ``started`` and
  ``finished`` (times), ``command`` (holds the temporary ``--out`` path), ``source_file`` (a
  path), ``platform`` and ``versions`` (the versions that matter are checked as a whole, below).
  Everything else is hashed: seeds, the resolved scenario, graph size and achieved
  assortativity, failures, executor options.

Inert sections (``INERT_SECTIONS``: ``uncertainties``, which only ``perksim robust`` reads) are
scenario sections that ``compare`` and ``sweep`` do not use, so adding one to the scenarios
must leave every digest as it was: they are dropped from ``manifest.json``'s
``resolved_scenario`` and cut from ``scenario.yaml`` (the top-level block, its key line and
its indented lines) before hashing, and ``manifest.json:scenario_sha256`` is not hashed — it
is a hash of the resolved scenario, which is compared already. The digest's ``skipped`` notes
both.

Skipped: ``figures/`` (PNG and SVG). They are drawn from the hashed tables only, and their bytes
depend on matplotlib and its fonts rather than on the model.

The digest records the replicates used and the versions of Python, numpy, scipy, pandas,
networkx, mesa and PyYAML: graph generation, the random streams, the bootstrap intervals and
the formatting of floats and YAML can change with them. ``--check`` refuses (exit 2) to compare
with a digest made under other versions, since a difference would then prove nothing, unless
``--ignore-versions`` is given.

Usage, from anywhere (the tool runs the package of the checkout it lives in)::

    python tools/identical_tables.py --write tools/identical_tables.json   # baseline, before
    python tools/identical_tables.py --check tools/identical_tables.json   # after the change
    python tools/identical_tables.py --check tools/identical_tables.json -k klout -k sweep

``--check`` prints ``<key>: identical`` or the files that differ, per scenario, and exits 0 when
everything is identical, 1 on any difference (a perksim command that fails counts as one),
2 on unusable input (other versions, other replicates, no scenario selected, the package
imported from outside this checkout). ``--write`` exits 3 if a perksim command fails.
``-k NAME`` (repeatable) keeps the scenarios whose file name contains NAME; with ``--write``
the digest then holds only those. Progress and times go to standard error.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
DIGEST_FORMAT = 1
EXECUTOR = "serial"
# manifest.json keys that differ between identical runs (times, paths, machine, software).
VOLATILE_MANIFEST_KEYS = frozenset({"started", "finished", "command", "source_file", "platform", "versions"})
# manifest.json keys not hashed because they hash what is compared already (with the inert
# sections in it): the resolved scenario's SHA-256.
DERIVED_MANIFEST_KEYS = frozenset({"scenario_sha256"})
# Top-level scenario sections that no table depends on; left out of what is hashed.
INERT_SECTIONS = ("uncertainties",)
# Folders of a results folder that are not hashed (figures: see the module docstring).
SKIPPED_FOLDERS = frozenset({"figures"})
# Distributions whose versions can change the tables' bytes.
DISTRIBUTIONS = ("numpy", "scipy", "pandas", "networkx", "mesa", "PyYAML")


class PerksimFailed(Exception):
    """A perksim command exited with a non-zero code."""


def installed_versions() -> dict[str, str]:
    """Python's version and those of the distributions in ``DISTRIBUTIONS``."""
    versions = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> tuple[str | None, bool | None]:
    """The checkout's HEAD commit and whether tracked files differ from it (None outside git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return head, bool(status.strip())


def perksim_env() -> dict[str, str]:
    """The environment for ``python -m simulator``: this checkout's package first."""
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def imported_package() -> Path:
    """Where ``import simulator`` finds the package in the subprocesses this tool starts."""
    done = subprocess.run([sys.executable, "-c", "import simulator; print(simulator.__file__)"],
                          cwd=ROOT, env=perksim_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise PerksimFailed(f"import simulator failed:\n{done.stderr.strip()}")
    return Path(done.stdout.strip()).resolve()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def without_inert_yaml(text: str) -> str:
    """``scenario.yaml``'s text without the top-level blocks of ``INERT_SECTIONS``: each block's
    key line and the indented (or list) lines under it, so the rest keeps its bytes."""
    out: list[str] = []
    skipping = False
    for line in re.split(r"(?<=\n)", text):  # lines with their "\n", split at "\n" only
        if line[:1] not in (" ", "-", "\n", ""):  # a top-level key starts a block
            skipping = line.split(":", 1)[0] in INERT_SECTIONS
        if not skipping:
            out.append(line)
    return "".join(out)


def digest_folder(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a results folder by relative path; manifest.json key by key
    (inert sections left out: see the module docstring)."""
    digests: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or relative.parts[0] in SKIPPED_FOLDERS:
            continue
        if relative.as_posix() == "manifest.json":
            manifest = json.loads(path.read_text(encoding="utf-8"))
            for key, value in manifest.items():
                if key in VOLATILE_MANIFEST_KEYS or key in DERIVED_MANIFEST_KEYS:
                    continue
                if key == "resolved_scenario" and isinstance(value, dict):
                    value = {k: v for k, v in value.items() if k not in INERT_SECTIONS}
                text = json.dumps(value, sort_keys=True, ensure_ascii=False)
                digests[f"manifest.json:{key}"] = sha256(text.encode("utf-8"))
        elif relative.as_posix() == "scenario.yaml":
            text = without_inert_yaml(path.read_bytes().decode("utf-8"))
            digests["scenario.yaml"] = sha256(text.encode("utf-8"))
        else:
            digests[relative.as_posix()] = sha256(path.read_bytes())
    return digests


def run_perksim(command: str, scenario: Path, replicates: int, out: Path) -> Path:
    """Run ``perksim <command> <scenario>`` into ``out``; return its results folder."""
    argv = [sys.executable, "-m", "simulator", command, str(scenario.relative_to(ROOT)),
            "--replicates", str(replicates), "--executor", EXECUTOR, "--out", str(out)]
    done = subprocess.run(argv, cwd=ROOT, env=perksim_env(), capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PerksimFailed(f"perksim {command} {scenario.name} exited {done.returncode}:\n{tail}")
    # <out>/<scenario name>/<run-id>/: the only complete folder (hidden or .partial ones excluded).
    folders = [p for p in out.glob("*/*") if p.is_dir() and not p.name.startswith(".")
               and not p.name.endswith(".partial")]
    if len(folders) != 1:
        raise PerksimFailed(f"perksim {command} {scenario.name}: expected one results folder in "
                            f"{out}, found {len(folders)}")
    return folders[0]


def declares_sweep(results: Path) -> bool:
    """Whether the resolved scenario of a results folder has a ``sweep:`` (not ``sweep: null``)."""
    for line in (results / "scenario.yaml").read_text(encoding="utf-8").splitlines():
        if line.startswith("sweep:"):
            return line.split(":", 1)[1].strip() not in ("null", "~")
    return False


def selected_scenarios(names: list[str] | None) -> list[Path]:
    """The bundled scenario files, restricted to those whose name contains one of ``names``."""
    files = sorted(SCENARIOS.glob("*.yaml"))
    if names:
        files = [f for f in files if any(name in f.stem for name in names)]
    return files


def compute(files: list[Path], replicates: int, keep_going: bool) -> tuple[dict[str, Any], list[str]]:
    """Run compare (and sweep) for every file; return digests by key and the keys that failed.

    With ``keep_going`` a failing command is reported and recorded as a failure; without it,
    it raises ``PerksimFailed``.
    """
    results: dict[str, Any] = {}
    failed: list[str] = []
    total = len(files)
    for index, scenario in enumerate(files, start=1):
        commands = ["compare"]
        while commands:
            command = commands.pop(0)
            key = f"{command}/{scenario.stem}"
            print(f"[{index}/{total}] {key} (R={replicates}) ...", end=" ", file=sys.stderr, flush=True)
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="identical_tables-") as tmp:
                try:
                    folder = run_perksim(command, scenario, replicates, Path(tmp))
                except PerksimFailed as error:
                    print(f"FAILED after {time.perf_counter() - started:.1f} s", file=sys.stderr)
                    if not keep_going:
                        raise
                    print(error, file=sys.stderr)
                    failed.append(key)
                    continue
                results[key] = digest_folder(folder)
                if command == "compare" and declares_sweep(folder):
                    commands.append("sweep")
            print(f"{len(results[key])} digests, {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return results, failed


def compare_digests(key: str, baseline: dict[str, str], current: dict[str, str]) -> list[str]:
    """Lines describing how two folders' digests differ (empty when identical). Digests of
    manifest keys now skipped (``DERIVED_MANIFEST_KEYS``) that an older baseline holds are
    not expected."""
    skipped = {f"manifest.json:{k}" for k in DERIVED_MANIFEST_KEYS}
    baseline = {name: value for name, value in baseline.items() if name not in skipped}
    lines = [f"  differs: {name}" for name in sorted(baseline.keys() & current.keys())
             if baseline[name] != current[name]]
    lines += [f"  only in baseline: {name}" for name in sorted(baseline.keys() - current.keys())]
    lines += [f"  only now: {name}" for name in sorted(current.keys() - baseline.keys())]
    return lines


def check(digest_file: Path, names: list[str] | None, replicates: int | None,
          ignore_versions: bool) -> int:
    """Recompute and compare with ``digest_file``; the exit code."""
    baseline = json.loads(digest_file.read_text(encoding="utf-8"))
    if baseline.get("format") != DIGEST_FORMAT:
        print(f"{digest_file}: unknown digest format {baseline.get('format')!r}", file=sys.stderr)
        return 2
    recorded, installed = baseline["versions"], installed_versions()
    if recorded != installed:
        changed = ", ".join(f"{name} {recorded.get(name)} -> {installed.get(name)}"
                            for name in sorted(recorded.keys() | installed.keys())
                            if recorded.get(name) != installed.get(name))
        if not ignore_versions:
            print(f"{digest_file} was made with other versions ({changed}); the tables may differ "
                  "for that reason alone, so the comparison would not be meaningful. Recreate the "
                  "baseline under these versions (--write at the commit before the change), or "
                  "pass --ignore-versions.", file=sys.stderr)
            return 2
        print(f"warning: versions differ from the baseline's ({changed})", file=sys.stderr)
    if replicates is not None and replicates != baseline["replicates"]:
        print(f"{digest_file} was made with --replicates {baseline['replicates']}, not {replicates}",
              file=sys.stderr)
        return 2
    files = selected_scenarios(names)
    if not files:
        print(f"no scenario in {SCENARIOS} matches {names}", file=sys.stderr)
        return 2
    current, failed = compute(files, baseline["replicates"], keep_going=True)
    expected: dict[str, dict[str, str]] = baseline["scenarios"]
    if names:  # only the selected scenarios' keys are expected
        stems = {f.stem for f in files}
        expected = {k: v for k, v in expected.items() if k.split("/", 1)[1] in stems}
    different = 0
    for key in sorted(expected.keys() | current.keys() | set(failed)):
        if key in failed:
            print(f"{key}: FAILED (perksim exited with an error, see above)")
        elif key not in current:
            print(f"{key}: missing (in the baseline, not produced now)")
        elif key not in expected:
            print(f"{key}: not in the baseline")
        else:
            lines = compare_digests(key, expected[key], current[key])
            print(f"{key}: identical" if not lines else "\n".join([f"{key}: DIFFERENT", *lines]))
            different += bool(lines)
            continue
        different += 1
    print("all identical" if not different else f"{different} of the scenarios differ")
    return 1 if different else 0


def write(digest_file: Path, names: list[str] | None, replicates: int) -> int:
    """Compute the digest and write it to ``digest_file``; the exit code."""
    files = selected_scenarios(names)
    if not files:
        print(f"no scenario in {SCENARIOS} matches {names}", file=sys.stderr)
        return 2
    try:
        scenarios, _ = compute(files, replicates, keep_going=False)
    except PerksimFailed as error:
        print(error, file=sys.stderr)
        return 3
    commit, dirty = git_commit()
    digest = {
        "format": DIGEST_FORMAT,
        "commit": commit,
        "dirty": dirty,
        "replicates": replicates,
        "executor": EXECUTOR,
        "versions": installed_versions(),
        "skipped": {
            "folders": sorted(SKIPPED_FOLDERS),
            "manifest_keys": sorted(VOLATILE_MANIFEST_KEYS | DERIVED_MANIFEST_KEYS),
            "inert_sections": list(INERT_SECTIONS),
        },
        "scenarios": scenarios,
    }
    digest_file.write_text(json.dumps(digest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    partial = " (only the scenarios selected with -k)" if names else ""
    print(f"wrote {digest_file}: {len(scenarios)} results folders{partial}, commit {commit}"
          f"{' with uncommitted changes' if dirty else ''}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Hash the tables of every bundled scenario's results and write or check a "
                    "digest, to prove that a change keeps results byte-identical.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, metavar="FILE", help="compute and write the digest")
    mode.add_argument("--check", type=Path, metavar="FILE", help="recompute and compare with FILE")
    parser.add_argument("--replicates", type=int, metavar="R",
                        help="replicates per variant (default 3; --check: the digest's)")
    parser.add_argument("-k", dest="names", action="append", metavar="NAME",
                        help="only scenarios whose file name contains NAME (repeatable)")
    parser.add_argument("--ignore-versions", action="store_true",
                        help="--check even if the digest was made with other versions")
    args = parser.parse_args(argv)
    if args.replicates is not None and args.replicates < 1:
        parser.error("--replicates must be at least 1")

    started = time.perf_counter()
    try:
        package = imported_package()
    except PerksimFailed as error:
        print(error, file=sys.stderr)
        return 2
    if not package.is_relative_to(ROOT):
        print(f"python -m simulator imports {package}, not this checkout's package ({ROOT}): "
              "the digest would describe other code", file=sys.stderr)
        return 2
    print(f"perksim package: {package.parent}", file=sys.stderr)
    if args.write:
        code = write(args.write, args.names, args.replicates or 3)
    else:
        code = check(args.check, args.names, args.replicates, args.ignore_versions)
    elapsed = time.perf_counter() - started
    print(f"total time: {elapsed:.0f} s ({elapsed / 60:.1f} min)", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
