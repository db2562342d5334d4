"""Every property holds on a true case and is refuted on a false one (negative controls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kltools.checks.properties import check_property
from kltools.checks.verdict import Status
from kltools.errors import NotApplicableError, SpecError
from kltools.spec import load_problem

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> object:
    return load_problem(EXAMPLES / f"{name}.toml")


def objective(expr: str, names: str, init: str | None = None) -> object:
    vars_ = ", ".join(f'"{v}"' for v in names.split(","))
    extra = f'\n[init]\ntheta = [{", ".join(repr(v) for v in init.split(","))}]\n' if init \
        else ""
    return load_problem(f'[objective]\nexpr = "{expr}"\nvars = [{vars_}]\n{extra}')


def test_energy_holds_along_the_flow_of_a_relu_net() -> None:
    v = check_property("energy", example("scalar_linear"), t_end=2)
    assert v.status is Status.HOLDS
    assert float(v.evidence["max relative discrepancy"]) < 1e-25


def test_energy_with_the_wrong_flow_scale_is_refuted() -> None:
    # Mean-field particles follow w' = -N grad L; claiming d/dt L = -|grad L|^2 (s = 1) is false.
    v = check_property("energy", example("mean_field_l2"), claimed_scale=1, t_end=1)
    assert v.status is Status.REFUTED
    assert v.counterexample and "discrepancy" in v.counterexample["detail"]
    assert check_property("energy", example("mean_field_l2"), t_end=1).status is Status.HOLDS


def test_no_blowup_holds_for_a_loss_bounded_below() -> None:
    v = check_property("no-blowup", example("objective_balanced"), t_end=10)
    assert v.status is Status.HOLDS


def test_no_blowup_refuted_for_minus_x4_with_the_blowup_time() -> None:
    v = check_property("no-blowup", example("objective_blowup"), t_end=1)
    assert v.status is Status.REFUTED
    assert float(v.evidence["blowup_time"]) == pytest.approx(0.5, abs=1e-12)
    cx = v.counterexample
    assert cx["init"] == ["1/2"] and "-x**4" in cx["spec"]


def test_lojasiewicz_three_quarters_holds_at_x4_and_one_half_is_refuted() -> None:
    p = objective("x**4", "x", "0.5")
    good = check_property("lojasiewicz", p, exponent="3/4", t_end="1e4")
    assert good.status is Status.HOLDS
    assert abs(float(good.evidence["estimated exponent (tail fit)"]) - 0.75) < 0.01
    bad = check_property("lojasiewicz", p, exponent="1/2", t_end="1e4")
    assert bad.status is Status.REFUTED
    assert bad.evidence["witness"]  # the points where |L|^(1/2)/|grad L| grows


def test_lojasiewicz_exponent_of_x6_is_estimated_near_five_sixths() -> None:
    v = check_property("lojasiewicz", objective("x**6", "x", "0.5"), t_end="1e5")
    assert v.status is Status.HOLDS
    assert abs(float(v.evidence["estimated exponent (tail fit)"]) - 5 / 6) < 0.01


def test_linear_convergence_holds_at_a_morse_minimum_and_is_refuted_for_x4() -> None:
    v = check_property("linear-convergence", example("scalar_linear"), t_end=10)
    assert v.status is Status.HOLDS
    assert float(v.evidence["observed average rate"]) >= float(
        v.evidence["predicted rate 2 s min R / n"])
    bad = check_property("linear-convergence", objective("x**4", "x", "0.5"), t_end="1e4")
    assert bad.status is Status.REFUTED
    assert "sub-linear" in bad.counterexample["detail"]


def test_rayleigh_identity_holds_and_fails_with_an_l2_term() -> None:
    v = check_property("rayleigh-identity", example("quadratic_two_layer"), t_end=1)
    assert v.status is Status.HOLDS
    assert float(v.evidence["max relative error"]) < 1e-25
    # With (lambda/2)|theta|^2 the gradient is J^T r/n + lambda theta: the identity is false.
    ridge = load_problem((EXAMPLES / "quadratic_two_layer.toml").read_text()
                         .replace("[data]", '[loss]\nkind = "square"\nl2 = "0.1"\n[data]'))
    bad = check_property("rayleigh-identity", ridge, t_end=1)
    assert bad.status is Status.REFUTED


def test_rayleigh_identity_does_not_apply_to_a_logistic_loss() -> None:
    with pytest.raises(NotApplicableError, match="square loss"):
        check_property("rayleigh-identity", example("linear_classifier_logistic"))


def test_conservation_holds_for_relu_and_is_refuted_for_tanh() -> None:
    assert check_property("conservation", example("relu_two_layer"),
                          t_end=1).status is Status.HOLDS
    tanh = load_problem((EXAMPLES / "relu_two_layer.toml").read_text()
                        .replace('activation = "relu"', 'activation = "tanh"'))
    v = check_property("conservation", tanh, t_end=1)
    assert v.status is Status.REFUTED
    assert float(v.evidence["max relative drift"]) > 1e-6


def test_directional_convergence_holds_for_a_linear_classifier() -> None:
    v = check_property("directional-convergence", example("linear_classifier_logistic"),
                       t_end="1e5")
    assert v.status is Status.HOLDS


def test_directional_convergence_with_the_square_loss_is_refused_or_refuted() -> None:
    p = example("scalar_linear")
    with pytest.raises(NotApplicableError, match="exponential or logistic"):
        check_property("directional-convergence", p)
    # Forced anyway, the claim fails: |theta| converges to a finite point.
    v = check_property("directional-convergence", p, t_end="1e4", force=True)
    assert v.status is Status.REFUTED
    assert "bounded" in v.counterexample["detail"]


def test_codim2_holds_generically_and_is_refuted_at_a_double_kink() -> None:
    assert check_property("codim2", example("relu_two_layer"), t_end=3).status is Status.HOLDS
    v = check_property("codim2", objective("x + relu(x) + y + relu(y)", "x,y", "1,1"), t_end=1)
    assert v.status is Status.REFUTED


def test_gd_follows_the_flow_at_first_order_and_diverges_for_a_large_step() -> None:
    p = example("objective_balanced")
    v = check_property("gd-vs-flow", p, t_end=1, eta="0.01")
    assert v.status is Status.HOLDS
    assert 0.4 < float(v.evidence["ratio"]) < 0.6
    bad = check_property("gd-vs-flow", p, t_end=10, eta="0.9")
    assert bad.status is Status.REFUTED


def test_unknown_property_lists_the_known_ones() -> None:
    with pytest.raises(SpecError, match="known: energy, no-blowup"):
        check_property("speed", example("scalar_linear"))
