"""Margins, directions and alignment along a flow (Ji and Telgarsky, "Directional convergence and
alignment in deep learning", arXiv 2006.06657).

For a positively k-homogeneous network with labels y_i = ±1:

* normalised margin  γ(θ) = min_i y_i f(θ; x_i) / ‖θ‖^k;
* smoothed margin    γ̃(θ) = −log L(θ) / ‖θ‖^k (exponential loss) or
  −log(e^{L(θ)} − 1) / ‖θ‖^k (logistic loss), non-decreasing after perfect classification;
* alignment          cos∠(θ, −∇L(θ)) = ⟨θ, −∇L⟩ / (‖θ‖‖∇L‖) → 1;
* direction          u(t) = θ(t)/‖θ(t)‖, whose changes shrink in log t.

:class:`MarginTracker` computes these at every sample of a trajectory after the first time
every sample is classified correctly; :mod:`kltools.checks.properties` turns them into a verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kltools.compiled.evaluator import Evaluator
from kltools.compiled.pointwise import compile_program
from kltools.compiled.program import Program, program_from_sympy
from kltools.integrate.trajectory import Trajectory
from kltools.numbers import format_number, mp_context, to_float, to_mpf
from kltools.symbolic.derivation import Derivation
from kltools.symbolic.kinks import KinkConvention

__all__ = ["MarginReport", "MarginTracker"]


@dataclass
class MarginReport:
    """Margin quantities at the samples after perfect classification (t ≥ t0)."""

    t0: Any
    times: list[float] = field(default_factory=list)
    norms: list[Any] = field(default_factory=list)
    margins: list[Any] = field(default_factory=list)
    smoothed: list[Any] = field(default_factory=list)
    misalignment: list[Any] = field(default_factory=list)  # 1 − cos∠(θ, −∇L)
    directions: list[list[Any]] = field(default_factory=list)
    tol: float = 1e-20

    def _direction_moves(self) -> tuple[float, float]:
        """Angle moved by θ/‖θ‖ over the first and second halves of the log-time range."""
        if len(self.times) < 3:
            return math.nan, math.nan
        # Log time from max(t0, T·1e-6): classified from t0 = 0, log 0 would put every sample
        # in the "second half".
        lo = max(float(self.times[0]), float(self.times[-1]) * 1e-6, 1e-300)
        lt = [math.log(max(float(t), lo)) for t in self.times]
        mid_t = (lt[0] + lt[-1]) / 2
        mid = min(range(len(lt)), key=lambda i: abs(lt[i] - mid_t))

        def angle(a: list[Any], b: list[Any]) -> float:
            c = float(sum(x * y for x, y in zip(a, b, strict=True)))
            return math.acos(max(-1.0, min(1.0, c)))

        return (angle(self.directions[0], self.directions[mid]),
                angle(self.directions[mid], self.directions[-1]))

    def evidence(self) -> dict[str, Any]:
        if not self.times:
            return {"perfect classification": "never reached before t_end"}
        first, second = self._direction_moves()
        return {
            "t0 (perfect classification)": format_number(self.t0, 8),
            "|theta| at t0 / at end": f"{float(self.norms[0]):.6g} / {float(self.norms[-1]):.6g}",
            "normalised margin at t0 / at end": f"{float(self.margins[0]):.6g} / "
                                                f"{float(self.margins[-1]):.6g}",
            "smoothed margin at t0 / at end": f"{float(self.smoothed[0]):.6g} / "
                                              f"{float(self.smoothed[-1]):.6g}",
            "largest decrease of the smoothed margin": f"{self.largest_decrease():.3g}",
            "1 - cos(theta, -grad L) at t0 / middle / end": " / ".join(
                f"{float(v):.3g}" for v in (self.misalignment[0],
                                            self.misalignment[len(self.misalignment) // 2],
                                            self.misalignment[-1])),
            "direction change, first / second half of log t": f"{first:.3g} / {second:.3g}",
        }

    def largest_decrease(self) -> float:
        worst = 0.0
        for a, b in zip(self.smoothed, self.smoothed[1:], strict=False):
            worst = max(worst, float(a - b))
        return worst


class MarginTracker:
    """Computes :class:`MarginReport` s for one derivation (outputs compiled once)."""

    def __init__(self, derivation: Derivation, degree: int) -> None:
        self.d = derivation
        self.k = degree
        self.ev = Evaluator(derivation)

    @cached_property
    def program(self) -> Program:
        d = self.d
        outs = [row[0] for row in d.output_exprs] + list(d.gradient_exprs) + [d.loss_expr]
        return program_from_sympy(outs, d.parameters, d.switch_symbols, cse=True)

    def along(self, traj: Trajectory, dps: int) -> MarginReport:
        ctx = mp_context(dps)
        d = self.d
        ys = [row[0] for row in d.problem.data.y]  # type: ignore[union-attr]
        n = len(ys)
        f = compile_program(self.program, "mpmath", dps)
        logistic = d.problem.loss is not None and d.problem.loss.kind == "logistic"
        report = MarginReport(t0=None, tol=10 ** (-(max(traj.correct_digits, 10) - 5)))
        for t, th in zip(traj.times, traj.states, strict=True):
            x = [to_mpf(v, ctx) for v in th]
            chi = self.ev.pattern(x, KinkConvention.RIGHT, dps) if d.switches else ()
            vals = f(x, list(chi))
            outs, grad, loss = vals[:n], vals[n:-1], vals[-1]
            margins = [y * o for y, o in zip(ys, outs, strict=True)]
            if report.t0 is None:
                if min(margins) <= 0:
                    continue
                report.t0 = t
            norm = ctx.norm(x)
            gnorm = ctx.norm(grad)
            nk = norm ** self.k
            report.times.append(to_float(t))
            report.norms.append(norm)
            report.margins.append(min(margins) / nk)
            smooth = -ctx.log(ctx.expm1(loss)) if logistic else -ctx.log(loss)
            report.smoothed.append(smooth / nk)
            cos = -ctx.fsum(a * b for a, b in zip(x, grad, strict=True)) / (norm * gnorm) \
                if gnorm > 0 else ctx.mpf(1)
            report.misalignment.append(1 - cos)
            report.directions.append([v / norm for v in x])
        return report
