"""The germ of a function at a point: g(h) = f(p + h) − f(p), exact.

Every exponent method works on a :class:`Germ`: the point is moved to the origin exactly (rational
or algebraic coordinates stay exact), so a polynomial stays a polynomial with exact coefficients
and numerical evaluation near the point loses no digits to the subtraction of f(p).

Inputs accepted by :func:`make_germ` (and by the public functions of this package):

* an expression string with ``variables`` (names), parsed without ``eval`` by
  :func:`kltools.spec.expr.parse_expression`;
* a SymPy expression with ``variables`` (symbols or names);
* a :class:`~kltools.spec.problem.Problem` (objective or network). A piecewise model is analysed
  on the activation pattern of the point, which must lie off every kink surface (then the pattern
  is constant on a neighbourhood and the loss is smooth there).

The point ``at`` is a sequence of numbers or strings (``"1/2"``, ``"0.1"``, ``"sqrt(2)"``), kept
exact; ``None`` means the origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from kltools.errors import DerivationError, SpecError
from kltools.spec.expr import parse_expression, parse_number, real_symbol
from kltools.spec.problem import Objective, Problem
from kltools.symbolic.derivation import derive
from kltools.symbolic.kinks import KinkConvention

__all__ = ["FunctionInput", "Germ", "make_germ", "parse_point", "parse_variables"]

FunctionInput = str | sp.Expr | Problem


def parse_variables(variables: Sequence[str | sp.Symbol] | str | None,
                    path: str = "vars") -> tuple[sp.Symbol, ...]:
    """Real symbols from names (a list, or one comma-separated string such as ``"x,y"``)."""
    if variables is None:
        raise SpecError("give the variables of the expression (e.g. vars = ['x', 'y'])", path)
    if isinstance(variables, str):
        variables = [v.strip() for v in variables.split(",") if v.strip()]
    names = [v.name if isinstance(v, sp.Symbol) else v for v in variables]
    # Objective.parse validates the names (identifiers, keywords, clashes, duplicates).
    Objective.parse("0", names)
    return tuple(real_symbol(n) for n in names)


def parse_point(at: Sequence[object] | str | None, n: int, path: str = "at"
                ) -> tuple[sp.Expr, ...]:
    """The point as exact numbers: rationals, or constant expressions such as ``sqrt(2)``."""
    if at is None:
        return tuple(sp.Integer(0) for _ in range(n))
    if isinstance(at, str):
        at = [a.strip() for a in at.split(",")]
    values: list[sp.Expr] = []
    for i, a in enumerate(at):
        where = f"{path}[{i}]"
        if isinstance(a, sp.Expr) and a.is_number:
            values.append(sp.nsimplify(a) if isinstance(a, sp.Float) else a)
            continue
        try:
            values.append(parse_number(a, where))
        except SpecError:
            if not isinstance(a, str):
                raise
            e = parse_expression(a, [], where, fix="a point coordinate must be a constant")
            if not e.is_number:
                raise SpecError(f"{a!r} is not a constant", where) from None
            values.append(e)
    if len(values) != n:
        raise SpecError(f"the point has {len(values)} coordinate(s) but there are {n} "
                        "variable(s); give one value per variable", path)
    return tuple(values)


@dataclass(frozen=True)
class Germ:
    """g(h) = f(p + h) − f(p) near h = 0.

    Attributes
    ----------
    expr
        g as a SymPy expression in ``variables`` (which now stand for the displacement h).
    variables
        The real symbols, in the caller's order.
    point
        p, exact.
    value
        f(p), exact.
    source
        f itself (in the original variables).
    """

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    point: tuple[sp.Expr, ...]
    value: sp.Expr
    source: sp.Expr
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return len(self.variables)

    @cached_property
    def poly(self) -> sp.Poly | None:
        """g as a polynomial with rational coefficients, or None if it is not one."""
        if not self.expr.is_polynomial(*self.variables):
            return None
        p = sp.Poly(self.expr, *self.variables)
        return p if p.domain.is_QQ or p.domain.is_ZZ else None

    @property
    def is_polynomial(self) -> bool:
        return self.poly is not None

    @cached_property
    def degree(self) -> int | None:
        return None if self.poly is None else self.poly.total_degree()

    @cached_property
    def gradient(self) -> tuple[sp.Expr, ...]:
        return tuple(sp.diff(self.expr, v) for v in self.variables)

    @cached_property
    def hessian0(self) -> sp.Matrix:
        """∇²g(0) = ∇²f(p), exact."""
        zero = dict.fromkeys(self.variables, 0)
        return sp.Matrix(self.n, self.n, lambda i, j: sp.nsimplify(sp.simplify(
            sp.diff(self.gradient[i], self.variables[j]).xreplace(zero))))

    def point_strings(self) -> list[str]:
        return [str(c) for c in self.point]

    def restrict(self, expr: sp.Expr) -> Germ:
        """Another germ at the same point (used by the power rule for a factor)."""
        return Germ(sp.expand(expr), self.variables, self.point, sp.Integer(0), expr)


def _is_zero(e: sp.Expr) -> bool | None:
    """Exact zero test: True, False, or None when SymPy cannot decide."""
    e = sp.simplify(e)
    if e == 0:
        return True
    z = e.is_zero
    if z is not None:
        return bool(z)
    eq = e.equals(0)
    return None if eq is None else bool(eq)


def _function(f: FunctionInput, variables: Sequence[str | sp.Symbol] | str | None,
              at: Sequence[object] | str | None) -> tuple[sp.Expr, tuple[sp.Symbol, ...],
                                                         tuple[sp.Expr, ...], tuple[str, ...]]:
    if isinstance(f, Problem):
        d = derive(f)
        syms = d.parameters
        point = parse_point(at, len(syms))
        expr = d.loss_expr
        notes: tuple[str, ...] = ()
        if d.switches:
            try:
                chi = d.pattern(point, KinkConvention.ERROR)
            except DerivationError as exc:
                raise DerivationError(
                    f"{exc}; the point lies on a kink surface, where the loss is not smooth: the "
                    "Łojasiewicz exponent is computed on one smooth piece, so choose a point off "
                    "the kinks") from None
            expr = expr.xreplace(d.on_pattern(chi))
            notes = (f"piecewise model analysed on its activation pattern {chi} at the point",)
        return expr, syms, point, notes
    expr, syms = smooth_expression(f, variables)
    return expr, syms, parse_point(at, len(syms)), ()


def smooth_expression(f: str | sp.Expr, variables: Sequence[str | sp.Symbol] | str | None
                      ) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """A smooth expression in the declared variables, from text or SymPy (kinks refused)."""
    syms = parse_variables(variables)
    if isinstance(f, str):
        expr = parse_expression(f, syms, "expr")
    elif isinstance(f, sp.Expr):
        by_name = {s.name: s for s in syms}
        unknown = sorted(s.name for s in f.free_symbols if s.name not in by_name)
        if unknown:
            raise SpecError(f"unknown symbol(s) {unknown}; the variables are "
                            f"{sorted(by_name)}; add them to vars", "expr")
        expr = f.xreplace({s: by_name[s.name] for s in f.free_symbols})
    else:
        raise SpecError(f"expected an expression (string or SymPy) or a Problem, got "
                        f"{type(f).__name__}", "expr")
    if expr.has(sp.Max, sp.Min, sp.Abs):
        raise DerivationError("the expression has kinks (relu, abs, Max, Min); write it as a "
                              "TOML objective spec and pass a Problem so that the pattern of the "
                              "point is used, or give a smooth expression")
    return expr, syms


def make_germ(f: FunctionInput, at: Sequence[object] | str | None = None, *,
              variables: Sequence[str | sp.Symbol] | str | None = None,
              require_critical: bool = True) -> Germ:
    """The germ of ``f`` at ``at`` (see module docstring), checked to be a critical point.

    Raises
    ------
    SpecError
        Unknown symbols, malformed expressions or points.
    DerivationError
        ``require_critical`` and ∇f(p) ≠ 0 (or SymPy cannot decide it), or f is constant near p.

    >>> g = make_germ("(a*b - 1)**2/2", ["2", "1/2"], variables="a,b")
    >>> g.expr
    a**2*b**2/2 + a**2*b/2 + a**2/8 + 2*a*b**2 + a*b + 2*b**2
    """
    expr, syms, point, notes = _function(f, variables, at)
    sub = {s: s + c for s, c in zip(syms, point, strict=True)}
    at_p = dict(zip(syms, point, strict=True))
    value = sp.nsimplify(sp.simplify(expr.xreplace(at_p)))
    if value.has(sp.zoo, sp.oo, sp.nan) or value.is_real is False:
        raise SpecError(f"f is not defined (finite and real) at the point {list(point)}", "at")
    g = expr.xreplace(sub) - value
    if g.is_polynomial(*syms):
        g = sp.expand(g)
    germ = Germ(g, syms, point, value, expr, notes)
    if require_critical:
        bad = []
        for v, gi in zip(syms, germ.gradient, strict=True):
            gi0 = gi.xreplace(dict.fromkeys(syms, 0))
            z = _is_zero(gi0)
            if z is None:
                raise DerivationError(
                    f"cannot decide exactly whether ∂f/∂{v} vanishes at {list(point)} (value "
                    f"{sp.N(gi0, 15)}); give the point exactly")
            if not z:
                bad.append(f"∂f/∂{v} = {sp.nsimplify(sp.simplify(gi0))}")
        if bad:
            where = "(" + ", ".join(map(str, point)) + ")"
            raise DerivationError(
                f"{where} is not a critical point of f: {', '.join(bad)}; the Łojasiewicz "
                "exponent is defined at critical points: pass one with --at (in Python, "
                "kltools.certify_critical_point(f, point, refine=True) finds one near a point)")
        if germ.poly is not None and germ.poly.is_zero:
            raise DerivationError("f is constant near the point; the Łojasiewicz exponent is "
                                  "not defined for a locally constant function")
    return germ
