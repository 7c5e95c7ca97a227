"""Where tasks run: in this process, a local process pool, or a Dask cluster.

Every executor calls the same pure function (:func:`simulator.experiment.plan.run_task`) with
the same inputs — a scenario validated once in the parent, and a task — and results are
assembled in task order, so tables are identical whichever executor ran them. Results are
handed to ``on_result`` as each task finishes, so the caller can persist them at once
(nothing is lost if the experiment is interrupted).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from simulator.experiment.plan import Task, run_task
from simulator.scenario.schema import Scenario

EXECUTORS = ("serial", "local", "dask")
Payload = tuple[Scenario, Task, bool]  # a validated scenario, its task, keep the users table
OnResult = Callable[[Task, dict[str, Any]], None]


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_serial(payloads: Iterable[Payload], on_result: OnResult) -> None:
    """Run tasks one after the other in this process."""
    for scenario, task, keep_users in payloads:
        on_result(task, run_task(scenario, task, keep_users))


PR_SET_PDEATHSIG = 1  # prctl(2) option: the signal a process gets when its parent dies
WATCH_SECONDS = 1.0  # how often a worker checks that its parent is alive (where prctl is missing)


def _die_with_parent(parent: int) -> None:
    """Pool worker initializer: end this worker when the process that started it ends, even
    by kill -9 (which gives the parent no chance to stop its pool).

    On Linux the kernel sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere a daemon thread checks every second whether the parent is still there. Then
    the parent is checked once, in case it died before this was in place.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:  # pragma: no cover - not Linux
        def watch() -> None:
            while True:
                time.sleep(WATCH_SECONDS)
                if os.getppid() != parent:
                    os._exit(1)

        threading.Thread(target=watch, name="perksim-parent-watch", daemon=True).start()


def run_local(payloads: list[Payload], on_result: OnResult, workers: int | None = None) -> None:
    """Run tasks in a pool of worker processes (default: one per available core).

    Workers are started with 'spawn' (a fresh interpreter), which is safe with threads
    and behaves the same on every platform. At most ``2 × workers`` tasks are queued at
    a time, so an interruption loses at most the runs in flight. Workers ignore Ctrl-C
    (this process stops them, so they print no tracebacks) and end when this process
    ends, however it ends (:func:`_die_with_parent`).
    """
    workers = max(1, workers or available_cores())
    if workers == 1 or len(payloads) <= 1:
        run_serial(payloads, on_result)
        return
    ctx = multiprocessing.get_context("spawn")
    pending = iter(payloads)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        running: dict[Future, Task] = {}
        try:
            for _ in range(2 * workers):
                _submit_next(pool, pending, running)
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = running.pop(fut)
                    on_result(task, _result_or_error(fut, task))
                    _submit_next(pool, pending, running)
        except BaseException:
            _stop_pool(pool)
            raise


