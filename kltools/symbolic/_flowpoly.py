"""The flow θ' = −s∇L of a derivation as exact multivariate polynomials (python-flint).

For the square loss with polynomial and piecewise-polynomial activations, every forward and
adjoint block of a :class:`~kltools.symbolic.derivation.Derivation` is a polynomial in θ and the
switches χ. Running the block program over ``flint.fmpq_mpoly`` gives θ' as expanded
polynomials far faster than SymPy's ``expand`` of the nested expressions, so an identity such as
∇h·θ' = 0 becomes an exact polynomial computation (a decision procedure: the expanded polynomial
is zero or it is not). Blocks with exp or log (margin losses, analytic activations) are not
polynomials: :func:`flow_polynomials` then returns ``None`` and callers use SymPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import sympy as sp

from kltools.symbolic.derivation import Derivation

__all__ = ["FlowPolynomials", "NotPolynomialError", "flow_polynomials", "to_flint"]


class NotPolynomialError(Exception):
    """A block or expression that is not a polynomial (exp, log, a negative power, ...)."""


@dataclass(frozen=True, eq=False)
class FlowPolynomials:
    """θ' as polynomials in ``ctx`` (variables: the parameters, then the switches)."""

    ctx: flint.fmpq_mpoly_ctx
    flow: tuple[flint.fmpq_mpoly, ...]
    symbols: tuple[sp.Symbol, ...]


def to_flint(expr: sp.Expr, env: dict[sp.Symbol, flint.fmpq_mpoly],
             ctx: flint.fmpq_mpoly_ctx) -> flint.fmpq_mpoly:
    """Evaluate a SymPy expression built from +, ·, non-negative integer powers, rationals and
    the symbols of ``env`` as a flint polynomial; anything else raises
    :class:`NotPolynomialError`."""
    if expr in env:
        return env[expr]
    if expr.is_Rational:
        return ctx.constant(flint.fmpq(int(expr.p), int(expr.q)))
    if expr.is_Add:
        acc = ctx.constant(0)
        for a in expr.args:
            acc += to_flint(a, env, ctx)
        return acc
    if expr.is_Mul:
        acc = ctx.constant(1)
        for a in expr.args:
            acc *= to_flint(a, env, ctx)
        return acc
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        return to_flint(expr.base, env, ctx) ** int(expr.exp)
    raise NotPolynomialError(str(expr))


def flow_polynomials(d: Derivation) -> FlowPolynomials | None:
    """θ' = −s∇L of ``d`` as exact polynomials, or ``None`` when a block is not polynomial."""
    symbols = (*d.parameters, *d.switch_symbols)
    ctx = flint.fmpq_mpoly_ctx.get(tuple(s.name for s in symbols), "deglex")
    env: dict[sp.Symbol, flint.fmpq_mpoly] = dict(zip(symbols, ctx.gens(), strict=True))
    try:
        for sym, expr in d.blocks:
            env[sym] = to_flint(expr, env, ctx)
        s = flint.fmpq(int(d.flow_scale.p), int(d.flow_scale.q))
        flow = tuple(-s * to_flint(g, env, ctx) for g in d.gradient)
    except NotPolynomialError:
        return None
    return FlowPolynomials(ctx, flow, symbols)
