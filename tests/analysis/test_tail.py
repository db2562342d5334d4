"""Tail laws on synthetic tails with known exponents, and the isolation test of a limit."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from kltools.analysis.tail import _finitely_many_critical_points, power_law, rate_law
from kltools.spec import load_problem


def test_power_law_recovers_the_exponent_of_an_exact_power_tail() -> None:
    # |grad L| = 2 |L|^(3/4) on 8 decades: alpha = 3/4 in every window, settled.
    gaps = [Fraction(1, 10 ** k) * Fraction(1, 2) ** j for k in range(8) for j in range(3)]
    grads = [2 * float(g) ** 0.75 for g in gaps]
    law = power_law(gaps, grads, floor=-20, tol=0.01)
    assert law is not None and law.settled
    assert all(a == pytest.approx(0.75, abs=1e-9) for a in law.values)


def test_power_law_is_not_settled_while_the_exponent_drifts() -> None:
    # alpha drifts from 1/2 to 1 across the tail: the last windows disagree.
    xs = [k / 4 for k in range(40)]
    gaps = [10.0 ** -x for x in xs]
    grads = [10.0 ** -(x * (0.5 + x / 20)) for x in xs]
    law = power_law(gaps, grads, floor=-20, tol=0.02)
    assert law is not None and not law.settled


def test_rate_law_settles_on_an_exponential_tail() -> None:
    ts = [Fraction(k, 2) for k in range(60)]
    gaps = [math.exp(-0.3 * float(t)) for t in ts]
    law = rate_law(ts, gaps, floor=-30, rtol=1e-6)
    assert law is not None and law.settled and law.last == pytest.approx(0.3, rel=1e-9)


@pytest.mark.parametrize(("expr", "names", "isolated"), [
    ("x**4", "x", True), ("(x - y**2)**2 + y**6", "x,y", True),
    ("(x*y)**2/2", "x,y", False), ("(a*b*c)**2/2", "a,b,c", False)])
def test_isolation_of_critical_points_by_groebner_bases(expr: str, names: str,
                                                        isolated: bool) -> None:
    vars_ = ", ".join(f'"{v}"' for v in names.split(","))
    p = load_problem(f'[objective]\nexpr = "{expr}"\nvars = [{vars_}]\n')
    assert _finitely_many_critical_points(p) is isolated
