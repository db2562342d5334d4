"""The Taylor integrator against closed forms: flows, conservation, blow-up, horizons, events."""

from __future__ import annotations

import gmpy2
import mpmath
import pytest
import sympy as sp

from kltools.compiled.program import program_from_sympy
from kltools.errors import IntegrationError
from kltools.integrate import Outcome, taylor_solve

a, b, x, y, w = sp.symbols("a b x y w")


def flow(loss: sp.Expr, variables: list[sp.Symbol], extra: list[sp.Expr] = ()) -> object:
    """Program of the gradient flow v' = -dL/dv, followed by ``extra`` outputs."""
    return program_from_sympy([-sp.diff(loss, v) for v in variables] + list(extra), variables)


def digits(value: object, exact: object) -> float:
    """Correct significant digits of ``value``; ``exact`` is a number, a decimal string or a
    callable evaluated at 250 digits."""
    with mpmath.workdps(250):
        exact = exact() if callable(exact) else exact
        err = abs(mpmath.mpf(value) - mpmath.mpf(exact))
        if err == 0:
            return 250.0
        return float(-mpmath.log10(err / abs(mpmath.mpf(exact))))


# --- (a) L = (ab - s)^2/2 -------------------------------------------------------------------


@pytest.mark.parametrize("dps", [30, 60, 100])
def test_balanced_factorisation_matches_closed_form(dps: int) -> None:
    # a = b: p = ab obeys p' = 2p(s - p), so p(t) = s e^{2st} / (e^{2st} - 1 + s/p(0)).
    s, t_end = 3, 2
    sol = taylor_solve(flow((a * b - s) ** 2 / 2, [a, b]), ["0.5", "0.5"], 0, t_end, dps=dps)
    assert sol.outcome is Outcome.OK and sol.t_final == t_end
    with mpmath.workdps(250):
        e = mpmath.exp(2 * s * t_end)
        exact = s * e / (e - 1 + s / mpmath.mpf("0.25"))
        got = mpmath.mpf(sol.state[0]) * mpmath.mpf(sol.state[1])
    assert digits(got, exact) >= dps - 5


@pytest.mark.parametrize("dps", [30, 60, 100])
def test_unbalanced_start_conserves_a2_minus_b2(dps: int) -> None:
    sol = taylor_solve(flow((a * b - 3) ** 2 / 2, [a, b]), ["1.5", "-0.25"], 0, 3, dps=dps)
    assert sol.outcome is Outcome.OK
    with mpmath.workdps(250):
        drift = abs(mpmath.mpf(sol.state[0]) ** 2 - mpmath.mpf(sol.state[1]) ** 2
                    - (mpmath.mpf("1.5") ** 2 - mpmath.mpf("0.25") ** 2))
        assert drift < mpmath.mpf(10) ** -(dps - 5)
        # It did move: ab went from -3/8 to near 3 ... or -3 (the sign of ab is kept).
        assert abs(abs(mpmath.mpf(sol.state[0]) * mpmath.mpf(sol.state[1])) - 3) < 1e-3


def test_error_estimate_is_of_the_size_of_the_true_error() -> None:
    sol = taylor_solve(flow((a * b - 3) ** 2 / 2, [a, b]), ["0.5", "0.5"], 0, 2, dps=40)
    assert 0 < sol.error_estimate < 1e-38


# --- (b) blow-up ----------------------------------------------------------------------------


def test_minus_x4_blows_up_at_one_eighth_over_x0_squared() -> None:
    # L = -x^4: x' = 4x^3, x(t) = (x0^-2 - 8t)^(-1/2), singular at t* = 1/(8 x0^2) = 1/2.
    sol = taylor_solve(flow(-(x**4), [x]), [sp.Rational(1, 2)], 0, 1, dps=30)
    assert sol.outcome is Outcome.BLOWUP
    # Steps shrink geometrically towards t*: a few dozen (46 measured), not thousands.
    assert sol.n_steps < 200
    assert digits(sol.blowup_time, "0.5") >= 20
    assert sol.blowup_time_digits >= 20
    assert sol.t_final < sol.blowup_time


