"""The symbolic derivation of a problem: loss, gradient, flow, kinks, Hessian, Jacobian, Gram.

:func:`derive` builds the forward program of the loss as a list of small assignments (one per
pre-activation, activation, residual and loss term, per sample), rewrites every kink as an
explicit switch (:mod:`kltools.symbolic.kinks`) and takes the gradient by symbolic reverse mode
(:mod:`kltools.symbolic.reverse`). The result, a :class:`Derivation`, keeps the expressions in
this shared (CSE) form; full expressions are produced on demand for display and proofs.

Conventions: the flow is θ' = −s·∇L(θ) with s = ``flow_scale`` (1, or N for mean-field
particles). On each activation pattern (fixed switch values) everything is smooth; the value of a
switch on its own surface is the caller's explicit :class:`~kltools.symbolic.kinks.KinkConvention`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import sympy as sp

from kltools.errors import DerivationError
from kltools.spec.activations import Activation
from kltools.spec.distribution import Distribution
from kltools.spec.functions import softplus
from kltools.spec.problem import Problem
from kltools.symbolic.crossentropy import cross_entropy
from kltools.symbolic.kinks import KinkConvention, Switch, switch_values, switchify
from kltools.symbolic.maxpool import max_pool
from kltools.symbolic.reverse import Blocks, expand_blocks, reverse_gradient

__all__ = ["Derivation", "derive"]

_POPULATION_NO_SAMPLES = (
    "a population loss has no samples: its residual is the function r(x) = f(θ; x) − f*(x) "
    "and its kernel an integral operator; use kltools.symbolic.expectation (E[r∇f]) instead")


class Derivation:
    """Everything symbolic about one problem. Build with :func:`derive`.

    Attributes
    ----------
    problem
        The :class:`~kltools.spec.problem.Problem`.
    parameters
        θ as real SymPy symbols, canonical order.
    switches
        The :class:`~kltools.symbolic.kinks.Switch` es, in an order where each surface uses only
        earlier switches.
    forward
        Forward assignments (block symbol, expression).
    adjoint
        Reverse-mode assignments, after ``forward``.
    loss
        L in terms of the forward blocks.
    gradient
        ∇L, one expression per parameter, in terms of all blocks.
    outputs
        Network outputs f(θ; x_i) per sample (a list of per-output expressions), forward-block
        form; empty for objective problems.
    """

    def __init__(self, problem: Problem, parameters: tuple[sp.Symbol, ...],
                 switches: tuple[Switch, ...], forward: Blocks, loss: sp.Expr,
                 outputs: list[list[sp.Expr]]) -> None:
        self.problem = problem
        self.parameters = parameters
        self.switches = switches
        self.forward = forward
        self.loss = loss
        self.outputs = outputs
        self.adjoint, self.gradient = reverse_gradient(forward, loss, parameters)

    def __repr__(self) -> str:
        return f"Derivation({self.summary()})"

    def _repr_latex_(self) -> str:
        """L, ∇L and the kink surfaces as equations (notebooks; see :mod:`kltools.display`)."""
        from kltools.display import derivation_latex

        return derivation_latex(self)

    # -- shapes -------------------------------------------------------------------------------
    @property
    def blocks(self) -> Blocks:
        """Forward then adjoint assignments: the CSE form of loss and gradient."""
        return self.forward + self.adjoint

    @property
    def flow_scale(self) -> sp.Rational:
        return self.problem.flow_scale

    @property
    def switch_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(s.symbol for s in self.switches)

    @property
    def is_piecewise(self) -> bool:
        return bool(self.switches)

    # -- full expressions (small models) -------------------------------------------------------
    @cached_property
    def loss_expr(self) -> sp.Expr:
        """L(θ, χ) as one expression."""
        return expand_blocks([self.loss], self.forward)[0]

    @cached_property
    def gradient_exprs(self) -> list[sp.Expr]:
        """∇L(θ, χ) as full expressions."""
        return expand_blocks(self.gradient, self.blocks)

    @property
    def flow_exprs(self) -> list[sp.Expr]:
        """θ' = −s·∇L as full expressions."""
        return [-self.flow_scale * g for g in self.gradient_exprs]

    @cached_property
    def surface_exprs(self) -> list[sp.Expr]:
        """Each kink surface s_k(θ, χ) as a full expression."""
        return expand_blocks([s.surface for s in self.switches], self.forward)

    @cached_property
    def output_exprs(self) -> list[list[sp.Expr]]:
        """f(θ; x_i) per sample and output, full expressions."""
        flat = [f for row in self.outputs for f in row]
        full = expand_blocks(flat, self.forward)
        m = len(self.outputs[0]) if self.outputs else 0
        return [full[i * m:(i + 1) * m] for i in range(len(self.outputs))]

    def hessian(self) -> sp.Matrix:
        """∇²L(θ, χ) (switches held fixed), by differentiating the full gradient."""
        g = self.gradient_exprs
        return sp.Matrix(len(g), len(g), lambda i, j: sp.diff(g[i], self.parameters[j]))

    def jacobian(self) -> sp.Matrix:
        """J = ∂f/∂θ, one row per (sample, output), by reverse mode per output."""
        if isinstance(self.problem.data, Distribution):
            raise DerivationError(_POPULATION_NO_SAMPLES)
        if not self.outputs:
            raise DerivationError("an objective problem has no network outputs; J and the "
                                  "tangent kernel are defined for network problems")
        rows = []
        for row in self.outputs:
            for f in row:
                adj, grad = reverse_gradient(self.forward, f, self.parameters, prefix="j")
                rows.append(expand_blocks(grad, self.forward + adj))
        return sp.Matrix(rows)

    def gram(self) -> sp.Matrix:
        """The tangent-kernel Gram matrix K = J Jᵀ."""
        j = self.jacobian()
        return j * j.T

    def residuals(self) -> list[sp.Expr]:
        """r = f(θ; X) − y, flattened sample-major (square loss)."""
        if isinstance(self.problem.data, Distribution):
            raise DerivationError(_POPULATION_NO_SAMPLES)
        assert self.problem.data is not None
        return [f - y for row, ys in zip(self.output_exprs, self.problem.data.y, strict=True)
                for f, y in zip(row, ys, strict=True)]

    # -- patterns ------------------------------------------------------------------------------
    @cached_property
    def _surface_levels(self) -> list[list[int]]:
        index = {s.symbol: i for i, s in enumerate(self.switches)}
        level: list[int] = []
        for e in self.surface_exprs:
            deps = [level[index[c]] for c in e.free_symbols if c in index]
            level.append(1 + max(deps, default=-1))
        groups: dict[int, list[int]] = {}
        for i, lv in enumerate(level):
            groups.setdefault(lv, []).append(i)
        return [groups[k] for k in sorted(groups)]

    def pattern(self, theta: Sequence[object],
                convention: KinkConvention = KinkConvention.ERROR) -> tuple[int, ...]:
        """The switch values χ at θ (exact if θ is exact), level by level since a surface may
        depend on earlier switches."""
        if not self.switches:
            return ()
        env = dict(zip(self.parameters, [sp.sympify(t) for t in theta], strict=True))
        chi: list[int] = [0] * len(self.switches)
        labels = [s.label for s in self.switches]
        for group in self._surface_levels:
            for i in group:
                e = self.surface_exprs[i].xreplace(env).xreplace(
                    {s.symbol: chi[k] for k, s in enumerate(self.switches)})
                chi[i] = switch_values([e], convention, [labels[i]])[0]
        return tuple(chi)

    def on_pattern(self, chi: Sequence[int]) -> dict[sp.Symbol, int]:
        """The substitution that fixes the switches (for evaluating full expressions)."""
        return dict(zip(self.switch_symbols, chi, strict=True))

    def summary(self) -> str:
        from kltools.display import plural

        return (f"{self.problem.describe()}: {plural(len(self.parameters), 'parameter')}, "
                f"{plural(len(self.switches), 'kink surface')}, "
                f"{plural(len(self.blocks), 'CSE block')}")


