"""The population loss of Σ_j v_j relu(w_j·x) under x ~ N(0, I_d), through the arc-cosine kernel.

For a, b ∈ ℝ^d, φ = ∠(a, b) and S = ‖a‖‖b‖ sin φ = (‖a‖²‖b‖² − (a·b)²)^{1/2} (Lagrange's
identity writes S² as Σ_{p<q}(a_p b_q − a_q b_p)², non-negative term by term):

    k(a, b)  = E relu(a·x) relu(b·x) = (S + (π − φ) a·b)/(2π)        (Cho and Saul, NIPS 2009)
    k(a, a)  = ‖a‖²/2,    E relu(a·x)(ℓ·x) = a·ℓ/2,    E relu(a·x) = ‖a‖/√(2π),

with φ = 2 atan(S/(‖a‖‖b‖ + a·b)) (the half-angle form, regular at φ = π/2). The teacher
f*(x) = c₀ + ℓ·x + Σ_k α_k relu(u_k·x) is expanded on these. For the Rayleigh quotient the
residual gradient E[r ∂f/∂θ] uses the kernel's own gradient formulas, not a derivative of L:

    E[1{a·x>0} x relu(b·x)] = ((π − φ) b + (S/‖a‖²) a)/(2π),   E[1{a·x>0} x (ℓ·x)] = ℓ/2,
    E[1{a·x>0} x] = a/(‖a‖√(2π)).

The kernel is smooth where a, b are neither parallel nor zero; at w_j = 0 and w_j ∥ w_l the loss
has kinks that no switch marks (the Taylor steps shrink there, honestly reported).
"""

from __future__ import annotations

import sympy as sp

from kltools.errors import SpecError
from kltools.spec.distribution import Distribution
from kltools.spec.problem import Problem
from kltools.symbolic.kinks import switchify

__all__ = ["arccos_expressions", "relu_kernel"]

Vec = list[sp.Expr]


def _dot(a: Vec, b: Vec) -> sp.Expr:
    return sp.Add(*[p * q for p, q in zip(a, b, strict=True)])


def _norm(a: Vec) -> sp.Expr:
    return sp.sqrt(_dot(a, a))


def _sine_part(a: Vec, b: Vec) -> sp.Expr:
    """S = ‖a‖‖b‖ sin∠(a, b) through Lagrange's identity."""
    d = len(a)
    return sp.sqrt(sp.Add(*[(a[p] * b[q] - a[q] * b[p]) ** 2
                            for p in range(d) for q in range(p + 1, d)]))


def _angle(a: Vec, b: Vec) -> sp.Expr:
    return 2 * sp.atan(_sine_part(a, b) / (_norm(a) * _norm(b) + _dot(a, b)))


def relu_kernel(a: Vec, b: Vec) -> sp.Expr:
    """k(a, b) = E relu(a·x) relu(b·x), x ~ N(0, I) (module docstring); ‖a‖²/2 when a is b."""
    if a == b:
        return _dot(a, a) / 2
    return (_sine_part(a, b) + (sp.pi - _angle(a, b)) * _dot(a, b)) / (2 * sp.pi)


def _kernel_grad(a: Vec, b: Vec) -> Vec:
    """E[1{a·x>0} x relu(b·x)]; a/2 when a is b."""
    if a == b:
        return [p / 2 for p in a]
    phi, S, aa = _angle(a, b), _sine_part(a, b), _dot(a, a)
    return [((sp.pi - phi) * q + S * p / aa) / (2 * sp.pi) for p, q in zip(a, b, strict=True)]


def _student(problem: Problem) -> tuple[list[sp.Expr], list[Vec]]:
    """(v_j, w_j) with the node scales folded in (relu is positively homogeneous)."""
    net = problem.network
    assert net is not None
    g = net.graph
    theta = dict(zip(problem.parameters, problem.symbols, strict=True))
    out = net.outputs[0]
    vs, ws = [], []
    for u in g.graph["in_order"][out]:
        vs.append(g.nodes[out]["scale"] * theta[g.edges[u, out]["param"]])
        w = [sp.Integer(0)] * net.n_inputs
        for x in g.graph["in_order"][u]:
            w[net.inputs.index(x)] = g.nodes[u]["scale"] * theta[g.edges[x, u]["param"]]
        ws.append(w)
    return vs, ws


