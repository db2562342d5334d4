"""The public strategies generate valid, exact objects and honour their options."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings

from kltools import strategies as ks
from kltools.errors import SpecError
from kltools.spec import problem_from_dict
from kltools.symbolic.derivation import derive


@settings(max_examples=15)
@given(ks.networks(max_width=2, max_depth=2))
def test_networks_load_and_derive(spec: dict) -> None:
    p = problem_from_dict(spec)
    d = derive(p)
    assert len(d.gradient) == p.n_parameters


@settings(max_examples=20)
@given(ks.datasets(n=4, dim=2, separable=True))
def test_separable_data_are_separated_by_some_line(xy: tuple) -> None:
    x, y = xy
    assert set(y) <= {"1", "-1"}
    # A hard-margin check: the perceptron converges on separable data in finite steps.
    w = [Fraction(0), Fraction(0)]
    for _ in range(2000):
        mistakes = 0
        for xi, yi in zip(x, y, strict=True):
            xs = [Fraction(v) for v in xi]
            if int(yi) * sum(a * b for a, b in zip(w, xs, strict=True)) <= 0:
                w = [a + int(yi) * b for a, b in zip(w, xs, strict=True)]
                mistakes += 1
        if not mistakes:
            break
    assert mistakes == 0


@settings(max_examples=20)
@given(ks.initialisations(5, scale="1/2", denominator=100))
def test_initialisations_are_exact_and_in_range(theta: list) -> None:
    assert len(theta) == 5
    assert all(isinstance(v, Fraction) and abs(v) <= Fraction(3, 2) for v in theta)
    assert all((v * 100).denominator == 1 for v in theta)


def test_near_kink_initialisations_start_within_a_thousandth_of_a_surface() -> None:
    from hypothesis import find

    p = problem_from_dict({"network": {"layers": [2, 2, 1], "activation": "relu"},
                           "data": {"x": [["1", "2"], ["-1", "1"]], "y": ["1", "0"]}})
    d = derive(p)
    theta = find(ks.initialisations(p, near_kinks=True), lambda th: True)
    env = dict(zip(d.parameters, theta, strict=True))
    values = [abs(e.xreplace(env)) for e in d.surface_exprs if not e.free_symbols - set(env)]
    assert Fraction(1, 1000) in values  # one surface placed at distance 1/1000


@settings(max_examples=10)
@given(ks.objectives(variables=("x", "y"), degree=4))
def test_objectives_are_polynomials_of_bounded_degree(spec: dict) -> None:
    import sympy as sp

    p = problem_from_dict(spec)
    assert sp.Poly(p.objective.expr, *p.objective.variables).total_degree() <= 4


@pytest.mark.parametrize(("fn", "kwargs"), [
    (ks.rationals, {"bound": 0}), (ks.datasets, {"n": 0}), (ks.networks, {"max_width": 0}),
    (ks.networks, {"activations": ["swish"]}), (ks.objectives, {"degree": -1}),
])
def test_bad_options_are_named(fn: object, kwargs: dict) -> None:
    with pytest.raises(SpecError):
        fn(**kwargs)  # type: ignore[operator]
