"""Exact population losses against closed forms and independent numerical quadrature."""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

from kltools.errors import SpecError
from kltools.numbers import mp_context
from kltools.spec import load_problem
from kltools.spec.distribution import input_symbols
from kltools.symbolic.derivation import derive
from kltools.symbolic.expectation import moment, population_expressions
from kltools.symbolic.kinks import KinkConvention

X1 = input_symbols(1)[0]


def spec(net: str, data: str) -> str:
    return f"[network]\n{net}\n[data]\n{data}\n"


def loss_at(d: object, theta: list[sp.Rational]) -> sp.Expr:
    """L(θ) from the derivation, on the pattern of θ (exact; L is continuous, so on a kink
    either side's piece gives the same value)."""
    env = dict(zip(d.parameters, theta, strict=True))  # type: ignore[attr-defined]
    env.update(d.on_pattern(d.pattern(theta, KinkConvention.RIGHT)))  # type: ignore[attr-defined]
    return d.loss_expr.xreplace(env)  # type: ignore[attr-defined]


def rationals(rng: random.Random, n: int, lo: int = -150, hi: int = 150) -> list[sp.Rational]:
    return [sp.Rational(rng.randint(lo, hi), 100) for _ in range(n)]


# -- moments ----------------------------------------------------------------------------------
@pytest.mark.parametrize("k", range(9))
def test_moments_match_sympy_integrals(k: int) -> None:
    x = sp.Symbol("x", real=True)
    assert moment(k, "uniform") == sp.integrate(x**k, (x, -1, 1)) / 2
    gauss = sp.integrate(x**k * sp.exp(-x**2 / 2), (x, -sp.oo, sp.oo)) / sp.sqrt(2 * sp.pi)
    assert moment(k, "gaussian") == sp.simplify(gauss)


def test_quadratic_net_gaussian_closed_form() -> None:
    # f = a (b x)², x ~ N(0, 1), teacher x²: L = ½E((ab² − 1)x²)² = (3/2)(ab² − 1)².
    p = load_problem(spec('layers = [1, 1, 1]\nactivation = "z**2"',
                          'distribution = "gaussian"\nteacher = "x1**2"'))
    d = derive(p)
    b, a = d.parameters
    assert sp.expand(d.loss_expr - sp.Rational(3, 2) * (a * b**2 - 1) ** 2) == 0
    assert not d.switches


def test_polynomial_net_two_inputs_uniform_against_sympy() -> None:
    p = load_problem(spec('layers = [2, 2, 1]\nactivation = "z + z**2"',
                          'distribution = "uniform"\ndim = 2\nteacher = "x1*x2 - x2**3"'))
    d = derive(p)
    x1, x2 = input_symbols(2)
    theta = rationals(random.Random(3), 6)
    env = dict(zip(d.parameters, theta, strict=True))
    W = sp.Matrix(2, 2, theta[:4])
    z = W * sp.Matrix([x1, x2])
    f = theta[4] * (z[0] + z[0] ** 2) + theta[5] * (z[1] + z[1] ** 2)
    r2 = sp.expand((f - (x1 * x2 - x2**3)) ** 2)
    want = sp.integrate(r2, (x1, -1, 1), (x2, -1, 1)) / 8
    assert d.loss_expr.xreplace(env) == want


# -- one-dimensional piecewise models -----------------------------------------------------------
def test_relu_uniform_closed_form_on_both_pieces() -> None:
    # f = v relu(w x), x ~ U[−1, 1], teacher relu(x): (vw − 1)²/12 for w > 0, (v²w² + 1)/12
    # for w < 0 (then f lives on x < 0 and the teacher on x > 0).
    p = load_problem(spec('layers = [1, 1, 1]\nactivation = "relu"',
                          'distribution = "uniform"\nteacher = "relu(x1)"'))
    d = derive(p)
    w, v = d.parameters
    (chi,) = d.switch_symbols
    assert d.switches[0].surface == w
    assert sp.expand(d.loss_expr.subs(chi, 1) - (v * w - 1) ** 2 / 12) == 0
    assert sp.expand(d.loss_expr.subs(chi, 0) - (v**2 * w**2 + 1) / 12) == 0