def _teacher(d: Distribution) -> tuple[sp.Expr, Vec, list[tuple[sp.Expr, Vec]]]:
    """f* = c₀ + ℓ·x + Σ α_k relu(u_k·x), or a SpecError."""
    xs = list(d.variables)
    expr, switches = switchify(d.teacher, prefix="_t")
    bad = SpecError("with Gaussian inputs in dim > 1 the teacher must be a constant plus a "
                    "linear form plus multiples of relu(u·x), abs(u·x) or leaky_relu(u·x, a) "
                    "(no offsets inside)", "data.teacher")
    expr = sp.expand(expr)
    relus = []
    for s in switches:
        surface = sp.expand(s.surface)
        if not surface.free_symbols <= set(xs) or not surface.is_polynomial(*xs) or \
                any(sum(m) != 1 for m in sp.Poly(surface, *xs).monoms()):
            raise bad
        alpha = sp.cancel(expr.coeff(s.symbol) / surface)
        if not alpha.is_number:
            raise bad
        relus.append((alpha, [surface.coeff(x) for x in xs]))
        expr = sp.expand(expr - s.symbol * alpha * surface)
    if expr.free_symbols - set(xs) or not expr.is_polynomial(*xs) or \
            sp.Poly(expr, *xs).total_degree() > 1:
        raise bad
    c0 = expr.xreplace({x: 0 for x in xs})
    return c0, [expr.coeff(x) for x in xs], relus


def _teacher_square(c0: sp.Expr, lin: Vec, relus: list[tuple[sp.Expr, Vec]]) -> sp.Expr:
    """E f*(x)² (exact: rationals, √ and π)."""
    out = c0**2 + _dot(lin, lin)
    for i, (al, u) in enumerate(relus):
        out += 2 * c0 * al * _norm(u) / sp.sqrt(2 * sp.pi) + al * _dot(u, lin)
        for bl, v in relus[i:]:
            out += (1 if v is u else 2) * al * bl * relu_kernel(u, v)
    return sp.simplify(out)


def arccos_expressions(problem: Problem, gradient: bool) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
    """½E(f − f*)² and (when ``gradient``) E[(f − f*)∂f/∂θ] for the arc-cosine case."""
    d = problem.data
    assert isinstance(d, Distribution)
    vs, ws = _student(problem)
    c0, lin, relus = _teacher(d)
    m = len(vs)
    # E[relu(w_j·x) r(x)] for each unit: the building block of both L and E[r∇f].
    cross = []
    for j in range(m):
        t = c0 * _norm(ws[j]) / sp.sqrt(2 * sp.pi) + _dot(ws[j], lin) / 2
        t += sp.Add(*[al * relu_kernel(ws[j], u) for al, u in relus])
        cross.append(t)
    ff = sp.Add(*[vs[j] * vs[l] * relu_kernel(ws[j], ws[l]) * (1 if j == l else 2)
                  for j in range(m) for l in range(j, m)])
    loss = (ff - 2 * sp.Add(*[vs[j] * cross[j] for j in range(m)])
            + _teacher_square(c0, lin, relus)) / 2
    if not gradient:
        return loss, ()
    by_symbol: dict[sp.Symbol, sp.Expr] = {}
    for j in range(m):
        rv = sp.Add(*[vs[l] * relu_kernel(ws[j], ws[l]) for l in range(m)]) - cross[j]
        gw = [sp.Add(*terms) for terms in zip(*[[vs[l] * c for c in _kernel_grad(ws[j], ws[l])]
                                                for l in range(m)], strict=True)]
        tw = [c0 * p / (_norm(ws[j]) * sp.sqrt(2 * sp.pi)) + q / 2
              for p, q in zip(ws[j], lin, strict=True)]
        for al, u in relus:
            tw = [a + al * b for a, b in zip(tw, _kernel_grad(ws[j], u), strict=True)]
        _assign(by_symbol, vs[j], rv)
        for k in range(len(ws[j])):
            _assign(by_symbol, ws[j][k], vs[j] * (gw[k] - tw[k]))
    return loss, tuple(by_symbol.get(p, sp.Integer(0)) for p in problem.symbols)


def _assign(out: dict[sp.Symbol, sp.Expr], coordinate: sp.Expr, value: sp.Expr) -> None:
    """E[r ∂f/∂θ] for the parameter inside ``coordinate`` = scale·θ (chain rule for the
    scale)."""
    if coordinate == 0:
        return
    scale, sym = coordinate.as_coeff_Mul()
    out[sym] = scale * value
