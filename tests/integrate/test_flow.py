"""The flow driver against closed forms: smooth flows, kinks, sliding, blow-up, digits."""

from __future__ import annotations

from pathlib import Path

import mpmath
import pytest

from kltools.errors import DerivationError, IntegrationError
from kltools.integrate.flow import integrate
from kltools.integrate.trajectory import Outcome, Trajectory
from kltools.spec import load_problem

mp = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp


def objective(expr: str, names: str) -> object:
    vars_ = ", ".join(f'"{v}"' for v in names.split(","))
    return load_problem(f'[objective]\nexpr = "{expr}"\nvars = [{vars_}]\n')


def digits(value: object, exact: mpmath.mpf) -> float:
    """Correct significant digits of ``value`` against ``exact`` (computed at 150 digits)."""
    with mpmath.workdps(150):
        err = abs(mpmath.mpf(str(value)) - exact)
        if err == 0:
            return 150.0
        return float(-mpmath.log10(err / abs(exact)))


def balanced_closed_form(s: int, p0: mpmath.mpf, t: object) -> mpmath.mpf:
    # p = ab for a = b under L = (ab - s)^2/2: p' = -2p(p - s).
    with mpmath.workdps(150):
        e = mpmath.exp(2 * s * mpmath.mpf(t))
        return s * e / (e - 1 + s / p0)


@pytest.mark.parametrize("dps", [30, 60, 100])
def test_balanced_factorisation_matches_closed_form(dps: int) -> None:
    p = objective("(a*b - 3)**2/2", "a,b")
    traj = integrate(p, ["0.5", "0.5"], 2, dps=dps)
    assert traj.outcome is Outcome.OK
    with mpmath.workdps(150):
        exact = mpmath.sqrt(balanced_closed_form(3, mpmath.mpf(1) / 4, 2))
    for v in traj.theta:
        assert digits(v, exact) >= dps - 5
    assert traj.correct_digits >= dps - 5


@pytest.mark.parametrize("dps", [30, 60, 100])
def test_unbalanced_start_conserves_a2_minus_b2(dps: int) -> None:
    p = objective("(a*b - 3)**2/2", "a,b")
    traj = integrate(p, ["0.3", "-0.05"], 3, dps=dps)
    with mpmath.workdps(dps + 40):
        c0 = mpmath.mpf("0.3") ** 2 - mpmath.mpf("0.05") ** 2
        for th in traj.states:
            a, b = (mpmath.mpf(str(v)) for v in th)
            assert abs(a * a - b * b - c0) < mpmath.mpf(10) ** (-(dps - 5))


def test_late_time_residual_keeps_its_digits_thanks_to_precision_boosts() -> None:
    # At t = 10 the residual 3 - ab is ~1e-24: with a fixed 30 digits only a few of its digits
    # would be right; adaptive precision keeps ~30 significant digits of it.
    p = objective("(a*b - 3)**2/2", "a,b")
    t = 10
    with mpmath.workdps(150):
        exact = 3 - balanced_closed_form(3, mpmath.mpf(1) / 4, t)
    boosted = integrate(p, ["0.5", "0.5"], t, dps=30)
    fixed = integrate(p, ["0.5", "0.5"], t, dps=30, adaptive_precision=False)

    def residual_digits(traj: Trajectory) -> float:
        with mpmath.workdps(150):
            a, b = (mpmath.mpf(str(v)) for v in traj.theta)
            return digits(3 - a * b, exact)

    assert boosted.info["precision_boosts"]
    assert residual_digits(boosted) >= 25
    assert residual_digits(fixed) < 15  # the negative control: the boost is what helps


def test_blowup_of_minus_x4_reported_with_time_and_digits() -> None:
    p = objective("-x**4", "x")
    traj = integrate(p, ["1/2"], 2, dps=30)
    assert traj.outcome is Outcome.BLOWUP
    assert digits(traj.blowup_time, mpmath.mpf(1) / 2) >= 20
    assert traj.blowup_digits >= 20
    assert traj.n_steps < 800  # 194 measured (with precision boosts): no creeping steps


