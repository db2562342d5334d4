"""Malformed specs: each must raise a SpecError naming the exact field and saying what is wrong.

Each case is TOML text, the expected ``SpecError.path`` (exactly) and a word the message must
contain. The specs are built from small valid specs with one thing broken, so every case tests
one validation rule; ``test_the_base_specs_are_valid`` checks the unbroken versions load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kltools.errors import SpecError
from kltools.spec import load_problem

# -- valid base specs, broken one field at a time -------------------------------------------------

_MLP = """\
{top}
[network]
layers = {layers}
activation = {activation}
{net}
[loss]
kind = {kind}
l2 = {l2}
{loss}
[data]
x = {x}
y = {y}
{data}
{init}
"""


def mlp(*, layers: str = "[2, 3, 1]", activation: str = '"relu"', kind: str = '"square"',
        l2: str = '"0"', x: str = '[["2", "1"], ["0", "2"]]', y: str = '["1", "-1"]',
        net: str = "", loss: str = "", data: str = "", init: str = "", top: str = "") -> str:
    return _MLP.format(layers=layers, activation=activation, kind=kind, l2=l2, x=x, y=y,
                       net=net, loss=loss, data=data, init=init, top=top)


def graph(*, inputs: str = '["x1", "x2"]',
          nodes: str = '[{ name = "h", activation = "relu" }, { name = "y" }]',
          edges: str = '[["x1", "h"], ["x2", "h"], ["h", "y"], ["x1", "y"]]',
          outputs: str | None = '["y"]', net: str = "",
          x: str = '[["1", "0"], ["0", "1"]]', y: str = '["1", "0.5"]') -> str:
    out = f"outputs = {outputs}\n" if outputs is not None else ""
    return (f'[network]\nkind = "graph"\ninputs = {inputs}\nnodes = {nodes}\nedges = {edges}\n'
            f"{out}{net}\n[data]\nx = {x}\ny = {y}\n")


def mean_field(*, particles: str = "3", net: str = "", y: str = '["1", "0"]') -> str:
    return (f'[network]\nkind = "mean-field"\nparticles = {particles}\n{net}\n'
            f'[data]\nx = [["1"], ["2"]]\ny = {y}\n')


def objective(expr: str = "(a*b - 3)**2/2", variables: str = '["a", "b"]', *, extra: str = "",
              init: str = "") -> str:
    return f"[objective]\nexpr = {expr!r}\nvars = {variables}\n{extra}\n{init}\n"


def test_the_base_specs_are_valid() -> None:
    assert load_problem(mlp()).n_parameters == 9
    assert load_problem(graph()).parameters == ("w_h_x1", "w_h_x2", "w_y_h", "w_y_x1")
    assert load_problem(mean_field()).n_parameters == 6
    assert load_problem(objective()).parameters == ("a", "b")


_PW = '{{ pieces = {p}, breakpoints = {b} }}'


def pw(pieces: str, breakpoints: str) -> str:
    return _PW.format(p=pieces, b=breakpoints)


C = pytest.param
CASES = [
    # -- activations -----------------------------------------------------------------------------
    C(mlp(activation='"swish"'), "network.activation", "unknown activation", id="act-unknown"),
    C(mlp(layers="[2, 3, 3, 1]", activation='["relu", "gelu"]'), "network.activation[1]",
      "unknown activation", id="act-unknown-in-list"),
    C(mlp(activation='["relu", "relu"]'), "network.activation", "hidden layer",
      id="act-list-wrong-length"),
    C(mlp(activation="3"), "network.activation", "name", id="act-number"),
    C(mlp(activation='"leaky_relu(abc)"'), "network.activation", "slope", id="leaky-slope-text"),
    C(mlp(activation='"leaky_relu(1)"'), "network.activation", "linear", id="leaky-slope-one"),
    C(mlp(activation='"exp(z)"'), "network.activation", "polynomial", id="act-not-polynomial"),
    C(mlp(activation='"z + w"'), "network.activation", "'w'", id="act-foreign-symbol"),
    C(mlp(activation=pw('["0", "z"]', '["0", "1"]')), "network.activation.breakpoints",
      "breakpoint", id="pw-count-mismatch"),
    C(mlp(activation=pw('["0", "z + 1"]', '["0"]')), "network.activation.pieces[1]",
      "continuous", id="pw-discontinuous"),
    C(mlp(activation=pw('["0", "z", "2*z - 1"]', '["1", "0"]')),
      "network.activation.breakpoints[1]", "increasing", id="pw-decreasing-breakpoints"),
    C(mlp(activation=pw('["0", "z", "2*z"]', '["0", "0"]')),
      "network.activation.breakpoints[1]", "increasing", id="pw-repeated-breakpoint"),
    C(mlp(activation=pw('["0", "exp(z) - 1"]', '["0"]')), "network.activation.pieces[1]",
      "polynomial", id="pw-piece-not-polynomial"),
    C(mlp(activation=pw('["y", "z"]', '["0"]')), "network.activation.pieces[0]",
      "unknown symbol", id="pw-piece-foreign-symbol"),
    C(mlp(activation=pw('["z", "z"]', '["0"]')), "network.activation.pieces[1]", "no kink",
      id="pw-equal-pieces"),
    C(mlp(activation=pw("[]", "[]")), "network.activation.pieces", "non-empty",
      id="pw-no-pieces"),
    C(mlp(activation=pw('["0", "z"]', '["a"]')), "network.activation.breakpoints[0]",
      "not a number", id="pw-breakpoint-text"),
    C(mlp(activation='{ pieces = ["0", "z"], knots = ["0"] }'), "network.activation.knots",
      "unknown key", id="pw-unknown-key"),
    C(mlp(activation="[" + pw('["0", "z + 1"]', '["0"]') + "]"),
      "network.activation[0].pieces[1]", "continuous", id="pw-in-list-discontinuous"),
    C(mlp(net='output_activation = "gelu"'), "network.output_activation", "unknown activation",
      id="output-act-unknown"),
    C(graph(nodes='[{ name = "h", activation = "softmax" }, { name = "y" }]'),
      "network.nodes[0].activation", "unknown activation", id="graph-node-act-unknown"),
    # -- data ------------------------------------------------------------------------------------
    C(mlp(x='[["2", "1"], ["0"]]'), "data.x[1]", "ragged", id="data-ragged"),
    C(mlp(x='[["2", "1"], ["abc", "2"]]'), "data.x[1][0]", "not a number", id="data-text"),
    C(mlp(x='[["2", true], ["0", "2"]]'), "data.x[0][1]", "boolean", id="data-bool"),
    C(mlp(x='[["2", ["1"]], ["0", "2"]]'), "data.x[0][1]", "list", id="data-nested-list"),
    C(mlp(x='[[{ a = 1 }, "1"], ["0", "2"]]'), "data.x[0][0]", "dict", id="data-table"),
    C(mlp(x="[]", y="[]"), "data.x", "non-empty", id="data-empty"),
    C(mlp(x="[[], []]"), "data.x[0]", "empty", id="data-empty-sample"),
    C(mlp(x='"abc"'), "data.x", "list", id="data-x-string"),
    C(mlp(x='[["2", "1"], [nan, "2"]]'), "data.x[1][0]", "finite", id="data-nan"),
    C(mlp(x='[["2", "1/0"], ["0", "2"]]'), "data.x[0][1]", "zero", id="data-div-zero"),
    C(mlp(y='["1", "-1", "0"]'), "data.y", "3 targets for 2 samples", id="data-y-too-long"),
    C(mlp(y='["1"]'), "data.y", "1 target for 2 samples", id="data-y-too-short"),
    C(mlp(y='["1", "minus one"]'), "data.y[1]", "not a number", id="data-y-text"),
    C(mlp(y='[["1"], ["x"]]'), "data.y[1][0]", "not a number", id="data-y-nested-text"),
    C(mlp(y='[["1"], ["1", "2"]]'), "data.y[1]", "ragged", id="data-y-ragged"),
    C(mlp().replace('x = [["2", "1"], ["0", "2"]]', ""), "data.x", "missing",
      id="data-x-missing"),
    # -- widths against data -----------------------------------------------------------------------
    C(mlp(layers="[3, 3, 1]"), "network.layers[0]", "input", id="width-input"),
    C(mlp(layers="[2, 3, 2]"), "network.layers[2]", "output", id="width-output"),
    C(mlp(layers="[2, 3, 3, 2]"), "network.layers[3]", "output", id="width-output-deep"),
    C(graph(inputs='["x1", "x2", "x3"]'), "network.inputs", "input", id="graph-width-input"),
    C(mean_field(y='[["1", "2"], ["0", "1"]]'), "data.y[0]", "output",
      id="mean-field-two-outputs"),
    C(mlp(layers="[2]"), "network.layers", "at least two", id="layers-too-short"),
    C(mlp(layers="[2, 0, 1]"), "network.layers[1]", "at least 1", id="layers-zero-width"),
    C(mlp(layers='[2, "3", 1]'), "network.layers[1]", "integer", id="layers-text-width"),
    C(mlp().replace("layers = [2, 3, 1]", ""), "network.layers", "missing", id="layers-missing"),
    # -- losses ------------------------------------------------------------------------------------
    C(mlp(kind='"logistic"', y='["1", "0.5"]'), "data.y[1]", "+1 or -1",
      id="margin-label-not-pm1"),
    C(mlp(kind='"exponential"', y='["1", "0"]'), "data.y[1]", "+1 or -1",
      id="margin-label-zero"),
    C(mlp(kind='"logistic"', layers="[2, 2]", y='[["1", "1"], ["-1", "-1"]]'), "loss.kind",
      "single output", id="margin-two-outputs"),
    C(mlp(l2='"-0.1"'), "loss.l2", ">= 0", id="l2-negative"),
    C(mlp(l2='"abc"'), "loss.l2", "not a number", id="l2-text"),
    C(mlp(kind='"hinge"'), "loss.kind", "unknown loss", id="loss-kind-unknown"),
    C(mlp(kind="1"), "loss.kind", "string", id="loss-kind-number"),
    # -- unknown keys at every level ---------------------------------------------------------------
    C(mlp(top="netwrk = 1"), "netwrk", "unknown key", id="key-top"),
    C(mlp(net="widths = [2]"), "network.widths", "unknown key", id="key-network-mlp"),
    C(graph(net="layers = [2, 1]"), "network.layers", "graph", id="key-network-graph"),
    C(mean_field(net="layers = [1, 1]"), "network.layers", "mean-field",
      id="key-network-mean-field"),
    C('[network]\nkind = "diagonal"\nactivation = "relu"\n[data]\nx = [["1"]]\ny = ["1"]\n',
      "network.activation", "unknown key", id="key-network-diagonal"),
    C(mlp(loss='lambda = "0.1"'), "loss.lambda", "unknown key", id="key-loss"),
    C(mlp(data='z = ["1"]'), "data.z", "unknown key", id="key-data"),
    C(mlp(init="[init]\nsed = 3"), "init.sed", "unknown key", id="key-init"),
    C(objective(extra='variables = ["a"]'), "objective.variables", "unknown key",
      id="key-objective"),
    C(graph(nodes='[{ name = "h", act = "relu" }, { name = "y" }]'), "network.nodes[0].act",
      "unknown key", id="key-graph-node"),
    # -- network kinds and flags -------------------------------------------------------------------
    C(mlp(net='kind = "resnet"'), "network.kind", "unknown network kind", id="kind-unknown"),
    C(mlp(net="kind = [1]"), "network.kind", "unknown network kind", id="kind-list"),
    C(mlp(net='bias = "yes"'), "network.bias", "true or false", id="bias-text"),
    C('[network]\nkind = "diagonal"\ndepth = 0\n[data]\nx = [["1"]]\ny = ["1"]\n',
      "network.depth", "positive integer", id="diagonal-depth-zero"),
    # -- graph networks ----------------------------------------------------------------------------
    C(graph(edges='[["x1", "h"], ["x2", "h"], ["h", "y"], ["x1", "y"], ["y", "h"]]'),
      "network.edges[4]", "cycle", id="graph-cycle"),
    C(graph(edges='[["x1", "h"], ["h", "h"], ["h", "y"]]'), "network.edges[1]", "cycle",
      id="graph-self-loop"),
    C(graph(edges='[["x1", "h"], ["x3", "h"], ["h", "y"]]'), "network.edges[1]",
      "not a declared", id="graph-edge-unknown-source"),
    C(graph(edges='[["x1", "h"], ["h", "out"]]'), "network.edges[1]", "not a declared",
      id="graph-edge-unknown-target"),
    C(graph(edges='[["x1", "h"], ["x2", "h"], ["h", "y"], ["x2", "h"]]'), "network.edges[3]",
      "twice", id="graph-duplicate-edge"),
    C(graph(edges='[["x1", "h"], ["h", "y"], ["h", "x2"]]'), "network.edges[2]", "into input",
      id="graph-edge-into-input"),
    C(graph(edges='[["x1", "h"], ["x2", "h"], ["h", "y"], ["x1"]]'), "network.edges[3]", "pair",
      id="graph-edge-not-pair"),
    C(graph(nodes='[{ name = "h" }, { name = "g" }, { name = "y" }]',
            edges='[["x1", "h"], ["x2", "g"], ["h", "y"]]'), "network.nodes[1]",
      "feeds nothing", id="graph-dangling-unit"),
    C(graph(nodes='[{ name = "h" }, { name = "y" }]', edges='[["x1", "y"], ["h", "y"]]'),
      "network.nodes[0]", "no incoming edge", id="graph-constant-unit"),
    C(graph(outputs="[]"), "network.outputs", "at least one output", id="graph-outputs-empty"),
    C(graph(outputs=None), "network.outputs", "list", id="graph-outputs-missing"),
    C(graph(outputs='["z"]'), "network.outputs[0]", "not a declared node",
      id="graph-output-unknown"),
    C(graph(outputs='["x1"]'), "network.outputs[0]", "input", id="graph-output-is-input"),
    C(graph(outputs='["y", "y"]'), "network.outputs[1]", "twice", id="graph-output-twice"),
    C(graph(inputs='["x1", "x1"]'), "network.inputs[1]", "twice", id="graph-input-twice"),
    C(graph(nodes='[{ name = "x1" }, { name = "y" }]'), "network.nodes[0].name", "input",
      id="graph-node-named-like-input"),
    C(graph(nodes='[{ activation = "relu" }, { name = "y" }]'), "network.nodes[0].name",
      "no name", id="graph-node-without-name"),
    C(graph(nodes='[{ name = "h", bias = "yes" }, { name = "y" }]'), "network.nodes[0].bias",
      "true or false", id="graph-node-bias-text"),
    # -- mean-field --------------------------------------------------------------------------------
    C(mean_field(particles="0"), "network.particles", "positive integer", id="particles-zero"),
    C(mean_field(particles='"three"'), "network.particles", "positive integer",
      id="particles-text"),
    C(mean_field(particles="true"), "network.particles", "positive integer",
      id="particles-bool"),
    C(mean_field().replace("particles = 3", ""), "network.particles", "missing",
      id="particles-missing"),
    # -- objectives --------------------------------------------------------------------------------
    C(objective("(a*b - c)**2"), "objective.expr", "unknown symbol 'c'", id="obj-unknown-symbol"),
    C(objective("a.__class__"), "objective.expr", "attribute", id="obj-attribute"),
    C(objective("a[0] + b"), "objective.expr", "subscript", id="obj-subscript"),
    C(objective("(lambda: a)()"), "objective.expr", "may be called", id="obj-lambda-call"),
    C(objective("lambda: a"), "objective.expr", "lambda", id="obj-lambda"),
    C(objective("Max(a, b, evaluate=False)"), "objective.expr", "keyword", id="obj-keyword-arg"),
    C(objective('eval("a")'), "objective.expr", "only these functions", id="obj-eval"),
    C(objective('__import__("os")'), "objective.expr", "only these functions",
      id="obj-import"),
    C(objective("[a for a in (1, 2)]"), "objective.expr", "comprehension",
      id="obj-comprehension"),
    C(objective("a + 'b'"), "objective.expr", "only numbers", id="obj-string-constant"),
    C(objective("a**b"), "objective.expr", "powers must be numbers", id="obj-symbolic-power"),
    C(objective("9**9**9 + a"), "objective.expr", "too large", id="obj-huge-power"),
    C(objective("a/0 + b"), "objective.expr", "division by zero", id="obj-division-by-zero"),
    C(objective("a + 0**-1"), "objective.expr", "finite", id="obj-zero-negative-power"),
    C(objective("a + log(0)"), "objective.expr", "finite", id="obj-log-zero"),
    C(objective("a + sqrt(-1)"), "objective.expr", "real", id="obj-imaginary"),
    C(objective("(a*b - 3"), "objective.expr", "syntax error", id="obj-syntax-error"),
    C(objective("  "), "objective.expr", "empty", id="obj-empty"),
    C(objective("a % 2 + b"), "objective.expr", "not allowed", id="obj-modulo"),
    C(objective("a^2 + b"), "objective.expr", "use ** for powers", id="obj-caret-power"),
    C(objective("a < b"), "objective.expr", "comparison", id="obj-comparison"),
    C(objective("relu(a, b)"), "objective.expr", "takes 1", id="obj-wrong-arity"),
    C(objective("a", '["a", "b", "a"]'), "objective.vars[2]", "twice", id="obj-duplicate-var"),
    C(objective("exp(a)", '["a", "exp"]'), "objective.vars[1]", "function",
      id="obj-var-named-exp"),
    C(objective("chi1", '["chi1"]'), "objective.vars[0]", "reserved", id="obj-var-reserved"),
    C(objective("a", '["a", "lambda"]'), "objective.vars[1]", "keyword", id="obj-var-keyword"),
    C(objective("a", '["a b"]'), "objective.vars[0]", "variable name", id="obj-var-not-name"),
    C(objective("a", "[]"), "objective.vars", "non-empty", id="obj-vars-empty"),
    C('[objective]\nexpr = "a"\n', "objective.vars", "missing", id="obj-vars-missing"),
    C('[objective]\nvars = ["a"]\n', "objective.expr", "missing", id="obj-expr-missing"),
    # -- initialisations ---------------------------------------------------------------------------
    C(mlp(init='[init]\ntheta = ["0.1", "0.2"]'), "init.theta", "9 parameters",
      id="init-wrong-length"),
    C(objective(init='[init]\ntheta = ["1", "2", "3"]'), "init.theta", "2 parameters",
      id="init-wrong-length-objective"),
    C(objective(init='[init]\ntheta = ["1", "2"]\nseed = 1'), "init.seed", "either",
      id="init-theta-and-seed"),
    C(objective(init='[init]\ntheta = ["1", "2"]\nscale = "2"'), "init.scale", "either",
      id="init-theta-and-scale"),
    C(objective(init="[init]\nseed = -1"), "init.seed", "non-negative", id="init-seed-negative"),
    C(objective(init="[init]\nseed = 1.5"), "init.seed", "integer", id="init-seed-float"),
    C(objective(init='[init]\nseed = 1\nscale = "0"'), "init.scale", "positive",
      id="init-scale-zero"),
    C(objective("a*b*c", '["a", "b", "c"]', init='[init]\ntheta = ["1", "2", "x"]'),
      "init.theta[2]", "not a number", id="init-theta-text"),
    C(objective(init="[init]\ntheta = []"), "init.theta", "non-empty", id="init-theta-empty"),
    # -- the document as a whole -------------------------------------------------------------------
    C(mlp() + objective(), "network", "remove", id="network-and-objective"),
    C(objective() + '[data]\nx = [["1"]]\ny = ["1"]\n', "data", "remove",
      id="objective-with-data"),
    C('name = "nothing"\n', "network", "objective", id="neither-network-nor-objective"),
    C('network = 3\n[data]\nx = [["1"]]\ny = ["1"]\n', "network", "table",
      id="network-not-a-table"),
    C("name = 3\n" + objective(), "name", "string", id="name-not-a-string"),
    C('[network]\nlayers = [2, 1\n', "", "not valid TOML", id="invalid-toml"),
    C('[objective]\nexpr = "a"\nexpr = "b"\nvars = ["a"]\n', "", "not valid TOML",
      id="invalid-toml-duplicate-key"),
]


@pytest.mark.parametrize(("text", "path", "word"), CASES)
def test_malformed_spec_names_the_field(text: str, path: str, word: str) -> None:
    with pytest.raises(SpecError) as info:
        load_problem(text)
    err = info.value
    assert err.path == path, f"path {err.path!r}, message {err.message!r}"
    assert word.lower() in err.message.lower(), err.message
    # str(err) is what the CLI prints: the path first, then the message, on one line.
    assert str(err) == (f"{path}: {err.message}" if path else err.message)
    assert "\n" not in str(err)


def test_there_are_enough_cases() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    for source in (missing, str(missing)):
        with pytest.raises(SpecError) as info:
            load_problem(source)
        assert info.value.path == ""
        assert "no such spec file" in info.value.message
        assert "nope.toml" in info.value.message


def test_unreadable_file_is_a_spec_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(SpecError) as info:
        load_problem(bad)
    assert "cannot read" in info.value.message


def test_a_file_with_a_malformed_spec_reports_the_field(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(mlp(activation='"swish"'), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_problem(spec)
    assert info.value.path == "network.activation"
