"""Critical points: Newton refinement, certification, classification by certified inertia.

Certification (a *proof* that a critical point exists where we say):

* **exact**: the point is given exactly and ∇f(p) = 0 is decided by exact (SymPy) arithmetic;
* **Krawczyk**: for a box X = x̃ + [−r, r]ⁿ, an approximate inverse Y of the Hessian at x̃ and
  the interval enclosure H(X) of the Hessian over X, the Krawczyk operator

      K(X) = x̃ − Y·∇f(x̃) + (I − Y·H(X))·(X − x̃)

  is evaluated in outward-rounded interval arithmetic (``mpmath.iv``). If K(X) ⊂ int X, then X
  contains exactly one zero of ∇f and every matrix in H(X) is non-singular (Krawczyk 1969;
  Moore; Rump's formulation). This needs a non-singular Hessian: at a degenerate critical point it
  fails, and then nothing is certified.

Classification uses :mod:`kltools.analysis.inertia`: exact inertia when the Hessian at the point is
known exactly, interval inertia over the Krawczyk box otherwise. A Hessian with a zero eigenvalue
is reported ``degenerate`` with its kernel dimension (or ``saddle`` when it is indefinite, which
decides the type regardless); a degenerate point is never reported as certified non-degenerate.

Piecewise models (ReLU networks): the analysis uses the smooth piece of the point's activation
pattern; a Krawczyk box is accepted only if every kink surface is proved (by interval evaluation)
to keep its sign on the whole box, so the box lies inside one smooth piece.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from kltools.analysis.germ import FunctionInput, parse_point, smooth_expression
from kltools.analysis.inertia import Inertia, exact_inertia, interval_inertia
from kltools.compiled.pointwise import compile_program, interval_context
from kltools.compiled.program import program_from_sympy
from kltools.errors import DerivationError
from kltools.numbers import mp_context, to_mpf
from kltools.spec.problem import Problem
from kltools.symbolic.derivation import derive
from kltools.symbolic.kinks import KinkConvention

__all__ = ["CriticalPoint", "certify_critical_point", "newton_critical_point"]


@dataclass(frozen=True)
class CriticalPoint:
    """What is known about a critical point.

    Attributes
    ----------
    point
        Exact coordinates (``"1/2"``) when ``exact``, else decimal strings of the box centre.
    exact
        The point is known exactly and ∇f = 0 there is proved by exact arithmetic.
    certified
        A critical point is proved to exist: exactly at ``point`` (``exact``), or uniquely in the
        box of half-width ``radius`` around it (Krawczyk).
    method
        ``"exact"``, ``"krawczyk"`` or ``"none"``.
    radius
        Half-width of the Krawczyk box (a string), or None.
    classification
        ``minimum``, ``maximum``, ``saddle``, ``degenerate`` or ``unknown``.
    inertia
        (n₊, n₋, n₀) of the Hessian; certified when ``inertia_certified``, otherwise a floating
        point estimate (eigenvalues below a tolerance counted as zero).
    kernel_dimension
        Dimension of the Hessian's kernel (certified when ``inertia_certified``).
    gradient_norm
        |∇f| at the reported point (an upper bound from interval arithmetic when not exact).
    note
        Why something could not be certified, or extra facts.
    """

    point: tuple[str, ...]
    exact: bool
    certified: bool
    method: str
    radius: str | None
    classification: str
    inertia: Inertia | None
    inertia_certified: bool
    kernel_dimension: int | None
    gradient_norm: str
    note: str = ""

    @property
    def nondegenerate(self) -> bool:
        """Certified non-degenerate: existence certified and a certified non-singular Hessian."""
        return self.certified and self.inertia_certified and self.kernel_dimension == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "point": list(self.point), "certified": self.certified, "exact": self.exact,
            "method": self.method, "radius": self.radius,
            "classification": self.classification,
            "inertia": None if self.inertia is None else [self.inertia.positive,
                                                          self.inertia.negative,
                                                          self.inertia.zero],
            "inertia_certified": self.inertia_certified,
            "kernel_dimension": self.kernel_dimension,
            "gradient_norm": self.gradient_norm, "note": self.note,
        }


# -- the smooth function at hand ---------------------------------------------------------------
@dataclass
class _Smooth:
    """∇f, ∇²f (and kink surfaces with their required signs) as expressions and compiled code."""

    variables: tuple[sp.Symbol, ...]
    expr: sp.Expr
    surfaces: list[tuple[sp.Expr, int]]

    def __post_init__(self) -> None:
        self.grad = [sp.diff(self.expr, v) for v in self.variables]
        n = len(self.variables)
        self.hess = [[sp.diff(self.grad[i], self.variables[j]) for j in range(n)]
                     for i in range(n)]
        outs = self.grad + [h for row in self.hess for h in row]
        self.program = program_from_sympy(outs, self.variables)
        self.surface_program = (program_from_sympy([s for s, _ in self.surfaces],
                                                   self.variables)
                                if self.surfaces else None)

    def evaluate(self, x: Sequence[object], backend: str, dps: int
                 ) -> tuple[list[Any], list[list[Any]]]:
        n = len(self.variables)
        out = compile_program(self.program, backend, dps)(list(x), [])
        return list(out[:n]), [list(out[n + i * n:n + (i + 1) * n]) for i in range(n)]

    def surfaces_keep_sign(self, box: Sequence[Any], dps: int) -> bool:
        if self.surface_program is None:
            return True
        vals = compile_program(self.surface_program, "interval", dps)(list(box), [])
        for v, (_, want) in zip(vals, self.surfaces, strict=True):
            lo, hi = _lo(v), _hi(v)
            if not ((want == 1 and lo > 0) or (want == 0 and hi < 0)):
                return False
        return True


def _lo(v: Any) -> Any:
    return v.a if not hasattr(v, "_mpi_") else mp_context(15).make_mpf(v._mpi_[0])


def _hi(v: Any) -> Any:
    return v.b if not hasattr(v, "_mpi_") else mp_context(15).make_mpf(v._mpi_[1])


def _smooth(f: FunctionInput, variables: Sequence[str | sp.Symbol] | str | None,
            at: Sequence[object] | str | None) -> tuple[_Smooth, tuple[sp.Expr, ...]]:
    if isinstance(f, Problem):
        d = derive(f)
        point = parse_point(at, len(d.parameters))
        expr = d.loss_expr
        surfaces: list[tuple[sp.Expr, int]] = []
        if d.switches:
            chi = d.pattern(point, KinkConvention.ERROR)
            env = d.on_pattern(chi)
            expr = expr.xreplace(env)
            surfaces = [(s.xreplace(env), c)
                        for s, c in zip(d.surface_exprs, chi, strict=True)]
        return _Smooth(d.parameters, expr, surfaces), point
    expr, syms = smooth_expression(f, variables)
    return _Smooth(syms, expr, []), parse_point(at, len(syms))


# -- Newton --------------------------------------------------------------------------------------
def newton_critical_point(f: FunctionInput, at: Sequence[object] | str, *,
                          variables: Sequence[str | sp.Symbol] | str | None = None,
                          dps: int = 50, max_steps: int = 100) -> tuple[list[Any], bool]:
    """Newton's method on ∇f = 0 from ``at`` at ``dps`` digits: (point, converged).

    Converged means the last step was below 10^(−dps/2) relative to the point, with a
    non-singular Hessian; at a degenerate critical point Newton converges slowly or not at all,
    and ``converged`` is False.
    """
    smooth, point = _smooth(f, variables, at)
    return _newton(smooth, point, dps, max_steps)


def _newton(smooth: _Smooth, point: Sequence[sp.Expr], dps: int, max_steps: int
            ) -> tuple[list[Any], bool]:
    mp = mp_context(dps + 10)
    x = [mp.mpf(sp.N(c, dps + 20)) if not c.is_Rational else mp.mpf(c.p) / c.q for c in point]
    n = len(x)
    tol = mp.mpf(10) ** (-(dps // 2))
    for _ in range(max_steps):
        g, h = smooth.evaluate(x, "mpmath", dps + 10)
        try:
            step = mp.lu_solve(mp.matrix(h), mp.matrix(g))
        except ZeroDivisionError:
            return x, False
        x = [x[i] - step[i] for i in range(n)]
        size = max(abs(step[i]) for i in range(n))
        scale = 1 + max(abs(v) for v in x)
        if size <= tol * scale:
            g, h = smooth.evaluate(x, "mpmath", dps + 10)
            return x, True
    return x, False


# -- Krawczyk ------------------------------------------------------------------------------------
def _krawczyk(smooth: _Smooth, center: Sequence[Any], dps: int
              ) -> tuple[Any, list[list[Any]], list[Any]] | None:
    """Try boxes of growing radius; return (radius, H(X), X) of the first proved box."""
    iv = interval_context(dps)
    mp = mp_context(dps)
    n = len(center)
    c_iv = [iv.convert(v) for v in center]
    g_c, _ = smooth.evaluate(c_iv, "interval", dps)
    _, h_mid = smooth.evaluate([mp.convert(v) for v in center], "mpmath", dps)
    try:
        Y = mp.inverse(mp.matrix(h_mid))
    except ZeroDivisionError:
        return None
    Yi = [[iv.convert(Y[i, j]) for j in range(n)] for i in range(n)]
    resid = max(abs(mp.convert(_hi(abs(v)))) for v in g_c)
    start = max(resid * 10 * (1 + max(abs(mp.convert(Y[i, j])) for i in range(n)
                                      for j in range(n))), mp.mpf(10) ** (-(dps // 2)))
    r = start
    for _ in range(12):
        X = [iv.mpf([mp.convert(c) - r, mp.convert(c) + r]) for c in center]
        _, HX = smooth.evaluate(X, "interval", dps)
        ok = True
        for i in range(n):
            k = c_iv[i] - sum((Yi[i][j] * g_c[j] for j in range(n)), iv.mpf(0))
            for j in range(n):
                m_ij = (iv.mpf(1) if i == j else iv.mpf(0)) - sum(
                    (Yi[i][k2] * HX[k2][j] for k2 in range(n)), iv.mpf(0))
                k = k + m_ij * (X[j] - c_iv[j])
            if not (_lo(k) > _lo(X[i]) and _hi(k) < _hi(X[i])):
                ok = False
                break
        if ok and smooth.surfaces_keep_sign(X, dps):
            return r, HX, X
        r *= 100
        if r > mp.mpf("0.1"):
            break
    return None


def _fmt(v: Any, digits: int) -> str:
    return sp.Float(str(v), digits).__str__() if v is not None else "nan"


# -- public ----------------------------------------------------------------------------------------
def certify_critical_point(f: FunctionInput, at: Sequence[object] | str | None = None, *,
                           variables: Sequence[str | sp.Symbol] | str | None = None,
                           dps: int = 50, refine: bool = True) -> CriticalPoint:
    """Certify and classify a critical point of ``f`` at (or, with ``refine``, near) ``at``.

    Parameters
    ----------
    f
        An expression (string or SymPy, with ``variables``) or a
        :class:`~kltools.spec.problem.Problem`.
    at
        The point (exact numbers or strings; ``None`` is the origin).
    dps
        Working precision (decimal digits) of Newton and of the interval arithmetic.
    refine
        If ∇f(at) ≠ 0, run Newton from ``at`` and certify the limit by Krawczyk.

    Returns
    -------
    CriticalPoint
        See its attributes; ``certified`` is a proof, ``classification`` is certified when
        ``inertia_certified``.

    Examples
    --------
    >>> cp = certify_critical_point("(a*b - 1)**2/2", [0, 0], variables="a,b")
    >>> cp.exact, cp.classification, cp.kernel_dimension
    (True, 'saddle', 0)
    >>> cp = certify_critical_point("(a*b - 1)**2/2", ["2", "1/2"], variables="a,b")
    >>> cp.certified, cp.classification, cp.kernel_dimension, cp.nondegenerate
    (True, 'degenerate', 1, False)
    >>> cp = certify_critical_point("x**3 - 6*x + y**2", ["1.4", "0.1"], variables="x,y")
    >>> cp.method, cp.classification, cp.nondegenerate, cp.point[0][:12]
    ('krawczyk', 'minimum', True, '1.4142135623')
    """
    smooth, point = _smooth(f, variables, at)
    env = dict(zip(smooth.variables, point, strict=True))
    grad0 = [sp.simplify(g.xreplace(env)) for g in smooth.grad]
    exact_zero = all(g == 0 for g in grad0)
    if exact_zero:
        return _exact(smooth, point, env)
    if not refine:
        raise DerivationError(f"{[str(c) for c in point]} is not a critical point: ∇f = "
                              f"{[str(g) for g in grad0]}")
    x, converged = _newton(smooth, point, dps, 200)
    mp = mp_context(dps)
    digits = max(15, dps - 10)
    if converged:
        found = _krawczyk(smooth, x, dps)
        if found is not None:
            r, HX, _ = found
            inertia = interval_inertia(HX, dps)
            g_c, _ = smooth.evaluate([interval_context(dps).convert(v) for v in x], "interval",
                                     dps)
            gnorm = max(_hi(abs(v)) for v in g_c)
            if inertia is None:  # pragma: no cover - Krawczyk success implies regular H(X)
                return CriticalPoint(tuple(_fmt(v, digits) for v in x), False, True, "krawczyk",
                                     _fmt(r, 5), "unknown", None, False, None, _fmt(gnorm, 5),
                                     "inertia not decided over the box")
            return CriticalPoint(tuple(_fmt(v, digits) for v in x), False, True, "krawczyk",
                                 _fmt(r, 5), inertia.classification, inertia, True,
                                 inertia.zero, _fmt(gnorm, 5))
    # Not certified: report what the numbers suggest, flagged as uncertified.
    g, h = smooth.evaluate(x, "mpmath", dps)
    gnorm = max(abs(v) for v in g)
    ev = mp.eigsy(mp.matrix(h))[0]
    scale = max([abs(e) for e in ev] + [mp.mpf(1)])
    tol = mp.mpf(10) ** (-(dps // 4)) * scale
    pos = sum(1 for e in ev if e > tol)
    neg = sum(1 for e in ev if e < -tol)
    inertia = Inertia(pos, neg, len(ev) - pos - neg)
    why = ("Newton did not converge quadratically" if not converged else
           "the Krawczyk test failed") + (
        "; the Hessian looks singular (a degenerate critical point cannot be certified by "
        "interval Newton / Krawczyk)" if inertia.zero else "")
    return CriticalPoint(tuple(_fmt(v, digits) for v in x), False, False, "none", None,
                         inertia.classification if inertia.zero == 0 else "degenerate",
                         inertia, False, inertia.zero, _fmt(gnorm, 5), why)


def _exact(smooth: _Smooth, point: Sequence[sp.Expr], env: dict[sp.Symbol, sp.Expr]
           ) -> CriticalPoint:
    n = len(point)
    H = sp.Matrix(n, n, lambda i, j: sp.nsimplify(sp.simplify(smooth.hess[i][j].xreplace(env))))
    pts = tuple(str(c) for c in point)
    try:
        inertia = exact_inertia(H)
        return CriticalPoint(pts, True, True, "exact", None, inertia.classification, inertia,
                             True, inertia.zero, "0")
    except ValueError:
        pass
    # Transcendental entries: interval inertia of the (exactly located) Hessian.
    dps = 50
    iv = interval_context(dps)
    mp = mp_context(dps + 10)
    eps = mp.mpf(10) ** (-(dps + 5))
    # sp.N is correct to dps + 10 digits; widen by more than its error to keep an enclosure.
    mid = [[to_mpf(sp.N(H[i, j], dps + 10), mp) for j in range(n)] for i in range(n)]
    Hi = [[iv.mpf([m - eps, m + eps]) for m in row] for row in mid]
    inertia = interval_inertia(Hi, dps)
    if inertia is None:
        return CriticalPoint(pts, True, True, "exact", None, "degenerate", None, False, None,
                             "0", "the Hessian could not be proved non-singular")
    return CriticalPoint(pts, True, True, "exact", None, inertia.classification, inertia, True,
                         0, "0")
