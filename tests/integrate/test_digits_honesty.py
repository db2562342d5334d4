"""``correct_digits`` is never more than one digit optimistic: 24 flows with known solutions.

Each exact solution is a closed form, or the root of a closed-form implicit equation solved by
Newton's method at 60 digits (monotone equations, so the root is unique). The flows exercise
every analytic operation the step guards know (exp, log, division, sigmoid, softplus, tanh),
polynomials, a kink crossing and a Filippov sliding mode with its exit.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import pytest

from kltools.integrate.flow import integrate
from kltools.numbers import agreement_digits, to_fraction
from kltools.spec import load_problem

ctx = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.MPContext()
ctx.dps = 60
Exact = Callable[[list[str], object, list[object]], list[object]]


def _root(f: Callable[[object], object], guess: object) -> object:
    return ctx.findroot(f, ctx.mpf(to_fraction(guess).numerator) / to_fraction(guess).denominator)


def q(v: object) -> object:
    r = to_fraction(v)
    return ctx.mpf(r.numerator) / r.denominator


def quadratic(x0: list[str], t: object, _g: list[object]) -> list[object]:
    return [q(x0[0]) * ctx.exp(-q(t))]


def quartic(x0: list[str], t: object, _g: list[object]) -> list[object]:
    a = q(x0[0])
    return [a / ctx.sqrt(1 + 2 * a * a * q(t))]


def exp_loss(x0: list[str], t: object, _g: list[object]) -> list[object]:
    return [ctx.log(q(t) + ctx.exp(q(x0[0])))]


def softplus_loss(x0: list[str], t: object, g: list[object]) -> list[object]:
    # w' = 1/(1 + e^w): w + e^w is w0 + e^{w0} + t.
    c = q(x0[0]) + ctx.exp(q(x0[0])) + q(t)
    return [_root(lambda w: w + ctx.exp(w) - c, g[0])]


def tanh_loss(x0: list[str], t: object, g: list[object]) -> list[object]:
    # w' = −sech² w: w/2 + sinh(2w)/4 decreases at rate 1.
    def h(w: object) -> object:
        return w / 2 + ctx.sinh(2 * w) / 4
    c = h(q(x0[0])) - q(t)
    return [_root(lambda w: h(w) - c, g[0])]


def log_loss(x0: list[str], t: object, g: list[object]) -> list[object]:
    # x' = −2x/(1 + x²): log x + x²/2 decreases at rate 2.
    def h(x: object) -> object:
        return ctx.log(x) + x * x / 2
    c = h(q(x0[0])) - 2 * q(t)
    return [_root(lambda x: h(x) - c, g[0])]


def sigmoid_loss(x0: list[str], t: object, g: list[object]) -> list[object]:
    # L = σ(−w): w' = σ(w)σ(−w) = 1/(2 + 2 cosh w): 2w + 2 sinh w grows at rate 1.
    def h(w: object) -> object:
        return 2 * w + 2 * ctx.sinh(w)
    c = h(q(x0[0])) + q(t)
    return [_root(lambda w: h(w) - c, g[0])]


def balanced(x0: list[str], t: object, _g: list[object]) -> list[object]:
    # a = b under (ab − 3)²/2: p = ab solves p' = −2p(p − 3).
    p0 = q(x0[0]) * q(x0[1])
    e = ctx.exp(6 * q(t))
    a = ctx.sqrt(3 * e / (e - 1 + 3 / p0))
    return [a, a]


def relu_crossing(_x0: list[str], t: object, _g: list[object]) -> list[object]:
    return [ctx.exp(-(q(t) - ctx.log(ctx.mpf(7) / 3)))]


def sliding_exit(_x0: list[str], t: object, _g: list[object]) -> list[object]:
    s = q(t) - ctx.mpf(3) / 2
    return [ctx.cosh(s) - 1, 1 + ctx.sinh(s)]


CASES: list[tuple[str, str, list[str], object, Exact, str]] = [
    *[("x**2/2", "x", [x0], t, quadratic, "error") for x0 in ("1", "3/7") for t in (1, 10)],
    *[("x**4/4", "x", [x0], 3, quartic, "error") for x0 in ("1/2", "2")],
    *[("exp(-w)", "w", [w0], t, exp_loss, "error") for w0 in ("0", "1/3") for t in (10, 10**4)],
    *[("softplus(-w)", "w", [w0], t, softplus_loss, "error") for w0 in ("0", "-2")
      for t in (5, 1000)],
    *[("tanh(w)", "w", ["1/2"], t, tanh_loss, "error") for t in (1, 3)],
    *[("log(1 + x**2)", "x", [x0], 1, log_loss, "error") for x0 in ("2", "1/3")],
    *[("sigmoid(-w)", "w", ["0"], t, sigmoid_loss, "error") for t in (2, 50)],
    *[("(a*b - 3)**2/2", "a,b", ["1/2", "1/2"], t, balanced, "error") for t in (2, 10)],
    ("x**2/2 + 2*relu(x - 1)", "x", ["5"], 3, relu_crossing, "error"),
    ("abs(x) - x*y - y", "x,y", ["0", "-1/2"], 2, sliding_exit, "filippov"),
]


def test_the_suite_has_at_least_twenty_flows() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize(("expr", "names", "x0", "t_end", "exact", "conv"), CASES,
                         ids=[f"{c[0]}|{c[2]}|{c[3]}" for c in CASES])
def test_claimed_digits_are_at_most_one_digit_optimistic(
        expr: str, names: str, x0: list[str], t_end: object, exact: Exact, conv: str) -> None:
    vars_ = ", ".join(f'"{v}"' for v in names.split(","))
    p = load_problem(f'[objective]\nexpr = "{expr}"\nvars = [{vars_}]\n')
    traj = integrate(p, x0, t_end, dps=30, convention=conv)
    ref = exact(x0, t_end, traj.theta)
    actual = agreement_digits(traj.theta, [to_fraction(v) for v in ref])
    assert traj.correct_digits >= 20, traj.correct_digits  # a claim worth checking
    assert actual >= traj.correct_digits - 1, (actual, traj.correct_digits)
