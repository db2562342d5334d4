"""``no-blowup``: no blow-up before the horizon, and the energy bound
‖θ(t) − θ(0)‖ ≤ √(s·t·(L(θ0) − L(θ(t)))) (Cauchy–Schwarz on ∫‖θ'‖ with ∫‖θ'‖² = s(L0 − L))."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kltools.checks.properties._base import Evidence, Options, Property, doc, num, register, shown
from kltools.checks.verdict import Status, Verdict

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker

__all__ = ["NO_BLOWUP", "NoBlowupEvidence", "NoBlowupOptions"]


@dataclass(frozen=True)
class NoBlowupOptions(Options):
    t_end: str | None = doc("horizon", "10")


@dataclass(frozen=True)
class NoBlowupEvidence(Evidence):
    blowup_time: Any = shown("blowup_time", num(12))
    blowup_digits: float | None = shown("blowup_time_digits", lambda v: round(v, 1))
    t_end: str | None = shown("t_end")
    outcome: str | None = shown("outcome")
    excess: Any = shown("max(dist - energy bound)", num(3))
    final_norm: Any = shown("final |theta|", num(6))
    reason: str | None = shown("reason")


def _run(c: Checker, theta0: Sequence[object] | None, o: NoBlowupOptions) -> Verdict:
    from kltools.integrate.trajectory import Outcome
    from kltools.numbers import format_number, mp_context, to_mpf

    traj = c.flow(theta0, o.t_end, o.dps)
    if traj.outcome is Outcome.BLOWUP:
        return c.verdict("no-blowup", Status.REFUTED,
                         NoBlowupEvidence(traj.blowup_time, traj.blowup_digits), theta0,
                         f"blow-up at t* = {format_number(traj.blowup_time, 12)}", traj)
    if traj.outcome.stopped_early:
        why = f"the run stopped before t_end: {traj.outcome.message}"
        return c.verdict("no-blowup", Status.INCONCLUSIVE, NoBlowupEvidence(reason=why),
                         theta0, why, traj)
    ctx = mp_context(o.dps)
    s = to_mpf(c.d.flow_scale, ctx)
    th0 = [to_mpf(v, ctx) for v in traj.states[0]]
    l0 = to_mpf(traj.losses[0], ctx)
    worst = -ctx.inf
    for t, th, loss in zip(traj.times, traj.states, traj.losses, strict=True):
        dist = ctx.sqrt(ctx.fsum((to_mpf(a, ctx) - b) ** 2 for a, b in zip(th, th0, strict=True)))
        bound = ctx.sqrt(max(ctx.mpf(0), s * to_mpf(t, ctx) * (l0 - to_mpf(loss, ctx))))
        worst = max(worst, dist - bound)
    tol = ctx.mpf(10) ** (-(traj.correct_digits - 5))
    status = Status.HOLDS if worst <= tol else Status.REFUTED
    ev = NoBlowupEvidence(t_end=str(o.t_end), outcome=traj.outcome.value, excess=worst,
                          final_norm=ctx.norm([to_mpf(v, ctx) for v in traj.theta]))
    return c.verdict("no-blowup", status, ev, theta0,
                     "" if status is Status.HOLDS else "the energy bound is violated", traj)


NO_BLOWUP = register(Property(
    "no-blowup", "no blow-up up to the horizon, and ‖θ(t) − θ(0)‖ ≤ √(s·t·(L(θ0) − L(θ(t))))",
    "L bounded below along the flow",
    "refuted by a detected blow-up (the integrator's pole estimate, a fact of the computed "
    "flow) or by the energy bound exceeded beyond the flow's digits; holds otherwise up to the "
    "horizon; inconclusive when a step or time limit stops the run.",
    NoBlowupOptions, _run, default_t_end="10"))
