"""Gradient flows of problems: the Taylor engine plus kinks, sliding, precision and digits.

:func:`integrate` solves θ' = −s∇L(θ) (s the flow scale) for a problem, watching every kink
surface of the derivation. At each sign change located by the engine the event is classified:

* **crossing**: on the new side the surface keeps moving the same way (∇s·F_new has the sign of
  the crossing), so the switch flips and the run goes on;
* **sliding** (Filippov): the new side's field points back into the surface while the old side's
  points into it: the flow continues *on* the surface with the convex combination
  F_α = (1 − α)F_0 + αF_1, α = ∇s·F_0 / (∇s·F_0 − ∇s·F_1) ∈ (0, 1), which is the element of
  the Clarke hull tangent to the surface. The sliding mode ends when α reaches 0 or 1;
* **simultaneous**: two or more surfaces change sign within the engine's tolerance of the same
  instant (the codimension-2 case); each switch flips when its crossing is transversal.

*Late-time digits.* Near a limit the residuals that rates and exponents are read from (θ − θ*,
L − L*, ∇L) are tiny, and a fixed absolute precision leaves them few correct digits. A monitor
output log₁₀‖F‖ − τ (τ a runtime constant) fires each time ‖F‖ falls a further
:data:`BOOST_DECADES` decades, and the run restarts from the exact current state with working
precision ``dps + (k + 1)·BOOST_DECADES`` after the k-th boost (at most :data:`MAX_BOOST_DIGITS`
extra digits, so an exponentially converging flow run to a long horizon stays affordable; the
trajectory's ``info`` says when the cap was reached): the working digits always exceed
the decades ‖F‖ has fallen by at least ``dps``. Errors made earlier, at lower precision, shrink
with the residual in the contracting directions, so ‖θ'‖ (and with it θ − θ* ≈ H⁻¹∇L near a
non-degenerate minimum, or L − L*) keeps about ``dps`` significant digits.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kltools.budget import capped
from kltools.compiled.jets import number_lib, taylor_jet
from kltools.compiled.layout import FlowLayout
from kltools.compiled.program import Program
from kltools.errors import IntegrationError
from kltools.integrate._transitions import Mode, Transition, kink_transition, start_transition
from kltools.integrate.taylor import Outcome as EngineOutcome
from kltools.integrate.taylor import Solution, taylor_solve
from kltools.integrate.trajectory import (
    Outcome,
    Trajectory,
    TrajectoryBuilder,
    with_fields,
)
from kltools.numbers import (
    agreement_digits,
    bits_for_dps,
    is_finite_number,
    log10abs,
    to_fraction,
    to_mpfr,
)
from kltools.symbolic.kinks import KinkConvention

if TYPE_CHECKING:
    import sympy as sp

    from kltools.spec.problem import Problem
    from kltools.symbolic.derivation import Derivation

# SymPy, the derivation and the evaluators are imported where they are used: a flow system
# loaded from the program cache (kltools.integrate.cached) integrates without importing SymPy.

__all__ = ["BOOST_DECADES", "FlowRunner", "FlowSystem", "RunLimits", "integrate", "provenance",
           "run_native"]

BOOST_DECADES = 5
MAX_BOOST_DIGITS = 120


def _tau_symbol() -> sp.Symbol:
    """The runtime constant of the precision monitor (a switch slot after the χ's)."""
    import sympy as sp

    return sp.Symbol("_tau", real=True)


class FlowSystem:
    """The programs the flow needs for one derivation (built once, reused across runs).

    Output positions are named by :attr:`layout` (a :class:`~kltools.compiled.layout.FlowLayout`:
    ``F``, ``L``, the surfaces, the monitor, and ``α``, ``1 − α`` on sliding programs); the
    switches are ``χ`` and the monitor constant ``τ``.
    """

    def __init__(self, derivation: Derivation) -> None:
        self.d = derivation
        self.n = len(derivation.parameters)
        self.m = len(derivation.switches)
        self.layout = FlowLayout(self.n, self.m)

    @cached_property
    def ev(self) -> Any:
        """The pointwise :class:`~kltools.compiled.evaluator.Evaluator` of the derivation."""
        from kltools.compiled.evaluator import Evaluator

        return Evaluator(self.d)

    @cached_property
    def program(self) -> Program:
        from kltools.compiled.program import program_from_sympy

        d = self.d
        s = d.flow_scale
        flow = [-s * g for g in d.gradient]
        outs = [*flow, d.loss, *[w.surface for w in d.switches], self._monitor(flow)]
        return program_from_sympy(outs, d.parameters, [*d.switch_symbols, _tau_symbol()],
                                  cse=False, blocks=d.blocks)

    def pattern(self, theta: Sequence[object], convention: KinkConvention, dps: int
                ) -> tuple[int, ...]:
        """The switch values χ at θ under ``convention`` (exact on a kink)."""
        return tuple(self.ev.pattern(theta, convention, dps)) if self.m else ()

    def zero_surfaces(self, theta0: Sequence[object], chi: Sequence[int]) -> list[int]:
        """Event outputs whose surface is exactly 0 at ``theta0`` on pattern χ."""
        return _zero_surfaces(self, theta0, chi)

    @staticmethod
    def _monitor(flow: Sequence[sp.Expr]) -> sp.Expr:
        # c·‖F‖² − 1 with the runtime constant c = 10^(−2τ): zero when ‖F‖ = 10^τ. A polynomial
        # in the state (not log‖F‖, whose series has the complex zeros of ‖F‖² as singularities
        # and would limit the step); it is left out of the step-size control.
        import sympy as sp

        return _tau_symbol() * sp.Add(*[f**2 for f in flow]) - 1

    def sliding_program(self, k: int) -> Program:
        """Program of the Filippov field on surface k: outputs ``[F_α, L, s_j (j ≠ k as
        placeholders for k), monitor, α, 1 − α]`` with the same switch layout."""
        return self._sliding(k)

    def program_for(self, mode: Mode) -> Program:
        """The program the engine integrates in ``mode``."""
        return self.program if mode.sliding is None else self._sliding(mode.sliding)

    @cached_property
    def _sliding_cache(self) -> dict[int, Program]:
        return {}

    def _sliding(self, k: int) -> Program:
        if k in self._sliding_cache:
            return self._sliding_cache[k]
        import sympy as sp

        from kltools.compiled.program import program_from_sympy
        from kltools.symbolic.reverse import reverse_gradient

        d = self.d
        chi = d.switches[k].symbol
        # Two copies (χ_k = 0 and χ_k = 1) of the blocks that depend on χ_k; the rest is shared,
        # so the sliding program stays the size of the smooth one (CSE form, no expansion).
        ren0: dict[sp.Basic, sp.Basic] = {chi: sp.Integer(0)}
        ren1: dict[sp.Basic, sp.Basic] = {chi: sp.Integer(1)}
        blocks: list[tuple[sp.Symbol, sp.Expr]] = []
        for sym, e in d.blocks:
            if e.free_symbols & ren0.keys():
                s0 = sp.Symbol(f"{sym.name}_k0", real=True)
                s1 = sp.Symbol(f"{sym.name}_k1", real=True)
                blocks += [(s0, e.xreplace(ren0)), (s1, e.xreplace(ren1))]
                ren0[sym], ren1[sym] = s0, s1
            else:
                blocks.append((sym, e))
        scale = d.flow_scale
        F0 = [(-scale * g).xreplace(ren0) for g in d.gradient]
        F1 = [(-scale * g).xreplace(ren1) for g in d.gradient]
        # ∇s_k by reverse mode over the forward blocks (s_k does not depend on χ_k itself).
        adj, grad_s = reverse_gradient(d.forward, d.switches[k].surface, d.parameters,
                                       prefix=f"s{k}_")
        blocks += adj
        g0 = sp.Add(*[a * b for a, b in zip(grad_s, F0, strict=True)])
        g1 = sp.Add(*[a * b for a, b in zip(grad_s, F1, strict=True)])
        a0, a1, al = (sp.Symbol(f"_slide{k}_{n}", real=True) for n in ("g0", "g1", "alpha"))
        blocks += [(a0, g0), (a1, g1), (al, a0 / (a0 - a1))]
        Fa = [f0 + al * (f1 - f0) for f0, f1 in zip(F0, F1, strict=True)]
        surfaces = [w.surface.xreplace(ren0) if j != k else sp.Integer(1)
                    for j, w in enumerate(d.switches)]
        outs = [*Fa, d.loss.xreplace(ren0), *surfaces, self._monitor(Fa), al, 1 - al]
        prog = program_from_sympy(outs, d.parameters, [*d.switch_symbols, _tau_symbol()],
                                  cse=False, blocks=blocks)
        self._sliding_cache[k] = prog
        return prog

    def surface_rates(self, state: Sequence[Any], chi: Sequence[int], dps: int) -> list[Any]:
        """d s_j/dt for every surface under the smooth field of pattern χ, at ``state``."""
        jet = taylor_jet(self.program, state, [*chi, 0], order=1, dps=dps,
                         extra=self.layout.surfaces)
        return [e[1] for e in jet.extra]


def _as_derivation(obj: Problem | Derivation | FlowSystem) -> FlowSystem:
    if isinstance(obj, FlowSystem):
        return obj
    from kltools.spec.problem import Problem
    from kltools.symbolic.derivation import Derivation, derive

    if isinstance(obj, Derivation):
        return FlowSystem(obj)
    if isinstance(obj, Problem):
        return FlowSystem(derive(obj))
    raise IntegrationError(f"integrate() takes a Problem, Derivation or FlowSystem, not "
                           f"{type(obj).__name__}")


def _check(dps: object, t_end: object, theta0: Sequence[object], n: int) -> Fraction:
    if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= 10000:
        raise IntegrationError(f"dps = {dps!r}: pass an integer number of decimal digits "
                               "between 10 and 10000 (e.g. --dps 30)")
    try:
        te = to_fraction(t_end)
    except (ValueError, TypeError, ZeroDivisionError):
        raise IntegrationError(f"t_end = {t_end!r} is not a number; pass e.g. 5 or 1e8"
                               ) from None
    if te <= 0:
        raise IntegrationError(f"t_end = {t_end!r} must be positive (the flow runs forward "
                               "from t = 0)")
    if len(theta0) != n:
        raise IntegrationError(f"the initial point has {len(theta0)} values but the problem has "
                               f"{n} parameters (see `kltools derive` for their order)")
    return te


def integrate(problem: Problem | Derivation | FlowSystem, theta0: Sequence[object] | None = None,
              t_end: object = 1, *, method: str = "taylor", dps: int = 30,
              eta: object | None = None, convention: KinkConvention | str = KinkConvention.ERROR,
              max_steps: int = 200_000, max_events: int = 10_000,
              wall_time: float | None = None, adaptive_precision: bool = True,
              verify: bool = False, throw: bool = False,
              progress: Callable[[float], None] | None = None,
              backend: str = "native") -> Trajectory:
    """Integrate the gradient flow θ' = −s∇L(θ) of ``problem`` from θ(0) = ``theta0``.

    Parameters
    ----------
    problem
        A :class:`~kltools.spec.problem.Problem` (or its :class:`Derivation`, or a
        :class:`FlowSystem` to reuse compiled programs across runs).
    theta0
        Initial point (exact values are rounded once); default the problem's init.
    t_end
        Horizon (> 0).
    method
        ``taylor`` (the flow, adaptive-order Taylor method) or ``gd`` (gradient descent with
        step ``eta``, the discretisation to compare with).
    dps
        Requested decimal digits (10..10000), a per-call setting: no global state changes.
    convention
        Value of a switch whose surface is exactly 0 at the start: ``error`` (default: the flow
        is not determined by the model there), ``right`` / ``left`` (that side's piece), or
        ``filippov`` (the side the flow moves into, or a sliding mode).
    max_steps, max_events, wall_time
        Guards; exceeding one ends the run with outcome ``max_steps``, ``max_events`` or
        ``time_limit``. A :func:`kltools.budget.budget` in force caps ``max_steps`` and
        ``wall_time``.
    adaptive_precision
        Raise the working precision as ‖θ'‖ decays (module docstring).
    verify
        Re-run at ``dps + max(10, dps/2)`` digits and report how many digits of the final state
        agree (``correct_digits`` then is that agreement, ``verified`` true).
    throw
        Raise :class:`~kltools.errors.IntegrationError` unless the outcome is ``ok``.
    progress
        Called with the current time (float) a few times a second.
    backend
        ``native`` (kltools' Taylor driver) or ``heyoka`` (LLVM-compiled Taylor integrator for
        flows without kinks, :mod:`kltools.integrate.heyoka_backend`; the native driver runs
        when heyoka is not installed or the model has kinks, as ``info["backend"]`` says).
    """
    system = _as_derivation(problem)
    prob = system.d.problem
    max_steps, wall_time = capped(max_steps, wall_time)  # the enclosing command's budget, if any
    conv = KinkConvention(convention) if isinstance(convention, str) else convention
    theta = list(theta0) if theta0 is not None else list(prob.initial_point())
    te = _check(dps, t_end, theta, system.n)
    try:
        theta = [to_fraction(v) for v in theta]
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        raise IntegrationError(f"the initial point must be numbers ({exc}); pass decimals such "
                               "as 0.3 or fractions such as 1/3") from None
    if method == "gd":
        from kltools.integrate.gd import gradient_descent

        if eta is None:
            raise IntegrationError("gradient descent needs a step: pass eta (e.g. --eta 0.01)")
        traj = gradient_descent(system.ev, theta, eta, te, dps=dps,
                                convention=conv if conv is not KinkConvention.ERROR
                                else KinkConvention.RIGHT, progress=progress)
    elif method == "taylor":
        run = _runner(system, backend)
        limits = RunLimits(max_steps, max_events, wall_time)
        traj = run(system, theta, te, dps, conv, limits, adaptive_precision, progress)
        if verify:
            hi = dps + max(10, dps // 2)
            ref = run(system, theta, te, hi, conv, limits, adaptive_precision, None)
            traj = _verified(traj, ref, dps, hi)
    else:
        raise IntegrationError(f"unknown method {method!r}; use taylor or gd")
    traj.info["reproduce"] = provenance(prob, theta, dps=dps, method=method, eta=eta,
                                        convention=conv.value, t_end=str(t_end))
    if throw:
        traj.raise_for_outcome()
    return traj


def _verified(traj: Trajectory, ref: Trajectory, dps: int, hi: int) -> Trajectory:
    """``traj`` with the digits that agree with ``ref`` (the same run at ``hi`` digits)."""
    traj.info["verify_dps"] = hi
    blowup_digits = traj.blowup_digits
    if traj.outcome is Outcome.BLOWUP and ref.blowup_time is not None:
        blowup_digits = min(blowup_digits,
                            agreement_digits([traj.blowup_time], [ref.blowup_time]))
    return with_fields(traj, verified=True, blowup_digits=blowup_digits,
                       correct_digits=min(agreement_digits(traj.theta, ref.theta), float(dps)))


def provenance(problem: Problem, theta0: Sequence[object], **settings: object) -> dict[str, Any]:
    """What reproduces a result: the spec, the exact initial point, the settings, the versions."""
    from importlib import metadata

    versions = {}
    for pkg in ("kltools", "sympy", "mpmath", "gmpy2", "numpy"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"spec": problem.source or None, "theta0": [str(to_fraction(v)) for v in theta0],
            "settings": settings, "versions": versions}


@dataclass(frozen=True)
class RunLimits:
    """The guards of one run: steps, kink events, wall-clock seconds (None: no limit)."""

    max_steps: int
    max_events: int
    wall_time: float | None


#: A flow driver: ``(system, θ(0), t_end, dps, convention, limits, adaptive precision,
#: progress) -> Trajectory``; :func:`run_native` is kltools' own.
FlowRunner = Callable[[Any, Sequence[object], Fraction, int, KinkConvention, RunLimits, bool,
                       Callable[[float], None] | None], Trajectory]


def run_native(system: FlowSystem, theta0: Sequence[object], t_end: Fraction, dps: int,
               conv: KinkConvention, limits: RunLimits, adaptive: bool,
               progress: Callable[[float], None] | None) -> Trajectory:
    """One run of kltools' flow driver (events, sliding, precision boosts; module docstring)."""
    return _FlowRun(system, theta0, t_end, dps, limits, adaptive, progress).run(conv)


def _runner(system: FlowSystem, backend: str) -> FlowRunner:
    """The driver of ``backend`` for ``system`` (see :func:`integrate`)."""
    if backend == "native":
        return run_native
    if backend == "heyoka":
        from kltools.integrate.heyoka_backend import flow_runner

        return flow_runner(system, run_native)
    raise IntegrationError(f"unknown backend {backend!r}; use native or heyoka")


@dataclass(frozen=True)
class _Precision:
    """The precision schedule (module docstring): working digits ``work`` after ``boosts``
    boosts, and the monitor level ``τ`` (the monitor fires when ‖F‖ falls to ``10^τ``)."""

    dps: int
    work: int
    boosts: int = 0
    tau: int | None = None

    def aimed(self, norm: Any, adaptive: bool) -> _Precision:
        """Set ``τ`` from the current ‖F‖ (at the start, or always without boosts)."""
        if self.tau is not None and adaptive:
            return self
        return replace(self, tau=math.floor(log10abs(norm)) - BOOST_DECADES)

    @property
    def capped(self) -> bool:
        return self.work - self.dps >= MAX_BOOST_DIGITS

    @property
    def monitor_constant(self) -> Fraction:
        assert self.tau is not None
        return Fraction(10) ** (-2 * self.tau)

    def boosted(self) -> _Precision:
        """One boost: ``BOOST_DECADES`` more digits (capped), the monitor a level lower."""
        assert self.tau is not None
        boosts = self.boosts + 1
        work = min(self.dps + (boosts + 1) * BOOST_DECADES, self.dps + MAX_BOOST_DIGITS)
        return _Precision(self.dps, work, boosts, self.tau - BOOST_DECADES)


_ENGINE_OUTCOMES = {
    EngineOutcome.OK: Outcome.OK,
    EngineOutcome.BLOWUP: Outcome.BLOWUP,
    EngineOutcome.MAX_STEPS: Outcome.MAX_STEPS,
    EngineOutcome.TIME_LIMIT: Outcome.TIME_LIMIT,
    EngineOutcome.STALLED: Outcome.STALLED,
    EngineOutcome.STIFF: Outcome.STIFF,
}


class _FlowRun:
    """One flow integration: engine pieces between events, kink transitions, precision boosts;
    :meth:`run` returns the frozen :class:`Trajectory`."""

    def __init__(self, system: FlowSystem, theta0: Sequence[object], t_end: Fraction, dps: int,
                 limits: RunLimits, adaptive: bool,
                 progress: Callable[[float], None] | None) -> None:
        self.system, self.theta0, self.t_end, self.dps = system, list(theta0), t_end, dps
        self.limits, self.adaptive, self.progress = limits, adaptive, progress
        self.labels = [s.label for s in system.d.switches]
        self.out = TrajectoryBuilder(parameters=system.d.problem.parameters, dps=dps,
                                     method="taylor")
        self.pieces: list[Solution] = []
        self.precision = _Precision(dps, dps)
        self.steps = 0
        self.err = 0.0
        self.stationary = False

    def _rates(self, state: Sequence[Any], chi: Sequence[int]) -> list[Any]:
        return self.system.surface_rates(state, chi, self.precision.work)

    def run(self, conv: KinkConvention) -> Trajectory:
        start = time.monotonic()
        system = self.system
        chi = system.pattern(self.theta0, conv, self.dps)
        mode = Mode(chi)
        on_surface = system.zero_surfaces(self.theta0, chi)
        if conv is KinkConvention.FILIPPOV and on_surface:
            tr = start_transition(system.layout, self.labels, self.theta0, mode, on_surface,
                                  self._rates)
            mode = tr.mode
            self.out.events.extend(tr.events)
        t: Any = 0
        x: list[Any] = list(self.theta0)
        outcome: Outcome | None = None
        while outcome is None:
            outcome, mode, t, x, on_surface = self._piece(mode, t, x, on_surface, start)
        if outcome is Outcome.OK and mode.sliding is not None:
            outcome = Outcome.SLIDING
        return self._finish(outcome, mode, time.monotonic() - start)

    def _piece(self, mode: Mode, t: Any, x: list[Any], on_surface: list[int], start: float
               ) -> tuple[Outcome | None, Mode, Any, list[Any], list[int]]:
        """One engine run from ``(t, x)`` in ``mode`` to its end or next event."""
        lay, lim = self.system.layout, self.limits
        remaining = None if lim.wall_time is None else lim.wall_time - (time.monotonic() - start)
        if remaining is not None and remaining <= 0:
            return Outcome.TIME_LIMIT, mode, t, x, on_surface
        prog = self.system.program_for(mode)
        norm = _flow_norm(prog, x, mode, self.precision.work)
        if not norm:  # a critical point: the flow is stationary
            _stationary(self.out, self.system, x, t, self.t_end, mode, self.precision.work)
            self.stationary = True
            return Outcome.STATIONARY, mode, t, x, on_surface
        if not is_finite_number(norm):
            raise IntegrationError(
                f"the vector field is not finite at t = {float(t):.6g} (an overflow in the "
                "objective); rescale the objective or the initialisation")
        self.precision = self.precision.aimed(norm, self.adaptive)
        events = [j for j in lay.surfaces if lay.surface_of(j) != mode.sliding]
        if self.adaptive and not self.precision.capped:
            events.append(lay.monitor)
        if mode.sliding is not None:
            events += [lay.alpha, lay.one_minus_alpha]
        sol = taylor_solve(prog, x, t, self.t_end, dps=self.precision.work,
                           switches=[*mode.chi, self.precision.monitor_constant],
                           event_outputs=events, track_outputs=[lay.loss],
                           uncontrolled=[lay.monitor], on_surface=on_surface,
                           max_steps=max(1, lim.max_steps - self.steps),
                           wall_time=remaining, progress=self.progress)
        self._record(sol)
        t, x = sol.t_final, sol.state
        if sol.outcome is not EngineOutcome.EVENT:
            return self._engine_end(sol), mode, t, x, []
        assert sol.event is not None
        if sol.event.indices == (lay.monitor,):
            self._boost(t)
            return None, mode, t, x, [lay.monitor]
        if len(self.out.events) >= lim.max_events:
            return Outcome.MAX_EVENTS, mode, t, x, []
        tr: Transition = kink_transition(lay, self.labels, sol.event, mode, self._rates)
        self.out.events.extend(tr.events)
        return tr.outcome, tr.mode, t, x, list(tr.restart_on)

    def _record(self, sol: Solution) -> None:
        self.pieces.append(sol)
        self.steps += sol.n_steps
        self.err += _rel_error(sol)
        _record(self.out, sol, self.system, float(self.system.d.flow_scale))

    def _engine_end(self, sol: Solution) -> Outcome:
        outcome = _ENGINE_OUTCOMES[sol.outcome]
        if outcome is Outcome.BLOWUP:
            self.blowup = (sol.blowup_time, float(sol.blowup_time_digits or 0.0))
        if outcome is Outcome.STIFF:
            self.out.info["stiff"] = {
                "t": float(sol.t_final), "step": float(sol.last_step or 0),
                "suggestion": "an explicit Taylor method needs steps of the fastest decaying "
                              "mode here; lower --dps, shorten --t-end, or rescale the fast "
                              "variable"}
        return outcome

    def _boost(self, t: Any) -> None:
        # ‖F‖ fell another BOOST_DECADES decades: more digits from here on (exact restart),
        # one step ahead, so working digits − decades fallen never drops below dps.
        self.precision = p = self.precision.boosted()
        self.out.info.setdefault("precision_boosts", []).append(
            {"t": float(t), "working_dps": p.work})
        if p.capped:
            self.out.info["precision_cap"] = (
                f"working precision capped at {p.work} digits from t = {float(t):.6g}: "
                f"residuals below about 1e-{MAX_BOOST_DIGITS} keep fewer than {self.dps} "
                "significant digits")

    def _finish(self, outcome: Outcome, mode: Mode, wall: float) -> Trajectory:
        self.out.info["working_dps"] = self.precision.work
        self.out.info["pattern"] = list(mode.chi)
        if self.stationary:
            self.out.info["stationary"] = True
        if self.pieces:
            dense = _DenseOutput(self.pieces, self.system.n)
            outputs: dict[str, Any] = {"dense": dense, "velocity": dense.velocity}
        else:
            still = _Still(list(self.out.states[-1]))
            outputs = {"dense": still, "velocity": still.velocity}
        blowup = getattr(self, "blowup", (None, 0.0))
        traj = self.out.build(outcome=outcome, n_steps=self.steps, wall_time=wall,
                              correct_digits=_digits_from_error(self.err, self.dps),
                              blowup_time=blowup[0], blowup_digits=blowup[1], **outputs)
        if self.progress is not None:
            self.progress(float(traj.t))
        return traj


class _DenseOutput:
    """The state (``__call__``) and velocity at any time of the integrated interval, from the
    Taylor polynomials of the steps."""

    def __init__(self, pieces: list[Solution], n: int) -> None:
        self.pieces = pieces
        self.n = n
        self.starts = [p.t0 for p in pieces]
        self.prec = max(p.prec for p in pieces)

    def _at(self, tq: Any) -> tuple[Any, Solution]:
        tv = to_mpfr(to_fraction(tq), self.prec)
        return tv, self.pieces[max(bisect.bisect_right(self.starts, tv) - 1, 0)]

    def __call__(self, tq: Any) -> list[Any]:

        with number_lib("gmpy2", self.prec).enter():
            tv, piece = self._at(tq)
            return piece(tv)

    def velocity(self, tq: Any) -> list[Any]:
        import gmpy2

        with number_lib("gmpy2", self.prec).enter():
            tv, piece = self._at(tq)
            segs = piece.segments
            seg = segs[max(bisect.bisect_right([sg.t0 for sg in segs], tv) - 1, 0)]
            s = tv - seg.t0
            out = []
            for c in seg.coefficients[: self.n]:
                acc = gmpy2.mpfr(0)
                for k in range(len(c) - 1, 0, -1):
                    acc = acc * s + k * c[k]
                out.append(acc)
            return out


class _Still:
    """Dense output of a stationary flow: the same state at every time, velocity 0."""

    def __init__(self, state: list[Any]) -> None:
        self.state = state

    def __call__(self, tq: Any) -> list[Any]:
        return list(self.state)

    def velocity(self, tq: Any) -> list[Any]:
        return [v * 0 for v in self.state]


def _flow_norm(prog: Program, x: Sequence[object], mode: Mode, dps: int) -> Any:
    import gmpy2

    jet = taylor_jet(prog, x, [*mode.chi, 0], order=1, dps=dps, extra=[])
    with number_lib("gmpy2", bits_for_dps(dps)).enter():
        return gmpy2.sqrt(gmpy2.fsum(c[1] * c[1] for c in jet.state))


def _stationary(out: TrajectoryBuilder, system: FlowSystem, x: Sequence[object], t: object,
                t_end: Fraction, mode: Mode, dps: int) -> None:
    """Samples of a flow at rest from ``t`` to ``t_end``."""
    jet = taylor_jet(system.program, x, [*mode.chi, 0], order=0, dps=dps,
                     extra=[system.layout.loss])
    bits = bits_for_dps(dps)
    state = [to_mpfr(c[0], bits) for c in jet.state]
    for tt in (t, t_end):
        if out.times and to_fraction(out.times[-1]) == to_fraction(tt):
            continue
        out.sample(to_mpfr(tt, bits), state, jet.extra[0][0], to_mpfr(0, bits))


def _record(out: TrajectoryBuilder, sol: Solution, system: FlowSystem, scale: float) -> None:

    # gmpy2 arithmetic outside a context runs at 53 bits: work at the solution's precision.
    with number_lib("gmpy2", sol.prec).enter():
        _record_samples(out, sol, system, scale)


def _speed(coeffs: Sequence[Sequence[Any]], s: Any, scale: float) -> Any:
    """‖θ'‖ / s at offset ``s`` into a segment with normalised coefficients ``coeffs``."""
    import gmpy2

    d = [sum(k * c[k] * s ** (k - 1) for k in range(1, len(c))) for c in coeffs]
    return gmpy2.sqrt(gmpy2.fsum(v * v for v in d)) / scale


def _record_samples(out: TrajectoryBuilder, sol: Solution, system: FlowSystem,
                    scale: float) -> None:
    n = system.n
    li = list(sol.outputs).index(system.layout.loss) if sol.outputs else None
    segs = sol.segments
    first = not out.times
    for seg in segs:
        if not first and out.times and seg.t0 <= out.times[-1]:
            continue
        first = False
        coeffs = seg.coefficients
        out.sample(seg.t0, [c[0] for c in coeffs[:n]],
                   coeffs[n + li][0] if li is not None else None,
                   _speed([c[:2] for c in coeffs[:n]], 0, scale))
    end = sol(sol.t_final, outputs=True) if segs else None
    loss = (end[n + li] if end is not None and li is not None
            else (out.losses[-1] if out.losses else None))
    if segs:
        last = segs[-1]
        speed = _speed(last.coefficients[:n], sol.t_final - last.t0, scale)
    else:
        speed = out.grad_norms[-1] if out.grad_norms else 0
    out.sample(sol.t_final, sol.state, loss, speed)


def _rel_error(sol: Solution) -> float:
    size = max([abs(v) for v in sol.state] + [sol.tol * 0 + 1])
    try:
        return float(sol.error_estimate / size)
    except (TypeError, ZeroDivisionError):
        return 0.0


def _digits_from_error(err: float, dps: int) -> float:
    if err <= 0:
        return float(dps)
    return max(0.0, min(float(dps), -math.log10(err)))


def _zero_surfaces(system: FlowSystem, theta0: Sequence[object], chi: Sequence[int]
                   ) -> list[int]:
    """Event outputs whose surface is exactly 0 at the start (decided exactly)."""
    if not system.m:
        return []
    import sympy as sp

    d = system.d
    env = {p: sp.Rational(to_fraction(v).numerator, to_fraction(v).denominator)
           for p, v in zip(d.parameters, theta0, strict=True)}
    env.update(d.on_pattern(chi))
    return [system.layout.surfaces[k] for k, e in enumerate(d.surface_exprs)
            if e.xreplace(env) == 0]
