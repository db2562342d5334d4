"""Adaptive-order, adaptive-step Taylor integrator at arbitrary precision.

Solves ``x' = F(x)``, ``x(t_0) = x_0`` where ``F`` is the first ``n`` outputs of a
:class:`~kltools.compiled.program.Program`, with the Taylor coefficients of
:mod:`kltools.compiled.jets` (automatic-differentiation recurrences, no numerical
differentiation). Order and step follow Jorba & Zou (2005), *Exp. Math.* 14:99–117:

* tolerance ``ε`` (default ``10^-dps``), order ``K = ceil(-ln(ε)/2) + 1`` (≈ 1.15 · digits),
  the order that minimises work per unit time for ``O(K^2)`` recurrences;
* mixed absolute/relative control ``δ = ε · max(1, ||x||_∞)`` and step
  ``h = min_{m in {K-1, K}} (δ / ||x_m||_∞)^{1/m} · e^{-0.7/(K-1)}``, so both last terms of the
  series are below ``δ``; the neglected tail is about ``(h/ρ) δ ≈ e^{-2} δ`` (``ρ`` the radius
  of convergence). Event and tracked outputs take part in the norm, so their polynomials are
  as accurate as the state's;
* arithmetic at ``dps + 5`` digits (``GUARD_DIGITS``) so that rounding stays below truncation
  over many steps.

*What the error estimate rests on.* Each step is accepted only when (i) the Jorba–Zou rule
bounds the last two coefficients by ``δ``, (ii) every analytic operation's argument stays
within a quarter of its distance to the operation's nearest singularity over the step
(:mod:`kltools.compiled.singularities`), and (iii) the step polynomial ``p`` satisfies the ODE at
the step's midpoint and end: the defect ``D(θ) = ‖p'(θh) − F(p(θh))‖∞`` is computed by a
separate evaluation of ``F``, and a step with ``h (4 D(1/2) + D(1)) / 6 > 1000 δ`` is refused and
retried at a quarter of its length. The local error of a step is the larger of the coefficient
tail ``‖x_K‖ h^K`` and that Simpson estimate of ``∫ D``, plus rounding; ``error_estimate`` is
their sum. A step whose polynomial misses a pole invisible in its coefficients has an O(1)
defect at its end, so (iii) refuses it even where (ii) has no rule for the function.

*Events.* Event functions are outputs ``g_j(x)`` of the program, assumed normalised (order-one
scale); the run stops (terminal event) at the first sign change of any of them. An event with
``|g_j(x0)| <= 10^-(dps-5)``, or listed in ``on_surface``, starts on its surface: the zero at
``t0`` itself is ignored and its first step polynomial is deflated (``G(τ)/τ^m`` for the ``m``
leading negligible coefficients), so it fires only on a genuine sign change after leaving the
surface; an event function that stays on its surface (all coefficients negligible) never fires.

Events (terminal), finite-time blow-up and the guards (``max_steps``, wall-clock limit, stall)
end a run with an :class:`Outcome`; failures are values, not exceptions. Bad arguments raise
:class:`~kltools.errors.IntegrationError`.

Examples
--------
>>> import sympy as sp
>>> from kltools.compiled.program import program_from_sympy
>>> w = sp.Symbol("w")
>>> prog = program_from_sympy([sp.exp(-w)], [w])      # L = exp(-w): w(t) = log(t + e^{w_0})
>>> sol = taylor_solve(prog, [0], 0, 10**8, dps=30)
>>> sol.outcome.name, sol.n_steps < 300
('OK', True)
>>> print(sol.state[0] - sp.log(10**8 + 1).evalf(40) < 1e-25)
True
"""

from __future__ import annotations

import bisect
import enum
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kltools.compiled.jets import compile_jets
from kltools.compiled.program import Program
from kltools.compiled.singularities import analytic_guards, guarded_program
from kltools.errors import IntegrationError
from kltools.integrate._blowup import BlowupTracker
from kltools.integrate._events import deflate, first_crossing
from kltools.integrate._step import StepControl, StepJet, defect_bound
from kltools.numbers import BITS_PER_DIGIT, bits_for_dps, horner, log2abs, pow2

