"""Rayleigh quotients of the tangent kernel (Robin, Scaman and Lelarge, "Convergence beyond the
over-parameterized regime using Rayleigh quotients", arXiv 2301.08117).

For the square loss with residual r = f(θ; X) − y (n samples, flattened over outputs), Jacobian
J = ∂f/∂θ and Gram matrix K = J Jᵀ:

    ∇L = (1/n) Jᵀ r,   ‖∇L‖² = (2/n) R(θ) L(θ),   R(θ) = rᵀ K r / rᵀ r ∈ [λ_min(K), λ_max(K)],

so along the flow θ' = −s∇L, L(t) = L(0)·exp(−(2s/n) ∫₀ᵗ R(θ(τ)) dτ) exactly, and R ≥ μ along
the flow gives L(t) ≤ L(0)·e^{−2sμt/n}. Without an L2 term only (with one, ∇L has the extra
λθ and the identity is false: a negative control).

For a population loss L = ½E(f − f*)² (a ``[data]`` distribution, n = 1) the same holds with
R(θ) = ‖E[r∇f]‖²/E[r²] = ⟨r, K r⟩/⟨r, r⟩ in L²(μ), K the tangent kernel as an integral operator;
E[r∇f] comes from :func:`kltools.symbolic.expectation.population_expressions` (r·∂f/∂θ integrated
directly, not ∇L). The spectrum of that operator is not computed: ``lambda_min`` and
``lambda_max`` are ``None`` there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sympy as sp

from kltools.compiled.pointwise import compile_program
from kltools.compiled.program import Program, program_from_sympy
from kltools.errors import NotApplicableError
from kltools.numbers import mp_context, to_mpf
from kltools.spec.distribution import Distribution
from kltools.symbolic.derivation import Derivation
from kltools.symbolic.expectation import population_expressions

__all__ = ["RayleighQuotient", "RayleighValue"]


@dataclass(frozen=True)
class RayleighValue:
    """R(θ) with the extreme eigenvalues of K and the loss at θ (mpmath numbers)."""

    quotient: Any
    lambda_min: Any
    lambda_max: Any
    loss: Any


class RayleighQuotient:
    """Evaluate R(θ) = rᵀKr/rᵀr and the spectrum of K = JJᵀ at any precision."""

    def __init__(self, derivation: Derivation) -> None:
        prob = derivation.problem
        if prob.network is None or prob.loss is None or prob.loss.kind != "square":
            raise NotApplicableError(
                "the Rayleigh quotient R = rᵀKr/rᵀr is defined for the square loss of a network "
                "(r = f(θ; X) − y); this spec has "
                + ("a raw objective" if prob.network is None else f"the {prob.loss.kind} loss"))
        self.d = derivation
        self.n = prob.data.n  # type: ignore[union-attr]
        self.population = isinstance(prob.data, Distribution)

    @cached_property
    def _population_programs(self) -> tuple[Program, Program, int]:
        """(E[r∇f] and ½E r² in θ and the θ-switches; the switch surfaces; their number)."""
        ex = population_expressions(self.d.problem, gradient=True)
        chis = [s.symbol for s in ex.switches]
        main = program_from_sympy([*ex.residual_gradient, ex.data_loss], self.d.parameters,
                                  chis, cse=True)
        surfaces = program_from_sympy([s.surface for s in ex.switches] or [sp.Integer(0)],
                                      self.d.parameters, [], cse=True)
        return main, surfaces, len(chis)

    def _population_value(self, theta: Sequence[Any], dps: int) -> RayleighValue:
        main, surfaces, m = self._population_programs
        ctx = mp_context(dps)
        th = [to_mpf(v, ctx) for v in theta]
        # The θ-switches of E[r∇f] are evaluated here (χ = [s ≥ 0]: E[r∇f] is continuous).
        chi = [1 if v >= 0 else 0 for v in compile_program(surfaces, "mpmath", dps)(th, [])[:m]]
        vals = compile_program(main, "mpmath", dps)(th, chi)
        g, half = vals[:-1], vals[-1]
        R = ctx.fsum(v * v for v in g) / (2 * half) if half != 0 else ctx.nan
        return RayleighValue(R, None, None, half)

    @cached_property
    def program(self) -> Program:
        d = self.d
        r = d.residuals()
        J = d.jacobian()
        outs = [*r, *list(J), d.loss_expr]
        return program_from_sympy(outs, d.parameters, d.switch_symbols, cse=True)

    def __call__(self, theta: Sequence[Any], chi: Sequence[int] = (), *, dps: int = 30
                 ) -> RayleighValue:
        if self.population:
            return self._population_value(theta, dps)
        ctx = mp_context(dps)
        f = compile_program(self.program, "mpmath", dps)
        vals = f([to_mpf(v, ctx) for v in theta],
                 list(chi))
        P = len(self.d.parameters)
        nr = (len(vals) - 1) // (P + 1)
        r = ctx.matrix(vals[:nr])
        J = ctx.matrix(nr, P)
        for i in range(nr):
            for j in range(P):
                J[i, j] = vals[nr + i * P + j]
        K = J * J.T
        rr = (r.T * r)[0]
        R = (r.T * K * r)[0] / rr if rr != 0 else ctx.nan
        ev = ctx.eigsy(K, eigvals_only=True)
        ev = sorted(ev[i] for i in range(nr))
        return RayleighValue(R, ev[0], ev[-1], vals[-1])

    @staticmethod
    def sympy_quotient(d: Derivation) -> sp.Expr:
        """R as a SymPy expression (small models)."""
        r = sp.Matrix(d.residuals())
        K = d.gram()
        return (r.T * K * r)[0] / (r.T * r)[0]
