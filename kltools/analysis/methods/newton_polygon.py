"""Two variables: the exponent from the Newton polygon, real case, by matching bounds.

Notation. g = Σ c_ij x^i y^j ∈ ℚ[x, y] with g(0) = 0, ∇g(0) = 0. The Newton polygon is the lower-
left boundary of conv(supp g + ℝ²₊); its compact faces are vertices and edges. For weights
w = (p, q) > 0 the face F(w) minimises pi + qj over supp g, with value d(w); g_F is the sum of
the terms on F. For an edge with primitive normal (p, q), the *heavy* variable is the one with the
larger weight (x when p > q).

Arc lemma (curve selection; Bochnak–Risler, see also Kurdyka–Mostowski–Parusiński, Ann. Math.
152 (2000)). θ(g) = sup over real analytic arcs γ(0) = 0 with g∘γ ≢ 0 of
ord|∇g∘γ| / ord g∘γ. (If the inequality fails for a rational α, the semialgebraic set
{(x, s): |∇g(x)| ≤ s|g(x)|^α, g(x) ≠ 0} has (0, 0) in its closure; an arc in it has
ord|∇g∘γ| > α·ord g∘γ.)

Theorem (implemented; proved here). Assume the real non-degeneracy condition

    (ND) for every compact edge E, g_E has no singular zero in (ℝ*)²

(checked exactly: the univariate polynomials g_E(X, ±1) have no repeated non-zero real root).
An arc with both coordinates ≢ 0 is x = αt^p + …, y = βt^q + … with α, β ∈ ℝ*; then
g∘γ = g_F(α, β)t^d + …, ∂_x g∘γ = ∂_x g_F(α, β)t^{d−p} + …, ∂_y g∘γ = ∂_y g_F(α, β)t^{d−q} + ….
If g_F(α, β) ≠ 0, Euler's identity p·x∂_x g_F + q·y∂_y g_F = d·g_F shows one partial is non-zero
at (α, β), so the ratio lies in [1 − max(p, q)/d, 1 − min(p, q)/d], and equals the lower end when
the heavy partial is non-zero at (α, β). If g_F(α, β) = 0, (ND) and Euler make both partials
non-zero there, so the ratio is (d − max(p, q))/ord g∘γ < 1 − max(p, q)/d. Arcs on an axis
(y ≡ 0) have the exact ratio min(m − 1, k)/m, with m = ord g(x, 0), k = ord ∂_y g(x, 0). Hence:

* upper bound U = max of: the axis ratios; for each edge, 1 − light/d if the heavy partial of g_E
  has a non-zero real zero (with g_E ≠ 0 there, automatic under (ND)), else 1 − heavy/d; for each
  vertex x^i y^j, the supremum over its cone of weights of 1 − heavy/(pi + qj) (or 1 − light/… if
  the heavy exponent is 0, the heavy partial of the monomial then vanishing identically), a
  linear-fractional function, so its supremum is at a cone boundary or at p = q;
* lower bound L = max of values attained along explicit witnesses: axis arcs; orbits
  (αt^p, βt^q) at generic (α, β) (ratio exactly 1 − heavy/d on an edge, and on a vertex cone
  the same at its boundary or at p = q); and, when the heavy partial of an edge polynomial changes
  sign at a real non-zero root, the points (t^p X(t), t^q β) with ∂_x g = 0 exactly (intermediate
  value theorem), where the ratio is 1 − light/d.

If U = L, then θ = U exactly. Otherwise (or without (ND)) the method declines; U is still a
proved upper bound under (ND) and is reported.

Real versus complex. The complex formulas (Lenarcik, "On the Łojasiewicz exponent of the gradient
of a holomorphic function", Banach Center Publ. 44 (1998); Nguyen–Pham–Hoàng,
arXiv:1708.08295, polar quotients) can differ from the real exponent: for x³ + 3xy⁴ the complex
polar branches x = ±iy² give 5/6, but θ over ℝ is 2/3 (the heavy partial 3x² + 3y⁴ has no real
zero). The theorem above is the real statement.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import gcd
from typing import Any

import sympy as sp

from kltools.analysis.germ import Germ
from kltools.analysis.methods._outcome import MethodOutcome

__all__ = ["Edge", "newton_polygon", "polygon"]

INF = sp.oo


@dataclass(frozen=True)
class Edge:
    """A compact edge: endpoints, primitive normal (p, q), weighted degree d, polynomial g_E."""

    start: tuple[int, int]
    end: tuple[int, int]
    p: int
    q: int
    d: int
    poly: sp.Expr


def polygon(support: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Vertices of the Newton polygon, from the leftmost (then lowest) to the lowest (then
    leftmost) point.

    >>> polygon([(3, 0), (1, 3), (2, 2)])
    [(1, 3), (3, 0)]
    """
    pts = sorted(set(support))
    start = min(pts, key=lambda a: (a[0], a[1]))
    stop = min(pts, key=lambda a: (a[1], a[0]))
    hull: list[tuple[int, int]] = []
    for pt in pts:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (pt[1] - y1) - (y2 - y1) * (pt[0] - x1) <= 0:
                hull.pop()
            else:
                break
        hull.append(pt)
    i0, i1 = hull.index(start), hull.index(stop)
    return hull[i0:i1 + 1]


