"""Exact exponents: the public reference values and derived cases, each proved by the method
``auto`` picks, re-proved by a second exact method where one applies, and checked by the
numerical estimate (an independent second method); every answer within 30 s."""

from __future__ import annotations

import pytest
import sympy as sp

from kltools.analysis import MethodNotApplicableError, lojasiewicz_exponent
from kltools.errors import DerivationError, SpecError
from kltools.spec import load_problem
from tests.analysis.cases import EXACT, NUMERIC_ONLY, POWER_OVER_NUMERIC, PUBLIC, Case


def test_the_public_reference_values_are_all_there() -> None:
    got = {(c.expr, c.at): c.theta for c in PUBLIC}
    assert got == {("x**2", None): sp.Rational(1, 2), ("x**3", None): sp.Rational(2, 3),
                   ("x**4", None): sp.Rational(3, 4), ("x**6", None): sp.Rational(5, 6),
                   ("x**2 - y**2", None): sp.Rational(1, 2),
                   ("x**2 + y**4", None): sp.Rational(3, 4),
                   ("(a*b - 1)**2/2", "2,1/2"): sp.Rational(1, 2)}
    assert len(EXACT) - len(PUBLIC) >= 6


@pytest.mark.parametrize("case", EXACT, ids=lambda c: c.id)
def test_exact_value_and_method(case: Case) -> None:
    r = lojasiewicz_exponent(case.expr, case.at, variables=case.vars)
    assert r.exponent == case.theta
    assert r.method == case.method
    assert r.interval == (case.theta, case.theta)
    assert r.critical_point.certified and r.critical_point.exact
    if r.bound is not None:
        assert case.theta <= r.bound


@pytest.mark.parametrize("case", [c for c in EXACT if c.also], ids=lambda c: c.id)
def test_a_second_exact_method_agrees(case: Case) -> None:
    for m in case.also:
        r = lojasiewicz_exponent(case.expr, case.at, variables=case.vars, method=m)
        assert r.exponent == case.theta, m


@pytest.mark.parametrize("case", EXACT + NUMERIC_ONLY, ids=lambda c: c.id)
def test_numeric_interval_contains_the_exact_value(case: Case) -> None:
    r = lojasiewicz_exponent(case.expr, case.at, variables=case.vars, method="numeric")
    lo, hi = r.interval
    assert r.exponent is None and r.method == "numeric"
    assert lo <= case.theta <= hi, (lo, hi)
    assert hi - lo <= 0.05
    assert r.numeric is not None and r.numeric.converged


@pytest.mark.parametrize("case", NUMERIC_ONLY, ids=lambda c: c.id)
def test_auto_falls_back_to_a_justified_interval(case: Case) -> None:
    r = lojasiewicz_exponent(case.expr, case.at, variables=case.vars)
    assert r.exponent is None and r.method == "numeric"
    lo, hi = r.interval
    assert lo <= case.theta <= hi and hi - lo <= 0.05
    # Every exact method was tried and said why it does not apply.
    assert [a.method for a in r.attempts] == ["morse", "univariate", "morse-bott", "power",
                                              "quasi-homogeneous", "newton-polygon"][:len(
                                                  r.attempts)]
    assert all(not a.applies and a.reason for a in r.attempts)
    assert r.to_json()["exponent"] is None


def test_power_rule_maps_a_numeric_interval() -> None:
    c = POWER_OVER_NUMERIC
    r = lojasiewicz_exponent(c.expr, c.at, variables=c.vars)
    assert r.method == "power" and r.exponent is None
    lo, hi = r.interval
    assert lo <= c.theta <= hi and hi - lo <= 0.05 / 2 + 1e-12


def test_degenerate_point_exponent_is_exact_but_point_not_nondegenerate() -> None:
    r = lojasiewicz_exponent("(a*b - 1)**2/2", ["2", "1/2"], variables="a,b")
    cp = r.critical_point
    assert r.exponent == sp.Rational(1, 2)
    assert cp.classification == "degenerate" and cp.kernel_dimension == 1
    assert not cp.nondegenerate


def test_problem_input_objective_and_piecewise() -> None:
    p = load_problem('[objective]\nexpr = "(a*b - 3)**2/2"\nvars = ["a", "b"]\n')
    r = lojasiewicz_exponent(p, ["3", "1"])
    assert r.exponent == sp.Rational(1, 2) and r.method == "morse-bott"
    relu = load_problem('[objective]\nexpr = "(relu(a)*b - 1)**2/2 + (a - 2)**2/8"\n'
                        'vars = ["a", "b"]\n')
    # On the active piece a > 0 the loss is smooth; its critical points solve a·b = 1 ... the
    # point (2, 1/2) is one: b(ab − 1) + (a − 2)/4 = 0 and a(ab − 1) = 0.
    r = lojasiewicz_exponent(relu, ["2", "1/2"])
    assert r.exponent == sp.Rational(1, 2) and r.method == "morse"
    with pytest.raises(DerivationError, match="kink"):
        lojasiewicz_exponent(relu, ["0", "1"])


@pytest.mark.parametrize(("expr", "vars_", "at", "err", "match"), [
    ("x**2 + z**2", "x,y", None, SpecError, "unknown symbol 'z'"),
    ("x**2 + y", "x,y", None, DerivationError, "not a critical point"),
    ("x**2 + y**2", "x,y", "1,0", DerivationError, "not a critical point"),
    ("x**2 + y**2", "x,y", "0", SpecError, "1 coordinate"),
    ("x**2 +* y", "x,y", None, SpecError, "syntax"),
    ("x - x", "x", None, DerivationError, "constant"),
    ("x**2", "x,x", None, SpecError, "twice"),
])
def test_bad_inputs_give_clear_errors(expr: str, vars_: str, at: str | None,
                                      err: type[Exception], match: str) -> None:
    with pytest.raises(err, match=match):
        lojasiewicz_exponent(expr, at, variables=vars_)


@pytest.mark.parametrize(("expr", "vars_", "method", "match"), [
    ("exp(x) - x + y**2", "x,y", "quasi-homogeneous", "polynomial"),
    ("exp(x) - x + y**2", "x,y", "newton-polygon", "polynomial"),
    ("x**2 + y**4", "x,y", "morse", "singular"),
    ("x**2 + y**4 + z**2", "x,y,z", "newton-polygon", "not two"),
    ("(x**2 - y**3)**2", "x,y", "newton-polygon", "degenerate"),
    ("x**3 + 3*x*y**4", "x,y", "quasi-homogeneous", "lower bound is not proved"),
    ("x**2*y**2 + y**2*z**2 + x**2*z**2", "x,y,z", "morse-bott", "vanishes"),
    ("x**2 + y**2", "x,y", "magic", "unknown method"),
])
def test_a_forced_method_whose_hypothesis_fails_raises(expr: str, vars_: str, method: str,
                                                       match: str) -> None:
    with pytest.raises((MethodNotApplicableError, SpecError), match=match):
        lojasiewicz_exponent(expr, None, variables=vars_, method=method)


def test_json_shape() -> None:
    j = lojasiewicz_exponent("x**2 + y**4", variables="x,y").to_json()
    assert j["exponent"] == "3/4" and j["interval"] == ["3/4", "3/4"] and j["bound"] == "35/36"
    assert j["critical_point"] == {"point": ["0", "0"], "certified": True,
                                   "classification": "degenerate", "kernel_dimension": 1}
