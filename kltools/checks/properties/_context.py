"""The state a property check shares across initialisations of one problem.

:class:`Checker` holds the derivation and compiled programs (built once per problem) and the
helpers the properties use: the flow (with a horizon chosen by the check when asked), L* at the
end of a trajectory, a counter-example record, the conservation laws to check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import cached_property
from typing import Any

from kltools.checks.properties._base import AUTO, Horizon
from kltools.checks.verdict import Status, Verdict
from kltools.errors import SpecError
from kltools.integrate.flow import FlowSystem, integrate
from kltools.integrate.trajectory import Outcome, Trajectory
from kltools.numbers import format_number, mp_context, to_float, to_fraction, to_mpf
from kltools.spec.problem import Problem
from kltools.symbolic.derivation import derive

__all__ = ["Checker"]

def _parse_time(v: object, what: str) -> Fraction:
    try:
        q = to_fraction(Fraction(str(v)) if isinstance(v, str) else v)
    except (ValueError, ZeroDivisionError, TypeError):
        raise SpecError(f"{what} = {v!r} is not a number; pass e.g. 10 or 1e8",
                        f"--{what.replace('_', '-')}") from None
    if q <= 0:
        raise SpecError(f"{what} must be positive, got {v!r}", f"--{what.replace('_', '-')}")
    return q


class Checker:
    """Checks properties of one problem (derivation and compiled programs built once)."""

    def __init__(self, problem: Problem, system: FlowSystem | None = None) -> None:
        self.problem = problem
        # A system from the program cache (kltools.integrate.cached) skips the derivation
        # until a property reads the symbolic one.
        self.system = system if system is not None else FlowSystem(derive(problem))
        self._why_not: dict[str, str | None] = {}
        self._exponents: dict[Any, Any] = {}  # exact limit point → its exponent result

    def why_not(self, prop: Any) -> str | None:
        """``prop.applies(problem)``, computed once per property."""
        if prop.name not in self._why_not:
            self._why_not[prop.name] = prop.applies(self.problem)
        return self._why_not[prop.name]

    @property
    def d(self) -> Any:
        return self.system.d

    @cached_property
    def rayleigh(self) -> Any:
        from kltools.analysis.rayleigh import RayleighQuotient

        return RayleighQuotient(self.d)

    @cached_property
    def newton(self) -> Any:
        from kltools.analysis.limit import NewtonLimit

        return NewtonLimit(self.system.ev)

    # -- flows ---------------------------------------------------------------------------------
    def pattern_at(self, theta: Sequence[object], dps: int) -> tuple[int, ...]:
        """The activation pattern χ at ``theta`` (right-continuous on a kink); () without kinks."""
        from kltools.symbolic.kinks import KinkConvention

        # FlowSystem.pattern: a cached system decides it from its stored surface program.
        return self.system.pattern(theta, KinkConvention.RIGHT, dps)

    def flow(self, theta0: Sequence[object] | None, t_end: object, dps: int, **kw: Any
             ) -> Trajectory:
        """The flow from ``theta0`` (None: the spec's init) to ``t_end``."""
        return integrate(self.system, theta0, _parse_time(t_end, "t_end"), dps=dps, **kw)

    def flow_until(self, theta0: Sequence[object] | None, t_end: object | None, dps: int,
                   horizon: Horizon, enough: Callable[[Trajectory], bool]) -> Trajectory:
        """The flow to ``t_end`` when given; else to growing horizons until ``enough(traj)``
        or the budget of ``horizon`` is spent (see :class:`Horizon`)."""
        if t_end is not None and t_end != AUTO:
            return self.flow(theta0, t_end, dps)
        deadline = time.monotonic() + horizon.seconds
        T = horizon.start
        while True:
            left = max(1.0, deadline - time.monotonic())
            traj = self.flow(theta0, T, dps, wall_time=left, max_steps=horizon.max_steps)
            # A run ending on a sliding mode reached T; a blow-up or a guard ends the search.
            if (traj.outcome in (Outcome.BLOWUP, Outcome.MAX_STEPS)
                    or traj.info.get("stationary") or enough(traj)
                    or horizon.t_max <= T or time.monotonic() >= deadline):
                return traj
            T = min(T * horizon.growth, horizon.t_max)

    # -- verdicts ------------------------------------------------------------------------------
    def init_of(self, theta0: Sequence[object] | None) -> list[str]:
        theta = list(theta0) if theta0 is not None else list(self.problem.initial_point())
        return [v if isinstance(v, str) else str(to_fraction(v)) for v in theta]

    def counterexample(self, theta0: Sequence[object] | None, detail: str) -> dict[str, Any]:
        from kltools.spec.toml_spec import problem_to_toml

        init = self.init_of(theta0)
        try:
            spec = problem_to_toml(self.problem, init)
        except Exception:
            spec = None
        return {"spec": spec, "init": init, "detail": detail}

    def verdict(self, prop: str, status: Status, evidence: Any, theta0: Sequence[object] | None
                = None, reason: str = "", traj: Trajectory | None = None) -> Verdict:
        """A single-example verdict; a refutation carries the counter-example (``reason`` is
        its detail)."""
        from kltools.checks.properties import get_property

        cx = self.counterexample(theta0, reason) if status is Status.REFUTED else None
        horizon = f"{to_float(traj.t):.6g}" if traj is not None and traj.times else None
        return Verdict(prop, get_property(prop).claim, status, evidence, cx, reason=reason,
                       init=self.init_of(theta0), horizon=horizon, trajectory=traj)

    # -- the limit -----------------------------------------------------------------------------
    def l_star(self, traj: Trajectory, dps: int, given: object | None) -> tuple[Any, str]:
        """L* for the tail: given; the final loss when the flow has stopped (∇L = 0 exactly,
        e.g. every ReLU unit dead); else the loss at the Newton limit of the trajectory's end,
        computed at the run's final working precision so that L − L* keeps its digits."""
        work = int(traj.info.get("working_dps", dps))
        ctx = mp_context(work)
        if given is not None:
            return to_mpf(to_fraction(Fraction(str(given))), ctx), "given"
        if traj.grad_norms and traj.grad_norms[-1] == 0:
            return to_mpf(traj.losses[-1], ctx), "the flow stops: L is constant from then on"
        if traj.outcome is Outcome.SLIDING:
            return self._aitken(traj, work)
        lp = self.newton([to_mpf(v, ctx) for v in traj.theta], traj.info.get("pattern", []),
                         dps=work)
        from kltools.analysis.tail import stalled_near_zero

        if not lp.converged and not stalled_near_zero(lp, traj.grad_norms[-1]):
            return self._fallback(traj, work, "Newton from the end did not converge")
        if lp.loss > to_mpf(traj.losses[-1], ctx) * (1 + ctx.mpf(10) ** (-(work // 2))):
            # L decreases along the flow, so its limit lies below L(T): this is another
            # critical point, not the flow's limit.
            return self._fallback(traj, work, "Newton from the end found a critical point "
                                  "above L(T), not the limit")
        return lp.loss, (f"Newton limit ({lp.iterations} iterations, |grad| "
                         f"{format_number(lp.grad_norm, 3)})")

    def _fallback(self, traj: Trajectory, work: int, why: str) -> tuple[Any, str]:
        """Aitken's Δ² on the loss tail when Newton gives no usable limit (it is exact for a
        geometric tail and refuses a tail that is not geometric)."""
        est, how = self._aitken(traj, work)
        return (None, f"{why}; {how}") if est is None else (est, f"{how} ({why})")

    def _aitken(self, traj: Trajectory, work: int) -> tuple[Any, str]:
        # The limit is not a critical point of a smooth piece (Newton does not apply), but
        # the Filippov flow still decreases L: Aitken's Δ² on L at three equally spaced late
        # times is exact for a geometric tail and says so when the tail is not geometric.
        ctx = mp_context(work)
        T = to_fraction(traj.t)
        vals = [self.loss_at(traj, T * Fraction(k, 10), work) for k in (8, 9, 10)]
        d1, d2 = vals[2] - vals[1], vals[1] - vals[0]
        if d2 == 0 or d1 == d2 or not 0 <= d1 / d2 < 1:
            return None, "the loss tail is not geometric"
        if d1 / d2 < ctx.mpf(10) ** (-8):
            return vals[2], "the flow has converged to rounding: L* is the final loss"
        est = vals[2] - d1 * d1 / (d1 - d2)
        return est, (f"Aitken extrapolation of the loss tail (ratio "
                     f"{to_float(d1 / d2):.4g} per T/10)")

    def loss_at(self, traj: Trajectory, t: Any, dps: int) -> Any:
        """L(θ(t)) from the dense output, at ``dps`` digits."""
        from kltools.symbolic.kinks import KinkConvention

        ctx = mp_context(dps)
        ev = self.system.ev
        state = [to_mpf(v, ctx) for v in traj(t)]
        chi = ev.pattern(state, KinkConvention.RIGHT, dps) if self.system.m else ()
        return to_mpf(ev.loss(state, chi, dps=dps), ctx)

    def samples(self, traj: Trajectory, dps: int, n: int = 120) -> tuple[list[Any], list[Any]]:
        """(L, ‖∇L‖) at the step ends and at ``n`` dense-output times, log-spaced over the last
        six decades of t and evenly spaced over [T/2, T], in time order: a tail fit needs
        samples in every decade, and a Taylor step of an exponential tail can span several."""
        from kltools.compiled.pointwise import compile_program
        from kltools.symbolic.kinks import KinkConvention

        if traj.dense is None or not traj.times:
            return list(traj.losses), list(traj.grad_norms)
        ctx = mp_context(dps)
        T = to_fraction(traj.t)
        lo = max(to_fraction(traj.times[1]) if len(traj.times) > 1 else T / 2, T / 10 ** 6)
        ratio = (T / lo) ** (1 / (n // 2)) if lo < T else 1
        ts = {to_fraction(t) for t in traj.times}
        ts |= {Fraction(lo) * Fraction(ratio ** k).limit_denominator(10 ** 9) for k in
               range(n // 2)}
        ts |= {T / 2 + T / 2 * Fraction(k, n // 2) for k in range(n // 2 + 1)}
        f = compile_program(self.system.ev.gradient_program, "mpmath", dps)
        losses, grads = [], []
        for t in sorted(q for q in ts if 0 <= q <= T):
            x = [to_mpf(v, ctx) for v in traj(t)]
            chi = self.system.ev.pattern(x, KinkConvention.RIGHT, dps) if self.system.m else ()
            out = f(x, list(chi))
            losses.append(out[-1])
            grads.append(ctx.sqrt(ctx.fsum(g * g for g in out[:-1])))
        return losses, grads

    def limit(self, traj: Trajectory, dps: int) -> Any:
        """:func:`~kltools.analysis.tail.limit_facts` at the end of ``traj`` (None off a smooth
        end: sliding, stopped or non-convergent Newton)."""
        from kltools.analysis.tail import limit_facts

        if traj.outcome is Outcome.SLIDING or not traj.times:
            return None
        work = int(traj.info.get("working_dps", dps))
        ctx = mp_context(work)
        end = [to_mpf(v, ctx) for v in traj.theta]
        mid = [to_mpf(v, ctx) for v in traj(to_fraction(traj.t) / 2)]
        motion = max(abs(a - b) for a, b in zip(end, mid, strict=True))
        return limit_facts(self.problem, self.system, end, traj.info.get("pattern", []), work,
                           motion, self._exponents)

    def laws(self) -> list[tuple[str, Any]]:
        """The conservation laws to check: those :func:`kltools.symbolic.laws.conservation_laws`
        finds (degree ≤ 2, every law of the architecture when ``complete``), else the candidate
        balancedness laws (unsupported activations such as tanh, where they fail)."""
        from kltools.errors import DerivationError
        from kltools.symbolic.identities import balancedness_laws
        from kltools.symbolic.laws import conservation_laws

        d = self.d
        by_name = {str(p): p for p in d.parameters}
        try:
            found = conservation_laws(self.problem, 2, prove=False)
        except DerivationError:
            found = None
        if found is not None and found.laws:
            return [(f"law[{i}]: {h}", h.xreplace({s: by_name[str(s)] for s in h.free_symbols}))
                    for i, h in enumerate(found.laws, start=1)]
        return [(name, h) for name, _, h in balancedness_laws(d)]
