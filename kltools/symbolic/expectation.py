"""Exact expectations over an input distribution: the population loss in closed form.

For a network problem whose ``[data]`` is a :class:`~kltools.spec.distribution.Distribution`,

    L(θ) = ½ E_x (f(θ; x) − f*(x))² + (λ/2s)‖θ‖²,

computed exactly by one of three closed forms (:func:`~kltools.spec.distribution.exact_method`):

* **moments** (polynomial f and f*, any dimension): expand (f − f*)² in x and replace each
  monomial by its moment, coordinates independent: E x^{2k} = 1/(2k + 1) under U[−1, 1],
  (2k − 1)!! under N(0, 1), odd moments 0.
* **piecewise-1d** (one input): every kink of a unit, w x + b = β, and of the teacher becomes an
  x-switch χ with the *cut* a x + c > 0 (a, c polynomials in θ). (f − f*)² is a polynomial in x and
  the χ's; each monomial Π_{i∈S} χ_i · P(x) integrates P over {x in the support : a_i x + c_i > 0,
  i ∈ S}, an interval whose ends are −1, 1 and the kink positions e_i = −c_i/a_i. Which e_i bounds
  from below (a_i > 0) or above (a_i < 0), and which bound is the largest, are decided by
  *θ-switches* with polynomial surfaces (a_i; ε_i(−c_i − v a_i) against a constant v;
  ε_iε_j(c_j a_i − c_i a_j) between two kinks, ε = sign a): these are the kinks of L in θ, handed
  to the derivation like any other switch. On each pattern of θ-switches L is a rational function
  of θ, and L is continuous across every surface (the integrand is, and the ends move
  continuously). Gaussian inputs allow only kinks fixed at x = 0 (then the pieces are half-line
  moments ∫₀^∞ x^k φ = 2^{k/2}Γ((k + 1)/2)/(2√π)).
* **arc-cosine** (Gaussian inputs, any dimension, Σ_j v_j relu(w_j·x)): see
  :mod:`kltools.symbolic._arccos`.

Everything is exact SymPy (rationals, √, π); nothing is sampled. A network or teacher outside these
forms is a :class:`~kltools.errors.SpecError` that says why.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from kltools.errors import SpecError
from kltools.spec.distribution import Distribution, exact_method
from kltools.spec.problem import Problem
from kltools.symbolic.kinks import Switch, switchify

__all__ = [
    "PopulationExpressions", "expectation", "moment", "population_expressions",
    "population_forward",
]


def moment(k: int, kind: str) -> sp.Expr:
    """E x^k for x ~ U[−1, 1] (``uniform``) or N(0, 1) (``gaussian``), exact.

    >>> [moment(k, "uniform") for k in range(5)], [moment(k, "gaussian") for k in range(7)]
    ([1, 0, 1/3, 0, 1/5], [1, 0, 1, 0, 3, 0, 15])
    """
    if k % 2:
        return sp.Integer(0)
    return sp.Rational(1, k + 1) if kind == "uniform" else sp.factorial2(k - 1)


def _half_moment(k: int, side: int) -> sp.Expr:
    """∫ x^k φ(x) dx over x > 0 (side = 1) or x < 0 (side = −1), φ the N(0, 1) density."""
    m = 2 ** sp.Rational(k, 2) * sp.gamma(sp.Rational(k + 1, 2)) / (2 * sp.sqrt(sp.pi))
    return m * side**k


# -- θ-switches --------------------------------------------------------------------------------
class _Switches:
    """The kinks of L in θ: one :class:`Switch` per surface, shared by sign (s and −s)."""

    def __init__(self, params: Sequence[sp.Symbol], prefix: str = "chi_pop") -> None:
        self.params = tuple(params)
        self.prefix = prefix
        self.items: list[Switch] = []
        self._by_key: dict[sp.Expr, sp.Symbol] = {}

    def indicator(self, surface: sp.Expr) -> sp.Expr:
        """[surface > 0]: a number when the surface is a constant, else χ or 1 − χ."""
        s = sp.expand(surface)
        if s.is_number:
            return sp.Integer(1 if s > 0 else 0)
        _, prim = sp.Poly(s, *self.params).primitive()
        key = prim.as_expr()
        if key in self._by_key:
            return self._by_key[key]
        if -key in self._by_key:
            return 1 - self._by_key[-key]
        chi = sp.Symbol(f"{self.prefix}{len(self.items) + 1}", real=True)
        self.items.append(Switch(chi, key, f"population kink {key} = 0"))
        self._by_key[key] = chi
        return chi


@dataclass(frozen=True)
class _End:
    """An interval end p/q with sign(q) = eps known (q = 1 for the constants ±1)."""

    p: sp.Expr
    q: sp.Expr
    eps: int

    def value(self) -> sp.Expr:
        return self.p / self.q


def _greater(u: _End, v: _End, sw: _Switches) -> sp.Expr:
    """[u > v]: sign(u − v) = sign(u.p v.q − v.p u.q)·u.eps·v.eps (no division)."""
    return sw.indicator(u.eps * v.eps * (u.p * v.q - v.p * u.q))


def _is_max(ends: Sequence[_End], i: int, sw: _Switches) -> sp.Expr:
    """[ends[i] is the largest], ties to the lowest index (a measure-zero choice: the integral is
    continuous there)."""
    out: sp.Expr = sp.Integer(1)
    for j, e in enumerate(ends):
        if j != i:
            out *= _greater(ends[i], e, sw) if j < i else 1 - _greater(e, ends[i], sw)
            if out == 0:
                break
    return out


def _negate(e: _End) -> _End:
    return _End(-e.p, e.q, e.eps)


def _antiderivative(poly: sp.Poly) -> list[sp.Expr]:
    """Coefficients g_k of G(x) = ∫₀ˣ P, G = Σ g_k x^k."""
    coeffs = poly.all_coeffs()[::-1]
    return [sp.Integer(0)] + [c / (k + 1) for k, c in enumerate(coeffs)]


def _at(anti: list[sp.Expr], e: _End) -> sp.Expr:
    """G(p/q). Where q = a (a unit's weight) this divides by a: the term counts only where the
    kink lies strictly inside (−1, 1), hence a ≠ 0, and is multiplied by a zero switch
    elsewhere. It is never evaluated at a = 0 exactly on the default path: a start on a kink
    surface is refused before any loss value, and the surfaces are computed from θ alone (the
    derivation keeps no forward blocks for a population loss). With an explicit convention at
    a start where a weight is exactly 0 the inactive 1/a is not finite (a known gap)."""
    return sp.Add(*[g * e.p**k / e.q**k for k, g in enumerate(anti) if g != 0])


def _uniform_interval(poly: sp.Poly, lows: list[_End], highs: list[_End], sw: _Switches,
                      weight: sp.Expr) -> sp.Expr:
    """weight·½∫_lo^hi P over lo = max(lows), hi = min(highs), 0 when hi ≤ lo (``weight``: the
    product of sign switches that selected the ends)."""
    anti = _antiderivative(poly)
    total: sp.Expr = sp.Integer(0)
    neg_highs = [_negate(h) for h in highs]
    for i, hi in enumerate(highs):
        top = _is_max(neg_highs, i, sw)
        if top == 0:
            continue
        for j, lo in enumerate(lows):
            ind = top * _is_max(lows, j, sw)
            ind = ind * _greater(hi, lo, sw) if ind != 0 else ind
            if ind != 0:
                total += weight * ind * (_at(anti, hi) - _at(anti, lo))
    return total / 2


def _gaussian_region(poly: sp.Poly, lows: list[_End], highs: list[_End]) -> sp.Expr:
    """∫ P φ over the region cut at x = 0 only (every end 0): ℝ, x > 0, x < 0 or empty."""
    if any(e.p != 0 for e in (*lows, *highs)):
        raise SpecError("with Gaussian inputs the kinks of units and teacher must sit at x = 0 "
                        "(no biases, breakpoints at 0): the integral over a half-line cut "
                        "elsewhere needs erf; use uniform inputs for moving kinks",
                        "data.distribution")
    coeffs = poly.all_coeffs()[::-1]
    if lows and highs:
        return sp.Integer(0)
    if not lows and not highs:
        return sp.Add(*[c * moment(k, "gaussian") for k, c in enumerate(coeffs)])
    side = 1 if lows else -1
    return sp.Add(*[c * _half_moment(k, side) for k, c in enumerate(coeffs)])


def _region_integral(poly: sp.Poly, cuts: Sequence[tuple[sp.Expr, sp.Expr]], kind: str,
                     sw: _Switches) -> sp.Expr:
    """E[P(x) · Π_i [a_i x + c_i > 0]] for x ~ U[−1, 1] or N(0, 1) (module docstring)."""
    weight: sp.Expr = sp.Integer(1)
    options: list[list[tuple[int, sp.Expr]]] = []
    for a, c in cuts:
        if a == 0:  # a unit whose pre-activation is constant in x: a plain kink in θ
            weight *= sw.indicator(c)
        elif a.is_number:
            options.append([(1 if a > 0 else -1, sp.Integer(1))])
        else:
            sigma = sw.indicator(a)
            options.append([(1, sigma), (-1, 1 - sigma)])
        if weight == 0:
            return sp.Integer(0)
    moving = [(a, c) for a, c in cuts if a != 0]
    total: sp.Expr = sp.Integer(0)
    for choice in itertools.product(*options):
        w = weight * sp.Mul(*[o[1] for o in choice])
        if w == 0:
            continue
        ends = [(_End(-c, a, o[0]), o[0]) for (a, c), o in zip(moving, choice, strict=True)]
        lows = [e for e, eps in ends if eps > 0]
        highs = [e for e, eps in ends if eps < 0]
        if kind == "gaussian":
            total += w * _gaussian_region(poly, lows, highs)
        else:
            one = sp.Integer(1)
            total += _uniform_interval(poly, [_End(-one, one, 1), *lows],
                                       [_End(one, one, 1), *highs], sw, w)
    return total


def _by_switch_subset(expr: sp.Expr, chis: Sequence[sp.Symbol]
                      ) -> dict[frozenset[sp.Symbol], sp.Expr]:
    """expr = Σ_S (Π_{χ∈S} χ) · P_S with χ² = χ: the P_S (free of the χ's)."""
    chiset = set(chis)
    groups: dict[frozenset[sp.Symbol], list[sp.Expr]] = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        used = frozenset(term.free_symbols & chiset)
        groups.setdefault(used, []).append(term.xreplace({c: 1 for c in used}))
    return {k: sp.Add(*v) for k, v in groups.items()}


def expectation(expr: sp.Expr, d: Distribution, cuts: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]],
                sw: _Switches) -> sp.Expr:
    """E_x[expr] with expr polynomial in x and in the x-switches ``cuts`` (χ ↦ (a, c): χ = 1
    where a x + c > 0, one input); switches of L in θ are registered in ``sw``."""
    xs = d.variables
    total: sp.Expr = sp.Integer(0)
    for subset, part in _by_switch_subset(expr, list(cuts)).items():
        if not subset:
            poly = sp.Poly(part, *xs)
            total += sp.Add(*[c * sp.Mul(*[moment(k, d.kind) for k in ks])
                              for ks, c in poly.terms()])
            continue
        poly = sp.Poly(part, xs[0])
        total += _region_integral(poly, [cuts[c] for c in sorted(subset, key=str)], d.kind, sw)
    return total