__all__ = [
    "GUARD_DIGITS",
    "EventHit",
    "Outcome",
    "Segment",
    "Solution",
    "order_for_tolerance",
    "taylor_solve",
]

Number = Any  # gmpy2.mpfr (or mpmath.mpf with the fallback backend)

GUARD_DIGITS = 5
_PROGRESS_INTERVAL = 0.25  # seconds between progress calls


class Outcome(enum.StrEnum):
    """How a run ended; ``message`` is the user-facing explanation."""

    OK = "ok"
    EVENT = "event"
    BLOWUP = "blowup"
    MAX_STEPS = "max_steps"
    TIME_LIMIT = "time_limit"
    STALLED = "stalled"
    STIFF = "stiff"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Outcome.OK: "Reached t_end.",
    Outcome.EVENT: "Stopped at an event: an event function changed sign (see `event`).",
    Outcome.BLOWUP: "The solution has a finite-time singularity (blow-up) before t_end; "
                    "see `blowup_time` and `blowup_time_digits`.",
    Outcome.MAX_STEPS: "The maximum number of steps was reached. Increase `max_steps` or "
                       "shorten the interval.",
    Outcome.TIME_LIMIT: "The wall-clock limit was reached. Increase `wall_time`.",
    Outcome.STALLED: "The step size fell below the resolution of t (t + h == t) without a "
                     "recognisable blow-up. Raise `dps` or inspect the vector field near "
                     "`t_final`.",
    Outcome.STIFF: "The problem is stiff: over the last steps the step size stayed on a "
                   "plateau while the remaining steps cannot reach t_end at that size (an explicit "
                   "method needs steps of the fastest decaying mode). `t_final` is the time "
                   "reached; lower `dps`, shorten the interval, or rescale the fast variable.",
}


@dataclass(frozen=True)
class Segment:
    """One step's Taylor polynomials: dense output on ``[t0, t0 + h]``.

    :attr:`coefficients` ``[i][k]`` is the normalised Taylor coefficient ``x_i^{(k)}(t0) / k!``
    (unscaled time) of component ``i``: the state first, then the carried outputs (see
    :attr:`Solution.outputs`); the value at ``t`` is ``sum_k c_k (t - t0)^k`` (Horner). The
    integrator stores them as computed, in the time unit ``scale`` (``1`` or the predicted step)
    and possibly as fixed-point integers; the conversion happens on first access.
    """

    t0: Number
    h: Number
    scale: Number
    raw: list[list[Any]] = field(repr=False)
    shift: int | None = field(default=None, repr=False)  # fixed point: raw ints are m 2^-shift
    lib: Any = field(default=None, repr=False, compare=False)  # numbers at the run's precision

    @cached_property
    def scaled_coefficients(self) -> list[list[Number]]:
        """Coefficients in the time unit ``scale``: ``sum_k c_k ((t - t0)/scale)^k``."""
        if self.shift is None:
            return self.raw
        with self.lib.enter():
            one = self.lib.convert(1)
            unit = one / (1 << self.shift) if self.shift >= 0 else one * (1 << -self.shift)
            return [[unit * int(v) for v in c] for c in self.raw]

    @cached_property
    def coefficients(self) -> list[list[Number]]:
        scaled = self.scaled_coefficients
        if self.scale == 1:
            return scaled
        with self.lib.enter():
            inv = 1 / self.scale
            out = []
            for c in scaled:
                p = inv * 0 + 1
                row = []
                for v in c:
                    row.append(v * p)
                    p = p * inv
                out.append(row)
            return out

    def __call__(self, t: object) -> list[Number]:
        coeffs = self.scaled_coefficients
        with self.lib.enter():
            s = (self.lib.convert(t) - self.t0) / self.scale
            return [horner(c, s) for c in coeffs]


