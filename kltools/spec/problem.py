"""The immutable description of one gradient-flow problem.

A :class:`Problem` is either a *network* problem (a :class:`~kltools.spec.network.Network`, a
:class:`Loss` and :class:`Data`) or an *objective* problem (an :class:`Objective`, an expression in
named variables). Both carry the canonical parameter order and, optionally, an :class:`Init`.

Loss convention: L(θ) = Σ_i w_i ℓ(f(θ; x_i), y_i) + (λ/2)‖θ‖², with w_i = 1/n for the
square loss ℓ(z, y) = ½‖z − y‖² and w_i = 1 for the margin losses (exponential e^{−yz}, logistic
log(1 + e^{−yz}), scalar outputs only). The softmax cross-entropy on k ≥ 2 outputs with class
labels y ∈ {0, …, k−1} has w_i = 1/n and
ℓ(z, y) = −log softmax(z)_y = log(1 + Σ_{j≠y} e^{z_j − z_y}) (Robin–Scaman–Lelarge,
arXiv 2301.08117). For mean-field networks the L2 term is (λ/2N)‖θ‖², the particle version of
(λ/2)∫‖w‖²dμ.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import sympy as sp

from kltools.display import plural
from kltools.errors import SpecError
from kltools.spec import limits
from kltools.spec.distribution import Distribution, exact_method
from kltools.spec.expr import (
    FUNCTIONS,
    normalize_name,
    parse_expression,
    parse_number,
    real_symbol,
)
from kltools.spec.network import Network

__all__ = ["LOSS_KINDS", "Data", "Init", "Loss", "Objective", "Problem"]

LOSS_KINDS = ("square", "logistic", "exponential", "cross-entropy")
_RESERVED = re.compile(r"^chi\d*$")  # switch names made by kltools.symbolic.kinks.switchify


@dataclass(frozen=True)
class Loss:
    """Loss kind and the L2 coefficient λ (exact, ≥ 0)."""

    kind: str = "square"
    l2: sp.Rational = sp.Integer(0)

    def __post_init__(self) -> None:
        if self.kind not in LOSS_KINDS:
            raise SpecError(f"unknown loss {self.kind!r}; use one of {', '.join(LOSS_KINDS)}",
                            "loss.kind")
        l2 = parse_number(self.l2, "loss.l2")
        if l2 < 0:
            raise SpecError(f"the L2 coefficient must be >= 0, got {l2}", "loss.l2")
        object.__setattr__(self, "l2", l2)

    @property
    def is_margin(self) -> bool:
        return self.kind in ("logistic", "exponential")


@dataclass(frozen=True)
class Data:
    """Samples x_i ∈ ℚ^d and targets y_i ∈ ℚ^m, exact."""

    x: tuple[tuple[sp.Rational, ...], ...]
    y: tuple[tuple[sp.Rational, ...], ...]

    @property
    def n(self) -> int:
        return len(self.x)

    @staticmethod
    def from_lists(x: object, y: object) -> Data:
        """Validate and convert (field paths ``data.x[i][j]``, ``data.y[i]``)."""
        if not isinstance(x, Sequence) or isinstance(x, str) or len(x) == 0:
            raise SpecError("x must be a non-empty list of samples (lists of numbers)", "data.x")
        # Sizes before any number is converted: 200 000 samples are refused, not parsed.
        limits.check("samples", len(x), "data.x", f"{len(x)} samples")
        first = x[0] if isinstance(x[0], Sequence) and not isinstance(x[0], str) else [x[0]]
        limits.check("width", len(first), "data.x[0]", f"a sample of {len(first)} entries")
        limits.check("work", len(x) * len(first), "data.x",
                     f"{len(x)} samples of {len(first)} entries")
        rows = []
        width = None
        for i, row in enumerate(x):
            if isinstance(row, int | float | str) and not isinstance(row, bool):
                row = [row]  # one-dimensional inputs may be written as a flat list
            if not isinstance(row, Sequence) or isinstance(row, str):
                raise SpecError("each sample must be a list of numbers", f"data.x[{i}]")
            if len(row) == 0:
                raise SpecError("the sample is empty; give one number per input",
                                f"data.x[{i}]")
            if width is None:
                width = len(row)
            if len(row) != width:
                raise SpecError(f"sample has {len(row)} entries, expected {width} like data.x[0] "
                                "(ragged data)", f"data.x[{i}]")
            rows.append(tuple(parse_number(v, f"data.x[{i}][{j}]") for j, v in enumerate(row)))
        if not isinstance(y, Sequence) or isinstance(y, str):
            raise SpecError("y must be a list with one target per sample", "data.y")
        if len(y) != len(rows):
            raise SpecError(f"{plural(len(y), 'target')} for {plural(len(rows), 'sample')}; "
                            "give one target per sample", "data.y")
        first_t = y[0] if isinstance(y[0], Sequence) and not isinstance(y[0], str) else [y[0]]
        limits.check("width", len(first_t), "data.y[0]", f"a target of {len(first_t)} entries")
        targets = []
        ywidth = None
        for i, t in enumerate(y):
            nested = isinstance(t, Sequence) and not isinstance(t, str)
            t = list(t) if nested else [t]
            if len(t) == 0:
                raise SpecError("the target is empty; give one number per output",
                                f"data.y[{i}]")
            if ywidth is None:
                ywidth = len(t)
            if len(t) != ywidth:
                raise SpecError(f"target has {len(t)} entries, expected {ywidth} like data.y[0] "
                                "(ragged targets)", f"data.y[{i}]")
            targets.append(tuple(parse_number(v, f"data.y[{i}][{j}]" if nested else f"data.y[{i}]")
                                 for j, v in enumerate(t)))
        return Data(tuple(rows), tuple(targets))


@dataclass(frozen=True)
class Objective:
    """A raw objective L(v_1, ..., v_P): an exact SymPy expression in real variables."""

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    text: str = ""

    @staticmethod
    def parse(text: str, variables: Sequence[str]) -> Objective:
        """Parse with :func:`kltools.spec.expr.parse_expression` (no ``eval``)."""
        if (not isinstance(variables, Sequence) or isinstance(variables, str)
                or not variables):
            raise SpecError("vars must be a non-empty list of names", "objective.vars")
        limits.check("parameters", len(variables), "objective.vars",
                     f"{len(variables)} variables")
        seen: dict[str, str] = {}
        for i, v in enumerate(variables):
            where = f"objective.vars[{i}]"
            if not isinstance(v, str) or not v.isidentifier():
                raise SpecError(f"{v!r} is not a valid variable name (letters, digits, _)", where)
            # Checks on the NFKC form, the name Python's parser sees (ｉｆ is the keyword if).
            n = normalize_name(v)
            also = "" if n == v else f" (read as {n!r})"
            if keyword.iskeyword(n):
                raise SpecError(f"{v!r}{also} is a Python keyword; rename the variable", where)
            if n in FUNCTIONS:
                raise SpecError(f"{v!r}{also} is the name of a function; rename the variable",
                                where)
            if n.startswith("_") or _RESERVED.match(n):
                raise SpecError(f"{v!r}{also} is reserved for names kltools makes (leading _ and "
                                "chi<number>); rename the variable", where)
            if n in seen:
                what = ("listed twice" if seen[n] == v else
                        f"the same name as {seen[n]!r} to Python (both read as {n!r}, Unicode "
                        "NFKC); rename one")
                raise SpecError(f"variable {v!r} is {what}", where)
            seen[n] = v
        syms = tuple(real_symbol(v) for v in variables)
        expr = parse_expression(text, syms, "objective.expr")
        return Objective(expr, syms, text)


@dataclass(frozen=True)
class Init:
    """An initialisation: explicit exact values, or a seed and a scale.

    With a seed, θ_j = scale · g_j with g ~ N(0, I) from ``numpy.random.default_rng(seed)``,
    each rounded to 12 significant digits and then kept exact, so the same seed gives the same
    rational vector on every machine.
    """

    theta: tuple[sp.Rational, ...] | None = None
    seed: int | None = None
    scale: sp.Rational = sp.Integer(1)

    def values(self, n: int, path: str = "init") -> tuple[sp.Rational, ...]:
        if self.theta is not None:
            if len(self.theta) != n:
                raise SpecError(f"init has {len(self.theta)} values, the problem has {n} "
                                "parameters (see `kltools derive` for their order)",
                                f"{path}.theta")
            return self.theta
        rng = np.random.default_rng(self.seed if self.seed is not None else 0)
        g = rng.standard_normal(n)
        return tuple(self.scale * sp.Rational(f"{v:.12g}") for v in g)


def _width_paths(net: Network) -> tuple[str, str]:
    """Field paths of a network's input and output widths (for width/data mismatches)."""
    if net.kind == "mlp":
        # The output layer's index is the length of the longest input-to-output path.
        return "network.layers[0]", f"network.layers[{nx.dag_longest_path_length(net.graph)}]"
    if net.kind == "graph":
        return "network.inputs", "network.outputs"
    # Mean-field and diagonal networks take their input width from the data and have one output.
    return "data.x", "data.y[0]"


