"""``codim2``: no two kink surfaces are crossed at the same instant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kltools.checks.properties._base import Evidence, Options, Property, doc, register, shown
from kltools.checks.verdict import Status, Verdict
from kltools.spec.problem import Problem

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker

__all__ = ["CODIM2", "Codim2Evidence", "Codim2Options"]


@dataclass(frozen=True)
class Codim2Options(Options):
    t_end: str | None = doc("horizon", "10")


@dataclass(frozen=True)
class Codim2Evidence(Evidence):
    events: int = shown("events")
    simultaneous: int = shown("simultaneous")


def _applies(problem: Problem) -> str | None:
    from kltools.symbolic.derivation import derive

    if not derive(problem).switch_symbols:
        return "codim2 is about kink surfaces; this model has none"
    return None


def _run(c: Checker, theta0: Sequence[object] | None, o: Codim2Options) -> Verdict:
    from kltools.numbers import format_number

    traj = c.flow(theta0, o.t_end, o.dps)
    sim = [e for e in traj.events if e.kind == "simultaneous"]
    ev = Codim2Evidence(len(traj.events), len(sim))
    if sim:
        return c.verdict("codim2", Status.REFUTED, ev, theta0,
                         f"surfaces {', '.join(sim[0].labels)} crossed together at t = "
                         f"{format_number(sim[0].t, 10)}", traj)
    return c.verdict("codim2", Status.HOLDS, ev, theta0, "", traj)


CODIM2 = register(Property(
    "codim2", "no two kink surfaces are crossed at the same instant",
    "a piecewise model (kinks)",
    "refuted by a crossing event the integrator located on two surfaces at once (a located "
    "event, not a tail); holds otherwise up to the horizon.",
    Codim2Options, _run, _applies, default_t_end="10"))
