"""Certified critical points: exact and Krawczyk certification, certified inertia, and the
negative controls (a degenerate point is never certified non-degenerate)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kltools.analysis import certify_critical_point
from kltools.analysis.inertia import Inertia, exact_inertia, interval_inertia
from kltools.compiled.pointwise import interval_context
from kltools.errors import DerivationError
from kltools.spec import load_problem


def test_saddle_of_the_scalar_factorisation_is_certified_nondegenerate() -> None:
    cp = certify_critical_point("(a*b - 1)**2/2", ["0", "0"], variables="a,b")
    assert cp.exact and cp.certified and cp.method == "exact"
    assert cp.classification == "saddle" and cp.inertia == Inertia(1, 1, 0)
    assert cp.nondegenerate


def test_minimum_on_the_curve_ab_1_is_certified_but_degenerate() -> None:
    cp = certify_critical_point("(a*b - 1)**2/2", ["2", "1/2"], variables="a,b")
    # Critical (exactly), a minimum in fact (f ≥ 0 = f(p)), but the Hessian [[1/4, 1], [1, 4]]
    # is singular: the point lies on a curve of minima.
    assert cp.certified and cp.exact
    assert cp.classification == "degenerate" and cp.kernel_dimension == 1
    assert cp.inertia == Inertia(1, 0, 1)
    assert not cp.nondegenerate


def test_krawczyk_certifies_an_irrational_minimum() -> None:
    # x³ − 6x + y² has a minimum at (√2, 0): the point is refined and proved in a box.
    cp = certify_critical_point("x**3 - 6*x + y**2", ["1.4", "0.1"], variables="x,y")
    assert cp.method == "krawczyk" and cp.certified and not cp.exact
    assert cp.classification == "minimum" and cp.nondegenerate
    r = float(cp.radius)
    assert 0 < r < 1e-10
    assert abs(float(cp.point[0]) - 2 ** 0.5) < 1e-14 and abs(float(cp.point[1])) < 1e-14


def test_krawczyk_certifies_an_irrational_saddle() -> None:
    cp = certify_critical_point("x**3 - 6*x - y**2", ["-1.5", "0.2"], variables="x,y")
    # at (−√2, 0): f_xx = 6x < 0, f_yy = −2 < 0: a maximum
    assert cp.method == "krawczyk" and cp.classification == "maximum" and cp.nondegenerate
    cp = certify_critical_point("x**3 - 6*x - y**2", ["1.5", "0.2"], variables="x,y")
    assert cp.classification == "saddle" and cp.nondegenerate


def test_negative_control_degenerate_irrational_point_is_not_certified() -> None:
    # (x² − 2)³ has a critical point at √2 with f'' = 0: Krawczyk needs a regular Hessian.
    cp = certify_critical_point("(x**2 - 2)**3", ["1.4"], variables="x")
    assert not cp.certified and cp.method == "none"
    assert cp.classification == "degenerate" and not cp.nondegenerate
    assert "degenerate" in cp.note or "singular" in cp.note


def test_negative_control_exact_degenerate_points() -> None:
    for expr, vars_ in [("x**4", "x"), ("x**2 + y**4", "x,y"), ("x**3 - 3*x*y**2", "x,y")]:
        cp = certify_critical_point(expr, None, variables=vars_)
        assert cp.certified and cp.exact and not cp.nondegenerate
        assert cp.kernel_dimension is not None and cp.kernel_dimension >= 1


def test_not_critical_without_refine_is_an_error() -> None:
    with pytest.raises(DerivationError, match="not a critical point"):
        certify_critical_point("x**2 + y", ["0", "0"], variables="x,y", refine=False)


def test_piecewise_problem_box_stays_in_one_piece() -> None:
    p = load_problem('[objective]\nexpr = "(relu(a)*b - 1)**2/2 + (a - 2)**2/8"\n'
                     'vars = ["a", "b"]\n')
    exact = certify_critical_point(p, ["2", "1/2"])
    # Hessian [[1/4 + 1/4, 1], [1, 4]] (the (a − 2)²/8 term adds 1/4): determinant 1 > 0.
    assert exact.exact and exact.classification == "minimum" and exact.nondegenerate
    # From a nearby inexact point Newton converges to (2, 1/2) and the box keeps a > 0.
    cp = certify_critical_point(p, ["1.9", "0.6"])
    assert cp.certified and cp.method == "krawczyk"
    assert abs(float(cp.point[0]) - 2) < 1e-20 and abs(float(cp.point[1]) - 0.5) < 1e-20


def test_piecewise_point_on_a_kink_is_refused() -> None:
    p = load_problem('[objective]\nexpr = "(relu(a)*b - 1)**2/2 + (a - 2)**2/8"\n'
                     'vars = ["a", "b"]\n')
    with pytest.raises(DerivationError):
        certify_critical_point(p, ["0", "1"])


symmetric = st.lists(st.lists(st.integers(-3, 3), min_size=3, max_size=3), min_size=3,
                     max_size=3)


@settings(max_examples=40)
@given(symmetric, st.integers(0, 2))
def test_exact_inertia_matches_eigenvalues(rows: list[list[int]], rank_drop: int) -> None:
    A = sp.Matrix(rows)
    A = (A + A.T) / 2
    # Make some matrices singular on purpose.
    if rank_drop:
        A = A * sp.diag(*([1] * (3 - rank_drop) + [0] * rank_drop)) * A.T
    got = exact_inertia(A)
    ev = np.linalg.eigvalsh(np.array(A.tolist(), dtype=float))
    tol = 1e-9 * max(1.0, float(np.max(np.abs(ev))))
    want = Inertia(int(np.sum(ev > tol)), int(np.sum(ev < -tol)), int(np.sum(abs(ev) <= tol)))
    assert got == want


def test_interval_inertia_certifies_or_abstains() -> None:
    iv = interval_context(30)
    A = [[iv.mpf(2), iv.mpf(1)], [iv.mpf(1), iv.mpf(-3)]]
    assert interval_inertia(A, 30) == Inertia(1, 1, 0)
    # An enclosure containing a singular matrix: nothing is claimed.
    B = [[iv.mpf([-1e-3, 1e-3]), iv.mpf(0)], [iv.mpf(0), iv.mpf(1)]]
    assert interval_inertia(B, 30) is None
    S = [[iv.mpf(1), iv.mpf(2)], [iv.mpf(2), iv.mpf(4)]]  # singular exactly
    assert interval_inertia(S, 30) is None


def _two_layer_relu(l2: str) -> object:
    from kltools.spec import problem_from_dict

    return problem_from_dict({
        "network": {"layers": [1, 2, 1], "activation": "relu", "bias": False},
        "loss": {"kind": "square", "l2": l2},
        "data": {"x": [["1"], ["-1"]], "y": ["1", "1"]}})


def test_two_layer_relu_minimum_with_l2_is_certified_by_krawczyk() -> None:
    # Each hidden unit serves one sample: L = Σ (w_k a_k − 1)²/4 + (λ/2)‖θ‖² with λ = 1/10 has a
    # non-degenerate minimum at |w_k| = a_k = s, s² = 1 − 2λ = 4/5 (irrational s = 2/√5).
    cp = certify_critical_point(_two_layer_relu("1/10"), ["0.9", "-0.9", "0.9", "0.9"])
    assert cp.method == "krawczyk" and cp.certified and cp.nondegenerate
    assert cp.classification == "minimum"
    s = 2 / 5 ** 0.5
    assert [abs(float(v)) for v in cp.point] == pytest.approx([s] * 4, abs=1e-15)


def test_two_layer_relu_minimum_without_l2_is_degenerate() -> None:
    # Without L2 the minima form the manifold {w_1 a_1 = 1, −w_2 a_2 = 1}: kernel dimension 2
    # (one rescaling symmetry per unit); exact certification, never "non-degenerate".
    from kltools.analysis import lojasiewicz_exponent

    p = _two_layer_relu("0")
    cp = certify_critical_point(p, ["2", "-1", "1/2", "1"])
    assert cp.exact and cp.classification == "degenerate" and cp.kernel_dimension == 2
    r = lojasiewicz_exponent(p, ["2", "-1", "1/2", "1"])
    assert r.exponent == sp.Rational(1, 2) and r.method == "morse-bott"
