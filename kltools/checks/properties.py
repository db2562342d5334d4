"""Properties of gradient flows as functions returning a :class:`Verdict`.

Each property integrates the flow from one initial point (or takes a trajectory the caller
computed) and checks one claim of THEORY.md along it. Thresholds are stated in digits: with
``digits`` the correct digits of the computed flow, a discrepancy below 10^-(digits − 5) is
agreement, one above 10^-(digits/2) is a refutation, anything between is inconclusive. Every
property has a negative control in the tests (a false claim it refutes).

=========================  ======================================================================
name                     claim
=========================  ======================================================================
``energy``               L(t_{i+1}) − L(t_i) = −(1/s)∫‖θ'‖² over every step
``no-blowup``            no blow-up before the horizon, ‖θ(t) − θ(0)‖ ≤ √(s t (L(θ0) − L(θ(t))))
``lojasiewicz``          |L − L*|^a ≤ C‖∇L‖ along the tail (a given, or estimated)
``linear-convergence``   log(L − L*) asymptotically linear in t, at a rate ≥ (2s/n)·min R
``rayleigh-identity``    L(t) = L(0)·exp(−(2s/n)∫₀ᵗ R(θ(τ)) dτ) (square loss)
``conservation``         the balancedness laws are constant along the flow
``directional-convergence``  margins non-decreasing, θ/‖θ‖ settling, cos(θ, −∇L) → 1
``codim2``               no two kink surfaces are crossed at the same instant
``gd-vs-flow``           gradient descent with step η stays within O(η) of the flow
=========================  ======================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sympy as sp

from kltools.analysis.alongflow import cumulative_integral, local_slopes, tail_fit
from kltools.analysis.limit import NewtonLimit
from kltools.analysis.rayleigh import RayleighQuotient
from kltools.checks.verdict import Status, Verdict
from kltools.compiled.pointwise import compile_program, mp_context
from kltools.compiled.program import program_from_sympy
from kltools.errors import NotApplicableError
from kltools.integrate.flow import FlowSystem, integrate
from kltools.integrate.trajectory import Outcome, Trajectory, _num
from kltools.spec.problem import Problem
from kltools.spec.toml_spec import problem_to_toml
from kltools.symbolic.derivation import derive
from kltools.symbolic.identities import balancedness_laws

__all__ = ["PROPERTIES", "Checker", "check_property"]


_STATIONARY = ("the start is a critical point (∇L = 0 exactly): the flow is stationary and the "
               "claim holds trivially")


def _f(v: Any) -> float:
    return float(str(v)) if not isinstance(v, float | int) else float(v)


def _log10(v: Any) -> float:
    x = abs(_f(v))
    return math.log10(x) if x > 0 else -math.inf


@dataclass(frozen=True)
class _Spec:
    name: str
    claim: str
    default_t_end: str
    run: Callable[..., Verdict]


class Checker:
    """Checks properties of one problem (derivation and compiled programs built once)."""

    def __init__(self, problem: Problem, system: FlowSystem | None = None) -> None:
        self.problem = problem
        # A system from the program cache (kltools.integrate.cached) skips the derivation
        # until a property reads the symbolic one.
        self.system = system if system is not None else FlowSystem(derive(problem))

    @property
    def d(self) -> Any:
        return self.system.d

    @cached_property
    def rayleigh(self) -> RayleighQuotient:
        return RayleighQuotient(self.d)

    @cached_property
    def newton(self) -> NewtonLimit:
        return NewtonLimit(self.system.ev)

    # -- helpers -------------------------------------------------------------------------------
    def flow(self, theta0: Sequence[object] | None, t_end: object, dps: int, **kw: Any
             ) -> Trajectory:
        return integrate(self.system, theta0, t_end, dps=dps, **kw)

    def counterexample(self, theta0: Sequence[object] | None, detail: str) -> dict[str, Any]:
        theta = list(theta0) if theta0 is not None else list(self.problem.initial_point())
        init = [str(sp.Rational(str(v))) if not isinstance(v, str) else v for v in theta]
        try:
            spec = problem_to_toml(self.problem, init)
        except Exception:
            spec = None
        return {"spec": spec, "init": init, "detail": detail}

    def verdict(self, name: str, status: Status, evidence: dict[str, Any],
                theta0: Sequence[object] | None = None, detail: str = "") -> Verdict:
        cx = self.counterexample(theta0, detail) if status is Status.REFUTED else None
        return Verdict(name, PROPERTIES[name].claim, status, evidence, cx)

    def l_star(self, traj: Trajectory, dps: int, given: object | None) -> tuple[Any, str]:
        """L* for the tail: given; the final loss when the flow has stopped (∇L = 0 exactly,
        e.g. every ReLU unit dead); else the loss at the Newton limit of the trajectory's end,
        computed at the run's final working precision so that L − L* keeps its digits."""
        work = int(traj.info.get("working_dps", dps))
        ctx = mp_context(work)
        if given is not None:
            return ctx.mpf(str(given)), "given"
        if traj.grad_norms and traj.grad_norms[-1] == 0:
            return ctx.mpf(str(traj.losses[-1])), "the flow stops: L is constant from then on"
        if traj.outcome is Outcome.SLIDING:
            # The limit is not a critical point of a smooth piece (Newton does not apply), but
            # the Filippov flow still decreases L: Aitken's Δ² on L at three equally spaced late
            # times is exact for a geometric tail and says so when the tail is not geometric.
            T = ctx.mpf(str(traj.t))
            pts = [T * ctx.mpf(k) / 10 for k in (8, 9, 10)]
            vals = [self._loss_at(traj, tq, work) for tq in pts]
            d1, d2 = vals[2] - vals[1], vals[1] - vals[0]
            if d2 == 0 or d1 == d2 or not 0 <= d1 / d2 < 1:
                return None, "the flow ends sliding and its loss tail is not geometric"
            if d1 / d2 < ctx.mpf(10) ** (-8):
                # Converged to rounding within the last tenth: the final loss is L*.
                return vals[2], "the sliding flow has converged: L* is the final loss"
            est = vals[2] - d1 * d1 / (d1 - d2)
            return est, "Aitken extrapolation of the sliding tail (ratio " \
                f"{_f(d1 / d2):.4g} per T/10)"
        chi = traj.info.get("pattern", [])
        lp = self.newton([ctx.mpf(str(v)) for v in traj.theta], chi, dps=work)
        if not lp.converged:
            return None, "Newton from the end did not converge"
        if lp.loss > ctx.mpf(str(traj.losses[-1])) * (1 + ctx.mpf(10) ** (-(work // 2))):
            # L decreases along the flow, so its limit lies below L(T): this is another
            # critical point, not the flow's limit.
            return None, "Newton from the end found a critical point above L(T), not the limit"
        return lp.loss, f"Newton limit ({lp.iterations} iterations, |grad| {_num(lp.grad_norm, 3)})"

    def _laws(self) -> list[tuple[str, sp.Expr]]:
        """The conservation laws to check: those :func:`kltools.symbolic.laws.conservation_laws`
        finds (degree ≤ 2, every law of the architecture when ``complete``), else the candidate
        balancedness laws (unsupported activations such as tanh, where they fail)."""
        from kltools.errors import DerivationError
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

    def _loss_at(self, traj: Trajectory, t: Any, dps: int) -> Any:
        ctx = mp_context(dps)
        ev = self.system.ev
        state = [ctx.mpf(str(v)) for v in traj(t)]
        from kltools.symbolic.kinks import KinkConvention

        chi = ev.pattern(state, KinkConvention.RIGHT, dps) if self.system.m else ()
        return ctx.mpf(str(ev.loss(state, chi, dps=dps)))

    # -- properties ----------------------------------------------------------------------------
    def energy(self, theta0: Sequence[object] | None = None, *, t_end: object = 2,
               dps: int = 30, claimed_scale: object | None = None) -> Verdict:
        s_true = self.d.flow_scale
        s = sp.Rational(str(claimed_scale)) if claimed_scale is not None else s_true
        traj = self.flow(theta0, t_end, dps)
        ctx = mp_context(dps + 10)
        v2 = cumulative_integral(
            traj, lambda t: ctx.fsum(ctx.mpf(str(v)) ** 2 for v in traj.velocity(t)),
            dps=dps + 10)
        worst = ctx.mpf(0)
        scale = max(abs(ctx.mpf(str(v))) for v in traj.losses) or ctx.mpf(1)
        where = None
        for i in range(1, len(traj.times)):
            dl = ctx.mpf(str(traj.losses[i])) - ctx.mpf(str(traj.losses[i - 1]))
            pred = -(v2[i] - v2[i - 1]) / (ctx.mpf(int(s.p)) / int(s.q))
            err = abs(dl - pred) / scale
            if err > worst:
                worst, where = err, traj.times[i]
        digits = traj.correct_digits
        status = _classify(worst, digits)
        ev = {"max relative discrepancy": _num(worst, 3), "steps": len(traj.times) - 1,
              "flow digits": round(digits, 1), "scale checked": str(s),
              "flow scale": str(s_true)}
        return self.verdict("energy", status, ev, theta0,
                            f"discrepancy {_num(worst, 3)} at t = {_num(where, 8)}")

    def no_blowup(self, theta0: Sequence[object] | None = None, *, t_end: object = 10,
                  dps: int = 30) -> Verdict:
        traj = self.flow(theta0, t_end, dps)
        if traj.outcome is Outcome.BLOWUP:
            return self.verdict("no-blowup", Status.REFUTED,
                                {"blowup_time": _num(traj.blowup_time, 12),
                                 "blowup_time_digits": round(traj.blowup_digits, 1)}, theta0,
                                f"blow-up at t* = {_num(traj.blowup_time, 12)}")
        if traj.outcome is Outcome.MAX_STEPS:
            return self.verdict("no-blowup", Status.INCONCLUSIVE,
                                {"reason": "the run hit a step or time limit before t_end"})
        ctx = mp_context(dps)
        s = ctx.mpf(str(self.d.flow_scale))
        th0 = [ctx.mpf(str(v)) for v in traj.states[0]]
        l0 = ctx.mpf(str(traj.losses[0]))
        worst = -ctx.inf
        for t, th, loss in zip(traj.times, traj.states, traj.losses, strict=True):
            dist = ctx.sqrt(ctx.fsum((ctx.mpf(str(a)) - b) ** 2 for a, b in zip(th, th0,
                                                                              strict=True)))
            bound = ctx.sqrt(max(ctx.mpf(0), s * ctx.mpf(str(t)) * (l0 - ctx.mpf(str(loss)))))
            worst = max(worst, dist - bound)
        tol = ctx.mpf(10) ** (-(traj.correct_digits - 5))
        status = Status.HOLDS if worst <= tol else Status.REFUTED
        return self.verdict("no-blowup", status,
                            {"t_end": str(t_end), "outcome": traj.outcome.value,
                             "max(dist - energy bound)": _num(worst, 3),
                             "final |theta|": _num(ctx.norm([ctx.mpf(str(v))
                                                             for v in traj.theta]), 6)},
                            theta0, "the energy bound is violated")

    def lojasiewicz(self, theta0: Sequence[object] | None = None, *, t_end: object = 30,
                    dps: int = 30, exponent: object | None = None,
                    l_star: object | None = None) -> Verdict:
        traj = self.flow(theta0, t_end, dps)
        if traj.info.get("stationary"):
            return self.verdict("lojasiewicz", Status.HOLDS, {"note": _STATIONARY})
        ls, how = self.l_star(traj, dps, l_star)
        if ls is None:
            return self.verdict("lojasiewicz", Status.INCONCLUSIVE, {"reason": how})
        work = int(traj.info.get("working_dps", dps))
        floor = -(work - 10) + _log10(max(1.0, abs(_f(ls))))  # L − L* below this is rounding
        gap = [_log10(_mp(v, work) - ls) for v in traj.losses]
        grad = [_log10(g) for g in traj.grad_norms]
        pts = [(a, b) for a, b in zip(gap, grad, strict=True)
               if math.isfinite(a) and math.isfinite(b) and floor < a < gap[0] - 2]
        if len(pts) < 5 or pts[0][0] - pts[-1][0] < 3:
            return self.verdict("lojasiewicz", Status.INCONCLUSIVE, {
                "reason": "the tail spans fewer than 3 decades of L - L*; raise t_end",
                "L*": _num(ls, 6)})
        x = [a for a, _ in pts]
        y = [b for _, b in pts]
        try:
            alpha_est, _, _ = tail_fit(x[len(x) // 2:], y[len(y) // 2:])
        except ValueError as exc:
            return self.verdict("lojasiewicz", Status.INCONCLUSIVE, {"reason": str(exc)})
        if not 0.3 <= alpha_est <= 1.05:
            # Łojasiewicz exponents lie in [1/2, 1): a fit far outside is not the asymptotic
            # regime (a tail still in transit, or L* estimated badly), not evidence.
            return self.verdict("lojasiewicz", Status.INCONCLUSIVE, {
                "reason": f"the tail fit gives {alpha_est:.3f}, outside [1/2, 1): the tail is "
                          "not asymptotic yet or L* is off; raise t_end or pass l_star",
                "L*": _num(ls, 8), "L* from": how})
        a = float(sp.Rational(str(exponent))) if exponent is not None else \
            math.ceil(alpha_est * 1000) / 1000
        ratio = [a * xi - yi for xi, yi in zip(x, y, strict=True)]  # log10(|L−L*|^a/|∇L|)
        slope, _, _ = tail_fit(x[len(x) // 2:], ratio[len(ratio) // 2:])  # same abscissae
        growth = max(ratio[len(ratio) // 2:]) - ratio[len(ratio) // 2]
        ev = {"exponent checked": f"{a:g}", "estimated exponent (tail fit)": f"{alpha_est:.4f}",
              "L*": _num(ls, 8), "L* from": how,
              "tail decades of L - L*": round(x[0] - x[-1], 1),
              "C (max ratio on tail)": f"{10 ** max(ratio[len(ratio) // 2:]):.4g}",
              "slope of log ratio vs log(L - L*)": f"{slope:.4f}"}
        if slope < -0.01 and growth > 0.3:
            # The ratio |L−L*|^a/|∇L| grows without bound as L → L*: no C works.
            worst = max(range(len(ratio)), key=lambda i: ratio[i])
            ev["witness"] = [{"log10(L-L*)": round(x[i], 3), "log10 ratio": round(ratio[i], 3)}
                             for i in range(len(ratio) // 2, len(ratio), max(1, len(ratio) // 8))]
            return self.verdict("lojasiewicz", Status.REFUTED, ev, theta0,
                                f"|L-L*|^{a:g}/|grad L| reaches 10^{ratio[worst]:.2f} and grows "
                                "as L -> L*")
        status = Status.HOLDS if slope >= -0.01 else Status.INCONCLUSIVE
        return self.verdict("lojasiewicz", status, ev)

    def linear_convergence(self, theta0: Sequence[object] | None = None, *,
                           t_end: object = 30, dps: int = 30,
                           l_star: object | None = None) -> Verdict:
        traj = self.flow(theta0, t_end, dps)
        if traj.info.get("stationary"):
            return self.verdict("linear-convergence", Status.HOLDS, {"note": _STATIONARY})
        ls, how = self.l_star(traj, dps, l_star)
        if ls is None:
            return self.verdict("linear-convergence", Status.INCONCLUSIVE, {"reason": how})
        t = [_f(v) for v in traj.times]
        y = [_log10(_mp(v, dps) - ls) for v in traj.losses]
        keep = [(a, b) for a, b in zip(t, y, strict=True) if math.isfinite(b)
                and b > -(traj.correct_digits - 5) + _log10(max(1.0, abs(_f(ls))))]
        if len(keep) < 6:
            return self.verdict("linear-convergence", Status.INCONCLUSIVE,
                                {"reason": "too few samples above the precision floor"})
        t, y = [a for a, _ in keep], [b for _, b in keep]
        cut = len(t) // 2
        slopes = local_slopes(t[cut:], y[cut:])
        # Linear convergence: log(L−L*) has an asymptotically constant negative slope. A
        # polynomial rate (|L − L*| ~ t^-p) has slopes −p/(t ln 10) → 0: the late slopes shrink.
        first = sum(slopes[: max(1, len(slopes) // 3)]) / max(1, len(slopes) // 3)
        last = sum(slopes[-max(1, len(slopes) // 3):]) / max(1, len(slopes) // 3)
        rate = -last * math.log(10)
        ev = {"L*": _num(ls, 8), "L* from": how, "rate (last third)": f"{rate:.5g}",
              "rate (first third of tail)": f"{-first * math.log(10):.5g}",
              "decades": round(y[0] - y[-1], 1)}
        if self.problem.loss is not None and self.problem.loss.kind == "square" and \
                self.problem.loss.l2 == 0 and abs(_f(ls)) < 1e-20:
            rq = [self.rayleigh(th, traj.info.get("pattern", []), dps=dps).quotient
                  for th in traj.states]
            n = self.problem.data.n  # type: ignore[union-attr]
            s = _f(self.d.flow_scale)
            mu = min(_f(r) for r in rq)
            predicted = 2 * s * mu / n
            observed = (y[0] - y[-1]) * math.log(10) / (t[-1] - t[0])
            ev["predicted rate 2 s min R / n"] = f"{predicted:.5g}"
            ev["observed average rate"] = f"{observed:.5g}"
            if observed < predicted * (1 - 1e-6):
                return self.verdict("linear-convergence", Status.REFUTED, ev, theta0,
                                    "observed rate below the Rayleigh prediction")
        if rate <= 0 or abs(last) < 0.5 * abs(first):
            return self.verdict("linear-convergence", Status.REFUTED, ev, theta0,
                                f"the rate decays from {-first * math.log(10):.4g} to "
                                f"{rate:.4g}: sub-linear convergence")
        if abs(last - first) <= 0.2 * abs(first):
            return self.verdict("linear-convergence", Status.HOLDS, ev)
        return self.verdict("linear-convergence", Status.INCONCLUSIVE, ev)

    def rayleigh_identity(self, theta0: Sequence[object] | None = None, *, t_end: object = 2,
                          dps: int = 30) -> Verdict:
        rq = self.rayleigh  # raises NotApplicableError off the square loss
        traj = self.flow(theta0, t_end, dps)
        if any(e.kind.startswith("sliding") for e in traj.events):
            return self.verdict("rayleigh-identity", Status.INCONCLUSIVE,
                                {"reason": "the flow slides on a kink: the identity is for "
                                           "the smooth pieces"})
        ctx = mp_context(dps + 10)
        chi_at = self.system.ev.pattern
        from kltools.symbolic.kinks import KinkConvention

        def R(t: Any) -> Any:
            th = [ctx.mpf(str(v)) for v in traj(t)]
            chi = chi_at(th, KinkConvention.RIGHT, dps + 10) if self.system.m else ()
            return rq(th, chi, dps=dps + 10).quotient

        integral = cumulative_integral(traj, R, dps=dps + 10)
        n = self.problem.data.n  # type: ignore[union-attr]
        s = ctx.mpf(str(self.d.flow_scale))
        l0 = ctx.mpf(str(traj.losses[0]))
        worst = ctx.mpf(0)
        for loss, integ in zip(traj.losses, integral, strict=True):
            pred = l0 * ctx.exp(-2 * s * integ / n)
            worst = max(worst, abs(pred / ctx.mpf(str(loss)) - 1))
        status = _classify(worst, traj.correct_digits)
        return self.verdict("rayleigh-identity", status,
                            {"max relative error": _num(worst, 3),
                             "flow digits": round(traj.correct_digits, 1),
                             "l2": str(self.problem.loss.l2)},  # type: ignore[union-attr]
                            theta0, f"L(t) differs from L(0)exp(-(2s/n)int R) by {_num(worst, 3)}")

    def conservation(self, theta0: Sequence[object] | None = None, *, t_end: object = 2,
                     dps: int = 30) -> Verdict:
        if self.problem.network is None:
            raise NotApplicableError("conservation laws here are the balancedness laws of network "
                                "units; this spec is a raw objective")
        d = self.d
        funcs = self._laws()
        prog = program_from_sympy([f for _, f in funcs], d.parameters, (), cse=True)
        f = compile_program(prog, "mpmath", dps)
        traj = self.flow(theta0, t_end, dps)
        ctx = mp_context(dps)
        vals = [f([ctx.mpf(str(v)) for v in th], []) for th in traj.states]
        worst, which, when = ctx.mpf(0), "", None
        for j, (name, _) in enumerate(funcs):
            h0 = vals[0][j]
            for t, row in zip(traj.times, vals, strict=True):
                drift = abs(row[j] - h0) / max(ctx.mpf(1), abs(h0))
                if drift > worst:
                    worst, which, when = drift, name, t
        status = _classify(worst, traj.correct_digits)
        return self.verdict("conservation", status,
                            {"laws": [n for n, _ in funcs], "max relative drift": _num(worst, 3),
                             "flow digits": round(traj.correct_digits, 1)}, theta0,
                            f"{which} drifts by {_num(worst, 3)} by t = {_num(when, 6)}")

    def directional_convergence(self, theta0: Sequence[object] | None = None, *,
                                t_end: object = "1e6", dps: int = 30,
                                force: bool = False) -> Verdict:
        prob = self.problem
        net = prob.network
        k = net.homogeneity_degree() if net is not None else None
        if not force:
            if net is None or prob.loss is None or not prob.loss.is_margin:
                raise NotApplicableError(
                    "directional convergence (seed 002) needs a network with the exponential or "
                    "logistic loss; with the square loss the flow converges to a finite point "
                    "and theta/|theta| has no reason to settle (use --force to run anyway)")
            if k is None:
                raise NotApplicableError("directional convergence needs a positively homogeneous "
                                    "network (no biases after the first layer, homogeneous "
                                    "activations)")
        from kltools.analysis.margins import MarginTracker

        traj = self.flow(theta0, t_end, dps)
        tracker = MarginTracker(self.d, k or 1)
        report = tracker.along(traj, dps)
        ev = report.evidence()
        status, detail = _margin_verdict(report)
        return self.verdict("directional-convergence", status, ev, theta0, detail)

    def codim2(self, theta0: Sequence[object] | None = None, *, t_end: object = 10,
               dps: int = 30) -> Verdict:
        if not self.system.m:
            raise NotApplicableError("codim2 is about kink surfaces; this model has none")
        traj = self.flow(theta0, t_end, dps)
        sim = [e for e in traj.events if e.kind == "simultaneous"]
        ev = {"events": len(traj.events), "simultaneous": len(sim)}
        if sim:
            return self.verdict("codim2", Status.REFUTED, ev, theta0,
                                f"surfaces {', '.join(sim[0].labels)} crossed together at "
                                f"t = {_num(sim[0].t, 10)}")
        return self.verdict("codim2", Status.HOLDS, ev)

    def gd_vs_flow(self, theta0: Sequence[object] | None = None, *, t_end: object = 1,
                   dps: int = 30, eta: object = "0.01") -> Verdict:
        flow = self.flow(theta0, t_end, dps)
        eta_q = sp.Rational(str(eta))
        devs = []
        for h in (eta_q, eta_q / 2):
            gd = self.flow(theta0, t_end, dps, method="gd", eta=str(h))
            if gd.outcome is Outcome.BLOWUP:
                return self.verdict("gd-vs-flow", Status.REFUTED,
                                    {"eta": str(h), "gd": "diverged"}, theta0,
                                    f"gradient descent with step {h} diverges")
            devs.append(max(
                max(abs(_f(a) - _f(b)) for a, b in zip(gd.states[i], flow(gd.times[i]),
                                                      strict=True))
                for i in range(len(gd.times))))
        ratio = devs[1] / devs[0] if devs[0] > 0 else 0.0
        ev = {"eta": str(eta_q), "max deviation (eta)": f"{devs[0]:.4g}",
              "max deviation (eta/2)": f"{devs[1]:.4g}", "ratio": f"{ratio:.3f}",
              "C = deviation/eta": f"{devs[0] / float(eta_q):.4g}"}
        if 0.35 <= ratio <= 0.65:
            return self.verdict("gd-vs-flow", Status.HOLDS, ev)
        return self.verdict("gd-vs-flow", Status.REFUTED, ev, theta0,
                            f"halving the step scales the deviation by {ratio:.3f}, not 1/2")


def _mp(v: Any, dps: int) -> Any:
    return mp_context(dps + 10).mpf(str(v))


def _margin_verdict(r: Any) -> tuple[Status, str]:
    """Holds: after t0 the smoothed margin never decreases beyond rounding, ‖θ‖ grows without
    bound (at least 10% over the log-time range checked), 1 − cos decreases and the direction
    moves less in the second half of log t than in the first. Refuted: the smoothed margin
    decreases, or ‖θ‖ stays bounded (converges), or the alignment gets worse over the last third
    of the samples."""
    if len(r.times) < 4:
        return Status.INCONCLUSIVE, "perfect classification is not reached early enough"
    drop = r.largest_decrease()
    scale = max(abs(_f(v)) for v in r.smoothed) or 1.0
    if drop > 1e-6 * scale:
        return Status.REFUTED, f"the smoothed margin decreases by {drop:.3g}"
    growth = _f(r.norms[-1]) / _f(r.norms[len(r.norms) // 2])
    if growth < 1 + 1e-3:
        return Status.REFUTED, (f"|theta| stays bounded: it grows by a factor {growth:.6g} over "
                                "the second half of log t (a finite limit, no direction to "
                                "converge to)")
    mis = [_f(v) for v in r.misalignment]
    # cos → 1 is asymptotic, not monotone (1 − cos may dip and recover before its O(1/log t)
    # decay): judge the last third of the samples only.
    third = mis[2 * len(mis) // 3]
    if mis[-1] > 1.1 * third:
        return Status.REFUTED, "1 - cos(theta, -grad L) increases over the last third of the run"
    first, second = r._direction_moves()
    if not second < first:
        return Status.INCONCLUSIVE, "the direction is not yet settling; raise t_end"
    return Status.HOLDS, ""


def _classify(err: Any, digits: float) -> Status:
    e = _f(err)
    if e <= 10 ** (-(digits - 5)):
        return Status.HOLDS
    if e >= 10 ** (-(digits / 2)):
        return Status.REFUTED
    return Status.INCONCLUSIVE


PROPERTIES: dict[str, _Spec] = {
    "energy": _Spec("energy", "d/dt L(θ(t)) = −s‖∇L(θ(t))‖² along the computed flow", "2",
                    Checker.energy),
    "no-blowup": _Spec("no-blowup", "no blow-up up to the horizon, and ‖θ(t) − θ(0)‖ ≤ "
                       "√(s·t·(L(θ0) − L(θ(t))))", "10", Checker.no_blowup),
    "lojasiewicz": _Spec("lojasiewicz", "|L − L*|^a ≤ C‖∇L‖ along the tail of the flow", "30",
                         Checker.lojasiewicz),
    "linear-convergence": _Spec("linear-convergence", "log(L − L*) is asymptotically linear in "
                                "t, at a rate ≥ (2s/n)·min R (square loss)", "30",
                                Checker.linear_convergence),
    "rayleigh-identity": _Spec("rayleigh-identity", "L(t) = L(0)·exp(−(2s/n)∫₀ᵗR(θ(τ))dτ), "
                               "R = rᵀKr/rᵀr", "2", Checker.rayleigh_identity),
    "conservation": _Spec("conservation", "the conservation laws of the architecture (found by "
                          "kltools laws; else the balancedness laws ‖in‖² − k‖out‖²) are "
                          "constant along the flow", "2", Checker.conservation),
    "directional-convergence": _Spec(
        "directional-convergence", "after perfect classification the smoothed margin is "
        "non-decreasing, θ/‖θ‖ settles and cos∠(θ, −∇L) → 1", "1e6",
        Checker.directional_convergence),
    "codim2": _Spec("codim2", "no two kink surfaces are crossed at the same instant", "10",
                    Checker.codim2),
    "gd-vs-flow": _Spec("gd-vs-flow", "gradient descent with step η stays within O(η) of the "
                        "flow over the horizon", "1", Checker.gd_vs_flow),
}


def check_property(name: str, problem: Problem, theta0: Sequence[object] | None = None,
                   **options: Any) -> Verdict:
    """Check property ``name`` on ``problem`` from ``theta0`` (one initialisation).

    Raises :class:`~kltools.errors.NotApplicableError` when the spec does not meet the property's
    hypotheses, and :class:`KeyError`-like :class:`~kltools.errors.SpecError` for an unknown
    name (listing the known ones).
    """
    from kltools.errors import SpecError

    if name not in PROPERTIES:
        raise SpecError(f"unknown property {name!r}; known: {', '.join(PROPERTIES)}",
                        "--property")
    return PROPERTIES[name].run(Checker(problem), theta0, **options)
