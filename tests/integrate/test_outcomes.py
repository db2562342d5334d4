"""Outcomes as values: every way a run ends is an Outcome member, never a crash or a string."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from kltools.cli import main
from kltools.errors import IntegrationError
from kltools.integrate.flow import integrate
from kltools.integrate.trajectory import EventKind, Outcome, Trajectory
from kltools.spec import load_problem

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def objective(expr: str, names: str) -> object:
    vars_ = ", ".join(f'"{v}"' for v in names.split(","))
    return load_problem(f'[objective]\nexpr = "{expr}"\nvars = [{vars_}]\n')


def test_every_outcome_has_a_message_and_json_keeps_the_old_strings() -> None:
    assert all(o.message.endswith(".") for o in Outcome)
    assert [Outcome.OK, Outcome.BLOWUP, Outcome.SLIDING, Outcome.MAX_STEPS] == \
        ["ok", "blowup", "sliding", "max_steps"]
    assert {o for o in Outcome if o.stopped_early} == {
        Outcome.MAX_STEPS, Outcome.TIME_LIMIT, Outcome.STALLED, Outcome.MAX_EVENTS,
        Outcome.STIFF, Outcome.KINK_INTERSECTION}
    assert EventKind.SLIDING_EXIT == "sliding-exit"


def test_stationary_start_is_an_outcome_with_dense_output() -> None:
    # θ = 0 is a critical point of (ab − 3)²/2: ∇L = (−3b·…, …) = 0 exactly.
    traj = integrate(objective("(a*b - 3)**2/2", "a,b"), ["0", "0"], 5, dps=30)
    assert traj.outcome is Outcome.STATIONARY
    assert traj.info["stationary"] is True
    assert [float(t) for t in traj.times] == [0.0, 5.0]
    assert traj("5/2") == [0, 0] and traj.velocity is not None
    assert all(v == 0 for v in traj.velocity(1))
    assert traj.loss == Fraction(9, 2)
    assert traj.to_json()["outcome"] == "stationary"
    traj.raise_for_outcome()  # staying at a critical point is not a failure


def test_trajectory_is_frozen() -> None:
    traj = integrate(objective("x**2/2", "x"), ["1"], 1, dps=20)
    with pytest.raises(AttributeError):
        traj.outcome = Outcome.BLOWUP  # type: ignore[misc]


def test_max_events_and_time_limit_are_their_own_outcomes() -> None:
    p = objective("x**2/2 + 2*relu(x - 1)", "x")
    capped = integrate(p, ["5"], 3, dps=20, max_events=0)
    assert capped.outcome is Outcome.MAX_EVENTS and capped.outcome.stopped_early
    assert float(capped.t) == pytest.approx(math.log(7 / 3), rel=1e-12)  # at the first kink
    with pytest.raises(IntegrationError, match="kink-event limit"):
        integrate(p, ["5"], 3, dps=20, max_events=0, throw=True)


def test_overflowing_objective_is_one_clear_error_not_nan() -> None:
    p = objective("log(1 + exp(-100000000000*w1*w2))", "w1,w2")
    for dps in (15, 40):
        with pytest.raises(IntegrationError, match="not finite"):
            integrate(p, ["0.5", "-0.25"], 1, dps=dps)


def test_cli_integrates_a_separable_classifier_to_1e40() -> None:
    res = CliRunner().invoke(main, ["integrate", str(EXAMPLES / "linear_classifier_logistic.toml"),
                                    "--t-end", "1e40", "--dps", "15", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["outcome"] == "ok" and float(out["t"]) == 1e40


@pytest.mark.slow
@pytest.mark.parametrize("prop", ["energy", "rayleigh-identity"])
def test_energy_and_rayleigh_checks_never_fail_internally_on_shipped_examples(prop: str) -> None:
    for spec in sorted(EXAMPLES.glob("*.toml")):
        res = CliRunner().invoke(main, ["check", str(spec), "--property", prop, "--examples",
                                        "2", "--t-end", "1", "--dps", "15"])
        assert res.exit_code in (0, 1, 2, 3), (spec.name, res.output)


def test_trajectory_type_is_reexported_unchanged() -> None:
    assert Trajectory.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_stiff_then_slow_flow_ends_stiff_with_the_time_reached() -> None:
    # x' = −2x, y' = −4y³: long after e^{−2t} is negligible the explicit step stays held by
    # that mode (h·2 ≈ 15) while y decays like t^{−1/2}; 1e8 is out of reach of max_steps.
    p = objective("x**2 + y**4", "x,y")
    traj = integrate(p, ["1", "1"], "1e8", dps=30)
    assert traj.outcome is Outcome.STIFF and traj.outcome.stopped_early
    info = traj.info["stiff"]
    assert 50 < info["t"] < 1e4 and info["t"] == float(traj.t)
    assert 1 < info["step"] < 20 and "rescale" in info["suggestion"]
    # The negative control: without the fast mode the steps grow with t and 1e8 is reached.
    slow = integrate(objective("y**4", "y"), ["1"], "1e8", dps=30)
    assert slow.outcome is Outcome.OK


def test_cli_reports_where_a_stiff_run_stopped(tmp_path: Path) -> None:
    spec = tmp_path / "stiff.toml"
    spec.write_text('[objective]\nexpr = "x**2 + y**4"\nvars = ["x", "y"]\n'
                    '[init]\ntheta = ["1", "1"]\n')
    res = CliRunner().invoke(main, ["integrate", str(spec), "--t-end", "1e8"])
    assert res.exit_code == 0, res.output
    assert "outcome     stiff" in res.stdout and "stiff       at t = " in res.stdout
