"""The exponent at the limit of a flow: certified Morse limits and tail fits."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kltools.analysis.at_end import exponent_at_end
from kltools.cli import main
from kltools.spec import load_problem

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_mean_field_l2_limit_is_a_certified_minimum_with_exponent_one_half() -> None:
    out = exponent_at_end(load_problem(EXAMPLES / "mean_field_l2.toml"), t_end=40)
    assert out["exponent"] == "1/2"
    assert out["critical_point"]["certified"] is True
    assert out["critical_point"]["classification"] == "minimum"


def test_degenerate_limit_gets_a_tail_interval_around_three_quarters() -> None:
    # x^4 from x0 = 1/2: the limit 0 is degenerate (never certified non-degenerate) and the
    # tail gives alpha = 3/4.
    p = load_problem('[objective]\nexpr = "x**4"\nvars = ["x"]\n[init]\ntheta = ["0.5"]\n')
    out = exponent_at_end(p, t_end="1e4")
    assert out["exponent"] is None
    assert out["critical_point"]["certified"] is False or \
        out["critical_point"]["classification"] == "degenerate"
    lo, hi = (float(v) for v in out["interval"])
    assert lo <= 0.75 <= hi and hi - lo < 0.05
    assert out["bound"] == "3/4"  # D'Acunto-Kurdyka for d = 4, n = 1: 1 - 1/4


def test_cli_at_end_needs_a_horizon_and_prints_json() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["exponent", str(EXAMPLES / "mean_field_l2.toml"), "--at-end"])
    assert res.exit_code == 2 and "--t-end" in res.output
    res = runner.invoke(main, ["exponent", str(EXAMPLES / "mean_field_l2.toml"), "--at-end",
                               "--t-end", "40", "--json"])
    assert res.exit_code == 0
    assert json.loads(res.output)["exponent"] == "1/2"


def test_limit_of_a_two_layer_relu_flow_is_certified() -> None:
    out = exponent_at_end(load_problem(EXAMPLES / "relu_l2_single.toml"), t_end=60)
    cp = out["critical_point"]
    assert cp["certified"] is True and cp["method"] == "krawczyk"
    assert cp["classification"] == "minimum" and cp["kernel_dimension"] == 0
    assert out["exponent"] == "1/2"