@dataclass(frozen=True)
class EventHit:
    """A terminal event: the first sign change of one or more event outputs.

    Attributes
    ----------
    t
        Crossing time, located to working precision on the step's Taylor polynomial.
    indices
        Absolute output indices of the event functions that changed sign within the
        simultaneity tolerance of ``t`` (more than one: a simultaneous crossing).
    directions
        ``+1`` where ``g`` went from negative to positive, ``-1`` otherwise, per index.
    times
        Each index's own located crossing time (all within the tolerance of ``t``).
    state
        The state at ``t``.
    """

    t: Number
    indices: tuple[int, ...]
    directions: tuple[int, ...]
    times: tuple[Number, ...]
    state: list[Number]

    @property
    def simultaneous(self) -> bool:
        return len(self.indices) > 1


@dataclass
class Solution:
    """Result of :func:`taylor_solve` (working-precision numbers throughout).

    ``error_estimate`` sums the local estimates ``||x_K||_∞ h^K + K 2^-prec ||x||_∞`` (truncation
    and rounding) over the steps; it does not include how the flow amplifies earlier errors.
    """

    outcome: Outcome
    t0: Number
    t_final: Number
    state: list[Number]
    n_steps: int
    dps: int
    prec: int
    order: int
    tol: Number
    outputs: tuple[int, ...] = ()
    segments: list[Segment] = field(default_factory=list, repr=False)
    event: EventHit | None = None
    blowup_time: Number | None = None
    blowup_time_digits: float | None = None
    error_estimate: Number = 0
    rejected_steps: int = 0
    last_step: Number | None = None

    @property
    def message(self) -> str:
        return self.outcome.message

    def __call__(self, t: object, *, outputs: bool = False) -> list[Number]:
        """State at ``t`` in ``[t0, t_final]`` from the stored segments (``dense=True`` runs);
        with ``outputs=True`` the carried outputs follow the state."""
        if not self.segments:
            raise IntegrationError(
                "this solution has no dense output; run taylor_solve(..., dense=True)"
            )
        lib = self.segments[0].lib
        with lib.enter():
            try:
                tt = lib.convert(t)
            except (TypeError, ValueError) as exc:
                raise IntegrationError(f"t = {t!r} is not a finite real number") from exc
        if not self.t0 <= tt <= self.t_final:
            raise IntegrationError(
                f"t = {t} is outside the integrated interval [{self.t0}, {self.t_final}]"
            )
        starts = [s.t0 for s in self.segments]
        i = max(bisect.bisect_right(starts, tt) - 1, 0)
        vals = self.segments[i](tt)
        n = len(self.state)
        return vals if outputs else vals[:n]


def order_for_tolerance(tol_log10: float) -> int:
    """Jorba–Zou order ``ceil(-ln(ε)/2) + 1`` for ``ε = 10^tol_log10`` (at least 6)."""
    return max(6, math.ceil(-tol_log10 * math.log(10) / 2) + 1)


# ---------------------------------------------------------------------------------------------


def _check_args(program: Program, x0: Sequence[object], t0: object, t_end: object, dps: object,
                switches: Sequence[object], n_state: int | None, event_outputs: Sequence[int],
                track_outputs: Sequence[int], max_steps: object, wall_time: object) -> int:
    if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= 10000:
        raise IntegrationError(
            f"dps = {dps!r}: the working precision must be an integer number of decimal digits "
            "between 10 and 10000; pass e.g. dps=30"
        )
    n = program.n_inputs
    if n_state is not None and n_state != n:
        raise IntegrationError(
            f"n_state = {n_state} but the program has {n} inputs; the state is the whole input "
            "vector (leave n_state unset)"
        )
    if len(program.outputs) < n:
        raise IntegrationError(
            f"the program has {len(program.outputs)} outputs but {n} inputs; its first n "
            "outputs must be the vector field"
        )
    if len(x0) != n:
        raise IntegrationError(
            f"x0 has {len(x0)} components but the state has {n} "
            f"({', '.join(program.input_names) or 'unnamed'}); pass one value per input"
        )
    if len(switches) != program.n_switches:
        raise IntegrationError(
            f"{len(switches)} switch values given but the program has {program.n_switches} "
            f"({', '.join(program.switch_names) or 'unnamed'})"
        )
    for name, idx in (("event_outputs", event_outputs), ("track_outputs", track_outputs)):
        for j in idx:
            if isinstance(j, bool) or not isinstance(j, int) or not n <= j < len(program.outputs):
                raise IntegrationError(
                    f"{name} contains {j!r}: entries are absolute output indices of the "
                    f"program's extra outputs, {n}..{len(program.outputs) - 1}"
                )
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise IntegrationError(f"max_steps = {max_steps!r}: pass a positive integer")
    if wall_time is not None and not (isinstance(wall_time, int | float) and wall_time > 0):
        raise IntegrationError(f"wall_time = {wall_time!r}: pass a positive number of seconds "
                               "or None")
    return n


