"""``kl-bound``: the Kurdyka–Łojasiewicz bound of Robin–Scaman–Lelarge (arXiv 2301.08117) for a
linear softmax model with the cross-entropy loss L = (1/n) Σ_i −log softmax(Wᵀx_i)_{y_i}.

If a W* with ‖W*‖_F = 1 separates the data with margin ε, then ‖∇L‖ ≥ (ε/n)(1 − e^{−L}), so along
the flow (s the flow scale)

    −dL/dt = s‖∇L‖² ≥ s(ε/n)²(1 − e^{−L})²,    φ(L(t)) ≤ φ(L(0)) − s(ε/n)² t,

with φ(u) = u + log(1 − e^{−u}) − e^{−u}/(1 − e^{−u}), φ'(u) = 1/(1 − e^{−u})². The default ε
is the best margin ε*, computed exactly (:mod:`kltools.analysis.multiclass_margin`); a larger
``epsilon`` makes a false claim, which the check must refute.

Rule: both inequalities are evaluated at every step point of the computed flow, at the flow's
working precision; a violation larger than 10^(5 − digits) relative to the bound, where digits
are the flow's correct digits, refutes (each inequality is claimed at every t, so one violating
point is a witness, not a transient); holds otherwise; inconclusive if the run stops early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kltools.checks.properties._base import Evidence, Options, Property, doc, num, register, shown
from kltools.checks.verdict import Status, Verdict
from kltools.spec.problem import Problem

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker

__all__ = ["KL_BOUND", "KlBoundEvidence", "KlBoundOptions"]


@dataclass(frozen=True)
class KlBoundOptions(Options):
    t_end: str | None = doc("horizon", "100")
    epsilon: str | None = doc("margin ε of a unit-norm separating W*; default: the best margin "
                              "ε*, computed exactly")


@dataclass(frozen=True)
class KlBoundEvidence(Evidence):
    epsilon: Any = shown("epsilon", num(12))
    best: Any = shown("best margin", num(12))
    rate_slack: Any = shown("min of -dL/dt / rate bound", num(6))
    phi_slack: Any = shown("min of phi bound - phi(L(t))", num(6))
    worst_t: Any = shown("worst t", num(6))
    points: int | None = shown("points checked")
    reason: str | None = shown("reason")


def _applies(problem: Problem) -> str | None:
    from kltools.analysis.multiclass_margin import is_linear_softmax

    why = is_linear_softmax(problem)
    return None if why is None else f"the KL bound of the softmax model {why}"


def _phi(u: Any, ctx: Any) -> Any:
    e = ctx.exp(-u)
    return u + ctx.log(-ctx.expm1(-u)) - e / (-ctx.expm1(-u))


def _run(c: Checker, theta0: Sequence[object] | None, o: KlBoundOptions) -> Verdict:
    from kltools.analysis.multiclass_margin import hard_margin
    from kltools.numbers import mp_context, to_mpf

    ctx = mp_context(o.dps + 10)
    best = ctx.sqrt(to_mpf(hard_margin(c.problem).eps_squared, ctx))
    eps = to_mpf(sp_number(o.epsilon), ctx) if o.epsilon is not None else best
    traj = c.flow(theta0, o.t_end, o.dps)
    ev = {"epsilon": eps, "best": best}
    if traj.outcome.stopped_early:
        why = f"the run stopped before t_end: {traj.outcome.message}"
        return c.verdict("kl-bound", Status.INCONCLUSIVE, KlBoundEvidence(**ev, reason=why),
                         theta0, why, traj)
    n = c.problem.data.n
    s = to_mpf(c.d.flow_scale, ctx)
    rate = s * (eps / n) ** 2
    phi0 = _phi(to_mpf(traj.losses[0], ctx), ctx)
    tol = ctx.mpf(10) ** (5 - min(float(traj.correct_digits), o.dps))
    worst_rate, worst_phi, worst_t = ctx.inf, ctx.inf, None
    for t, th, loss in zip(traj.times, traj.states, traj.losses, strict=True):
        u, tt = to_mpf(loss, ctx), to_mpf(t, ctx)
        g = c.system.ev.gradient(list(th), dps=o.dps + 10)
        decrease = s * ctx.fsum(to_mpf(v, ctx) ** 2 for v in g)
        r = decrease / (rate * ctx.expm1(-u) ** 2) - 1
        p = (phi0 - rate * tt) - _phi(u, ctx)
        if r < worst_rate or p / (1 + abs(phi0) + rate * tt) < worst_phi:
            worst_t = tt
        worst_rate = min(worst_rate, r)
        worst_phi = min(worst_phi, p / (1 + abs(phi0) + rate * tt))
    bad = worst_rate < -tol or worst_phi < -tol
    status = Status.REFUTED if bad else Status.HOLDS
    evidence = KlBoundEvidence(**ev, rate_slack=worst_rate + 1, phi_slack=worst_phi,
                               worst_t=worst_t, points=len(traj.times))
    reason = (f"the bound with epsilon = {ctx.nstr(eps, 8)} fails at t = {ctx.nstr(worst_t, 8)}"
              if bad else "")
    return c.verdict("kl-bound", status, evidence, theta0, reason, traj)


def sp_number(text: str) -> Any:
    """The option as an exact number (field ``--epsilon``)."""
    from kltools.spec.expr import parse_number

    return parse_number(text, "--epsilon")


KL_BOUND = register(Property(
    "kl-bound", "−dL/dt ≥ s(ε/n)²(1 − e^{−L})² and φ(L(t)) ≤ φ(L(0)) − s(ε/n)²t (softmax KL bound)",
    "linear softmax model, cross-entropy, data separable with margin ε by a unit-norm W*",
    "refuted by one step point of the computed flow where either inequality fails by more than "
    "10^(5 − digits) relative (both are claimed at every t); holds otherwise up to the horizon; "
    "inconclusive when the run stops early.",
    KlBoundOptions, _run, _applies, default_t_end="100"))
