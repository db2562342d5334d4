"""Flows of population losses against an independent high-precision integration.

The reference is :func:`mpmath.odefun` (its own Taylor method) on a vector field written by hand
from the closed form (or, for the arc-cosine kernel, from E[r∇f] integrated on its own), never
from kltools' derivation or jets.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from kltools.integrate.flow import integrate
from kltools.numbers import agreement_digits, to_fraction
from kltools.spec import load_problem
from kltools.symbolic.expectation import population_expressions

RELU = """[network]
layers = [1, 1, 1]
activation = "relu"
[data]
distribution = "uniform"
teacher = "relu(x1)"
[init]
theta = ["0.5", "0.3"]
"""
QUAD = """[network]
layers = [1, 1, 1]
activation = "z**2"
[data]
distribution = "gaussian"
teacher = "x1**2"
[init]
theta = ["0.6", "0.4"]
"""
ARCCOS = """[network]
layers = [2, 2, 1]
activation = "relu"
[data]
distribution = "gaussian"
dim = 2
teacher = "relu(x1) + relu(x2)"
[init]
theta = ["0.8", "0.1", "0.2", "0.9", "0.7", "0.6"]
"""


def reference(field: object, theta0: list[str], t_end: int, dps: int = 50) -> list[object]:
    with mpmath.workdps(dps):
        sol = mpmath.odefun(field, 0, [mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q
                                        for v in theta0])
        return [mpmath.mpf(v) for v in sol(t_end)]


def digits(problem_text: str, field: object, theta0: list[str], t_end: int) -> float:
    traj = integrate(load_problem(problem_text), None, t_end, dps=40)
    ref = reference(field, theta0, t_end)
    with mpmath.workdps(60):
        ours = [to_fraction(v) for v in traj.theta]
        return agreement_digits(ours, [to_fraction(v) for v in ref])


def test_relu_uniform_flow_matches_closed_form_ode() -> None:
    # L = (vw − 1)²/12 on w > 0 (the flow stays there from w = 1/2, v = 3/10).
    def field(t: object, y: list[object]) -> list[object]:
        w, v = y
        r = v * w - 1
        return [-v * r / 6, -w * r / 6]

    assert digits(RELU, field, ["0.5", "0.3"], 3) >= 25


def test_quadratic_gaussian_flow_matches_closed_form_ode() -> None:
    # L = (3/2)(ab² − 1)², parameters (b, a).
    def field(t: object, y: list[object]) -> list[object]:
        b, a = y
        r = a * b * b - 1
        return [-6 * r * a * b, -3 * r * b * b]

    assert digits(QUAD, field, ["0.6", "0.4"], 2) >= 25


@pytest.mark.slow
def test_arc_cosine_flow_matches_kernel_gradient_ode() -> None:
    """θ' = −E[r∇f] from the kernel's own gradient formulas (not the derivative of L)."""
    p = load_problem(ARCCOS)
    ex = population_expressions(p, gradient=True)
    theta0 = ["0.8", "0.1", "0.2", "0.9", "0.7", "0.6"]
    env0 = dict(zip(p.symbols, [sp.Rational(v) for v in theta0], strict=True))
    # The θ-switches (signs of 2×2 determinants) keep their initial values up to t = 1.
    chi = {s.symbol: 1 if s.surface.xreplace(env0) > 0 else 0 for s in ex.switches}
    grads = [sp.lambdify(p.symbols, g.xreplace(chi), modules="mpmath")
             for g in ex.residual_gradient]

    def field(t: object, y: list[object]) -> list[object]:
        return [-g(*y) for g in grads]

    assert digits(ARCCOS, field, theta0, 1) >= 25
