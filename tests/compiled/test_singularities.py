"""Step guards: which arguments are watched, and how far each operation's series reaches."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from kltools.compiled.program import program_from_sympy
from kltools.compiled.singularities import (
    analytic_guards,
    guarded_program,
    log2_allowed_range,
)
from kltools.spec.functions import softplus

x, y = sp.symbols("x y", real=True)


def test_guards_watch_the_arguments_of_live_analytic_ops_only() -> None:
    prog = program_from_sympy([softplus(x / 3) + y**3, sp.exp(y), sp.tanh(x * y)], [x, y])
    roots = [prog.outputs[0], prog.outputs[1]]           # the tanh output is not live
    kinds = sorted(g.kind for g in analytic_guards(prog, roots))
    assert kinds == ["exp", "softplus"]                 # powi (y**3) needs no guard
    every = sorted(g.kind for g in analytic_guards(prog, list(prog.outputs)))
    assert every == ["exp", "softplus", "tanh"]
    guarded, idx = guarded_program(prog, analytic_guards(prog, roots))
    assert len(guarded.outputs) == len(prog.outputs) + 2 and idx == (3, 4)
    # The appended outputs evaluate to the arguments: x/3 and y.
    vals = guarded.evaluate([1.5, 0.25])
    assert sorted(vals[3:]) == [0.25, 0.5]


def test_zero_type_singularities_are_left_to_the_defect_check() -> None:
    prog = program_from_sympy([x / (1 + y**2) + sp.log(1 + x**2)], [x, y])
    assert analytic_guards(prog, list(prog.outputs)) == ()
    assert guarded_program(prog, ()) == (prog, ())


@pytest.mark.parametrize(("kind", "a0", "distance"), [
    ("sigmoid", 0.0, math.pi), ("softplus", -4.0, math.hypot(4.0, math.pi)),
    ("tanh", 0.0, math.pi / 2), ("tanh", -3.0, math.hypot(3.0, math.pi / 2))])
def test_a_step_may_use_a_quarter_of_the_distance_to_the_singularity(
        kind: str, a0: float, distance: float) -> None:
    got = log2_allowed_range(kind, math.log2(abs(a0)) if a0 else -math.inf, a0, 40, -100.0)
    assert got == pytest.approx(math.log2(distance / 4), abs=1e-12)


def test_far_arguments_and_exp() -> None:
    # |a0| far beyond π: the distance is |a0| (also for arguments outside the double range).
    assert log2_allowed_range("softplus", 5000.0, -math.inf, 40, -100.0) == 4998.0
    base = math.log2(40) - 3 * math.log2(math.e)
    assert log2_allowed_range("exp", 0.0, 1.0, 40, -100.0) == pytest.approx(base)
    # e^{a0} far below the tolerance 2^-100: it may move half-way to ln(2^-100).
    ln_tol = -100 * math.log(2)
    far = log2_allowed_range("exp", math.log2(5000.0), -5000.0, 40, -100.0)
    assert far == pytest.approx(math.log2((ln_tol + 5000.0) / 2))
    with pytest.raises(ValueError, match="no singularity rule"):
        log2_allowed_range("log", 0.0, 1.0, 40, -100.0)
