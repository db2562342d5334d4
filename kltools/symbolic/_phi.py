"""The factorisation f(θ; x) = g(φ(θ), x) of a network, as exact polynomials.

Marcotte, Gribonval and Peyré (NeurIPS 2023, "Abide by the law and follow the flow") count the
conservation laws that hold for *every* data set and loss through a factorisation φ of the model:
if f(θ; x) = g(φ(θ), x), every gradient of every empirical loss lies in
W_φ(θ) = span{∇φ_m(θ)} (chain rule), and the laws are the functions h with ∇h ⊥ W_φ.

kltools builds φ the same way for every supported network: **φ is the vector of coefficients of
the output f(θ; x, χ), written as a polynomial in the inputs x and in one switch variable χ per
kink of each unit** (σ(z) = p₀(z) + Σ_k χ_k (p_k − p_{k−1})(z), as in
:mod:`kltools.spec.activations`). Each coefficient is a polynomial in θ. Switch products are
reduced with χ² = χ (and χ_k χ_l = χ_max(k,l) for two kinks of one unit, since z ≥ b_l ⇒ z ≥ b_k):
switches take values in {0, 1}, so on the patterns the reduced form is the same function.

What this gives on the paper's examples:

* linear activations (any DAG, chains, skip connections): the entries of the linear (affine, with
  biases) map x ↦ f; for a chain the entries of W_L⋯W_1, for two layers U Vᵀ;
* ReLU / leaky-ReLU / abs (pieces a·z, b·z, kink at 0): on a pattern the coefficient of
  x_k·Π_{u∈p} χ_u is the product of the weights along the path p, so φ is the path-lifting
  (Stock and Gribonval); for two layers the entries of u_j v_jᵀ per hidden neuron (biases act as
  an extra constant input, as in the paper);
* polynomial activations: the coefficients of the polynomial x ↦ f(θ; x).

When is W_φ the span of the loss gradients? For polynomial activations (linear included), always:
with enough samples in general position the monomials in x are independent, so the gradients
Σ_i ℓ'_i ∇_θ f(θ; x_i) reach every ∇φ_m. For kinks, the data must also realise enough activation
patterns (the paper's setting; true for two-layer nets whose units see at least two inputs or have
a bias, where every pattern vector is reached across a hyperplane). When they cannot (e.g. a
ReLU unit fed by a single input and no bias, whose pattern is the sign of that input), fewer
gradient directions occur, there may be more laws, and the count computed from φ is a lower bound;
the laws found from φ are laws all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import flint
import sympy as sp

from kltools.errors import DerivationError
from kltools.spec.activations import Activation, Z
from kltools.spec.network import Network
from kltools.spec.problem import Problem

__all__ = ["SUPPORTED", "Factorisation", "factorisation", "reduce_switch_products"]

SUPPORTED = ("linear, polynomial (e.g. 'z**2', 'z**3 - z') and piecewise-polynomial activations "
             "(relu, leaky_relu(a), abs, or {pieces, breakpoints}) on any feed-forward network "
             "(mlp, graph with skip connections, diagonal, mean-field), with or without biases, "
             "any loss kind, and no L2 term")


@dataclass(frozen=True, eq=False)
class Factorisation:
    """φ(θ) for one network (see module docstring).

    Attributes
    ----------
    parameters
        θ names, canonical order (the variables of ``ctx``).
    ctx
        The ``flint.fmpq_mpoly_ctx`` of polynomials in θ.
    components
        The distinct non-constant coefficients φ_m(θ) (duplicates up to a constant factor
        removed: they span the same W_φ).
    labels
        For each component, the output and the monomial in x and χ it multiplies.
    family
        ``linear`` | ``polynomial`` | ``piecewise``.
    notes
        Caveats for this network (patterns the data cannot set independently).
    """

    parameters: tuple[str, ...]
    ctx: flint.fmpq_mpoly_ctx
    components: tuple[flint.fmpq_mpoly, ...]
    labels: tuple[str, ...]
    family: str
    notes: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        what = {
            "linear": "coefficients of the linear map x -> f(theta; x) (a chain: the entries of "
                      "W_L...W_1)",
            "polynomial": "coefficients of f(theta; x) as a polynomial in x",
            "piecewise": "coefficients of f(theta; x, chi) as a polynomial in x and the unit "
                         "switches chi (ReLU-type units: the path-lifting)",
        }[self.family]
        from kltools.display import plural

        return f"phi = {what}; {plural(len(self.components), 'distinct component')}"


def _network(problem: Problem) -> Network:
    if problem.network is None:
        raise DerivationError(
            "conservation laws that hold for every data set and loss are a property of a network "
            "architecture; this spec is a raw [objective], whose flow is one loss-specific ODE. "
            f"Supported: {SUPPORTED}. For identities of this objective use `kltools derive "
            "--identities`")
    assert problem.loss is not None
    if problem.loss.l2 != 0:
        raise DerivationError(
            f"loss.l2 = {problem.loss.l2}: with an L2 term θ' = −∇L_data − λθ and the laws "
            "of the unregularised flow decay instead of staying constant; set loss.l2 = 0 "
            f"(supported: {SUPPORTED})")
    net = problem.network
    for v in net.order():
        act: Activation = net.graph.nodes[v]["activation"]
        if not act.is_polynomial:
            raise DerivationError(
                f"unit {v!r} has the analytic activation {act.name}: the model is not a "
                "polynomial in x on any region, so kltools cannot factor it exactly. "
                f"Supported: {SUPPORTED}")
    return net


def _coeffs(p: sp.Expr) -> list[flint.fmpq]:
    """Coefficients of a polynomial in Z, highest degree first (for Horner)."""
    out = []
    for c in sp.Poly(p, Z).all_coeffs():
        q = sp.Rational(c)
        out.append(flint.fmpq(int(q.p), int(q.q)))
    return out


def _horner(coeffs: Sequence[flint.fmpq], z: flint.fmpq_mpoly) -> flint.fmpq_mpoly:
    acc = z * 0
    for c in coeffs:
        acc = acc * z + c
    return acc


def reduce_switch_products(p: flint.fmpq_mpoly, ctx: flint.fmpq_mpoly_ctx,
                           groups: dict[int, tuple[str, int]]) -> flint.fmpq_mpoly:
    """Reduce switch products: χ² = χ, and χ_k χ_l = χ_max(k,l) for kinks of one unit.

    ``groups`` maps the index of each switch variable of ``ctx`` to (its unit, its kink number).
    """
    out: dict[tuple[int, ...], flint.fmpq] = {}
    for exps, c in p.to_dict().items():
        e = list(exps)
        best: dict[str, tuple[int, int]] = {}
        for i, (unit, k) in groups.items():
            if e[i]:
                e[i] = 0
                if unit not in best or best[unit][0] < k:
                    best[unit] = (k, i)
        for _, i in best.values():
            e[i] = 1
        key = tuple(e)
        out[key] = out.get(key, 0) + c
    return ctx.from_dict({k: v for k, v in out.items() if v != 0})


def _monomial(names: Sequence[str], exps: Sequence[int]) -> str:
    parts = [n if e == 1 else f"{n}**{e}" for n, e in zip(names, exps, strict=True) if e]
    return "*".join(parts) or "1"


def _single_input_units(net: Network) -> list[str]:
    """Kink units whose pre-activation is w·x_k alone (no bias): the data cannot set their
    pattern apart from the sign of x_k."""
    g = net.graph
    out = []
    for v in net.order():
        node = g.nodes[v]
        parents = list(g.predecessors(v))
        if (node["activation"].is_piecewise and node["bias"] is None and len(parents) == 1
                and g.nodes[parents[0]]["role"] == "input"):
            out.append(v)
    return out


def _components(net: Network, values: dict[str, flint.fmpq_mpoly], n: int,
                theta_ctx: flint.fmpq_mpoly_ctx, xs_names: list[str]
                ) -> dict[str, tuple[flint.fmpq_mpoly, str]]:
    """The coefficients φ of each output in the monomials of inputs and switches, one per
    direction (equal up to a constant factor: one component), labelled ``output | monomial``."""
    comps: dict[str, tuple[flint.fmpq_mpoly, str]] = {}
    for o in net.outputs:
        parts: dict[tuple[int, ...], dict[tuple[int, ...], flint.fmpq]] = {}
        for exps, c in values[o].to_dict().items():
            parts.setdefault(tuple(exps[n:]), {})[tuple(exps[:n])] = c
        for key in sorted(parts, reverse=True):
            phi = theta_ctx.from_dict(parts[key])
            if phi.is_zero() or phi.total_degree() < 1:
                continue  # a constant coefficient has no gradient: it adds no field
            # Components equal up to a constant factor span the same gradient directions.
            norm = phi / phi.leading_coefficient()
            comps.setdefault(str(norm), (phi, f"{o} | {_monomial(xs_names, key)}"))
    return comps


def factorisation(problem: Problem) -> Factorisation:
    """φ(θ) of ``problem``'s network (module docstring); raises
    :class:`~kltools.errors.DerivationError` outside the supported families.

    >>> from kltools.spec import load_problem
    >>> p = load_problem('[network]\\nlayers = [1, 1, 1]\\nactivation = "linear"\\n'
    ...                  '[data]\\nx = [["1"]]\\ny = ["1"]\\n')
    >>> phi = factorisation(p)
    >>> [str(c) for c in phi.components], phi.labels
    (['W1_1_1*W2_1_1'], ('y1 | x1',))
    """
    net = _network(problem)
    g = net.graph
    params = tuple(problem.parameters)
    n = len(params)
    switch_keys = [(v, k) for v in net.order()
                   for k in range(len(g.nodes[v]["activation"].breakpoints))]
    names = (*params, *[f"_x_{u}" for u in net.inputs],
             *[f"_s_{v}_{k}" for v, k in switch_keys])
    ctx = flint.fmpq_mpoly_ctx.get(names, "deglex")
    gens = ctx.gens()
    theta = dict(zip(params, gens[:n], strict=True))
    values: dict[str, flint.fmpq_mpoly] = {u: gens[n + i] for i, u in enumerate(net.inputs)}
    first_switch = n + len(net.inputs)
    switch = {key: gens[first_switch + i] for i, key in enumerate(switch_keys)}
    groups = {first_switch + i: key for i, key in enumerate(switch_keys)}
    for v in net.order():
        node = g.nodes[v]
        pre = ctx.from_dict({})
        if net.is_max(v):
            raise DerivationError(f"node {v!r} is a max-pooling node; the path-lifting "
                                  "factorisation here covers sums of weighted inputs only")
        for u in g.graph["in_order"][v]:
            e = g.edges[u, v]
            w = (theta[e["param"]] if e["param"] is not None
                 else flint.fmpq(int(e["fixed"].p), int(e["fixed"].q)))
            pre += w * values[u]
        if node["bias"] is not None:
            pre += theta[node["bias"]]
        scale = sp.Rational(node["scale"])
        z = pre * flint.fmpq(int(scale.p), int(scale.q))
        act: Activation = node["activation"]
        if act.name == "linear":
            values[v] = z
            continue
        out = _horner(_coeffs(act.pieces[0]), z)
        for k in range(len(act.breakpoints)):
            jump = _horner(_coeffs(sp.expand(act.pieces[k + 1] - act.pieces[k])), z)
            out += switch[(v, k)] * jump
        if max(sp.Poly(p, Z).degree() for p in act.pieces) > 1:
            # z² and higher powers square earlier switches; linear pieces never do.
            out = reduce_switch_products(out, ctx, groups)
        values[v] = out
    theta_ctx = flint.fmpq_mpoly_ctx.get(params, "deglex")
    xs_names = [*net.inputs, *[f"chi[{v}]" if len(g.nodes[v]["activation"].breakpoints) == 1
                               else f"chi[{v},{k + 1}]" for v, k in switch_keys]]
    comps = _components(net, values, n, theta_ctx, xs_names)
    kinds = {g.nodes[v]["activation"] for v in net.order()}
    family = ("piecewise" if any(a.is_piecewise for a in kinds)
              else "linear" if all(a.name == "linear" for a in kinds) else "polynomial")
    notes = []
    single = _single_input_units(net)
    if single:
        notes.append(
            f"unit(s) {', '.join(single)} see a single input and no bias: the data cannot set "
            "their activation patterns apart from the sign of that input, so some gradient "
            "directions of phi never occur and more laws may hold on some regions; the count is "
            "then a lower bound (the laws reported are laws in any case)")
    ordered = list(comps.values())
    return Factorisation(params, theta_ctx, tuple(c for c, _ in ordered),
                         tuple(lab for _, lab in ordered), family, tuple(notes))
