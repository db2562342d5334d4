"""The laws found symbolically stay constant along computed flows on random data (to the flow's
digits), and proposed non-laws visibly do not."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from kltools.analysis.laws_check import laws_along_flow, with_random_data
from kltools.spec import load_problem, problem_from_dict
from kltools.symbolic.laws import conservation_laws

ROOT = Path(__file__).resolve().parents[2]


def net(layers: list[int], act: str, *, bias: bool = False, loss: str = "square") -> object:
    d, o = layers[0], layers[-1]
    base = problem_from_dict({
        "network": {"layers": layers, "activation": act, "bias": bias},
        "loss": {"kind": loss},
        "data": {"x": [["1"] * d], "y": [["1"] * o] if o > 1 else ["1"]},
        "init": {"seed": 3, "scale": "0.7"}})
    return base


@pytest.mark.parametrize(("layers", "act", "bias", "loss", "seed"), [
    ([2, 3, 1], "relu", False, "square", 1),
    ([2, 2, 1], "leaky_relu(1/5)", True, "square", 2),
    ([1, 2, 2, 1], "linear", False, "square", 3),
    ([2, 2, 1], "relu", False, "logistic", 4),
    ([2, 2, 1], "z**2", False, "square", 5),
])
def test_laws_are_constant_along_the_flow(layers: list[int], act: str, bias: bool, loss: str,
                                          seed: int) -> None:
    p = with_random_data(net(layers, act, bias=bias, loss=loss), n_samples=5, seed=seed)
    laws = conservation_laws(p, prove=False).laws
    assert laws
    res = laws_along_flow(p, laws, t_end="1/2", dps=30)
    assert res.outcome in ("ok", "sliding")
    assert res.flow_digits >= 20
    assert res.holds, res.to_json()
    assert all(d.constant_digits >= res.flow_digits - 5 for d in res.drifts)


def test_non_laws_drift_far_above_the_tolerance() -> None:
    """Negative controls on the same flow: u² + ‖v‖² (a sum) and the law with the wrong weight
    2 (the z² law on a ReLU net) must fail, by many orders of magnitude."""
    p = with_random_data(load_problem(ROOT / "examples" / "relu_two_layer.toml"), 5, seed=1)
    good = "W1_1_1**2 + W1_1_2**2 - W2_1_1**2"
    res = laws_along_flow(p, [good, "W1_1_1**2 + W1_1_2**2 + W2_1_1**2",
                              "W1_1_1**2 + W1_1_2**2 - 2*W2_1_1**2"], t_end=1, dps=30)
    law, *bad = res.drifts
    assert law.holds
    assert not any(b.holds for b in bad)
    assert all(b.constant_digits < 5 for b in bad)
    assert not res.holds


def test_random_data_keeps_the_network_and_is_exact() -> None:
    p = load_problem(ROOT / "examples" / "relu_two_layer.toml")
    q = with_random_data(p, 7, seed=0)
    assert q.network is p.network and q.data.n == 7
    assert all(isinstance(v, sp.Rational) for row in q.data.x for v in row)
    m = with_random_data(net([2, 2, 1], "relu", loss="logistic"), 6, seed=0)
    assert {y for (y,) in m.data.y} <= {1, -1}
    assert with_random_data(p, 7, seed=0).data == q.data
