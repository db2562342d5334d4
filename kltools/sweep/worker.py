"""One run of a sweep: the task a worker process (or dask worker) receives, and what it returns.

A :class:`Task` is small and picklable: the spec as canonical JSON text, the mode, the options and
the initialisation's seed. :func:`run_task` rebuilds the problem (once per worker thread: the
derivation and compiled programs are cached), draws the initial point with :func:`init_from_seed`,
integrates or checks, and returns one JSON-ready result line. The same task gives the same line
in any process, thread or machine with the same package versions, apart from ``wall_time``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from kltools.budget import budget
from kltools.errors import KltoolsError, NotApplicableError, SpecError

__all__ = ["TIMING_FIELDS", "Task", "init_from_seed", "run_task", "tail_rate"]

#: Fields of a result line that depend on the machine and its load, not on the mathematics.
TIMING_FIELDS = (("figures", "wall_time"), ("figures", "cpu_time"))

#: Keys of ``Trajectory.to_json`` left out of the line: the message is the outcome's fixed text,
#: the wall time is kept in ``figures``, the provenance (spec, versions) is in the file's header.
_DROPPED = ("message", "wall_time", "reproduce")


@dataclass(frozen=True)
class Task:
    """Everything one run needs (picklable: plain data only).

    Attributes
    ----------
    spec_json
        The spec document as canonical JSON (the header's ``spec``).
    name
        The problem's name (the spec file's stem).
    mode
        ``integrate`` or ``property``.
    prop
        The property's name in ``property`` mode, else ``None``.
    options
        ``t_end`` (exact string), ``dps`` and, in ``property`` mode, the property's own options.
    scale
        The initialisation scale (exact string).
    entropy, index
        The seed: ``SeedSequence(entropy, spawn_key=(index,))``, which is child ``index`` of
        ``SeedSequence(entropy).spawn(N)`` for every ``N > index``.
    wall_time, max_steps
        The run's budget (:func:`kltools.budget.budget`; ``None``: no limit of that kind).
    """

    spec_json: str
    name: str
    mode: str
    prop: str | None
    options: dict[str, Any] = field(hash=False)
    scale: str
    entropy: int
    index: int
    wall_time: float | None = None
    max_steps: int | None = None


def init_from_seed(n_parameters: int, entropy: int, index: int, scale: object = 1
                   ) -> tuple[sp.Rational, ...]:
    """The initial point of run ``index``, exact.

    θ_j = scale · round₁₂(g_j), j = 1..P, where g = ``numpy.random.default_rng(
    SeedSequence(entropy, spawn_key=(index,))).standard_normal(P)`` and round₁₂ rounds to 12
    significant digits (``f"{g:.12g}"``) before the value is made an exact rational: the rule of a
    spec's ``[init] seed/scale`` (:class:`kltools.spec.Init`), with child ``index`` of
    ``SeedSequence(entropy).spawn(N)`` in place of the integer seed.

    >>> init_from_seed(2, 0, 0)
    (14436909547/10000000000, -447972988193/500000000000)
    >>> [str(v) for v in init_from_seed(2, 0, 0, "1/2")]
    ['14436909547/20000000000', '-447972988193/1000000000000']
    """
    child = np.random.SeedSequence(entropy, spawn_key=(index,))
    g = np.random.default_rng(child).standard_normal(n_parameters)
    s = sp.Rational(str(scale))
    return tuple(s * sp.Rational(f"{v:.12g}") for v in g)


#: Sample points of the tail rate: t_end/2 + (t_end/2)·i/RATE_SAMPLES, i = 0..RATE_SAMPLES.
RATE_SAMPLES = 16


def tail_rate(traj: Any) -> float | None:
    """The exponential decay rate λ of the flow's speed ‖θ'(t)‖ over the second half of the run.

    The least-squares slope of −ln‖θ'(t_i)‖ against t_i at the points
    t_i = T/2 + (T/2)·i/16, i = 0..16, T the final time, with θ' read from the Taylor
    polynomials of the steps (dense output), so the figure does not depend on where the steps
    fell. Off kinks θ' = −s∇L: near a non-degenerate minimum ‖∇L‖ ~ C e^{−λt} with λ = s times
    the smallest Hessian eigenvalue, and L − L* decays at 2λ; a polynomial decay gives a λ that
    shrinks as T grows; a negative λ means the speed grows. ``None`` for a blow-up, a stationary
    start (θ' = 0) or a trajectory without dense output (gradient descent).
    """
    from fractions import Fraction

    if traj.velocity is None or traj.outcome.value == "blowup" or traj.info.get("stationary"):
        return None
    from kltools.compiled.evaluator import to_fraction

    end = to_fraction(traj.t)
    pts = []
    for i in range(RATE_SAMPLES + 1):
        t = end / 2 + end / 2 * Fraction(i, RATE_SAMPLES)
        y = _ln_norm(traj.velocity(t))
        if y is not None:
            pts.append((float(t), -y))
    if len(pts) < 3:
        return None
    n = len(pts)
    mx = math.fsum(p[0] for p in pts) / n
    my = math.fsum(p[1] for p in pts) / n
    sxx = math.fsum((p[0] - mx) ** 2 for p in pts)
    sxy = math.fsum((p[0] - mx) * (p[1] - my) for p in pts)
    return float(f"{sxy / sxx:.10g}")


def _ln_norm(v: Sequence[Any]) -> float | None:
    """ln‖v‖₂ as a float, for norms far outside double range too (None when v = 0)."""
    import gmpy2

    with gmpy2.context(precision=64):
        sq = gmpy2.fsum(gmpy2.mpfr(x) * gmpy2.mpfr(x) for x in v)
        return float(gmpy2.log(sq)) / 2 if sq > 0 else None


def _figures(traj: Any, verdict: Any) -> dict[str, Any]:
    from kltools.integrate.trajectory import _num

    events: dict[str, int] = {"crossing": 0, "sliding": 0, "sliding-exit": 0, "simultaneous": 0}
    for e in traj.events:
        events[e.kind] = events.get(e.kind, 0) + 1
    exponent = None
    if verdict is not None:
        exponent = getattr(verdict.evidence, "estimated_exponent", None)
    return {
        "t": _num(traj.t, 15),
        "loss": _num(traj.loss),
        "rate": tail_rate(traj),
        "exponent": exponent,
        "digits": round(float(traj.correct_digits), 1),
        "events": events,
        "blowup_time": _num(traj.blowup_time) if traj.blowup_time is not None else None,
        "steps": traj.n_steps,
    }


class _Cache(threading.local):
    """Per thread (dask's threaded workers share a process): spec digest → checker or system."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Any] = {}


_CACHE = _Cache()


def _problem(task: Task) -> Any:
    from kltools.spec import problem_from_dict

    return problem_from_dict(json.loads(task.spec_json), task.name)


def _engine(task: Task) -> Any:
    """The FlowSystem (integrate mode) or recording Checker (property mode) of the task's spec."""
    import hashlib

    key = (hashlib.sha256(task.spec_json.encode()).hexdigest(), task.mode)
    if key not in _CACHE.items:
        # Compiled programs from the on-disk cache: once one process has derived the spec,
        # the other workers load its programs instead of deriving it again.
        from kltools.integrate.cached import flow_system

        system = flow_system(json.loads(task.spec_json), task.name)
        if task.mode == "integrate":
            _CACHE.items[key] = system
        else:
            _CACHE.items[key] = recording_checker(_problem(task), system)
    return _CACHE.items[key]


def recording_checker(problem: Any, system: Any = None) -> Any:
    """A :class:`~kltools.checks.properties.Checker` that keeps the first Taylor flow it runs,
    so a property run yields its trajectory's figures without integrating twice."""
    from kltools.checks.properties import Checker

    class _Recording(Checker):
        recorded: Any = None

        def flow(self, theta0: Sequence[object] | None, t_end: object, dps: int, **kw: Any
                 ) -> Any:
            traj = super().flow(theta0, t_end, dps, **kw)
            if self.recorded is None and kw.get("method", "taylor") == "taylor":
                self.recorded = traj
            return traj

    return _Recording(problem, system)


def _run(engine: Any, task: Task, theta0: list[str]) -> tuple[Any, Any]:
    """(trajectory, verdict) of one run: the flow, or the property and the flow it recorded."""
    if task.mode == "integrate":
        from kltools.integrate.flow import integrate

        return integrate(engine, theta0, task.options["t_end"], dps=task.options["dps"]), None
    from kltools.checks.properties import PROPERTIES

    engine.recorded = None
    verdict = PROPERTIES[task.prop].run(engine, theta0, **task.options)
    return engine.recorded, verdict


def run_task(task: Task) -> dict[str, Any]:
    """Run one initialisation and return its result line (JSON-ready).

    Errors of the run itself (an :class:`~kltools.errors.IntegrationError` such as a start
    exactly on a kink) are results: outcome ``error``, verdict
    ``inconclusive`` in property mode, the message in ``error``. Errors of the input
    (:class:`~kltools.errors.SpecError`, :class:`~kltools.errors.NotApplicableError`) and bugs
    propagate: they are not data about the flow.
    """
    engine = _engine(task)
    # Timed from here: the derivation is paid once per worker thread, not by one run.
    start, cpu = time.monotonic(), time.thread_time()
    n = engine.d.problem.n_parameters
    theta0 = [str(v) for v in init_from_seed(n, task.entropy, task.index, task.scale)]
    line: dict[str, Any] = {"index": task.index,
                            "seed": {"entropy": task.entropy, "spawn_key": [task.index]},
                            "init": theta0}
    traj = verdict = None
    try:
        with budget(task.wall_time, task.max_steps):
            traj, verdict = _run(engine, task, theta0)
    except (SpecError, NotApplicableError):
        raise
    except KltoolsError as exc:
        line.update({"outcome": "error", "verdict": "inconclusive" if task.mode == "property"
                     else None, "error": f"{type(exc).__name__}: {exc}"})
    else:
        line["outcome"] = traj.outcome.value if traj is not None else None
        line["verdict"] = verdict.status.value if verdict is not None else None
        if verdict is not None:
            line["evidence"] = verdict.evidence_json()
            if verdict.counterexample:
                line["detail"] = verdict.counterexample.get("detail")
    if traj is not None:
        line["figures"] = _figures(traj, verdict)
        line["trajectory"] = {k: v for k, v in traj.to_json(samples=False).items()
                              if k not in _DROPPED}
    line.setdefault("figures", {})
    line["figures"]["wall_time"] = round(time.monotonic() - start, 3)
    # CPU seconds of this thread: with wall_time, it tells a busy machine from a slow run.
    line["figures"]["cpu_time"] = round(time.thread_time() - cpu, 3)
    return line
