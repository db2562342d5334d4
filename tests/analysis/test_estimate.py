"""The numerical estimate: its interval logic on synthetic slopes, its level-set minima checked
independently, and robustness on germs whose exponent is known through a change of coordinates
(θ is invariant under analytic diffeomorphisms)."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from kltools.analysis.estimate import _interval, estimate_exponent, level_minima
from kltools.analysis.germ import make_germ


def test_interval_settled_slopes() -> None:
    centre, (lo, hi), conv, _ = _interval([0.7, 0.76, 0.75] + [0.75] * 8, 8, 1.0)
    assert conv and lo <= 0.75 <= hi and hi - lo <= 0.0021 and centre == 0.75


def test_interval_geometric_convergence_is_extrapolated() -> None:
    slopes = [0.75 - 0.3 * 0.7 ** k for k in range(12)]
    _, (lo, hi), conv, why = _interval(slopes, 8, 1.0)
    assert conv and "geometric" in why and lo <= 0.75 <= hi


def test_interval_flags_a_lost_branch() -> None:
    # m(ε) jumped up at one level (negative slope): the earlier plateau 0.8 stays in the interval.
    slopes = [0.8] * 8 + [-3.0] + [0.5] * 8
    _, (lo, hi), conv, why = _interval(slopes, 8, 1.0)
    assert not conv and "lost" in why and lo <= 0.5 and hi >= 0.8


def test_interval_unsettled() -> None:
    slopes = [0.6, 0.9, 0.55, 0.85, 0.6, 0.9, 0.58, 0.88]
    _, (lo, hi), conv, _ = _interval(slopes, 8, 1.0)
    assert not conv and lo <= 0.55 and hi >= 0.9


def test_level_minima_are_on_their_level_sets_with_the_stated_gradient() -> None:
    g = make_germ("x**3 + x*y**3", variables="x,y")
    x, y = g.variables
    for p in level_minima(g, levels=8):
        env = {x: sp.Rational(p.point[0]), y: sp.Rational(p.point[1])}
        assert float(g.expr.xreplace(env)) == pytest.approx(p.sign * p.level, rel=1e-6)
        gn = math.sqrt(sum(float(d.xreplace(env)) ** 2 for d in g.gradient))
        assert gn == pytest.approx(p.grad_norm, rel=1e-6)


X, Y, Z = sp.symbols("x y z", real=True)
U, V, W = sp.symbols("u v w", real=True)

CHANGED = [
    (U**2 + V**5, {U: X + Y**2, V: Y - X * Y}, sp.Rational(4, 5)),
    (U**2 - V**6, {U: X + Y**2, V: Y + X * Y / 2}, sp.Rational(5, 6)),
    (U**3 + U * V**3, {U: X - Y**2 / 2, V: Y + 2 * X**2}, sp.Rational(7, 9)),
    (U**2 + V**4 + W**4, {U: X - Y**2 + Z**2, V: Y + Z**2, W: Z - X * Y}, sp.Rational(3, 4)),
    (U**2 + V**5 - W**4, {U: X + Y**2 - 2 * Z**2, V: Y + 2 * Z**2, W: Z + X * Y},
     sp.Rational(4, 5)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("base", "change", "theta"), CHANGED,
                         ids=[f"{b}@{c}" for b, c, _ in CHANGED])
def test_exponent_survives_a_change_of_coordinates(base: sp.Expr, change: dict,
                                                   theta: sp.Rational) -> None:
    g = sp.expand(base.xreplace(change))
    vs = [s for s in (X, Y, Z) if s in g.free_symbols]
    est = estimate_exponent(make_germ(g, variables=vs))
    assert est.converged and est.interval[0] <= theta <= est.interval[1]
    assert est.width <= 0.05
