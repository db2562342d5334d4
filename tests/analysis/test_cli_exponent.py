"""`kltools exponent`: JSON shape, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kltools.cli import main


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["exponent", *args])


def test_json_for_the_minimum_on_a_curve() -> None:
    res = run("(a*b - 1)**2/2", "--vars", "a,b", "--at", "2,1/2", "--json")
    assert res.exit_code == 0, res.output
    j = json.loads(res.output)
    assert j["exponent"] == "1/2" and j["method"] == "morse-bott"
    assert j["interval"] == ["1/2", "1/2"] and j["bound"] == "35/36"
    assert j["critical_point"] == {"point": ["2", "1/2"], "certified": True,
                                   "classification": "degenerate", "kernel_dimension": 1}


def test_text_output_and_default_point() -> None:
    res = run("x**2 + y**4", "--vars", "x,y")
    assert res.exit_code == 0
    assert res.output.startswith("exponent  3/4  (exact, quasi-homogeneous)")


def test_numeric_json_has_a_null_exponent_and_an_interval() -> None:
    res = run("x**2 + 2*x*y**2 + y**4 + y**5", "--vars", "x,y", "--json")
    assert res.exit_code == 0
    j = json.loads(res.output)
    assert j["exponent"] is None and j["method"] == "numeric"
    lo, hi = map(float, j["interval"])
    assert lo <= 0.8 <= hi and hi - lo <= 0.05
    assert j["numeric"]["converged"] is True


@pytest.mark.parametrize(("args", "message"), [
    (("x**2 + z", "--vars", "x,y"), "unknown symbol 'z'"),
    (("x**2 + y", "--vars", "x,y"), "not a critical point"),
    (("x**2 + y", "--vars", "x,y"), "pass one with --at"),  # a suggestion the CLI can follow
    (("x^4", "--vars", "x"), "use ** for powers"),
    (("exp(x) - x + y**2", "--vars", "x,y", "--method", "newton-polygon"), "polynomial"),
    (("x**2", "--vars", "x", "--method", "magic"), "unknown method"),
    (("x**2 +", "--vars", "x"), "syntax error"),
])
def test_bad_input_exits_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    res = CliRunner().invoke(main, ["exponent", *args])
    assert res.exit_code == 2
    assert message in res.output
    assert res.output.startswith("kltools: error:") and res.output.count("\n") == 1
