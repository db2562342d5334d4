"""Architectures as networkx DAGs.

A :class:`Network` is a directed acyclic graph whose nodes are *inputs* (``x1 .. xd``), *units*
and *outputs*. A unit or output ``v`` computes

    z_v = scale_v · (Σ_{u → v} w_{uv} a_u + b_v),      a_v = σ_v(z_v),

with one trainable weight per edge, an optional trainable bias, an exact constant ``scale_v``
(``1/N`` at the output of a mean-field network) and an activation σ_v (outputs are usually
linear). Inputs have ``a_u = x_u``.

Canonical parameter order, used everywhere (derivations, compiled code, init vectors, JSON):
for layered networks, layer by layer; within a layer the weights row-major ``(out, in)``, then the
layer's biases. Names are 1-based: ``W2_3_1`` is the weight from unit 1 of layer 1 to unit 3 of
layer 2 (layer 0 is the input), ``b2_3`` the bias of that unit. Graph networks order their
parameters by the (lexicographic) topological order of the target node, incoming edges in the
order given, then the node's bias; names are ``w_<target>_<source>`` and ``b_<node>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import networkx as nx
import sympy as sp

from kltools.errors import SpecError
from kltools.spec import limits
from kltools.spec.activations import Activation, parse_activation
from kltools.spec.expr import normalize_name, parse_number

__all__ = ["Network", "diagonal_linear", "graph_network", "mean_field", "mlp"]

_LINEAR = parse_activation("linear")


@dataclass(frozen=True, eq=False)
class Network:
    """A feed-forward network on a DAG (see module docstring).

    Attributes
    ----------
    graph
        Frozen ``networkx.DiGraph``. Node attributes: ``role`` (``input`` | ``unit`` |
        ``output``), ``activation`` (:class:`Activation`, units and outputs), ``bias`` (parameter
        name or ``None``), ``scale`` (exact rational). Edge attribute: ``weight`` (parameter
        name).
    inputs, outputs
        Node names in order.
    parameters
        Parameter names in canonical order.
    kind
        ``mlp`` | ``graph`` | ``mean-field`` | ``diagonal``.
    flow_scale
        The flow is θ' = −flow_scale·∇L: ``N`` for mean-field particles (the particle ODE
        w_j' = −N ∇_{w_j} L, the Wasserstein gradient flow of the particle measure), 1 otherwise.
    """

    graph: nx.DiGraph
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    parameters: tuple[str, ...]
    kind: str
    flow_scale: sp.Rational = sp.Integer(1)
    description: str = ""

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def order(self) -> list[str]:
        """Computing nodes (units and outputs) in canonical topological order."""
        return [v for v in _topo(self.graph) if self.graph.nodes[v]["role"] != "input"]

    def activations(self) -> set[str]:
        return {str(self.graph.nodes[v]["activation"]) for v in self.order()}

    def edge_weight(self, u: str, v: str, theta: dict[str, sp.Expr]) -> sp.Expr:
        """The weight on edge u → v: its parameter's symbol (``theta`` maps names to symbols),
        or the exact fixed weight of an untrained edge."""
        e = self.graph.edges[u, v]
        return theta[e["param"]] if e["param"] is not None else e["fixed"]

    def is_max(self, v: str) -> bool:
        """Whether node ``v`` is a max-pooling node (a_v = max over its weighted inputs)."""
        return self.graph.nodes[v].get("pool") == "max"

    def homogeneity_degree(self) -> int | None:
        """k such that every output is positively k-homogeneous in θ, from the graph alone.

        Inputs have degree 0; the term w_{uv}a_u has degree deg u + 1 for a trained weight (a
        shared parameter counts once per edge: each term holds it once) and deg u for a fixed
        weight; ``z_v`` has the common degree d of its terms if they agree (and, with a bias,
        d = 1); ``a_v`` has degree ``h_v · deg z_v`` when σ_v is positively ``h_v``-homogeneous,
        and a max node has the degree of its terms (max is positively 1-homogeneous). ``None``
        when some node breaks this (mixed degrees, a bias after the first layer, a
        non-homogeneous activation).
        """
        deg: dict[str, int] = {}
        for v in _topo(self.graph):
            node = self.graph.nodes[v]
            if node["role"] == "input":
                deg[v] = 0
                continue
            terms = {deg[u] + (self.graph.edges[u, v]["param"] is not None)
                     for u in self.graph.predecessors(v)}
            if node["bias"] is not None:
                terms.add(1)
            if len(terms) != 1:
                return None
            h = 1 if self.is_max(v) else node["activation"].homogeneity
            if h is None:
                return None
            deg[v] = h * terms.pop()
        out = {deg[v] for v in self.outputs}
        return out.pop() if len(out) == 1 else None


def _topo(g: nx.DiGraph) -> list[str]:
    rank = {v: i for i, v in enumerate(g.graph.get("node_order", list(g.nodes)))}
    return list(nx.lexicographical_topological_sort(g, key=lambda v: rank[v]))


def _finish(g: nx.DiGraph, inputs: list[str], outputs: list[str], kind: str,
            flow_scale: sp.Rational = sp.Integer(1), description: str = "") -> Network:
    params: list[str] = []
    for v in _topo(g):
        if g.nodes[v]["role"] == "input":
            continue
        for u in g.graph["in_order"][v]:
            p = g.edges[u, v]["param"]
            if p is not None and not (p in params and p in g.graph.get("named", ())):
                params.append(p)
        if g.nodes[v]["bias"] is not None:
            params.append(g.nodes[v]["bias"])
    if len(set(params)) != len(params):
        dup = sorted({p for p in params if params.count(p) > 1})
        raise SpecError(f"two parameters share the name {dup[0]!r}; rename the nodes so that "
                        "w_<target>_<source> names are distinct", "network")
    return Network(nx.freeze(g), tuple(inputs), tuple(outputs), tuple(params), kind,
                   flow_scale, description)


def _activation(a: Activation | str, path: str) -> Activation:
    return a if isinstance(a, Activation) else parse_activation(a, path)


def mlp(layers: Sequence[int], activation: Activation | str | Sequence[Activation | str] = "relu",
        *, bias: bool = False, output_activation: Activation | str = "linear") -> Network:
    """A fully connected chain of layers with widths ``layers`` (input first).

    ``activation`` is one activation for every hidden layer or a list with one per hidden layer;
    the output layer uses ``output_activation`` (linear by default).
    """
    if not isinstance(layers, Sequence) or isinstance(layers, str) or len(layers) < 2:
        raise SpecError("layers must be a list of at least two integers (input width first, "
                        "output width last)", "network.layers")
    limits.check("layers", len(layers), "network.layers", f"a network of {len(layers)} layers")
    for i, w in enumerate(layers):
        if not isinstance(w, int) or isinstance(w, bool):
            raise SpecError(f"a width must be an integer, got {w!r}", f"network.layers[{i}]")
        if w < 1:
            raise SpecError(f"a width must be at least 1, got {w}", f"network.layers[{i}]")
        limits.check("width", w, f"network.layers[{i}]", f"a layer of {w} units")
    # Counted before any node is made: [1000, 1000, 1] would be a million parameters.
    n_params = sum(a * b + (b if bias else 0) for a, b in pairwise(layers))
    limits.check("parameters", n_params, "network.layers",
                 f"a network of {n_params} parameters")
    hidden = len(layers) - 2
    if isinstance(activation, Activation | str):
        acts = [_activation(activation, "network.activation")] * hidden
    else:
        acts = [_activation(a, f"network.activation[{i}]") for i, a in enumerate(activation)]
        if len(acts) != hidden:
            raise SpecError(f"{len(acts)} activations for {hidden} hidden layer(s); give one per "
                            "hidden layer or a single name", "network.activation")
    out_act = _activation(output_activation, "network.output_activation")
    g = nx.DiGraph()
    g.graph["in_order"] = {}
    order: list[str] = []
    names = [[f"x{i + 1}" for i in range(layers[0])]]
    for n in names[0]:
        g.add_node(n, role="input")
        order.append(n)
    for li in range(1, len(layers)):
        last = li == len(layers) - 1
        row = [(f"y{i + 1}" if last else f"h{li}_{i + 1}") for i in range(layers[li])]
        for i, v in enumerate(row):
            g.add_node(v, role="output" if last else "unit",
                       activation=out_act if last else acts[li - 1],
                       bias=f"b{li}_{i + 1}" if bias else None, scale=sp.Integer(1))
            order.append(v)
            g.graph["in_order"][v] = list(names[-1])
            for j, u in enumerate(names[-1]):
                g.add_edge(u, v, param=f"W{li}_{i + 1}_{j + 1}")
        names.append(row)
    g.graph["node_order"] = order
    # Layer by layer: weights of the whole layer row-major, then its biases.
    net = _finish(g, names[0], names[-1], "mlp",
                  description=f"mlp {list(layers)}, {', '.join(str(a) for a in acts) or '-'}"
                              f"{', bias' if bias else ''}")
    params: list[str] = []
    for li in range(1, len(layers)):
        params += [f"W{li}_{i + 1}_{j + 1}"
                   for i in range(layers[li]) for j in range(layers[li - 1])]
        if bias:
            params += [f"b{li}_{i + 1}" for i in range(layers[li])]
    return Network(net.graph, net.inputs, net.outputs, tuple(params), "mlp", net.flow_scale,
                   net.description)


def graph_network(nodes: Sequence[dict], edges: Sequence[Sequence[str]], *,
                  inputs: Sequence[str], outputs: Sequence[str], bias: bool = False) -> Network:
    """A network on an explicit DAG (skip connections and any other feed-forward graph).

    ``nodes`` lists the computing nodes as dicts ``{name, activation?, bias?}`` (activation
    defaults to linear, bias to the ``bias`` argument); ``edges`` are ``[source, target]`` pairs
    with a trainable weight each.
    """
    g = nx.DiGraph()
    g.graph["in_order"] = {}
    order: list[str] = []
    written: dict[str, str] = {}  # NFKC form -> the name as written (inputs and nodes)

    def alias(name: str, path: str) -> None:
        # Two names Python reads as one (fullwidth h and h) would make one parameter name.
        n = normalize_name(name)
        if n in written and written[n] != name:
            raise SpecError(f"{name!r} and {written[n]!r} are the same name to Python (both "
                            f"read as {n!r}, Unicode NFKC); rename one", path)
        written[n] = name

    if not inputs:
        raise SpecError("a graph network needs at least one input", "network.inputs")
    limits.check("width", len(inputs), "network.inputs", f"{len(inputs)} inputs")
    limits.check("parameters", len(nodes) + len(edges), "network.edges",
                 f"a graph of {len(nodes)} nodes and {len(edges)} edges")
    for i, n in enumerate(inputs):
        if not isinstance(n, str) or not n.isidentifier():
            raise SpecError(f"input name {n!r} must be an identifier", f"network.inputs[{i}]")
        if n in g:
            raise SpecError(f"input {n!r} is listed twice", f"network.inputs[{i}]")
        alias(n, f"network.inputs[{i}]")
        g.add_node(n, role="input")
        order.append(n)
    node_path: dict[str, str] = {}
    for i, spec in enumerate(nodes):
        path = f"network.nodes[{i}]"
        if not isinstance(spec, dict):
            raise SpecError("each node is a table such as { name = \"h\", activation = "
                            "\"relu\" }", path)
        if "name" not in spec:
            raise SpecError("the node has no name", f"{path}.name")
        unknown = sorted(set(spec) - {"name", "activation", "bias"})
        if unknown:
            raise SpecError(f"unknown key(s) {', '.join(unknown)}; a node has name, activation, "
                            "bias", f"{path}.{unknown[0]}")
        name = spec["name"]
        if not isinstance(name, str) or not name.isidentifier():
            raise SpecError(f"node name {name!r} must be an identifier", f"{path}.name")
        if name in g:
            what = "an input" if g.nodes[name]["role"] == "input" else "another node"
            raise SpecError(f"node name {name!r} is already used by {what}; rename it",
                            f"{path}.name")
        alias(name, f"{path}.name")
        node_path[name] = path
        b = spec.get("bias", bias)
        if not isinstance(b, bool):
            raise SpecError(f"bias must be true or false, got {b!r}", f"{path}.bias")
        pool = spec.get("activation") == "max"
        if pool and b:
            raise SpecError("a max-pooling node has no bias; set bias = false", f"{path}.bias")
        g.add_node(name, role="unit", activation=_LINEAR if pool else _activation(
                       spec.get("activation", "linear"), f"{path}.activation"),
                   bias=f"b_{name}" if b else None, scale=sp.Integer(1),
                   pool="max" if pool else None)
        g.graph["in_order"][name] = []
        order.append(name)
    _add_edges(g, edges)
    _mark_outputs(g, outputs, node_path)
    g.graph["node_order"] = order
    return _finish(g, list(inputs), list(outputs), "graph",
                   description=f"graph with {len(nodes)} nodes, {len(edges)} edges")


def _add_edges(g: nx.DiGraph, edges: Sequence[Sequence[str]]) -> None:
    """Add the edges (pairs ``[source, target]`` with their own weight, or tables with a named
    or fixed weight: :func:`_edge`), refusing cycles (feed-forward only)."""
    shared: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for i, e in enumerate(edges):
        path = f"network.edges[{i}]"
        u, v, param, fixed = _edge(e, path)
        for end, n in (("source", u), ("target", v)):
            if not isinstance(n, str) or n not in g:
                raise SpecError(f"{end} {n!r} is not a declared input or node", path)
        if g.nodes[v]["role"] == "input":
            raise SpecError(f"edge into input {v!r}; inputs have no incoming edges", path)
        if g.has_edge(u, v):
            raise SpecError(f"edge {u} -> {v} is listed twice", path)
        if u == v:
            _cycle(g, u, v, path)
        if param is not None:
            shared.add(param)
        g.add_edge(u, v, param=f"w_{v}_{u}" if param is None and fixed is None else param,
                   fixed=fixed)
        g.graph["in_order"][v].append(u)
        pairs.append((u, v))
    g.graph["named"] = frozenset(shared)
    uses = [g.edges[e]["param"] for e in g.edges]
    g.graph["shared"] = frozenset(p for p in shared if uses.count(p) > 1)
    if not nx.is_directed_acyclic_graph(g):
        # One linear check for the whole graph (a check per edge is quadratic); on failure,
        # the first edge that closes a cycle, by bisection over prefixes of the edge list.
        lo, hi = 0, len(pairs) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if nx.is_directed_acyclic_graph(nx.DiGraph(pairs[:mid + 1])):
                lo = mid + 1
            else:
                hi = mid
        u, v = pairs[lo]
        _cycle(nx.DiGraph(pairs[:lo]), u, v, f"network.edges[{lo}]")


def _cycle(g: nx.DiGraph, u: str, v: str, path: str) -> None:
    """Refuse the edge u -> v, which closes a cycle with the edges of ``g``."""
    cycle = [v] if u == v else nx.shortest_path(g, v, u)
    raise SpecError(f"edge {u} -> {v} closes the cycle {' -> '.join([*cycle, v])}; "
                    "kltools handles feed-forward graphs (DAGs) only", path)


def _mark_outputs(g: nx.DiGraph, outputs: Sequence[str], node_path: dict[str, str]) -> None:
    """Mark the output nodes; refuse constant nodes and nodes that feed nothing."""
    if not outputs:
        raise SpecError("a graph network needs at least one output", "network.outputs")
    for i, o in enumerate(outputs):
        if not isinstance(o, str) or o not in node_path:
            what = "an input" if isinstance(o, str) and o in g else "not a declared node"
            raise SpecError(f"output {o!r} is {what}; outputs are names of nodes",
                            f"network.outputs[{i}]")
        if g.nodes[o]["role"] == "output":
            raise SpecError(f"output {o!r} is listed twice", f"network.outputs[{i}]")
        g.nodes[o]["role"] = "output"
    for v, path in node_path.items():
        role = g.nodes[v]["role"]
        if g.in_degree(v) == 0 and g.nodes[v]["bias"] is None:
            raise SpecError(f"node {v!r} has no incoming edge and no bias: it is constant; add "
                            "an edge into it (network.edges) or remove it", path)
        if role == "unit" and g.out_degree(v) == 0:
            raise SpecError(f"node {v!r} feeds nothing (dangling); add an edge out of it or "
                            "list it in network.outputs", path)


def _edge(e: object, path: str) -> tuple[object, object, str | None, sp.Rational | None]:
    """(source, target, parameter name or None, fixed weight or None) of one edge: a pair
    ``[u, v]`` (own parameter), or a table ``{from, to, param}`` (a named, possibly shared
    parameter) or ``{from, to, weight}`` (a fixed, untrained weight)."""
    if isinstance(e, dict):
        unknown = sorted(set(e) - {"from", "to", "param", "weight"})
        if unknown or "from" not in e or "to" not in e or ("param" in e and "weight" in e):
            raise SpecError("an edge table is { from = \"u\", to = \"v\" } with at most one of "
                            "param = \"name\" (trained, shared by name) or weight = \"1\" "
                            "(fixed)", f"{path}.{unknown[0]}" if unknown else path)
        param = e.get("param")
        if param is not None and (not isinstance(param, str) or not param.isidentifier()
                                  or param.startswith("_") or param.startswith("chi")):
            raise SpecError(f"param {param!r} must be an identifier not starting with _ or chi",
                            f"{path}.param")
        fixed = parse_number(e["weight"], f"{path}.weight") if "weight" in e else None
        return e["from"], e["to"], param, fixed
    if not isinstance(e, Sequence) or isinstance(e, str) or len(e) != 2:
        raise SpecError("an edge is a pair [source, target] or a table { from, to, param } / "
                        "{ from, to, weight }", path)
    return e[0], e[1], None, None


def mean_field(n_inputs: int, particles: int, activation: Activation | str = "tanh", *,
               bias: bool = False) -> Network:
    """Mean-field two-layer network of ``particles`` = N units.

    f(θ; x) = (1/N) Σ_j c_j σ(a_j · x + b_j). Particle j has parameters ``a{j}_{k}``, (``b{j}``)
    and ``c{j}``, listed particle by particle. The flow is the particle ODE
    w_j' = −N ∇_{w_j} L (``flow_scale = N``), the Wasserstein gradient flow of the empirical
    measure μ = (1/N) Σ δ_{w_j}. The L2 term of a mean-field spec is (λ/2)∫‖w‖²dμ =
    (λ/2N)‖θ‖² (applied by the loss, see :class:`kltools.spec.problem.Problem`).
    """
    if not isinstance(particles, int) or isinstance(particles, bool) or particles < 1:
        raise SpecError(f"particles must be a positive integer, got {particles!r}",
                        "network.particles")
    limits.check("width", particles, "network.particles", f"{particles} particles")
    n_params = particles * (n_inputs + 1 + (1 if bias else 0))
    limits.check("parameters", n_params, "network.particles",
                 f"{particles} particles of {n_params // particles} parameters each")
    if n_inputs < 1:
        raise SpecError("mean-field networks need at least one input column", "data.x")
    act = _activation(activation, "network.activation")
    g = nx.DiGraph()
    g.graph["in_order"] = {}
    xs = [f"x{k + 1}" for k in range(n_inputs)]
    order = list(xs)
    for x in xs:
        g.add_node(x, role="input")
    g.add_node("y1", role="output", activation=_LINEAR, bias=None,
               scale=sp.Rational(1, particles))
    g.graph["in_order"]["y1"] = []
    params: list[str] = []
    for j in range(1, particles + 1):
        u = f"p{j}"
        g.add_node(u, role="unit", activation=act, bias=f"b{j}" if bias else None,
                   scale=sp.Integer(1))
        order.append(u)
        g.graph["in_order"][u] = list(xs)
        for k, x in enumerate(xs):
            g.add_edge(x, u, param=f"a{j}_{k + 1}")
            params.append(f"a{j}_{k + 1}")
        if bias:
            params.append(f"b{j}")
        g.add_edge(u, "y1", param=f"c{j}")
        g.graph["in_order"]["y1"].append(u)
        params.append(f"c{j}")
    order.append("y1")
    g.graph["node_order"] = order
    return Network(nx.freeze(g), tuple(xs), ("y1",), tuple(params), "mean-field",
                   sp.Integer(particles), f"mean-field, N = {particles}, {act}")


def diagonal_linear(n_inputs: int, depth: int = 2) -> Network:
    """Diagonal linear network f(θ; x) = Σ_k (Π_l u{l}_k) x_k of the given depth.

    Parameters ``u1_k, ..., u{depth}_k`` for each coordinate k, listed layer by layer.
    """
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise SpecError(f"depth must be a positive integer, got {depth!r}", "network.depth")
    limits.check("layers", depth, "network.depth", f"a diagonal network of depth {depth}")
    limits.check("parameters", depth * n_inputs, "network.depth",
                 f"a diagonal network of {depth * n_inputs} parameters")
    g = nx.DiGraph()
    g.graph["in_order"] = {}
    xs = [f"x{k + 1}" for k in range(n_inputs)]
    order = list(xs)
    for x in xs:
        g.add_node(x, role="input")
    prev = list(xs)
    params: list[str] = []
    for layer in range(1, depth):
        row = []
        for k in range(n_inputs):
            v = f"h{layer}_{k + 1}"
            g.add_node(v, role="unit", activation=_LINEAR, bias=None, scale=sp.Integer(1))
            g.add_edge(prev[k], v, param=f"u{layer}_{k + 1}")
            g.graph["in_order"][v] = [prev[k]]
            params.append(f"u{layer}_{k + 1}")
            order.append(v)
            row.append(v)
        prev = row
    g.add_node("y1", role="output", activation=_LINEAR, bias=None, scale=sp.Integer(1))
    g.graph["in_order"]["y1"] = list(prev)
    for k, u in enumerate(prev):
        g.add_edge(u, "y1", param=f"u{depth}_{k + 1}")
        params.append(f"u{depth}_{k + 1}")
    order.append("y1")
    g.graph["node_order"] = order
    return Network(nx.freeze(g), tuple(xs), ("y1",), tuple(params), "diagonal",
                   description=f"diagonal linear, depth {depth}")
