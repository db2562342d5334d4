"""Public Hypothesis strategies for networks, data, initialisations and objectives.

Every value is exact (``fractions.Fraction`` or decimal strings that kltools keeps exact), so a
counter-example shrinks to a small spec that ``kltools integrate`` reproduces digit for digit.
Each strategy is a function with keyword-only options returning a ``SearchStrategy``
(hypothesis.extra.numpy's shape); options are checked eagerly and a bad one raises
:class:`~kltools.errors.SpecError` naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from kltools.errors import SpecError
from kltools.spec.problem import Data, Problem
from kltools.spec.toml_spec import problem_from_dict

__all__ = ["datasets", "initialisations", "networks", "objectives", "problems", "rationals"]

ACTIVATIONS = ("linear", "relu", "leaky_relu(1/10)", "abs", "z**2", "z**3 - z", "sigmoid",
               "tanh", "softplus")


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{name} must be a positive integer, got {value!r}", name)


def rationals(*, bound: Fraction | int | str = 2, denominator: int = 100
              ) -> st.SearchStrategy[Fraction]:
    """Rationals k/denominator in [−bound, bound], shrinking towards 0."""
    b = Fraction(str(bound))
    _positive("denominator", denominator)
    if b <= 0:
        raise SpecError(f"bound must be positive, got {bound!r}", "bound")
    top = int(b * denominator)
    return st.integers(-top, top).map(lambda k: Fraction(k, denominator))


def initialisations(problem: Problem | int, *, scale: Fraction | int | str | None = None,
                    denominator: int = 1000, near_kinks: bool = False
                    ) -> st.SearchStrategy[list[Fraction]]:
    """Initial points θ(0) for ``problem`` (or a parameter count).

    Each coordinate is uniform on the grid of step 1/denominator in [−3·scale, 3·scale]
    (``scale`` defaults to the spec's init scale, else 1); shrinking moves towards 0. With
    ``near_kinks`` one first-layer kink surface of a network (linear in θ: z = w·x + b) is placed
    within 10^-3 of the start by solving for one of its weights.
    """
    n = problem if isinstance(problem, int) else problem.n_parameters
    _positive("parameters", n)
    if scale is None:
        scale = (problem.init.scale if not isinstance(problem, int) and problem.init
                 and problem.init.theta is None else 1)
    s = Fraction(str(scale))
    coords = st.lists(rationals(bound=3 * s, denominator=denominator), min_size=n, max_size=n)
    if not near_kinks:
        return coords
    if isinstance(problem, int) or problem.network is None:
        raise SpecError("near_kinks needs a network problem", "near_kinks")
    if not isinstance(problem.data, Data):
        raise SpecError("near_kinks places a unit's kink at a sample; a population loss has no "
                        "samples (its kinks in θ are listed by `kltools derive`)", "near_kinks")
    return st.tuples(coords, st.data()).map(lambda cd: _near_kink(problem, cd[0], cd[1]))


def _near_kink(problem: Problem, theta: list[Fraction], data: Any) -> list[Fraction]:
    net, dat = problem.network, problem.data
    assert net is not None and dat is not None
    g = net.graph
    index = {p: i for i, p in enumerate(problem.parameters)}
    first = [v for v in net.order() if g.nodes[v]["role"] == "unit"
             and g.nodes[v]["activation"].is_piecewise
             and all(g.nodes[u]["role"] == "input" for u in g.predecessors(v))]
    if not first:
        return theta
    v = data.draw(st.sampled_from(first), label="unit")
    i = data.draw(st.integers(0, dat.n - 1), label="sample")
    eps = data.draw(st.sampled_from([Fraction(1, 1000), Fraction(-1, 1000)]), label="eps")
    x = dict(zip(net.inputs, dat.x[i], strict=True))
    terms = [(index[g.edges[u, v]["param"]], Fraction(str(x[u]))) for u in g.predecessors(v)]
    pivot = next(((j, c) for j, c in terms if c != 0), None)
    if pivot is None:
        return theta
    j, c = pivot
    b = g.nodes[v]["bias"]
    rest = sum(theta[k] * ck for k, ck in terms if k != j) + (theta[index[b]] if b else 0)
    out = list(theta)
    out[j] = (eps - rest) / c  # z = eps exactly at the start
    return out


def datasets(*, n: int = 3, dim: int = 2, separable: bool = False, margin: bool = False
             ) -> st.SearchStrategy[tuple[list[list[str]], list[str]]]:
    """Data ``(x, y)`` as exact decimal strings; labels ±1 when ``separable`` or ``margin``.

    Separable data are labelled by a random hyperplane through 0 (no point on it), so a linear
    classifier (and any homogeneous net containing one) can classify them perfectly.
    """
    _positive("n", n)
    _positive("dim", dim)
    point = st.lists(rationals(bound=2, denominator=10), min_size=dim, max_size=dim)
    if not (separable or margin):
        return st.tuples(st.lists(point, min_size=n, max_size=n),
                         st.lists(rationals(bound=2, denominator=10), min_size=n, max_size=n)
                         ).map(lambda xy: ([[str(v) for v in p] for p in xy[0]],
                                           [str(v) for v in xy[1]]))

    @st.composite
    def labelled(draw: st.DrawFn) -> tuple[list[list[str]], list[str]]:
        w = draw(st.lists(rationals(bound=1, denominator=10), min_size=dim, max_size=dim)
                 .filter(lambda v: any(v)))
        xs = draw(st.lists(point.filter(lambda p: sum(a * b for a, b in zip(p, w, strict=True))
                                        != 0), min_size=n, max_size=n))
        ys = [1 if sum(a * b for a, b in zip(p, w, strict=True)) > 0 else -1 for p in xs]
        return [[str(v) for v in p] for p in xs], [str(y) for y in ys]

    return labelled()


def networks(*, activations: Sequence[str] = ACTIVATIONS, max_width: int = 3, max_depth: int = 2,
             bias: bool | None = None, loss: str | None = None, samples: int = 3,
             dim: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Network specs (dicts that :func:`kltools.spec.problem_from_dict` loads) by activation
    family, widths and depth; margin losses get separable ±1 data."""
    _positive("max_width", max_width)
    _positive("max_depth", max_depth)
    for a in activations:
        from kltools.spec.activations import parse_activation

        parse_activation(a, "activations")

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        hidden = draw(st.lists(st.integers(1, max_width), min_size=1, max_size=max_depth))
        kind = loss or draw(st.sampled_from(["square", "logistic", "exponential"]))
        x, y = draw(datasets(n=samples, dim=dim, separable=kind != "square"))
        return {"network": {"layers": [dim, *hidden, 1],
                            "activation": draw(st.sampled_from(list(activations))),
                            "bias": draw(st.booleans()) if bias is None else bias},
                "loss": {"kind": kind}, "data": {"x": x, "y": y}}

    return build()


def objectives(*, variables: Sequence[str] = ("x", "y"), degree: int = 4, terms: int = 3
               ) -> st.SearchStrategy[dict[str, Any]]:
    """Polynomial objective specs with small rational coefficients."""
    _positive("degree", degree)
    _positive("terms", terms)
    names = list(variables)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        parts = []
        for _ in range(draw(st.integers(1, terms))):
            c = draw(rationals(bound=3, denominator=4).filter(bool))
            powers = draw(st.lists(st.integers(0, degree), min_size=len(names),
                                   max_size=len(names)).filter(lambda p: 0 < sum(p) <= degree))
            mono = "*".join(f"{v}**{k}" for v, k in zip(names, powers, strict=True) if k)
            parts.append(f"({c})*{mono}")
        return {"objective": {"expr": " + ".join(parts), "vars": names}}

    return build()


def problems(specs: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Problem]:
    """Load each spec dict into a validated :class:`Problem`."""
    return specs.map(problem_from_dict)
