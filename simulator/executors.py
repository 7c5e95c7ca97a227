"""Where tasks run: in this process, a local process pool, or a Dask cluster.

Every executor calls the same pure function (:func:`simulator.experiment.run_task`) with
the same plain inputs, and results are assembled in task order, so tables are identical
whichever executor ran them. Results are handed to ``on_result`` as each task finishes, so
the caller can persist them at once (nothing is lost if the experiment is interrupted).
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from .experiment import Task, run_task

EXECUTORS = ("serial", "local", "dask")
Payload = tuple[dict[str, Any], Task, bool]
OnResult = Callable[[Task, dict[str, Any]], None]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_serial(payloads: Iterable[Payload], on_result: OnResult) -> None:
    """Run tasks one after the other in this process."""
    for document, task, keep_users in payloads:
        on_result(task, run_task(document, task, keep_users))


def run_local(payloads: list[Payload], on_result: OnResult, workers: int | None = None) -> None:
    """Run tasks in a pool of worker processes (default: one per available core).

    Workers are started with 'spawn' (a fresh interpreter), which is safe with threads
    and behaves the same on every platform. At most ``2 × workers`` tasks are queued at
    a time, so an interruption loses at most the runs in flight.
    """
    workers = max(1, workers or available_cores())
    if workers == 1 or len(payloads) <= 1:
        run_serial(payloads, on_result)
        return
    ctx = multiprocessing.get_context("spawn")
    pending = iter(payloads)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
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
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _submit_next(pool: ProcessPoolExecutor, pending: Any, running: dict[Future, Task]) -> None:
    payload = next(pending, None)
    if payload is not None:
        running[pool.submit(run_task, *payload)] = payload[1]


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
        cluster = LocalCluster(n_workers=max(1, workers or available_cores()), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        token = uuid.uuid4().hex[:8]  # keys must be unique on a shared cluster
        by_key: dict[str, Task] = {}
        futures = []
        for document, task, keep_users in payloads:
            fut = client.submit(run_task, document, task, keep_users,
                                key=f"perksim-{token}-{task.key}", pure=False)
            by_key[fut.key] = task
            futures.append(fut)
        for fut in as_completed(futures):
            task = by_key[fut.key]
            on_result(task, _result_or_error(fut, task))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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
