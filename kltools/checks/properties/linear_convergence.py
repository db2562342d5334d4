"""``linear-convergence``: log(L − L*) is asymptotically linear in t (L − L* ≤ Ce^{−rt}, r > 0).

Decided from the tail and the limit (see :mod:`kltools.analysis.tail`): along a gradient flow
‖∇L‖² = −dL/dt/s, so an exponential tail has ‖∇L‖ ~ |L − L*|^{1/2} and a polynomial one
‖∇L‖ ~ |L − L*|^α with α > 1/2.

holds — the fitted law is established with α = 1/2 (within ``agreement``) and the rate of
log(L − L*) has settled (last two windows in t within ``rtol``); when the Hessian at the limit
predicts a rate 2sλ (λ its smallest positive eigenvalue: Morse or Morse–Bott), the settled rate
must agree with it to ``rtol``.
refuted — the limit is certified with an exponent θ > 1/2 (or an interval above 1/2) and the
established tail agrees with θ (then L − L* ~ t^{−1/(2θ−1)}: polynomial, not linear). A rate that
decays on a finite window is never enough (a Morse–Bott limit approached slowly shows that
transient).
inconclusive — otherwise, with the reason. For the square loss with L* = 0 the evidence also
compares the average rate with the Rayleigh bound 2s·min R/n, R taken at every computed state on
that state's own activation pattern: the identity L(t) = L(0)exp(−(2s/n)∫R) says the average
cannot fall below the minimum over all t. A shortfall against the minimum over the *computed*
states is not a certified fact about the flow (R may dip between them), so it makes a verdict
inconclusive (the digits or the sampling are in doubt), never refuted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from kltools.checks.properties._base import (
    STATIONARY,
    Evidence,
    Property,
    doc,
    num,
    register,
    shown,
)
from kltools.checks.properties._tail import Tail, TailOptions, decide_along_flow, read_tail
from kltools.checks.verdict import Status, Verdict

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker
    from kltools.integrate.trajectory import Trajectory

__all__ = ["LINEAR_CONVERGENCE", "LinearEvidence", "LinearOptions"]


@dataclass(frozen=True)
class LinearOptions(TailOptions):
    rtol: float = doc("relative agreement of rates (last two windows; observed vs predicted)",
                      0.01)


@dataclass(frozen=True)
class LinearEvidence(Evidence):
    l_star: Any = shown("L*", num(8))
    l_star_from: str | None = shown("L* from")
    rate: float | None = shown("rate (last third)", lambda v: f"{v:.5g}")
    first_rate: float | None = shown("rate (first third of tail)", lambda v: f"{v:.5g}")
    predicted: float | None = shown("predicted rate 2 s lambda_min at the limit",
                                    lambda v: f"{v:.5g}")
    exponent: float | None = shown("estimated exponent (tail fit)", lambda v: f"{v:.4f}")
    decades: float | None = shown("decades", lambda v: round(v, 1))
    rayleigh: float | None = shown("predicted rate 2 s min R / n", lambda v: f"{v:.5g}")
    average: float | None = shown("observed average rate", lambda v: f"{v:.5g}")
    limit: Any = shown("limit")
    note: str | None = shown("note")
    reason: str | None = shown("reason")


def _rates(c: Checker, traj: Trajectory, tail: Tail, o: LinearOptions) -> Any:
    """The windowed rate of log(L − L*) on 61 dense samples of [T/2, T]."""
    from kltools.analysis.tail import gaps_of, rate_law
    from kltools.numbers import to_fraction

    work = int(traj.info.get("working_dps", o.dps))
    T = to_fraction(traj.t)
    ts = [T / 2 + T / 2 * Fraction(i, 60) for i in range(61)]
    gaps = gaps_of([c.loss_at(traj, t, work) for t in ts], tail.l_star, work)
    return rate_law(ts, gaps, floor=tail.floor, rtol=o.rtol)


def _rayleigh(c: Checker, traj: Trajectory, tail: Tail, o: LinearOptions
              ) -> tuple[float, float] | None:
    """(2s·min R/n, observed average rate) for the square loss with L* = 0, else None."""
    from kltools.numbers import log10abs, to_float

    loss = c.problem.loss
    if loss is None or loss.kind != "square" or loss.l2 != 0 or log10abs(tail.l_star) > -20:
        return None
    # Each state on its own activation pattern: a ReLU net's pattern changes along the flow,
    # and the final one overstates R early on (it once turned a true claim into "refuted").
    rq = [c.rayleigh(th, c.pattern_at(th, o.dps), dps=o.dps).quotient for th in traj.states]
    pred = 2 * to_float(c.d.flow_scale) * min(to_float(r) for r in rq) / c.problem.data.n
    from kltools.analysis.tail import gaps_of

    gaps = gaps_of(traj.losses, tail.l_star, int(traj.info.get("working_dps", o.dps)))
    keep = [(to_float(t), log10abs(g)) for t, g in zip(traj.times, gaps, strict=True)
            if g > 0 and log10abs(g) > tail.floor]
    obs = (keep[0][1] - keep[-1][1]) * math.log(10) / (keep[-1][0] - keep[0][0])
    return pred, obs


def _decide(alpha: float, rates: Any, facts: Any, o: LinearOptions) -> tuple[Status, str]:
    tol = o.agreement
    if abs(alpha - 0.5) <= tol:
        if rates is None or not rates.settled:
            return Status.INCONCLUSIVE, "exponential tail but the rate has not settled"
        pred = facts.linear_rate if facts is not None else None
        if pred is not None and abs(rates.last / pred - 1) > o.rtol:
            return Status.INCONCLUSIVE, (f"the settled rate {rates.last:.5g} differs from 2 s "
                                         f"lambda = {pred:.5g} at the limit")
        return Status.HOLDS, ""
    if alpha > 0.5 + tol and facts is not None and facts.certified and facts.isolated \
            and facts.interval:
        lo, hi = facts.interval
        if lo > 0.5 and lo - tol <= alpha <= hi + tol:
            p = 1 / (2 * alpha - 1)
            return Status.REFUTED, (f"sub-linear convergence: L - L* ~ t^-{p:.3f}; the certified "
                                    f"limit ({facts.method}) has exponent in [{lo:.4f}, "
                                    f"{hi:.4f}] > 1/2 and the tail agrees ({alpha:.4f})")
    return Status.INCONCLUSIVE, (f"the tail exponent {alpha:.4f} is not 1/2 and no certified "
                                 "limit confirms a polynomial tail")


def _assess(c: Checker, traj: Trajectory, o: LinearOptions) -> tuple[Status, str, Any]:
    """The verdict the trajectory supports, its reason and its evidence."""
    tail = read_tail(c, traj, o)
    if tail.l_star is None or not tail.established(o):
        why = tail.how if tail.l_star is None else (
            f"{tail.describe()}: not an established law; the flow reached t = "
            f"{float(traj.t):.3g} ({traj.outcome.value})")
        return Status.INCONCLUSIVE, why, LinearEvidence(l_star=tail.l_star, reason=why)
    rates = _rates(c, traj, tail, o)
    facts = c.limit(traj, o.dps) if o.l_star is None or tail.law.last > 0.5 + o.agreement \
        else None
    ray = _rayleigh(c, traj, tail, o)
    status, why = _decide(tail.law.last, rates, facts, o)
    if ray is not None and ray[1] < ray[0] * (1 - 1e-6) and status is Status.HOLDS:
        status, why = Status.INCONCLUSIVE, (
            f"the average rate {ray[1]:.6g} is below the smallest Rayleigh bound {ray[0]:.6g} "
            "over the computed states, which the exact identity forbids: the digits or the "
            "sampling are in doubt; rerun with a higher --dps")
    ev = LinearEvidence(
        tail.l_star, tail.how, rates.last if rates else None,
        rates.values[0] if rates else None, facts.linear_rate if facts else None,
        tail.law.last, tail.law.span, ray[0] if ray else None, ray[1] if ray else None,
        facts.to_json() if facts else None, reason=why or None)
    return status, why, ev


def _run(c: Checker, theta0: Sequence[object] | None, o: Any) -> Verdict:
    return decide_along_flow(c, "linear-convergence", theta0, o, _assess,
                             LinearEvidence(note=STATIONARY))


LINEAR_CONVERGENCE = register(Property(
    "linear-convergence", "log(L − L*) is asymptotically linear in t (L − L* ≤ Ce^{−rt}), at the "
    "rate 2sλ of the limit's Hessian (≥ (2s/n)·min R for the square loss)",
    "the flow converges to a critical point",
    "holds when the tail law ‖∇L‖ ~ |L − L*|^{1/2} is established and the rate has settled "
    "(agreeing with 2sλ at the limit when the Hessian gives one); refuted only by a certified "
    "limit whose exponent exceeds 1/2 with an established tail that agrees (or a rate below "
    "the Rayleigh bound); else inconclusive with the reason.",
    LinearOptions, _run))
