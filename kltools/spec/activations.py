"""Activation functions: polynomial, piecewise polynomial and analytic.

A piecewise-polynomial activation with breakpoints ``b_1 < ... < b_m`` and pieces
``p_0, ..., p_m`` (``p_k`` on ``[b_k, b_{k+1}]``) is written with one *switch* per breakpoint,

    σ(z) = p_0(z) + Σ_k χ_k · (p_k(z) − p_{k−1}(z)),     χ_k = [z ≥ b_k] ∈ {0, 1},

so each switch belongs to exactly one kink surface ``{z = b_k}``. Between two events the switches
are constants and σ is a polynomial; at a kink the value of χ_k is an explicit convention of the
caller (see :mod:`kltools.symbolic.kinks`), never SymPy's ``Heaviside(0) = 1/2``. Pieces must agree
at the breakpoints (σ continuous), so the loss is continuous and its Clarke gradient is defined.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy as sp

from kltools.errors import SpecError
from kltools.spec import limits
from kltools.spec.expr import parse_expression, parse_number
from kltools.spec.functions import sigmoid, softplus

__all__ = ["Activation", "Z", "activation_from_spec", "parse_activation"]

Z = sp.Symbol("z", real=True)
"""The variable in which activation pieces are written."""


@dataclass(frozen=True)
class Activation:
    """An activation σ: ℝ → ℝ.

    Attributes
    ----------
    name
        Canonical text form; :func:`parse_activation` reads it back.
    pieces
        Polynomials in :data:`Z` (one for a polynomial activation); empty for analytic ones.
    breakpoints
        Sorted exact kink locations, ``len(pieces) - 1`` of them.
    smooth
        For analytic activations, σ(Z) as a SymPy expression; ``None`` otherwise.
    homogeneity
        ``k`` when σ(cz) = c^k σ(z) for every c > 0 (positive homogeneity), else ``None``.
    analytic
        Whether σ is real-analytic on the whole line.
    """

    name: str
    pieces: tuple[sp.Expr, ...] = ()
    breakpoints: tuple[sp.Rational, ...] = ()
    smooth: sp.Expr | None = None
    homogeneity: int | None = None
    analytic: bool = True
    _poly: bool = field(default=False, repr=False)

    @property
    def kinks(self) -> tuple[sp.Rational, ...]:
        """Where σ is not differentiable (the breakpoints)."""
        return self.breakpoints

    @property
    def is_piecewise(self) -> bool:
        return bool(self.breakpoints)

    @property
    def is_polynomial(self) -> bool:
        """Every piece a polynomial (true for linear, polynomial and piecewise activations)."""
        return self.smooth is None

    def value(self, z: sp.Expr, switches: Sequence[sp.Expr] = ()) -> sp.Expr:
        """σ(z), with one switch value per breakpoint for piecewise activations."""
        if self.smooth is not None:
            return self.smooth.subs(Z, z)
        if len(switches) != len(self.breakpoints):
            raise ValueError(f"{self.name} needs {len(self.breakpoints)} switch value(s)")
        out = self.pieces[0].subs(Z, z)
        for k, chi in enumerate(switches):
            out += chi * (self.pieces[k + 1] - self.pieces[k]).subs(Z, z)
        return out

    def derivative(self, z: sp.Expr, switches: Sequence[sp.Expr] = ()) -> sp.Expr:
        """σ'(z) on the piece the switches select."""
        if self.smooth is not None:
            return sp.diff(self.smooth, Z).subs(Z, z)
        out = sp.diff(self.pieces[0], Z).subs(Z, z)
        for k, chi in enumerate(switches):
            out += chi * sp.diff(self.pieces[k + 1] - self.pieces[k], Z).subs(Z, z)
        return out

    def piece_at(self, z: sp.Rational) -> int:
        """Index of the piece containing z (the upper piece at a breakpoint)."""
        return sum(1 for b in self.breakpoints if z >= b)

    def __str__(self) -> str:
        return self.name


