"""Where a sweep's runs execute: this process, a local process pool, or a dask.distributed cluster.

Every executor is a :class:`concurrent.futures.Executor`; :func:`drive` keeps at most ``window``
runs submitted at a time (so a sweep of a million initialisations holds a million futures
nowhere) and hands each result to a callback as soon as it finishes.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any

from kltools.errors import SpecError

__all__ = ["CONNECT_TIMEOUT", "InProcessExecutor", "drive", "open_executor"]

#: Seconds to wait for a dask scheduler before giving up.
CONNECT_TIMEOUT = 5


class InProcessExecutor(cf.Executor):
    """Runs each call at submission, in this process (``--workers 0``; tests, debugging)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def _dask_client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise SpecError("--scheduler needs dask.distributed: pip install 'kltools[dask]'",
                        "--scheduler") from None
    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
    except Exception as exc:  # OSError (timeout, refused), or garbage from a non-dask server
        raise SpecError(f"cannot reach a dask scheduler at {address} within {CONNECT_TIMEOUT} s "
                        f"({type(exc).__name__}: {exc}); check the address (tcp://HOST:PORT) "
                        "and that `dask scheduler` is running there", "--scheduler") from None


def _check_workers(client: Any, address: str) -> None:
    """Refuse workers that cannot import kltools or run other package versions than this
    process: their digits could differ, and results would depend on where each run landed."""
    from kltools.sweep.store import versions

    try:
        remote = client.run(versions)
    except Exception as exc:
        raise SpecError(f"the dask workers of {address} cannot run kltools ({type(exc).__name__}: "
                        f"{exc}); install the same kltools on every worker", "--scheduler"
                        ) from None
    here = versions()
    for worker, theirs in sorted(remote.items()):
        if theirs != here:
            diff = ", ".join(f"{k} {theirs.get(k)} (here {v})" for k, v in here.items()
                             if theirs.get(k) != v)
            raise SpecError(f"dask worker {worker} runs {diff}; results must not depend on the "
                            "machine: install the same versions everywhere", "--scheduler")


@contextmanager
def open_executor(workers: int | None, scheduler: str | None
                  ) -> Any:
    """Yield ``(executor, window, description)``.

    ``scheduler``: a dask.distributed address; the window is twice the cluster's thread count.
    Otherwise ``workers`` local processes (default the CPU count; 0 means this process), started
    with ``spawn`` (no state inherited from the caller), window twice the worker count.
    """
    if scheduler is not None:
        client = _dask_client(scheduler)
        try:
            threads = sum(client.nthreads().values())
            if threads == 0:
                raise SpecError(f"the dask scheduler at {scheduler} has no workers; start some "
                                "(`dask worker ADDRESS`)", "--scheduler")
            _check_workers(client, scheduler)
            # pure=False: a rerun after an interruption is a new computation, not a cache hit.
            yield client.get_executor(pure=False), 2 * threads, f"dask {scheduler} ({threads} " \
                "threads)"
        finally:
            client.close()
        return
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 0:
        raise SpecError(f"--workers must be >= 0 (0 runs in this process), got {workers}",
                        "--workers")
    if workers == 0:
        yield InProcessExecutor(), 1, "this process"
        return
    import multiprocessing

    pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool, 2 * workers, f"{workers} local process{'es' if workers > 1 else ''}"
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)


def drive(executor: cf.Executor, fn: Callable[[Any], Any], tasks: Iterable[Any], window: int,
          on_result: Callable[[Any], None]) -> None:
    """Run ``fn`` on every task with at most ``window`` in flight; ``on_result`` as each ends.

    If a run raises, no new runs are submitted, the runs in flight are finished and recorded,
    and the first exception is raised. An interruption (KeyboardInterrupt) cancels what has not
    started.
    """
    it = iter(tasks)
    pending: set[cf.Future[Any]] = set()
    failure: BaseException | None = None

    def fill() -> None:
        while failure is None and len(pending) < window:
            task = next(it, None)
            if task is None:
                return
            pending.add(executor.submit(fn, task))

    try:
        fill()
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                pending.discard(fut)
                exc = fut.exception()
                if exc is not None:
                    failure = failure or exc
                else:
                    on_result(fut.result())
            fill()
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    if failure is not None:
        raise failure
