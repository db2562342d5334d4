"""Each exact method alone: it proves its value when its hypotheses hold, and declines (with the
failed hypothesis) when they do not — including the cases where a naive formula is wrong."""

from __future__ import annotations

import sympy as sp

from kltools.analysis.bounds import dacunto_kurdyka
from kltools.analysis.exponent import exponent_of_germ
from kltools.analysis.germ import Germ, make_germ
from kltools.analysis.methods._outcome import MethodOutcome
from kltools.analysis.methods.morse import morse
from kltools.analysis.methods.morse_bott import morse_bott
from kltools.analysis.methods.newton_polygon import newton_polygon, polygon
from kltools.analysis.methods.power import power_rule, split_power
from kltools.analysis.methods.quasi_homogeneous import quasi_homogeneous, weights
from kltools.analysis.methods.univariate import univariate

R = sp.Rational


def germ(expr: str, vars_: str, at: str | None = None) -> Germ:
    return make_germ(expr, at, variables=vars_)


def test_germ_translation_is_exact() -> None:
    g = germ("(a*b - 1)**2/2", "a,b", "2,1/2")
    a, b = g.variables
    assert sp.expand(g.expr - ((2 + a) * (R(1, 2) + b) - 1) ** 2 / 2) == 0
    assert g.value == 0 and g.poly is not None and g.degree == 4


def test_point_may_be_algebraic() -> None:
    g = germ("(x**2 - 2)**3", "x", "sqrt(2)")
    assert g.point == (sp.sqrt(2),) and g.poly is None  # coefficients in ℚ(√2)
    out = exponent_of_germ(g)[0]
    assert out.exponent == R(2, 3) and out.method == "univariate"


def test_morse_declines_on_a_singular_hessian() -> None:
    assert morse(germ("x**2 - y**2 + z**3", "x,y,z")).exponent is None
    assert morse(germ("x**2 - y**2 + x*y + z**2", "x,y,z")).exponent == R(1, 2)


def test_univariate_orders() -> None:
    for m in range(2, 9):
        assert univariate(germ(f"x**{m} + x**{m + 1}", "x")).exponent == 1 - R(1, m)
    assert univariate(germ("exp(x) - 1 - x", "x")).exponent == R(1, 2)
    assert univariate(germ("x**2*y", "x,y")).applies is False


def test_power_rule_uses_f_minus_f_p_and_never_a_factor_that_does_not_vanish() -> None:
    # The naive rule θ(g^k) = (k − 1 + θ(g))/k with g = 1 + x², θ(g) = 1/2 would say 3/4 for
    # (1 + x²)² at 0; the truth is 1/2 (Morse). The method factors f − f(p) = x²(x² + 2):
    # G = x (regular), the unit x² + 2 is dropped.
    g = germ("(1 + x**2)**2", "x")
    k, G, u = split_power(g)
    assert (k, G) == (2, g.variables[0]) and u.xreplace({g.variables[0]: 0}) != 0
    out = power_rule(g, lambda _: MethodOutcome("never", None, "not called"))
    assert out.exponent == R(1, 2) == morse(g).exponent


def test_power_rule_with_a_critical_inner_germ() -> None:
    out, _, _ = exponent_of_germ(germ("(x**2 - y**3)**2", "x,y"), "power")
    assert out.exponent == R(5, 6)
    assert out.details["inner_method"] == "quasi-homogeneous"
    assert out.details["inner_exponent"] == "2/3"
    # mixed multiplicities: x²y⁴ = (x y²)², θ(xy²) = 2/3 (Newton polygon / QH), so 5/6
    out, _, _ = exponent_of_germ(germ("x**2*y**4", "x,y"), "power")
    assert out.details["k"] == 2 and out.exponent == (1 + exponent_of_germ(
        germ("x*y**2", "x,y"))[0].exponent) / 2


def test_power_rule_declines_without_a_power() -> None:
    assert power_rule(germ("x**2 + y**4", "x,y"), lambda g: None).applies is False  # type: ignore[arg-type, return-value]
    assert power_rule(germ("x**2*y**3", "x,y"), lambda g: None).applies is False  # type: ignore[arg-type, return-value]


def test_morse_bott_needs_a_clean_critical_manifold() -> None:
    assert morse_bott(germ("(x**2 + y**2 - 1)**2", "x,y", "3/5,4/5")).exponent == R(1, 2)
    assert morse_bott(germ("(x*y*z - 1)**2", "x,y,z", "1,1,1")).details[
        "manifold_dimension"] == 2
    # Rank-1 Hessian but the critical set {x = 0, yz = 0} is two crossing lines: declines.
    assert morse_bott(germ("x**2 + y**2*z**2", "x,y,z")).applies is False
    # Rank-1 Hessian and an isolated critical point: not Morse–Bott (θ = 2/3).
    assert morse_bott(germ("x**2 + y**3", "x,y")).applies is False


def test_quasi_homogeneous_weights_and_declines() -> None:
    assert weights(germ("x**2*y + y**4", "x,y")) == [R(3, 8), R(1, 4)]
    assert weights(germ("x**2*y**2", "x,y")) is None  # a one-parameter family: not unique
    assert weights(germ("x**2 + y**3 + x*y**2", "x,y")) is None  # not weighted homogeneous
    out = quasi_homogeneous(germ("(x**2 + y**2)**2", "x,y"))
    assert out.applies is False and "not isolated over" in out.reason
    # Isolated, but no real witness: only θ ≤ 5/6 is proved; the truth is 2/3 (Newton).
    out = quasi_homogeneous(germ("x**3 + 3*x*y**4", "x,y"))
    assert out.applies is False and out.details["upper_bound"] == "5/6"
    assert newton_polygon(germ("x**3 + 3*x*y**4", "x,y")).exponent == R(2, 3)


def test_quasi_homogeneous_witness_kinds() -> None:
    w = quasi_homogeneous(germ("x**2 + y**4", "x,y")).details["witness"]
    assert w["kind"] == "exact point"
    w = quasi_homogeneous(germ("x**3 + x*y**3", "x,y")).details["witness"]
    assert w["kind"] == "real root"
    w = quasi_homogeneous(germ("x**3 + x*z**3 + y**2", "x,y,z")).details["witness"]
    assert w["kind"] == "certified box"


def test_newton_polygon_vertices_and_real_nondegeneracy() -> None:
    assert polygon([(0, 4), (2, 1), (3, 0), (1, 3), (4, 4)]) == [(0, 4), (2, 1), (3, 0)]
    out = newton_polygon(germ("(x**2 - y**3)**2", "x,y"))
    assert out.applies is False and "degenerate" in out.reason
    out = newton_polygon(germ("x**2 + 2*x*y**2 + y**4 + y**5", "x,y"))
    assert out.applies is False and "degenerate" in out.reason
    # Complex-degenerate but real non-degenerate edges are fine: x² + y² has no real zero.
    assert newton_polygon(germ("(x**2 + y**2)**2 + x**5", "x,y")).exponent == R(3, 4)


def test_dacunto_kurdyka_bound_is_an_upper_bound_on_every_reference_value() -> None:
    from tests.analysis.cases import EXACT

    for c in EXACT:
        g = germ(c.expr, c.vars, c.at)
        if g.degree is not None:
            assert c.theta <= dacunto_kurdyka(g.n, g.degree)
    assert dacunto_kurdyka(1, 6) == R(5, 6)  # sharp in one variable (x⁶)