def _edges(g: sp.Poly, verts: list[tuple[int, int]]) -> list[Edge]:
    x, y = g.gens
    terms = dict(zip(g.monoms(), g.coeffs(), strict=True))
    out = []
    for a, b in itertools.pairwise(verts):
        di, dj = b[0] - a[0], b[1] - a[1]
        k = gcd(di, -dj)
        p, q = -dj // k, di // k
        d = p * a[0] + q * a[1]
        poly = sp.Add(*[c * x**i * y**j for (i, j), c in terms.items() if p * i + q * j == d])
        out.append(Edge(a, b, p, q, d, poly))
    return out


def _nonzero_real_roots(poly: sp.Poly) -> list[tuple[sp.Expr, int]]:
    """Distinct non-zero real roots with multiplicities."""
    if poly.is_zero or poly.degree() <= 0:
        return []
    out = []
    for fac, mult in sp.sqf_list(poly)[1]:
        for r in sp.real_roots(fac):
            if r != 0:
                out.append((r, mult))
    return out


def _edge_bounds(e: Edge, x: sp.Symbol, y: sp.Symbol
                 ) -> tuple[bool, sp.Rational, sp.Rational, dict[str, Any]]:
    """(non-degenerate, upper, lower, details) for one edge."""
    info: dict[str, Any] = {"edge": [list(e.start), list(e.end)], "normal": [e.p, e.q],
                            "degree": e.d, "polynomial": str(e.poly)}
    X = sp.Dummy("X")
    for beta in (1, -1):
        h = sp.Poly(e.poly.xreplace({x: X, y: beta}), X)
        if any(m > 1 for _, m in _nonzero_real_roots(h)):
            info["degenerate_at"] = f"y = {beta}"
            return False, INF, INF, info
    heavy, light = max(e.p, e.q), min(e.p, e.q)
    if e.p == e.q:
        val = 1 - sp.Rational(e.p, e.d)
        return True, val, val, info
    hv = x if e.p > e.q else y
    roots: list[tuple[sp.Expr, int]] = []
    for sgn in (1, -1):
        env = {y: sgn, x: X} if hv == x else {x: sgn, y: X}
        h = sp.Poly(sp.diff(e.poly, hv).xreplace(env), X)
        roots += _nonzero_real_roots(h)
    lo_val, hi_val = 1 - sp.Rational(heavy, e.d), 1 - sp.Rational(light, e.d)
    info["heavy"] = str(hv)
    if not roots:
        return True, lo_val, lo_val, info
    info["heavy_partial_real_roots"] = [[str(r), m] for r, m in roots]
    odd = any(m % 2 for _, m in roots)
    return True, hi_val, (hi_val if odd else lo_val), info


def _limit_ratio(num: tuple[int, int], den: tuple[int, int], at: sp.Expr) -> sp.Expr:
    """lim (num₀ + num₁ρ)/(den₀ + den₁ρ) as ρ → at ∈ {0, ∞} (both affine, positive)."""
    a, b = num
    i, j = den
    if at == 0:
        return sp.Rational(a, i) if i else (INF if a > 0 else sp.Rational(b, j))
    return sp.Rational(b, j) if j else (INF if b > 0 else sp.Rational(a, i))


