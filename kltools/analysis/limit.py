"""The limit of a flow: Newton's method on ∇L from a trajectory's end.

Steps δ = −H⁺∇L with H⁺ the pseudo-inverse of the Hessian (singular values below
10^{-dps/2}·σ_max dropped), so the iteration also converges when the critical set is a manifold
(the Hessian is singular along it: the step is the minimal-norm one, towards the nearest point of
the set) and, linearly, at degenerate isolated points such as x⁴ (Newton contracts by (k−1)/k per
step at a zero of order k of the gradient). The switches stay those of the last pattern: the
limit is computed on the smooth piece the flow ends on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kltools.compiled.evaluator import Evaluator
from kltools.compiled.pointwise import compile_program
from kltools.compiled.program import Program, program_from_sympy
from kltools.numbers import mp_context, to_mpf

__all__ = ["LimitPoint", "NewtonLimit"]


@dataclass(frozen=True)
class LimitPoint:
    """A critical point found by Newton: ``theta``, the loss there, ‖∇L‖ and convergence."""

    theta: list[Any]
    loss: Any
    grad_norm: Any
    converged: bool
    iterations: int


class NewtonLimit:
    """Newton's method on ∇L for one derivation (programs compiled once)."""

    def __init__(self, ev: Evaluator) -> None:
        self.ev = ev

    @cached_property
    def hessian_program(self) -> Program:
        d = self.ev.derivation
        H = d.hessian()
        return program_from_sympy(list(H), d.parameters, d.switch_symbols, cse=True)

    def __call__(self, theta: Sequence[Any], chi: Sequence[int] = (), *, dps: int = 30,
                 max_iter: int = 400) -> LimitPoint:
        ctx = mp_context(dps)
        grad = compile_program(self.ev.gradient_program, "mpmath", dps)
        hess = compile_program(self.hessian_program, "mpmath", dps)
        x = [to_mpf(v, ctx) for v in theta]
        P = len(x)
        tol = ctx.mpf(10) ** (-(dps - 5))
        chi = list(chi)
        gnorm = ctx.inf
        it = 0
        for it in range(1, max_iter + 1):
            out = grad(x, chi)
            g = out[:-1]
            gnorm = ctx.sqrt(ctx.fsum(v * v for v in g))
            if gnorm <= tol * max(1, max(abs(v) for v in x)):
                return LimitPoint(x, out[-1], gnorm, True, it)
            H = ctx.matrix(P, P)
            hv = hess(x, chi)
            for i in range(P):
                for j in range(P):
                    H[i, j] = hv[i * P + j]
            U, S, V = ctx.svd_r(H)
            smax = max(S[i] for i in range(P))
            if smax == 0:
                break
            cut = smax * ctx.mpf(10) ** (-(dps // 2))
            gv = ctx.matrix(g)
            Utg = U.T * gv
            step = ctx.matrix(P, 1)
            for i in range(P):
                if S[i] > cut:
                    step += (Utg[i] / S[i]) * V.T[:, i]
            x = [x[i] - step[i] for i in range(P)]
        out = grad(x, chi)
        return LimitPoint(x, out[-1], ctx.sqrt(ctx.fsum(v * v for v in out[:-1])), False, it)
