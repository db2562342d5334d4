"""Derivations against independent ground truth: sympy.diff, closed forms, exact matrices."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kltools.errors import DerivationError
from kltools.spec import load_problem, problem_from_dict
from kltools.symbolic.derivation import derive
from kltools.symbolic.kinks import KinkConvention

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))

ACTIVATIONS = ["linear", "z**2", "z**3 - z", "relu", "leaky_relu(1/10)", "abs", "sigmoid",
               "tanh", "softplus", {"pieces": ["-z/4", "z + z**2"], "breakpoints": ["0"]},
               {"pieces": ["z", "2*z - 1", "z**2 - 1"], "breakpoints": ["1", "2"]}]

small_rational = st.fractions(min_value=-2, max_value=2, max_denominator=4).map(str)


@st.composite
def networks(draw: st.DrawFn) -> dict:
    d_in = draw(st.integers(1, 2))
    hidden = draw(st.lists(st.integers(1, 2), min_size=1, max_size=2))
    act = draw(st.sampled_from(ACTIVATIONS))
    loss = draw(st.sampled_from(["square", "logistic", "exponential"]))
    n = draw(st.integers(1, 3))
    x = [[draw(small_rational) for _ in range(d_in)] for _ in range(n)]
    y = ([draw(st.sampled_from(["1", "-1"])) for _ in range(n)] if loss != "square"
         else [draw(small_rational) for _ in range(n)])
    return {"network": {"layers": [d_in, *hidden, 1], "activation": act,
                        "bias": draw(st.booleans())},
            "loss": {"kind": loss, "l2": draw(st.sampled_from(["0", "1/10"]))},
            "data": {"x": x, "y": y}}


def _same(a: sp.Expr, b: sp.Expr, symbols: list[sp.Symbol]) -> bool:
    diff = sp.expand(a - b)
    if diff == 0:
        return True
    # Transcendental atoms may need identities expand does not apply: compare at rational
    # points with 30 guaranteed digits instead.
    for k in range(3):
        env = {s: sp.Rational((7 * k + 3 * i) % 11 - 5, 3) for i, s in enumerate(symbols)}
        v = diff.xreplace(env).evalf(30)
        if abs(v) > sp.Float("1e-25"):
            return False
    return True


@settings(max_examples=30)
@given(networks())
def test_reverse_mode_gradient_equals_sympy_diff(spec: dict) -> None:
    d = derive(problem_from_dict(spec))
    syms = list(d.parameters) + list(d.switch_symbols)
    L = d.loss_expr
    for p, g in zip(d.parameters, d.gradient_exprs, strict=True):
        assert _same(sp.diff(L, p), g, syms), (p, spec)


@pytest.mark.parametrize("act", [a for a in ACTIVATIONS if isinstance(a, str)])
def test_every_activation_kind_gradient(act: str) -> None:
    spec = {"network": {"layers": [2, 2, 1], "activation": act, "bias": True},
            "data": {"x": [["1", "-1/2"], ["2", "1"]], "y": ["1", "0"]}}
    d = derive(problem_from_dict(spec))
    syms = list(d.parameters) + list(d.switch_symbols)
    for p, g in zip(d.parameters, d.gradient_exprs, strict=True):
        assert _same(sp.diff(d.loss_expr, p), g, syms)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_derive_and_gradient_is_exact(path: Path) -> None:
    d = derive(load_problem(path))
    syms = list(d.parameters) + list(d.switch_symbols)
    for p, g in zip(d.parameters, d.gradient_exprs, strict=True):
        assert _same(sp.diff(d.loss_expr, p), g, syms)


def test_balanced_objective_closed_form() -> None:
    p = load_problem('[objective]\nexpr = "(a*b - 3)**2/2"\nvars = ["a", "b"]\n')
    d = derive(p)
    a, b = d.parameters
    assert [sp.expand(g) for g in d.gradient_exprs] == [sp.expand(b * (a * b - 3)),
                                                         sp.expand(a * (a * b - 3))]
    H = d.hessian().subs({a: 2, b: sp.Rational(3, 2)})
    assert sp.Matrix([[sp.Rational(9, 4), 3], [3, 4]]) == H


def test_square_loss_weights_and_l2_term() -> None:
    # L = (1/n) Σ ½ (w x_i − y_i)² + (λ/2) w², n = 2: an exact closed form.
    p = problem_from_dict({"network": {"layers": [1, 1], "activation": "linear"},
                           "loss": {"l2": "1/2"},
                           "data": {"x": [["1"], ["2"]], "y": ["1", "3"]}})
    d = derive(p)
    (w,) = d.parameters
    expected = sp.Rational(1, 2) * ((w - 1) ** 2 / 2 + (2 * w - 3) ** 2 / 2) + w**2 / 4
    assert sp.expand(d.loss_expr - expected) == 0


def test_margin_losses_have_unit_weights() -> None:
    base = {"network": {"layers": [1, 1], "activation": "linear"},
            "data": {"x": [["1"], ["-2"]], "y": ["1", "-1"]}}
    (w,) = derive(problem_from_dict({**base, "loss": {"kind": "exponential"}})).parameters
    d = derive(problem_from_dict({**base, "loss": {"kind": "exponential"}}))
    assert sp.simplify(d.loss_expr - (sp.exp(-w) + sp.exp(-2 * w))) == 0
    d = derive(problem_from_dict({**base, "loss": {"kind": "logistic"}}))
    assert sp.simplify(d.loss_expr.rewrite(sp.log)
                       - (sp.log(1 + sp.exp(-w)) + sp.log(1 + sp.exp(-2 * w)))) == 0


def test_mean_field_scales_output_l2_and_flow() -> None:
    p = problem_from_dict({"network": {"kind": "mean-field", "particles": 2,
                                       "activation": "linear"},
                           "loss": {"l2": "1"},
                           "data": {"x": [["1"]], "y": ["0"]}})
    d = derive(p)
    a1, c1, a2, c2 = d.parameters
    f = (c1 * a1 + c2 * a2) / 2
    expected = f**2 / 2 + sp.Rational(1, 4) * (a1**2 + c1**2 + a2**2 + c2**2)
    assert sp.expand(d.loss_expr - expected) == 0
    assert d.flow_scale == 2
    assert sp.expand(d.flow_exprs[0] + 2 * sp.diff(expected, a1)) == 0


def test_jacobian_and_gram_of_a_linear_model_are_the_data() -> None:
    X = [["1", "2"], ["-1", "1/2"], ["0", "3"]]
    p = problem_from_dict({"network": {"layers": [2, 1], "activation": "linear"},
                           "data": {"x": X, "y": ["0", "1", "2"]}})
    d = derive(p)
    Xm = sp.Matrix([[sp.Rational(v) for v in row] for row in X])
    assert d.jacobian() == Xm
    assert d.gram() == Xm * Xm.T


def test_rayleigh_identity_holds_symbolically() -> None:
    # ‖∇L‖² = (1/n²) rᵀ K r for the square loss: the identity behind THEORY.md's Rayleigh quotient.
    p = problem_from_dict({"network": {"layers": [1, 2, 1], "activation": "z**2"},
                           "data": {"x": [["1"], ["-2"]], "y": ["1", "2"]}})
    d = derive(p)
    r = sp.Matrix(d.residuals())
    lhs = sum(g**2 for g in d.gradient_exprs)
    rhs = (r.T * d.gram() * r)[0] / 4
    assert sp.expand(lhs - rhs) == 0


def test_kinks_are_listed_per_unit_and_sample_with_surfaces() -> None:
    p = load_problem(EXAMPLES[[e.stem for e in EXAMPLES].index("relu_two_layer")])
    d = derive(p)
    assert len(d.switches) == 3 * 3
    W = dict(zip(p.parameters, d.parameters, strict=True))
    # unit 2 at sample 1 (x = (2, 1)): z = 2 W1_2_1 + W1_2_2.
    idx = [s.label for s in d.switches].index("h1_2 at sample 1: z = 0")
    assert sp.expand(d.surface_exprs[idx] - (2 * W["W1_2_1"] + W["W1_2_2"])) == 0


def test_deep_surfaces_depend_on_earlier_switches_and_patterns_follow() -> None:
    p = problem_from_dict({"network": {"layers": [1, 1, 1, 1], "activation": "relu"},
                           "data": {"x": [["1"]], "y": ["1"]}})
    d = derive(p)
    chi1 = d.switches[0].symbol
    assert chi1 in d.surface_exprs[1].free_symbols
    # θ = (−1, 1, 1): first unit off, so the second unit's pre-activation is 0·1 = 0... on a kink
    with pytest.raises(DerivationError, match="kink"):
        d.pattern([-1, 1, 1])
    assert d.pattern([-1, 1, 1], KinkConvention.RIGHT) == (0, 1)
    assert d.pattern([-1, 1, 1], KinkConvention.LEFT) == (0, 0)
    assert d.pattern([1, -2, 1]) == (1, 0)


def test_kink_convention_is_explicit_never_heaviside_half() -> None:
    p = load_problem('[objective]\nexpr = "relu(x)"\nvars = ["x"]\n')
    d = derive(p)
    g = d.gradient_exprs[0]
    assert not g.has(sp.Heaviside)
    right = g.subs(d.on_pattern(d.pattern([0], KinkConvention.RIGHT)))
    left = g.subs(d.on_pattern(d.pattern([0], KinkConvention.LEFT)))
    assert (right, left) == (1, 0)


def test_reverse_mode_cost_grows_linearly_with_width() -> None:
    def blocks(h: int) -> int:
        p = problem_from_dict({"network": {"layers": [2, h, 1], "activation": "z**2"},
                               "data": {"x": [["1", "2"]] * 4, "y": ["1"] * 4}})
        return len(derive(p).blocks)

    b8, b16, b32 = blocks(8), blocks(16), blocks(32)
    assert b32 - b16 == 2 * (b16 - b8)  # affine in the width: no quadratic term


def test_objective_rejects_heaviside_style_input() -> None:
    from kltools.symbolic.kinks import switchify

    x = sp.Symbol("x", real=True)
    with pytest.raises(DerivationError, match="convention"):
        switchify(sp.Heaviside(x))
