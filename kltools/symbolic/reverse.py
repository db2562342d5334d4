"""Symbolic reverse mode over a straight-line program of SymPy assignments.

A *block list* is a sequence of assignments ``s_k = e_k`` (SymPy symbol, small expression) in
dependency order, each ``e_k`` using earlier block symbols, the variables and constants. Reverse
mode walks it backwards once, accumulating adjoints

    adj(s_k) = Σ_{j > k, s_k ∈ e_j} adj(s_j) · ∂e_j/∂s_k,

each a new block, so the gradient of the last output costs a constant factor times the size of the
forward program (the cheap-gradient principle), instead of one full differentiation of the
expanded expression per variable. Only the local partial derivatives ∂e_j/∂s_k of small
expressions are taken by :func:`sympy.diff`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

__all__ = ["Blocks", "expand_blocks", "reverse_gradient"]

Blocks = list[tuple[sp.Symbol, sp.Expr]]


def reverse_gradient(blocks: Sequence[tuple[sp.Symbol, sp.Expr]], output: sp.Expr,
                     wrt: Sequence[sp.Symbol], prefix: str = "g") -> tuple[Blocks, list[sp.Expr]]:
    """Gradient of ``output`` with respect to ``wrt`` by reverse mode.

    Returns ``(adjoint_blocks, gradient)``: new assignments to append after ``blocks`` and one
    expression per variable (in terms of block and adjoint symbols). Symbols that are neither
    block symbols nor in ``wrt`` (switches, data) are constants.
    """
    defined = {s for s, _ in blocks}
    targets = set(wrt)
    # Every block symbol or variable that the output depends on, through which chain.
    terms: dict[sp.Symbol, list[sp.Expr]] = {}

    def push(expr: sp.Expr, adj: sp.Expr) -> None:
        for a in expr.free_symbols:
            if a in defined or a in targets:
                d = sp.diff(expr, a)
                if d != 0:
                    terms.setdefault(a, []).append(adj * d)

    push(output, sp.Integer(1))
    out_blocks: Blocks = []
    counter = 0
    for sym, expr in reversed(blocks):
        contributions = terms.pop(sym, None)
        if not contributions:
            continue
        total = sp.Add(*contributions)
        if total.is_Atom:
            adj = total
        else:
            counter += 1
            adj = sp.Symbol(f"_{prefix}{counter}", real=True)
            out_blocks.append((adj, total))
        push(expr, adj)
    grad = [sp.Add(*terms.get(v, [])) for v in wrt]
    return out_blocks, grad


def expand_blocks(exprs: Sequence[sp.Expr], blocks: Sequence[tuple[sp.Symbol, sp.Expr]]
                  ) -> list[sp.Expr]:
    """Substitute the blocks back into ``exprs`` (full expressions; exponential in the worst
    case, meant for small models, display and proofs)."""
    env: dict[sp.Symbol, sp.Expr] = {}
    for sym, e in blocks:
        env[sym] = e.xreplace(env)
    return [sp.sympify(e).xreplace(env) for e in exprs]
