"""Morse–Bott: a clean critical manifold with non-degenerate normal Hessian has exponent 1/2.

Theorem (implemented). Let g be a polynomial with g(0) = 0, ∇g(0) = 0, and let r = rank ∇²g(0),
0 < r < n. Choose r rows I of ∇²g(0) that are linearly independent and an r×r minor
h = det(∂_j ∂_i g)_{i∈I, j∈J} with h(0) ≠ 0. If, for every k ∉ I,

    h^m · ∂_k g ∈ ⟨∂_i g : i ∈ I⟩   for some m ≥ 0        (∂_k g ∈ ⟨∂_I g⟩ : h^∞),

then θ(g, 0) = 1/2.

Proof. (1) Z = {∂_i g = 0, i ∈ I} is a real-analytic submanifold of dimension n − r near 0 (the
differentials of ∂_I g are the rows I of ∇²g(0), independent: implicit function theorem).
(2) Near 0, h ≠ 0, so the membership gives ∂_k g = h^{−m}·Σ a_i ∂_i g = 0 on Z: Crit(g) = Z near 0.
(3) For q ∈ Z, differentiating ∇g = 0 along Z gives T_qZ ⊂ ker ∇²g(q), so rank ∇²g(q) ≤ r, and
rank ≥ r near 0 by lower semicontinuity of the rank: ker ∇²g(q) = T_qZ. So Z is a Morse–Bott
critical manifold (non-degenerate normal Hessian), and g = 0 on Z (connected, ∇g = 0 on it).
(4) Morse–Bott lemma: in local coordinates (u, v) with Z = {v = 0}, g = Q(v) with Q a
non-degenerate quadratic form; so |g| ≤ C|v|² and |∇g| ≥ c|v|, which gives |g|^{1/2} ≤ C'|∇g|;
along a normal eigendirection the ratio |g|^α/|∇g| is unbounded for α < 1/2. ∎

The membership test is exact: a Gröbner basis of ⟨∂_I g, 1 − t·h⟩ ⊂ ℚ[x, t] (the Rabinowitsch
trick: this ideal meets ℚ[x] in the saturation ⟨∂_I g⟩ : h^∞) reduces each ∂_k g to 0. In
practice h is multiplied by the factors of the ∂_i g (i ∈ I) that do not vanish at 0: any
multiplier that is non-zero at 0 keeps the proof valid (step 2), and these remove components of
{∂_I g = 0} that do not pass through the point. The test is sufficient, not necessary: when it
fails the method declines (it never guesses).
"""

from __future__ import annotations

import sympy as sp

from kltools.analysis.germ import Germ
from kltools.analysis.methods._outcome import MethodOutcome

__all__ = ["morse_bott"]


def morse_bott(germ: Germ) -> MethodOutcome:
    """θ = 1/2 at a point of a Morse–Bott critical manifold (module docstring).

    >>> from kltools.analysis.germ import make_germ
    >>> out = morse_bott(make_germ("(a*b - 1)**2/2", ["2", "1/2"], variables="a,b"))
    >>> out.exponent, out.details["manifold_dimension"]
    (1/2, 1)
    >>> morse_bott(make_germ("x**2 + y**4", variables="x,y")).applies
    False
    """
    name = "morse-bott"
    if germ.poly is None:
        return MethodOutcome.declined(name, "needs a polynomial with rational coefficients")
    H = germ.hessian0
    n = germ.n
    r = H.rank()
    if r == 0:
        return MethodOutcome.declined(name, "the Hessian vanishes: no non-degenerate normal "
                                            "directions")
    if r == n:
        return MethodOutcome.declined(name, "the Hessian is non-singular (use Morse)")
    # Independent rows I and a non-zero minor (rows I, columns J).
    _, pivots = H.T.rref()
    rows = list(pivots)
    _, col_pivots = H.extract(rows, list(range(n))).rref()
    cols = list(col_pivots)
    grads = [sp.expand(g) for g in germ.gradient]
    minor = sp.expand(sp.Matrix(r, r, lambda a, b: sp.diff(grads[rows[a]],
                                                           germ.variables[cols[b]])).det())
    if minor.xreplace(dict.fromkeys(germ.variables, 0)) == 0:  # pragma: no cover - by rref
        return MethodOutcome.declined(name, "no non-vanishing minor found")
    # Saturate by the minor times the factors of ∂_I g that do not vanish at 0 (units of the
    # local ring): any multiplier u with u(0) ≠ 0 keeps the proof valid, and the unit factors
    # remove components of {∂_I g = 0} that do not pass through the point.
    zero = dict.fromkeys(germ.variables, 0)
    units = [fac for i in rows for fac, _ in sp.factor_list(grads[i], *germ.variables)[1]
             if fac.xreplace(zero) != 0]
    multiplier = sp.expand(minor * sp.Mul(*units))
    t = sp.Dummy("t")
    basis = sp.groebner([grads[i] for i in rows] + [1 - t * multiplier], t, *germ.variables,
                        order="grevlex")
    others = [k for k in range(n) if k not in rows]
    for k in others:
        if not basis.contains(grads[k]):
            return MethodOutcome.declined(
                name, f"could not prove that ∂g/∂{germ.variables[k]} vanishes on the manifold "
                      f"{{∂g/∂x_i = 0, i in {[str(germ.variables[i]) for i in rows]}}} near the "
                      "point (saturation membership failed): not shown to be Morse–Bott",
                rank=r)
    return MethodOutcome(
        name, sp.Rational(1, 2),
        f"critical set near the point is a smooth manifold of dimension {n - r} = dim ker "
        "Hessian (proved by saturation membership): Morse–Bott lemma",
        None, {"rank": r, "manifold_dimension": n - r,
               "equations": [str(germ.variables[i]) for i in rows]})
