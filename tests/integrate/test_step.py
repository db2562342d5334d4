"""Singularity-aware step control: the digits claimed on smoothed kinks are true (issue 18).

References are independent of the step control under test (see ``smoothed_kinks.py``): a
forced step sequence across the kink window at higher precision, itself checked against scipy's
Radau (a different, implicit method) and against a run with half the forced step.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

import kltools.integrate._step as step_module
import kltools.integrate.taylor as taylor_module
from kltools.integrate.flow import integrate
from kltools.numbers import agreement_digits, to_fraction
from tests.integrate.smoothed_kinks import (
    X0,
    forced_reference,
    problem,
    radau_reference,
)

EPS_1E2, EPS_1E3, EPS_1E5 = Fraction(1, 100), Fraction(1, 1000), Fraction(1, 100000)


def _floats(v: object) -> list[Fraction]:
    return [Fraction(float(x)) for x in v]  # type: ignore[attr-defined]


def _check_against_reference(family: str, eps: Fraction, t_end: int, dps: int) -> None:
    traj = integrate(problem(family, eps), list(X0), t_end, dps=dps)
    assert traj.outcome.value in ("ok", "sliding")
    ref = forced_reference(family, eps, t_end, dps + 15)
    # The reference is not fooled the same way: a different method agrees to ~1e-10.
    assert agreement_digits(_floats(ref), list(map(to_fraction, radau_reference(family, eps,
                                                                                 t_end)))) > 9
    actual = agreement_digits(traj.theta, ref)
    assert traj.correct_digits >= dps - 5          # the control did not give up accuracy
    assert actual >= traj.correct_digits - 1       # and the claim is true (within one digit)


def test_softplus_family_eps_1e2_t2() -> None:
    _check_against_reference("softplus", EPS_1E2, 2, 15)


@pytest.mark.slow
@pytest.mark.parametrize(("eps", "t_end"), [(EPS_1E2, 4), (EPS_1E3, 2), (EPS_1E3, 4)])
def test_softplus_family(eps: Fraction, t_end: int) -> None:
    _check_against_reference("softplus", eps, t_end, 30)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_variants(family: str) -> None:
    _check_against_reference(family, EPS_1E3, 4, 30)


@pytest.mark.slow
@pytest.mark.parametrize("t_end", [2, 4])
def test_softplus_family_eps_1e5(t_end: int) -> None:
    # At ε = 1e-5 the sliding phase is stiff (rate ~1e5): the run is right at t = 2; at t = 4
    # it must be right or say it stopped (stiff / max_steps), never wrong with a digit claim.
    traj = integrate(problem("softplus", EPS_1E5), list(X0), t_end, dps=20, max_steps=20_000)
    rad = list(map(to_fraction, radau_reference("softplus", EPS_1E5, t_end)))
    if traj.outcome.stopped_early:
        assert float(traj.t) < t_end
        return
    assert agreement_digits(_floats(traj.theta), rad) > 9
    assert traj.correct_digits >= 15


def test_without_guards_and_defect_check_the_step_jumps_the_kink(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The negative control: the same flow with both new checks off goes wrong in 3 steps.
    rad = list(map(to_fraction, radau_reference("softplus", EPS_1E3, 2)))
    p = problem("softplus", EPS_1E3)
    monkeypatch.setattr(step_module.StepControl, "guard_log2_tau",
                        lambda self, jet, scale: math.inf)
    defect_only = integrate(p, list(X0), 2, dps=30)
    assert agreement_digits(_floats(defect_only.theta), rad) > 12  # the defect check suffices
    monkeypatch.setattr(taylor_module, "_DEFECT_FACTOR", 10**400)
    blind = integrate(p, list(X0), 2, dps=30)
    assert blind.n_steps < 10
    assert agreement_digits(_floats(blind.theta), rad) < 2
    # ... and even then the defect, kept in the error estimate, says the digits are gone.
    assert blind.correct_digits < 2
    monkeypatch.undo()
    monkeypatch.setattr(taylor_module, "_DEFECT_FACTOR", 10**400)
    guards_only = integrate(p, list(X0), 2, dps=30)
    assert agreement_digits(_floats(guards_only.theta), rad) > 12
