"""``energy``: d/dt L(θ(t)) = −s‖∇L(θ(t))‖², checked step by step as
L(t_{i+1}) − L(t_i) = −(1/s)∫‖θ'‖² (Gauss–Legendre on each Taylor step)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kltools.checks.properties._base import (
    Evidence,
    Options,
    Property,
    by_digits,
    doc,
    num,
    register,
    shown,
)
from kltools.checks.verdict import Verdict

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker

__all__ = ["ENERGY", "EnergyEvidence", "EnergyOptions"]


@dataclass(frozen=True)
class EnergyOptions(Options):
    t_end: str | None = doc("horizon", "2")
    claimed_scale: str | None = doc("the s claimed in d/dt L = −s‖∇L‖² (default: the flow's)")


@dataclass(frozen=True)
class EnergyEvidence(Evidence):
    discrepancy: Any = shown("max relative discrepancy", num(3))
    steps: int = shown("steps")
    digits: float = shown("flow digits", lambda v: round(v, 1))
    scale_checked: str = shown("scale checked")
    flow_scale: str = shown("flow scale")


def _run(c: Checker, theta0: Sequence[object] | None, o: EnergyOptions) -> Verdict:
    import sympy as sp

    from kltools.analysis.alongflow import cumulative_integral
    from kltools.compiled.pointwise import mp_context
    from kltools.numbers import format_number, to_mpf

    s_true = c.d.flow_scale
    s = sp.Rational(o.claimed_scale) if o.claimed_scale is not None else s_true
    traj = c.flow(theta0, o.t_end, o.dps)
    ctx = mp_context(o.dps + 10)
    v2 = cumulative_integral(traj, lambda t: ctx.fsum(to_mpf(v, ctx) ** 2
                                                      for v in traj.velocity(t)), dps=o.dps + 10)
    scale = max(abs(to_mpf(v, ctx)) for v in traj.losses) or ctx.mpf(1)
    worst, where = ctx.mpf(0), traj.times[0]
    for i in range(1, len(traj.times)):
        dl = to_mpf(traj.losses[i], ctx) - to_mpf(traj.losses[i - 1], ctx)
        err = abs(dl + (v2[i] - v2[i - 1]) / (ctx.mpf(int(s.p)) / int(s.q))) / scale
        if err > worst:
            worst, where = err, traj.times[i]
    status = by_digits(worst, traj.correct_digits)
    ev = EnergyEvidence(worst, len(traj.times) - 1, traj.correct_digits, str(s), str(s_true))
    return c.verdict("energy", status, ev, theta0,
                     f"discrepancy {format_number(worst, 3)} at t = {format_number(where, 8)}",
                     traj)


ENERGY = register(Property(
    "energy", "d/dt L(θ(t)) = −s‖∇L(θ(t))‖² along the computed flow",
    "any spec (the identity holds for every gradient flow, on each smooth piece)",
    "holds when the largest relative discrepancy of L(t_{i+1}) − L(t_i) + (1/s)∫‖θ'‖² is below "
    "10^−(digits − 5); refuted above 10^−(digits/2) (an exact identity off by more than half "
    "the flow's digits); inconclusive between.",
    EnergyOptions, _run, default_t_end="2"))
