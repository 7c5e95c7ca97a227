"""The output folder, checked before any work: every part of the path a folder, writable,
with room for the results (an estimate of their size); and which errors of the disk or the
folder (full, read-only, gone) are reported as a message rather than a traceback."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from simulator.scenario.schema import Scenario

# errors of the disk or folder rather than of perksim: reported as a message, not a traceback
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG,
                errno.EIO, errno.ENOTDIR, errno.ENOENT, errno.ESTALE}
MIB = 2**20


def scenario_folder(out_root: str | Path, scenario: Scenario) -> Path:
    """``<out>/<scenario-name>``, the folder that holds the scenario's results folders."""
    root = Path(out_root).resolve()
    base = (root / scenario.name).resolve()
    if root not in base.parents:  # names are validated, but never trust a path
        raise ValueError(f"scenario name {scenario.name!r} would leave the output folder")
    return base


class OutputError(ValueError):
    """The output folder cannot take the results (not a folder, not writable, too little
    space); the message names the folder."""


def write_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a problem of the disk or the folder (full, read-only, gone)."""
    return isinstance(exc, OSError) and exc.errno in WRITE_ERRORS


def describe_os_error(exc: OSError) -> str:
    """``No space left on device (errno 28)``, with the file when the error names one."""
    what = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    return f"{what}{where}"


# --- the output folder, checked before any work ---------------------------------------------------


def estimate_output_bytes(scenario: Scenario, tasks: int, variants: int, *, experiment: bool,
                          report: bool = False) -> int:
    """A generous estimate of the disk space a results folder needs while it is written:
    the tables (twice for compare/sweep, whose runs are also saved one by one), the figures,
    the report and a margin."""
    from simulator.model.graphs import NETWORK_MAX_USERS
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