def test_blowup_time_other_initial_value() -> None:
    # t* = 1/(8 x0^2) for x0 = 3/10: 125/9, a non-dyadic value.
    p = objective("-x**4", "x")
    traj = integrate(p, ["0.3"], 20, dps=40)
    assert traj.outcome is Outcome.BLOWUP
    with mpmath.workdps(150):
        exact = mpmath.mpf(125) / 90
    assert digits(traj.blowup_time, exact) >= 20


def test_relu_crossing_at_the_computed_time() -> None:
    # L = x^2/2 + 2 relu(x - 1): x' = -x - 2 above the kink, so from x0 = 5 the kink x = 1 is
    # reached at t1 = log(7/3); below it x' = -x, so x(T) = exp(-(T - t1)).
    p = objective("x**2/2 + 2*relu(x - 1)", "x")
    traj = integrate(p, ["5"], 3, dps=40)
    with mpmath.workdps(150):
        t1 = mpmath.log(mpmath.mpf(7) / 3)
        xT = mpmath.exp(-(3 - t1))
    assert [e.kind for e in traj.events] == ["crossing"]
    assert digits(traj.events[0].t, t1) >= 35
    assert digits(traj.theta[0], xT) >= 35


def test_filippov_sliding_then_exit_matches_closed_form() -> None:
    # L = |x| - x y - y: on x = 0 both sides push into the surface while |y| < 1 and y' = 1,
    # so from (0, -1/2) the flow slides until t = 3/2 (alpha = (1 + y)/2 reaches 1), then leaves
    # into x > 0 where x'' = x + 1: x = cosh(t - 3/2) - 1, y = 1 + sinh(t - 3/2).
    p = objective("abs(x) - x*y - y", "x,y")
    traj = integrate(p, ["0", "-1/2"], 2, dps=30, convention="filippov")
    assert [e.kind for e in traj.events] == ["sliding", "sliding-exit"]
    assert digits(traj.events[1].t, mpmath.mpf(3) / 2) >= 25
    with mpmath.workdps(150):
        x_exact = mpmath.cosh(mpmath.mpf(1) / 2) - 1
        y_exact = 1 + mpmath.sinh(mpmath.mpf(1) / 2)
    assert digits(traj.theta[0], x_exact) >= 25
    assert digits(traj.theta[1], y_exact) >= 25


def test_sliding_is_entered_from_a_crossing_and_stays() -> None:
    # L = |x| + y^2/2 from (1/2, 1): x reaches 0 at t = 1/2 and slides there; y = exp(-t).
    p = objective("abs(x) + y**2/2", "x,y")
    traj = integrate(p, ["1/2", "1"], 2, dps=30)
    assert traj.outcome is Outcome.SLIDING
    assert [e.kind for e in traj.events] == ["sliding"]
    assert digits(traj.events[0].t, mpmath.mpf(1) / 2) >= 25
    assert abs(traj.theta[0]) < 1e-25
    with mpmath.workdps(150):
        exact = mpmath.exp(-2)
    assert digits(traj.theta[1], exact) >= 25


def test_simultaneous_crossing_is_classified_and_counted() -> None:
    # L = x + relu(x) + y + relu(y): x' = -2 above 0, -1 below; from (1, 1) both kinks at t = 1/2.
    p = objective("x + relu(x) + y + relu(y)", "x,y")
    traj = integrate(p, ["1", "1"], 1, dps=30)
    assert [e.kind for e in traj.events] == ["simultaneous"]
    assert sorted(traj.events[0].surfaces) == [0, 1]
    assert all(digits(v, mpmath.mpf(-1) / 2) >= 25 for v in traj.theta)
    # Negative control: a generic start crosses the two kinks at different times.
    traj = integrate(p, ["1", "1.1"], 1, dps=30)
    assert [e.kind for e in traj.events] == ["crossing", "crossing"]


