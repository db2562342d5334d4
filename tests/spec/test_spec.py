"""The spec layer on valid input: examples, canonical parameters, exact numbers, activations,
initialisations, TOML round trips and homogeneity degrees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from kltools.spec import (
    Init,
    activation_from_spec,
    diagonal_linear,
    graph_network,
    load_problem,
    mean_field,
    mlp,
    parse_activation,
    parse_expression,
    parse_number,
    problem_to_toml,
)
from kltools.spec.activations import Z
from kltools.spec.expr import real_symbol

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))
R = sp.Rational


def test_the_examples_exist() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"scalar_linear", "linear_chain3", "relu_two_layer", "quadratic_two_layer",
            "leaky_relu_bias", "linear_classifier_logistic", "mean_field_l2",
            "objective_balanced"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_loads(path: Path) -> None:
    p = load_problem(path)
    assert p.name == path.stem
    assert p.n_parameters == len(p.symbols) >= 1
    assert [str(s) for s in p.symbols] == list(p.parameters)
    theta = p.initial_point()
    assert len(theta) == p.n_parameters
    assert all(isinstance(v, sp.Rational) for v in theta)
    # The same file given as a string path and as text loads to the same parameters.
    assert load_problem(str(path)).parameters == p.parameters
    assert load_problem(path.read_text(encoding="utf-8")).parameters == p.parameters


# -- canonical parameter order and names --------------------------------------------------------

def test_mlp_order_is_layer_by_layer_row_major_then_biases() -> None:
    net = mlp([2, 3, 1], "relu", bias=True)
    assert net.parameters == (
        "W1_1_1", "W1_1_2", "W1_2_1", "W1_2_2", "W1_3_1", "W1_3_2", "b1_1", "b1_2", "b1_3",
        "W2_1_1", "W2_1_2", "W2_1_3", "b2_1")
    g = net.graph
    # W{layer}_{out}_{in}: 1-based, from unit `in` of the previous layer to unit `out`.
    assert g.edges["x1", "h1_2"]["param"] == "W1_2_1"
    assert g.edges["x2", "h1_3"]["param"] == "W1_3_2"
    assert g.edges["h1_3", "y1"]["param"] == "W2_1_3"
    assert g.nodes["h1_2"]["bias"] == "b1_2"
    assert g.nodes["y1"]["bias"] == "b2_1"
    assert net.inputs == ("x1", "x2") and net.outputs == ("y1",)
    assert net.kind == "mlp" and net.flow_scale == 1


def test_mlp_without_bias_and_deeper() -> None:
    net = mlp([1, 2, 2, 1], ["relu", "tanh"])
    assert net.parameters == ("W1_1_1", "W1_2_1", "W2_1_1", "W2_1_2", "W2_2_1", "W2_2_2",
                              "W3_1_1", "W3_1_2")
    g = net.graph
    assert str(g.nodes["h1_1"]["activation"]) == "relu"
    assert str(g.nodes["h2_2"]["activation"]) == "tanh"
    assert str(g.nodes["y1"]["activation"]) == "linear"
    assert all(g.nodes[v]["bias"] is None for v in net.order())


def test_toml_mlp_has_the_same_order_as_the_python_api() -> None:
    p = load_problem(EXAMPLES[0].parent / "leaky_relu_bias.toml")
    assert p.parameters == mlp([2, 2, 1], "leaky_relu(1/10)", bias=True).parameters


def test_graph_network_order_follows_targets_then_given_edge_order() -> None:
    # Nodes listed output first, edges into h in the order x2, x1: the order is still by target
    # (h before y, topologically), and within a target the order the edges are given.
    net = graph_network([{"name": "y"}, {"name": "h", "activation": "relu", "bias": True}],
                        [["x2", "h"], ["h", "y"], ["x1", "h"], ["x1", "y"]],
                        inputs=["x1", "x2"], outputs=["y"])
    assert net.parameters == ("w_h_x2", "w_h_x1", "b_h", "w_y_h", "w_y_x1")
    assert net.kind == "graph"
    assert net.order() == ["h", "y"]
    assert net.graph.nodes["y"]["role"] == "output" and net.graph.nodes["h"]["role"] == "unit"


def test_skip_connection_example_parameters() -> None:
    p = load_problem(EXAMPLES[0].parent / "skip_connection.toml")
    assert p.parameters == ("w_h_x1", "w_h_x2", "w_y_h", "w_y_x1")
    assert p.network is not None and p.network.homogeneity_degree() is None


def test_mean_field_parameters_scale_and_flow_scale() -> None:
    net = mean_field(2, 3, "tanh", bias=True)
    assert net.parameters == ("a1_1", "a1_2", "b1", "c1", "a2_1", "a2_2", "b2", "c2",
                              "a3_1", "a3_2", "b3", "c3")
    assert net.flow_scale == 3
    assert net.graph.nodes["y1"]["scale"] == R(1, 3)
    assert net.graph.edges["p2", "y1"]["param"] == "c2"
    assert net.graph.edges["x2", "p3"]["param"] == "a3_2"
    assert mean_field(1, 4).parameters == ("a1_1", "c1", "a2_1", "c2", "a3_1", "c3",
                                           "a4_1", "c4")
    p = load_problem(EXAMPLES[0].parent / "mean_field_l2.toml")
    assert p.flow_scale == 4 and p.loss is not None and p.loss.l2 == R(1, 100)


def test_diagonal_parameters() -> None:
    assert diagonal_linear(3).parameters == ("u1_1", "u1_2", "u1_3", "u2_1", "u2_2", "u2_3")
    net = diagonal_linear(2, depth=3)
    assert net.parameters == ("u1_1", "u1_2", "u2_1", "u2_2", "u3_1", "u3_2")
    assert net.graph.edges["h2_1", "y1"]["param"] == "u3_1"
    assert net.homogeneity_degree() == 3


def test_objective_parameters_are_the_vars_in_order() -> None:
    p = load_problem('[objective]\nexpr = "b*c - a"\nvars = ["c", "a", "b"]\n')
    assert p.parameters == ("c", "a", "b")
    a, b, c = (real_symbol(n) for n in "abc")
    assert p.objective is not None and p.objective.expr == b * c - a


# -- exact numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("0.1", R(1, 10)), (0.1, R(1, 10)), ("1/3", R(1, 3)), (" -3/4 ", R(-3, 4)), (2, R(2)),
    ("1e-3", R(1, 1000)), (1e-3, R(1, 1000)), ("2.50", R(5, 2)), ("0.1/3", R(1, 30)),
])
def test_parse_number_is_exact(value: object, expected: sp.Rational) -> None:
    got = parse_number(value, "x")
    assert isinstance(got, sp.Rational)
    assert got == expected


def test_toml_floats_and_strings_in_data_are_exact() -> None:
    p = load_problem('[network]\nlayers = [2, 1]\n[data]\nx = [[0.1, "0.2"], ["1/3", 7]]\n'
                     'y = [0.3, "-1/7"]\n[init]\ntheta = [0.1, "1/3"]\n')
    assert p.data is not None
    assert p.data.x == ((R(1, 10), R(1, 5)), (R(1, 3), R(7)))
    assert p.data.y == ((R(3, 10),), (R(-1, 7),))
    assert p.initial_point() == (R(1, 10), R(1, 3))
    assert p.loss is not None and p.loss.kind == "square" and p.loss.l2 == 0


def test_one_dimensional_inputs_may_be_a_flat_list() -> None:
    p = load_problem('[network]\nlayers = [1, 1]\n[data]\nx = ["1", 2]\ny = [["3"], ["4"]]\n')
    assert p.data is not None
    assert p.data.x == ((R(1),), (R(2),)) and p.data.y == ((R(3),), (R(4),))


def test_expression_constants_are_exact() -> None:
    x = real_symbol("x")
    assert parse_expression("0.1*x + 1/3", [x]) == x / 10 + R(1, 3)
    assert parse_expression("x**0.5", [x]) == sp.sqrt(x)
    assert parse_expression("relu(x) + leaky_relu(x, 0.25)", [x]) == (
        sp.Max(x, 0) + x / 4 + R(3, 4) * sp.Max(x, 0))


# -- activations --------------------------------------------------------------------------------

PW_SQUARE = {"pieces": ["-z**2", "z**2"], "breakpoints": ["0"]}
PW_SHIFTED = {"pieces": ["0", "z - 1"], "breakpoints": ["1"]}
ACTIVATIONS = [
    # spec, kinks, homogeneity degree, analytic
    ("linear", (), 1, True),
    ("relu", (0,), 1, False),
    ("leaky_relu(0.1)", (0,), 1, False),
    ("abs", (0,), 1, False),
    ("z**2", (), 2, True),
    ("z**3", (), 3, True),
    ("z**3 - z", (), None, True),
    ("sigmoid", (), None, True),
    ("tanh", (), None, True),
    ("softplus", (), None, True),
    (PW_SQUARE, (0,), 2, False),
    (PW_SHIFTED, (1,), None, False),
    ({"pieces": ["-z/4", "z + z**2"], "breakpoints": ["0"]}, (0,), None, False),
]


@pytest.mark.parametrize(("spec", "kinks", "degree", "analytic"), ACTIVATIONS,
                         ids=[str(a[0]) for a in ACTIVATIONS])
def test_activation_properties(spec: object, kinks: tuple, degree: int | None,
                               analytic: bool) -> None:
    act = activation_from_spec(spec)
    assert act.kinks == tuple(R(k) for k in kinks)
    assert act.homogeneity == degree
    assert act.analytic is analytic
    assert act.is_piecewise is bool(kinks)
    # The name is a canonical text form that reads back to the same activation.
    assert parse_activation(act.name) == act


def test_piecewise_values_follow_the_switches() -> None:
    relu = parse_activation("relu")
    assert relu.value(Z, [1]) == Z and relu.value(Z, [0]) == 0
    assert relu.derivative(Z, [1]) == 1 and relu.derivative(Z, [0]) == 0
    leaky = parse_activation("leaky_relu(0.1)")
    assert leaky.name == "leaky_relu(1/10)"
    assert leaky.value(Z, [0]) == Z / 10 and leaky.value(Z, [1]) == Z
    two = activation_from_spec({"pieces": ["0", "z", "2*z - 1"], "breakpoints": ["0", "1"]})
    assert [two.value(v, [int(two.piece_at(v) >= 1), int(two.piece_at(v) >= 2)])
            for v in (R(-1), R(1, 2), R(3))] == [0, R(1, 2), 5]
    assert two.piece_at(R(1)) == 2 and two.piece_at(R(-1)) == 0
    with pytest.raises(ValueError):
        two.value(Z, [1])


def test_smooth_activations_have_their_formula() -> None:
    assert parse_activation("tanh").value(Z) == sp.tanh(Z)
    assert sp.simplify(parse_activation("sigmoid").derivative(Z).rewrite(sp.exp)
                       - sp.diff(1 / (1 + sp.exp(-Z)), Z)) == 0
    assert parse_activation("z**3 - z").pieces == (Z**3 - Z,)


# -- initialisations ----------------------------------------------------------------------------

def test_seeded_init_is_reproducible_exact_and_scaled() -> None:
    a = Init(seed=5).values(6)
    assert a == Init(seed=5).values(6)
    assert a != Init(seed=6).values(6)
    assert all(isinstance(v, sp.Rational) for v in a)
    g = np.random.default_rng(5).standard_normal(6)
    assert all(abs(float(v) - w) <= 1e-11 * abs(w) for v, w in zip(a, g, strict=True))
    assert Init(seed=5, scale=R(1, 2)).values(6) == tuple(v / 2 for v in a)


def test_seeded_init_from_toml() -> None:
    text = ('[objective]\nexpr = "a*b*c"\nvars = ["a", "b", "c"]\n[init]\nseed = 11\n'
            'scale = "0.5"\n')
    first, second = load_problem(text).initial_point(), load_problem(text).initial_point()
    assert first == second == Init(seed=11, scale=R(1, 2)).values(3)


def test_explicit_init_and_with_init() -> None:
    p = load_problem(EXAMPLES[0].parent / "objective_balanced.toml")
    assert p.initial_point() == (R(3, 10), R(-1, 20))
    q = p.with_init(["1/7", 2])
    assert q.initial_point() == (R(1, 7), R(2))
    assert q.parameters == p.parameters
    with pytest.raises(ValueError, match="2 parameters"):
        p.with_init(["1"])


# -- TOML round trip ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_problem_to_toml_round_trips(path: Path) -> None:
    p = load_problem(path)
    theta = tuple(R(k - 3, 7) for k in range(p.n_parameters))  # 1/7 is not a decimal
    q = load_problem(problem_to_toml(p, theta))
    assert q.parameters == p.parameters
    assert q.initial_point() == theta
    if p.data is not None:
        assert q.data == p.data
        assert q.loss == p.loss
        assert q.network is not None and p.network is not None
        assert q.network.kind == p.network.kind
        assert q.network.activations() == p.network.activations()
    else:
        assert q.objective is not None and p.objective is not None
        assert q.objective.expr == p.objective.expr
    # Without theta the spec's own initial point is written out.
    assert load_problem(problem_to_toml(p)).initial_point() == p.initial_point()


# -- homogeneity degree of networks -------------------------------------------------------------

def _first_layer_bias_only() -> object:
    return graph_network([{"name": "h", "activation": "relu", "bias": True}, {"name": "y"}],
                         [["x1", "h"], ["x2", "h"], ["h", "y"]], inputs=["x1", "x2"],
                         outputs=["y"])


@pytest.mark.parametrize(("build", "degree"), [
    (lambda: mlp([2, 3, 1], "relu"), 2),
    (lambda: mlp([2, 3, 1], "relu", bias=True), None),
    (lambda: mlp([1, 1, 1, 1], "linear"), 3),
    (lambda: mlp([2, 2, 1], "z**2"), 3),
    (lambda: mlp([2, 2, 2, 1], "relu"), 3),
    (lambda: mlp([2, 2, 1], "tanh"), None),
    (lambda: mlp([2, 2, 1], "z**3 - z"), None),
    (lambda: mlp([2, 1]), 1),
    # The docstring's rule: a bias is allowed where the parents have degree 0 (the first layer).
    (_first_layer_bias_only, 2),
    (lambda: graph_network([{"name": "h", "activation": "relu"}, {"name": "y"}],
                           [["x1", "h"], ["x2", "h"], ["h", "y"], ["x1", "y"]],
                           inputs=["x1", "x2"], outputs=["y"]), None),
    (lambda: mean_field(1, 3, "relu"), 2),
    (lambda: diagonal_linear(2), 2),
], ids=["relu-2", "relu-bias", "linear-3", "square-act", "relu-3", "tanh", "cubic",
        "linear-1", "first-layer-bias", "skip-connection", "mean-field-relu", "diagonal"])
def test_homogeneity_degree(build: object, degree: int | None) -> None:
    net = build()  # type: ignore[operator]
    assert net.homogeneity_degree() == degree

