"""Reading and writing problem specs as TOML.

Network form::

    [network]
    kind = "mlp"                  # mlp (default) | graph | mean-field | diagonal
    layers = [2, 3, 1]            # mlp: widths, input first
    activation = "relu"           # or a list, one per hidden layer, or {pieces, breakpoints}
    bias = false
    [loss]
    kind = "square"               # square | logistic | exponential
    l2 = "0"
    [data]
    x = [["2", "1"], ["0", "2"]]  # strings stay exact: "0.1" is 1/10
    y = ["1", "-1"]
    [init]
    theta = ["0.3", "-0.05"]      # or: seed = 0, scale = "1"

Objective form: ``[objective] expr = "(a*b - 3)**2/2", vars = ["a", "b"]`` and ``[init]``.

Every error is a :class:`~kltools.errors.SpecError` whose path names the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kltools.errors import SpecError
from kltools.spec import limits
from kltools.spec.activations import activation_from_spec
from kltools.spec.distribution import Distribution
from kltools.spec.expr import parse_number
from kltools.spec.network import diagonal_linear, graph_network, mean_field, mlp
from kltools.spec.problem import Data, Init, Loss, Objective, Problem

__all__ = ["load_problem", "problem_from_dict", "problem_to_toml"]

_TOP = {"network", "loss", "data", "init", "objective", "name"}
_NET_KEYS = {
    "mlp": {"kind", "layers", "activation", "bias", "output_activation"},
    "graph": {"kind", "inputs", "nodes", "edges", "outputs", "bias"},
    "mean-field": {"kind", "particles", "activation", "bias"},
    "diagonal": {"kind", "depth"},
}


def _table(d: Mapping[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    v = d.get(key)
    if v is None:
        if required:
            raise SpecError(f"missing [{key}] table", key)
        return {}
    if not isinstance(v, dict):
        raise SpecError(f"{key} must be a table ([{key}])", key)
    return v


def _check_keys(t: Mapping[str, Any], allowed: set[str], path: str, where: str = "") -> None:
    unknown = sorted(set(t) - allowed)
    if unknown:
        raise SpecError(f"unknown key(s) {', '.join(unknown)}{where}; allowed: "
                        f"{', '.join(sorted(allowed))}",
                        f"{path}.{unknown[0]}" if path else unknown[0])


def _bool(t: Mapping[str, Any], key: str, path: str, default: bool = False) -> bool:
    v = t.get(key, default)
    if not isinstance(v, bool):
        raise SpecError(f"{key} must be true or false, got {v!r}", f"{path}.{key}")
    return v


def _init(d: Mapping[str, Any]) -> Init | None:
    t = _table(d, "init", required=False)
    if not t:
        return None
    _check_keys(t, {"theta", "seed", "scale"}, "init")
    if "theta" in t:
        for other in ("seed", "scale"):
            if other in t:
                raise SpecError(f"give either theta or seed (with scale), not both; remove "
                                f"{other} or theta", f"init.{other}")
        th = t["theta"]
        if not isinstance(th, list) or not th:
            raise SpecError("theta must be a non-empty list of numbers", "init.theta")
        limits.check("parameters", len(th), "init.theta", f"{len(th)} initial values")
        return Init(theta=tuple(parse_number(v, f"init.theta[{i}]") for i, v in enumerate(th)))
    seed = t.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer, got {seed!r}", "init.seed")
    scale = parse_number(t.get("scale", 1), "init.scale")
    if scale <= 0:
        raise SpecError("scale must be positive", "init.scale")
    return Init(seed=seed, scale=scale)


def _data(data_t: dict[str, Any]) -> Data | Distribution:
    """Samples (``x``, ``y``) or a distribution (``distribution``, ``dim``, ``teacher``)."""
    if "distribution" in data_t:
        return Distribution.from_table(data_t)
    _check_keys(data_t, {"x", "y", "distribution"}, "data")
    for k in ("x", "y"):
        if k not in data_t:
            raise SpecError(f"missing {k} ({'samples' if k == 'x' else 'targets'}, one "
                            "per sample; or give a distribution)", f"data.{k}")
    return Data.from_lists(data_t["x"], data_t["y"])


def _width(data: Data | Distribution) -> int:
    return data.dim if isinstance(data, Distribution) else len(data.x[0])


def _objective(d: Mapping[str, Any]) -> Objective:
    t = _table(d, "objective")
    _check_keys(t, {"expr", "vars"}, "objective")
    if "expr" not in t:
        raise SpecError("missing expr (the objective as a string, e.g. "
                        "'(a*b - 3)**2/2')", "objective.expr")
    if "vars" not in t:
        raise SpecError("missing vars (the list of variable names, in order)",
                        "objective.vars")
    return Objective.parse(t["expr"], t["vars"])


def problem_from_dict(d: Mapping[str, Any], name: str = "") -> Problem:
    """Build and validate a :class:`Problem` from a parsed TOML document."""
    if not isinstance(d, Mapping):
        raise SpecError("a spec is a TOML table")
    _check_keys(d, _TOP, "")
    init = _init(d)
    name = d.get("name", name)
    if not isinstance(name, str):
        raise SpecError(f"name must be a string, got {name!r}", "name")
    if "objective" not in d and "network" not in d:
        raise SpecError("missing [network] table: a spec describes either a network ([network], "
                        "[data] and optionally [loss]) or a raw [objective]", "network")
    if "objective" in d:
        for other in ("network", "loss", "data"):
            if other in d:
                raise SpecError(f"an [objective] spec has no [{other}] table; remove it (a "
                                "spec is either a network or a raw objective)", other)
        obj = _objective(d)
        p = Problem(tuple(str(v) for v in obj.variables), objective=obj, init=init, name=name,
                    source=dict(d))
    else:
        net_t = _table(d, "network")
        kind = net_t.get("kind", "mlp")
        if not isinstance(kind, str) or kind not in _NET_KEYS:
            raise SpecError(f"unknown network kind {kind!r}; use one of "
                            f"{', '.join(_NET_KEYS)}", "network.kind")
        _check_keys(net_t, _NET_KEYS[kind], "network", f" for a network of kind {kind!r}")
        data = _data(_table(d, "data"))
        loss_t = _table(d, "loss", required=False)
        _check_keys(loss_t, {"kind", "l2"}, "loss")
        kind_l = loss_t.get("kind", "square")
        if not isinstance(kind_l, str):
            raise SpecError(f"kind must be a string such as 'square', got {kind_l!r}",
                            "loss.kind")
        loss = Loss(kind_l, parse_number(loss_t.get("l2", 0), "loss.l2"))
        bias = _bool(net_t, "bias", "network")
        if kind == "mlp":
            if "layers" not in net_t:
                raise SpecError("missing layers (widths, input first)", "network.layers")
            act = net_t.get("activation", "relu")
            acts: Any
            if isinstance(act, list):
                limits.check("layers", len(act), "network.activation",
                             f"{len(act)} activations")
                acts = [activation_from_spec(a, f"network.activation[{i}]")
                        for i, a in enumerate(act)]
            else:
                acts = activation_from_spec(act, "network.activation")
            out_act = activation_from_spec(net_t.get("output_activation", "linear"),
                                           "network.output_activation")
            net = mlp(net_t["layers"], acts, bias=bias, output_activation=out_act)
        elif kind == "graph":
            for k in ("inputs", "nodes", "edges", "outputs"):
                if not isinstance(net_t.get(k), list):
                    raise SpecError(f"a graph network needs {k} as a list", f"network.{k}")
            net = graph_network(net_t["nodes"], net_t["edges"], inputs=net_t["inputs"],
                                outputs=net_t["outputs"], bias=bias)
        elif kind == "mean-field":
            if "particles" not in net_t:
                raise SpecError("missing particles (the number N of units)",
                                "network.particles")
            net = mean_field(_width(data), net_t["particles"],
                             activation_from_spec(net_t.get("activation", "tanh"),
                                                  "network.activation"), bias=bias)
        else:
            net = diagonal_linear(_width(data), net_t.get("depth", 2))
        p = Problem(net.parameters, network=net, loss=loss, data=data, init=init, name=name,
                    source=dict(d))
    if init is not None:
        init.values(p.n_parameters)
    return p


def load_problem(source: str | Path) -> Problem:
    """Load a spec from a path to a ``.toml`` file, or from TOML text."""
    text: str
    name = ""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                    and source.endswith(".toml")):
        path = Path(source)
        if not path.is_file():
            raise SpecError(f"no such spec file: {path}; check the path")
        try:
            size = path.stat().st_size
            limits.check("spec_bytes", size, "", f"the spec file {path} ({size} bytes)")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot read the spec file {path}: {exc}") from None
        name = path.stem
    else:
        text = str(source)
        limits.check("spec_bytes", len(text), "", f"a spec of {len(text)} characters")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML: {exc}") from None
    except ValueError as exc:  # an integer over Python's int-string limit (4300 digits)
        raise SpecError(f"not usable TOML: {exc}; write huge numbers as strings within the "
                        "limit number_bits") from None
    return problem_from_dict(doc, name)


def problem_to_toml(problem: Problem, theta: Any = None) -> str:
    """The spec as TOML text, with ``[init] theta`` set to ``theta`` (exact strings) if given.

    The result loads back into an equal problem: this is how counter-examples are printed.
    """
    import tomli_w

    doc = {k: v for k, v in problem.source.items() if k != "init"}
    if not doc:
        raise SpecError("this problem was not built from a spec document; build it with "
                        "problem_from_dict to export it")
    values = theta if theta is not None else (problem.init.values(problem.n_parameters)
                                              if problem.init else None)
    if values is not None:
        doc["init"] = {"theta": [str(v) for v in values]}
    return tomli_w.dumps(doc)
