"""``gd-vs-flow``: gradient descent with step η stays within O(η) of the flow: halving η halves
the largest deviation over the horizon (first order)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kltools.checks.properties._base import Evidence, Options, Property, doc, register, shown
from kltools.checks.verdict import Status, Verdict

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker

__all__ = ["GD_VS_FLOW", "GdEvidence", "GdOptions"]


@dataclass(frozen=True)
class GdOptions(Options):
    t_end: str | None = doc("horizon", "1")
    eta: str = doc("gradient descent step η", "0.01")
    low: float = doc("smallest deviation ratio (η/2 vs η) accepted as first order", 0.35)
    high: float = doc("largest deviation ratio accepted as first order", 0.65)


@dataclass(frozen=True)
class GdEvidence(Evidence):
    eta: str = shown("eta")
    dev: float | None = shown("max deviation (eta)", lambda v: f"{v:.4g}")
    dev_half: float | None = shown("max deviation (eta/2)", lambda v: f"{v:.4g}")
    ratio: float | None = shown("ratio", lambda v: f"{v:.3f}")
    constant: float | None = shown("C = deviation/eta", lambda v: f"{v:.4g}")
    gd: str | None = shown("gd")


def _run(c: Checker, theta0: Sequence[object] | None, o: GdOptions) -> Verdict:
    from fractions import Fraction

    from kltools.integrate.trajectory import Outcome
    from kltools.numbers import to_float

    flow = c.flow(theta0, o.t_end, o.dps)
    eta_q = Fraction(str(o.eta))
    devs = []
    for h in (eta_q, eta_q / 2):
        gd = c.flow(theta0, o.t_end, o.dps, method="gd", eta=str(h))
        if gd.outcome is Outcome.BLOWUP:
            return c.verdict("gd-vs-flow", Status.REFUTED, GdEvidence(str(h), gd="diverged"),
                             theta0, f"gradient descent with step {h} diverges", flow)
        devs.append(max(max(abs(to_float(a) - to_float(b))
                            for a, b in zip(gd.states[i], flow(gd.times[i]), strict=True))
                        for i in range(len(gd.times))))
    ratio = devs[1] / devs[0] if devs[0] > 0 else 0.0
    ev = GdEvidence(str(eta_q), devs[0], devs[1], ratio, devs[0] / float(eta_q))
    if o.low <= ratio <= o.high:
        return c.verdict("gd-vs-flow", Status.HOLDS, ev, theta0, "", flow)
    return c.verdict("gd-vs-flow", Status.REFUTED, ev, theta0,
                     f"halving the step scales the deviation by {ratio:.3f}, not 1/2", flow)


GD_VS_FLOW = register(Property(
    "gd-vs-flow", "gradient descent with step η stays within O(η) of the flow over the horizon",
    "∇L locally Lipschitz along the flow",
    "holds when halving η scales the largest deviation by a ratio in [low, high]; refuted "
    "outside (a first-order method whose deviation does not halve) or when descent diverges.",
    GdOptions, _run, default_t_end="1"))
