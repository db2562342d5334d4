"""Taylor jets against SymPy series of exact solutions, per operation and per backend."""

from __future__ import annotations

import functools
from fractions import Fraction

import gmpy2
import mpmath
import pytest
import sympy as sp

from kltools.compiled.jets import compile_jets, taylor_jet
from kltools.compiled.program import program_from_sympy
from kltools.spec.functions import sigmoid, softplus

x, y, t, s = sp.symbols("x y t s")
DPS = 40
ORDER = 12


def series_coeffs(expr: sp.Expr, order: int = ORDER, var: sp.Symbol = t,
                  at: sp.Expr = sp.Integer(0)) -> list[sp.Expr]:
    """Exact normalised Taylor coefficients ``expr^{(k)}(at) / k!`` (SymPy derivatives; its
    ``series`` stalls on some compositions such as ``exp(-(a + t)^2)``)."""
    out, d = [], expr
    for k in range(order + 1):
        out.append(d.subs(var, at) / sp.factorial(k))
        d = sp.diff(d, var)
    return out


def assert_close(got: list[object], exact: list[sp.Expr], digits: int) -> None:
    with mpmath.workdps(DPS + 20):
        for k, (g, e) in enumerate(zip(got, exact, strict=True)):
            ev = mpmath.mpf(sp.N(e, DPS + 20))
            err = abs(mpmath.mpf(g) - ev)
            assert err <= mpmath.mpf(10) ** -digits * max(1, abs(ev)), (k, g, e)


# Along x(t) = x0 + t (x' = 1), an extra output g(x) has the series of g(x0 + t): every
# operation's recurrence is checked against SymPy's series of the composed function.
X0 = sp.Rational(3, 10)
UNARY = {
    "exp": sp.exp(x),
    "log": sp.log(x),
    "tanh": sp.tanh(2 * x - 1),
    "sigmoid": sigmoid(3 * x - 1),
    "softplus": softplus(2 * x),
    "pow": (1 + x) ** sp.Rational(1, 3),
    "div": (1 + x) / (2 - x),
    "powi": x**5,
    "sqr": (x - 1) ** 2,
    "mul": (x + 1) * (2 * x - 1) * (x - 2),
    "recip": 1 / (x + sp.Rational(1, 7)),
    "exp_neg": sp.exp(-x**2),
}


@functools.cache
def unary_exact(name: str) -> tuple[sp.Expr, ...]:
    g = UNARY[name]
    if name in ("sigmoid", "softplus"):  # SymPy differentiates the exp form much faster
        g = g.rewrite(sp.exp)
    return tuple(series_coeffs(g, var=x, at=X0))


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("variant", ["float", "fixed", "mpmath"])
def test_each_operation_matches_sympy_series(name: str, variant: str) -> None:
    g = UNARY[name]
    prog = program_from_sympy([sp.Integer(1), g], [x], cse=False)
    jet = taylor_jet(prog, [Fraction(3, 10)], order=ORDER, dps=DPS, fixed=variant == "fixed",
                     backend="mpmath" if variant == "mpmath" else "gmpy2")
    exact = list(unary_exact(name))
    assert_close(jet.extra[0], exact, DPS - 3)
    assert_close(jet.state[0], [X0, 1] + [0] * (ORDER - 1), DPS - 3)


def test_nonlinear_state_matches_exact_solutions() -> None:
    # x' = x^2, x(0) = 1/2: x = 1/(2 - t);  (y, z) rotation: y' = -z, z' = y.
    z = sp.Symbol("z")
    prog = program_from_sympy([x**2, -z, y], [x, y, z])
    jet = taylor_jet(prog, ["0.5", 1, 0], order=ORDER, dps=DPS)
    assert_close(jet.state[0], series_coeffs(1 / (2 - t)), DPS - 3)
    assert_close(jet.state[1], series_coeffs(sp.cos(t)), DPS - 3)
    assert_close(jet.state[2], series_coeffs(sp.sin(t)), DPS - 3)


