"""Input distributions for the population (test) loss.

A ``[data]`` table may describe a distribution of inputs and a teacher instead of samples::

    [data]
    distribution = "uniform"   # x ~ U[-1, 1]^dim, or "gaussian": x ~ N(0, I_dim)
    dim = 1
    teacher = "relu(x1)"       # the target f*(x), an expression in x1 .. x_dim

The loss is then the population loss L(θ) = ½ E_x (f(θ; x) − f*(x))² (+ the L2 term), the
square loss with the weight 1/n of one sample (n = 1): the finite-sample formulas of the project
(Rayleigh quotient, ‖∇L‖² = (2/n)·R·L) hold with n = 1. The expectation is computed exactly, in
closed form, by :mod:`kltools.symbolic.expectation`; :func:`exact_method` says which closed form
applies to a network, and refuses (a :class:`~kltools.errors.SpecError`) a pair of network and
distribution that has none in kltools. Nothing is ever sampled.

Exact pairs (see ``docs/population.md``):

* ``moments``: polynomial activations (any depth and width) and a polynomial teacher, either
  distribution: E x^{2k} = 1/(2k + 1) (uniform), (2k − 1)!! (Gaussian), odd moments 0,
  coordinates independent.
* ``piecewise-1d``: dim = 1, piecewise-polynomial units (ReLU, leaky ReLU, abs, general pieces)
  whose pre-activation is affine in x (first hidden layer; biases allowed), polynomial or linear
  layers after them, a teacher made of polynomials, relu/abs/Max/Min of affine functions of x.
  Uniform inputs: every kink position x = (β − b)/w may move with θ. Gaussian inputs: only kinks
  fixed at x = 0 (no biases, breakpoints 0), where the half-line moments are exact.
* ``arc-cosine``: Gaussian inputs in any dimension, f(θ; x) = Σ_j v_j relu(w_j·x) (two layers, no
  biases), teacher a sum of c·relu(u·x), a linear form and a constant, through
  E relu(a·x) relu(b·x) = ‖a‖‖b‖(sin φ + (π − φ) cos φ)/(2π), φ = ∠(a, b) (Cho and Saul,
  "Kernel methods for deep learning", NIPS 2009).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from kltools.errors import SpecError
from kltools.spec.expr import parse_expression, real_symbol
from kltools.spec.network import Network

__all__ = ["DISTRIBUTIONS", "Distribution", "exact_method", "input_symbols"]

DISTRIBUTIONS = ("uniform", "gaussian")
_KEYS = {"distribution", "dim", "teacher"}
_MAX_DIM = 64


def input_symbols(dim: int) -> tuple[sp.Symbol, ...]:
    """The input variables x1 .. x_dim as real SymPy symbols."""
    return tuple(real_symbol(f"x{k}") for k in range(1, dim + 1))


@dataclass(frozen=True)
class Distribution:
    """x ~ U[−1, 1]^dim (``uniform``) or N(0, I_dim) (``gaussian``), and a teacher f*(x).

    Attributes
    ----------
    kind
        ``uniform`` or ``gaussian``.
    dim
        The input dimension d.
    teacher
        f*(x), an exact SymPy expression in :attr:`variables` (kinks as Max/Min/Abs).
    text
        The teacher as written in the spec.
    """

    kind: str
    dim: int
    teacher: sp.Expr
    text: str = ""

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return input_symbols(self.dim)

    @property
    def n(self) -> int:
        """1: the population loss ½E r² is the square loss of one sample (weight 1/n)."""
        return 1

    def describe(self) -> str:
        law = "U[-1, 1]" if self.kind == "uniform" else "N(0, 1)"
        power = f"^{self.dim}" if self.dim > 1 else ""
        return f"population loss, x ~ {law}{power}, teacher {self.text or self.teacher}"

    @staticmethod
    def from_table(t: Mapping[str, Any]) -> Distribution:
        """Validate a ``[data]`` table of the distribution form (field paths ``data.*``)."""
        unknown = sorted(set(t) - _KEYS)
        if unknown:
            hint = (" (samples x, y and a distribution exclude each other)"
                    if set(unknown) & {"x", "y"} else "")
            raise SpecError(f"unknown key(s) {', '.join(unknown)}{hint}; a distribution table "
                            f"has {', '.join(sorted(_KEYS))}", f"data.{unknown[0]}")
        kind = t.get("distribution")
        if kind not in DISTRIBUTIONS:
            raise SpecError(f"unknown distribution {kind!r}; use one of "
                            f"{', '.join(DISTRIBUTIONS)}", "data.distribution")
        dim = t.get("dim", 1)
        if not isinstance(dim, int) or isinstance(dim, bool) or not 1 <= dim <= _MAX_DIM:
            raise SpecError(f"dim must be an integer from 1 to {_MAX_DIM}, got {dim!r}",
                            "data.dim")
        if "teacher" not in t:
            raise SpecError("missing teacher (the target f*(x) as an expression in "
                            + ", ".join(str(v) for v in input_symbols(min(dim, 3)))
                            + (", ..." if dim > 3 else "") + ")", "data.teacher")
        text = t["teacher"]
        expr = parse_expression(text, input_symbols(dim), "data.teacher",
                                fix=f"the inputs are x1 .. x{dim} (dim = {dim})")
        return Distribution(kind, dim, expr, text)


def _teacher_is_polynomial(d: Distribution) -> bool:
    return d.teacher.is_polynomial(*d.variables)


def exact_method(network: Network, d: Distribution) -> str:
    """Which closed form computes E over ``d`` for ``network`` (see the module docstring):
    ``moments``, ``piecewise-1d`` or ``arc-cosine``; a :class:`SpecError` saying why when none
    does (kltools never falls back to sampling)."""
    g = network.graph
    units = [v for v in network.order() if g.nodes[v]["role"] != "input"]
    acts = [g.nodes[v]["activation"] for v in units]
    if any(not a.is_polynomial for a in acts):
        bad = next(a for a in acts if not a.is_polynomial)
        raise SpecError(f"the population loss is exact only for polynomial and piecewise-"
                        f"polynomial activations; E over {d.kind} inputs of a {bad} unit has no "
                        "closed form in kltools (use samples x, y for analytic activations)",
                        "network.activation")
    if not any(a.is_piecewise for a in acts):
        if not _teacher_is_polynomial(d):
            raise SpecError("a polynomial network needs a polynomial teacher for the exact "
                            "(moment) expectation; write the teacher as a polynomial in x1 .. "
                            f"x{d.dim}, or use a piecewise network with dim = 1",
                            "data.teacher")
        return "moments"
    if d.dim == 1:
        if d.kind == "gaussian":
            _fixed_kinks(network)
        return "piecewise-1d"
    if d.kind == "gaussian" and _arc_cosine_shape(network):
        return "arc-cosine"
    raise SpecError(f"no exact expectation in kltools for piecewise activations with dim = "
                    f"{d.dim} and {d.kind} inputs: use dim = 1 (exact piecewise integrals), or "
                    "Gaussian inputs with a two-layer bias-free ReLU network (arc-cosine "
                    "kernel)", "data.dim")


def _fixed_kinks(network: Network) -> None:
    """Gaussian inputs in one dimension: kinks only at x = 0 (bias-free piecewise units with
    breakpoints 0), where the half-line moments are exact."""
    g = network.graph
    for v in network.order():
        node = g.nodes[v]
        act = node["activation"]
        if act.is_piecewise and (node["bias"] is not None or any(b != 0 for b in
                                                                 act.breakpoints)):
            raise SpecError(f"with Gaussian inputs a kink of unit {v} would move with θ (a bias "
                            "or a breakpoint off 0): the integral over a half-line cut there "
                            "needs erf, which kltools does not integrate; use bias = false and "
                            "kinks at 0, or uniform inputs", "network.bias")


def _arc_cosine_shape(network: Network) -> bool:
    """f = Σ_j v_j relu(w_j·x): one hidden layer of bias-free ReLU units fed by the inputs only,
    one linear bias-free output fed by the units only."""
    g = network.graph
    if len(network.outputs) != 1:
        return False
    out = network.outputs[0]
    node = g.nodes[out]
    if node["bias"] is not None or node["activation"].name != "linear":
        return False
    for u in g.graph["in_order"][out]:
        unit = g.nodes[u]
        if unit["role"] != "unit" or unit["bias"] is not None or unit["activation"].name != "relu":
            return False
        if any(g.nodes[x]["role"] != "input" for x in g.graph["in_order"][u]):
            return False
    return True
