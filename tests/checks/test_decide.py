"""Issue 11's table: asymptotic claims decided on the defaults, and transients never refuted."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kltools.checks.properties import (
    PROPERTIES,
    Evidence,
    Options,
    Property,
    check_property,
    doc,
    get_property,
    register,
    shown,
)
from kltools.checks.runner import check
from kltools.checks.verdict import Status, Verdict
from kltools.spec import load_problem


def objective(expr: str, names: str, init: str) -> object:
    vars_ = ", ".join(f'"{v}"' for v in names.split(","))
    theta = ", ".join(f'"{v}"' for v in init.split(","))
    return load_problem(f'[objective]\nexpr = "{expr}"\nvars = [{vars_}]\n'
                        f'[init]\ntheta = [{theta}]\n')


def test_x4_three_quarters_holds_and_one_half_is_refuted_with_a_certified_limit() -> None:
    p = objective("x**4", "x", "0.5")
    good = check_property("lojasiewicz", p, exponent="3/4")
    assert good.status is Status.HOLDS
    assert good.evidence.limit["exact"] and good.evidence.limit["exponent"] == "3/4"
    bad = check_property("lojasiewicz", p, exponent="1/2")
    assert bad.status is Status.REFUTED
    # The ratio |L|^(1/2)/|grad L| grows like |L|^(-1/4): the fitted exponent is 3/4.
    assert bad.evidence.estimated_exponent == pytest.approx(0.75, abs=1e-3)


def test_x6_five_sixths_holds_on_the_defaults() -> None:
    v = check_property("lojasiewicz", objective("x**6", "x", "0.5"), exponent="5/6")
    assert v.status is Status.HOLDS
    assert v.evidence.estimated_exponent == pytest.approx(5 / 6, abs=1e-3)


@pytest.mark.slow
def test_valley_five_sixths_holds_and_three_quarters_is_refuted() -> None:
    p = objective("(x - y**2)**2 + y**6", "x,y", "0.5,0.6")
    assert check_property("lojasiewicz", p, exponent="5/6").status is Status.HOLDS
    bad = check_property("lojasiewicz", p, exponent="3/4")
    assert bad.status is Status.REFUTED
    assert bad.evidence.limit["point"] == ["0", "0"] and bad.evidence.limit["certified"]


def test_chain_transient_is_not_refuted_and_linear_convergence_holds_at_its_rate() -> None:
    # (abc)^2/2 from (0.7, 0.6, 0.8): b -> 0, a^2 - b^2 and c^2 - b^2 conserved, so the limit is
    # (sqrt(0.13), 0, sqrt(0.28)) and log L falls at 2 a^2 c^2 = 0.0728 after a long transient.
    v = check_property("linear-convergence", objective("(a*b*c)**2/2", "a,b,c", "0.7,0.6,0.8"))
    assert v.status is Status.HOLDS
    assert v.evidence.rate == pytest.approx(2 * 0.13 * 0.28, rel=1e-3)
    # On the old fixed horizon (t = 30) the rate still decays: that is no refutation.
    short = check_property("linear-convergence",
                           objective("(a*b*c)**2/2", "a,b,c", "0.7,0.6,0.8"), t_end=30)
    assert short.status is not Status.REFUTED


def test_constructed_slow_transient_settles_to_the_morse_bott_rate() -> None:
    # (xy)^2/2 from (0.505, 0.5): x^2 - y^2 = 0.005025 is conserved; until t ~ 100 the flow is
    # nearly balanced and L decays like 1/t^2 (the rate of log L decays), then y -> 0 and the
    # rate settles to 2 x_inf^2 = 0.01005.
    p = objective("(x*y)**2/2", "x,y", "0.505,0.5")
    early = check_property("linear-convergence", p, t_end=60)
    assert early.status is not Status.REFUTED
    v = check_property("linear-convergence", p)
    assert v.status is Status.HOLDS
    assert v.evidence.rate == pytest.approx(2 * 0.005025, rel=1e-3)


def test_x4_linear_convergence_is_refuted_with_the_power_law() -> None:
    v = check_property("linear-convergence", objective("x**4", "x", "0.5"))
    assert v.status is Status.REFUTED
    assert "t^-2.000" in v.reason


def test_json_lists_every_example_with_its_own_verdict() -> None:
    v = check(objective("x**4", "x", "0.5"), "lojasiewicz", examples=3, exponent="3/4")
    recs = v.to_json()["records"]
    assert len(recs) == v.examples == 3
    assert all(r["verdict"] in ("holds", "inconclusive") and r["init"] and r["horizon"]
               for r in recs)


# -- the recipe "how to add a property" (NOTES.md), exercised -------------------------------
@dataclass(frozen=True)
class _DecreaseOptions(Options):
    t_end: str | None = doc("horizon", "1")


@dataclass(frozen=True)
class _DecreaseEvidence(Evidence):
    drop: float = shown("L(0) - L(T)")


def _decrease(c: object, theta0: object, o: _DecreaseOptions) -> Verdict:
    traj = c.flow(theta0, o.t_end, o.dps)  # type: ignore[attr-defined]
    drop = float(traj.losses[0] - traj.losses[-1])
    status = Status.HOLDS if drop >= 0 else Status.REFUTED
    return c.verdict("toy-decrease", status, _DecreaseEvidence(drop), theta0,  # type: ignore
                     "" if drop >= 0 else "L increased", traj)


def test_a_registered_toy_property_is_checked_documented_and_helped() -> None:
    prop = register(Property("toy-decrease", "L(θ(T)) ≤ L(θ(0))", "any spec",
                             "holds when L decreased, refuted when it increased.",
                             _DecreaseOptions, _decrease, default_t_end="1"))
    try:
        assert get_property("toy-decrease") is prop
        v = check(objective("x**2", "x", "1"), "toy-decrease", examples=2)
        assert v.status is Status.HOLDS and v.evidence["first example: L(0) - L(T)"] > 0.8
        from kltools import testing
        from kltools.checks.command import properties_help

        assert testing.assert_toy_decrease(objective("x**2", "x", "1"), examples=1).holds
        assert "toy-decrease: L(θ(T)) ≤ L(θ(0))" in properties_help()
        with pytest.raises(Exception, match="takes no option 'exponent'"):
            check_property("toy-decrease", objective("x**2", "x", "1"), exponent="1/2")
    finally:
        del PROPERTIES["toy-decrease"]


def test_separable_classification_with_the_exponential_loss_holds_towards_the_svm() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "examples" /
            "linear_classifier_logistic.toml").read_text()
    p = load_problem(text.replace('kind = "logistic"', 'kind = "exponential"'))
    v = check_property("directional-convergence", p)
    assert v.status is Status.HOLDS
    mid, end = v.evidence.svm_angles  # angles to the exact max-margin direction (4/7, 6/7)
    assert end < mid < 0.5


def test_a_rising_misalignment_is_not_a_refutation() -> None:
    from kltools.analysis.margins import MarginReport
    from kltools.checks.properties.directional_convergence import _decide

    # Margin monotone and |theta| growing, but 1 - cos rises at the end: a transient.
    r = MarginReport(t0=1, times=[1.0, 10.0, 100.0, 1000.0, 10000.0, 1e5],
                     norms=[1.0, 2, 3, 4, 5, 6], margins=[0.1] * 6,
                     smoothed=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                     misalignment=[0.5, 0.1, 0.01, 0.001, 0.001, 0.01],
                     directions=[[1.0, 0.0]] * 6)
    status, why = _decide(r)
    assert status is Status.INCONCLUSIVE and "transient" in why


RELU_TUTORIAL = """
[network]
layers = [2, 2, 1]
activation = "relu"
[loss]
kind = "square"
[data]
x = [["1", "2"], ["2", "-1"], ["-1", "1"]]
y = ["1", "0.5", "0.25"]
[init]
theta = ["0.5", "0.4", "0.3", "-0.2", "0.7", "0.6"]
"""


def test_the_rayleigh_bound_takes_each_state_on_its_own_activation_pattern() -> None:
    # The pattern of this ReLU net changes early on. With the final pattern for every state the
    # Rayleigh bound was 2s min R/n = 0.557 > the observed average rate 0.538 and a true claim
    # came out refuted; on each state's own pattern min R gives 0.233, below the observed rate.
    v = check_property("linear-convergence", load_problem(RELU_TUTORIAL), t_end=40)
    assert v.status is Status.HOLDS, v.reason
    ev = v.evidence
    assert ev.rayleigh == pytest.approx(0.23344, rel=1e-3)
    assert ev.average == pytest.approx(0.53834, rel=1e-3)
    assert ev.average > ev.rayleigh


def test_a_bug_inside_a_property_is_raised_at_once_not_shrunk() -> None:
    # An exception that is not a verdict is kltools' bug: the runner must stop generating and
    # re-raise it (Hypothesis would otherwise spend minutes shrinking it as a counter-example).
    calls = {"n": 0}

    def buggy(c: object, theta0: object, o: _DecreaseOptions) -> Verdict:
        calls["n"] += 1
        if theta0 is not None:
            raise RuntimeError("a bug")
        traj = c.flow(theta0, o.t_end, o.dps)  # type: ignore[attr-defined]
        drop = float(traj.losses[0] - traj.losses[-1])
        return c.verdict("toy-buggy", Status.HOLDS, _DecreaseEvidence(drop),  # type: ignore
                         theta0, "", traj)

    register(Property("toy-buggy", "L(θ(T)) ≤ L(θ(0))", "any spec", "never decides wrongly.",
                      _DecreaseOptions, buggy, default_t_end="1"))
    try:
        with pytest.raises(RuntimeError, match="a bug"):
            check(objective("x**2", "x", "1"), "toy-buggy", examples=50)
        assert calls["n"] == 2  # the spec's init, then the first generated example
    finally:
        del PROPERTIES["toy-buggy"]