def _network_forward(problem: Problem) -> tuple[Blocks, list[Switch], sp.Expr,
                                                list[list[sp.Expr]]]:
    net, data, loss = problem.network, problem.data, problem.loss
    assert net is not None and data is not None and loss is not None
    g = net.graph
    theta = dict(zip(problem.parameters, problem.symbols, strict=True))
    blocks: Blocks = []
    switches: list[Switch] = []
    outputs: list[list[sp.Expr]] = []
    order = net.order()
    loss_terms: list[sp.Expr] = []

    def block(name: str, e: sp.Expr) -> sp.Expr:
        if e.is_Atom:
            return e
        s = sp.Symbol(name, real=True)
        blocks.append((s, e))
        return s

    for i, (x, y) in enumerate(zip(data.x, data.y, strict=True), start=1):
        a: dict[str, sp.Expr] = dict(zip(net.inputs, x, strict=True))
        for v in order:
            node = g.nodes[v]
            terms = [net.edge_weight(u, v, theta) * a[u] for u in g.graph["in_order"][v]]
            if net.is_max(v):
                a[v] = max_pool(terms, block, switches, f"{v}_s{i}", f"{v} at sample {i}")
                continue
            pre = sp.Add(*terms)
            if node["bias"] is not None:
                pre += theta[node["bias"]]
            z = block(f"z_{v}_s{i}", node["scale"] * pre)
            act: Activation = node["activation"]
            chis = []
            if act.is_piecewise and z.is_number:
                # The pre-activation is a constant here (e.g. x = 0, no bias): no kink to cross,
                # and σ is continuous, so the piece does not matter.
                chis = [sp.Integer(1 if bool(z >= b) else 0) for b in act.breakpoints]
            elif act.is_piecewise:
                for k, b in enumerate(act.breakpoints, start=1):
                    suffix = f"_k{k}" if len(act.breakpoints) > 1 else ""
                    chi = sp.Symbol(f"chi_{v}_s{i}{suffix}", real=True)
                    switches.append(Switch(chi, z - b, f"{v} at sample {i}: z = {b}"))
                    chis.append(chi)
            value = act.value(z, chis)
            a[v] = value if value == z else block(f"a_{v}_s{i}", value)
        f = [a[o] for o in net.outputs]
        outputs.append(f)
        if loss.kind == "square":
            for o, (fo, yo) in enumerate(zip(f, y, strict=True), start=1):
                r = block(f"r{o}_s{i}", fo - yo)
                loss_terms.append(sp.Rational(1, 2 * data.n) * r**2)
        elif loss.kind == "cross-entropy":
            ce = cross_entropy(f, int(y[0]), block, f"l_s{i}")
            loss_terms.append(sp.Rational(1, data.n) * block(f"l_s{i}", ce))
        elif loss.kind == "exponential":
            loss_terms.append(block(f"l_s{i}", sp.exp(-y[0] * f[0])))
        else:
            loss_terms.append(block(f"l_s{i}", softplus(-y[0] * f[0])))
    reg = loss.l2 / (2 * net.flow_scale)
    if reg:
        loss_terms.append(reg * sp.Add(*[t**2 for t in problem.symbols]))
    return blocks, switches, sp.Add(*loss_terms), outputs


