"""``rayleigh-identity``: for the square loss L = ‖r‖²/(2n), L(t) = L(0)·exp(−(2s/n)∫₀ᵗR(θ(τ))dτ)
with R = rᵀKr/rᵀr the Rayleigh quotient of the tangent kernel K = JJᵀ."""

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
from kltools.checks.verdict import Status, Verdict
from kltools.spec.problem import Problem

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker

__all__ = ["RAYLEIGH_IDENTITY", "RayleighEvidence", "RayleighOptions"]


@dataclass(frozen=True)
class RayleighOptions(Options):
    t_end: str | None = doc("horizon", "2")


@dataclass(frozen=True)
class RayleighEvidence(Evidence):
    error: Any = shown("max relative error", num(3))
    digits: float | None = shown("flow digits", lambda v: round(v, 1))
    l2: str | None = shown("l2")
    reason: str | None = shown("reason")


def _applies(problem: Problem) -> str | None:
    if problem.loss is None or problem.loss.kind != "square":
        return ("the Rayleigh identity is for the square loss L = |r|^2/(2n) of a network "
                "on data")
    return None


def _run(c: Checker, theta0: Sequence[object] | None, o: RayleighOptions) -> Verdict:
    from kltools.analysis.alongflow import cumulative_integral
    from kltools.numbers import format_number, mp_context, to_mpf
    from kltools.symbolic.kinks import KinkConvention

    rq = c.rayleigh
    traj = c.flow(theta0, o.t_end, o.dps)
    if any(e.kind.startswith("sliding") for e in traj.events):
        why = "the flow slides on a kink: the identity is for the smooth pieces"
        return c.verdict("rayleigh-identity", Status.INCONCLUSIVE, RayleighEvidence(reason=why),
                         theta0, why, traj)
    w = o.dps + 10
    ctx = mp_context(w)

    def R(t: Any) -> Any:
        th = [to_mpf(v, ctx) for v in traj(t)]
        chi = c.system.ev.pattern(th, KinkConvention.RIGHT, w) if c.system.m else ()
        return rq(th, chi, dps=w).quotient

    integral = cumulative_integral(traj, R, dps=w)
    n = c.problem.data.n  # type: ignore[union-attr]
    s = to_mpf(c.d.flow_scale, ctx)
    l0 = to_mpf(traj.losses[0], ctx)
    worst = ctx.mpf(0)
    for loss, integ in zip(traj.losses, integral, strict=True):
        worst = max(worst, abs(l0 * ctx.exp(-2 * s * integ / n) / to_mpf(loss, ctx) - 1))
    status = by_digits(worst, traj.correct_digits)
    ev = RayleighEvidence(worst, traj.correct_digits, str(c.problem.loss.l2))  # type: ignore
    return c.verdict("rayleigh-identity", status, ev, theta0,
                     f"L(t) differs from L(0)exp(-(2s/n)int R) by {format_number(worst, 3)}",
                     traj)


RAYLEIGH_IDENTITY = register(Property(
    "rayleigh-identity", "L(t) = L(0)·exp(−(2s/n)∫₀ᵗR(θ(τ))dτ), R = rᵀKr/rᵀr",
    "square loss without an L2 term (with one, ∇L has +λθ and the identity is false); smooth "
    "pieces of the flow",
    "holds when the identity is met to 10^−(digits − 5) relative; refuted beyond "
    "10^−(digits/2); inconclusive between, or when the flow slides on a kink.",
    RayleighOptions, _run, _applies, default_t_end="2"))
