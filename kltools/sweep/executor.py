"""Where a sweep's runs execute: this process, a local process pool, or a dask.distributed cluster.

Every executor is a :class:`concurrent.futures.Executor`; :func:`drive` keeps at most ``window``
runs submitted at a time (so a sweep of a million initialisations holds a million futures
nowhere) and hands each result to a callback as soon as it finishes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from kltools.errors import SpecError

__all__ = ["CONNECT_TIMEOUT", "InProcessExecutor", "check_address", "drive", "open_executor"]

#: Seconds to wait for a dask scheduler (connection and handshake) before giving up.
CONNECT_TIMEOUT = 10.0

_ADDRESS = re.compile(r"(?:(?:tcp|tls)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})")


class InProcessExecutor(cf.Executor):
    """Runs each call at submission, in this process (``--workers 0``; tests, debugging)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def check_address(address: object) -> str:
    """``address`` as a dask scheduler address ``tcp://HOST:PORT`` (``tls://`` too; a bare
    ``HOST:PORT`` means tcp), or a :class:`~kltools.errors.SpecError` saying what one looks
    like."""
    text = address.strip() if isinstance(address, str) else ""
    m = _ADDRESS.fullmatch(text)
    if m is None or not 1 <= int(m.group(1)) <= 65535:
        raise SpecError(f"{str(address)[:80]!r} is not a dask scheduler address; give "
                        "tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786)", "--scheduler")
    return text if "://" in text else f"tcp://{text}"


def _handshake(address: str, timeout: float) -> None:
    """Connect to ``address`` and complete dask's handshake within ``timeout`` seconds, in a
    thread of its own (the caller may run an event loop); a server that accepts and never
    answers, or answers with something else than dask's protocol, is refused here, before a
    ``Client`` (whose own timeout does not cover the handshake) can wait forever on it."""
    from distributed.comm import connect

    async def probe() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        await comm.close()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(probe())
        except BaseException as exc:  # reported by the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="kltools-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout + 5)  # wait_for bounds the probe; this bounds a stuck event loop
    exc = failure[0] if failure else TimeoutError() if thread.is_alive() else None
    if exc is None:
        return
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | OSError):
        why = "no answer" if not str(exc) else f"{type(exc).__name__}: {exc}"
        raise SpecError(f"cannot reach a dask scheduler at {address} within {timeout:g} s "
                        f"({why}); check the address (tcp://HOST:PORT) and that `dask "
                        "scheduler` is running there, or raise --connect-timeout",
                        "--scheduler")
    raise SpecError(f"the server at {address} does not answer like a dask scheduler (its reply "
                    "is not dask's protocol); check the address", "--scheduler")


def _dask_client(address: str, timeout: float) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise SpecError("--scheduler needs dask.distributed: pip install 'kltools[dask]'",
                        "--scheduler") from None
    _handshake(address, timeout)
    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except Exception as exc:  # the scheduler went away between the handshake and now
        raise SpecError(f"cannot reach a dask scheduler at {address} within {timeout:g} s "
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
def open_executor(workers: int | None, scheduler: str | None,
                  connect_timeout: float = CONNECT_TIMEOUT) -> Any:
    """Yield ``(executor, window, description)``.

    ``scheduler``: a dask.distributed address, reached (connection and handshake) within
    ``connect_timeout`` seconds; the window is twice the cluster's thread count.
    Otherwise ``workers`` local processes (default the CPU count; 0 means this process), started
    with ``spawn`` (no state inherited from the caller), window twice the worker count.
    """
    if scheduler is not None:
        client = _dask_client(scheduler, connect_timeout)
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
    with _local_pool(workers) as pool:
        yield pool, 2 * workers, f"{workers} local process{'es' if workers > 1 else ''}"


@contextmanager
def _local_pool(workers: int) -> Iterator[cf.ProcessPoolExecutor]:
    """A pool of ``workers`` spawned processes that never outlive the sweep.

    Normal end: the pool is shut down and joined. Any other end (an error, Ctrl-C, SIGTERM,
    ``sys.exit``): the workers are terminated at once, with the runs they were computing (not
    written yet, so a resume redoes them); an ``atexit`` hook does the same if the interpreter
    exits past this block. SIGKILL leaves no chance to clean up: then each worker notices its
    parent is gone (:func:`_worker_init`) and exits, and multiprocessing's resource tracker,
    whose last users are gone, exits too.
    """
    import atexit
    import multiprocessing

    pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_worker_init, initargs=(os.getpid(),))
    atexit.register(_stop_workers, pool)
    try:
        yield pool
    except BaseException:
        _stop_workers(pool)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        atexit.unregister(_stop_workers)


def _stop_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Terminate ``pool``'s worker processes now and reap them."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Before 3.14 the pool keeps its processes in a private dict: terminating them is the only
    # way not to wait for the runs in flight (shutdown() waits for them, even with wait=False,
    # at interpreter exit).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        proc.join(5)


#: Seconds between a worker's checks that the sweep that started it is still alive.
PARENT_POLL = 0.5


def _worker_init(parent: int) -> None:
    """Run in each local worker before its first run.

    Ctrl-C is left to the sweep (the terminal sends SIGINT to the whole process group; the sweep
    then stops its workers), so workers ignore SIGINT instead of printing tracebacks. A daemon
    thread exits the worker when its parent is no longer ``parent`` (the sweep was killed with
    SIGKILL and the worker re-parented): a worker never computes for nobody.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="kltools-parent-watch", daemon=True).start()


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