def _objective_forward(problem: Problem) -> tuple[Blocks, list[Switch], sp.Expr]:
    obj = problem.objective
    assert obj is not None
    expr, switches = switchify(obj.expr)
    # CSE gives the straight-line program that reverse mode runs over; its order is SymPy's and
    # deterministic for a given expression.
    found, (reduced,) = sp.cse([expr], symbols=sp.numbered_symbols("_c", real=True),
                               order="none")
    return list(found), switches, reduced


def derive(problem: Problem) -> Derivation:
    """Derive loss, gradient (reverse mode, CSE form) and kink switches of ``problem``.

    Examples
    --------
    >>> from kltools.spec import load_problem
    >>> p = load_problem('[objective]\\nexpr = "(a*b - 3)**2/2"\\nvars = ["a", "b"]\\n')
    >>> d = derive(p)
    >>> [sp.factor(g) for g in d.gradient_exprs]
    [b*(a*b - 3), a*(a*b - 3)]
    """
    outputs: list[list[sp.Expr]] = []
    if problem.objective is not None:
        blocks, switches, loss = _objective_forward(problem)
    elif isinstance(problem.data, Distribution):
        from kltools.symbolic.expectation import population_forward

        blocks, switches, loss = population_forward(problem)
    else:
        blocks, switches, loss, outputs = _network_forward(problem)
    return Derivation(problem, problem.symbols, tuple(switches), blocks, loss, outputs)

