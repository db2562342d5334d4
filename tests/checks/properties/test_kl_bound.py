"""``kl-bound`` on the softmax experiment of arXiv 2301.08117 (rows of norm 1): holds with the
exact best margin, refuted with a margin the data do not have."""

from __future__ import annotations

import pytest
import sympy as sp

from kltools.checks.properties import check_property
from kltools.errors import NotApplicableError
from kltools.spec import problem_from_dict
from kltools.status import Status

W_STAR = sp.Matrix([[2, -1, -1], [-1, 2, -1], [-5, -5, 10], [0, 0, 0]])


def _experiment() -> tuple[object, list[sp.Rational]]:
    x = [["1", "0", "0", "0"], ["0", "1", "0", "0"], ["0", "0", "1", "0"]]
    p = problem_from_dict({"network": {"layers": [4, 3], "activation": "linear"},
                           "loss": {"kind": "cross-entropy"}, "data": {"x": x, "y": [0, 1, 2]}})
    w0 = -10 * W_STAR / sp.sqrt(sum(v**2 for v in W_STAR))
    return p, [sp.Rational(sp.N(w0[f, c], 60)) for c in range(3) for f in range(4)]


def test_holds_with_the_best_margin_and_is_refuted_with_three_times_it() -> None:
    p, theta0 = _experiment()
    v = check_property("kl-bound", p, theta0, t_end="1e3")
    assert v.status is Status.HOLDS
    assert abs(float(v.evidence.best) - 2 ** -0.5) < 1e-12
    assert float(v.evidence.rate_slack) > 1
    # ε = 3ε*: the rate bound exceeds the computed −dL/dt (ratio about 4.3 at ε*, so 4.3/9 < 1).
    bad = check_property("kl-bound", p, theta0, t_end="1e3", epsilon="2.1213")
    assert bad.status is Status.REFUTED
    assert bad.counterexample is not None


def test_does_not_apply_beyond_linear_softmax() -> None:
    p = problem_from_dict({"network": {"layers": [2, 2], "activation": "linear"},
                           "data": {"x": [["1", "0"]], "y": [["1", "0"]]}})
    with pytest.raises(NotApplicableError, match="cross-entropy"):
        check_property("kl-bound", p)
