"""Conservation laws checked numerically along computed flows.

A law h found by :func:`kltools.symbolic.laws.conservation_laws` is proved symbolically; this
module shows it on numbers: integrate the flow at ``dps`` digits (Taylor method, kink events and
Filippov sliding included; on a sliding mode the field is a convex combination of two pattern
fields, each tangent to the level sets of h, so h stays constant there too) and evaluate h at
every stored state.

Tolerance. If every coordinate of θ(t) carries a relative error ε = 10^(−digits) (``digits`` the
trajectory's correct-digit estimate), a polynomial h = Σ c_α θ^α of degree k moves by at most
about k·ε·Σ|c_α θ^α|. A law passes when max_t |h(θ(t)) − h(θ(0))| ≤ 10·k·ε·S, with
S = max_t Σ|c_α θ^α(t)|; a non-law on a flow that moves typically drifts by O(S), far above.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from kltools.integrate.flow import integrate
from kltools.numbers import mp_context, to_mpf
from kltools.spec.expr import parse_expression
from kltools.spec.problem import Data, Problem

__all__ = ["LawDrift", "LawsAlongFlow", "laws_along_flow", "with_random_data"]


@dataclass(frozen=True)
class LawDrift:
    """One law along one trajectory: h(θ(0)), the largest drift, the tolerance, the verdict."""

    law: str
    initial: str
    max_drift: str
    tolerance: str
    constant_digits: float
    holds: bool

    def to_json(self) -> dict[str, Any]:
        return {"law": self.law, "initial": self.initial, "max_drift": self.max_drift,
                "tolerance": self.tolerance, "constant_digits": round(self.constant_digits, 1),
                "holds": self.holds}


@dataclass(frozen=True)
class LawsAlongFlow:
    """The drifts of several laws along one computed flow."""

    drifts: tuple[LawDrift, ...]
    flow_digits: float
    dps: int
    t_end: str
    steps: int
    events: int
    outcome: str
    theta0: tuple[str, ...]

    @property
    def holds(self) -> bool:
        return all(d.holds for d in self.drifts)

    def to_json(self) -> dict[str, Any]:
        return {"holds": self.holds, "flow_digits": round(self.flow_digits, 1), "dps": self.dps,
                "t_end": self.t_end, "steps": self.steps, "events": self.events,
                "outcome": self.outcome, "theta0": list(self.theta0),
                "laws": [d.to_json() for d in self.drifts]}


def with_random_data(problem: Problem, n_samples: int = 5, seed: int = 0) -> Problem:
    """``problem`` with its data replaced by random exact data (same network, loss and init).

    Inputs and square-loss targets are k/8 with k uniform in −16..16; margin losses get labels
    ±1.
    """
    assert problem.network is not None and problem.loss is not None
    rng = random.Random(seed)
    net = problem.network

    def num() -> sp.Rational:
        return sp.Rational(rng.randint(-16, 16), 8)

    x = tuple(tuple(num() for _ in range(net.n_inputs)) for _ in range(n_samples))
    if problem.loss.is_margin:
        y = tuple((sp.Integer(rng.choice((-1, 1))),) for _ in range(n_samples))
    elif problem.loss.kind == "cross-entropy":
        y = tuple((sp.Integer(rng.randrange(net.n_outputs)),) for _ in range(n_samples))
    else:
        y = tuple(tuple(num() for _ in range(net.n_outputs)) for _ in range(n_samples))
    source = dict(problem.source)
    if source:
        source["data"] = {"x": [[str(v) for v in row] for row in x],
                          "y": [[str(v) for v in row] for row in y]}
    return Problem(problem.parameters, network=net, loss=problem.loss, data=Data(x, y),
                   init=problem.init, name=problem.name, source=source)


def laws_along_flow(problem: Problem, laws: Sequence[sp.Expr | str], theta0: Sequence[object]
                    | None = None, *, t_end: object = 1, dps: int = 30) -> LawsAlongFlow:
    """Integrate ``problem``'s flow from ``theta0`` (default its init) to ``t_end`` at ``dps``
    digits and measure how much each polynomial law moves (module docstring)."""
    symbols = problem.symbols
    exprs = [parse_expression(h, symbols, "law") if isinstance(h, str) else sp.sympify(h)
             for h in laws]
    traj = integrate(problem, theta0, t_end, dps=dps)
    digits = min(float(traj.correct_digits), float(dps))
    ctx = mp_context(dps + 20)
    states = [[to_mpf(v, ctx) for v in th] for th in traj.states]
    drifts = []
    for h in exprs:
        poly = sp.Poly(h, *symbols)
        terms = [(exps, ctx.mpf(sp.Rational(c).p) / ctx.mpf(sp.Rational(c).q))
                 for exps, c in poly.terms()]
        k = max(1, poly.total_degree())
        values, scale = [], ctx.mpf(0)
        for th in states:
            total, size = ctx.mpf(0), ctx.mpf(0)
            for exps, c in terms:
                term = c
                for v, e in zip(th, exps, strict=True):
                    if e:
                        term *= v**e
                total += term
                size += abs(term)
            values.append(total)
            scale = max(scale, size)
        drift = max(abs(v - values[0]) for v in values)
        tol = 10 * k * ctx.mpf(10) ** (-digits) * scale
        if drift == 0:
            constant = math.inf
        elif scale == 0:
            constant = 0.0
        else:
            constant = float(-ctx.log10(drift / scale))
        drifts.append(LawDrift(str(h), ctx.nstr(values[0], 15), ctx.nstr(drift, 3),
                               ctx.nstr(tol, 3), constant, bool(drift <= tol)))
    theta_start = traj.info.get("reproduce", {}).get("theta0", [])
    return LawsAlongFlow(tuple(drifts), digits, dps, str(t_end), len(traj.times) - 1,
                         len(traj.events), traj.outcome.value, tuple(theta_start))
