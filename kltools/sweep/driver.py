"""The sweep itself: validate the options, check the property applies, open the results file,
run what is missing where the executor says, and summarise (:func:`sweep`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from kltools.errors import NotApplicableError, SpecError
from kltools.spec.problem import Problem
from kltools.sweep.executor import CONNECT_TIMEOUT, check_address, drive, open_executor
from kltools.sweep.result import SweepResult
from kltools.sweep.store import ResultFile, canonical_json, make_header
from kltools.sweep.summary import summarize
from kltools.sweep.worker import Task, recording_checker, run_task

__all__ = ["sweep"]


def _options(problem: Problem, prop: str | None, t_end: object, dps: object,
             seed: object, exponent: object, eta: object) -> tuple[dict[str, Any], str]:
    """Validated options: (the header's options, the scale)."""
    from kltools.checks.properties import get_property

    if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= 10000:
        raise SpecError(f"dps = {dps!r}: pass an integer number of digits in 10..10000", "--dps")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer, got {seed!r}", "--seed")
    if t_end is None:
        t_end = get_property(prop).default_t_end if prop else "10"
    te = None if t_end == "auto" else _horizon(t_end)  # "auto": each run chooses its own
    opts: dict[str, Any] = {"t_end": "auto" if te is None else str(te), "dps": dps, "seed": seed}
    if exponent is not None:
        if prop != "lojasiewicz":
            raise SpecError("--exponent goes with --property lojasiewicz", "--exponent")
        opts["exponent"] = str(Fraction(str(exponent)))
    if eta is not None:
        if prop != "gd-vs-flow":
            raise SpecError("--eta goes with --property gd-vs-flow", "--eta")
        opts["eta"] = str(Fraction(str(eta)))
    init = problem.init
    scale = str(init.scale) if init is not None and init.theta is None else "1"
    opts["scale"] = scale
    return opts, scale


def _horizon(t_end: object) -> Fraction:
    try:
        te = Fraction(str(t_end))
    except (ValueError, ZeroDivisionError):
        raise SpecError(f"--t-end {t_end!r} is not a number; pass e.g. 10 or 1e8",
                        "--t-end") from None
    if te <= 0:
        raise SpecError(f"--t-end must be positive, got {t_end!r}", "--t-end")
    return te


def _preflight(problem: Problem, prop: str, options: dict[str, Any]) -> int:
    """Raise NotApplicableError now (not in a worker) if ``prop`` does not apply or its options
    are bad; return the number of kink surfaces."""
    from kltools.checks.properties import get_property
    from kltools.integrate.cached import flow_system

    # Derived here once and stored in the program cache: the workers load it.
    checker = recording_checker(problem, flow_system(problem.source, problem.name))
    get_property(prop).parse(**options)
    why = checker.why_not(get_property(prop))
    if why is not None and not options.get("force"):
        raise NotApplicableError(why)
    return checker.system.m


def _load(spec: str | Path | Problem) -> Problem:
    if isinstance(spec, Problem):
        if not spec.source:
            raise SpecError("sweep needs a problem built from a spec document (load_problem or "
                            "problem_from_dict), to record and ship it")
        return spec
    from kltools.spec import load_problem

    return load_problem(Path(spec))


def sweep(spec: str | Path | Problem, n: int, *, out: str | Path, prop: str | None = None,
          integrate: bool = False, workers: int | None = None, scheduler: str | None = None,
          t_end: object | None = None, dps: int = 30, seed: int = 0,
          exponent: object | None = None, eta: object | None = None,
          wall_time: float | None = None, max_steps: int | None = None,
          connect_timeout: float = CONNECT_TIMEOUT,
          progress: Callable[[int, int], None] | None = None,
          log: Callable[[str], None] | None = None) -> SweepResult:
    """Run ``n`` seeded initialisations of ``spec`` and append their results to ``out``.

    Parameters
    ----------
    spec
        A spec file (TOML) or a :class:`~kltools.spec.problem.Problem` built from one.
    n
        Initialisations 0..n−1 (≥ 1). Indices already in ``out`` are skipped; a larger ``n``
        later extends the same sweep.
    out
        The JSON-lines results file (created, or resumed when its header matches).
    prop, integrate
        Exactly one: a property name (``kltools check`` properties) or ``integrate=True``.
    workers
        Local worker processes (default: the CPU count; 0: run in this process).
    scheduler
        A dask.distributed scheduler address (``tcp://HOST:PORT``); overrides ``workers``.
    t_end, dps, seed
        Horizon (default: the property's own, 10 for integrate), working digits, root seed.
    exponent, eta
        Options of the ``lojasiewicz`` and ``gd-vs-flow`` properties.
    wall_time, max_steps
        The budget of each run (:func:`kltools.budget.budget`): seconds of wall clock, steps per
        integration (``None``: no limit). A run that spends it ends with its time-limit or
        step outcome, recorded like any other; the budget is in the header but not part of
        the sweep's identity, so a rerun may change it.
    connect_timeout
        Seconds for reaching the dask scheduler, handshake included.
    progress
        Called with (done, n) at the start and after every finished run.
    log
        Called with one-line notes (what is resumed, where runs execute).

    Raises
    ------
    SpecError
        Bad arguments, an ``out`` of another sweep, an unreachable scheduler.
    NotApplicableError
        ``prop`` does not apply to the spec (raised before any run).
    """
    started = time.monotonic()
    scheduler = _check_arguments(n, prop, integrate, scheduler, workers)
    budget = _budget(wall_time, max_steps, connect_timeout)
    problem = _load(spec)
    opts, scale = _options(problem, prop, t_end, dps, seed, exponent, eta)
    header, template = _prepare(problem, prop, opts, scale, budget)
    out_path = Path(out)
    existed = out_path.exists() and out_path.stat().st_size > 0
    rf = ResultFile.open(out_path, header)
    try:
        before = len(rf.done)
        try:
            ran, skipped, where = _run_missing(rf, n, template, workers, scheduler,
                                               connect_timeout, progress, log)
        except SpecError:
            if not existed and len(rf.done) == before:
                rf.close()
                out_path.unlink(missing_ok=True)  # only the header this call wrote
            raise
        lines = sorted((ln for i, ln in rf.done.items() if i < n), key=lambda r: r["index"])
        header = rf.header
    finally:
        rf.close()
    summary = {**summarize(header, lines, n), "budget": budget}
    return SweepResult(out_path, header, lines, summary, ran, skipped,
                       time.monotonic() - started, where)


def _check_arguments(n: object, prop: str | None, integrate: bool, scheduler: str | None,
                     workers: object) -> str | None:
    """Refuse bad arguments before anything is loaded; return the scheduler's address."""
    from kltools.checks.properties import get_property

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(f"--n must be a positive integer, got {n!r}", "--n")
    if (prop is None) == (not integrate):
        raise SpecError("give exactly one of --property NAME and --integrate", "--property")
    if prop is not None:
        get_property(prop)  # SpecError listing the known properties
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 0):
        raise SpecError(f"--workers must be >= 0 (0 runs in this process), got {workers!r}",
                        "--workers")
    return check_address(scheduler) if scheduler is not None else None


