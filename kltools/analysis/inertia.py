"""Certified inertia (numbers of positive, negative and zero eigenvalues) of symmetric matrices.

Two routes, both proofs rather than estimates:

* **Exact** (rational or exactly known entries): the characteristic polynomial χ(λ) of a real
  symmetric matrix has only real roots, so Descartes' rule of signs is *exact* for it: the number of
  positive eigenvalues equals the number of sign changes of the coefficients of χ(λ), the number of
  negative ones that of χ(−λ), and the multiplicity of the eigenvalue 0 is the index of the lowest
  non-zero coefficient.
* **Interval** (an enclosure [A] of a symmetric matrix, e.g. a Hessian over a box): with Q an
  approximate eigenvector basis of mid([A]) (any real matrix; its accuracy only affects
  sharpness), symmetric Gaussian elimination in interval arithmetic on [B] = Qᵀ[A]Q encloses the
  pivots d_1, …, d_n of every symmetric A ∈ [A]. If no pivot interval contains 0, then for every
  such A, QᵀAQ = L·diag(d)·Lᵀ with all d_k ≠ 0, so QᵀAQ (hence Q and A) is non-singular and by
  Sylvester's law of inertia A has exactly #{d_k > 0} positive and #{d_k < 0} negative eigenvalues.
  If a pivot interval contains 0 nothing is claimed (the matrix may be singular).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from kltools.compiled.pointwise import interval_context, mp_context

__all__ = ["Inertia", "exact_inertia", "interval_inertia"]


@dataclass(frozen=True)
class Inertia:
    """(n₊, n₋, n₀): counts of positive, negative and zero eigenvalues."""

    positive: int
    negative: int
    zero: int

    @property
    def classification(self) -> str:
        """minimum / maximum / saddle from the signs; degenerate when a zero eigenvalue leaves the
        type undecided by the Hessian (a semi-definite singular Hessian)."""
        if self.positive and self.negative:
            return "saddle"
        if self.zero:
            return "degenerate"
        return "minimum" if self.positive else "maximum"


def _sign_changes(coeffs: Sequence[sp.Expr]) -> int:
    signs = [sp.sign(c) for c in coeffs if c != 0]
    return sum(1 for a, b in itertools.pairwise(signs) if a != b)


def exact_inertia(matrix: sp.Matrix) -> Inertia:
    """Inertia of a symmetric matrix with exact entries (Descartes' rule on χ(λ), see module).

    >>> exact_inertia(sp.Matrix([[sp.Rational(1, 4), 1], [1, 4]]))
    Inertia(positive=1, negative=0, zero=1)
    """
    if matrix.shape[0] != matrix.shape[1] or matrix != matrix.T:
        raise ValueError("exact_inertia needs a symmetric matrix")
    chi = matrix.charpoly()
    coeffs = [sp.simplify(c) for c in reversed(chi.all_coeffs())]  # c_0, c_1, ..., c_n
    if any(c.is_real is False or c.is_number is False for c in coeffs):
        raise ValueError("the characteristic polynomial has non-real or non-numeric coefficients")
    zero = next(k for k, c in enumerate(coeffs) if c != 0)
    high_first = list(reversed(coeffs))
    positive = _sign_changes(high_first)
    negative = _sign_changes([c * (-1) ** (len(high_first) - 1 - i)
                              for i, c in enumerate(high_first)])
    assert positive + negative + zero == matrix.shape[0]
    return Inertia(positive, negative, zero)


def interval_inertia(matrix: Sequence[Sequence[object]], dps: int = 30) -> Inertia | None:
    """Certified inertia of every symmetric matrix in an interval matrix, or None (undecided).

    ``matrix`` holds mpmath intervals (``interval_context(dps)`` numbers) or numbers. None means a
    pivot interval contains 0: the enclosure may contain singular matrices, and nothing is claimed.
    """
    iv = interval_context(dps)
    mp = mp_context(dps)
    n = len(matrix)
    A = [[iv.convert(matrix[i][j]) for j in range(n)] for i in range(n)]
    mid = mp.matrix(n, n)
    for i in range(n):
        for j in range(n):
            a = A[i][j]
            mid[i, j] = (mp.mpf(a.a) + mp.mpf(a.b)) / 2
    mid = (mid + mid.T) / 2
    try:
        _, Q = mp.eigsy(mid)
    except Exception:  # pragma: no cover - eigsy failing on a finite symmetric matrix
        Q = mp.eye(n)
    Qi = [[iv.convert(Q[i, j]) for j in range(n)] for i in range(n)]
    # B = Qᵀ A Q in interval arithmetic.
    AQ = [[sum((A[i][k] * Qi[k][j] for k in range(n)), iv.mpf(0)) for j in range(n)]
          for i in range(n)]
    B = [[sum((Qi[k][i] * AQ[k][j] for k in range(n)), iv.mpf(0)) for j in range(n)]
         for i in range(n)]
    pos = neg = 0
    for k in range(n):
        piv = B[k][k]
        if piv.a <= 0 <= piv.b:
            return None
        if piv.a > 0:
            pos += 1
        else:
            neg += 1
        for i in range(k + 1, n):
            factor = B[i][k] / piv
            for j in range(k + 1, n):
                B[i][j] = B[i][j] - factor * B[k][j]
    return Inertia(pos, neg, 0)
