"""The results folder: manifest, tables, safe creation and careful reading
(docs/reference/results.md).

A results folder is built in ``<run-id>.partial/`` beside its final name and renamed to
``<run-id>`` only when every file is complete, so a folder with a plain run id is always
complete. The ``.partial`` name is claimed atomically (a prepared folder holding a locked
``.lock`` file is renamed onto it, which fails if another process holds it), so two commands
started in the same second never share a folder: the second gets ``<run-id>-2``. The final
rename never replaces a finished folder: if the name was taken meanwhile, the next free
suffix is used. While a process works on a folder it holds an advisory lock (``flock``) on
its ``.lock`` file, which the operating system releases when the process ends however it
ends; ``--resume`` of a folder whose lock is held is refused, and a ``.partial`` folder whose
lock is free is left over from an interrupted command (removed if it was a ``run``, reported
with its ``--resume`` command if it was a ``compare`` or ``sweep``).

Reading a folder (``plot``, ``report``, ``explain``, ``--resume``) goes through
:func:`read_manifest` and :func:`read_table`, which raise :class:`ResultsFolderError` with a
located message (``path:line: …``) for a missing, unreadable or damaged file.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulator.scenario.schema import Scenario

try:  # POSIX advisory locks; elsewhere a lock is judged by its owner's pid
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

FLOAT_FORMAT = "%.10g"  # fixed formatting so identical runs give byte-identical tables
PACKAGES = ["perksim", "mesa", "numpy", "scipy", "networkx", "pandas", "pydantic", "pyyaml",
            "click", "matplotlib"]

PARTIAL = ".partial"
LOCK_FILE = ".lock"
MAX_SUFFIX = 1000  # <run-id>, <run-id>-2, … <run-id>-1000
TAKEN = {errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR}  # rename target in use
# errors of the disk or folder rather than of perksim: reported as a message, not a traceback
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG,
                errno.EIO, errno.ENOTDIR, errno.ENOENT, errno.ESTALE}
MIB = 2**20


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC (manifests and lock files)."""
    return datetime.now(UTC)


