"""Morse: a non-degenerate critical point has exponent 1/2.

Theorem. If ∇f(p) = 0 and ∇²f(p) is non-singular, then θ = 1/2.
Proof. Morse lemma: in C^∞ coordinates y near p, f − f(p) = Q(y) with Q a non-degenerate quadratic
form; then |f − f(p)| ≤ C|y|² and |∇f| ≥ c|y|, so |f − f(p)|^{1/2} ≤ C'|∇f|. Along an eigenvector
v of the Hessian (eigenvalue λ ≠ 0), f − f(p) = λt²/2 + O(t³) and |∇f| = |λt| + O(t²), so the
ratio |f − f(p)|^α / |∇f| is unbounded for α < 1/2.

Non-singularity is decided exactly (:func:`~kltools.analysis.inertia.exact_inertia`).
"""

from __future__ import annotations

import sympy as sp

from kltools.analysis.germ import Germ
from kltools.analysis.inertia import exact_inertia
from kltools.analysis.methods._outcome import MethodOutcome

__all__ = ["morse"]


def morse(germ: Germ) -> MethodOutcome:
    """θ = 1/2 when the Hessian at the point is (exactly) non-singular.

    >>> from kltools.analysis.germ import make_germ
    >>> morse(make_germ("x**2 - y**2", variables="x,y")).exponent
    1/2
    >>> morse(make_germ("x**2 + y**4", variables="x,y")).reason
    'the Hessian is singular (kernel dimension 1)'
    """
    try:
        inertia = exact_inertia(germ.hessian0)
    except ValueError as exc:
        return MethodOutcome.declined("morse", f"the Hessian's inertia is undecided: {exc}")
    details = {"inertia": [inertia.positive, inertia.negative, inertia.zero]}
    if inertia.zero:
        return MethodOutcome.declined(
            "morse", f"the Hessian is singular (kernel dimension {inertia.zero})", **details)
    return MethodOutcome("morse", sp.Rational(1, 2),
                         f"non-singular Hessian (inertia {inertia.positive}+, "
                         f"{inertia.negative}-): Morse lemma", None, details)
