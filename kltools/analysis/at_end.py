"""The Łojasiewicz exponent at the limit of a flow (``kltools exponent SPEC --at-end``).

The flow is integrated to ``t_end``; its limit θ* is found by Newton from the end (at the run's
final working precision) and certified with :func:`~kltools.analysis.critical.
certify_critical_point` (interval Newton / Krawczyk). Then:

* a certified non-degenerate limit has exponent 1/2 exactly (Morse);
* otherwise the exponent is estimated from the tail of the flow, ‖∇L‖ ≈ c|L − L*|^α: the fitted
  α, with an interval spanned by the local slopes of log‖∇L‖ against log|L − L*| over the last
  quarter of the usable tail (a numerical statement along this trajectory, not a proof).

The exact limit point is irrational in general, so the exact methods of
:func:`~kltools.analysis.exponent.lojasiewicz_exponent` (which need an exact critical point) do
not apply here; for a point known exactly, call that function instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sympy as sp

from kltools.analysis.alongflow import local_slopes
from kltools.analysis.bounds import dacunto_kurdyka
from kltools.analysis.critical import certify_critical_point
from kltools.analysis.limit import NewtonLimit
from kltools.integrate.flow import FlowSystem, integrate
from kltools.integrate.trajectory import Outcome
from kltools.numbers import format_number, log10abs, mp_context, to_mpf
from kltools.spec.problem import Problem
from kltools.symbolic.derivation import derive

__all__ = ["exponent_at_end"]


def exponent_at_end(problem: Problem, *, t_end: object, dps: int = 30,
                    theta0: Sequence[object] | None = None) -> dict[str, Any]:
    """Integrate, find and certify the limit, and give its exponent (module docstring).

    Returns JSON-ready data with the keys of ``kltools exponent --json`` (``exponent`` as a
    string or null, ``method``, ``interval``, ``bound``, ``critical_point``) plus ``t_end`` and
    the flow's ``outcome``.
    """
    system = FlowSystem(derive(problem))
    traj = integrate(system, theta0, t_end, dps=dps)
    work = int(traj.info.get("working_dps", dps))
    ctx = mp_context(work)
    out: dict[str, Any] = {"t_end": str(t_end), "outcome": traj.outcome.value,
                           "bound": None, "critical_point": None}
    if problem.objective is not None and problem.objective.expr.is_polynomial(
            *problem.objective.variables):
        deg = sp.Poly(problem.objective.expr, *problem.objective.variables).total_degree()
        out["bound"] = str(dacunto_kurdyka(len(problem.objective.variables), deg))
    if traj.outcome in (Outcome.BLOWUP, Outcome.SLIDING) or traj.outcome.stopped_early:
        out.update(exponent=None, method="none", interval=None,
                   reason=f"the flow ends with outcome {traj.outcome.value}: no smooth limit "
                          "to analyse; raise t_end or pick another start")
        return out
    limit = NewtonLimit(system.ev)([to_mpf(v, ctx) for v in traj.theta],
                                   traj.info.get("pattern", []), dps=work)
    if not limit.converged:
        out.update(exponent=None, method="none", interval=None,
                   reason="Newton from the end of the flow did not converge to a critical point")
        return out
    point = [format_number(v, work) for v in limit.theta]
    cp = certify_critical_point(problem, point)
    out["critical_point"] = cp.to_json()
    if cp.nondegenerate:
        out.update(exponent="1/2", method="morse (certified non-degenerate limit)",
                   interval=["1/2", "1/2"], reason="")
        return out
    gaps = [log10abs(to_mpf(v, ctx) - limit.loss) for v in traj.losses]
    grads = [log10abs(g) for g in traj.grad_norms]
    floor = -(work - 10)
    pts = [(a, b) for a, b in zip(gaps, grads, strict=True)
           if math.isfinite(a) and math.isfinite(b) and floor < a < gaps[0] - 2]
    if len(pts) < 8 or pts[0][0] - pts[-1][0] < 3:
        out.update(exponent=None, method="tail fit along the flow", interval=None,
                   reason="the tail spans fewer than 3 decades of L - L*; raise t_end")
        return out
    x, y = [a for a, _ in pts], [b for _, b in pts]
    q = max(2, len(x) // 4)
    slopes = local_slopes(x[-q - 1:], y[-q - 1:])
    lo, hi = min(slopes), max(slopes)
    out.update(exponent=None, method="tail fit along the flow",
               interval=[f"{lo:.4f}", f"{hi:.4f}"],
               reason="the limit is not certified non-degenerate; the interval is spanned by the "
                      "local slopes of log|grad L| vs log(L - L*) on the last quarter of the tail "
                      f"({x[0] - x[-1]:.1f} decades)")
    return out