def _convert(lib: Any, v: object, what: str) -> Number:
    try:
        return lib.convert(v)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise IntegrationError(f"{what} = {v!r} is not a finite real number ({exc}); pass an "
                               "int, Fraction, decimal string, float or mpmath/gmpy2 number"
                               ) from None


def taylor_solve(
    program: Program, x0: Sequence[object], t0: object, t_end: object, *, dps: int,
    switches: Sequence[object] = (), n_state: int | None = None,
    event_outputs: Sequence[int] = (), track_outputs: Sequence[int] = (),
    uncontrolled: Sequence[int] = (), on_surface: Sequence[int] | None = None,
    tol: object | None = None, simultaneous_tol: object | None = None,
    max_steps: int = 100_000, wall_time: float | None = None,
    progress: Callable[[float], None] | None = None, dense: bool = True,
    backend: str | None = None, max_step: object | None = None,
) -> Solution:
    """Integrate ``x' = F(x)`` from ``t0`` to ``t_end`` with the Taylor method.

    Parameters
    ----------
    program
        Outputs ``0..n-1`` are ``F`` (``n = program.n_inputs``); further outputs may serve as
        event functions or be carried along for dense output.
    x0, t0, t_end
        Initial state and interval (``t_end > t0``); exact inputs (ints, Fractions, decimal
        strings) are rounded once to the working precision.
    dps
        Requested decimal digits, 10..10000. Arithmetic runs at ``dps + GUARD_DIGITS``.
    switches, n_state
        Switch values of the program (constant during the run); ``n_state`` must equal
        ``program.n_inputs`` (accepted for clarity).
    event_outputs
        Absolute output indices ``j >= n`` of event functions ``g_j(x)`` (order-one scale):
        the run stops at the first sign change of any of them (module docstring, *Events*).
    uncontrolled, track_outputs, on_surface
        Event outputs left out of the step-size norm (e.g. a precision monitor); further outputs
        whose polynomials the segments carry (``solution(t, outputs=True)``); event outputs
        known to vanish at ``t0`` (``None``: decided by the tolerance, *Events*).
    tol, simultaneous_tol
        Local error tolerance ``ε`` relative to ``max(1, ||x||)`` (default ``10^-dps``);
        crossings within ``simultaneous_tol · max(1, |t|)`` of the first are reported together
        (default ``10^-(dps-5)``: indistinguishable at the requested precision).
    max_steps, wall_time
        Guards: the run ends with ``MAX_STEPS`` or ``TIME_LIMIT`` when exceeded, and with
        ``STIFF`` when the step size sat on a plateau (:data:`STIFF_WINDOW`) too low to reach
        ``t_end`` within the steps left.
    max_step, progress, dense, backend
        Upper bound on the step size (e.g. to force a reference step sequence); called with
        ``t`` (float) about four times a second; keep every step's polynomials (memory
        ``O(steps · n · K)``); jet number type ``"gmpy2"`` (default) or ``"mpmath"``.

    Returns
    -------
    Solution
        ``outcome`` tells how the run ended; ``state`` and ``t_final`` are where it ended
        (the event point for ``EVENT``, the last step for ``BLOWUP``).
    """
    n = _check_args(program, x0, t0, t_end, dps, switches, n_state, event_outputs,
                    track_outputs, max_steps, wall_time)
    events = tuple(dict.fromkeys(event_outputs))
    carried = events + tuple(j for j in dict.fromkeys(track_outputs) if j not in events)
    kernel, fixed_kernel, guards = _kernels(program, n, carried, backend)
    prec = bits_for_dps(dps + GUARD_DIGITS)
    lib = kernel.lib(prec)
    with lib.enter():
        nums = _numbers(lib, dps, x0, switches, t0, t_end, tol, simultaneous_tol, max_step)
        order = order_for_tolerance(log2abs(nums["tol"]) / BITS_PER_DIGIT)
        control = StepControl(order=order, log2_tol=log2abs(nums["tol"]),
                              controlled=tuple(i for i, j in enumerate(carried)
                                               if j not in set(uncontrolled)),
                              guard_kinds=tuple(g.kind for g in guards))
        run = _Run(kernel=kernel, fixed_kernel=fixed_kernel, prec=prec, dps=dps, n=n,
                   x=nums["x"], w=nums["w"], t_start=nums["t0"], t_end=nums["t_end"],
                   tol=nums["tol"], sim_tol=nums["sim_tol"], n_events=len(events),
                   carried=carried, max_steps=max_steps, wall_time=wall_time,
                   progress=progress, dense=dense,
                   on_surface=None if on_surface is None else set(on_surface),
                   control=control, h_max=nums["h_max"])
        return run.solve()