def _zero_heavy_part(v: tuple[int, int], terms: dict[tuple[int, int], sp.Expr], lo: sp.Expr,
                     hi: sp.Expr, heavy: int) -> tuple[sp.Expr, sp.Expr, list[str]]:
    """Bounds over weights ρ = q/p ∈ [lo, hi] of a vertex whose monomial does not contain the
    heavy variable (``heavy`` = 0 for x, 1 for y), so its heavy partial vanishes identically.

    With p = 1, q = ρ: the light partial has the exact order d(ρ) − light (the vertex monomial's
    light partial), and the heavy partial ∂g has order e(ρ) = min over supp ∂g of i + ρj, exactly
    unless two of its monomials tie (finitely many ρ, the normals of the Newton polygon of ∂g)
    *and* the tied part has a real zero in (ℝ*)² (then only ord ≥ e(ρ) is known, and the upper
    bound falls back to 1 − light/d there). The ratio min(d − light, e)/d is continuous and
    linear-fractional between breakpoints, so its supremum is at an endpoint, a breakpoint, or a
    crossing d − light = e; generic orbits (αt, βt^ρ) realise it (a supremum approached as
    ρ → 0 or ∞), so it is also a lower bound.
    """
    i, j = v
    d = (i, j)
    dl = (i, j - 1) if heavy == 0 else (i - 1, j)  # d − light, affine in ρ
    dpart: dict[tuple[int, int], sp.Expr] = {}
    for (a, b), c in terms.items():
        if heavy == 0 and a >= 1:
            dpart[(a - 1, b)] = c * a
        if heavy == 1 and b >= 1:
            dpart[(a, b - 1)] = c * b
    lines = [dl, *dpart]

    def at(r: sp.Expr) -> sp.Expr:
        if r == 0 or r == INF:
            return sp.Min(*[_limit_ratio(m, d, r) for m in lines])
        return sp.Min(*[m[0] + r * m[1] for m in lines]) / (d[0] + r * d[1])

    def cross(m1: tuple[int, int], m2: tuple[int, int]) -> sp.Expr | None:
        if m1[1] == m2[1]:
            return None
        r = sp.Rational(m2[0] - m1[0], m1[1] - m2[1])
        return r if lo < r < hi else None

    cands: set[sp.Expr] = {lo, hi}
    breaks: set[sp.Expr] = set()
    ms = list(dpart)
    for a in range(len(ms)):
        r = cross(ms[a], dl)
        if r is not None:
            cands.add(r)
        for b in range(a + 1, len(ms)):
            r = cross(ms[a], ms[b])
            if r is not None:
                breaks.add(r)
    cands |= breaks
    low = sp.Max(*[at(r) for r in cands])
    up = low
    notes: list[str] = []
    X = sp.Dummy("X")
    x, y = sp.Dummy("x"), sp.Dummy("y")
    for r in breaks:
        e_r = min(m[0] + r * m[1] for m in ms)
        tied = [m for m in ms if m[0] + r * m[1] == e_r]
        if len(tied) < 2:
            continue
        part = sp.Add(*[dpart[m] * x**m[0] * y**m[1] for m in tied])
        roots = []
        for sgn in (1, -1):
            roots += _nonzero_real_roots(sp.Poly(part.xreplace({x: X, y: sgn}), X))
        if roots:
            up = sp.Max(up, sp.Rational(dl[0] + r * dl[1]) / (d[0] + r * d[1]))
            notes.append(f"the heavy partial may cancel at rho = {r}")
    return up, low, notes


