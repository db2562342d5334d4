"""Quasi-homogeneous polynomials with an isolated critical point.

Setting. g is weighted homogeneous: g(t^{w_1} x_1, …, t^{w_n} x_n) = t·g(x) for t > 0, with
weights w_i > 0 normalised to weighted degree 1 (every monomial x^a of g has ⟨w, a⟩ = 1). Let
w_min = min_i w_i and J = {j : w_j > w_min}.

Theorem (implemented; proved here, real case).
(U) If 0 is an isolated real critical point of g, then θ(g, 0) ≤ 1 − w_min.
(L) If there is a real u with ∂_j g(u) = 0 for all j ∈ J and g(u) ≠ 0, then θ(g, 0) ≥ 1 − w_min.
Together: θ = 1 − w_min.

Proof. Write x = t^w·u with t = ρ(x), ρ(x) = Σ|x_i|^{1/w_i} (so ρ(u) = 1, a compact "sphere" S).
Then g(x) = t·g(u) and ∂_i g(x) = t^{1 − w_i} ∂_i g(u). (U): ∇g ≠ 0 on S (isolated), so
Σ_i|∂_i g(u)| ≥ c > 0 on S and, for t ≤ 1, |∇g(x)| ≥ n^{−1/2} Σ_i t^{1 − w_i}|∂_i g(u)|
≥ n^{−1/2} c·t^{1 − w_min}, while |g(x)| ≤ M t; so |g|^{1 − w_min} ≤ C|∇g|. (L): along
x(t) = t^w·u the components j ∈ J of ∇g vanish identically and the others have size
t^{1 − w_min}|∂_i g(u)|, while |g(x(t))| = t|g(u)|: the ratio |g|^α/|∇g| ≍ t^{α − 1 + w_min} is
unbounded as t → 0 when α < 1 − w_min. ∎

Why (L) is needed: the formula 1 − w_min is *not* true for every real isolated quasi-homogeneous
germ. For g = x³ + 3xy⁴ (weights 1/3, 1/6) it would give 5/6 (the complex value), but
∂_x g = 3(x² + y⁴) ≥ 3·(weighted size)^{4/6} gives |∇g| ≳ t^{2/3} and |g| ≲ t, so θ = 2/3: no real
u has ∂_x g(u) = 0 ≠ g(u). The method then declines (and reports the proved upper bound).
Literature for comparison: in the complex case the gradient exponent of a weighted homogeneous
isolated singularity is governed by the weights (Krasiński–Oleksik–Płoski, "The Łojasiewicz
exponent of an isolated weighted homogeneous surface singularity", Proc. AMS 137 (2009);
Abderrahmane, arXiv:1503.02475, and its real two-variable version arXiv:1705.11156; Haraux–Pham
on real quasi-homogeneous functions); we only use the statement above, proved here.

Checks, all exact. Weights: the unique solution of ⟨w, a⟩ = 1 over the support (declines if not
unique or not positive). Isolatedness: the ideal of the partials is zero-dimensional over ℂ (a
Gröbner basis), which for a weighted homogeneous ideal means the only common zero is 0 (sufficient
for real isolatedness; a germ that is isolated over ℝ but not over ℂ, e.g. (x² + y²)², declines).
Witness u: (a) a small integer vector with u_J = 0; (b) |J| = 1: the remaining coordinates fixed
to small integers, a real root of ∂_j g that is not a root of g (exact root counting: Sturm);
(c) |J| ≥ 2: a critical point of u_J ↦ g(u_J, fixed rest), certified by Krawczyk, with g ≠ 0
proved on the Krawczyk box by interval arithmetic.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from kltools.analysis.critical import certify_critical_point
from kltools.analysis.germ import Germ
from kltools.analysis.methods._outcome import MethodOutcome
from kltools.compiled.pointwise import compile_program, interval_context
from kltools.compiled.program import program_from_sympy

__all__ = ["quasi_homogeneous", "weights"]

_GRID = (1, -1, 2, -2, 3)


def weights(germ: Germ) -> list[sp.Rational] | None:
    """The unique weights w (weighted degree 1) making g weighted homogeneous, or None.

    >>> from kltools.analysis.germ import make_germ
    >>> weights(make_germ("x**2*y + y**4", variables="x,y"))
    [3/8, 1/4]
    """
    if germ.poly is None:
        return None
    monoms = germ.poly.monoms()
    A = sp.Matrix(monoms)
    w = sp.symbols(f"w0:{germ.n}")
    sol = sp.linsolve((A, sp.ones(len(monoms), 1)), *w)
    if not sol:
        return None
    (vec,) = sol
    if any(not sp.sympify(v).is_Rational for v in vec):  # free parameters: not unique
        return None
    return [sp.Rational(v) for v in vec]


def _grid(size: int) -> list[tuple[int, ...]]:
    pts = [p for p in itertools.product((0, *_GRID), repeat=size) if any(p)]
    pts.sort(key=lambda p: sum(abs(c) for c in p))
    return pts[:400]


def _witness(germ: Germ, heavy: list[int]) -> dict[str, Any] | None:
    v = germ.variables
    g = germ.expr
    grads = germ.gradient
    rest = [i for i in range(germ.n) if i not in heavy]
    # (a) u_J = 0.
    for vals in _grid(len(rest)):
        env = dict.fromkeys(v, sp.Integer(0))
        env.update({v[i]: sp.Integer(c) for i, c in zip(rest, vals, strict=True)})
        if all(grads[j].xreplace(env) == 0 for j in heavy) and g.xreplace(env) != 0:
            return {"kind": "exact point", "u": [str(env[s]) for s in v]}
    if len(heavy) == 1:
        (j,) = heavy
        X = v[j]
        for vals in _grid(len(rest)):
            env = {v[i]: sp.Integer(c) for i, c in zip(rest, vals, strict=True)}
            h = sp.Poly(grads[j].xreplace(env), X)
            G = sp.Poly(g.xreplace(env), X)
            if G.is_zero:
                continue
            if h.is_zero:
                return {"kind": "exact point", "u": [str(env.get(s, 0)) for s in v],
                        "note": f"∂g/∂{X} vanishes identically on this line"}
            s = sp.Poly(sp.quo(h, sp.gcd(h, h.diff(X))), X)  # square-free part
            common = sp.gcd(s, G)
            if s.count_roots() > (common.count_roots() if common.degree() > 0 else 0):
                roots = [r for r in sp.real_roots(s) if common.degree() <= 0
                         or common.eval(r) != 0]
                r = roots[0]
                return {"kind": "real root", "coordinate": str(X),
                        "fixed": {str(k): str(val) for k, val in env.items()},
                        "equation": f"{h.as_expr()} = 0", "root": str(r),
                        "root_approx": str(sp.N(r, 15))}
        return None
    return _krawczyk_witness(germ, heavy, rest)


def _krawczyk_witness(germ: Germ, heavy: list[int], rest: list[int]) -> dict[str, Any] | None:
    v = germ.variables
    sub_vars = [v[j] for j in heavy]
    rng = np.random.default_rng(0)
    for vals in _grid(len(rest))[:40]:
        env = {v[i]: sp.Integer(c) for i, c in zip(rest, vals, strict=True)}
        phi = germ.expr.xreplace(env)
        grad = [sp.diff(phi, s) for s in sub_vars]
        fun = sp.lambdify(sub_vars, grad, "math")
        for _ in range(8):
            x0 = rng.uniform(-2, 2, len(heavy))
            try:
                sol = least_squares(lambda x, fun=fun: np.array(fun(*x), dtype=float), x0,
                                    xtol=1e-15, ftol=1e-15, gtol=1e-15)
            except (OverflowError, ValueError):  # pragma: no cover
                continue
            if not sol.success or np.max(np.abs(sol.fun)) > 1e-9:
                continue
            start = [repr(float(t)) for t in sol.x]
            cp = certify_critical_point(phi, start, variables=[s.name for s in sub_vars],
                                        dps=40)
            if not cp.certified or cp.radius is None:
                continue
            dps = 40
            iv = interval_context(dps)
            # The printed centre is rounded far below the radius; doubling the radius keeps the
            # certified zero inside the box.
            r = 2 * iv.mpf(cp.radius)
            box = [iv.mpf(c) + iv.mpf([-r.b, r.b]) for c in cp.point]
            prog = program_from_sympy([phi], sub_vars)
            val = compile_program(prog, "interval", dps)(box, [])[0]
            if val.a > 0 or val.b < 0:
                return {"kind": "certified box", "fixed": {str(k): str(c) for k, c in
                                                          env.items()},
                        "centre": list(cp.point), "radius": cp.radius,
                        "g_enclosure": str(val)}
    return None


def quasi_homogeneous(germ: Germ) -> MethodOutcome:
    """θ = 1 − w_min for a quasi-homogeneous germ with the hypotheses of the module docstring.

    >>> from kltools.analysis.germ import make_germ
    >>> quasi_homogeneous(make_germ("x**3 + x*y**3", variables="x,y")).exponent
    7/9
    >>> out = quasi_homogeneous(make_germ("x**3 + 3*x*y**4", variables="x,y"))
    >>> out.exponent, out.details["upper_bound"]
    (None, '5/6')
    """
    name = "quasi-homogeneous"
    if germ.poly is None:
        return MethodOutcome.declined(name, "needs a polynomial with rational coefficients")
    w = weights(germ)
    if w is None:
        return MethodOutcome.declined(name, "not weighted homogeneous with unique weights")
    if any(wi <= 0 for wi in w):
        return MethodOutcome.declined(name, f"weights {w} are not all positive",
                                      weights=[str(x) for x in w])
    details: dict[str, Any] = {"weights": [str(x) for x in w]}
    basis = sp.groebner(list(germ.gradient), *germ.variables, order="grevlex")
    if not basis.is_zero_dimensional:
        return MethodOutcome.declined(
            name, "the critical point is not isolated over ℂ (the partials have a positive-"
                  "dimensional common zero set), so isolatedness is not proved", **details)
    w_min = min(w)
    theta = 1 - w_min
    details["upper_bound"] = str(theta)
    J = [j for j in range(germ.n) if w[j] > w_min]
    witness = _witness(germ, J) if J else _witness(germ, [])
    if witness is None:
        return MethodOutcome.declined(
            name, f"θ ≤ {theta} is proved (isolated), but no real u with ∂g/∂x_j(u) = 0 "
                  f"(w_j > w_min) and g(u) ≠ 0 was found: the lower bound is not proved",
            **details)
    details["witness"] = witness
    return MethodOutcome(name, theta,
                         f"weights {[str(x) for x in w]}, isolated critical point, witness "
                         f"{witness['kind']}: θ = 1 − w_min = {theta}", None, details)