def _kernels(program: Program, n: int, carried: tuple[int, ...], backend: str | None
             ) -> tuple[Any, Any, tuple[Any, ...]]:
    """The float and fixed-point jet kernels carrying ``carried`` and the guards' arguments."""
    guards = analytic_guards(program, [program.outputs[j] for j in (*range(n), *carried)])
    program, guard_outputs = guarded_program(program, guards)
    kernel = compile_jets(program, n, backend, carried + guard_outputs)
    fixed_kernel = (compile_jets(program, n, backend, carried + guard_outputs, fixed=True)
                    if kernel.backend == "gmpy2" else None)
    return kernel, fixed_kernel, guards


def _numbers(lib: Any, dps: int, x0: Sequence[object], switches: Sequence[object], t0: object,
             t_end: object, tol: object | None, simultaneous_tol: object | None,
             max_step: object | None) -> dict[str, Any]:
    """The run's inputs as numbers of the working precision (each rounded once), checked."""
    tol_n = _convert(lib, tol, "tol") if tol is not None else _convert(lib, f"1e-{dps}", "tol")
    if not 0 < tol_n < 1:
        raise IntegrationError(f"tol = {tol!r}: pass a tolerance in (0, 1), e.g. 1e-{dps}")
    out = {
        "tol": tol_n,
        "sim_tol": (_convert(lib, simultaneous_tol, "simultaneous_tol")
                    if simultaneous_tol is not None else _convert(lib, f"1e-{dps - 5}", "tol")),
        "x": [_convert(lib, v, f"x0[{i}]") for i, v in enumerate(x0)],
        "w": [_convert(lib, v, f"switches[{i}]") for i, v in enumerate(switches)],
        "t0": _convert(lib, t0, "t0"),
        "t_end": _convert(lib, t_end, "t_end"),
        "h_max": _convert(lib, max_step, "max_step") if max_step is not None else None,
    }
    if not out["t_end"] > out["t0"]:
        raise IntegrationError(
            f"t_end = {t_end!r} must be greater than t0 = {t0!r}; the integrator runs "
            "forward in time")
    if out["h_max"] is not None and not out["h_max"] > 0:
        raise IntegrationError(f"max_step = {max_step!r}: pass a positive step or None")
    return out


STIFF_WINDOW = 64
"""Steps over which a step size that stopped growing is read as stiffness (see taylor_solve)."""
_DEFECT_FACTOR = 1000   # a step whose ODE defect exceeds this many δ is refused
_MAX_REJECTS = 40       # quarterings of one step before the run is declared stalled
_DEFECT_POINTS = (0.5, 1.0)


