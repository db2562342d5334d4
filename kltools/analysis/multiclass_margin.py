"""The multi-class hard margin of a linear softmax model, computed exactly.

For a linear model z = Wᵀx (W: features × classes) and samples (x_i, y_i), a separating W* with
‖W*‖_F = 1 has margin ε = min_i min_{j≠y_i} (z_{y_i} − z_j)(W*; x_i) = min_c ⟨W*, A_c⟩, one
matrix A_c = x_i (e_{y_i} − e_j)ᵀ per constraint c = (i, j). The best margin is

    ε* = max_{‖W‖_F ≤ 1} min_c ⟨W, A_c⟩ = 1 / min{‖W‖_F : ⟨W, A_c⟩ ≥ 1 for all c},

a quadratic programme whose solution is W = Σ_{c∈S} α_c A_c with the Gram system
G_S α = 1 on the active set S and α ≥ 0 (KKT). Enumerating active sets in exact rational
arithmetic gives ε*² = 1 / (1ᵀ G_S⁻¹ 1) exactly. Exponential in the number of constraints, so
for the small models kltools checks (at most :data:`MAX_CONSTRAINTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import sympy as sp

from kltools.errors import DerivationError
from kltools.spec.problem import Problem

__all__ = ["MAX_CONSTRAINTS", "HardMargin", "hard_margin", "is_linear_softmax"]

MAX_CONSTRAINTS = 12


@dataclass(frozen=True)
class HardMargin:
    """ε*² (exact), the max-margin direction W/‖W‖ as W (features × classes) with min ⟨W, A_c⟩
    = 1, and the active constraints (sample, wrong class), 0-based."""

    eps_squared: sp.Rational
    w: sp.Matrix
    active: tuple[tuple[int, int], ...]

    @property
    def eps(self) -> sp.Expr:
        return sp.sqrt(self.eps_squared)


def is_linear_softmax(problem: Problem) -> str | None:
    """None when ``problem`` is a linear softmax model (``layers = [d, k]``, linear, no bias,
    cross-entropy, no L2 term); else the reason it is not."""
    net, loss = problem.network, problem.loss
    if net is None or loss is None or loss.kind != "cross-entropy":
        return "needs the cross-entropy loss"
    if net.kind != "mlp" or len(net.order()) != net.n_outputs or net.activations() != {"linear"}:
        return "needs a linear model (network.layers = [d, k], linear output)"
    if len(net.parameters) != net.n_inputs * net.n_outputs or loss.l2 != 0:
        return "needs a linear model without bias and without an L2 term"
    return None


def _constraints(problem: Problem) -> tuple[list[tuple[int, int]], list[sp.Matrix]]:
    net, data = problem.network, problem.data
    assert net is not None and data is not None
    d, k = net.n_inputs, net.n_outputs
    keys, mats = [], []
    for i, (x, (y,)) in enumerate(zip(data.x, data.y, strict=True)):
        for j in range(k):
            if j != int(y):
                e = sp.zeros(1, k)
                e[int(y)], e[j] = 1, -1
                keys.append((i, j))
                mats.append(sp.Matrix(d, 1, list(x)) * e)
    return keys, mats


def hard_margin(problem: Problem) -> HardMargin:
    """The best margin ε* of a linear softmax problem, exactly (module docstring).

    Raises :class:`DerivationError` when the model is not linear softmax, has too many
    constraints, or the data cannot be separated (ε* = 0).
    """
    why = is_linear_softmax(problem)
    if why is not None:
        raise DerivationError(f"the hard margin is computed for linear softmax models: {why}")
    keys, mats = _constraints(problem)
    if len(mats) > MAX_CONSTRAINTS:
        raise DerivationError(f"{len(mats)} margin constraints; exact enumeration handles at "
                              f"most {MAX_CONSTRAINTS}")
    flat = [list(a) for a in mats]
    gram = sp.Matrix(len(flat), len(flat), lambda a, b: sum(
        u * v for u, v in zip(flat[a], flat[b], strict=True)))
    best: HardMargin | None = None
    for size in range(1, len(flat) + 1):
        for s in combinations(range(len(flat)), size):
            g = gram.extract(list(s), list(s))
            if g.det() == 0:
                continue
            alpha = g.LUsolve(sp.ones(size, 1))
            if any(a < 0 for a in alpha):
                continue
            w = sum((alpha[t] * mats[c] for t, c in enumerate(s)), sp.zeros(*mats[0].shape))
            if all(sum(p * q for p, q in zip(w, m, strict=True)) >= 1 for m in mats):
                norm2 = sum(v**2 for v in w)
                if best is None or 1 / norm2 > best.eps_squared:
                    best = HardMargin(sp.Rational(1) / norm2, w, tuple(keys[c] for c in s))
        if best is not None:
            return best  # a KKT point of a convex programme is its (unique) minimiser
    raise DerivationError("the data cannot be separated by a linear model (best margin 0)")
