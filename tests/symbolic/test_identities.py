"""Exact identities: proved where the theory says so, refuted (with a witness) where it does not."""

from __future__ import annotations

import pytest
import sympy as sp

from kltools.spec import problem_from_dict
from kltools.symbolic.derivation import derive
from kltools.symbolic.identities import (
    balancedness,
    energy_identity,
    euler_identity,
    prove_zero,
)

DATA = {"x": [["2", "1"], ["0", "2"], ["-1", "1/2"]], "y": ["1", "-1", "1/2"]}


def _net(act: str, *, bias: bool = False, layers: list[int] | None = None,
         loss: str = "square") -> object:
    y = DATA["y"] if loss == "square" else ["1", "-1", "1"]
    return derive(problem_from_dict({
        "network": {"layers": layers or [2, 2, 1], "activation": act, "bias": bias},
        "loss": {"kind": loss}, "data": {"x": DATA["x"], "y": y}}))


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "z**2", "abs", "softplus"])
@pytest.mark.parametrize("loss", ["square", "logistic", "exponential"])
def test_energy_identity_is_proved(act: str, loss: str) -> None:
    assert energy_identity(_net(act, loss=loss)).status == "proved"


@pytest.mark.parametrize(("act", "layers", "k"), [
    ("relu", [2, 2, 1], 2), ("leaky_relu(1/5)", [2, 2, 1], 2), ("linear", [2, 1, 1, 1], 3),
    ("abs", [2, 3, 1], 2), ("z**2", [2, 2, 1], 3), ("relu", [2, 2, 2, 1], 3)])
def test_euler_identity_proved_for_homogeneous_nets(act: str, layers: list[int], k: int) -> None:
    d = _net(act, layers=layers)
    assert d.problem.network.homogeneity_degree() == k
    results = euler_identity(d)
    assert len(results) == 3
    assert all(r.status == "proved" for r in results)


@pytest.mark.parametrize(("act", "bias"), [("relu", True), ("sigmoid", False),
                                           ("tanh", False), ("z**3 - z", False)])
def test_euler_identity_refuted_with_biases_or_non_homogeneous_activations(act: str,
                                                                           bias: bool) -> None:
    d = _net(act, bias=bias)
    assert d.problem.network.homogeneity_degree() is None
    results = euler_identity(d)
    assert any(r.status == "refuted" and r.witness for r in results)
    assert not any(r.status == "proved" for r in results)


def test_euler_with_the_wrong_degree_is_refuted() -> None:
    # Negative control: the relu net is 2-homogeneous, so the claim "degree 1" must fail.
    results = euler_identity(_net("relu"), degree=1)
    assert all(r.status == "refuted" for r in results)


@pytest.mark.parametrize("act", ["relu", "linear", "leaky_relu(1/10)", "abs"])
@pytest.mark.parametrize("bias", [False, True])
def test_balancedness_proved_for_one_homogeneous_units(act: str, bias: bool) -> None:
    laws = balancedness(_net(act, bias=bias))
    assert [law.name for law in laws] == ["balanced[h1_1]", "balanced[h1_2]", "balanced[layer 1]"]
    assert all(law.status == "proved" for law in laws)


def test_balancedness_deep_linear_chain_has_one_law_per_hidden_layer() -> None:
    d = derive(problem_from_dict({"network": {"layers": [1, 1, 1, 1], "activation": "linear"},
                                  "data": {"x": [["1"], ["-2"]], "y": ["1", "1"]}}))
    laws = balancedness(d)
    assert sum(law.name.startswith("balanced[layer") for law in laws) == 2
    assert all(law.status == "proved" for law in laws)


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "softplus", "z**3 - z"])
def test_balancedness_refuted_for_non_homogeneous_units(act: str) -> None:
    laws = balancedness(_net(act))
    assert all(law.status == "refuted" for law in laws)
    # The witness is a point where d/dt h is non-zero: re-check it independently.
    from kltools.symbolic.export import PARSE_NAMES

    d = _net(act)
    names = {str(p): p for p in d.parameters} | PARSE_NAMES
    for law in laws:
        residual = sp.sympify(law.residual, locals=names)
        env = {p: sp.Rational(law.witness[str(p)]) for p in d.parameters
               if str(p) in law.witness}
        assert abs(residual.xreplace(env).evalf(30)) > 1e-10


def test_k_homogeneous_units_conserve_in_minus_k_out() -> None:
    laws = balancedness(_net("z**2"))
    assert all(law.status == "proved" for law in laws)
    assert "2·‖out" in laws[0].statement


def test_prove_zero_on_known_identities() -> None:
    x, y = sp.symbols("x y", real=True)
    assert prove_zero((x + y) ** 2 - x**2 - 2 * x * y - y**2, [x, y])[0] == "proved"
    status, _, witness = prove_zero(sp.tanh(x) ** 2 + 1 / sp.cosh(x) ** 2 - 2, [x])
    assert status == "refuted" and witness
    # True but not visible to expansion with independent atoms: must not be called refuted.
    assert prove_zero(sp.tanh(x) ** 2 + 1 / sp.cosh(x) ** 2 - 1, [x])[0] != "refuted"