def test_exponential_loss_reaches_1e8_quickly() -> None:
    # L(w) = exp(-w): w(t) = log(t + e^{w0}).
    p = objective("exp(-w)", "w")
    traj = integrate(p, ["0"], "1e8", dps=30)
    assert traj.n_steps < 1000  # steps grow with t (128 measured)
    with mpmath.workdps(150):
        exact = mpmath.log(mpmath.mpf(10) ** 8 + 1)
    assert digits(traj.theta[0], exact) >= 25


def test_verify_reports_digits_that_are_really_correct() -> None:
    p = objective("(a*b - 3)**2/2", "a,b")
    traj = integrate(p, ["0.5", "0.5"], 1, dps=30, verify=True)
    with mpmath.workdps(150):
        exact = mpmath.sqrt(balanced_closed_form(3, mpmath.mpf(1) / 4, 1))
    true = min(digits(v, exact) for v in traj.theta)
    assert traj.verified
    assert traj.correct_digits <= true + 1  # never claim digits that are not there
    assert traj.correct_digits >= 25


def test_gradient_descent_error_is_first_order_in_the_step() -> None:
    p = objective("(a*b - 3)**2/2", "a,b")
    flow = integrate(p, ["0.5", "0.5"], 1, dps=30)

    def err(eta: str) -> float:
        gd = integrate(p, ["0.5", "0.5"], 1, method="gd", eta=eta, dps=30)
        return max(abs(float(g) - float(f)) for g, f in zip(gd.theta, flow.theta, strict=True))

    e1, e2 = err("0.01"), err("0.005")
    assert 1.7 < e1 / e2 < 2.3  # O(eta): halving the step halves the deviation


def test_trajectory_dense_output_and_save_load(tmp_path: Path) -> None:
    p = objective("(a*b - 3)**2/2", "a,b")
    traj = integrate(p, ["0.5", "0.5"], 1, dps=30)
    with mpmath.workdps(150):
        exact = mpmath.sqrt(balanced_closed_form(3, mpmath.mpf(1) / 4, mpmath.mpf("0.37")))
    assert digits(traj("0.37")[0], exact) >= 25
    path = tmp_path / "traj.json"
    traj.save(path)
    back = Trajectory.load(path)
    assert back.outcome is traj.outcome and back.parameters == traj.parameters
    with mpmath.workdps(150):
        original = mpmath.mpf(str(traj.theta[0]))
    assert digits(back.theta[0], original) >= 29
    assert len(back.times) == len(traj.times)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"t_end": -1}, "positive"),
    ({"t_end": "abc"}, "not a number"),
    ({"dps": 5}, "between 10 and 10000"),
    ({"dps": 20000}, "between 10 and 10000"),
    ({"theta0": ["1", "2", "3"]}, "parameters"),
    ({"method": "rk4"}, "unknown method"),
    ({"method": "gd"}, "needs a step"),
])
def test_bad_arguments_are_clear_errors(kwargs: dict, match: str) -> None:
    p = objective("(a*b - 3)**2/2", "a,b")
    args = {"theta0": ["0.5", "0.5"], "t_end": 1, **kwargs}
    with pytest.raises(IntegrationError, match=match):
        integrate(p, **args)


def test_start_on_a_kink_needs_a_convention() -> None:
    p = objective("relu(x) + x**2", "x")
    with pytest.raises(DerivationError, match="kink"):
        integrate(p, ["0"], 1)
    # x' = -1 - 2x on the right, -2x on the left: at 0 the right field points left and the
    # left field vanishes, so 0 is in the Clarke subdifferential and the Filippov flow stays.
    traj = integrate(p, ["0"], 1, convention="filippov")
    assert traj.theta[0] == 0
    assert [e.kind for e in traj.events] == ["sliding"]
    # With an explicit side the user gets that side's smooth flow: x' = -1 - 2x (right piece)
    # is integrated as asked, x(1) = (e^-2 - 1)/2, even though it leaves the piece's region.
    right = integrate(p, ["0"], 1, convention="right")
    assert right.theta[0] < 0
