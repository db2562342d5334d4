"""Exact identities of gradient flows, proved (or refuted) symbolically.

Each function returns :class:`Identity` results with status ``proved`` (the difference of the two
sides simplifies to 0 on every activation pattern: the switches are symbols held constant),
``refuted`` (a rational witness point where the difference is non-zero, evaluated exactly or
with 15 guaranteed digits), or ``inconclusive`` (SymPy could not simplify and no witness was
found).

* Energy: d/dt L(θ(t)) = ∇L·θ' = −s‖∇L‖². Proved by comparing the reverse-mode gradient with an
  independent ``sympy.diff`` of the full loss (the identity is the chain rule; what can fail is
  the gradient).
* Euler: a positively k-homogeneous output satisfies ⟨θ, ∇_θ f(θ; x)⟩ = k f(θ; x). The degree is
  read from the graph when it can be (:meth:`Network.homogeneity_degree`); otherwise the
  candidate is the ratio ⟨θ, ∇f⟩/f, which must be a constant.
* Balancedness: for a hidden unit v with a positively k-homogeneous activation,
  h_v = ‖incoming weights (and bias)‖² − k‖outgoing weights‖² has d/dt h_v = −s ∇h_v·∇L = 0
  (k = 1: the classical law); per layer of an MLP, ‖W_l‖² + ‖b_l‖² − k‖W_{l+1}‖² likewise.
  Without regularisation only. Units touching a fixed weight or a shared parameter have no
  per-unit law (the rescaling that gives it moves other units too) and are skipped.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy as sp

from kltools.errors import DerivationError
from kltools.symbolic.derivation import Derivation

__all__ = [
    "Identity", "balancedness", "balancedness_laws", "energy_identity", "euler_identity",
    "prove_zero",
]


@dataclass(frozen=True)
class Identity:
    """The outcome of one symbolic identity check."""

    name: str
    statement: str
    status: str  # proved | refuted | inconclusive
    residual: str = "0"
    witness: dict[str, str] = field(default_factory=dict)
    detail: str = ""

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "statement": self.statement, "status": self.status,
                "residual": self.residual, "witness": self.witness, "detail": self.detail}


def _simplified(expr: sp.Expr) -> sp.Expr:
    # Expansion is a decision procedure for polynomials. For the rest, each transcendental
    # application (tanh(u), exp(u), ...) is treated as an independent atom; an identity that needs
    # relations between atoms is left to the witness search (never to sp.simplify, whose run
    # time is unpredictable on these expressions).
    e = sp.expand(expr)
    if e == 0 or e.is_polynomial():
        return e
    atoms = sorted(e.atoms(sp.Function), key=sp.default_sort_key)
    dummies = {a: sp.Dummy(f"t{i}") for i, a in enumerate(atoms)}
    if sp.expand(e.xreplace(dummies)) == 0:
        return sp.Integer(0)
    return e


def prove_zero(expr: sp.Expr, symbols: Sequence[sp.Symbol], switches: Sequence[sp.Symbol] = (),
               *, tries: int = 12, seed: int = 0) -> tuple[str, sp.Expr, dict[str, str]]:
    """Decide whether ``expr`` is identically 0 (switches range over {0, 1}).

    Returns ``(status, simplified residual, witness)``. A witness is a point with small rational
    coordinates where the residual is provably non-zero (exact evaluation, or SymPy's
    ``evalf(strict=True)`` with 15 guaranteed digits).
    """
    res = _simplified(expr)
    if res == 0:
        return "proved", res, {}
    rng = random.Random(seed)
    free = [s for s in list(symbols) + list(switches) if s in res.free_symbols]
    for _ in range(tries):
        env = {s: (sp.Integer(rng.randint(0, 1)) if s in switches
                   else sp.Rational(rng.randint(-9, 9), rng.randint(1, 4))) for s in free}
        v = res.xreplace(env)
        if v.is_Rational:
            if v != 0:
                return "refuted", res, {str(k): str(x) for k, x in env.items()}
            continue
        if _certainly_nonzero(v):
            return "refuted", res, {str(k): str(x) for k, x in env.items()}
    return "inconclusive", res, {}


def _certainly_nonzero(v: sp.Expr) -> bool:
    # SymPy's evalf raises PrecisionExhausted under strict=True unless it can guarantee the
    # requested relative accuracy; 15 guaranteed digits of a non-zero value prove v != 0.
    try:
        num = v.evalf(15, strict=True)
    except (sp.core.evalf.PrecisionExhausted, TypeError, ValueError):
        return False
    return bool(num.is_number and num.is_nonzero)


def _identity(name: str, statement: str, diff: sp.Expr, d: Derivation, detail: str = ""
              ) -> Identity:
    status, res, witness = prove_zero(diff, d.parameters, d.switch_symbols)
    return Identity(name, statement, status, str(res), witness, detail)


def energy_identity(d: Derivation) -> Identity:
    """dL/dt = −s‖∇L‖² along the flow, with ∇L the reverse-mode gradient checked against an
    independent ``sympy.diff`` of the full loss."""
    L = d.loss_expr
    g = d.gradient_exprs
    s = d.flow_scale
    dLdt = sp.Add(*[sp.diff(L, p) * (-s * gi) for p, gi in zip(d.parameters, g, strict=True)])
    diff = dLdt + s * sp.Add(*[gi**2 for gi in g])
    return _identity("energy", "d/dt L(θ(t)) = −s‖∇L(θ(t))‖²", diff, d)


def euler_identity(d: Derivation, degree: int | None = None) -> list[Identity]:
    """⟨θ, ∇f(θ; x_i)⟩ = k f(θ; x_i) for every sample and output.

    ``degree`` defaults to the network's degree read from its graph; when the graph says it is
    not homogeneous, the candidate k is the depth (the degree it would have without biases and
    with homogeneous activations), so that the result is a refutation with a witness.
    """
    net = d.problem.network
    if net is None:
        raise DerivationError("Euler's identity is about network outputs; this is an objective")
    k = degree if degree is not None else net.homogeneity_degree()
    detail = "degree from the graph"
    if k is None:
        k = _depth(d)
        detail = f"graph says not homogeneous; testing the candidate degree {k}"
    out = []
    for i, row in enumerate(d.output_exprs, start=1):
        for o, f in enumerate(row, start=1):
            lhs = sp.Add(*[p * sp.diff(f, p) for p in d.parameters])
            out.append(_identity(f"euler[s{i},y{o}]", f"⟨θ, ∇f(θ; x_{i})⟩ = {k}·f(θ; x_{i})",
                                 lhs - k * f, d, detail))
    return out


def _depth(d: Derivation) -> int:
    import networkx as nx

    net = d.problem.network
    assert net is not None
    return int(nx.dag_longest_path_length(net.graph))


def _law_degree(act: object) -> int:
    # A positively k-homogeneous unit is invariant under (in, out) -> (c·in, c^(-k)·out), whence
    # ⟨in, ∇_in L⟩ = k⟨out, ∇_out L⟩ and ‖in‖² − k‖out‖² is conserved. Non-homogeneous units get
    # the k = 1 candidate, which the check then refutes.
    h = getattr(act, "homogeneity", None)
    return h if h is not None else 1


def _rescalable(g: object, v: str) -> bool:
    """Whether unit v's own weights can be rescaled alone: every edge into and out of v
    carries a trained parameter found on no other edge. A fixed weight cannot scale, and a
    shared parameter (a convolution kernel) scales on every edge it sits on at once, so the
    per-unit law does not hold (whole-network laws are left to :mod:`kltools.symbolic.laws`)."""
    shared = g.graph.get("shared", frozenset())  # type: ignore[attr-defined]
    edges = [*g.in_edges(v), *g.out_edges(v)]  # type: ignore[attr-defined]
    return all(g.edges[e]["param"] is not None  # type: ignore[attr-defined]
               and g.edges[e]["param"] not in shared for e in edges)


def balancedness_laws(d: Derivation) -> list[tuple[str, str, sp.Expr]]:
    """The candidate balancedness laws ``(name, statement, h)``, per hidden unit and (for
    MLPs) per layer: h = ‖in‖² − k‖out‖² (module docstring)."""
    net = d.problem.network
    if net is None:
        raise DerivationError("balancedness laws are about network units; this is an objective")
    g = net.graph
    sym = dict(zip(d.problem.parameters, d.parameters, strict=True))
    laws: list[tuple[str, str, sp.Expr]] = []
    for v in net.order():
        if g.nodes[v]["role"] != "unit":
            continue
        if not _rescalable(g, v):
            continue
        k = _law_degree(g.nodes[v]["activation"])
        inc = [sym[g.edges[u, v]["param"]] for u in g.predecessors(v)]
        if g.nodes[v]["bias"] is not None:
            inc.append(sym[g.nodes[v]["bias"]])
        outg = [sym[g.edges[v, t]["param"]] for t in g.successors(v)]
        h = sp.Add(*[w**2 for w in inc]) - k * sp.Add(*[w**2 for w in outg])
        kk = "" if k == 1 else f"{k}·"
        laws.append((f"balanced[{v}]", f"‖in({v})‖² − {kk}‖out({v})‖² is constant", h))
    if net.kind == "mlp":
        layers: dict[int, list[str]] = {}
        for p in d.problem.parameters:
            layer = int(p[1:].split("_")[0])
            layers.setdefault(layer, []).append(p)
        for li in sorted(layers)[:-1]:
            k = _law_degree(g.nodes[f"h{li}_1"]["activation"])
            kk = "" if k == 1 else f"{k}·"
            h = (sp.Add(*[sym[p] ** 2 for p in layers[li]])
                 - k * sp.Add(*[sym[p] ** 2 for p in layers[li + 1] if p.startswith("W")]))
            laws.append((f"balanced[layer {li}]",
                         f"‖W{li}‖² + ‖b{li}‖² − {kk}‖W{li + 1}‖² is constant", h))
    return laws


def balancedness(d: Derivation) -> list[Identity]:
    """The balancedness conservation laws, per hidden unit and (for MLPs) per layer.

    Each law h is checked by d/dt h = ∇h·θ' = 0 symbolically, on every activation pattern.
    """
    laws = balancedness_laws(d)
    flow = d.flow_exprs
    out = []
    for name, statement, h in laws:
        dh = sp.Add(*[sp.diff(h, p) * f for p, f in zip(d.parameters, flow, strict=True)])
        out.append(_identity(name, statement, dh, d))
    return out
