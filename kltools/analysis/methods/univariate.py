"""One variable: θ = 1 − 1/m, m the order of vanishing of f − f(p) at p.

Theorem. For f analytic in one variable with f(p + h) − f(p) = c·h^m + O(h^{m+1}), c ≠ 0, m ≥ 2:
θ = 1 − 1/m. Proof: |f − f(p)| = |c||h|^m(1 + O(h)) and |f'| = m|c||h|^{m−1}(1 + O(h)), so
|f − f(p)|^α / |f'| ≍ |h|^{mα − m + 1}: bounded iff α ≥ (m − 1)/m.

m is found exactly: the first non-zero Taylor coefficient (SymPy's exact zero test; if SymPy cannot
decide whether a derivative vanishes, the method declines).
"""

from __future__ import annotations

import sympy as sp

from kltools.analysis.germ import Germ
from kltools.analysis.methods._outcome import MethodOutcome

__all__ = ["MAX_ORDER", "univariate"]

MAX_ORDER = 60
"""Highest order of vanishing searched for analytic (non-polynomial) germs."""


def _order(germ: Germ) -> tuple[int | None, str]:
    (h,) = germ.variables
    if germ.poly is not None:
        low = min(m[0] for m in germ.poly.monoms())
        return low, ""
    d = germ.expr
    for k in range(1, MAX_ORDER + 1):
        d = sp.diff(d, h)
        c = sp.simplify(d.xreplace({h: 0}))
        z = c.is_zero if c != 0 else True
        if z is None:
            z = c.equals(0)
        if z is None:
            return None, f"cannot decide whether the derivative of order {k} vanishes"
        if not z:
            return k, ""
    return None, f"f − f(p) vanishes to order > {MAX_ORDER} (or is flat)"


def univariate(germ: Germ) -> MethodOutcome:
    """θ = 1 − 1/m for a germ in one variable vanishing to order m.

    >>> from kltools.analysis.germ import make_germ
    >>> univariate(make_germ("x**6 - x**7", variables="x")).exponent
    5/6
    >>> univariate(make_germ("x - tanh(x)", variables="x")).exponent
    2/3
    """
    if germ.n != 1:
        return MethodOutcome.declined("univariate", f"{germ.n} variables, not one")
    m, why = _order(germ)
    if m is None:
        return MethodOutcome.declined("univariate", why)
    return MethodOutcome("univariate", 1 - sp.Rational(1, m),
                         f"f − f(p) vanishes to order m = {m}: θ = 1 − 1/m", None, {"order": m})