@dataclass
class _Run:
    """The state of one integration (kept in one object so the loop reads plainly)."""

    kernel: Any
    fixed_kernel: Any
    prec: int
    dps: int
    n: int
    x: list[Number]
    w: list[Number]
    t_start: Number
    t_end: Number
    tol: Number
    sim_tol: Number
    n_events: int
    carried: tuple[int, ...]
    max_steps: int
    wall_time: float | None
    progress: Callable[[float], None] | None
    dense: bool
    on_surface: set[int] | None
    control: StepControl
    h_max: Number | None = None

    def solve(self) -> Solution:
        self._start()
        while self.outcome is None:
            self._step()
        if self.progress is not None:
            self.progress(float(self.t))
        return self._solution()

    def _start(self) -> None:
        one = self.t_start * 0 + 1
        self.one = one
        self.lib = self.kernel.lib(self.prec)
        self.order = self.control.order
        self.zero_tol = one / 10 ** (self.dps - 5)
        self.ulp = one / (1 << self.prec)
        self.tracker = BlowupTracker(digits_cap=self.dps)
        self.close_digits = max(8.0, self.dps / 2)
        self.coarse_m = max(6, (3 * self.order) // 4)
        self.segments: list[Segment] = []
        self.err = one * 0
        self.last_sign: list[int | None] = [None] * self.n_events
        self.clock0 = self.last_report = time.monotonic()
        self.outcome: Outcome | None = None
        self.hit: EventHit | None = None
        self.blowup: tuple[Number, float] | None = None
        self.steps = 0
        self.rejected = 0
        self.t = self.t_start
        self.fixed = self.fixed_kernel is not None
        self.h_pred: Number | None = None  # time unit of the next fixed-point jet
        self.sizes: deque[float] = deque(maxlen=STIFF_WINDOW)

    def _guards_hit(self) -> bool:
        if self.steps >= self.max_steps:
            self.outcome = Outcome.MAX_STEPS
            return True
        now = time.monotonic()
        if self.wall_time is not None and now - self.clock0 > self.wall_time:
            self.outcome = Outcome.TIME_LIMIT
            return True
        if self.progress is not None and now - self.last_report >= _PROGRESS_INTERVAL:
            self.progress(float(self.t))
            self.last_report = now
        return False

    def _step(self) -> None:
        if self._guards_hit():
            return
        jet = self._jet(self.x, self.order, self.h_pred if self.fixed else None, self.one)
        scale = max(max((abs(v) for v in self.x), default=self.one), self.one)
        sized = self._size(jet, scale)
        if sized is None:
            return
        tau, last = sized
        self.h_pred = tau * jet.unit
        if self._blew_up(jet):
            return
        if not self.t + tau * jet.unit > self.t:
            self.outcome = Outcome.STALLED
            return
        checked = self._checked(jet, tau, last, scale)
        if checked is None:
            return
        tau, last, local = checked
        h = tau * jet.unit
        if self.n_events and self._event(jet, tau, h):
            return
        self._advance(jet, tau, h, last, local, scale)

    def _size(self, jet: StepJet, scale: Number) -> tuple[Number, bool] | None:
        """The step (in the jet's unit) the rules allow, and whether it reaches ``t_end``."""
        log2_scale = log2abs(scale)
        log2_tau = min(self.control.log2_tau(jet, log2_scale),
                       self.control.guard_log2_tau(jet, log2_scale))
        if math.isnan(log2_tau):
            self.outcome = Outcome.BLOWUP if self.tracker.t_star is not None else Outcome.STALLED
            return None
        if self.h_max is not None:
            log2_tau = min(log2_tau, log2abs(self.h_max / jet.unit))
        remaining = (self.t_end - self.t) / jet.unit
        if log2_tau == math.inf or log2_tau >= log2abs(remaining):
            return remaining, True
        return pow2(log2_tau, self.one), False

    def _blew_up(self, jet: StepJet) -> bool:
        m = self.order if jet.shift is None else min(self.coarse_m, self.order)
        dominant = max(jet.state, key=lambda c, m=m: jet.log2(c, m))
        clean = self.tracker.update(self.t, [jet.value(dominant, k) for k in range(m - 3, m + 1)],
                                    m, jet.unit)
        if jet.shift is not None:
            if clean and len(self.tracker.history) >= 2:
                self.fixed = False  # blow-up suspected: exact ratios need the float kernel
                self.tracker.reset()
            return False
        self.blowup = self.tracker.verdict(self.t_end, self.close_digits, self.n_events > 0)
        if self.blowup is not None:
            self.outcome = Outcome.BLOWUP
            return True
        return False

    def _checked(self, jet: StepJet, tau: Number, last: bool, scale: Number
                 ) -> tuple[Number, bool, Number] | None:
        """The step after the defect check (see :func:`taylor_solve`, Notes): ``(τ, last,
        local error estimate)``; refused steps are retried at a quarter of their length."""
        bound = self.tol * scale * _DEFECT_FACTOR
        for _ in range(_MAX_REJECTS):
            fields = []
            for theta in _DEFECT_POINTS:
                xs = [jet.evaluate(c, theta * tau) for c in jet.state]
                st, _ = self.kernel.raw(xs, self.w, 1, self.one, self.prec)
                fields.append([c[1] for c in st])
            d_mid = defect_bound(jet, tau, fields[:1], _DEFECT_POINTS[:1])
            d_end = defect_bound(jet, tau, fields[1:], _DEFECT_POINTS[1:])
            local = tau * jet.unit * (4 * d_mid + d_end) / 6
            if local <= bound:
                return tau, last, local
            self.rejected += 1
            tau, last = tau / 4, False
        self.outcome = Outcome.STALLED
        return None

    def _event(self, jet: StepJet, tau: Number, h: Number) -> bool:
        tp = [self.one]
        for _ in range(self.order):
            tp.append(tp[-1] * tau)
        polys = [[jet.value(g, k) * tp[k] for k in range(self.order + 1)]
                 for g in jet.extra[: self.n_events]]
        crossing = self._events(self.t, h, polys, self.last_sign, self.steps == 0,
                                self.zero_tol)
        if crossing is not None:
            sigma, indices, directions, times = crossing
            x_ev = [jet.evaluate(c, sigma * tau) for c in jet.state]
            self.hit = EventHit(self.t + sigma * h, indices, directions, times, x_ev)
            self.segments.append(self._segment(jet, self.t, sigma * h))
            self.t, self.x = self.hit.t, x_ev
            self.steps += 1
            self.outcome = Outcome.EVENT
            return True
        for j, g in enumerate(polys):
            end = sum(g)
            self.last_sign[j] = (end > 0) - (end < 0)
        return False

    def _segment(self, jet: StepJet, t0: Number, h: Number) -> Segment:
        return Segment(t0, h, jet.unit, [*jet.state, *jet.extra], jet.shift, self.lib)

    def _advance(self, jet: StepJet, tau: Number, h: Number, last: bool, local: Number,
                 scale: Number) -> None:
        seg = self._segment(jet, self.t, h)
        if self.dense or not self.segments:
            self.segments.append(seg)
        else:
            self.segments[-1] = seg
        self.x = [jet.evaluate(c, tau) for c in jet.state]
        log2_tail = max(jet.log2(c, self.order) for c in jet.state) + self.order * log2abs(tau)
        tail = pow2(log2_tail, self.one) if log2_tail > -math.inf else self.one * 0
        self.err += max(tail, local) + scale * self.order * self.ulp
        self.t = self.t_end if last else self.t + h
        self.steps += 1
        if last:
            self.outcome = Outcome.OK
        elif self._stiff(h):
            self.outcome = Outcome.STIFF

    def _stiff(self, h: Number) -> bool:
        """The step size sits on a plateau (within a factor 4 over the window: the signature of
        a step held by a fast decaying mode, not of an approach to a singularity, where it
        shrinks geometrically) and, growing on at the window's rate, the steps left cannot
        reach ``t_end``."""
        log2_h = log2abs(h)
        self.sizes.append(log2_h)
        if len(self.sizes) < STIFF_WINDOW or self.tracker.t_star is not None:
            return False
        if max(self.sizes) - min(self.sizes) > 2:
            return False
        left = self.max_steps - self.steps
        log2_rest = log2abs(self.t_end - self.t) - log2_h  # remaining time in steps of size h
        if left <= 0 or log2_rest < math.log2(left):
            return False
        growth = (self.sizes[-1] - self.sizes[0]) / (len(self.sizes) - 1)  # log2 per step
        if growth <= 0:
            return True
        # Steps h g^j (g = 2^growth) cover h (g^N − 1)/(g − 1): N steps needed for the rest.
        g1 = 2.0**growth - 1
        needed = (log2_rest + math.log2(g1) if log2_rest > 60 else
                  math.log2(1 + 2.0**log2_rest * g1)) / growth
        return needed > left

    def _solution(self) -> Solution:
        sol = Solution(outcome=self.outcome, t0=self.t_start, t_final=self.t, state=self.x,
                       n_steps=self.steps, dps=self.dps, prec=self.prec, order=self.order,
                       tol=self.tol, outputs=self.carried, segments=self.segments,
                       event=self.hit, error_estimate=self.err, rejected_steps=self.rejected,
                       last_step=self.segments[-1].h if self.segments else None)
        if self.outcome is Outcome.BLOWUP:
            blowup = self.blowup
            if blowup is None and self.tracker.t_star is not None:
                blowup = (self.tracker.t_star, self.tracker.digits())
            if blowup is not None:
                sol.blowup_time, sol.blowup_time_digits = blowup
        return sol

    def _jet(self, x: list[Number], order: int, unit: Number | None, one: Number) -> StepJet:
        """Float jet in unscaled time (``unit is None``) or fixed-point jet in units of
        ``unit``."""
        nc = len(self.carried)
        if unit is None:
            state, extra = self.kernel.raw(x, self.w, order, one, self.prec)
            return StepJet(state, extra[:nc], extra[nc:], one, None)
        shift, state, extra = self.fixed_kernel.raw(x, self.w, order, unit, self.prec)
        return StepJet(state, extra[:nc], extra[nc:], unit, shift)
    def _events(self, t: Number, h: Number, series: list[list[Number]],
                last_sign: list[int | None], first: bool, zero_tol: Number
                ) -> tuple[Number, tuple[int, ...], tuple[int, ...], tuple[Number, ...]] | None:
        """First crossing in this step ``[t, t + h]``: ``(σ, indices, directions, times)`` with
        ``σ`` the step fraction, or None. ``series`` are the event polynomials in ``σ``."""
        found: list[tuple[Number, int, int]] = []
        zero = h * 0
        for j, g in enumerate(series):
            G = g
            idx = self.carried[j]
            start_on = first and (
                (self.on_surface is not None and idx in self.on_surface)
                or (self.on_surface is None and abs(G[0]) <= zero_tol)
            )
            if start_on:
                G = deflate(G, zero_tol)
                if not G:
                    continue
            s0 = (G[0] > 0) - (G[0] < 0)
            prev = last_sign[j]
            if prev and s0 and prev != s0:  # sign flipped across the step boundary
                found.append((zero, idx, s0))
                continue
            if not G[0]:  # landed exactly on the surface at the last step's end
                continue
            sigma = first_crossing(G)
            if sigma is not None:
                found.append((sigma, idx, -s0))
        if not found:
            return None
        s_min = min(f[0] for f in found)
        t_hit = t + s_min * h
        width = self.sim_tol * max(abs(t_hit), h * 0 + 1)
        group = sorted((f for f in found if (f[0] - s_min) * h <= width), key=lambda f: f[1])
        return (s_min, tuple(f[1] for f in group), tuple(f[2] for f in group),
                tuple(t + f[0] * h for f in group))

