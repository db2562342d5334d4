"""``directional-convergence``: after perfect classification the smoothed margin is
non-decreasing, θ/‖θ‖ settles and cos∠(θ, −∇L) → 1 (Ji and Telgarsky, "Directional convergence
and alignment in deep learning", arXiv 2006.06657; Lyu and Li, arXiv 1906.05890).

holds — after t0 the smoothed margin never decreases beyond rounding, ‖θ‖ grows without bound
(≥ 10% over the second half of log t), 1 − cos∠(θ, −∇L) does not grow over the last third, and
the direction moves less in the second half of log t than in the first.
refuted — the smoothed margin decreases (a monotonicity theorem broken by more than rounding),
or ‖θ‖ stays bounded (a finite limit: no direction to converge to). A worsening alignment on a
finite run is inconclusive (it can be a transient).
For a linear model the limit direction is known exactly (the hard-margin SVM direction,
:mod:`kltools.analysis.maxmargin`): an angle to it that shrinks over log t also shows the
direction settling.
inconclusive — perfect classification is reached too late, or the direction is not settling yet.

The horizon grows (×10 from ``t_start``) until the verdict is decided or the budget is spent;
‖θ‖ grows like log t, so t of 1e12 and more is reached in a few hundred Taylor steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from kltools.checks.properties._base import Evidence, Horizon, Options, Property, doc, register
from kltools.checks.verdict import Status, Verdict
from kltools.numbers import to_float
from kltools.spec.problem import Problem

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker
    from kltools.integrate.trajectory import Trajectory

__all__ = ["DIRECTIONAL_CONVERGENCE", "DirectionalEvidence", "DirectionalOptions"]


@dataclass(frozen=True)
class DirectionalOptions(Options):
    force: bool = doc("run even where the hypotheses fail (a negative control)", False)
    seconds: float = doc("time budget per initialisation when the check chooses the horizon",
                         60.0)
    t_start: str = doc("first horizon tried when the check chooses it (then ×10)", "1e3")
    t_max: str = doc("largest horizon the check may choose", "1e12")

    def horizon(self) -> Horizon:
        return Horizon(Fraction(self.t_start), 10, Fraction(self.t_max), self.seconds, 200_000)


@dataclass(frozen=True)
class DirectionalEvidence(Evidence):
    """The margin report along the flow (:class:`~kltools.analysis.margins.MarginReport`)."""

    report: Any = None
    svm_angles: tuple[float, float] | None = None  # angle to w*/|w*| at mid-run, at the end

    def to_json(self) -> dict[str, Any]:
        out = self.report.evidence()
        if self.svm_angles is not None:
            out["angle to the max-margin direction (middle / end of log t)"] = \
                f"{self.svm_angles[0]:.3g} / {self.svm_angles[1]:.3g}"
        return out


def _applies(problem: Problem) -> str | None:
    net = problem.network
    if net is None or problem.loss is None or not problem.loss.is_margin:
        return ("directional convergence needs a network with the exponential or logistic "
                "loss; with the square loss the flow converges to a finite point and "
                "theta/|theta| has no reason to settle (use --force to run anyway)")
    if net.homogeneity_degree() is None:
        return ("directional convergence needs a positively homogeneous network (no biases "
                "after the first layer, homogeneous activations)")
    return None


def _decide(r: Any, towards_svm: bool = False) -> tuple[Status, str]:
    """The verdict from the margin report; ``towards_svm``: the angle to the exact limit
    direction shrinks, which replaces the heuristic "moves less in the second half"."""
    if len(r.times) < 4:
        return Status.INCONCLUSIVE, "perfect classification is not reached early enough"
    drop = r.largest_decrease()
    scale = max(abs(to_float(v)) for v in r.smoothed) or 1.0
    if drop > 1e-6 * scale:
        return Status.REFUTED, f"the smoothed margin decreases by {drop:.3g}"
    growth = to_float(r.norms[-1]) / to_float(r.norms[len(r.norms) // 2])
    if growth < 1 + 1e-3:
        return Status.REFUTED, (f"|theta| stays bounded: it grows by a factor {growth:.6g} over "
                                "the second half of log t (a finite limit, no direction to "
                                "converge to)")
    mis = [to_float(v) for v in r.misalignment]
    # cos → 1 is asymptotic, not monotone (1 − cos may dip and recover before its O(1/log t)
    # decay): judge the last third of the samples only.
    if mis[-1] > 1.1 * mis[2 * len(mis) // 3]:
        # Not a refutation: 1 − cos may rise and fall again before it settles (a transient).
        return Status.INCONCLUSIVE, ("1 - cos(theta, -grad L) increases over the last third of "
                                     "the run (possibly a transient); raise t_end")
    first, second = r._direction_moves()
    if not (second < first or towards_svm):
        return Status.INCONCLUSIVE, "the direction is not yet settling; raise t_end"
    return Status.HOLDS, ""


def _svm_angles(c: Checker, report: Any, k: int | None) -> tuple[float, float] | None:
    """For a linear model (k = 1, θ is the predictor): the angles between θ/‖θ‖ and the exact
    max-margin direction w*/‖w*‖ at the middle and the end of the log-time range (Soudry et al.,
    "The implicit bias of gradient descent on separable data", arXiv 1710.10345: the angle tends
    to 0 like 1/log t)."""
    import math

    from kltools.analysis.maxmargin import hard_margin_svm
    from kltools.errors import DerivationError

    data = c.problem.data
    if k != 1 or data is None or len(report.directions) < 3 \
            or c.problem.n_parameters != len(data.x[0]):
        return None
    try:
        w = [float(v) for v in hard_margin_svm(data.x, [row[0] for row in data.y]).w]
    except DerivationError:
        return None
    nw = math.sqrt(sum(v * v for v in w))

    def angle(u: list[Any]) -> float:
        cos = sum(to_float(a) * b for a, b in zip(u, w, strict=True)) / nw
        return math.acos(max(-1.0, min(1.0, cos)))

    lt = [math.log(max(t, 1e-300)) for t in report.times]
    mid = min(range(len(lt)), key=lambda i: abs(lt[i] - (lt[0] + lt[-1]) / 2))
    return angle(report.directions[mid]), angle(report.directions[-1])


def _read(c: Checker, traj: Trajectory, dps: int) -> tuple[Status, str, DirectionalEvidence]:
    from kltools.analysis.margins import MarginTracker

    net = c.problem.network
    k = net.homogeneity_degree() if net is not None else None
    report = MarginTracker(c.d, k or 1).along(traj, dps)
    svm = _svm_angles(c, report, k)
    status, why = _decide(report, svm is not None and svm[1] < svm[0])
    return status, why, DirectionalEvidence(report, svm)


def _run(c: Checker, theta0: Sequence[object] | None, o: DirectionalOptions) -> Verdict:
    traj = c.flow_until(theta0, o.t_end, o.dps, o.horizon(),
                        lambda tr: _read(c, tr, o.dps)[0] is not Status.INCONCLUSIVE)
    status, why, ev = _read(c, traj, o.dps)
    return c.verdict("directional-convergence", status, ev, theta0, why, traj)


DIRECTIONAL_CONVERGENCE = register(Property(
    "directional-convergence", "after perfect classification the smoothed margin is "
    "non-decreasing, θ/‖θ‖ settles and cos∠(θ, −∇L) → 1",
    "a positively homogeneous network, exponential or logistic loss, data classified "
    "perfectly at some time",
    "holds when the margin is monotone, ‖θ‖ grows, the alignment improves and the direction "
    "settles (towards the exact max-margin direction for a linear model); refuted by a margin "
    "decrease beyond rounding or a bounded ‖θ‖; else inconclusive.",
    DirectionalOptions, _run, _applies))