def test_gradient_flow_of_factorisation_loss() -> None:
    # L = (xy - 2)^2/2 from x = y = 1: p = xy obeys p' = 2p(2 - p), p(t) = 2/(1 + e^{-4t}).
    L = (x * y - 2) ** 2 / 2
    prog = program_from_sympy([-sp.diff(L, x), -sp.diff(L, y), L], [x, y])
    jet = taylor_jet(prog, [1, 1], order=10, dps=DPS)
    exact_x = series_coeffs(sp.sqrt(2 / (1 + sp.exp(-4 * t))), 10)
    assert_close(jet.state[0], exact_x, DPS - 3)
    exact_loss = series_coeffs((2 / (1 + sp.exp(-4 * t)) - 2) ** 2 / 2, 10)
    assert_close(jet.extra[0], exact_loss, DPS - 3)


def test_powi_with_base_vanishing_at_start() -> None:
    prog = program_from_sympy([sp.Integer(1), x**7, x**3], [x])
    jet = taylor_jet(prog, [0], order=9, dps=30)
    assert [int(v) for v in jet.extra[0]] == [0] * 7 + [1, 0, 0]
    assert [int(v) for v in jet.extra[1]] == [0, 0, 0, 1] + [0] * 6


def test_switches_are_constants_of_the_flow() -> None:
    prog = program_from_sympy([s * x, s * s], [x], [s])
    jet = taylor_jet(prog, [1], [Fraction(1, 2)], order=8, dps=30)
    assert_close(jet.state[0], series_coeffs(sp.exp(t / 2), 8), 27)
    assert jet.extra[0][0] == gmpy2.mpfr("0.25") and not any(jet.extra[0][1:])


def test_time_scale_h_multiplies_coefficient_k_by_h_to_the_k() -> None:
    prog = program_from_sympy([x**2 + 1], [x])
    plain = taylor_jet(prog, ["0.2"], order=10, dps=30)
    scaled = taylor_jet(prog, ["0.2"], order=10, dps=30, h=Fraction(1, 8))
    with mpmath.workdps(40):
        for k, (a, b) in enumerate(zip(plain.state[0], scaled.state[0], strict=True)):
            a, b = mpmath.mpf(a), mpmath.mpf(b)
            assert abs(a / 8**k - b) <= abs(b) * mpmath.mpf(10) ** -28
            assert b != 0


def test_extra_selection_drops_dead_code() -> None:
    prog = program_from_sympy([-x, sp.exp(x), sp.tanh(x) * sp.log(x)], [x])
    kernel = compile_jets(prog, extra=[1])
    assert "_tanh(" not in kernel.source and "_log(" not in kernel.source
    jet = taylor_jet(prog, [1], order=5, dps=30, extra=[1])
    assert len(jet.extra) == 1
    assert_close(jet.extra[0], series_coeffs(sp.exp(sp.exp(-t)), 5), 27)


def test_kernels_are_cached_per_program_and_backend() -> None:
    prog = program_from_sympy([-x], [x])
    assert compile_jets(prog) is compile_jets(prog)
    assert compile_jets(prog) is not compile_jets(prog, backend="mpmath")
    assert compile_jets(prog) is not compile_jets(prog, fixed=True)


def test_precision_is_never_left_changed() -> None:
    before_gmpy, before_mp = gmpy2.get_context().precision, mpmath.mp.prec
    prog = program_from_sympy([sp.exp(x)], [x])
    taylor_jet(prog, [1], order=5, dps=200)
    taylor_jet(prog, [1], order=5, dps=200, backend="mpmath")
    assert gmpy2.get_context().precision == before_gmpy
    assert mpmath.mp.prec == before_mp


def test_bad_arguments_are_rejected() -> None:
    prog = program_from_sympy([-x], [x])
    with pytest.raises(ValueError, match="components"):
        taylor_jet(prog, [1, 2], order=3, dps=30)
    with pytest.raises(ValueError, match="precision"):
        taylor_jet(prog, [1], order=3)
    with pytest.raises(ValueError, match="extra output"):
        compile_jets(prog, extra=[5])
    with pytest.raises(ValueError, match="finite"):
        taylor_jet(prog, [float("nan")], order=3, dps=30)
