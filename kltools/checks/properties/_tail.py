"""The tail of one flow, read for an asymptotic claim: L*, the fitted law ‖∇L‖ ≈ c|L − L*|^α
per window, and what the limit predicts (:mod:`kltools.analysis.tail`).

The horizon options of the asymptotic properties (``lojasiewicz``, ``linear-convergence``) live
in :class:`TailOptions`; the law is *established* when it spans ``decades`` and its last two
windows agree within ``agreement``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from kltools.checks.properties._base import Horizon, Options, doc
from kltools.checks.verdict import Status, Verdict

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker
    from kltools.integrate.trajectory import Trajectory

__all__ = ["Tail", "TailOptions", "read_tail"]


@dataclass(frozen=True)
class TailOptions(Options):
    l_star: str | None = doc("L* (default: L at the limit Newton finds from the end)")
    decades: float = doc("decades of L − L* the fitted tail must span to be trusted (three "
                         "windows: the last two must agree)", 3.0)
    agreement: float = doc("largest difference of exponents counted as agreement (between the "
                           "last two windows, and between the fit and the limit's exponent)",
                           0.02)
    seconds: float = doc("time budget per initialisation when the check chooses the horizon",
                         40.0)
    t_start: str = doc("first horizon tried when the check chooses it (then ×4)", "1")
    t_max: str = doc("largest horizon the check may choose", "1e12")

    def horizon(self) -> Horizon:
        return Horizon(Fraction(self.t_start), 4, Fraction(self.t_max), self.seconds, 200_000)


@dataclass(frozen=True)
class Tail:
    """What one trajectory's tail shows: ``l_star`` (None: not found, ``how`` says why),
    ``law`` (the windowed α fit, None when too short), ``gaps``/``grads`` (per sample) and
    ``floor`` (log₁₀ of the smallest trusted gap)."""

    l_star: Any
    how: str
    law: Any
    gaps: list[Any]
    grads: list[Any]
    floor: float

    def established(self, o: TailOptions) -> bool:
        return self.law is not None and self.law.span >= o.decades and self.law.settled

    def describe(self) -> str:
        if self.law is None:
            return "the tail of L - L* is too short to fit a law"
        alphas = ", ".join(f"{a:.4f}" for a in self.law.values)
        return (f"fitted exponent per window {alphas} over {self.law.span:.1f} decades of "
                "L - L*")


def read_tail(c: Checker, traj: Trajectory, o: TailOptions) -> Tail:
    """L* and the windowed α fit along ``traj``."""
    from kltools.analysis.tail import gaps_of, power_law
    from kltools.numbers import log10abs

    ls, how = c.l_star(traj, o.dps, o.l_star)
    if ls is None:
        return Tail(None, how, None, [], [], 0.0)
    work = int(traj.info.get("working_dps", o.dps))
    floor = -(work - 10) + max(0.0, log10abs(ls) if ls != 0 else 0.0)
    losses, grads = c.samples(traj, work)
    gaps = gaps_of(losses, ls, work)
    law = power_law(gaps, grads, floor=floor, tol=o.agreement)
    return Tail(ls, how, law, gaps, grads, floor)


def decide_along_flow(c: Checker, name: str, theta0: Sequence[object] | None, o: TailOptions,
                      assess: Callable[..., tuple[Status, str, Any]], stationary: Any
                      ) -> Verdict:
    """Integrate with a horizon that grows until ``assess(c, traj, o)`` decides (or the budget
    is spent, or ``o.t_end`` is given) and return the verdict it supports."""
    traj = c.flow_until(theta0, o.t_end, o.dps, o.horizon(),
                        lambda tr: assess(c, tr, o)[0] is not Status.INCONCLUSIVE)
    if traj.info.get("stationary"):
        return c.verdict(name, Status.HOLDS, stationary, theta0, "", traj)
    status, why, ev = assess(c, traj, o)
    return c.verdict(name, status, ev, theta0, why, traj)
