"""Running proof scripts: one after another, or side by side in forked worker processes.

A proof that crashes outside its claims is recorded with its error (a :class:`ProofRun` that is
not as expected) instead of stopping the others. Results come back in the order asked for,
whatever order the workers finish in, so the report and the exit code do not depend on
scheduling. Each script runs with its own copy of the :class:`Config` whose log lines and progress
labels carry the proof's name (two proofs may write to stderr at once).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence

from kltools.proving._pool import completed_in_order, fork_executor
from kltools.proving.claims import Config, ProofRun
from kltools.proving.protocol import ProofScript

__all__ = ["run_proofs", "run_script"]

# The scripts and config of the current parallel run: forked workers inherit them, so the task
# sent to a worker is just an index (scripts and closures need not pickle).
_JOB: tuple[Sequence[ProofScript], Config] | None = None


def _named(config: Config, name: str) -> Config:
    log, progress = config.log, config.progress
    return dataclasses.replace(
        config,
        log=None if log is None else (lambda msg: log(f"{name}: {msg.strip()}")),
        progress=None if progress is None else (
            lambda label, done, total, unit: progress(f"{name}: {label}", done, total, unit)))


def run_script(script: ProofScript, config: Config) -> ProofRun:
    """Run one script, timing it; an exception outside its claims becomes ``ProofRun.error``
    (set ``KLTOOLS_DEBUG=1`` to let it propagate)."""
    proof = script.PROOF
    config = _named(config, proof.name)
    config.say(proof.title)
    start = time.perf_counter()
    try:
        results, error = script.run(config), None
    except Exception as exc:
        if os.environ.get("KLTOOLS_DEBUG"):
            raise
        results, error = [], f"{type(exc).__name__}: {exc}"
    run = ProofRun(proof, results, time.perf_counter() - start, error)
    config.say(f"done in {run.seconds:.0f} s")
    return run


def _run_index(i: int) -> ProofRun:
    assert _JOB is not None
    scripts, config = _JOB
    return run_script(scripts[i], config)


def run_proofs(scripts: Sequence[ProofScript], config: Config, *, workers: int = 1,
               on_done: Callable[[ProofRun], None] | None = None) -> list[ProofRun]:
    """Run ``scripts`` and return their runs in the same order.

    ``workers`` > 1 runs that many scripts at once in forked processes, starting the costliest
    first (a script's optional ``COST``: its approximate seconds in the full mode) so that the
    longest one does not start last. ``on_done`` is called in this process for each run, in
    order (as each ends when sequential; at the end when parallel).
    """
    global _JOB
    pool = fork_executor(min(workers, len(scripts)))
    if pool is None:
        runs = []
        for script in scripts:
            runs.append(run_script(script, config))
            if on_done is not None:
                on_done(runs[-1])
        return runs
    order = sorted(range(len(scripts)), key=lambda i: -float(getattr(scripts[i], "COST", 0)))
    _JOB = (scripts, config)
    try:
        with pool:
            futures = {i: pool.submit(_run_index, i) for i in order}
            done = completed_in_order([futures[i] for i in order], None)
            by_index = dict(zip(order, done, strict=True))
    finally:
        _JOB = None
    runs = [by_index[i] for i in range(len(scripts))]
    if on_done is not None:
        for run in runs:
            on_done(run)
    return runs
