"""Many initialisations: verdict aggregation and Hypothesis shrinking to a small counter-example."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kltools.checks.runner import check
from kltools.checks.verdict import Status
from kltools.errors import NotApplicableError, SpecError
from kltools.integrate.flow import integrate
from kltools.spec import load_problem


def test_property_holding_everywhere_holds_over_all_examples() -> None:
    p = load_problem('[objective]\nexpr = "(a*b - 1)**2/2"\nvars = ["a", "b"]\n'
                     '[init]\ntheta = ["0.5", "1.5"]\n')
    v = check(p, "no-blowup", examples=8, seed=1, t_end=5)
    assert v.status is Status.HOLDS
    assert v.examples == 8
    assert v.tally["holds"] == 8
    assert [r["verdict"] for r in v.records] == ["holds"] * 8  # one record per example


def test_counterexample_shrinks_to_the_blowup_threshold_and_reproduces() -> None:
    # L = -x^4 + x^2/1000 blows up before t = 10 only when |x0| is above a threshold near 0.112;
    # the spec's init (0.01) does not blow up, so the runner must find and shrink one.
    p = load_problem('[objective]\nexpr = "-x**4 + x**2/1000"\nvars = ["x"]\n'
                     '[init]\ntheta = ["0.01"]\n')
    v = check(p, "no-blowup", examples=30, seed=0, t_end=10)
    assert v.status is Status.REFUTED
    x0 = abs(Fraction(v.counterexample["init"][0]))
    assert Fraction(111, 1000) <= x0 <= Fraction(125, 1000)  # shrunk close to the threshold
    # The printed spec and init reproduce the failure.
    again = load_problem(v.counterexample["spec"])
    traj = integrate(again, None, 10, dps=30)
    assert traj.outcome.value == "blowup"


def test_not_applicable_is_raised_before_running() -> None:
    p = load_problem('[objective]\nexpr = "x**2"\nvars = ["x"]\n')
    with pytest.raises(NotApplicableError):
        check(p, "conservation", examples=3)


@pytest.mark.parametrize("bad", [0, -1, True, "3"])
def test_bad_example_count(bad: object) -> None:
    p = load_problem('[objective]\nexpr = "x**2"\nvars = ["x"]\n')
    with pytest.raises(SpecError, match="examples"):
        check(p, "energy", examples=bad)  # type: ignore[arg-type]
