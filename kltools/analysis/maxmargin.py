"""The hard-margin SVM direction, exactly: minimise ½‖w‖² subject to zᵢ·w ≥ 1 (zᵢ = yᵢxᵢ).

The problem is a strictly convex QP, so its KKT conditions characterise the unique solution:

    w = Σ_{i∈S} αᵢ zᵢ,   zᵢ·w = 1 and αᵢ ≥ 0 (i ∈ S),   zⱼ·w ≥ 1 (j ∉ S).

:func:`hard_margin_svm` enumerates candidate active sets S (smallest first), solves the Gram
system G_S α = 1 in exact rational arithmetic (SymPy matrices over ℚ), and returns the first S
whose α is non-negative and whose w satisfies every constraint — a KKT point, hence *the*
minimiser. No floating-point QP solver is involved. Enumeration is exponential in n, which is
fine for the toy data sets here (n ≤ 12).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import sympy as sp

from kltools.errors import DerivationError

__all__ = ["SVM", "hard_margin_svm"]


@dataclass(frozen=True)
class SVM:
    """The exact solution: ``w`` (rationals), ``alpha`` (per sample, 0 off the active set),
    ``support`` (indices of S), ``norm2`` = ‖w‖² and the margin 1/‖w‖ (a SymPy number)."""

    w: tuple[sp.Rational, ...]
    alpha: tuple[sp.Rational, ...]
    support: tuple[int, ...]
    norm2: sp.Rational
    candidates_tried: int

    @property
    def margin(self) -> sp.Expr:
        return 1 / sp.sqrt(self.norm2)


def hard_margin_svm(x: Sequence[Sequence[object]], y: Sequence[object]) -> SVM:
    """The max-margin separator through the origin of the samples ``x`` with labels ``y = ±1``.

    >>> s = hard_margin_svm([[1, 0], [0, 1], [2, 2]], [1, 1, 1])
    >>> s.w, s.support, s.margin
    ((1, 1), (0, 1), sqrt(2)/2)
    """
    z = [sp.Matrix([sp.Rational(yi) * sp.Rational(v) for v in xi]) for xi, yi in
         zip(x, y, strict=True)]
    n = len(z)
    tried = 0
    for size in range(1, min(n, len(z[0])) + 1):
        for S in combinations(range(n), size):
            tried += 1
            G = sp.Matrix([[(z[a].T * z[b])[0] for b in S] for a in S])
            if G.det() == 0:
                continue
            alpha = G.LUsolve(sp.ones(size, 1))
            if any(a < 0 for a in alpha):
                continue
            w = sp.zeros(len(z[0]), 1)
            for a, i in zip(alpha, S, strict=True):
                w += a * z[i]
            if all((zj.T * w)[0] >= 1 for zj in z):
                full = [sp.Integer(0)] * n
                for a, i in zip(alpha, S, strict=True):
                    full[i] = a
                return SVM(tuple(w), tuple(full), S, (w.T * w)[0], tried)
    raise DerivationError("the data are not linearly separable through the origin (no KKT "
                          "point of the hard-margin SVM)")