def _switch_abs(exprs: Sequence[sp.Expr], sw: _Switches) -> list[sp.Expr]:
    """|e| = (2χ − 1)e with χ = [e > 0] from ``sw``: SymPy writes √(e²) as |e| (the
    arc-cosine kernel's S in two dimensions), a kink of L in θ like any other."""
    atoms: set[sp.Abs] = set()
    for e in exprs:
        atoms |= e.atoms(sp.Abs)
    if any(a.args[0].has(sp.Abs) for a in atoms):
        raise SpecError("nested absolute values in the population loss: no switch form")
    rule = {a: (2 * sw.indicator(a.args[0]) - 1) * a.args[0]
            for a in sorted(atoms, key=sp.default_sort_key)}
    return [e.xreplace(rule) for e in exprs]


# -- the network and the teacher as functions of x ---------------------------------------------
def _cut(surface: sp.Expr, x: sp.Symbol, chis: set[sp.Symbol], where: str
         ) -> tuple[sp.Expr, sp.Expr]:
    s = sp.expand(surface)
    if s.free_symbols & chis or not s.is_polynomial(x) or sp.degree(s, x) > 1:
        raise SpecError(f"the kink of {where} is not at an affine function of x (a piecewise "
                        "unit after another piecewise unit): its position has no closed form; "
                        "keep piecewise units in the first hidden layer", "network")
    return s.coeff(x, 1), s.coeff(x, 0)