def _check_population(net: Network, loss: Loss, data: Distribution) -> None:
    """A population loss: square loss, one output, matching input width, an exact method."""
    if net.n_inputs != data.dim:
        raise SpecError(f"the network has {net.n_inputs} input(s) but dim = {data.dim}; make "
                        "them match", "data.dim")
    if net.n_outputs != 1:
        raise SpecError(f"a teacher f*(x) is scalar: the network needs one output, it has "
                        f"{net.n_outputs}", _width_paths(net)[1])
    if loss.kind != "square":
        raise SpecError(f"the population loss is the square loss ½E(f − f*)²; the {loss.kind} "
                        "loss needs samples x, y", "loss.kind")
    exact_method(net, data)


def _check_classes(net: Network, data: Data, out_path: str) -> None:
    """Cross-entropy: k >= 2 outputs and one class index 0..k-1 per sample."""
    k = net.n_outputs
    if k < 2:
        raise SpecError(f"the cross-entropy loss needs k >= 2 outputs (one logit per class), "
                        f"the network has {k}; for two classes with one output use 'logistic'",
                        out_path)
    for i, t in enumerate(data.y):
        if len(t) != 1 or not t[0].is_integer or not 0 <= t[0] < k:
            raise SpecError(f"a cross-entropy label is a class index 0..{k - 1}, got "
                            f"{', '.join(str(v) for v in t)}", f"data.y[{i}]")


