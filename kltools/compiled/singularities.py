"""Where the series of each analytic operation stops converging: the integrator's step guards.

A Taylor step of length ``h`` is only as good as the series of every intermediate value
``f(a(t))`` over the complex disc ``|t - t_0| <= h``. Coefficient-based step control reads the
radius of convergence from the last coefficients; it cannot see a singularity whose contribution
is still negligible at ``t_0`` (softplus at ``a_0 = -500`` is ``~e^-500`` and its series looks
entire, yet its pole ``iπ`` is reached once the argument moves by 500). So each step is also
bounded a priori: the argument's own Taylor polynomial bounds its complex range over the step,

.. math:: |a(t) - a_0| \\le Δ(h) = \\sum_{k \\ge 1} |a_k| h^k \\qquad (|t - t_0| \\le h),

and ``Δ(h)`` must stay below :func:`log2_allowed_range`:

=================  ===================================  ===========================================
operation          singularities of ``f``               allowed ``Δ``
=================  ===================================  ===========================================
sigmoid, softplus  poles / branch points ``iπ(2k+1)``   ``|a_0 - iπ| / 4``
tanh               poles ``iπ(k + 1/2)``                ``|a_0 - iπ/2| / 4``
exp                none (entire)                        ``K / e^3`` (truncated ``exp`` series
                                                        accurate to ``e^{-2K}``), or up to half the
                                                        way to ``ln δ`` while ``e^{a_0}`` is below
                                                        the tolerance ``δ``
=================  ===================================  ===========================================

These are the operations whose value can be negligible at ``t_0`` and O(1) within a step (an
exponential tail), which is what hides a singularity from the coefficients. ``log``, ``pow`` and
division, singular where their argument ``b`` vanishes, are not guarded a priori: a pole of
``1/b`` shows in the coefficients of the field unless a negligible factor multiplies it, and such
a factor comes from a guarded operation; and the sufficient condition ``Δ(h) < |b_0|`` raises
false alarms on arguments that decay without ever vanishing (``b = c e^{-λt}``, e.g. the
denominator of a Filippov weight as the flow converges: it would cap the steps at ``~1/(4λ)``
and double the steps of a sliding ReLU flow). The a-posteriori defect check of every step
(:func:`kltools.integrate.taylor.taylor_solve`) covers them.

With ``Δ(h) <= R/4`` the image of the disc of radius ``~2h`` stays at distance ``>= R/2`` from
the singularity, so the composite's coefficients decay at least like ``2^-k`` and the
coefficient-based estimate of the neglected tail describes it. The bound is enforced termwise,
``|a_k| h^k <= 2^-k Δ``, which sums to at most ``Δ``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kltools.compiled.program import Program

__all__ = ["GUARDED_OPS", "Guard", "analytic_guards", "guarded_program", "log2_allowed_range"]

GUARDED_OPS = frozenset({"exp", "tanh", "sigmoid", "softplus"})
_LOG2_PI = math.log2(math.pi)
_QUARTER = -2.0  # log2 of the fraction of the distance to the singularity one step may use


@dataclass(frozen=True)
class Guard:
    """An analytic operation whose argument (slot ``slot``) bounds the step."""

    kind: str
    slot: int


def analytic_guards(program: Program, roots: Sequence[int]) -> tuple[Guard, ...]:
    """The guards of the instructions that the output slots ``roots`` depend on (one per
    distinct ``(kind, argument)``; only :data:`GUARDED_OPS` have one)."""
    first = program.first_instr_slot
    live = set(roots)
    found: dict[tuple[str, int], None] = {}
    for s in range(program.n_slots - 1, first - 1, -1):
        if s not in live:
            continue
        op, a, b, _ = program.instrs[s - first]
        live.add(a)
        if b >= 0:
            live.add(b)
        if op in GUARDED_OPS and (a >= first or a < program.n_inputs):
            found[(op, a)] = None  # constants and switches never move: no guard
    return tuple(Guard(k, s) for k, s in sorted(found, key=lambda g: (g[1], g[0])))


def guarded_program(program: Program, guards: Sequence[Guard]) -> tuple[Program, tuple[int, ...]]:
    """``program`` with the guards' argument slots appended as outputs, and their output
    indices (the jets then carry the arguments' series at no extra cost)."""
    if not guards:
        return program, ()
    start = len(program.outputs)
    outs = program.outputs + tuple(g.slot for g in guards)
    return replace(program, outputs=outs), tuple(range(start, start + len(guards)))


def log2_allowed_range(kind: str, log2_a0: float, a0: float, order: int,
                       log2_tol: float) -> float:
    """``log2`` of the largest argument range ``Δ`` one step may cover (module table).

    ``log2_a0 = log2|a_0|`` (any size), ``a0`` its value as a float (``±inf`` when outside the
    double range), ``order`` the Taylor order ``K``, ``log2_tol`` the ``log2`` of the absolute
    tolerance ``δ`` of a step.
    """
    if kind in ("sigmoid", "softplus", "tanh"):
        pole = _LOG2_PI if kind != "tanh" else _LOG2_PI - 1
        far = log2_a0 > pole + 30  # |a0 - iπ| = |a0| to double precision (and a0 may be inf)
        dist = log2_a0 if far else 0.5 * math.log2(a0 * a0 + 2.0 ** (2 * pole))
        return dist + _QUARTER
    if kind == "exp":
        base = math.log2(order) - 3 * math.log2(math.e)
        ln_tol = log2_tol * math.log(2)
        if a0 < ln_tol:  # e^{a0} below the tolerance: it may approach it geometrically
            return max(base, math.log2((ln_tol - a0) / 2))
        return base
    raise ValueError(f"no singularity rule for the operation {kind!r}")