def _unit_values(p: object, theta: list[sp.Rational], x: object, ctx: object) -> object:
    """f(θ; x) by walking the network with the activation pieces (independent of the
    expectation code)."""
    net = p.network  # type: ignore[attr-defined]
    g = net.graph
    th = {name: ctx.mpf(q.p) / q.q for name, q in zip(p.parameters, theta, strict=True)}  # type: ignore[attr-defined]
    a = {net.inputs[0]: x}
    for v in net.order():
        node = g.nodes[v]
        z = sum(th[g.edges[u, v]["param"]] * a[u] for u in g.graph["in_order"][v])
        if node["bias"] is not None:
            z += th[node["bias"]]
        act = node["activation"]
        k = sum(1 for b in act.breakpoints if z >= b)
        a[v] = sp.lambdify(sp.Symbol("z", real=True), act.pieces[k], modules="mpmath")(z)
    return a[net.outputs[0]]


def _kinks_in_x(p: object, theta: list[sp.Rational]) -> list[sp.Rational]:
    """Every kink position of the first-layer units and of the teacher, exactly."""
    net = p.network  # type: ignore[attr-defined]
    g = net.graph
    th = dict(zip(p.parameters, theta, strict=True))  # type: ignore[attr-defined]
    out = []
    for v in net.order():
        node = g.nodes[v]
        if not node["activation"].is_piecewise:
            continue
        (u,) = g.graph["in_order"][v]
        w = th[g.edges[u, v]["param"]]
        b = th[node["bias"]] if node["bias"] is not None else 0
        out += [(beta - b) / w for beta in node["activation"].breakpoints if w != 0]
    for e in p.data.teacher.atoms(sp.Max, sp.Min, sp.Abs):  # type: ignore[attr-defined]
        args = e.args if isinstance(e, sp.Abs) else [e.args[0] - e.args[1]]
        out += [root for arg in args if arg.has(X1) for root in sp.solve(arg, X1)]
    return out


def reference_uniform(p: object, theta: list[sp.Rational], dps: int = 40) -> object:
    """½E(f − f*)² by mpmath.quad on [−1, 1] split at every kink."""
    with mpmath.workdps(dps):
        return _reference_uniform(p, theta, mpmath.mp)


def _reference_uniform(p: object, theta: list[sp.Rational], ctx: object) -> object:
    teacher = sp.lambdify(X1, p.data.teacher, modules="mpmath")  # type: ignore[attr-defined]
    cuts = sorted({sp.Integer(-1), sp.Integer(1), *[c for c in _kinks_in_x(p, theta)
                                                     if -1 < c < 1]})
    pts = [ctx.mpf(c.p) / c.q for c in cuts]
    # Gauss–Legendre is exact on polynomial pieces up to rounding: no kink inside a piece.
    val = ctx.quad(lambda x: (_unit_values(p, theta, x, ctx) - teacher(x)) ** 2, pts,
                   method="gauss-legendre")
    return val / 4


PIECEWISE = [
    ('layers = [1, 2, 1]\nactivation = "relu"\nbias = true', "relu(x1 - 1/3) - abs(x1)/2"),
    ('layers = [1, 2, 1]\nactivation = "abs"\nbias = true', "relu(x1)"),
    ('layers = [1, 2, 1]\nactivation = "leaky_relu(0.1)"\nbias = true', "x1**2 - x1"),
    pytest.param('layers = [1, 2, 1]\nactivation = { pieces = ["0", "z**2", "2*z - 1"], '
                 'breakpoints = ["0", "1"] }\nbias = true', "Max(x1, 1/2)",
                 marks=pytest.mark.slow, id="pieces"),
    ('layers = [1, 2, 1]\nactivation = "relu"', "relu(x1)"),
]


@pytest.mark.parametrize(("net", "teacher"), PIECEWISE)
def test_piecewise_uniform_against_quadrature_30_digits(net: str, teacher: str) -> None:
    p = load_problem(spec(net, f'distribution = "uniform"\nteacher = "{teacher}"'))
    d = derive(p)
    rng = random.Random(11)
    for _ in range(2):
        theta = rationals(rng, len(d.parameters))
        got = loss_at(d, theta)
        ref = reference_uniform(p, theta)
        ctx = mp_context(40)
        err = abs(ctx.mpf(sp.N(got, 45)) - ref) / max(abs(ref), ctx.mpf(10) ** -30)
        assert err < ctx.mpf(10) ** -30, (theta, got, ref)