@dataclass(frozen=True, eq=False)
class Problem:
    """A gradient-flow problem: what to differentiate, in which parameters, from where."""

    parameters: tuple[str, ...]
    network: Network | None = None
    loss: Loss | None = None
    data: Data | Distribution | None = None
    objective: Objective | None = None
    init: Init | None = None
    name: str = ""
    source: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if (self.network is None) == (self.objective is None):
            raise SpecError("a spec has either a [network] (with [loss] and [data]) or an "
                            "[objective], not both and not neither")
        if self.network is not None:
            if self.data is None:
                raise SpecError("a network needs data", "data")
            if self.loss is None:
                object.__setattr__(self, "loss", Loss())
            net, data = self.network, self.data
            assert self.loss is not None
            if isinstance(data, Distribution):
                _check_population(net, self.loss, data)
                return
            # The forward program has a term per weight and a block per unit, per sample.
            units = sum(1 for v in net.graph if net.graph.nodes[v]["role"] != "input")
            work = data.n * (len(self.parameters) + units)
            limits.check("work", work, "data.x", f"{data.n} samples through a network of "
                         f"{len(self.parameters)} weights and {units} units ({work} terms)")
            in_path, out_path = _width_paths(net)
            if len(data.x[0]) != net.n_inputs:
                raise SpecError(f"the network has {net.n_inputs} input(s) but samples have "
                                f"{len(data.x[0])} entries; make the input width match the "
                                "data", in_path)
            if self.loss.kind == "cross-entropy":
                _check_classes(net, data, out_path)
            elif len(data.y[0]) != net.n_outputs:
                raise SpecError(f"the network has {net.n_outputs} output(s) but targets have "
                                f"{len(data.y[0])} entries; make the output width match the "
                                "targets", out_path)
            if self.loss.is_margin:
                if net.n_outputs != 1:
                    raise SpecError(f"margin losses ({self.loss.kind}) need a single output, "
                                    f"the network has {net.n_outputs}; use kind = 'square' or "
                                    "one output", "loss.kind")
                for i, (t,) in enumerate(data.y):
                    if t not in (1, -1):
                        raise SpecError(f"margin losses need labels +1 or -1, got {t}; "
                                        "write '1' or '-1'",
                                        f"data.y[{i}]")

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The parameters as real SymPy symbols, in canonical order."""
        if self.objective is not None:
            return self.objective.variables
        return tuple(real_symbol(p) for p in self.parameters)

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    @property
    def flow_scale(self) -> sp.Rational:
        return self.network.flow_scale if self.network is not None else sp.Integer(1)

    def initial_point(self) -> tuple[sp.Rational, ...]:
        """θ(0) as exact rationals (``Init(seed=0)``, scale 1, when the spec gives no init)."""
        return (self.init or Init(seed=0)).values(self.n_parameters)

    def describe(self) -> str:
        if self.objective is not None:
            return f"objective {self.objective.text or self.objective.expr}"
        assert self.network is not None and self.loss is not None and self.data is not None
        l2 = f", l2 = {self.loss.l2}" if self.loss.l2 else ""
        if isinstance(self.data, Distribution):
            return f"{self.network.description}; {self.data.describe()}{l2}"
        return (f"{self.network.description}; {self.loss.kind} loss{l2}; "
                f"{plural(self.data.n, 'sample')}")

    def with_init(self, theta: Sequence[object]) -> Problem:
        """The same problem started from ``theta`` (numbers or strings, kept exact)."""
        if len(theta) != self.n_parameters:  # before converting a possibly huge list
            raise SpecError(f"init has {len(theta)} values, the problem has "
                            f"{self.n_parameters} parameters (see `kltools derive` for their "
                            "order)", "init.theta")
        values = tuple(parse_number(v, f"init.theta[{i}]") for i, v in enumerate(theta))
        init = Init(theta=values)
        init.values(self.n_parameters)
        return Problem(self.parameters, self.network, self.loss, self.data, self.objective,
                       init, self.name, self.source)
