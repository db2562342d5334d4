"""``lojasiewicz``: |L − L*|^a ≤ C‖∇L‖ along the tail of the flow.

Decided from two readings that must agree (Łojasiewicz 1963; for the tail laws, Attouch–Bolte,
arXiv 0802.0826 and :mod:`kltools.analysis.tail`):

* the **observed law**: ‖∇L‖ ≈ c|L − L*|^α fitted on windows of the tail; it is *established*
  when the tail spans ``decades`` of L − L* and the last two windows agree within
  ``agreement`` (the horizon grows until then, or the budget is spent);
* the **limit's exponent** θ: the limit found by Newton from the end, proved an isolated
  critical point (exactly at a recognised rational point of a polynomial with finitely many
  critical points, or by a Krawczyk box), its exponent by the exact methods, else a numerical
  interval at that certified point. A critical point on a curve of critical points is not
  trusted: the flow may pass near it and converge elsewhere.

holds — the law is established and α ≤ a + agreement (the ratio |L − L*|^a/‖∇L‖ stays bounded),
and a is not below a proved exponent θ of the limit.
refuted — a < θ where θ is the certified limit's exponent (or the lower end of its interval),
the established law agrees with θ, and α > a + agreement: along the flow the ratio grows like
|L − L*|^(a − α) without bound. A decaying ratio on a short or unsettled tail, or without a
certified limit, is never a refutation.
inconclusive — otherwise, with the reason.
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

__all__ = ["LOJASIEWICZ", "LojasiewiczEvidence", "LojasiewiczOptions"]


@dataclass(frozen=True)
class LojasiewiczOptions(TailOptions):
    exponent: str | None = doc("the exponent a claimed (default: the limit's proved exponent, "
                               "else the fitted one rounded up to 3 decimals)")


@dataclass(frozen=True)
class LojasiewiczEvidence(Evidence):
    exponent: float | None = shown("exponent checked", lambda v: f"{v:g}")
    estimated_exponent: float | None = shown("estimated exponent (tail fit)",
                                             lambda v: f"{v:.4f}")
    windows: tuple[float, ...] | None = shown("exponent per window of the tail",
                                              lambda v: [f"{a:.4f}" for a in v])
    l_star: Any = shown("L*", num(8))
    l_star_from: str | None = shown("L* from")
    decades: float | None = shown("tail decades of L - L*", lambda v: round(v, 1))
    limit: Any = shown("limit")
    constant: float | None = shown("C (max ratio on tail)", lambda v: f"{v:.4g}")
    witness: list[dict[str, float]] | None = shown("witness")
    note: str | None = shown("note")
    reason: str | None = shown("reason")


def _witness(tail: Tail, a: float) -> tuple[list[dict[str, float]], float]:
    from kltools.numbers import log10abs

    pts = [(log10abs(g), log10abs(d)) for g, d in zip(tail.gaps, tail.grads, strict=True)
           if g > 0 and d > 0 and tail.floor < log10abs(g)]
    ratio = [(float(x), float(a * x - y)) for x, y in pts]
    half = ratio[len(ratio) // 2:]
    step = max(1, len(half) // 8)
    return ([{"log10(L-L*)": round(x, 3), "log10 ratio": round(r, 3)} for x, r in half[::step]],
            max(r for _, r in half) if half else -math.inf)


def _decide(a: float, alpha: float, facts: Any, o: LojasiewiczOptions) -> tuple[Status, str]:
    tol = o.agreement
    if facts is None or not (facts.certified and facts.isolated) or facts.interval is None:
        if alpha <= a + tol:
            return Status.HOLDS, ""
        return Status.INCONCLUSIVE, (f"the tail fit gives {alpha:.4f} > {a:g} but the limit is "
                                     "not certified: no witness that cannot be a transient")
    lo, hi = facts.interval
    if a >= lo - (0 if facts.exponent is not None else tol):
        if alpha <= a + tol:
            return Status.HOLDS, ""
        return Status.INCONCLUSIVE, (f"the tail fit {alpha:.4f} exceeds {a:g} though the limit's "
                                     f"exponent is in [{lo:.4f}, {hi:.4f}]")
    if lo - tol <= alpha <= hi + tol and alpha > a + tol:
        return Status.REFUTED, (f"|L-L*|^{a:g}/|grad L| grows like |L-L*|^{a - alpha:.4f} "
                                f"as L -> L*: the limit ({facts.method}) has exponent in "
                                f"[{lo:.4f}, {hi:.4f}] > {a:g} and the tail agrees")
    return Status.INCONCLUSIVE, (f"the limit's exponent is in [{lo:.4f}, {hi:.4f}] but the tail "
                                 f"fit {alpha:.4f} does not agree yet")


def _assess(c: Checker, traj: Trajectory, o: LojasiewiczOptions
            ) -> tuple[Status, str, LojasiewiczEvidence]:
    """The verdict the trajectory supports, its reason and its evidence."""
    tail = read_tail(c, traj, o)
    if tail.l_star is None or tail.law is None or not tail.established(o):
        why = tail.how if tail.l_star is None else (
            f"{tail.describe()}: not an established law (needs {o.decades:g} decades and "
            f"windows within {o.agreement:g}); the flow reached t = {float(traj.t):.3g} "
            f"({traj.outcome.value})")
        return Status.INCONCLUSIVE, why, LojasiewiczEvidence(l_star=tail.l_star, reason=why)
    facts = c.limit(traj, o.dps) if o.l_star is None else None
    alpha = tail.law.last
    if o.exponent is not None:
        a = float(Fraction(o.exponent))
    elif facts is not None and facts.exponent is not None:
        a = float(facts.exponent)
    else:
        a = math.ceil(alpha * 1000) / 1000
    status, why = _decide(a, alpha, facts, o)
    pts, cmax = _witness(tail, a)
    ev = LojasiewiczEvidence(
        a, alpha, tail.law.values, tail.l_star, tail.how, tail.law.span,
        facts.to_json() if facts is not None else None, 10 ** cmax if status is Status.HOLDS
        else None, pts if status is Status.REFUTED else None, reason=why or None)
    return status, why, ev


def _run(c: Checker, theta0: Sequence[object] | None, o: Any) -> Verdict:
    return decide_along_flow(c, "lojasiewicz", theta0, o, _assess,
                             LojasiewiczEvidence(note=STATIONARY))


LOJASIEWICZ = register(Property(
    "lojasiewicz", "|L − L*|^a ≤ C‖∇L‖ along the tail of the flow",
    "the flow converges to a critical point (L analytic or definable there)",
    "holds when the tail law ‖∇L‖ ~ |L − L*|^α is established (several decades, settled "
    "windows) with α ≤ a + agreement and a not below the certified limit's exponent; refuted "
    "only when a is below the exponent of a certified limit and the established tail agrees "
    "with that exponent; else inconclusive with the reason.",
    LojasiewiczOptions, _run))