def test_moving_kinks_make_theta_switches_and_l_is_continuous_across_them() -> None:
    p = load_problem(spec('layers = [1, 1, 1]\nactivation = "relu"\nbias = true',
                          'distribution = "uniform"\nteacher = "relu(x1)"'))
    d = derive(p)
    w, b, _v, _c = d.parameters
    surfaces = {sign * s.surface for s in d.switches for sign in (1, -1)}
    # The kink x = −b/w meets x = −1 (w = b), x = 1 (w = −b) and the teacher's kink x = 0 (b = 0).
    assert {w, b, w - b, w + b} <= surfaces
    assert len(d.switches) == 4
    # Across w = b (kink leaving [−1, 1] at −1), L is continuous: equal limits from both sides.
    point = [sp.Rational(1, 2), sp.Rational(1, 2), sp.Rational(3, 2), sp.Rational(1, 5)]
    eps = sp.Rational(1, 10**20)
    left = loss_at(d, [point[0] + eps, *point[1:]])
    right = loss_at(d, [point[0] - eps, *point[1:]])
    assert abs(left - right) < 10**-18
    assert left != right  # a kink, not a smooth point where nothing changes


@pytest.mark.slow
def test_relu_gaussian_one_dimension_against_quadrature() -> None:
    # Bias-free units with Gaussian input: kinks at x = 0, odd half-moments bring 1/√(2π).
    p = load_problem(spec('layers = [1, 2, 1]\nactivation = "relu"',
                          'distribution = "gaussian"\nteacher = "relu(x1) + 1/2 - x1**2"'))
    d = derive(p)
    with mpmath.workdps(40):
        _gaussian_1d(p, d, mpmath.mp)


def _gaussian_1d(p: object, d: object, ctx: object) -> None:
    teacher = sp.lambdify(X1, p.data.teacher, modules="mpmath")  # type: ignore[attr-defined]
    for theta in (rationals(random.Random(5), 4),):
        got = ctx.mpf(sp.N(loss_at(d, theta), 45))

        def integrand(x: object, theta: list[sp.Rational] = theta) -> object:
            r = _unit_values(p, theta, x, ctx) - teacher(x)
            return r * r * ctx.exp(-x * x / 2)

        ref = ctx.quad(integrand, [-ctx.inf, 0, ctx.inf]) / ctx.sqrt(2 * ctx.pi) / 2
        assert abs(got - ref) < ctx.mpf(10) ** -30 * abs(ref)


def test_gaussian_refuses_moving_teacher_kink() -> None:
    p = load_problem(spec('layers = [1, 1, 1]\nactivation = "relu"',
                          'distribution = "gaussian"\nteacher = "relu(x1 - 1)"'))
    with pytest.raises(SpecError, match="erf") as info:
        derive(p)
    assert info.value.path == "data.teacher"


def test_second_piecewise_layer_is_refused_with_reason() -> None:
    p = load_problem(spec('layers = [1, 2, 2, 1]\nactivation = "relu"',
                          'distribution = "uniform"\nteacher = "x1"'))
    with pytest.raises(SpecError, match="first hidden layer"):
        derive(p)


# -- arc-cosine kernel ----------------------------------------------------------------------------
ARCCOS_TEACHER = "relu(x1 + x2/2) - 1/2 + x2/3 + abs(x1 - x2)"


def reference_gaussian_2d(p: object, theta: list[sp.Rational], dps: int = 40) -> object:
    with mpmath.workdps(dps):
        return _reference_gaussian_2d(p, theta, mpmath.mp)


def _reference_gaussian_2d(p: object, theta: list[sp.Rational], ctx: object) -> object:
    """½E(f − f*)² for x ~ N(0, I₂) in polar coordinates x = R(cos α, sin α): r = R·h(α) − c₀
    with h positively homogeneous, so the radial integral is exact,
    ∫₀^∞ (Rh − c₀)² R e^{−R²/2} dR = 2h² − 2c₀h√(π/2) + c₀², and α is integrated by mpmath.quad
    between the kink directions."""
    x1, x2 = input_symbols(2)
    t = p.data.teacher  # type: ignore[attr-defined]
    c0 = t.xreplace({x1: 0, x2: 0})
    hom_t = sp.lambdify((x1, x2), t - c0, modules="mpmath")
    th = [ctx.mpf(q.p) / q.q for q in theta]
    W = [[th[0], th[1]], [th[2], th[3]]]
    V = [th[4], th[5]]

    def h(alpha: object) -> object:
        c, s = ctx.cos(alpha), ctx.sin(alpha)
        f = sum(V[j] * max(W[j][0] * c + W[j][1] * s, 0) for j in range(2))
        return f - hom_t(c, s)

    c0m = ctx.mpf(c0.p) / c0.q

    def integrand(alpha: object) -> object:
        hv = h(alpha)
        return 2 * hv * hv - 2 * c0m * hv * ctx.sqrt(ctx.pi / 2) + c0m * c0m

    dirs = {ctx.mpf(0), 2 * ctx.pi}
    for a, b in (*W, [1, ctx.mpf(1) / 2], [1, -1]):
        base = ctx.atan2(-a, b)
        dirs |= {base + k * ctx.pi for k in range(-2, 3) if 0 < base + k * ctx.pi < 2 * ctx.pi}
    return ctx.quad(integrand, sorted(dirs)) / (2 * ctx.pi) / 2


