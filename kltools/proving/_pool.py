"""Forked worker processes for the proof harness: an ordered map with progress.

Why ``fork``: a proof derives and compiles its models before a long loop; forked workers inherit
those programs (and every other cache of the parent) instead of re-deriving them, which is what
makes a parallel loop pay off on two cores. Where ``fork`` is not available the map runs in the
calling process, so results never depend on the platform.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

__all__ = ["fork_executor", "ordered_map"]

T = TypeVar("T")
R = TypeVar("R")


def fork_executor(workers: int) -> ProcessPoolExecutor | None:
    """A pool of ``workers`` forked processes, or None (one worker, or no ``fork`` here).

    Its workers are not daemons (concurrent.futures), so a task may itself call
    :func:`ordered_map` with a pool of its own.
    """
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


def completed_in_order(futures: list[Future[R]], on_done: Callable[[int], None] | None
                       ) -> list[R]:
    """The results of ``futures`` in their list order, calling ``on_done(k)`` as the k-th one
    completes (in completion order). An exception of a task is raised here."""
    for done, fut in enumerate(as_completed(futures), start=1):
        fut.result()  # raise a worker's exception now, not after the others
        if on_done is not None:
            on_done(done)
    return [f.result() for f in futures]


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int,
                on_done: Callable[[int], None] | None = None) -> list[R]:
    """``[fn(x) for x in items]`` computed by ``workers`` forked processes (in this process when
    ``workers`` is 1 or ``fork`` is unavailable); ``on_done(k)`` after k results."""
    items = list(items)
    pool = fork_executor(min(workers, len(items)))
    if pool is None:
        out: list[Any] = []
        for x in items:
            out.append(fn(x))
            if on_done is not None:
                on_done(len(out))
        return out
    with pool:
        try:
            return completed_in_order([pool.submit(fn, x) for x in items], on_done)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
