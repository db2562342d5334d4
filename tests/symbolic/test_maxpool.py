"""Shared, fixed and max-pooling graph nodes: derivation against an independent SymPy
computation, homogeneity and balancedness accounting, and a max-pooling tie the flow slides on."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from kltools.errors import SpecError
from kltools.integrate.flow import integrate
from kltools.integrate.trajectory import Outcome
from kltools.spec import load_problem, problem_from_dict
from kltools.symbolic.derivation import derive
from kltools.symbolic.identities import balancedness, euler_identity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _conv(act: str = "relu", readout: object = None) -> object:
    edges = [{"from": "x1", "to": "c1", "param": "k1"}, {"from": "x2", "to": "c1", "param": "k2"},
             {"from": "x2", "to": "c2", "param": "k1"}, {"from": "x3", "to": "c2", "param": "k2"},
             {"from": "c1", "to": "p", "weight": "1"}, {"from": "c2", "to": "p", "weight": "1"},
             readout or {"from": "p", "to": "y", "param": "v"}]
    return problem_from_dict({"network": {
        "kind": "graph", "inputs": ["x1", "x2", "x3"], "outputs": ["y"], "edges": edges,
        "nodes": [{"name": "c1", "activation": act}, {"name": "c2", "activation": act},
                  {"name": "p", "activation": "max"}, {"name": "y"}]},
        "data": {"x": [["1", "2", "1"], ["2", "-1", "3"]], "y": ["1", "-1/2"]}})


def test_shared_and_named_parameters_appear_once_with_their_names() -> None:
    p = _conv()
    assert p.parameters == ("k1", "k2", "v")
    assert p.network.homogeneity_degree() == 2


def test_output_matches_an_independent_sympy_max() -> None:
    d = derive(_conv())
    k1, k2, v = sp.symbols("k1 k2 v", real=True)
    relu = lambda z: sp.Max(z, 0)  # noqa: E731
    env = {k1: sp.Rational(1, 3), k2: sp.Rational(-1, 2), v: sp.Rational(3, 2)}
    for row, x in zip(d.output_exprs, d.problem.data.x, strict=True):
        want = v * sp.Max(relu(k1 * x[0] + k2 * x[1]), relu(k1 * x[1] + k2 * x[2]))
        theta = [env[k1], env[k2], env[v]]
        got = row[0].xreplace(dict(zip(d.parameters, theta, strict=True))).xreplace(
            d.on_pattern(d.pattern(theta)))
        assert got == want.xreplace(env)
    # The gradient on that pattern against sympy.diff of the independent loss.
    theta = [env[k1], env[k2], env[v]]
    chi = d.on_pattern(d.pattern(theta))
    ref = sum((v * sp.Max(relu(k1 * x[0] + k2 * x[1]), relu(k1 * x[1] + k2 * x[2])) - y[0]) ** 2
              for x, y in zip(d.problem.data.x, d.problem.data.y, strict=True)) / 4
    for s, g in zip((k1, k2, v), d.gradient_exprs, strict=True):
        mine = g.xreplace(dict(zip(d.parameters, theta, strict=True))).xreplace(chi)
        assert mine == sp.diff(ref, s).xreplace(env)


def test_fixed_weights_lower_the_degree_and_scale_outputs() -> None:
    """A fixed read-out weight 2: f = 2·max(...) is 1-homogeneous, and Euler's identity says so
    (the degree of a graph with every edge trained, 2, is refuted)."""
    d = derive(_conv(readout={"from": "p", "to": "y", "weight": "2"}))
    assert d.problem.parameters == ("k1", "k2")
    assert d.problem.network.homogeneity_degree() == 1
    assert all(r.status == "proved" for r in euler_identity(d))
    assert any(r.status == "refuted" for r in euler_identity(d, degree=2))


def test_balancedness_accounts_for_shared_and_fixed_weights() -> None:
    """No per-unit law survives weight sharing or fixed weights; with own parameters on every
    edge the per-unit laws are proved, and a per-unit law forced on the shared kernel is
    refuted (it would pretend the kernel of c1 rescales alone)."""
    d = derive(_conv())
    assert balancedness(d) == []
    k1, k2, v = d.parameters
    flow = d.flow_exprs
    fake = k1**2 + k2**2 - v**2 / 2  # as if c1 alone owned the kernel and half the read-out
    dh = sp.Add(*[sp.diff(fake, p) * f for p, f in zip(d.parameters, flow, strict=True)])
    from kltools.symbolic.identities import prove_zero

    assert prove_zero(dh, d.parameters, d.switch_symbols)[0] == "refuted"
    true = k1**2 + k2**2 - v**2  # the whole-network rescaling (k, v) -> (ck, v/c)
    dh = sp.Add(*[sp.diff(true, p) * f for p, f in zip(d.parameters, flow, strict=True)])
    assert prove_zero(dh, d.parameters, d.switch_symbols)[0] == "proved"


def test_a_max_pooling_tie_is_reached_and_the_flow_slides_on_it() -> None:
    p = load_problem(EXAMPLES / "maxpool_tie.toml")
    traj = integrate(p, None, 3, dps=30, convention="filippov")
    assert traj.outcome in (Outcome.OK, Outcome.SLIDING)
    kinds = [e.kind.value for e in traj.events]
    assert kinds == ["sliding"]
    k, k2, _ = traj.theta
    assert k == k2 and k < sp.Rational(19, 10)  # on the tie, both candidates moved down together


@pytest.mark.parametrize(("edge", "path"), [
    ({"from": "x1", "to": "c1", "param": "k1", "weight": "1"}, "network.edges[0]"),
    ({"from": "x1", "to": "c1", "param": "_k"}, "network.edges[0].param"),
    ({"from": "x1", "to": "c1", "weight": "abc"}, "network.edges[0].weight"),
    ({"from": "x1", "to": "c1", "kernel": "k"}, "network.edges[0].kernel"),
])
def test_bad_edge_tables_name_the_field(edge: dict, path: str) -> None:
    with pytest.raises(SpecError) as e:
        problem_from_dict({"network": {
            "kind": "graph", "inputs": ["x1"], "outputs": ["c1"],
            "nodes": [{"name": "c1"}], "edges": [edge]},
            "data": {"x": [["1"]], "y": ["1"]}})
    assert e.value.path == path


def test_laws_see_shared_and_fixed_weights_and_refuse_max_nodes() -> None:
    """f = v·relu(k x1) + relu(k x2)/2: the kernel k is shared and the second read-out fixed,
    so no rescaling is left and there is no law (with own weights there would be two)."""
    from kltools.errors import DerivationError
    from kltools.symbolic.laws import conservation_laws

    edges = [{"from": "x1", "to": "c1", "param": "k"}, {"from": "x2", "to": "c2", "param": "k"},
             {"from": "c1", "to": "y", "param": "v"}, {"from": "c2", "to": "y", "weight": "1/2"}]
    net = {"kind": "graph", "inputs": ["x1", "x2"], "outputs": ["y"], "edges": edges,
           "nodes": [{"name": "c1", "activation": "relu"}, {"name": "c2", "activation": "relu"},
                     {"name": "y"}]}
    data = {"x": [["1", "2"], ["2", "-1"]], "y": ["1", "0"]}
    assert conservation_laws(problem_from_dict({"network": net, "data": data})).count == 0
    own = dict(net, edges=[["x1", "c1"], ["x2", "c2"], ["c1", "y"], ["c2", "y"]])
    assert conservation_laws(problem_from_dict({"network": own, "data": data})).count == 2
    with pytest.raises(DerivationError, match="max-pooling"):
        conservation_laws(_conv())
