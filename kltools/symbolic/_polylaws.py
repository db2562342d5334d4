"""Polynomial first integrals of a family of polynomial vector fields, by exact linear algebra.

h is a law of the family {X_g} iff X_g·h = ⟨∇h, X_g⟩ = 0 for every generator g. Checking the
generators is enough for the whole Lie algebra: X h = Y h = 0 gives [X, Y] h = X(Y h) − Y(X h) = 0.

Write h = Σ_α c_α θ^α over the monomials of degree 1..K. Each X_g h is a polynomial whose
coefficients are linear in (c_α), so the laws of degree ≤ K are the null space of an exact
integer matrix: one row per (generator, monomial of X_g h). The matrix is very sparse and splits
into independent blocks (unknowns linked by a row; e.g. for two-layer linear nets the blocks
follow the hidden-neuron indices of the monomials), each solved exactly over ℚ with python-flint.

The basis returned is canonical: the reduced row echelon form of the null space with the columns
ordered by degree (highest first) and then lexicographically in the parameter order, each row
scaled to coprime integer coefficients with a positive leading coefficient.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from math import gcd, lcm

import flint

from kltools.symbolic._lie import Field

__all__ = ["Law", "polynomial_laws"]

Monomial = tuple[int, ...]
"""A monomial θ_{i1}⋯θ_{ik} as its sorted tuple of variable indices (a multiset)."""
Law = dict[Monomial, int]
"""A polynomial Σ c_α θ^α as {monomial: integer coefficient}."""


def _terms(p: flint.fmpz_mpoly) -> list[tuple[Monomial, int]]:
    out = []
    for exps, c in p.to_dict().items():
        out.append((tuple(i for i, e in enumerate(exps) for _ in range(e)), int(c)))
    return out


def _column_key(m: Monomial) -> tuple[int, Monomial]:
    return (-len(m), m)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _equations(fields: Sequence[Field], monomials: Sequence[Monomial]
               ) -> list[dict[int, int]]:
    """Rows of the system X_g h = 0: {unknown index: coefficient}, one per (g, monomial)."""
    containing: dict[int, list[int]] = {}
    for col, m in enumerate(monomials):
        for j in set(m):
            containing.setdefault(j, []).append(col)
    rows: dict[tuple[int, Monomial], dict[int, int]] = {}
    for gi, g in enumerate(fields):
        for j, gj in g.items():
            terms = _terms(gj)
            for col in containing.get(j, ()):
                m = monomials[col]
                mult = m.count(j)
                k = m.index(j)
                base = m[:k] + m[k + 1:]
                for beta, c in terms:
                    res = tuple(sorted(base + beta))
                    row = rows.setdefault((gi, res), {})
                    row[col] = row.get(col, 0) + mult * c
    out = []
    for row in rows.values():
        clean = {c: v for c, v in row.items() if v}
        if clean:
            out.append(clean)
    return out


def _primitive(vec: dict[int, flint.fmpq]) -> dict[int, int]:
    den = lcm(*(int(v.q) for v in vec.values()))
    ints = {c: int(v.p) * (den // int(v.q)) for c, v in vec.items()}
    g = 0
    for v in ints.values():
        g = gcd(g, v)
    lead = ints[min(ints)]
    sign = 1 if lead > 0 else -1
    return {c: sign * v // g for c, v in ints.items()}


def _block_nullspace(rows: list[dict[int, int]], cols: list[int]) -> list[dict[int, int]]:
    """RREF basis (primitive integer rows) of {c : row·c = 0 for all rows}, over ``cols``."""
    n = len(cols)
    if rows:
        mat = flint.fmpq_mat(len(rows), n, [row.get(c, 0) for row in rows for c in cols])
        reduced, rank = mat.rref()
        red = reduced.tolist()
    else:
        red, rank = [], 0
    pivots = []
    for r in range(rank):
        pivots.append(next(k for k in range(n) if red[r][k] != 0))
    free = [k for k in range(n) if k not in set(pivots)]
    basis = []
    for f in free:
        vec = [flint.fmpq(0)] * n
        vec[f] = flint.fmpq(1)
        for r, p in enumerate(pivots):
            vec[p] = -red[r][f]
        basis.append(vec)
    if not basis:
        return []
    # The null space basis above is reduced on the free columns; the canonical form wanted is
    # the RREF with pivots on the leading (highest-degree, first) monomials.
    canon, k = flint.fmpq_mat(basis).rref()
    out = []
    for r in canon.tolist()[:k]:
        vec = {cols[i]: v for i, v in enumerate(r) if v != 0}
        out.append(_primitive(vec))
    return out


def polynomial_laws(fields: Sequence[Field], nvars: int, degree: int) -> list[Law]:
    """A canonical basis of the polynomials h of degree 1..``degree`` with X h = 0 for all X in
    ``fields`` (module docstring), as primitive integer coefficient dicts."""
    if degree < 1:
        return []
    monomials: list[Monomial] = []
    for k in range(degree, 0, -1):
        monomials.extend(itertools.combinations_with_replacement(range(nvars), k))
    monomials.sort(key=_column_key)
    rows = _equations(fields, monomials)
    uf = _UnionFind(len(monomials))
    for row in rows:
        cols = iter(row)
        first = next(cols)
        for c in cols:
            uf.union(first, c)
    blocks: dict[int, list[int]] = {}
    for c in range(len(monomials)):
        blocks.setdefault(uf.find(c), []).append(c)
    block_rows: dict[int, list[dict[int, int]]] = {}
    for row in rows:
        block_rows.setdefault(uf.find(next(iter(row))), []).append(row)
    laws: list[dict[int, int]] = []
    for root, cols in blocks.items():
        laws.extend(_block_nullspace(block_rows.get(root, []), cols))
    laws.sort(key=lambda law: min(law))
    return [{monomials[c]: v for c, v in sorted(law.items())} for law in laws]