def test_y_squared_blows_up_near_one_quickly() -> None:
    sol = taylor_solve(program_from_sympy([y**2], [y]), [1], 0, 2, dps=30)
    assert sol.outcome is Outcome.BLOWUP and sol.n_steps < 200  # 50 measured
    assert abs(sol.blowup_time - 1) < 1e-25


def test_tangent_blow_up_time_is_pi_over_two() -> None:
    # y' = 1 + y^2, y(0) = 0: y = tan t; poles at ±pi/2 + k pi, the nearest one ahead is real.
    sol = taylor_solve(program_from_sympy([1 + y**2], [y]), [0], 0, 3, dps=40)
    assert sol.outcome is Outcome.BLOWUP
    assert digits(sol.blowup_time, lambda: mpmath.pi / 2) >= 35


def test_stalled_or_blowup_never_hangs_with_max_steps() -> None:
    sol = taylor_solve(program_from_sympy([y**2], [y]), [1], 0, 2, dps=30, max_steps=3)
    assert sol.outcome is Outcome.MAX_STEPS and sol.n_steps == 3


def test_wall_clock_limit_ends_the_run() -> None:
    sol = taylor_solve(flow((a * b - 3) ** 2 / 2, [a, b]), ["0.5", "0.5"], 0, 10**6, dps=200,
                       wall_time=0.05)
    assert sol.outcome is Outcome.TIME_LIMIT and sol.t_final < 10**6


# --- (c) long horizons ----------------------------------------------------------------------


def test_exponential_loss_reaches_1e8_with_growing_steps() -> None:
    # L = exp(-w): w' = exp(-w), w(t) = log(t + e^{w0}).
    sol = taylor_solve(flow(sp.exp(-w), [w]), ["0.5"], 0, 10**8, dps=30)
    assert sol.outcome is Outcome.OK and sol.n_steps < 1000
    with mpmath.workdps(100):
        exact = mpmath.log(10**8 + mpmath.exp(mpmath.mpf("0.5")))
    assert digits(sol.state[0], exact) >= 25


# --- (d) events -----------------------------------------------------------------------------


def test_linear_crossing_at_two_thirds() -> None:
    prog = program_from_sympy([sp.Integer(-1), x - sp.Rational(1, 3)], [x])
    sol = taylor_solve(prog, [1], 0, 5, dps=30, event_outputs=[1])
    assert sol.outcome is Outcome.EVENT
    assert sol.event.indices == (1,) and sol.event.directions == (-1,)
    assert digits(sol.event.t, lambda: mpmath.mpf(2) / 3) >= 28
    assert digits(sol.state[0], lambda: mpmath.mpf(1) / 3) >= 28
    assert sol.t_final == sol.event.t


def test_nonlinear_crossing_at_log_two() -> None:
    prog = program_from_sympy([-x, x - sp.Rational(1, 2)], [x])  # x = e^-t
    sol = taylor_solve(prog, [1], 0, 5, dps=50, event_outputs=[1])
    assert sol.outcome is Outcome.EVENT
    assert digits(sol.event.t, lambda: mpmath.log(2)) >= 45


def test_simultaneous_crossing_reports_both_surfaces() -> None:
    # x = 1 - t, y = 2 - 2t: x = 1/3 and y = 2/3 both at t = 2/3.
    prog = program_from_sympy([sp.Integer(-1), sp.Integer(-2), x - sp.Rational(1, 3),
                               y - sp.Rational(2, 3)], [x, y])
    sol = taylor_solve(prog, [1, 2], 0, 5, dps=30, event_outputs=[2, 3])
    assert sol.outcome is Outcome.EVENT
    assert sol.event.indices == (2, 3) and sol.event.simultaneous
    assert sol.event.directions == (-1, -1)


def test_close_but_distinct_crossings_are_not_simultaneous() -> None:
    # y = 0.6 at t = 0.7, after x = 1/3 at t = 2/3.
    prog = program_from_sympy([sp.Integer(-1), sp.Integer(-2), x - sp.Rational(1, 3),
                               y - sp.Rational(3, 5)], [x, y])
    sol = taylor_solve(prog, [1, 2], 0, 5, dps=30, event_outputs=[2, 3])
    assert sol.event.indices == (2,) and not sol.event.simultaneous


