"""`kltools derive`: every example in every format, clean one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from kltools.cli import main
from kltools.spec import load_problem
from kltools.symbolic.derivation import derive
from kltools.symbolic.export import PARSE_NAMES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
IDS = [p.stem for p in EXAMPLES]


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def _names(parameters: list[str], switches: list[str]) -> dict[str, object]:
    names: dict[str, object] = dict(PARSE_NAMES)
    names.update({n: sp.Symbol(n, real=True) for n in [*parameters, *switches]})
    return names


def _same(text: str, expected: sp.Expr, names: dict[str, object]) -> bool:
    parsed = sp.parse_expr(text, local_dict=names)
    return parsed == expected or sp.expand(parsed - expected) == 0


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_derive_json_parses_back_to_the_derivation(path: Path) -> None:
    result = run("derive", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"parameters", "loss", "gradient", "kinks", "homogeneity_degree"} <= set(data)
    d = derive(load_problem(path))
    assert data["parameters"] == list(d.problem.parameters)
    assert isinstance(data["gradient"], list) and isinstance(data["kinks"], list)
    assert len(data["gradient"]) == len(data["parameters"])
    assert len(data["kinks"]) == len(d.switches)
    net = d.problem.network
    assert data["homogeneity_degree"] == (None if net is None else net.homogeneity_degree())
    assert data["form"] == "full"  # the examples are small: no CSE names to resolve
    names = _names(data["parameters"], data["switches"])
    assert _same(data["loss"], d.loss_expr, names)
    for text, expected in zip(data["gradient"], d.gradient_exprs, strict=True):
        assert _same(text, expected, names), text
    for kink, expected in zip(data["kinks"], d.surface_exprs, strict=True):
        assert _same(kink["surface"], expected, names)


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_derive_text(path: Path) -> None:
    result = run("derive", str(path))
    assert result.exit_code == 0, result.output
    p = load_problem(path)
    assert f"parameters ({p.n_parameters}, canonical order): {', '.join(p.parameters)}" in (
        result.stdout)
    assert "L = " in result.stdout
    for name in p.parameters:
        assert f"∂L/∂{name} = " in result.stdout
    assert result.stderr == ""


def test_json_flag_is_format_json() -> None:
    path = str(ROOT / "examples" / "relu_two_layer.toml")
    assert run("derive", path, "--json").stdout == run("derive", path, "--format", "json").stdout


def test_derive_latex() -> None:
    result = run("derive", str(ROOT / "examples" / "relu_two_layer.toml"), "--format", "latex")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(r"\begin{align*}") and out.rstrip().endswith(r"\end{align*}")
    assert out.count(r"\frac{\partial L}{\partial") == 9
    assert out.count(r"\text{kink: }") == 9


def test_derive_python_agrees_with_the_derivation_at_a_kinked_point() -> None:
    path = ROOT / "examples" / "relu_two_layer.toml"
    result = run("derive", str(path), "--format", "python")
    assert result.exit_code == 0, result.output
    scope: dict[str, object] = {}
    exec(compile(result.stdout, "<derive --format python>", "exec"), scope)
    d = derive(load_problem(path))
    theta = d.problem.initial_point()
    chi = d.pattern(theta)
    assert 0 in chi and 1 in chi  # a point with active and inactive units: the kinks matter
    loss, grad = scope["loss_and_gradient"]([float(t) for t in theta], chi)  # type: ignore[operator]
    env = {**dict(zip(d.parameters, theta, strict=True)), **d.on_pattern(chi)}
    assert loss == pytest.approx(float(d.loss_expr.xreplace(env)), rel=1e-12)
    exact = [float(g.xreplace(env)) for g in d.gradient_exprs]
    assert grad == pytest.approx(exact, rel=1e-12, abs=1e-15)
    # Another activation pattern gives another gradient: chi is really used.
    flipped = tuple(1 - c for c in chi)
    assert scope["loss_and_gradient"]([float(t) for t in theta], flipped)[1] != (  # type: ignore[operator]
        pytest.approx(grad))


# -- errors ---------------------------------------------------------------------------------------

BAD = [
    pytest.param('[network]\nlayers = [2, 3, 1]\nactivation = "swish"\n[data]\n'
                 'x = [["1", "2"]]\ny = ["1"]\n', "network.activation", id="unknown-activation"),
    pytest.param('[network]\nlayers = [2, 1]\n[data]\nx = [["1", "2"], ["1", "abc"]]\n'
                 'y = ["1", "2"]\n', "data.x[1][1]", id="non-numeric-data"),
    pytest.param('[objective]\nexpr = "a.__class__"\nvars = ["a"]\n', "objective.expr",
                 id="forbidden-syntax"),
    pytest.param('[objective]\nexpr = "a*b"\nvars = ["a", "b"]\n[init]\ntheta = ["1"]\n',
                 "init.theta", id="init-wrong-length"),
]


@pytest.mark.parametrize(("text", "path"), BAD)
def test_malformed_spec_exits_2_with_one_line(tmp_path: Path, text: str, path: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(text, encoding="utf-8")
    result = run("derive", str(spec), "--format", "json")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"kltools: error: {path}: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_invalid_toml_exits_2(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text("[network\nlayers = [2, 1]\n", encoding="utf-8")
    result = run("derive", str(spec))
    assert result.exit_code == 2
    assert result.stderr.startswith("kltools: error: not valid TOML")
    assert len(result.stderr.splitlines()) == 1


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("derive", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert result.stderr.startswith("kltools: error: no such spec file")
    assert len(result.stderr.splitlines()) == 1


def _subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("KLTOOLS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "kltools.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_real_process_derive_json() -> None:
    proc = _subprocess("derive", "examples/relu_two_layer.toml", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["parameters"][:3] == ["W1_1_1", "W1_1_2", "W1_2_1"]
    assert data["homogeneity_degree"] == 2
    assert len(data["kinks"]) == 9


def test_real_process_malformed_spec(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('[objective]\nexpr = "a**b"\nvars = ["a", "b"]\n', encoding="utf-8")
    proc = _subprocess("derive", str(spec))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kltools: error: objective.expr: powers must be numbers")
