"""Numeric evaluators of a derivation: L, ∇L, the flow and the kink surfaces at any precision.

An :class:`Evaluator` compiles the derivation's CSE form once (:mod:`kltools.compiled.program`)
and generates straight-line code per number type (:mod:`kltools.compiled.pointwise`). Precision
is an argument of every call; no global state is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import cached_property

import sympy as sp

from kltools.compiled.pointwise import compile_program, interval_context, mp_context
from kltools.compiled.program import Program, program_from_sympy
from kltools.errors import DerivationError
from kltools.numbers import bits_for_dps
from kltools.numbers import to_fraction as exact_fraction
from kltools.symbolic.derivation import Derivation
from kltools.symbolic.kinks import KinkConvention, switch_values

__all__ = ["Evaluator", "to_fraction"]


def to_fraction(v: object) -> Fraction:
    """An exact Fraction from a SymPy rational, int, Fraction, decimal string or float."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    if isinstance(v, int | str):
        return Fraction(v)
    if isinstance(v, float):
        return Fraction(repr(v))
    try:  # mpmath / gmpy2 numbers: their exact binary value
        return Fraction(*v.as_integer_ratio())  # type: ignore[attr-defined]
    except AttributeError:
        return Fraction(str(v))


class Evaluator:
    """Compiled L, ∇L, flow and kink surfaces of a :class:`Derivation`.

    The *flow program* has outputs ``[F_1..F_P, L, s_1..s_m]``: the flow θ' = −s·∇L, the loss and
    the kink surfaces, the layout the Taylor integrator expects (state first, then extras).
    """

    def __init__(self, derivation: Derivation) -> None:
        self.derivation = derivation
        self.n = len(derivation.parameters)
        self.m = len(derivation.switches)

    @cached_property
    def flow_program(self) -> Program:
        d = self.derivation
        s = d.flow_scale
        outs = [-s * g for g in d.gradient] + [d.loss] + [w.surface for w in d.switches]
        return program_from_sympy(outs, d.parameters, d.switch_symbols, cse=False,
                                  blocks=d.blocks)

    @cached_property
    def gradient_program(self) -> Program:
        d = self.derivation
        return program_from_sympy([*d.gradient, d.loss], d.parameters, d.switch_symbols,
                                  cse=False, blocks=d.blocks)

    @cached_property
    def surface_program(self) -> Program:
        d = self.derivation
        return program_from_sympy([w.surface for w in d.switches] or [sp.Integer(0)],
                                  d.parameters, d.switch_symbols, cse=False, blocks=d.forward)

    # -- conversion ----------------------------------------------------------------------------
    def convert(self, values: Sequence[object], backend: str = "mpmath", dps: int = 30
                ) -> list[object]:
        """Numbers of ``backend`` at ``dps`` digits, exact inputs rounded once."""
        import gmpy2
        fr = [to_fraction(v) for v in values]
        if backend == "mpmath":
            ctx = mp_context(dps)
            return [ctx.mpf(q.numerator) / q.denominator for q in fr]
        if backend == "interval":
            ctx = interval_context(dps)
            return [ctx.mpf(q.numerator) / q.denominator for q in fr]
        if backend == "gmpy2":
            with gmpy2.context(precision=bits_for_dps(dps)):
                return [gmpy2.mpfr(q.numerator) / q.denominator for q in fr]
        return [q.numerator / q.denominator for q in fr]

    def _check(self, theta: Sequence[object], chi: Sequence[object]) -> None:
        if len(theta) != self.n:
            raise DerivationError(f"expected {self.n} parameter values, got {len(theta)}")
        if len(chi) != self.m:
            raise DerivationError(f"expected {self.m} switch values, got {len(chi)}")

    # -- values --------------------------------------------------------------------------------
    def pattern(self, theta: Sequence[object], convention: KinkConvention = KinkConvention.ERROR,
                dps: int = 30) -> tuple[int, ...]:
        """Switch values at θ: level by level, since deeper surfaces depend on earlier switches.

        Exact inputs (rationals) are decided exactly when the surface value is within rounding
        of zero, so a point exactly on a kink is recognised as such.
        """
        if not self.m:
            return ()
        d = self.derivation
        f = compile_program(self.surface_program, "mpmath", dps)
        x = self.convert(theta, "mpmath", dps)
        chi = [0] * self.m
        eps = mp_context(dps).mpf(10) ** (-(dps - 5))
        labels = [s.label for s in d.switches]
        for group in d._surface_levels:
            vals = f(x, chi)
            for i in group:
                v = vals[i]
                if abs(v) <= eps * (1 + max(abs(t) for t in x)):
                    v = _exact_surface(d, theta, chi, i)
                chi[i] = switch_values([v], convention, [labels[i]])[0]
        return tuple(chi)

    def loss(self, theta: Sequence[object], chi: Sequence[object] = (), *, dps: int = 30,
             backend: str = "mpmath") -> object:
        """L(θ) on the pattern χ (computed from θ with the ERROR convention when omitted)."""
        chi = self._chi(theta, chi)
        f = compile_program(self.gradient_program, backend, dps)
        return f(self.convert(theta, backend, dps), list(chi))[-1]

    def gradient(self, theta: Sequence[object], chi: Sequence[object] = (), *, dps: int = 30,
                 backend: str = "mpmath") -> list[object]:
        """∇L(θ) on the pattern χ."""
        chi = self._chi(theta, chi)
        f = compile_program(self.gradient_program, backend, dps)
        return f(self.convert(theta, backend, dps), list(chi))[:-1]

    def flow(self, theta: Sequence[object], chi: Sequence[object] = (), *, dps: int = 30,
             backend: str = "mpmath") -> list[object]:
        """θ' = −s·∇L(θ) on the pattern χ."""
        chi = self._chi(theta, chi)
        f = compile_program(self.flow_program, backend, dps)
        return f(self.convert(theta, backend, dps), list(chi))[: self.n]

    def _chi(self, theta: Sequence[object], chi: Sequence[object]) -> Sequence[object]:
        if self.m and not chi:
            chi = self.pattern(theta)
        self._check(theta, chi)
        return chi


def _exact_surface(d: Derivation, theta: Sequence[object], chi: Sequence[int], i: int
                   ) -> object:
    # kltools.numbers.to_fraction: a gmpy2/mpmath state by its exact binary value, with int
    # (not mpz) parts that SymPy accepts.
    qs = [exact_fraction(t) for t in theta]
    env = {p: sp.Rational(int(q.numerator), int(q.denominator))
           for p, q in zip(d.parameters, qs, strict=True)}
    env.update({s.symbol: c for s, c in zip(d.switches, chi, strict=True)})
    return d.surface_exprs[i].xreplace(env)
