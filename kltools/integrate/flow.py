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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kltools.compiled.jets import taylor_jet
from kltools.compiled.program import Program
from kltools.errors import IntegrationError
from kltools.integrate.taylor import Outcome as EngineOutcome
from kltools.integrate.taylor import Solution, taylor_solve
from kltools.integrate.trajectory import FlowEvent, Outcome, Trajectory
from kltools.numbers import to_fraction
from kltools.symbolic.kinks import KinkConvention

if TYPE_CHECKING:
    import sympy as sp

    from kltools.spec.problem import Problem
    from kltools.symbolic.derivation import Derivation

# SymPy, the derivation and the evaluators are imported where they are used: a flow system
# loaded from the program cache (kltools.integrate.cached) integrates without importing SymPy.

__all__ = ["BOOST_DECADES", "FlowSystem", "integrate", "provenance"]

BOOST_DECADES = 5
MAX_BOOST_DIGITS = 120


def _tau_symbol() -> sp.Symbol:
    """The runtime constant of the precision monitor (a switch slot after the χ's)."""
    import sympy as sp

    return sp.Symbol("_tau", real=True)


@dataclass
class _Mode:
    """What the engine integrates now: the smooth pattern, or sliding on one surface."""

    chi: list[int]
    sliding: int | None = None  # index of the surface slid on