def _vertex_bounds(v: tuple[int, int], a: sp.Expr, b: sp.Expr,
                   terms: dict[tuple[int, int], sp.Expr]) -> tuple[sp.Expr, sp.Expr,
                                                                   dict[str, Any]]:
    """Upper and (witnessed) lower bound over the cone a ≤ ρ = q/p ≤ b of a vertex."""
    i, j = v
    up: sp.Expr = -INF
    low: sp.Expr = -INF
    notes: list[str] = []
    if a < 1:  # the part with p ≥ q (x heavy)
        if i >= 1:
            rho = sp.Min(b, 1)
            val = 1 - 1 / (i + rho * j)
            up, low = sp.Max(up, val), sp.Max(low, val)
        else:
            u2, l2, n2 = _zero_heavy_part(v, terms, a, sp.Min(b, 1), heavy=0)
            up, low = sp.Max(up, u2), sp.Max(low, l2)
            notes += n2
    if b > 1:  # the part with q ≥ p (y heavy)
        if j >= 1:
            rho = sp.Max(a, 1)
            val = 1 - 1 / (j + i / rho)
            up, low = sp.Max(up, val), sp.Max(low, val)
        else:
            u2, l2, n2 = _zero_heavy_part(v, terms, sp.Max(a, 1), b, heavy=1)
            up, low = sp.Max(up, u2), sp.Max(low, l2)
            notes += n2
    info: dict[str, Any] = {"vertex": [i, j], "cone": [str(a), str(b)], "upper": str(up),
                            "lower": str(low)}
    if notes:
        info["notes"] = notes
    return up, low, info


def _axis(terms: dict[tuple[int, int], sp.Expr], axis: int) -> sp.Expr | None:
    """Exact ratio along the x-axis (axis = 0) or the y-axis (axis = 1); None if g ≡ 0 there."""
    along = [m for m in terms if m[1 - axis] == 0]
    if not along:
        return None
    m = min(a[axis] for a in along)
    cross = [a[axis] for a in terms if a[1 - axis] == 1]
    k = min(cross) if cross else INF
    return sp.Min(m - 1, k) / m


def newton_polygon(germ: Germ) -> MethodOutcome:
    """θ from the Newton polygon when proved upper and lower bounds meet (module docstring).

    >>> from kltools.analysis.germ import make_germ
    >>> newton_polygon(make_germ("x**3 + 3*x*y**4", variables="x,y")).exponent
    2/3
    >>> newton_polygon(make_germ("x**3 + x*y**3", variables="x,y")).exponent
    7/9
    >>> newton_polygon(make_germ("(x**2 - y**3)**2", variables="x,y")).reason[:40]
    'the principal part is degenerate on the '
    """
    name = "newton-polygon"
    if germ.n != 2:
        return MethodOutcome.declined(name, f"{germ.n} variables, not two")
    if germ.poly is None:
        return MethodOutcome.declined(name, "needs a polynomial with rational coefficients")
    g = germ.poly
    x, y = germ.variables
    terms = dict(zip(g.monoms(), g.coeffs(), strict=True))
    verts = polygon(list(terms))
    edges = _edges(g, verts)
    uppers: list[sp.Expr] = []
    lowers: list[sp.Expr] = []
    faces: list[dict[str, Any]] = []
    for e in edges:
        nd, up, low, info = _edge_bounds(e, x, y)
        if not nd:
            return MethodOutcome.declined(
                name, f"the principal part is degenerate on the edge {e.start}–{e.end} "
                      f"(g_E = {e.poly} has a singular zero in (ℝ*)², {info['degenerate_at']})",
                faces=[*faces, info])
        info.update(upper=str(up), lower=str(low))
        faces.append(info)
        uppers.append(up)
        lowers.append(low)
    rhos = [sp.Rational(e.q, e.p) for e in edges]
    cones = list(zip([sp.Integer(0), *rhos], [*rhos, INF], strict=True))
    for v, (a, b) in zip(verts, cones, strict=True):
        up, low, info = _vertex_bounds(v, a, b, terms)
        faces.append(info)
        uppers.append(up)
        lowers.append(low)
    axes = {}
    for axis, label in ((0, "x-axis"), (1, "y-axis")):
        r = _axis(terms, axis)
        if r is not None:
            axes[label] = str(r)
            uppers.append(r)
            lowers.append(r)
    U, L = sp.Max(*uppers), sp.Max(*lowers)
    details = {"vertices": [list(v) for v in verts], "faces": faces, "axes": axes,
               "upper_bound": str(U), "lower_bound": str(L)}
    if U != L:
        return MethodOutcome.declined(
            name, f"proved bounds {L} ≤ θ ≤ {U} do not meet", **details)
    return MethodOutcome(name, sp.Rational(U),
                         f"non-degenerate Newton polygon, vertices {verts}: proved upper bound "
                         f"meets a witnessed lower bound, θ = {U}", None, details)
