"""Proofs that a function is conserved along a derivation's own flow, on every pattern.

d/dt h(θ(t)) = ∇h·θ' with θ' = −s∇L of the spec (its loss, its data). On an activation pattern
the switches χ are constants in {0, 1}; they stay symbols here, so one proof covers every
pattern, and products are reduced with χ² = χ and χ_k χ_l = χ_max(k,l) (two kinks of one unit at
one sample: z ≥ b_l implies z ≥ b_k for b_k < b_l), identities that hold on {0, 1} only.

Polynomial flows (square loss, polynomial and piecewise-polynomial activations) are handled with
exact python-flint polynomials (:mod:`kltools.symbolic._flowpoly`): ∇h·θ' is expanded, reduced
and compared with 0 — a decision procedure. Other flows (margin losses: exp and log of the
outputs), and non-polynomial h, go through :func:`~kltools.symbolic.identities.prove_zero`, which
treats each transcendental atom as an independent symbol. A non-zero residual is handed to
``prove_zero`` for a rational witness.
"""

from __future__ import annotations

import re

import sympy as sp

from kltools.symbolic._flowpoly import NotPolynomialError, flow_polynomials, to_flint
from kltools.symbolic._phi import reduce_switch_products
from kltools.symbolic.derivation import Derivation
from kltools.symbolic.identities import Identity, prove_zero

__all__ = ["FlowProver", "switch_groups"]

_SWITCH = re.compile(r"^chi_(.+)_s(\d+)(?:_k(\d+))?$")


def switch_groups(d: Derivation) -> dict[sp.Symbol, tuple[str, int]]:
    """Each switch symbol with (its unit and sample, its kink number), from its name."""
    out = {}
    for s in d.switches:
        m = _SWITCH.match(s.symbol.name)
        key = (f"{m.group(1)}|{m.group(2)}", int(m.group(3) or 1)) if m else (s.symbol.name, 1)
        out[s.symbol] = key
    return out


def _reduce_switches(expr: sp.Expr, groups: dict[sp.Symbol, tuple[str, int]]) -> sp.Expr:
    """Apply χ² = χ and χ_k χ_l = χ_max(k,l) (two kinks of one unit at one sample)."""
    e = sp.expand(expr)
    if not (e.free_symbols & set(groups)):
        return e
    terms = []
    for term in sp.Add.make_args(e):
        rest = []
        best: dict[str, tuple[int, sp.Symbol]] = {}
        for f in sp.Mul.make_args(term):
            base, exp = f.as_base_exp()
            if base in groups and exp.is_Integer and exp > 0:
                unit, k = groups[base]
                if unit not in best or best[unit][0] < k:
                    best[unit] = (k, base)
            else:
                rest.append(f)
        terms.append(sp.Mul(*rest, *[b for _, b in best.values()]))
    return sp.Add(*terms)


class FlowProver:
    """Proves d/dt h = ∇h·θ' = 0 on a derivation's flow, on every activation pattern (module
    docstring); the polynomial form of the flow is built once and reused for every h."""

    def __init__(self, d: Derivation) -> None:
        self.d = d
        self.groups = switch_groups(d)
        self.poly = flow_polynomials(d)

    def prove(self, h: sp.Expr, name: str) -> Identity:
        d = self.d
        statement = f"d/dt ({h}) = 0 along this spec's flow"
        detail = "on every activation pattern (switches as symbols, chi**2 = chi)"
        residual = self._polynomial_residual(h) if self.poly is not None else None
        if residual is not None and residual == 0:
            return Identity(name, statement, "proved", "0", {},
                            detail + "; exact polynomial arithmetic (python-flint)")
        if residual is None:
            residual = sp.Add(*[sp.diff(h, p) * f
                                for p, f in zip(d.parameters, d.flow_exprs, strict=True)
                                if h.has(p)])
            residual = _reduce_switches(residual, self.groups)
        status, res, witness = prove_zero(residual, d.parameters, d.switch_symbols)
        return Identity(name, statement, status, str(res), witness, detail)

    def _polynomial_residual(self, h: sp.Expr) -> sp.Expr | None:
        """∇h·θ' with switch products reduced, exactly (``None`` if h is not a polynomial)."""
        fp = self.poly
        assert fp is not None
        env = dict(zip(fp.symbols, fp.ctx.gens(), strict=True))
        try:
            hp = to_flint(sp.expand(h), env, fp.ctx)
        except NotPolynomialError:
            return None
        dh = fp.ctx.constant(0)
        for j, f in enumerate(fp.flow):
            dj = hp.derivative(j)
            if not dj.is_zero():
                dh += dj * f
        index = {s: i for i, s in enumerate(fp.symbols)}
        dh = reduce_switch_products(dh, fp.ctx, {index[s]: key for s, key in self.groups.items()})
        return sp.Add(*[sp.Rational(int(c.p), int(c.q))
                        * sp.Mul(*[s**e for s, e in zip(fp.symbols, exps, strict=True)])
                        for exps, c in dh.to_dict().items()])
