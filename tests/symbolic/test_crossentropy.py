"""Softmax cross-entropy: the softplus chain against an independent SymPy computation, its
stability at huge logits, and the identities (Euler, balancedness, energy) on vector outputs."""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

from kltools.compiled.evaluator import Evaluator
from kltools.errors import SpecError
from kltools.spec import problem_from_dict
from kltools.spec.functions import sigmoid, softplus
from kltools.symbolic.derivation import derive
from kltools.symbolic.identities import balancedness, energy_identity, euler_identity

X = [["2", "1"], ["0", "2"], ["-1", "1/2"], ["1", "-3"]]
LABELS = [0, 2, 1, 2]


def _problem(layers: list[int], act: str = "relu", y: object = LABELS) -> object:
    return problem_from_dict({"network": {"layers": layers, "activation": act},
                              "loss": {"kind": "cross-entropy"}, "data": {"x": X, "y": y}})


def _independent_loss(d: object, labels: list[int]) -> sp.Expr:
    """(1/n) Σ −log(e^{z_y} / Σ_j e^{z_j}), written from the textbook formula."""
    n = len(labels)
    terms = [-sp.log(sp.exp(row[y]) / sp.Add(*[sp.exp(z) for z in row]))
             for row, y in zip(d.output_exprs, labels, strict=True)]
    return sp.Add(*terms) / n


def _plain(e: sp.Expr) -> sp.Expr:
    return e.replace(softplus, lambda a: sp.log(1 + sp.exp(a))).replace(
        sigmoid, lambda a: 1 / (1 + sp.exp(-a)))


@pytest.mark.parametrize(("layers", "act"), [([2, 3], "linear"), ([2, 1, 3], "tanh"),
                                             ([2, 2, 4], "linear")])
def test_loss_and_gradient_match_an_independent_sympy_computation(layers: list[int],
                                                                  act: str) -> None:
    y = [v % layers[-1] for v in LABELS]
    d = derive(_problem(layers, act, y))
    ref = _independent_loss(d, y)
    rng = random.Random(3)
    env = {p: sp.Rational(rng.randint(-20, 20), 7) for p in d.parameters}
    got = _plain(d.loss_expr).xreplace(env).evalf(50)
    want = ref.xreplace(env).evalf(50)
    assert abs(got - want) < sp.Float("1e-45") * (1 + abs(want))
    for p, g in zip(d.parameters, d.gradient_exprs, strict=True):
        gw = sp.diff(ref, p).xreplace(env).evalf(50)
        assert abs(_plain(g).xreplace(env).evalf(50) - gw) < sp.Float("1e-45") * (1 + abs(gw))


def test_a_wrong_formula_is_told_apart() -> None:
    """Negative control: the loss without the 1/n weight differs from the reference."""
    d = derive(_problem([2, 3], "linear"))
    env = {p: sp.Rational(i + 1, 5) for i, p in enumerate(d.parameters)}
    ref = _independent_loss(d, LABELS).xreplace(env).evalf(30)
    assert abs(_plain(len(LABELS) * d.loss_expr).xreplace(env).evalf(30) - ref) > 1


@pytest.mark.parametrize("backend", ["mpmath", "gmpy2", "float"])
@pytest.mark.parametrize("dps", [15, 30, 100])
def test_logits_of_1e11_do_not_overflow(backend: str, dps: int) -> None:
    """Sample 0 has logits ±1e11 with the wrong class far ahead: ℓ = 2·10^11 + log(1 + e^{-2e11}
    + e^{-1e11}) ≈ 2e11, and the gradient is exactly ±1/n away from the softmax saturation."""
    p = problem_from_dict({"network": {"layers": [1, 3], "activation": "linear"},
                           "loss": {"kind": "cross-entropy"},
                           "data": {"x": [["1"]], "y": [0]}})
    ev = Evaluator(derive(p))
    theta = ["-1e11", "1e11", "0"]  # z = (−1e11, 1e11, 0), label 0
    loss = ev.loss(theta, dps=dps, backend=backend)
    grad = ev.gradient(theta, dps=dps, backend=backend)
    assert mpmath.almosteq(mpmath.mpf(loss), 2 * 10**11, rel_eps=mpmath.mpf(10) ** -14)
    assert [float(g) for g in grad] == [-1.0, 1.0, 0.0]


def test_identities_hold_on_vector_outputs() -> None:
    d = derive(_problem([2, 2, 3], "relu"))
    assert d.problem.network.homogeneity_degree() == 2
    assert energy_identity(d).status == "proved"
    assert all(r.status == "proved" for r in euler_identity(d))
    laws = balancedness(d)
    assert len(laws) == 3 and all(r.status == "proved" for r in laws)


def test_identities_are_refuted_when_false() -> None:
    """Negative control: tanh units are not homogeneous, so balancedness must fail."""
    d = derive(_problem([2, 1, 3], "tanh"))
    assert any(r.status == "refuted" for r in balancedness(d))


@pytest.mark.parametrize(("layers", "y", "path", "words"), [
    ([2, 1], [0, 0, 0, 0], "network.layers[1]", "k >= 2 outputs"),
    ([2, 3], [0, 3, 1, 2], "data.y[1]", "class index 0..2"),
    ([2, 3], [0, "1/2", 1, 2], "data.y[1]", "class index"),
])
def test_bad_labels_are_refused_with_the_field(layers: list[int], y: list[object], path: str,
                                               words: str) -> None:
    with pytest.raises(SpecError) as e:
        _problem(layers, "linear", y)
    assert e.value.path == path and words in str(e.value)


def test_laws_on_a_cross_entropy_relu_classifier() -> None:
    """Two ReLU units, three logits: D = 10, one balancedness law per unit and no other."""
    from kltools.symbolic.laws import conservation_laws

    p = problem_from_dict({"network": {"layers": [2, 2, 3], "activation": "relu"},
                           "loss": {"kind": "cross-entropy"},
                           "data": {"x": X[:3], "y": [0, 2, 1]}})
    r = conservation_laws(p)
    assert r.count == 2
    assert sorted(str(h) for h in r.laws) == [
        "W1_1_1**2 + W1_1_2**2 - W2_1_1**2 - W2_2_1**2 - W2_3_1**2",
        "W1_2_1**2 + W1_2_2**2 - W2_1_2**2 - W2_2_2**2 - W2_3_2**2"]