def _submit_next(pool: ProcessPoolExecutor, pending: Any, running: dict[Future, Task]) -> None:
    payload = next(pending, None)
    if payload is not None:
        with _sigint_ignored():  # a worker started here inherits "ignore Ctrl-C"
            running[pool.submit(run_task, *payload)] = payload[1]


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop an interrupted pool now: its workers ignore Ctrl-C, so they are terminated
    (the runs in flight are lost; finished ones are saved)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python ≥ 3.14
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    if terminate is not None:
        with contextlib.suppress(Exception):
            terminate()
        return
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes are started: the 'ignore' disposition survives
    exec, so the workers never see a Ctrl-C (no KeyboardInterrupt tracebacks from them, even
    while they import); this process handles it and stops them. A Ctrl-C in that moment
    is lost. Only in the main thread (elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _result_or_error(fut: Any, task: Task) -> dict[str, Any]:
    try:
        return fut.result()
    except Exception as exc:  # a worker died or the task could not be sent
        return {"key": task.key, "error": f"{type(exc).__name__}: {exc}"}


def run_dask(payloads: list[Payload], on_result: OnResult, scheduler: str | None = None,
             workers: int | None = None) -> None:
    """Run tasks on a Dask cluster: the one at ``scheduler`` (``tcp://HOST:PORT``), or a
    local cluster of ``workers`` single-threaded worker processes started for this run.

    Workers need this package installed (same version) — see docs/howto/dask.md.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("the dask executor needs dask.distributed: "
                           "pip install 'perksim[dask]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        cluster = _local_cluster(LocalCluster, max(1, workers or available_cores()))
        client = Client(cluster)
    futures = []
    interrupted = False
    try:
        token = uuid.uuid4().hex[:8]  # keys must be unique on a shared cluster
        by_key: dict[str, Task] = {}
        for scenario, task, keep_users in payloads:
            fut = client.submit(run_task, scenario, task, keep_users,
                                key=f"perksim-{token}-{task.key}", pure=False)
            by_key[fut.key] = task
            futures.append(fut)
        for fut in as_completed(futures):
            task = by_key[fut.key]
            on_result(task, _result_or_error(fut, task))
    except BaseException:
        interrupted = True
        raise
    finally:
        _close_dask(client, cluster, futures if interrupted else [])


@contextlib.contextmanager
def _allocator_as_usual() -> Iterator[None]:
    """Start Dask workers without ``MALLOC_TRIM_THRESHOLD_``.

    Dask's nanny sets it to 64 KiB in every worker by default, so that workers give freed
    memory back to the system. Setting it also switches off glibc's adaptive thresholds, so
    every array of more than 128 KiB is mapped and unmapped afresh: a run's many temporary
    arrays then cost page faults. A 200-run sweep at 100,000 users spent 80% of its CPU time in
    the kernel and ran at a third of its serial speed. Without it, workers allocate as the
    serial and process-pool executors do.
    """
    import dask

    # None unsets a variable of pre-spawn-environ (distributed.nanny._get_env_variables)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        yield


def _local_cluster(factory: Any, workers: int) -> Any:
    """Start a local Dask cluster whose worker processes ignore Ctrl-C (see
    :func:`_sigint_ignored`): it is built in a helper thread while this one ignores SIGINT
    only until the worker processes exist; a Ctrl-C during the rest of the start-up closes
    the cluster once it is up, then interrupts as usual."""
    box: dict[str, Any] = {}

    def build() -> None:
        try:
            with _allocator_as_usual():
                box["cluster"] = factory(n_workers=workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None,
                                         silence_logs=logging.CRITICAL)
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc

    thread = threading.Thread(target=build, name="perksim-dask-start", daemon=True)
    before = len(multiprocessing.active_children())
    with _sigint_ignored(), _worker_logs_quiet():
        thread.start()
        while thread.is_alive() and len(multiprocessing.active_children()) < before + workers:
            thread.join(0.02)
    try:
        while thread.is_alive():
            thread.join(0.1)
    except BaseException:
        thread.join()
        if "cluster" in box:
            _close_dask(None, box["cluster"], [])
        raise
    if "error" in box:
        raise box["error"]
    return box["cluster"]


@contextlib.contextmanager
def _worker_logs_quiet() -> Iterator[None]:
    """Start local Dask workers with only critical log messages: their complaints while the
    cluster is closed under them (heartbeats to a scheduler that is gone, cancelled runs)
    are noise, and a run's own errors come back as its result (failures.csv). The workers
    read the level from the environment when they start; ``DASK_LOGGING__DISTRIBUTED`` set
    by the user wins."""
    key = "DASK_LOGGING__DISTRIBUTED"
    if key in os.environ:
        yield
        return
    os.environ[key] = "critical"
    try:
        yield
    finally:
        os.environ.pop(key, None)


def _close_dask(client: Any, cluster: Any, cancel: list[Any]) -> None:
    """Close the client (cancelling ``cancel``, the runs of an interrupted experiment, so a
    shared cluster does not go on with them) and the local cluster, quietly: the workers'
    complaints about cancelled runs are not the user's business."""
    quiet = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [log.level for log in quiet]
    if cancel:
        for log in quiet:
            log.setLevel(logging.CRITICAL)
    try:
        if cancel and client is not None:
            with contextlib.suppress(Exception):
                client.cancel(cancel, force=True)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)


def execute(payloads: list[Payload], on_result: OnResult, executor: str = "local",
            workers: int | None = None, scheduler: str | None = None) -> None:
    """Run every payload with the chosen executor, handing each result to ``on_result``."""
    if executor == "serial":
        run_serial(payloads, on_result)
    elif executor == "local":
        run_local(payloads, on_result, workers)
    elif executor == "dask":
        run_dask(payloads, on_result, scheduler, workers)
    else:
        raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
