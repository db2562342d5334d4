"""The softmax cross-entropy as a chain of softplus terms (stable at any precision).

For logits z ∈ ℝ^k and a class y, ℓ(z, y) = −log softmax(z)_y = log(1 + Σ_{j≠y} e^{g_j}) with the
gaps g_j = z_j − z_y. Written with the recursion

    s_1 = softplus(g_1),   s_m = s_{m−1} + softplus(g_m − s_{m−1}),

which is exact (s_m = log(e^{s_{m−1}} + e^{g_m}) = log(1 + Σ_{j≤m} e^{g_j})) and uses only
softplus, whose evaluation is stable for arguments of any size (z + log1p(e^{−z}) for z > 0):
logits of 1e11 never form e^{1e11}. Unlike the textbook m + log Σ e^{z_j − m} with m = max z,
there is no max, hence no kink, so the loss stays real-analytic in θ as the flow needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from kltools.spec.functions import softplus

__all__ = ["cross_entropy"]


def cross_entropy(logits: Sequence[sp.Expr], label: int,
                  block: Callable[[str, sp.Expr], sp.Expr], name: str) -> sp.Expr:
    """ℓ(z, y) = log(1 + Σ_{j≠y} e^{z_j − z_y}) as the softplus chain of the module docstring.

    ``block(name, expr)`` names intermediate values (the CSE form of the derivation); the
    partial sums are named ``<name>_c<m>``. Returns the last partial sum's expression.
    """
    gaps = [z - logits[label] for j, z in enumerate(logits) if j != label]
    s = softplus(gaps[0])
    for m, g in enumerate(gaps[1:], start=1):
        prev = block(f"{name}_c{m}", s)
        s = prev + softplus(g - prev)
    return s
