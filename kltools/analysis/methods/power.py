"""Power rule: θ(u·G^k) = (k − 1 + θ(G))/k when G(p) = 0 and u(p) ≠ 0.

Theorem (implemented). Let g = u·G^k near 0 with u, G analytic, u(0) ≠ 0, G(0) = 0, k ≥ 2 an
integer. Then θ(g) = (k − 1 + θ(G))/k, where θ(G) = 0 when ∇G(0) ≠ 0 (a regular point: |G|^0 = 1
≤ C|∇G| near 0, and no negative exponent works because G vanishes at points arbitrarily close
to 0).

Proof. (a) *Powers.* ∇(G^k) = k G^{k−1} ∇G, so off {G = 0}

    |G^k|^α / |∇(G^k)| = |G|^{kα − k + 1} / (k |∇G|),

and on {G = 0} both sides of |G^k|^α ≤ C|∇(G^k)| vanish (kα > 0). Hence |G^k|^α ≤ C|∇G^k|
near 0 iff |G|^β ≤ kC|∇G| with β = kα − k + 1: the smallest α is (k − 1 + θ(G))/k.
(b) *Units.* If h(0) = 0 and |h|^θ ≤ C|∇h| with θ < 1 on a neighbourhood where |h| ≤ δ, then
|h| ≤ Cδ^{1−θ}|∇h|, so |∇(uh)| ≥ |u||∇h| − |h||∇u| ≥ (|u(0)|/2)|∇h| for δ small, and
|uh|^θ ≤ (2|u(0)|)^θ|h|^θ: θ(uh) ≤ θ(h); the same with u^{−1} gives equality. (θ(h) < 1 holds
for every analytic h by Łojasiewicz's theorem.)

Where it fails: G(p) ≠ 0. Then f = G^k is not a power of a germ vanishing at p; e.g.
(1 + x²)² has θ = 1/2 at 0 (Morse), while the formula with θ(1 + x²) = 1/2 would give 3/4. The
method therefore only uses factors that vanish at the point, and treats the others as the unit u.

The factorisation f − f(p) = c·∏ g_i^{k_i} is over ℚ (SymPy); the factors with g_i(0) = 0 give
G = ∏ g_i^{k_i/k} with k = gcd of their multiplicities.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from math import gcd

import sympy as sp

from kltools.analysis.germ import Germ
from kltools.analysis.methods._outcome import MethodOutcome

__all__ = ["power_rule", "split_power"]


def split_power(germ: Germ) -> tuple[int, sp.Expr, sp.Expr] | None:
    """(k, G, u) with g = u·G^k, G(0) = 0, u(0) ≠ 0, k the gcd of the vanishing multiplicities;
    None for a non-polynomial germ."""
    if germ.poly is None:
        return None
    c, factors = sp.factor_list(germ.expr, *germ.variables)
    zero = dict.fromkeys(germ.variables, 0)
    vanishing = [(f, k) for f, k in factors if f.xreplace(zero) == 0]
    units = [(f, k) for f, k in factors if f.xreplace(zero) != 0]
    if not vanishing:  # pragma: no cover - g(0) = 0 always has a vanishing factor
        return None
    k = reduce(gcd, (m for _, m in vanishing))
    G = sp.expand(sp.Mul(*[f ** (m // k) for f, m in vanishing]))
    u = c * sp.Mul(*[f ** m for f, m in units])
    return k, G, u


def power_rule(germ: Germ, inner: Callable[[Germ], MethodOutcome]) -> MethodOutcome:
    """Apply the power rule, with ``inner`` computing θ(G) for a critical G.

    >>> from kltools.analysis.germ import make_germ
    >>> out = power_rule(make_germ("(a*b - 1)**2/2", ["2", "1/2"], variables="a,b"), None)
    >>> out.exponent, out.details["k"], out.details["inner_method"]
    (1/2, 2, 'regular point')
    """
    name = "power"
    split = split_power(germ)
    if split is None:
        return MethodOutcome.declined(name, "needs a polynomial with rational coefficients")
    k, G, u = split
    details = {"k": k, "G": str(G), "unit": str(u)}
    if k < 2:
        return MethodOutcome.declined(
            name, "f − f(p) is not u·G^k with k ≥ 2 (u a unit, G(p) = 0) over the rationals",
            **details)
    zero = dict.fromkeys(germ.variables, 0)
    grad_G0 = [sp.diff(G, v).xreplace(zero) for v in germ.variables]
    if any(g != 0 for g in grad_G0):
        theta_G: MethodOutcome = MethodOutcome("regular point", sp.Integer(0),
                                               "∇G(p) ≠ 0: θ(G) = 0")
    else:
        theta_G = inner(germ.restrict(G))
    details.update(inner_method=theta_G.method, inner_reason=theta_G.reason)
    what = f"f − f(p) = u·G^{k} with u(p) ≠ 0, G = {G}; θ = (k − 1 + θ(G))/k"
    if theta_G.exponent is not None:
        details["inner_exponent"] = str(theta_G.exponent)
        return MethodOutcome(name, (k - 1 + theta_G.exponent) / k,
                             f"{what}, θ(G) = {theta_G.exponent} by {theta_G.method}", None,
                             details)
    if theta_G.interval is not None:
        lo, hi = theta_G.interval
        interval = ((k - 1 + lo) / k, (k - 1 + hi) / k)
        details["inner_interval"] = [lo, hi]
        return MethodOutcome(name, None, f"{what}, θ(G) ∈ [{lo}, {hi}] by {theta_G.method}",
                             interval, details)
    return MethodOutcome.declined(name, f"{what}, but θ(G) is unknown: {theta_G.reason}",
                                  **details)
