"""The exact multi-class hard margin against hand-computed optima and refusals."""

from __future__ import annotations

import pytest
import sympy as sp

from kltools.analysis.multiclass_margin import hard_margin, is_linear_softmax
from kltools.errors import DerivationError
from kltools.spec import problem_from_dict


def _p(x: list[list[str]], y: list[int], layers: list[int] | None = None,
       act: str = "linear") -> object:
    k = max(y) + 1 if layers is None else layers[-1]
    return problem_from_dict({"network": {"layers": layers or [len(x[0]), k], "activation": act},
                              "loss": {"kind": "cross-entropy"}, "data": {"x": x, "y": y}})


def test_orthonormal_samples_with_three_classes() -> None:
    """x_i = e_i, y_i = i: by symmetry W = I − J/3 up to scale, each margin 1 and ‖W‖² = 2."""
    m = hard_margin(_p([["1", "0", "0"], ["0", "1", "0"], ["0", "0", "1"]], [0, 1, 2]))
    assert m.eps_squared == sp.Rational(1, 2)
    assert m.w == sp.eye(3) - sp.ones(3, 3) / 3


def test_two_classes_reduce_to_the_binary_margin() -> None:
    """Two classes on the line x = 1 (class 0) and x = 3 (class 1) with features (x, 1): the
    SVM through the origin of the gap z1 − z0 = 2w·(x, 1)... here w = (1, −2)/1 gives margins
    −(1 − 2) = 1 and 3 − 2 = 1; in the two-column W the norm halves: ε*² = 2/(1 + 4)."""
    m = hard_margin(_p([["1", "1"], ["3", "1"]], [0, 1]))
    assert m.eps_squared == sp.Rational(2, 5)
    gaps = [sum(xf * (m.w[f, 1 - y] - m.w[f, y]) for f, xf in enumerate(x))
            for x, y in (((1, 1), 0), ((3, 1), 1))]
    assert gaps == [-1, -1]  # each sample's wrong logit is 1 below its own


def test_a_larger_claimed_margin_is_infeasible() -> None:
    """Negative control: no unit W reaches margin 1.01·ε* (checked at the optimum's scale)."""
    m = hard_margin(_p([["1", "0", "0"], ["0", "1", "0"], ["0", "0", "1"]], [0, 1, 2]))
    w = m.w / sp.sqrt(sum(v**2 for v in m.w))
    worst = min(w[i, i] - w[i, j] for i in range(3) for j in range(3) if j != i)
    assert worst == sp.sqrt(m.eps_squared) and worst < sp.Rational(101, 100) * m.eps


@pytest.mark.parametrize(("x", "y", "layers", "act", "words"), [
    ([["1"], ["1"]], [0, 1], None, "linear", "cannot be separated"),
    ([["1", "0"], ["0", "1"]], [0, 1], [2, 2, 2], "relu", "linear model"),
])
def test_refusals(x: list[list[str]], y: list[int], layers: list[int] | None, act: str,
                  words: str) -> None:
    p = _p(x, y, layers, act)
    with pytest.raises(DerivationError, match=words):
        hard_margin(p)
    assert (is_linear_softmax(p) is None) == (layers is None)