def test_two_sign_changes_inside_one_step_find_the_first() -> None:
    # g = (x - 1/2)(x - 1/2 - 1e-7) along x = 1 - t: roots at t = 1/2 - 1e-7 and t = 1/2.
    eps = sp.Rational(1, 10**7)
    prog = program_from_sympy([sp.Integer(-1), (x - sp.Rational(1, 2)) *
                               (x - sp.Rational(1, 2) - eps)], [x])
    sol = taylor_solve(prog, [1], 0, 2, dps=30, event_outputs=[1])
    assert sol.outcome is Outcome.EVENT and sol.n_steps == 1
    assert digits(sol.event.t, "0.4999999") >= 28


def test_tangency_is_not_a_crossing() -> None:
    # g = (x - 1/2)^2 touches zero at t = 1/2 without changing sign.
    prog = program_from_sympy([sp.Integer(-1), (x - sp.Rational(1, 2)) ** 2], [x])
    sol = taylor_solve(prog, [1], 0, 2, dps=30, event_outputs=[1])
    assert sol.outcome is Outcome.OK


def test_start_on_surface_does_not_retrigger() -> None:
    # Rotation x' = -y, y' = x from (1, 0): g = y starts on its surface; next zero at t = pi.
    prog = program_from_sympy([-y, x, y], [x, y])
    sol = taylor_solve(prog, [1, 0], 0, 10, dps=40, event_outputs=[2])
    assert sol.outcome is Outcome.EVENT
    assert digits(sol.event.t, lambda: mpmath.pi) >= 35
    assert sol.event.directions == (-1,)


def test_dense_output_and_tracked_outputs() -> None:
    prog = program_from_sympy([-x, x**2], [x])  # x = e^-t, tracked x^2 = e^-2t
    sol = taylor_solve(prog, [1], 0, 3, dps=30, track_outputs=[1])
    state, sq = sol("1.25", outputs=True)
    assert digits(state, lambda: mpmath.exp(mpmath.mpf("-1.25"))) >= 28
    assert digits(sq, lambda: mpmath.exp(mpmath.mpf("-2.5"))) >= 28
    with pytest.raises(IntegrationError, match="outside"):
        sol(4)


# --- arguments, precision and progress --------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dps": 5}, "between 10 and 10000"),
        ({"dps": 10001}, "between 10 and 10000"),
        ({"x0": [1, 2]}, "x0 has 2 components"),
        ({"x0": [float("nan")]}, "not a finite real number"),
        ({"t_end": 0}, "greater than t0"),
        ({"t_end": "abc"}, "not a finite real number"),
        ({"event_outputs": [0]}, "absolute output indices"),
        ({"max_steps": 0}, "positive integer"),
    ],
)
def test_bad_arguments_raise_integration_error(kwargs: dict, match: str) -> None:
    prog = program_from_sympy([-x, x], [x])
    args = {"x0": [1], "t_end": 1, "dps": 30} | kwargs
    with pytest.raises(IntegrationError, match=match):
        taylor_solve(prog, args.pop("x0"), 0, args.pop("t_end"), **args)


def test_precision_is_restored_and_progress_is_called() -> None:
    before_gmpy, before_mp = gmpy2.get_context().precision, mpmath.mp.prec
    seen: list[float] = []
    sol = taylor_solve(flow((a * b - 3) ** 2 / 2, [a, b]), ["0.5", "0.5"], 0, 2, dps=80,
                       progress=seen.append)
    assert gmpy2.get_context().precision == before_gmpy and mpmath.mp.prec == before_mp
    assert seen and seen[-1] == 2.0
    assert sol.state[0].precision > 250


def test_mpmath_backend_agrees() -> None:
    prog = flow((a * b - 3) ** 2 / 2, [a, b])
    ref = taylor_solve(prog, ["0.5", "0.5"], 0, 2, dps=30)
    alt = taylor_solve(prog, ["0.5", "0.5"], 0, 2, dps=30, backend="mpmath")
    assert digits(alt.state[0], ref.state[0]) >= 28
