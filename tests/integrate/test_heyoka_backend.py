"""The heyoka backend agrees with kltools' own integrator to the digits it claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from kltools.integrate import heyoka_backend
from kltools.integrate.flow import integrate
from kltools.numbers import agreement_digits
from kltools.spec import load_problem, problem_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TANH = {"network": {"layers": [3, 2, 1], "activation": "tanh", "bias": False},
        "loss": {"kind": "square"},
        "data": {"x": [["1/5", "0", "1/2"], ["2/5", "-1/4", "1/3"], ["3/5", "1/2", "1/4"],
                       ["4/5", "-3/4", "1/5"], ["1", "1", "1/6"]],
                 "y": ["-2/3", "-1/3", "0", "1/3", "2/3"]},
        "init": {"seed": 7, "scale": "0.5"}}


def test_tanh_net_agrees_with_the_native_integrator() -> None:
    problem = problem_from_dict(TANH, "tanh8")
    fast = integrate(problem, None, 10, dps=30, backend="heyoka", adaptive_precision=False)
    assert fast.info["backend"] == "heyoka"
    native = integrate(problem, None, 10, dps=30, adaptive_precision=False)
    ref = integrate(problem, None, 10, dps=45, adaptive_precision=False)
    assert fast.t == 10 and fast.outcome.value == "ok"
    assert agreement_digits(native.theta, ref.theta) >= 29
    # The digits the fast path claims hold against the 45-digit reference.
    assert fast.correct_digits >= 28
    assert agreement_digits(fast.theta, ref.theta) >= fast.correct_digits
    # Per-step records are evaluated by kltools: the loss decreases along the flow.
    assert len(fast.losses) == fast.n_steps + 1
    assert all(b < a for a, b in zip(fast.losses, fast.losses[1:], strict=False))


@pytest.mark.slow
def test_every_operation_translates_exactly() -> None:
    # exp, log, sigmoid, softplus, rational and integer powers, division, rational constants.
    p = load_problem('[objective]\nexpr = "log(1 + x**2)/3 + exp(-y)*sigmoid(x) + '
                     'softplus(y - 1/7) + (x**2 + 1)**(1/3) + x**4/(2 + y**2)"\n'
                     'vars = ["x", "y"]\n[init]\ntheta = ["0.3", "-0.2"]\n')
    fast = integrate(p, None, 1, dps=40, backend="heyoka", adaptive_precision=False)
    ref = integrate(p, None, 1, dps=60, adaptive_precision=False)
    assert fast.info["backend"] == "heyoka"
    assert agreement_digits(fast.theta, ref.theta) >= fast.correct_digits >= 38


def test_a_constant_off_by_one_ulp_of_the_data_is_seen() -> None:
    # The negative control: the same check refutes a flow whose data differ in the 25th digit.
    other = {**TANH, "data": {**TANH["data"], "y": ["-2/3", "-1/3", "1e-25", "1/3", "2/3"]}}
    fast = integrate(problem_from_dict(other, "t"), None, 10, dps=30, backend="heyoka",
                     adaptive_precision=False)
    ref = integrate(problem_from_dict(TANH, "t"), None, 10, dps=45, adaptive_precision=False)
    assert agreement_digits(fast.theta, ref.theta) < fast.correct_digits


def test_models_with_kinks_stay_native() -> None:
    traj = integrate(load_problem(EXAMPLES / "relu_two_layer.toml"), None, 1, dps=30,
                     backend="heyoka")
    assert traj.info["backend"].startswith("native: the model has kink surfaces")


def test_without_heyoka_the_native_integrator_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heyoka_backend, "available", lambda: False)
    p = problem_from_dict(TANH, "tanh8")
    traj = integrate(p, None, 1, dps=30, backend="heyoka")
    assert traj.info["backend"].startswith("native: heyoka is not installed")
    assert traj.theta == integrate(p, None, 1, dps=30).theta


def test_an_unknown_backend_is_one_clear_error() -> None:
    from kltools.errors import IntegrationError

    with pytest.raises(IntegrationError, match="unknown backend 'gpu'; use native or heyoka"):
        integrate(load_problem(EXAMPLES / "problem_c.toml"), None, 1, backend="gpu")
