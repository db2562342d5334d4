"""The population-loss proof: its pieces decide right, and each can fail on a false claim."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sympy as sp

from kltools.proving.claims import Config
from kltools.proving.registry import available, load_proof
from kltools.spec import load_problem

pop = load_proof("population")


def test_population_proof_is_registered_with_loadable_models() -> None:
    assert "population" in available()
    assert set(pop.PROOF.models) >= {"relu-uniform", "relu-gaussian", "quadratic-gaussian"}
    for text in pop.PROOF.models.values():
        load_problem(text)


def test_closed_forms_proved_and_refuted_for_another_teacher() -> None:
    ev = pop._closed_forms(load_problem(pop.RELU), load_problem(pop.QUAD))
    assert set(ev.values()) == {"proved"}
    other = load_problem(pop.RELU.replace('teacher = "relu(x1)"', 'teacher = "relu(x1)/2"'))
    assert "refuted" in pop._closed_forms(other, load_problem(pop.QUAD)).values()


def test_gradient_identity_refutes_a_wrong_residual_gradient(monkeypatch: Any) -> None:
    prob = load_problem(pop.RELU)
    assert pop._gradient_identity(prob) == "proved"
    real = pop.population_expressions

    def off_by_a_tenth(problem: Any, *, gradient: bool = False) -> Any:
        ex = real(problem, gradient=gradient)
        wrong = tuple(g * sp.Rational(11, 10) for g in ex.residual_gradient)
        return dataclasses.replace(ex, residual_gradient=wrong)

    monkeypatch.setattr(pop, "population_expressions", off_by_a_tenth)
    assert pop._gradient_identity(prob) == "refuted"


def test_linear_rate_verified_on_the_teacher_side_only() -> None:
    good = pop._linear_rate(load_problem(pop.RELU), 40, 30)
    assert good["ok"] and good["rate"] >= good["predicted"] > 0.1
    # R = (v² + w²)/6 exactly on w > 0: at θ₀ = (1/2, 3/10), 2R = 0.11333…
    assert abs(good["predicted"] - 2 * (0.25 + 0.09) / 6) < 1e-12
    bad = pop._linear_rate(load_problem(pop.WRONG), 40, 30)
    assert not bad["ok"]


def test_wrong_side_control_refutes_only_from_the_wrong_side() -> None:
    verdict, evidence, _ = pop._wrong_side(load_problem(pop.WRONG), 30)
    assert verdict == "refuted"
    assert float(evidence["L(T)"]) >= 1 / 12
    # From w > 0 the same test finds no witness: the control can fail.
    assert pop._wrong_side(load_problem(pop.RELU), 30)[0] == "inconclusive"


@pytest.mark.slow
def test_quick_run_gets_every_expected_verdict() -> None:
    results = pop.run(Config(quick=True))
    assert len(results) == len(pop.PROOF.claims) + 1  # the rate claim runs per ReLU model
    for r in results:
        assert r.verdict == r.expected, (r.claim, r.evidence)
