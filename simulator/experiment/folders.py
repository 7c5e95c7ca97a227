"""A results folder's life (docs/reference/results.md): built in ``<run-id>.partial/``,
claimed atomically under an advisory lock (``flock`` on its ``.lock``) so that two commands
never share a folder, and renamed to ``<run-id>`` (or the next free ``-K``, never replacing a
finished folder) only when complete. A ``.partial`` folder whose lock is free was left by an
interrupted command: removed if it was a ``run``, reported with its ``--resume`` command if it
was a ``compare`` or ``sweep`` (:func:`clean_stale`).
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.experiment.output import OutputError
from simulator.experiment.results import scenario_hash, utc_now
from simulator.scenario.schema import Scenario

try:  # POSIX advisory locks; elsewhere a lock is judged by its owner's pid
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

PARTIAL = ".partial"
LOCK_FILE = ".lock"
MAX_SUFFIX = 1000  # <run-id>, <run-id>-2, … <run-id>-1000
TAKEN = {errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR}  # rename target in use


def run_id(started: datetime, scenario: Scenario) -> str:
    """``20261126T071502Z-1a2b3c``: UTC start time + short hash of the resolved scenario."""
    return f"{started.strftime('%Y%m%dT%H%M%SZ')}-{scenario_hash(scenario)[:6]}"


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


def final_folder(partial: Path) -> Path:
    """The folder an unfinished ``<run-id>.partial`` folder becomes when complete (ValueError if
    ``partial`` does not end in ``.partial``)."""
    if not partial.name.endswith(PARTIAL):
        raise ValueError(f"{partial} is not an unfinished results folder (*{PARTIAL})")
    return partial.parent / partial.name[: -len(PARTIAL)]