def network_of_x(problem: Problem) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """f(θ; x) with an x-switch per kink of every unit (symbol ↦ its surface z − β)."""
    net, d = problem.network, problem.data
    assert net is not None and isinstance(d, Distribution)
    g = net.graph
    theta = dict(zip(problem.parameters, problem.symbols, strict=True))
    a: dict[str, sp.Expr] = dict(zip(net.inputs, d.variables, strict=True))
    surfaces: dict[sp.Symbol, sp.Expr] = {}
    for v in net.order():
        node = g.nodes[v]
        pre = sp.Add(*[theta[g.edges[u, v]["param"]] * a[u] for u in g.graph["in_order"][v]])
        if node["bias"] is not None:
            pre += theta[node["bias"]]
        z = sp.expand(node["scale"] * pre)
        chis = []
        for b in node["activation"].breakpoints:
            chi = sp.Symbol(f"_u{len(surfaces) + 1}", real=True)
            surfaces[chi] = z - b
            chis.append(chi)
        a[v] = node["activation"].value(z, chis)
    return a[net.outputs[0]], surfaces


def teacher_of_x(d: Distribution) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """f*(x) with an x-switch per kink (Max/Min/Abs rewritten by :func:`switchify`)."""
    expr, switches = switchify(d.teacher, prefix="_t")
    return expr, {s.symbol: s.surface for s in switches}


