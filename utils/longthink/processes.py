"""Child processes that die with their parent: build workers, and the notebook kernel under ``longthink run``.

A build worker (e.g. one of the text world's three models, trained side by side on a 2-core laptop) runs in a
``concurrent.futures`` process pool, which reads results through the pool's own channels (a pipe read in a poll
loop can deadlock when a child writes a lot). Each worker asks Linux to kill it when its parent dies
(``PR_SET_PDEATHSIG``), so a ``kill -9`` of ``longthink run`` never leaves trainers running and racing the rerun.
The kernel papermill starts is a child of ``longthink run``; it watches its parent (:func:`watch_parent`, started by
``import longthink`` when ``LONGTHINK_PARENT_PID`` names its parent) and exits when the parent is gone.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed

PARENT_ENV = "LONGTHINK_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent exits (Linux only; False elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return False
    return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def _init_worker(threads: int) -> None:
    die_with_parent()
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def worker_pool(workers: int, *, threads: int = 1) -> ProcessPoolExecutor:
    """A process pool whose workers (spawned fresh, ``threads`` torch threads each) die with this process."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads,))


class WorkerError(RuntimeError):
    """A job of :func:`run_in_workers` raised; ``job`` names it and ``error`` is what it raised."""

    def __init__(self, job: str, error: BaseException):
        super().__init__(f"{job!r} failed in its worker: {error}")
        self.job, self.error = job, error


def run_in_workers(jobs: Mapping[str, tuple], fn: Callable, *, workers: int, threads: int = 1,
                   on_done: Callable[[str], None] | None = None) -> None:
    """``fn(*args)`` for each named job, up to ``workers`` at once in a :func:`worker_pool`, in the jobs' order;
    ``on_done(name)`` after each. The first failure cancels the jobs not started and raises :class:`WorkerError`."""
    with worker_pool(workers, threads=threads) as pool:
        futures = {pool.submit(fn, *args): name for name, args in jobs.items()}
        for future in as_completed(futures):
            name = futures[future]
            try:
                future.result()
            except Exception as exc:
                for other in futures:
                    other.cancel()
                raise WorkerError(name, exc) from exc
            if on_done is not None:
                on_done(name)


def run_jobs(jobs: Mapping[str, tuple], fn: Callable, *, workers: int, threads: int = 1, what: str) -> None:
    """``fn(*args)`` for each job: here, in turn, with one worker; else up to ``workers`` at once in worker processes,
    with a progress bar saying ``what`` is running. A failed job raises ``RuntimeError`` naming it."""
    from tqdm.auto import tqdm

    workers = min(workers, len(jobs))
    if workers <= 1:
        for args in jobs.values():
            fn(*args)
        return

    with tqdm(total=len(jobs), desc=f"{what} ({workers} at once)") as bar:
        def done(name: str) -> None:
            bar.set_postfix_str(f"done {name}")
            bar.update(1)

        try:
            run_in_workers(jobs, fn, workers=workers, threads=threads, on_done=done)
        except WorkerError as exc:
            raise RuntimeError(f"{what}: {exc}") from exc.error


def watch_parent(parent: int, *, interval: float = 1.0) -> threading.Thread:
    """Exit this process (and, through their death signal, its workers) once process ``parent`` is gone."""

    def loop() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    thread = threading.Thread(target=loop, name="longthink-parent-watch", daemon=True)
    thread.start()
    return thread


def maybe_watch_parent() -> None:
    """Start :func:`watch_parent` when ``$LONGTHINK_PARENT_PID`` names this process's parent (a notebook kernel
    started by ``longthink run``); grandchildren inherit the variable but watch nothing."""
    value = os.environ.get(PARENT_ENV, "")
    if value.isdigit() and int(value) == os.getppid():
        watch_parent(int(value))