def package_versions() -> dict[str, str]:
    """The versions of Python and of the packages results depend on (``"not installed"`` if absent)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's document as canonical JSON: equal for equal scenarios."""
    text = json.dumps(scenario.to_document(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_hash(path: str | Path | None) -> str | None:
    """SHA-256 (hex) of the file's bytes, or ``None`` if ``path`` is ``None`` or not a file."""
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_id(started: datetime, scenario: Scenario) -> str:
    """``20261126T071502Z-1a2b3c``: UTC start time + short hash of the resolved scenario."""
    return f"{started.strftime('%Y%m%dT%H%M%SZ')}-{scenario_hash(scenario)[:6]}"


def scenario_folder(out_root: str | Path, scenario: Scenario) -> Path:
    """``<out>/<scenario-name>``, the folder that holds the scenario's results folders."""
    root = Path(out_root).resolve()
    base = (root / scenario.name).resolve()
    if root not in base.parents:  # names are validated, but never trust a path
        raise ValueError(f"scenario name {scenario.name!r} would leave the output folder")
    return base


def write_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a problem of the disk or the folder (full, read-only, gone)."""
    return isinstance(exc, OSError) and exc.errno in WRITE_ERRORS


def describe_os_error(exc: OSError) -> str:
    """``No space left on device (errno 28)``, with the file when the error names one."""
    what = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    return f"{what}{where}"


# --- errors ---------------------------------------------------------------------------------------


class ResultsFolderError(ValueError):
    """A results folder (or a file in it) that is missing, unreadable or damaged; the
    message names the file, and the line where it can."""


class OutputError(ValueError):
    """The output folder cannot take the results (not a folder, not writable, too little
    space); the message names the folder."""


class FolderBusy(RuntimeError):
    """Another live process holds the lock of a results folder."""

    def __init__(self, folder: Path, owner: dict[str, Any]):
        self.folder, self.owner = folder, owner
        who = f"process {owner.get('pid', '?')}"
        if owner.get("host") and owner.get("host") != socket.gethostname():
            who += f" on {owner['host']}"
        if owner.get("command"):
            who += f" ({owner['command']})"
        if owner.get("since"):
            who += f", since {str(owner['since'])[:19].replace('T', ' ')} UTC"
        super().__init__(f"{folder} is being worked on by another perksim: {who}")


# --- the lock of a folder being written -----------------------------------------------------------


def _owner(kind: str) -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "kind": kind,
            "command": " ".join(["perksim", *sys.argv[1:]]), "since": utc_now().isoformat()}


def read_owner(lock_file: Path) -> dict[str, Any]:
    """What a lock file says about its owner (``{}`` if unreadable)."""
    try:
        owner = json.loads(lock_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one owned by another user counts as alive)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _try_lock(fd: int, path: Path) -> None:
    """Take the lock of the open ``fd`` without waiting; BlockingIOError if it is held."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    owner = read_owner(path)  # pragma: no cover - not POSIX
    pid = owner.get("pid")
    if isinstance(pid, int) and pid != os.getpid() and pid_alive(pid):
        raise BlockingIOError(errno.EAGAIN, "locked")


class FolderLock:
    """An exclusive advisory lock on a results folder: ``flock`` on ``<folder>/.lock``, which
    records the owner (pid, host, command, since). The operating system releases it when the
    owning process ends, however it ends (kill -9 included)."""

    def __init__(self, path: Path, fd: int | None, created: bool = False):
        self.path, self.fd = path, fd
        self.created = created  # whether acquiring it created the lock file

    @classmethod
    def acquire(cls, folder: Path, kind: str, tries: int = 3, record: bool = True) -> FolderLock:
        """Lock ``folder`` (creating its lock file), or raise :class:`FolderBusy`. With
        ``record`` the lock file then names this process (else call :meth:`record`)."""
        path = Path(folder) / LOCK_FILE
        for attempt in range(tries):
            created = not os.path.lexists(path)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                _try_lock(fd, path)
            except BlockingIOError:
                os.close(fd)
                if attempt + 1 < tries:  # someone may just be testing whether it is stale
                    time.sleep(0.05)
                    continue
                raise FolderBusy(Path(folder), read_owner(path)) from None
            except BaseException:
                os.close(fd)
                raise
            lock = cls(path, fd, created)
            if record:
                lock.record(kind)
            return lock
        raise AssertionError("unreachable")  # pragma: no cover

    def record(self, kind: str) -> None:
        """Write this process's name into the lock file (what FolderBusy tells others)."""
        assert self.fd is not None
        data = json.dumps(_owner(kind)).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def moved(self, folder: Path) -> None:
        """The locked folder was renamed to ``folder`` (the lock goes with it)."""
        self.path = Path(folder) / LOCK_FILE

    def release(self, remove: bool = False) -> None:
        """Release the lock and close its file (a no-op if already released); with ``remove``,
        delete the lock file first."""
        if self.fd is None:
            return
        if remove:
            try:
                self.path.unlink()
            except OSError:
                pass
        os.close(self.fd)
        self.fd = None


def lock_holder(folder: Path) -> dict[str, Any] | None:
    """The owner of ``folder``'s lock if a live process holds it, else ``None``."""
    path = Path(folder) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        _try_lock(fd, path)
    except BlockingIOError:
        return read_owner(path) or {"pid": "?"}
    finally:
        os.close(fd)  # closing releases a lock taken just to test it
    return None


# --- claiming, finishing and cleaning folders -----------------------------------------------------

_SUFFIX = re.compile(r"^(?P<stem>.+?)-(?P<n>[2-9]|[1-9]\d+)$")
_HIDDEN = re.compile(r"^\.(?P<name>.+)\.partial-(?P<pid>\d+)(?:-[0-9a-f]+)?$")
_RID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


def _split(name: str) -> tuple[str, int]:
    """``20261126T071502Z-1a2b3c-3`` → (``20261126T071502Z-1a2b3c``, 3); other names → (name, 1)."""
    m = _SUFFIX.match(name)
    if m and (_RID.match(m["stem"]) or not _RID.match(name)):
        return m["stem"], int(m["n"])
    return name, 1


def _names(name: str) -> Iterator[str]:
    """``name`` and the names after it: ``<stem>-2``, ``<stem>-3``, …"""
    stem, start = _split(name)
    for i in range(start, start + MAX_SUFFIX):
        yield stem if i == 1 else f"{stem}-{i}"


@dataclass
class Work:
    """A results folder being written: ``path`` (``<name>.partial``), the name it takes when
    complete (``final``; another suffix if that name is taken by then) and its lock."""

    path: Path
    final: Path
    lock: FolderLock

    @classmethod
    def resume(cls, partial: Path, kind: str) -> Work:
        """Lock an existing ``<run-id>.partial`` folder to continue it (FolderBusy if taken);
        call ``work.lock.record(kind)`` once it is known to be resumable."""
        partial = Path(partial)
        final = final_folder(partial)
        return cls(partial, final, FolderLock.acquire(partial, kind, record=False))


def claim(base: Path, name: str, kind: str) -> Work:
    """Claim ``base/<name>.partial`` (or the first free ``<name>-K``) for a new results folder.

    Atomic: a hidden folder holding this process's locked ``.lock`` is renamed onto the
    ``.partial`` name, which fails if another process's folder is there; a name whose final
    folder exists is skipped. Two processes therefore never claim the same name.
    """
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    for candidate in _names(name):
        final, partial = base / candidate, base / f"{candidate}{PARTIAL}"
        if os.path.lexists(final) or os.path.lexists(partial):
            continue
        prep = base / f".{candidate}{PARTIAL}-{os.getpid()}-{secrets.token_hex(3)}"
        prep.mkdir()
        try:
            lock = FolderLock.acquire(prep, kind)
        except BaseException:
            shutil.rmtree(prep, ignore_errors=True)
            raise
        try:
            os.rename(prep, partial)
        except BaseException as exc:
            lock.release()
            shutil.rmtree(prep, ignore_errors=True)
            if isinstance(exc, OSError) and exc.errno in TAKEN:
                continue
            raise
        lock.moved(partial)
        if os.path.lexists(final):  # another process finished this name meanwhile
            lock.release()
            shutil.rmtree(partial, ignore_errors=True)
            continue
        return Work(partial, final, lock)
    raise OutputError(f"{base}: every name from {name} to {name}-{MAX_SUFFIX} is taken")


def finish(work: Work) -> Path:
    """Rename a complete ``.partial`` folder into place; drop its ``runs/`` and lock.

    Never replaces a finished folder: if ``work.final`` was taken meanwhile, the next free
    ``-K`` name is used (and returned). If the rename fails, the ``.partial`` folder is left
    as it is (a compare or sweep can then be resumed).
    """
    for candidate in _names(work.final.name):
        target = work.final.parent / candidate
        if os.path.lexists(target):
            continue
        try:
            os.rename(work.path, target)
        except OSError as exc:
            if exc.errno in TAKEN:
                continue
            raise
        break
    else:
        raise OutputError(f"{work.final.parent}: every name from {work.final.name} on is taken; "
                          f"the finished results stay in {work.path}")
    work.lock.moved(target)
    work.path = work.final = target
    shutil.rmtree(target / "runs", ignore_errors=True)
    work.lock.release(remove=True)
    return target


def discard(work: Work) -> None:
    """Remove a folder that is being abandoned (a ``run`` that failed while writing)."""
    shutil.rmtree(work.path, ignore_errors=True)
    work.lock.release()


@contextmanager
def new_folder(base: Path, name: str, kind: str = "run") -> Iterator[Work]:
    """Claim a folder, yield it to be written, and rename it into place when the block
    completes (``work.final`` is then its name); on any exception (Ctrl-C included) it is
    removed."""
    work = claim(base, name, kind)
    try:
        yield work
        finish(work)
    except BaseException:
        discard(work)
        raise


@contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``final`` (or ``final-K`` if that name is taken
    by then) when the block completes; removed on any exception (Ctrl-C included)."""
    final = Path(final)
    if final.parent.is_dir():
        clean_stale(final.parent)
    with new_folder(final.parent, final.name) as work:
        yield work.path


def saved_runs(partial: Path) -> int:
    """How many finished runs an experiment folder holds (``runs/<run>/summary.csv``)."""
    runs = Path(partial) / "runs"
    try:
        return sum(1 for p in runs.iterdir()
                   if not p.name.startswith(".") and (p / "summary.csv").is_file())
    except OSError:
        return 0


def _lock_and_remove(folder: Path) -> bool:
    """Remove ``folder`` while holding its lock; False if a live process holds it."""
    try:
        lock = FolderLock.acquire(folder, "cleanup", tries=1)
    except FolderBusy:
        return False
    except OSError:
        lock = FolderLock(folder / LOCK_FILE, None)
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        lock.release()
    return not folder.exists()


def clean_stale(base: Path) -> list[str]:
    """Deal with what interrupted commands left in ``base`` (a scenario's folder); returns a
    note for each.

    A ``<run-id>.partial`` whose lock no live process holds is left over: one of ``compare``
    or ``sweep`` is reported with its ``--resume`` command and kept; any other (a ``run``'s,
    which has nothing to resume) is removed. A hidden ``.<run-id>.partial-<pid>…`` (a folder
    being prepared, or a run's temporary folder of a perksim before locks) is removed once
    process ``<pid>`` is gone.
    """
    notes: list[str] = []
    try:
        entries = sorted(Path(base).iterdir())
    except OSError:
        return notes
    for entry in entries:
        try:
            if entry.is_symlink() or not entry.is_dir():
                continue
            hidden = _HIDDEN.match(entry.name)
            if hidden:  # short-lived unless its process was killed
                if not pid_alive(int(hidden["pid"])) and _lock_and_remove(entry):
                    notes.append(f"removed {entry}: an unfinished folder left by an interrupted "
                                 f"perksim (process {hidden['pid']})")
                continue
            if not entry.name.endswith(PARTIAL) or lock_holder(entry) is not None:
                continue
            kind = _partial_kind(entry)
            if kind in ("compare", "sweep"):
                notes.append(f"note: {entry} is an unfinished {kind} ({saved_runs(entry)} runs "
                             f"saved); continue it with: perksim {kind} --resume {entry}")
            elif _lock_and_remove(entry):  # a run's, or nothing perksim could resume
                notes.append(f"removed {entry}: left by an interrupted perksim run")
        except OSError:
            continue
    return notes


def _partial_kind(folder: Path) -> str | None:
    """``run``, ``compare`` or ``sweep``: from the manifest, else from the lock's owner."""
    try:
        doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("kind") in ("run", "compare", "sweep"):
            return doc["kind"]
    except (OSError, ValueError):
        pass
    kind = read_owner(folder / LOCK_FILE).get("kind")
    if kind in ("run", "compare", "sweep"):
        return kind
    if (folder / "runs").is_dir():
        return "compare"  # an experiment of a perksim without locks: keep it
    return None


# --- the output folder, checked before any work ---------------------------------------------------


def estimate_output_bytes(scenario: Scenario, tasks: int, variants: int, *, experiment: bool,
                          report: bool = False) -> int:
    """A generous estimate of the disk space a results folder needs while it is written:
    the tables (twice for compare/sweep, whose runs are also saved one by one), the figures,
    the report and a margin."""
    from simulator.experiment.plan import NETWORK_MAX_USERS
    from simulator.model.metrics import METRICS

    users = _users(scenario)
    brands = max(1, len(scenario.campaigns))
    columns = len(METRICS) + 10
    row = 12 * columns  # bytes of a steps/summary row (measured: ~5 per column)
    tables = tasks * brands * row * (scenario.steps + 1)
    tables += variants * users * (80 + 70 * brands)  # users.csv
    small = users <= NETWORK_MAX_USERS
    tables += users * 40 * 12 if small else 0  # edges.csv
    network = variants * (MIB // 2 + users * 800) if small else 0  # PNG + SVG per variant
    figures = brands * (2 * MIB + network)
    if scenario.sweep is not None:
        figures += brands * MIB * max(1, len(scenario.sweep.grid) + len(scenario.sweep.ranges))
    total = tables * (2 if experiment else 1) + figures + (figures if report else 0)
    return int(total + 4 * MIB)


def _users(scenario: Scenario) -> int:
    graph = scenario.population.graph
    if graph.kind == "balanced_tree":
        b, h = int(graph.branching), int(graph.height)
        return h + 1 if b == 1 else (b ** (h + 1) - 1) // (b - 1)
    return int(scenario.population.size)


def _mib(n: float) -> str:
    return f"{n / MIB:,.1f} MiB" if n < 10 * MIB else f"{n / MIB:,.0f} MiB"


def check_output(base: Path, need: int, label: str = "--out") -> Path:
    """Make sure results can be written in ``base`` before any work: every existing part of
    the path is a folder, ``base`` can be created and written in, and its disk has ``need``
    bytes free. Raises :class:`OutputError` naming the folder (and removes the folders it
    created); returns ``base``."""
    base = Path(base)
    missing: list[Path] = []
    probe = base
    while not os.path.lexists(probe):
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    if os.path.lexists(probe) and not probe.is_dir():
        raise OutputError(f"{label}: {probe} is a file, not a folder, so {base} cannot be created")
    created: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir()
            created.append(folder)
        fd, name = tempfile.mkstemp(prefix=".perksim-write-test-", dir=base)
        try:
            os.write(fd, b"perksim")
        finally:
            os.close(fd)
            os.unlink(name)
        free = shutil.disk_usage(base).free
    except OSError as exc:
        _remove_created(created)
        where = exc.filename or base
        raise OutputError(f"{label}: cannot write in {base}: {exc.strerror or exc} ({where})") from None
    if free < need:
        _remove_created(created)
        raise OutputError(f"{label}: not enough free space for the results in {base}: "
                          f"{_mib(free)} free, about {_mib(need)} needed")
    return base


def _remove_created(created: list[Path]) -> None:
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            pass


# --- writing --------------------------------------------------------------------------------------


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV, without the index and with ``FLOAT_FORMAT`` (byte-identical reruns)."""
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_yaml(document: Any, path: Path) -> None:
    """Write ``document`` as UTF-8 YAML, keys in their order."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def write_json(document: Any, path: Path) -> None:
    """Write JSON atomically (a temporary file renamed over ``path``): a reader, or a crash,
    never sees half a manifest."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def manifest(scenario: Scenario, *, source: str | Path | None, seed: int, derived_seeds: dict[str, Any],
             started: datetime, finished: datetime, command: list[str] | None,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Provenance of a run: what was run, with which seeds and software, and when."""
    return {
        "scenario": scenario.name,
        "question": scenario.question,
        "source_file": str(source) if source else None,
        "source_sha256": file_hash(source),
        "scenario_sha256": scenario_hash(scenario),
        "seed": seed,
        "derived_seeds": derived_seeds,
        "command": command if command is not None else sys.argv,
        "versions": package_versions(),
        "platform": platform.platform(),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "status": "complete",
        "resolved_scenario": scenario.to_document(),
        **(extra or {}),
    }


# --- reading, with located messages for damaged folders -------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_time(v: Any) -> bool:
    try:
        datetime.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return True


# key: (check, what it should be); checked when present (``required`` keys must be present)
MANIFEST_KEYS: dict[str, tuple[Any, str]] = {
    "scenario": (lambda v: isinstance(v, str), "a text"),
    "question": (lambda v: v is None or isinstance(v, str), "a text"),
    "source_file": (lambda v: v is None or isinstance(v, str), "a path or null"),
    "seed": (lambda v: _is_int(v) and v >= 0, "a whole number ≥ 0"),
    "kind": (lambda v: v in ("run", "compare", "sweep"), "'run', 'compare' or 'sweep'"),
    "status": (lambda v: v in ("running", "complete"), "'running' or 'complete'"),
    "started": (_is_time, "an ISO 8601 time"),
    "finished": (_is_time, "an ISO 8601 time"),
    "replicates": (lambda v: v is None or (_is_int(v) and v >= 1), "a whole number ≥ 1"),
    "replicate": (lambda v: v is None or (_is_int(v) and v >= 0), "a whole number ≥ 0 or null"),
    "variant": (lambda v: v is None or isinstance(v, str), "a text or null"),
    "variants": (lambda v: v is None or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
                 "a list of variant names"),
    "resolved_scenario": (lambda v: isinstance(v, dict), "a scenario (a JSON object)"),
    "derived_seeds": (lambda v: isinstance(v, dict), "a JSON object"),
    "command": (lambda v: isinstance(v, list), "a list"),
    "versions": (lambda v: isinstance(v, dict), "a JSON object"),
    "executor": (lambda v: v is None or v in ("serial", "local", "dask"),
                 "'serial', 'local' or 'dask'"),
    "workers": (lambda v: v is None or (_is_int(v) and v >= 1), "a whole number ≥ 1 or null"),
    "scheduler": (lambda v: v is None or isinstance(v, str), "an address or null"),
    "failures": (lambda v: v is None or (_is_int(v) and v >= 0), "a whole number ≥ 0 or null"),
    "users": (lambda v: _is_int(v) and v >= 0, "a whole number ≥ 0"),
    "graph": (lambda v: isinstance(v, str), "a text"),
    "follows": (lambda v: _is_int(v) and v >= 0, "a whole number ≥ 0"),
    "assortativity": (lambda v: v is None or isinstance(v, dict), "a JSON object"),
}
RESUME_KEYS = ("kind", "resolved_scenario", "replicates", "variants", "started")


def _key_line(text: str, key: str) -> int | None:
    m = re.search(rf'^\s*"{re.escape(key)}"\s*:', text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _short(value: Any, width: int = 40) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else json.dumps(value, default=str)
    return text if len(text) <= width else text[:width - 1] + "…"


def read_manifest(folder: str | Path, required: Iterable[str] = ()) -> dict[str, Any]:
    """``folder/manifest.json`` as a dict, with every known key of the right type and the
    ``required`` keys present; else :class:`ResultsFolderError` naming the file and line."""
    path = Path(folder) / "manifest.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFolderError(f"{path}: not found; is {folder} a results folder of perksim?") from None
    except IsADirectoryError:
        raise ResultsFolderError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise ResultsFolderError(f"{path}: not UTF-8 text (byte {exc.start}); the file is damaged") from None
    except OSError as exc:
        raise ResultsFolderError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFolderError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
                                 "the file is damaged") from None
    except RecursionError:
        raise ResultsFolderError(f"{path}: nested too deeply; the file is damaged") from None
    if not isinstance(doc, dict):
        raise ResultsFolderError(f"{path}: should hold a JSON object {{\"scenario\": …}}, "
                                 f"not {_short(doc)}; the file is damaged")
    for key in required:
        if key not in doc:
            raise ResultsFolderError(f"{path}: no key '{key}'; the file is damaged or not "
                                     "written by perksim")
    for key, value in doc.items():
        rule = MANIFEST_KEYS.get(key)
        if rule is not None and not rule[0](value):
            line = _key_line(text, key)
            where = f"{path}:{line}" if line else str(path)
            raise ResultsFolderError(f"{where}: '{key}' should be {rule[1]}, not {_short(value)}; "
                                     "the file is damaged")
    return doc


# per table: required columns, numeric columns (when present) and whole-number columns ≥ 0
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "steps": ("variant", "replicate", "step", "brand"),
    "summary": ("variant", "replicate", "brand"),
    "comparison": ("variant", "brand", "metric", "mean", "ci_low", "ci_high", "n",
                   "diff_mean", "diff_ci_low", "diff_ci_high"),
    "users": ("id",),
    "edges": ("author", "follower"),
    "failures": ("run", "error"),
}
WHOLE_COLUMNS = {"replicate", "step", "point", "id", "author", "follower", "n", "diff_n", "runs",
                 "nonzero", "followers"}
NUMERIC_COLUMNS = {"comparison": {"mean", "std", "ci_low", "ci_high", "diff_mean", "diff_ci_low",
                                  "diff_ci_high", "replicates_needed"},
                   "users": {"post_rate", "quality", "score"}}
NUMERIC_PREFIXES = {"users": ("perk_", "pout_", "relevance_")}
LABEL_COLUMNS = {"variant", "brand", "metric", "replicate", "step", "point", "id", "author",
                 "follower", "run"}  # never empty: they say which run, step or user a row is
TEXT_COLUMNS = {"variant": str, "brand": str, "metric": str, "run": str, "error": str}


def _numeric_columns(kind: str, frame: pd.DataFrame) -> list[str]:
    from simulator.model.metrics import METRICS

    cols: set[str] = set(WHOLE_COLUMNS) | NUMERIC_COLUMNS.get(kind, set())
    if kind in ("steps", "summary"):
        cols |= set(METRICS)
    prefixes = NUMERIC_PREFIXES.get(kind, ())
    return [c for c in frame.columns if c in cols or (prefixes and str(c).startswith(prefixes))]


def read_table(path: str | Path, required: Iterable[str] = (), optional: bool = True,
               kind: str | None = None, text: bool = True) -> pd.DataFrame | None:
    """Read a table of a results folder and check it: readable CSV, the columns its kind
    (the file's stem: ``steps``, ``summary``, …) and ``required`` name, and numbers where
    numbers belong. A missing file gives ``None`` when ``optional``; any other problem (an
    empty file included: perksim writes at least a header) :class:`ResultsFolderError`
    naming the file and line.
    With ``text``, variant, brand and metric names are read as text (else as pandas guesses,
    as the statistics of an experiment always read them)."""
    path = Path(path)
    kind = kind or path.stem
    if not os.path.lexists(path):
        if optional:
            return None
        raise ResultsFolderError(f"{path}: not found; the results folder is incomplete or damaged")
    try:
        frame = pd.read_csv(path, dtype=TEXT_COLUMNS if text else None)
    except pd.errors.EmptyDataError:
        raise ResultsFolderError(f"{path}: empty; the file is damaged") from None
    except pd.errors.ParserError as exc:
        text = str(exc).strip().splitlines()[-1]
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        if m:
            raise ResultsFolderError(f"{path}:{m[2]}: {m[3]} fields where the header has {m[1]}; "
                                     "the file is damaged") from None
        raise ResultsFolderError(f"{path}: not a readable CSV table ({text}); the file is damaged") from None
    except UnicodeDecodeError as exc:
        raise ResultsFolderError(f"{path}: not UTF-8 text (byte {exc.start}); the file is damaged") from None
    except IsADirectoryError:
        raise ResultsFolderError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise ResultsFolderError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:  # e.g. a text column pandas cannot convert
        raise ResultsFolderError(f"{path}: not a readable table ({exc}); the file is damaged") from None
    wanted = [*ID_COLUMNS.get(kind, ()), *required]
    missing = [c for c in dict.fromkeys(wanted) if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:8])) + (", …" if len(frame.columns) > 8 else "")
        raise ResultsFolderError(f"{path}:1: no column {', '.join(repr(c) for c in missing)} "
                                 f"(the header has: {have}); the file is damaged or not perksim's")
    for col in _numeric_columns(kind, frame):
        frame[col] = _checked_numbers(frame[col], path, str(col), whole=col in WHOLE_COLUMNS)
    for col in LABEL_COLUMNS.intersection(frame.columns):
        empty = frame[col].isna().to_numpy().nonzero()[0]
        if len(empty):
            raise ResultsFolderError(f"{path}:{int(empty[0]) + 2}: column '{col}' is empty; "
                                     "the file is damaged")
    return frame


def _checked_numbers(column: pd.Series, path: Path, name: str, whole: bool) -> pd.Series:
    if column.dtype == bool:
        return column
    numeric = pd.api.types.is_numeric_dtype(column)
    values = column if numeric else pd.to_numeric(column, errors="coerce")
    v = values.to_numpy(dtype=float)
    bad = np.isnan(v) & column.notna().to_numpy()
    if whole:
        present = ~np.isnan(v)
        with np.errstate(invalid="ignore"):
            bad |= present & (~np.isfinite(v) | (v < 0) | (np.mod(v, 1) != 0))
    if bad.any():
        i = int(bad.nonzero()[0][0])
        what = "a whole number ≥ 0" if whole else "a number"
        raise ResultsFolderError(f"{path}:{i + 2}: column '{name}': {_short(column.iloc[i])} is not "
                                 f"{what}; the file is damaged")
    return values


# --- experiments: persisted as each run completes, resumable --------------------------------------

TABLES = ("steps", "summary", "users", "edges")


def final_folder(partial: Path) -> Path:
    """The folder an unfinished ``<run-id>.partial`` folder becomes when complete (ValueError if
    ``partial`` does not end in ``.partial``)."""
    if not partial.name.endswith(PARTIAL):
        raise ValueError(f"{partial} is not an unfinished results folder (*{PARTIAL})")
    return partial.parent / partial.name[: -len(PARTIAL)]


def partial_folder(final: Path) -> Path:
    """Where an experiment lives until it is complete: ``<run-id>.partial`` beside it."""
    return final.parent / f"{final.name}{PARTIAL}"


class FolderStore:
    """Task results persisted under ``<folder>/runs/<task-key>/`` the moment they arrive.

    Each run's folder is written to a temporary name and renamed, so a run is either
    complete on disk or absent; a failed run leaves ``runs/<task-key>.error.txt``. A run
    folder that does not read back (damaged since) is not counted as done: it is listed in
    ``damaged`` and run again.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.runs = self.folder / "runs"
        self.runs.mkdir(parents=True, exist_ok=True)
        self.damaged: dict[str, str] = {}
        self._done: set[str] | None = None

    def done(self) -> set[str]:
        """The keys of the tasks whose run folders read back (read once, then kept up to date by
        :meth:`save`); damaged folders go to ``damaged`` instead."""
        if self._done is None:
            done = set()
            for p in sorted(self.runs.iterdir()):
                if not p.is_dir() or p.name.startswith(".") or not (p / "summary.csv").is_file():
                    continue
                try:
                    self._read(p)
                except ResultsFolderError as exc:
                    self.damaged[p.name] = str(exc)
                    continue
                done.add(p.name)
            self._done = done
        return set(self._done)

    def save(self, task: Any, result: dict[str, Any]) -> None:
        """Persist one task's result: its tables and ``run.json`` in ``runs/<key>/`` (written to a
        temporary folder and renamed), or its error in ``runs/<key>.error.txt``."""
        error_file = self.runs / f"{task.key}.error.txt"
        if "error" in result:
            error_file.write_text(result["error"], encoding="utf-8")
            return
        tmp = self.runs / f".{task.key}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            for name in TABLES:
                if result.get(name) is not None:
                    write_table(result[name], tmp / f"{name}.csv")
            write_json({"seed": result.get("seed"), "facts": result.get("facts")}, tmp / "run.json")
            final = self.runs / task.key
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)  # a full disk must not leave half a run
            raise
        error_file.unlink(missing_ok=True)
        if self._done is not None:
            self._done.add(task.key)
            self.damaged.pop(task.key, None)

    def _read(self, folder: Path) -> dict[str, Any]:
        meta_path = folder / "run.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResultsFolderError(f"{meta_path}: cannot be read ({exc}); the file is damaged") from None
        if not isinstance(meta, dict) or "seed" not in meta or "facts" not in meta:
            raise ResultsFolderError(f"{meta_path}: no 'seed' and 'facts'; the file is damaged")
        out: dict[str, Any] = {"key": folder.name, "seed": meta["seed"], "facts": meta["facts"]}
        for name in TABLES:
            out[name] = read_table(folder / f"{name}.csv", optional=name != "summary", text=False)
        return out

    def load(self, task: Any) -> dict[str, Any] | None:
        """A task's stored result: its tables (as read back), ``{"key", "error"}`` for a failed run,
        or ``None`` if it has not run (or its folder is damaged)."""
        folder = self.runs / task.key
        if (folder / "summary.csv").is_file() and task.key not in self.damaged:
            return self._read(folder)
        error_file = self.runs / f"{task.key}.error.txt"
        if error_file.is_file():
            return {"key": task.key, "error": error_file.read_text(encoding="utf-8", errors="replace")}
        return None


def write_experiment(folder: Path, result: Any) -> None:
    """Write an experiment's tables into ``folder`` (figures are drawn separately)."""
    write_table(result.steps, folder / "steps.csv")
    write_table(result.summary, folder / "summary.csv")
    write_table(result.comparison, folder / "comparison.csv")
    if result.users is not None:
        write_table(result.users, folder / "users.csv")
    if result.edges is not None:
        write_table(result.edges, folder / "edges.csv")
    if len(result.failures):
        write_table(result.failures, folder / "failures.csv")
