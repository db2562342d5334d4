"""``conservation``: the conservation laws of the architecture (found by ``kltools laws``; else
the balancedness laws ‖in‖² − k‖out‖²) are constant along the flow."""

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
from kltools.spec.problem import Problem

if TYPE_CHECKING:
    from kltools.checks.properties._context import Checker

__all__ = ["CONSERVATION", "ConservationEvidence", "ConservationOptions"]


@dataclass(frozen=True)
class ConservationOptions(Options):
    t_end: str | None = doc("horizon", "2")


@dataclass(frozen=True)
class ConservationEvidence(Evidence):
    laws: list[str] = shown("laws")
    drift: Any = shown("max relative drift", num(3))
    digits: float = shown("flow digits", lambda v: round(v, 1))


def _applies(problem: Problem) -> str | None:
    if problem.network is None:
        return ("conservation laws here are the balancedness laws of network units; this spec "
                "is a raw objective")
    return None


def _run(c: Checker, theta0: Sequence[object] | None, o: ConservationOptions) -> Verdict:
    from kltools.compiled.pointwise import compile_program
    from kltools.compiled.program import program_from_sympy
    from kltools.numbers import format_number, mp_context, to_mpf

    funcs = c.laws()
    f = compile_program(program_from_sympy([h for _, h in funcs], c.d.parameters, (), cse=True),
                        "mpmath", o.dps)
    traj = c.flow(theta0, o.t_end, o.dps)
    ctx = mp_context(o.dps)
    vals = [f([to_mpf(v, ctx) for v in th], []) for th in traj.states]
    worst, which, when = ctx.mpf(0), "", traj.times[0]
    for j, (name, _) in enumerate(funcs):
        h0 = vals[0][j]
        for t, row in zip(traj.times, vals, strict=True):
            drift = abs(row[j] - h0) / max(ctx.mpf(1), abs(h0))
            if drift > worst:
                worst, which, when = drift, name, t
    ev = ConservationEvidence([n for n, _ in funcs], worst, traj.correct_digits)
    return c.verdict("conservation", by_digits(worst, traj.correct_digits), ev, theta0,
                     f"{which} drifts by {format_number(worst, 3)} by t = "
                     f"{format_number(when, 6)}", traj)


CONSERVATION = register(Property(
    "conservation", "the conservation laws of the architecture (found by kltools laws; else the "
    "balancedness laws ‖in‖² − k‖out‖²) are constant along the flow",
    "a network spec (raw objectives have no architecture laws)",
    "holds when every law drifts by less than 10^−(digits − 5) relative; refuted beyond "
    "10^−(digits/2) (an exact invariant that moves by more than half the flow's digits); "
    "inconclusive between.",
    ConservationOptions, _run, _applies, default_t_end="2"))