def _homogeneity(pieces: Sequence[sp.Expr], breakpoints: Sequence[sp.Rational]) -> int | None:
    # σ(cz) = c^k σ(z) for all c > 0 iff every piece is a monomial of degree k and the only
    # breakpoint (if any) is 0.
    if any(b != 0 for b in breakpoints):
        return None
    degrees = set()
    for p in pieces:
        if p == 0:
            continue
        poly = sp.Poly(p, Z)
        if len(poly.terms()) != 1:
            return None
        degrees.add(poly.degree())
    if len(degrees) != 1:
        return None
    k = degrees.pop()
    return k if k >= 1 else None


def _polynomial(expr: sp.Expr, path: str) -> sp.Expr:
    if not expr.is_polynomial(Z):
        raise SpecError(f"{expr} is not a polynomial in z; every piece must be one", path)
    return sp.expand(expr)


def piecewise(pieces: Sequence[sp.Expr], breakpoints: Sequence[sp.Rational], name: str,
              path: str = "activation") -> Activation:
    """A continuous piecewise-polynomial activation (see module docstring)."""
    pieces = tuple(_polynomial(sp.sympify(p), path) for p in pieces)
    breakpoints = tuple(sp.Rational(b) for b in breakpoints)
    if len(pieces) != len(breakpoints) + 1:
        raise SpecError(
            f"{len(pieces)} pieces need {len(pieces) - 1} breakpoints, got {len(breakpoints)}",
            path)
    if list(breakpoints) != sorted(set(breakpoints)):
        raise SpecError("breakpoints must be strictly increasing", path)
    for k, b in enumerate(breakpoints):
        left, right = pieces[k].subs(Z, b), pieces[k + 1].subs(Z, b)
        if left != right:
            raise SpecError(
                f"pieces {k} and {k + 1} disagree at the breakpoint z = {b} ({left} vs {right}); "
                "kltools needs a continuous activation", path)
        if sp.expand(pieces[k] - pieces[k + 1]) == 0:
            raise SpecError(f"pieces {k} and {k + 1} are equal: z = {b} is no kink; remove it",
                            path)
    return Activation(name=name, pieces=pieces, breakpoints=breakpoints,
                      homogeneity=_homogeneity(pieces, breakpoints),
                      analytic=not breakpoints, _poly=True)


_ANALYTIC = {
    "sigmoid": sigmoid(Z),
    "tanh": sp.tanh(Z),
    "softplus": softplus(Z),
}
_KNOWN = ("use linear, relu, abs, leaky_relu(a), sigmoid, tanh, softplus, a polynomial in z such "
          "as 'z**2', or a table {pieces = [...], breakpoints = [...]}")
_LEAKY = re.compile(r"^leaky_relu\(\s*([^)]+?)\s*\)$")
_PIECEWISE = re.compile(r"^piecewise\((.*)\|(.*)\)$")


def parse_activation(text: str, path: str = "activation") -> Activation:
    """An activation from its text form.

    Accepted: ``linear``, ``relu``, ``abs``, ``leaky_relu(a)`` (slope ``a`` for z < 0, exact),
    ``sigmoid``, ``tanh``, ``softplus``, a polynomial in ``z`` such as ``"z**2"`` or
    ``"z**3 - z"``, or the name of a table activation, ``"piecewise(-z/4; z**2 + z | 0)"``
    (pieces separated by ``;``, then ``|`` and the breakpoints).

    >>> parse_activation("relu").homogeneity
    1
    >>> parse_activation("z**3 - z").homogeneity is None
    True
    """
    if not isinstance(text, str):
        raise SpecError(f"expected an activation name, got {type(text).__name__}", path)
    t = text.strip()
    if t == "linear":
        return piecewise([Z], [], "linear", path)
    if t == "relu":
        return piecewise([sp.Integer(0), Z], [0], "relu", path)
    if t == "abs":
        return piecewise([-Z, Z], [0], "abs", path)
    m = _LEAKY.match(t)
    if m:
        try:
            a = parse_number(m.group(1), path)
        except SpecError as exc:
            raise SpecError(f"the slope of {t!r} must be a number such as 0.1 or '1/10': "
                            f"{exc.message}", path) from None
        if a == 1:
            raise SpecError(f"{t!r} has slope 1 and is the identity, with no kink; write "
                            "'linear'", path)
        return piecewise([a * Z, Z], [0], f"leaky_relu({a})", path)
    if t in _ANALYTIC:
        return Activation(name=t, smooth=_ANALYTIC[t], analytic=True)
    m = _PIECEWISE.match(t)
    if m:
        # The name of a table activation: piecewise(p0; p1; ... | b1, b2, ...).
        pieces = [p.strip() for p in m.group(1).split(";")]
        points = [b.strip() for b in m.group(2).split(",") if b.strip()]
        return activation_from_spec({"pieces": pieces, "breakpoints": points}, path)
    if t.isidentifier() and t != "z":
        raise SpecError(f"unknown activation {text!r}; {_KNOWN}", path)
    try:
        expr = parse_expression(t, {"z": Z}, path, fix="write the activation in z")
    except SpecError as exc:
        raise SpecError(f"activation {text!r} is not understood ({exc.message}); {_KNOWN}",
                        path) from None
    if not expr.is_polynomial(Z):
        raise SpecError(f"activation {text!r} is not a polynomial in z; {_KNOWN}", path)
    return piecewise([expr], [], str(sp.expand(expr)), path)