def test_arc_cosine_kernel_against_quadrature_30_digits() -> None:
    p = load_problem(spec('layers = [2, 2, 1]\nactivation = "relu"',
                          f'distribution = "gaussian"\ndim = 2\nteacher = "{ARCCOS_TEACHER}"'))
    d = derive(p)
    ctx = mp_context(40)
    rng = random.Random(7)
    for _ in range(3):
        theta = rationals(rng, 6)
        got = ctx.mpf(sp.N(loss_at(d, theta), 45))
        ref = reference_gaussian_2d(p, theta)
        assert abs(got - ref) < ctx.mpf(10) ** -30 * abs(ref), (theta, got, ref)


def test_arc_cosine_kernel_formula_at_known_angles() -> None:
    from kltools.symbolic._arccos import relu_kernel

    one, zero = sp.Integer(1), sp.Integer(0)
    # orthogonal: (S + (π/2)·0)/(2π) = 1/(2π); at 3π/4: S = 1, a·b = −1: (1 − π/4)/(2π);
    # equal: ‖a‖²/2.
    assert sp.simplify(relu_kernel([one, zero], [zero, one]) - 1 / (2 * sp.pi)) == 0
    k = relu_kernel([one, zero], [-one, one])
    assert sp.simplify(k - (1 - sp.pi / 4) / (2 * sp.pi)) == 0
    assert relu_kernel([one, zero], [one, zero]) == sp.Rational(1, 2)


# -- the population form of ∇L = (1/n)Jᵀr ----------------------------------------------------------
@pytest.mark.parametrize(("net", "data"), [
    ('layers = [1, 2, 1]\nactivation = "relu"\nbias = true',
     'distribution = "uniform"\nteacher = "relu(x1 - 1/3)"'),
    ('layers = [2, 2, 1]\nactivation = "z + z**2"',
     'distribution = "gaussian"\ndim = 2\nteacher = "x1*x2"'),
    ('layers = [2, 2, 1]\nactivation = "relu"',
     f'distribution = "gaussian"\ndim = 2\nteacher = "{ARCCOS_TEACHER}"'),
])
def test_gradient_equals_integrated_residual_times_jacobian(net: str, data: str) -> None:
    """∇L (reverse mode on the closed form) = E[r ∂f/∂θ] (integrated on its own): the
    population form of ∇L = (1/n)Jᵀr; a wrong kink position or kernel breaks it."""
    p = load_problem(spec(net, data))
    d = derive(p)
    ex = population_expressions(p, gradient=True)
    rng = random.Random(13)
    for _ in range(2):
        theta = rationals(rng, len(d.parameters))
        env = dict(zip(d.parameters, theta, strict=True))
        pattern = d.on_pattern(d.pattern(theta, KinkConvention.RIGHT))
        grad = [sp.N(g.xreplace({**env, **pattern}), 40)
                for g in d.gradient_exprs]
        chi = {s.symbol: 1 if s.surface.xreplace(env) > 0 else 0 for s in ex.switches}
        direct = [sp.N(g.xreplace({**env, **chi}), 40) for g in ex.residual_gradient]
        for a, b in zip(grad, direct, strict=True):
            assert abs(a - b) <= 1e-32 * max(1, abs(b))


def test_sample_only_objects_refuse_a_population_loss_clearly() -> None:
    from kltools.errors import DerivationError

    d = derive(load_problem(spec('layers = [1, 1, 1]\nactivation = "relu"',
                                 'distribution = "uniform"\nteacher = "relu(x1)"')))
    for method in (d.jacobian, d.residuals):
        with pytest.raises(DerivationError, match="population loss has no samples"):
            method()
