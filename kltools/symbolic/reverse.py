"""Symbolic reverse mode over a straight-line program of SymPy assignments.

A *block list* is a sequence of assignments ``s_k = e_k`` (SymPy symbol, small expression) in
dependency order, each ``e_k`` using earlier block symbols, the variables and constants. Reverse
mode walks it backwards once, accumulating adjoints

    adj(s_k) = Σ_{j > k, s_k ∈ e_j} adj(s_j) · ∂e_j/∂s_k,

each a new block, so the gradient of the last output costs a constant factor times the size of the
forward program (the cheap-gradient principle), instead of one full differentiation of the
expanded expression per variable. The local partial derivatives ∂e_j/∂s_k are taken
structurally (sum, product and constant-power rules, one walk of ``e_j`` for all its symbols), so
a wide block such as ``z = Σ_j w_j·a_j`` costs O(width), not O(width²) as one :func:`sympy.diff`
per symbol would; any other node (exp, tanh, …) falls back to :func:`sympy.diff` on that node.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

__all__ = ["Blocks", "expand_blocks", "reverse_gradient"]

Blocks = list[tuple[sp.Symbol, sp.Expr]]

_ONE = sp.S.One


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

    def wanted(a: sp.Basic) -> bool:
        return a in defined or a in targets

    def push(expr: sp.Expr, adj: sp.Expr) -> None:
        for a, parts in _partials(sp.sympify(expr), wanted).items():
            d = sp.Add(*parts)
            if d != 0:
                term = d if adj is _ONE else adj if d is _ONE else adj * d
                terms.setdefault(a, []).append(term)

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


def _partials(expr: sp.Basic, wanted: Callable[[sp.Basic], bool]
              ) -> dict[sp.Symbol, list[sp.Expr]]:
    """∂expr/∂a for every wanted symbol ``a`` of ``expr``, each as a list of terms to add.

    One structural walk: sum rule for ``Add``, product rule for ``Mul``, power rule for a
    constant exponent; other nodes use :func:`sympy.diff` on that node only. Symbols come out in
    order of first occurrence (deterministic for a given expression).
    """
    memo: dict[sp.Basic, dict[sp.Symbol, list[sp.Expr]]] = {}

    def walk(e: sp.Basic) -> dict[sp.Symbol, list[sp.Expr]]:
        if e.is_Atom:
            return {e: [_ONE]} if e.is_Symbol and wanted(e) else {}
        if e in memo:
            return memo[e]
        out: dict[sp.Symbol, list[sp.Expr]] = {}
        if isinstance(e, sp.Add):
            for t in e.args:
                for a, parts in walk(t).items():
                    out.setdefault(a, []).extend(parts)
        elif isinstance(e, sp.Mul):
            args = e.args
            for i, f in enumerate(args):
                sub = walk(f)
                if not sub:
                    continue
                rest = sp.Mul(*args[:i], *args[i + 1:])
                for a, parts in sub.items():
                    out.setdefault(a, []).extend(rest if p is _ONE else rest * p for p in parts)
        elif isinstance(e, sp.Pow) and not any(wanted(a) for a in e.exp.free_symbols):
            base, ex = e.args
            sub = walk(base)
            if sub:
                outer = ex * base ** (ex - 1)
                for a, parts in sub.items():
                    inner = sp.Add(*parts)
                    out[a] = [outer if inner is _ONE else outer * inner]
        else:
            for a in sorted((a for a in e.free_symbols if wanted(a)), key=sp.default_sort_key):
                d = sp.diff(e, a)
                if d != 0:
                    out[a] = [d]
        memo[e] = out
        return out

    return walk(expr)


def expand_blocks(exprs: Sequence[sp.Expr], blocks: Sequence[tuple[sp.Symbol, sp.Expr]]
                  ) -> list[sp.Expr]:
    """Substitute the blocks back into ``exprs`` (full expressions; exponential in the worst
    case, meant for small models, display and proofs)."""
    env: dict[sp.Symbol, sp.Expr] = {}
    for sym, e in blocks:
        env[sym] = e.xreplace(env)
    return [sp.sympify(e).xreplace(env) for e in exprs]
