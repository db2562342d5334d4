"""The inequality along data and its negative controls: a claimed exponent below the true one is
refuted with a witness sequence whose ratios are recomputed independently here."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from kltools.analysis import best_constant, fit_tail, refute_exponent


def _ratio(expr: str, names: str, point: tuple[str, ...], alpha: sp.Rational) -> float:
    """|f|^α/|∇f| at an exact point, computed independently (SymPy, then 50 digits)."""
    syms = sp.symbols(names.replace(",", " "), real=True)
    syms = syms if isinstance(syms, tuple) else (syms,)
    f = sp.sympify(expr, locals={s.name: s for s in syms})
    env = {s: sp.Rational(p) for s, p in zip(syms, point, strict=True)}
    val = abs(f.xreplace(env))
    grad2 = sum(sp.diff(f, s).xreplace(env) ** 2 for s in syms)
    with mpmath.workdps(50):
        return float(mpmath.mpf(val.p) / val.q) ** float(alpha) / math.sqrt(
            float(mpmath.mpf(grad2.p) / grad2.q))


def test_negative_control_one_half_at_x4_is_refuted_with_a_witness() -> None:
    r = refute_exponent("x**4", "1/2", variables="x")
    assert r.refuted
    # The witness points approach 0 and the ratio 1/(4|x|) grows without bound.
    assert r.distances[-1] < 1e-6 * r.distances[0]
    for p, got in zip(r.points, r.ratios, strict=True):
        assert got == pytest.approx(_ratio("x**4", "x", p, sp.Rational(1, 2)), rel=1e-12)
        assert got == pytest.approx(1 / (4 * abs(float(sp.Rational(p[0])))), rel=1e-12)
    assert r.ratios[-1] > 1e6 * r.ratios[0]
    assert r.rate == pytest.approx(-0.25, abs=1e-6)  # α − θ = 1/2 − 3/4


@pytest.mark.parametrize(("expr", "vars_", "alpha"), [
    ("(a*b)**2", "a,b", "1/2"),           # THEORY.md: α = 1/2 must be refuted at (ab)² near 0
    ("x**2 + y**4", "x,y", "1/2"),
    ("x**3 + x*y**3", "x,y", "3/4"),      # θ = 7/9: a close call, still refuted
])
def test_exponents_below_theta_are_refuted(expr: str, vars_: str, alpha: str) -> None:
    r = refute_exponent(expr, alpha, variables=vars_)
    assert r.refuted, r.reason
    a = sp.Rational(alpha)
    for p, got in list(zip(r.points, r.ratios, strict=True))[-3:]:
        assert got == pytest.approx(_ratio(expr, vars_, p, a), rel=1e-9)


@pytest.mark.parametrize(("expr", "vars_", "alpha", "at"), [
    ("x**4", "x", "3/4", None),
    ("x**3 + x*y**3", "x,y", "7/9", None),
    ("(a*b - 1)**2/2", "a,b", "1/2", "2,1/2"),
    ("x**2 + y**2", "x,y", "1/2", None),
])
def test_true_exponents_are_not_refuted(expr: str, vars_: str, alpha: str,
                                        at: str | None) -> None:
    assert not refute_exponent(expr, alpha, at, variables=vars_).refuted


def test_fit_tail_on_exact_flows() -> None:
    # Flow of x⁴/4 from 1: x(t) = (1 + 2t)^(-1/2); |L − L*| = x⁴/4, |∇L| = |x|³: α = 3/4,
    # C = 4^(-3/4).
    t = np.geomspace(1, 1e8, 200)
    x = (1 + 2 * t) ** -0.5
    fit = fit_tail(x ** 4 / 4, x ** 3)
    assert fit.alpha == pytest.approx(0.75, abs=1e-9)
    assert fit.constant == pytest.approx(4 ** -0.75, rel=1e-9)
    assert fit.slope_range[0] == pytest.approx(0.75, abs=1e-9)
    # Flow of x²/2 (Morse): x = e^(−t): α = 1/2, C = 2^(−1/2).
    t = np.linspace(1, 30, 300)
    x = np.exp(-t)
    fit = fit_tail(x ** 2 / 2, x)
    assert fit.alpha == pytest.approx(0.5, abs=1e-9)
    assert fit.constant == pytest.approx(2 ** -0.5, rel=1e-9)
    with pytest.raises(ValueError):
        fit_tail([0.0, 0.0], [1.0, 1.0])


def test_best_constant_closed_forms() -> None:
    # x⁴ with α = 3/4: |x|³/(4|x|³) = 1/4 everywhere.
    assert best_constant("x**4", "3/4", variables="x").constant == pytest.approx(0.25, rel=1e-12)
    # x² + y² with α = 1/2: r/(2r) = 1/2.
    assert best_constant("x**2 + y**2", "1/2", variables="x,y").constant == pytest.approx(
        0.5, rel=1e-12)
    # (ab − 1)²/2 at (2, 1/2), α = 1/2: C = 1/(√2·min |(a, b)|) over the ball of radius 1/2.
    c = best_constant("(a*b - 1)**2/2", "1/2", "2,1/2", variables="a,b", radius=0.5)
    want = 1 / (math.sqrt(2) * (math.hypot(2, 0.5) - 0.5))
    assert c.finite and c.radius == 0.5
    assert want * (1 - 1e-6) <= c.constant <= want * (1 + 1e-12)


def test_best_constant_is_infinite_below_the_exponent() -> None:
    c = best_constant("x**2 + y**4", "1/2", variables="x,y")
    assert not c.finite and "below the exponent" in c.reason
