"""Gradient descent on the same evaluators: the discretisation the flow is compared with.

θ_{k+1} = θ_k − η·s·∇L(θ_k), time t_k = kη (s the flow scale), so that as η → 0 the iterates follow
the flow θ' = −s∇L with a global error O(η) over a fixed horizon (Euler's method). On
piecewise models the activation pattern is recomputed at every iterate from the signs of the kink
surfaces, with the caller's convention for an exact zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from kltools.compiled.evaluator import Evaluator
from kltools.compiled.pointwise import compile_program, mp_context
from kltools.errors import IntegrationError
from kltools.integrate.trajectory import Outcome, Trajectory, TrajectoryBuilder
from kltools.symbolic.kinks import KinkConvention

__all__ = ["gradient_descent"]

_HUGE = 10**100


def gradient_descent(ev: Evaluator, theta0: Sequence[object], eta: object, t_end: object, *,
                     dps: int = 30, convention: KinkConvention = KinkConvention.RIGHT,
                     max_steps: int = 1_000_000, record_every: int | None = None,
                     progress: Callable[[float], None] | None = None) -> Trajectory:
    """Run ⌊t_end/η⌋ steps of gradient descent with step η at ``dps`` digits.

    Iterates whose state or gradient is not finite or exceeds 1e100 in size (divergence for a too
    large η) end the run with outcome ``blowup`` at that iterate's time. ``record_every`` thins
    the stored samples (default: about 2000 samples).
    """
    ctx = mp_context(dps)
    eta_v = ev.convert([eta], "mpmath", dps)[0]
    t_end_v = ev.convert([t_end], "mpmath", dps)[0]
    if not eta_v > 0:
        raise IntegrationError(f"the step eta must be positive, got {eta}")
    # floor: the iterates stay within the horizon (the last one is at t_end when η divides it).
    n_steps = int(ctx.floor(t_end_v / eta_v + ctx.mpf(10) ** (-(dps // 2))))
    if n_steps > max_steps:
        raise IntegrationError(f"t_end/eta = {n_steps} steps exceeds max_steps = {max_steps}; "
                               "raise max_steps or the step")
    every = record_every or max(1, n_steps // 2000)
    grad = compile_program(ev.gradient_program, "mpmath", dps)
    scale = ctx.mpf(int(ev.derivation.flow_scale.p)) / int(ev.derivation.flow_scale.q)
    theta = ev.convert(theta0, "mpmath", dps)
    traj = TrajectoryBuilder(parameters=ev.derivation.problem.parameters, dps=dps, method="gd")
    start = time.monotonic()
    last_report = start
    outcome = Outcome.OK
    blowup_time = None

    def record(k: int, th: list[Any], out: list[Any]) -> None:
        traj.sample(k * eta_v, th, out[-1], ctx.sqrt(ctx.fsum(g * g for g in out[:-1])))

    k = 0
    for k in range(n_steps + 1):
        chi = ev.pattern(theta, convention, dps) if ev.m else ()
        out = grad(theta, list(chi))
        # mpmath numbers do not overflow, so divergence is caught by size, not by inf/nan.
        if not all(ctx.isfinite(v) and abs(v) < _HUGE for v in [*out, *theta]):
            record(k, theta, out)
            outcome = Outcome.BLOWUP
            blowup_time = k * eta_v
            break
        if k % every == 0 or k == n_steps:
            record(k, theta, out)
        if k == n_steps:
            break
        step = eta_v * scale
        theta = [t - step * g for t, g in zip(theta, out[:-1], strict=True)]
        if progress is not None and time.monotonic() - last_report > 0.25:
            progress(float(k * eta_v))
            last_report = time.monotonic()
    traj.info["eta"] = str(eta)
    # Rounding only: each step adds at most a few ulps; the discretisation error against the flow
    # is O(η) and is what gd-vs-flow checks measure, not a digits figure.
    return traj.build(outcome=outcome, n_steps=k, wall_time=time.monotonic() - start,
                      blowup_time=blowup_time,
                      correct_digits=max(0.0, dps - 1 - float(ctx.log10(max(1, n_steps)))))