def activation_from_spec(value: object, path: str = "activation") -> Activation:
    """An activation from a spec value: a name (see :func:`parse_activation`) or a table
    ``{pieces = ["-z", "z**2 + z"], breakpoints = ["0"]}`` for a general piecewise polynomial."""
    if isinstance(value, Activation):
        return value
    if isinstance(value, str):
        return parse_activation(value, path)
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"pieces", "breakpoints"})
        if unknown:
            raise SpecError(f"unknown key(s) {', '.join(unknown)}; a piecewise activation has "
                            "'pieces' and 'breakpoints'", f"{path}.{unknown[0]}")
        pieces = value.get("pieces")
        bps = value.get("breakpoints", [])
        if not isinstance(pieces, list) or not pieces:
            raise SpecError("'pieces' must be a non-empty list of polynomials in z",
                            f"{path}.pieces")
        if not isinstance(bps, list):
            raise SpecError("'breakpoints' must be a list of numbers", f"{path}.breakpoints")
        limits.check("pieces", len(pieces), f"{path}.pieces", f"{len(pieces)} pieces")
        limits.check("pieces", len(bps) + 1, f"{path}.breakpoints",
                     f"{len(bps)} breakpoints")
        polys = []
        for i, p in enumerate(pieces):
            where = f"{path}.pieces[{i}]"
            if isinstance(p, int | float) and not isinstance(p, bool):
                e = parse_number(p, where)
            else:
                e = parse_expression(p, {"z": Z}, where, fix="write the piece in z")
            polys.append(_polynomial(e, where))
        points = [parse_number(b, f"{path}.breakpoints[{i}]") for i, b in enumerate(bps)]
        if len(polys) != len(points) + 1:
            raise SpecError(f"{len(polys)} piece(s) need {len(polys) - 1} breakpoint(s), got "
                            f"{len(points)}: give one piece more than breakpoints",
                            f"{path}.breakpoints")
        for k in range(1, len(points)):
            if points[k] <= points[k - 1]:
                raise SpecError(f"breakpoints must be strictly increasing, but {points[k]} "
                                f"follows {points[k - 1]}", f"{path}.breakpoints[{k}]")
        for k, b in enumerate(points):
            left, right = polys[k].subs(Z, b), polys[k + 1].subs(Z, b)
            if left != right:
                raise SpecError(
                    f"piece {k + 1} does not continue piece {k} at the breakpoint z = {b} "
                    f"({right} vs {left}); kltools needs a continuous activation",
                    f"{path}.pieces[{k + 1}]")
            if sp.expand(polys[k] - polys[k + 1]) == 0:
                raise SpecError(f"pieces {k} and {k + 1} are equal: z = {b} is no kink; remove "
                                "the breakpoint and one of the pieces", f"{path}.pieces[{k + 1}]")
        name = "piecewise(" + "; ".join(str(p) for p in polys) + " | " + ", ".join(
            str(b) for b in points) + ")"
        return piecewise(polys, points, name, path)
    raise SpecError(f"an activation is a name such as 'relu' or a table with pieces and "
                    f"breakpoints, got {type(value).__name__}", path)