class FlowSystem:
    """The programs the flow needs for one derivation (built once, reused across runs).

    Smooth program outputs: ``[F_1..F_P, L, s_1..s_m, monitor]`` with switches ``χ`` and ``τ``.
    """

    def __init__(self, derivation: Derivation) -> None:
        self.d = derivation
        self.n = len(derivation.parameters)
        self.m = len(derivation.switches)

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
        return self.ev.pattern(theta, convention, dps)

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

    @property
    def loss_index(self) -> int:
        return self.n

    @property
    def surface_indices(self) -> list[int]:
        return list(range(self.n + 1, self.n + 1 + self.m))

    @property
    def monitor_index(self) -> int:
        return self.n + 1 + self.m

    def sliding_program(self, k: int) -> Program:
        """Program of the Filippov field on surface k: outputs ``[F_α, L, s_j (j ≠ k as
        placeholders for k), monitor, α, 1 − α]`` with the same switch layout."""
        return self._sliding(k)

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
                         extra=self.surface_indices)
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
        Guards; exceeding one ends the run with outcome ``max_steps``.
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
        run = _flow
        if backend == "heyoka":
            from kltools.integrate.heyoka_backend import flow_runner

            run = flow_runner(system, _flow)
        elif backend != "native":
            raise IntegrationError(f"unknown backend {backend!r}; use native or heyoka")
        traj = run(system, theta, te, dps, conv, max_steps, max_events, wall_time,
                   adaptive_precision, progress)
        if verify:
            hi = dps + max(10, dps // 2)
            ref = run(system, theta, te, hi, conv, max_steps, max_events, wall_time,
                        adaptive_precision, None)
            traj.correct_digits = min(_agreement(traj.theta, ref.theta), float(dps))
            traj.verified = True
            traj.info["verify_dps"] = hi
            if traj.outcome is Outcome.BLOWUP and ref.blowup_time is not None:
                traj.blowup_digits = min(traj.blowup_digits,
                                         _agreement([traj.blowup_time], [ref.blowup_time]))
    else:
        raise IntegrationError(f"unknown method {method!r}; use taylor or gd")
    traj.info["reproduce"] = provenance(prob, theta, dps=dps, method=method, eta=eta,
                                        convention=conv.value, t_end=str(t_end))
    if throw:
        traj.raise_for_outcome()
    return traj


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


def _agreement(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Significant digits on which two states agree (max-norm, relative to the larger)."""
    import math

    import gmpy2

    with gmpy2.context(precision=4 * 3400):
        big = max(abs(gmpy2.mpfr(x) - gmpy2.mpfr(y)) for x, y in zip(a, b, strict=True))
        scale = max(abs(gmpy2.mpfr(y)) for y in b)
    if big == 0:
        return math.inf
    if scale == 0:
        return 0.0
    with gmpy2.context(precision=4 * 3400):
        return max(0.0, -_log10(big / scale))


def _flow(system: FlowSystem, theta0: Sequence[object], t_end: Fraction, dps: int,
          conv: KinkConvention, max_steps: int, max_events: int, wall_time: float | None,
          adaptive: bool, progress: Callable[[float], None] | None) -> Trajectory:
    import gmpy2

    start = time.monotonic()
    n, m = system.n, system.m
    prob = system.d.problem
    chi = list(system.pattern(theta0, conv, dps)) if m else []
    on_surface = system.zero_surfaces(theta0, chi)
    traj = Trajectory(parameters=prob.parameters, dps=dps, method="taylor")
    pieces: list[Solution] = []
    mode = _Mode(chi)
    if conv is KinkConvention.FILIPPOV and on_surface:
        _filippov_start(system, theta0, mode, on_surface, traj, dps)
    t: object = 0
    x: list[object] = list(theta0)
    work = dps
    boosts = 0
    steps = 0
    err = 0.0
    outcome = Outcome.OK
    scale = float(system.d.flow_scale)
    tau = None
    while True:
        remaining_time = None if wall_time is None else wall_time - (time.monotonic() - start)
        if remaining_time is not None and remaining_time <= 0:
            outcome = Outcome.MAX_STEPS
            break
        prog = system.program if mode.sliding is None else system._sliding(mode.sliding)
        norm = _flow_norm(system, prog, x, mode, work)
        if norm == 0:  # a critical point: the flow is stationary
            _stationary(traj, system, x, t, t_end, mode, work)
            break
        if tau is None or not adaptive:
            tau = _decade(norm) - BOOST_DECADES
        scale_c = Fraction(10) ** (-2 * tau)
        events = [j for j in system.surface_indices if j - n - 1 != mode.sliding]
        if adaptive and work - dps < MAX_BOOST_DIGITS:
            events.append(system.monitor_index)
        if mode.sliding is not None:
            events += [system.monitor_index + 1, system.monitor_index + 2]
        sol = taylor_solve(prog, x, t, t_end, dps=work, switches=[*mode.chi, scale_c],
                           event_outputs=events, track_outputs=[system.loss_index],
                           uncontrolled=[system.monitor_index],
                           on_surface=on_surface, max_steps=max(1, max_steps - steps),
                           wall_time=remaining_time, progress=progress)
        pieces.append(sol)
        steps += sol.n_steps
        err += _rel_error(sol)
        _record(traj, sol, system, scale)
        x, t = sol.state, sol.t_final
        on_surface = []
        if sol.outcome is EngineOutcome.OK:
            break
        if sol.outcome is EngineOutcome.BLOWUP:
            outcome = Outcome.BLOWUP
            traj.blowup_time = sol.blowup_time
            traj.blowup_digits = float(sol.blowup_time_digits or 0.0)
            break
        if sol.outcome is not EngineOutcome.EVENT:
            outcome = Outcome.MAX_STEPS
            traj.info["engine"] = sol.outcome.value
            break
        hit = sol.event
        assert hit is not None
        if hit.indices == (system.monitor_index,):
            # ‖F‖ fell another BOOST_DECADES decades: more digits from here on (exact restart),
            # one step ahead, so working digits − decades fallen never drops below dps.
            boosts += 1
            work = min(dps + (boosts + 1) * BOOST_DECADES, dps + MAX_BOOST_DIGITS)
            tau -= BOOST_DECADES
            traj.info.setdefault("precision_boosts", []).append(
                {"t": float(t), "working_dps": work})
            if work - dps >= MAX_BOOST_DIGITS:
                traj.info["precision_cap"] = (
                    f"working precision capped at {work} digits from t = {float(t):.6g}: "
                    f"residuals below about 1e-{MAX_BOOST_DIGITS} keep fewer than {dps} "
                    "significant digits")
            on_surface = [system.monitor_index]
            continue
        if len(traj.events) >= max_events:
            outcome = Outcome.MAX_STEPS
            traj.info["engine"] = "max_events"
            break
        on_surface = _handle_event(system, hit, mode, traj, work)
        if mode.sliding is not None:
            outcome = Outcome.SLIDING
        elif outcome is Outcome.SLIDING:
            outcome = Outcome.OK
    traj.outcome = outcome if outcome is not Outcome.OK or mode.sliding is None \
        else Outcome.SLIDING
    traj.n_steps = steps
    traj.wall_time = time.monotonic() - start
    traj.correct_digits = _digits_from_error(err, traj)
    traj.info["working_dps"] = work
    traj.info["pattern"] = list(mode.chi)
    starts = [p.t0 for p in pieces]

    def dense(tq: Any) -> list[Any]:
        q = to_fraction(tq)
        with gmpy2.context(precision=max(p.prec for p in pieces)):
            tv = gmpy2.mpfr(q.numerator) / q.denominator
            i = max(bisect.bisect_right(starts, tv) - 1, 0)
            return pieces[i](tv)

    def velocity(tq: Any) -> list[Any]:
        q = to_fraction(tq)
        with gmpy2.context(precision=max(p.prec for p in pieces)):
            tv = gmpy2.mpfr(q.numerator) / q.denominator
            i = max(bisect.bisect_right(starts, tv) - 1, 0)
            segs = pieces[i].segments
            j = max(bisect.bisect_right([sg.t0 for sg in segs], tv) - 1, 0)
            seg = segs[j]
            s = tv - seg.t0
            out = []
            for c in seg.coefficients[:n]:
                acc = gmpy2.mpfr(0)
                for k in range(len(c) - 1, 0, -1):
                    acc = acc * s + k * c[k]
                out.append(acc)
            return out

    traj.dense = dense
    traj.velocity = velocity
    if progress is not None:
        progress(float(traj.t))
    return traj


def _decade(norm: Any) -> int:
    import math

    return math.floor(_log10(norm))


def _log10(v: Any) -> float:
    import gmpy2

    return float(gmpy2.log10(gmpy2.mpfr(v)))


def _flow_norm(system: FlowSystem, prog: Program, x: Sequence[object], mode: _Mode,
               dps: int) -> Any:
    import gmpy2

    jet = taylor_jet(prog, x, [*mode.chi, 0], order=1, dps=dps, extra=[])
    return gmpy2.sqrt(gmpy2.fsum(c[1] * c[1] for c in jet.state))


def _stationary(traj: Trajectory, system: FlowSystem, x: Sequence[object], t: object,
                t_end: Fraction, mode: _Mode, dps: int) -> None:
    import gmpy2

    jet = taylor_jet(system.program, x, [*mode.chi, 0], order=0, dps=dps,
                     extra=[system.loss_index])
    with gmpy2.context(precision=int(dps * 3.33) + 20):
        te = gmpy2.mpfr(t_end.numerator) / t_end.denominator
        for tt in (t, te):
            traj.times.append(gmpy2.mpfr(tt) if not isinstance(tt, gmpy2.mpfr) else tt)
            traj.states.append([gmpy2.mpfr(v) if not isinstance(v, gmpy2.mpfr) else v
                                for v in (c[0] for c in jet.state)])
            traj.losses.append(jet.extra[0][0])
            traj.grad_norms.append(gmpy2.mpfr(0))
    traj.info["stationary"] = True


def _record(traj: Trajectory, sol: Solution, system: FlowSystem, scale: float) -> None:
    import gmpy2

    # gmpy2 arithmetic outside a context runs at 53 bits: work at the solution's precision.
    with gmpy2.context(precision=sol.prec):
        _record_samples(traj, sol, system, scale)


def _record_samples(traj: Trajectory, sol: Solution, system: FlowSystem, scale: float) -> None:
    import gmpy2

    n = system.n
    li = list(sol.outputs).index(system.loss_index) if sol.outputs else None
    segs = sol.segments
    first = not traj.times
    for seg in segs:
        if not first and traj.times and seg.t0 <= traj.times[-1]:
            continue
        first = False
        coeffs = seg.coefficients
        traj.times.append(seg.t0)
        traj.states.append([c[0] for c in coeffs[:n]])
        traj.losses.append(coeffs[n + li][0] if li is not None else None)
        traj.grad_norms.append(gmpy2.sqrt(gmpy2.fsum(c[1] * c[1] for c in coeffs[:n]))
                               / scale)
    end = sol(sol.t_final, outputs=True) if segs else None
    traj.times.append(sol.t_final)
    traj.states.append(list(sol.state))
    traj.losses.append(end[n + li] if end is not None and li is not None else
                       (traj.losses[-1] if traj.losses else None))
    if segs:
        last = segs[-1]
        d = [sum(k * c[k] * (sol.t_final - last.t0) ** (k - 1) for k in range(1, len(c)))
             for c in last.coefficients[:n]]
        traj.grad_norms.append(gmpy2.sqrt(gmpy2.fsum(v * v for v in d)) / scale)
    else:
        traj.grad_norms.append(traj.grad_norms[-1] if traj.grad_norms else 0)


def _rel_error(sol: Solution) -> float:
    import gmpy2

    size = max([abs(v) for v in sol.state] + [gmpy2.mpfr(1)])
    try:
        return float(sol.error_estimate / size)
    except (TypeError, ZeroDivisionError):
        return 0.0


def _digits_from_error(err: float, traj: Trajectory) -> float:
    import math

    if err <= 0:
        return float(traj.dps)
    return max(0.0, min(float(traj.dps), -math.log10(err)))


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
    return [system.surface_indices[k] for k, e in enumerate(d.surface_exprs)
            if e.xreplace(env) == 0]


def _filippov_start(system: FlowSystem, theta0: Sequence[object], mode: _Mode,
                    on_surface: list[int], traj: Trajectory, dps: int) -> None:
    """Choose the side (or sliding mode) of each surface the start lies on from the fields on
    both sides: χ = 1 if the χ = 1 field leaves into s > 0, χ = 0 if the χ = 0 field leaves
    into s < 0, sliding if both push into the surface."""
    labels = [s.label for s in system.d.switches]
    for j in on_surface:
        k = j - system.n - 1
        up = list(mode.chi)
        up[k] = 1
        down = list(mode.chi)
        down[k] = 0
        g1 = system.surface_rates(theta0, up, dps)[k]
        g0 = system.surface_rates(theta0, down, dps)[k]
        if g1 > 0:
            mode.chi[k] = 1
        elif g0 < 0:
            mode.chi[k] = 0
        elif mode.sliding is None and g0 >= 0 >= g1 and g0 > g1:
            mode.sliding = k
            traj.events.append(FlowEvent(0, "sliding", (k,), (labels[k],)))
        else:
            raise IntegrationError(
                f"the start lies on the kink {labels[k]} where the flow is tangent to it or "
                "slides on several surfaces at once; perturb the initialisation")


def _handle_event(system: FlowSystem, hit: Any, mode: _Mode, traj: Trajectory, dps: int
                  ) -> list[int]:
    """Classify the event, update the mode, log it; return the surfaces the restart is on."""
    n = system.n
    labels = [s.label for s in system.d.switches]
    exit_alpha = {system.monitor_index + 1: 0, system.monitor_index + 2: 1}
    if mode.sliding is not None and any(j in exit_alpha for j in hit.indices):
        k = mode.sliding
        j = next(j for j in hit.indices if j in exit_alpha)
        mode.chi[k] = exit_alpha[j]
        mode.sliding = None
        traj.events.append(FlowEvent(hit.t, "sliding-exit", (k,), (labels[k],)))
        return [system.surface_indices[k]]
    ks = [j - n - 1 for j in hit.indices if n + 1 <= j < n + 1 + system.m]
    new = list(mode.chi)
    for k, direction in zip(ks, hit.directions, strict=False):
        new[k] = 1 if direction > 0 else 0
    rates = system.surface_rates(hit.state, new, dps) if mode.sliding is None else None
    slide = []
    if rates is not None:
        for k, direction in zip(ks, hit.directions, strict=False):
            if rates[k] * direction < 0:
                slide.append(k)
    kind = "simultaneous" if len(ks) > 1 else "crossing"
    if mode.sliding is not None:
        # A crossing of another surface while sliding: flip it and keep sliding.
        for k in ks:
            mode.chi[k] = new[k]
        traj.events.append(FlowEvent(hit.t, kind, tuple(ks), tuple(labels[k] for k in ks)))
        return [system.surface_indices[k] for k in ks]
    if not slide:
        mode.chi[:] = new
        traj.events.append(FlowEvent(hit.t, kind, tuple(ks), tuple(labels[k] for k in ks)))
        return [system.surface_indices[k] for k in ks]
    if len(ks) > 1:
        traj.events.append(FlowEvent(hit.t, "simultaneous", tuple(ks),
                                     tuple(labels[k] for k in ks)))
        raise IntegrationError(
            f"at t = {float(hit.t):.6g} the flow slides on the intersection of {len(ks)} kink "
            "surfaces (codimension >= 2), which kltools does not integrate; perturb the "
            "initialisation")
    k = slide[0]
    mode.sliding = k
    traj.events.append(FlowEvent(hit.t, "sliding", (k,), (labels[k],)))
    return []