def _prepare(problem: Problem, prop: str | None, opts: dict[str, Any], scale: str,
             budget: dict[str, Any]) -> tuple[dict[str, Any], Task]:
    """The results file's header and the task of run 0 (the others differ in the index only),
    after checking that the property applies or the model derives."""
    run_opts = {k: v for k, v in opts.items() if k not in ("seed", "scale")}
    if prop is not None:
        kinks = _preflight(problem, prop, run_opts)
    else:
        from kltools.integrate.cached import flow_system

        # Also reports a bad model before any run, and fills the program cache the workers read.
        kinks = flow_system(problem.source, problem.name).m
    mode = "property" if prop is not None else "integrate"
    header = make_header(problem.source, problem.name, mode, prop, opts,
                         {"parameters": list(problem.parameters), "kink_surfaces": kinks,
                          "budget": budget})
    template = Task(canonical_json(problem.source), problem.name, mode, prop, run_opts, scale,
                    opts["seed"], 0, budget["wall_time"], budget["max_steps"])
    return header, template


def _run_missing(rf: ResultFile, n: int, template: Task, workers: int | None,
                 scheduler: str | None, connect_timeout: float,
                 progress: Callable[[int, int], None] | None,
                 log: Callable[[str], None] | None) -> tuple[int, int, str]:
    """Run the indices below ``n`` that ``rf`` lacks (``template`` with each index), appending
    each result as it finishes; return (runs done now, runs found done, where they ran)."""
    skipped = sum(1 for i in rf.done if i < n)
    todo = n - skipped  # a count: the indices are generated as they are submitted
    if log is not None and skipped:
        log(f"resuming {rf.path}: {skipped} of {n} initialisations done, {todo} to run")
    if progress is not None:
        progress(skipped, n)
    if not todo:
        return 0, skipped, "nothing to run"
    ran = 0

    def record(line: dict[str, Any]) -> None:
        nonlocal ran
        rf.append(line)
        ran += 1
        if progress is not None:
            progress(skipped + ran, n)

    tasks = (replace(template, index=i) for i in range(n) if i not in rf.done)
    with open_executor(workers, scheduler, connect_timeout) as (executor, window, where):
        if log is not None:
            log(f"running {todo} initialisations on {where}")
        drive(executor, run_task, tasks, window, record)
    return ran, skipped, where


def _budget(wall_time: object, max_steps: object, connect_timeout: object) -> dict[str, Any]:
    """The per-run budget, checked (JSON-ready, for the header and the summary)."""
    import math

    for name, value in (("wall_time", wall_time), ("connect_timeout", connect_timeout)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value) or value <= 0):
            raise SpecError(f"{name} must be a positive number of seconds, got {value!r}",
                            f"--{name.replace('_', '-')}")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int)
                                  or max_steps < 1):
        raise SpecError(f"max_steps must be a positive integer, got {max_steps!r}",
                        "--max-steps")
    return {"wall_time": wall_time, "max_steps": max_steps}