@dataclass(frozen=True)
class PopulationExpressions:
    """The closed forms of one population problem.

    Attributes
    ----------
    data_loss
        ½E(f − f*)² (no L2 term), in θ and the θ-switches.
    residual_gradient
        E[(f − f*)·∂f/∂θ_j] per parameter, computed by integrating r·∂f/∂θ_j itself (not by
        differentiating ``data_loss``): ∇(data_loss) equals it, the population form of
        ∇L = (1/n)Jᵀr.
    switches
        The θ-switches (kinks of L in θ), each surface a polynomial in θ.
    method
        ``moments``, ``piecewise-1d`` or ``arc-cosine``.
    """

    data_loss: sp.Expr
    residual_gradient: tuple[sp.Expr, ...]
    switches: tuple[Switch, ...]
    method: str


def population_expressions(problem: Problem, *, gradient: bool = False) -> PopulationExpressions:
    """The exact population loss of ``problem`` (and E[r∇f] when ``gradient``)."""
    net, d = problem.network, problem.data
    assert net is not None and isinstance(d, Distribution)
    method = exact_method(net, d)
    if method == "arc-cosine":
        from kltools.symbolic._arccos import arccos_expressions

        loss, grad = arccos_expressions(problem, gradient)
        sw = _Switches(problem.symbols)
        loss, *rest = _switch_abs([loss, *grad], sw)
        return PopulationExpressions(loss, tuple(rest), tuple(sw.items), method)
    f, f_surfaces = network_of_x(problem)
    t, t_surfaces = teacher_of_x(d)
    chis = set(f_surfaces) | set(t_surfaces)
    cuts = {}
    if chis:
        x = d.variables[0]
        for chi, s in {**f_surfaces, **t_surfaces}.items():
            cuts[chi] = _cut(s, x, chis, "the teacher" if chi in t_surfaces else "a unit")
            if d.kind == "gaussian" and chi in t_surfaces and cuts[chi][1] != 0:
                raise SpecError(f"with Gaussian inputs the teacher's kinks must sit at x = 0; "
                                f"{s} = 0 is elsewhere and the integral over a half-line cut "
                                "there needs erf; use uniform inputs", "data.teacher")
    sw = _Switches(problem.symbols)
    r = f - t
    loss = expectation(r**2, d, cuts, sw) / 2
    grad: tuple[sp.Expr, ...] = ()
    if gradient:
        grad = tuple(expectation(r * sp.diff(f, p), d, cuts, sw) for p in problem.symbols)
    return PopulationExpressions(loss, grad, tuple(sw.items), method)


def population_forward(problem: Problem) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[Switch],
                                                  sp.Expr]:
    """The derivation's program of L = ½E(f − f*)² + (λ/2s)‖θ‖² (one expression, no blocks),
    with the θ-switches."""
    assert problem.loss is not None and problem.network is not None
    ex = population_expressions(problem)
    loss = ex.data_loss
    reg = problem.loss.l2 / (2 * problem.network.flow_scale)
    if reg:
        loss += reg * sp.Add(*[p**2 for p in problem.symbols])
    # No forward blocks: the kink surfaces are then evaluated from θ alone (a surface program
    # runs every forward block), so a loss term that divides by a unit's weight is never
    # computed before the pattern says the point is off that kink. Reverse mode and the
    # compiler share identical subexpressions themselves.
    return [], list(ex.switches), loss
