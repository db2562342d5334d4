"""Budgets: every integration inside a block respects its deadline and step cap."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kltools.budget import MIN_SLICE, budget, capped, current
from kltools.integrate.flow import integrate
from kltools.spec import problem_from_dict

ROOT = Path(__file__).resolve().parents[1]
# x' = -2x, y' = -4y^3: the e^{-2t} mode keeps Taylor steps O(1) long after it is negligible,
# so t = 1e8 takes far more than a second and far more than 50 steps.
STIFF = {"objective": {"expr": "x**2 + y**4", "vars": ["x", "y"]},
         "init": {"theta": ["1", "1"]}}
# Slow but not stiff: at 300 digits to t = 1e30 it integrates for minutes.
SLOW = {"objective": {"expr": "x**4 + y**4", "vars": ["x", "y"]},
        "init": {"theta": ["1", "1"]}}


def test_outside_a_block_nothing_changes() -> None:
    assert current() is None
    assert capped(123, None) == (123, None)
    assert capped(123, 4.5) == (123, 4.5)


def test_the_cap_and_the_deadline_apply_inside_and_nest(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import kltools.budget

    # A frozen clock: the deadline arithmetic is checked exactly, not against real time.
    monkeypatch.setattr(kltools.budget.time, "monotonic", lambda: 5000.0)
    with budget(wall_time=1000, max_steps=50) as outer:
        assert current() is outer and not outer.spent()
        steps, wall = capped(200_000, None)
        assert steps == 50 and wall == 1000
        assert capped(7, 2.0) == (7, 2.0)  # a tighter own limit wins
        with budget(max_steps=80) as inner:  # looser cap, no deadline: the outer ones hold
            assert inner.max_steps == 50 and inner.deadline == outer.deadline
        with budget(wall_time=10, max_steps=5) as inner:
            assert inner.max_steps == 5 and inner.deadline < outer.deadline
        assert current() is outer
    assert current() is None


def test_a_spent_budget_still_grants_one_slice() -> None:
    with budget(wall_time=1e-9) as b:
        time.sleep(0.01)
        assert b.spent() and b.remaining() < 0
        assert capped(10, None) == (10, MIN_SLICE)


@pytest.mark.parametrize(("wall", "steps"), [(0, None), (-1, None), (None, 0)])
def test_bad_budgets_are_refused(wall: float | None, steps: int | None) -> None:
    with pytest.raises(ValueError), budget(wall, steps):
        pass


def test_an_integration_inside_a_step_budget_stops_at_the_cap() -> None:
    problem = problem_from_dict(STIFF, "stiff")
    free = integrate(problem, None, "1e8", max_steps=60)
    with budget(max_steps=50):
        traj = integrate(problem, None, "1e8")
    assert traj.outcome.value == "max_steps" and free.outcome.value == "max_steps"
    assert traj.n_steps <= 50 < free.n_steps <= 60
    assert traj.t < free.t  # fewer steps, less far: the same flow, stopped earlier


def test_an_integration_inside_a_wall_clock_budget_ends_with_its_time_limit() -> None:
    problem = problem_from_dict(SLOW, "slow")
    with budget(wall_time=1):
        traj = integrate(problem, None, "1e30", dps=300)
    assert traj.outcome.value == "time_limit" and traj.t < 10**30
    assert 0 < traj.t < 10**8
