"""The `kltools` command: derive in every format; every mistake one line and exit code 2;
output files that are never overwritten by accident; budgets; Ctrl-C exits 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


# -- options checked when the command line is read ------------------------------------------------

BLOWUP = str(ROOT / "examples" / "objective_blowup.toml")
STIFF_SPEC = '[objective]\nexpr = "x**2 + y**4"\nvars = ["x", "y"]\n[init]\ntheta = ["1", "1"]\n'
# Slow but not stiff: at 300 digits to t = 1e30 it integrates for minutes.
SLOW_SPEC = '[objective]\nexpr = "x**4 + y**4"\nvars = ["x", "y"]\n[init]\ntheta = ["1", "1"]\n'


def _one_line_exit_2(result: Any, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kltools: error: ")
    assert "Traceback" not in result.output and result.stdout == ""
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.mark.parametrize(("args", "needles"), [
    (["integrate", BLOWUP, "--t-end", "1", "--method", "gd", "--eta", "nan"],
     ["'--eta'", "'nan' is not a finite number"]),
    (["integrate", BLOWUP, "--t-end", "1", "--method", "gd", "--eta", "inf"],
     ["'--eta'", "not a finite number"]),
    (["integrate", BLOWUP, "--t-end", "1", "--method", "gd", "--eta", "abc"],
     ["'--eta'", "not a finite number"]),
    (["integrate", BLOWUP, "--t-end", "1", "--method", "gd", "--eta", "-1/2"],
     ["'--eta'", "must be positive"]),
    (["check", BLOWUP, "--property", "lojasiewicz", "--exponent", "abc"],
     ["'--exponent'", "not a finite number"]),
    (["check", BLOWUP, "--property", "lojasiewicz", "--exponent", "3/2"],
     ["'--exponent'", "at most 1"]),
    (["integrate", BLOWUP, "--t-end", "1", "--wall-time", "-3"], ["'--wall-time'"]),
    (["integrate", BLOWUP, "--t-end", "1", "--wall-time", "nan"], ["'--wall-time'"]),
    (["integrate", BLOWUP, "--t-end", "1", "--max-steps", "0"], ["'--max-steps'"]),
    (["integrate", BLOWUP, "--t-end", "1", "--max-steps", "-5"], ["'--max-steps'"]),
    (["check", BLOWUP, "--property", "no-blowup", "--examples", "1000000000"],
     ["'--examples'", "100000", "KLTOOLS_MAX_EXAMPLES"]),
    (["integrate", BLOWUP, "--t-end", "1e99999999"], ["'--t-end'", "exponent beyond"]),
    (["integrate", BLOWUP, "--t-end", "1", "--init", "1e99999999"], ["'--init'"]),
    (["integrate", BLOWUP, "--t-end", "0"], ["'--t-end'", "must be positive"]),
    (["check", BLOWUP, "--property", "no-blowup", "--t-end", "1e-99999999"],
     ["'--t-end'", "exponent beyond"]),
    (["sweep", BLOWUP, "--n", "1", "--integrate", "--out", "r.jsonl", "--n", "100000000"],
     ["'--n'", "KLTOOLS_MAX_RUNS"]),
    (["sweep", BLOWUP, "--n", "1", "--integrate", "--out", "r.jsonl", "--workers", "100000"],
     ["'--workers'", "4 per CPU"]),
    (["integrate", BLOWUP], ["Missing option '--t-end'", "kltools integrate --help"]),
    (["integrate", BLOWUP, "--t-end", "1", "--no-such-option"], ["No such option"]),
    (["no-such-command"], ["No such command"]),
])
def test_a_bad_option_is_one_line_and_exit_2_before_any_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
        needles: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    # Nothing may be loaded or computed for a bad option: loading the spec would fail the test.
    monkeypatch.setattr("kltools.cli._load", _no_work)
    _one_line_exit_2(run(*args), *needles)
    assert list(tmp_path.iterdir()) == []


def _no_work(*_a: object, **_k: object) -> None:
    raise AssertionError("the spec was loaded before the options were checked")


def test_the_example_limit_can_be_raised_by_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kltools.cli._load", _no_work)
    monkeypatch.setenv("KLTOOLS_MAX_EXAMPLES", "5")
    _one_line_exit_2(run("check", BLOWUP, "--property", "no-blowup", "--examples", "6"),
                     "more than the 5")
    monkeypatch.setenv("KLTOOLS_MAX_EXAMPLES", "many")
    _one_line_exit_2(run("check", BLOWUP, "--property", "no-blowup", "--examples", "6"),
                     "KLTOOLS_MAX_EXAMPLES='many' is not an integer")


# -- output files ---------------------------------------------------------------------------------

def test_save_and_plot_refuse_to_overwrite_without_force(tmp_path: Path) -> None:
    save, plot = tmp_path / "t.json", tmp_path / "t.png"
    save.write_text("my notes")
    plot.write_bytes(b"my picture")
    for opt, path in (("--save", save), ("--plot", plot)):
        r = run("integrate", BLOWUP, "--t-end", "1/10", opt, str(path))
        _one_line_exit_2(r, f"{opt}: {path} exists; pass --force")
    assert save.read_text() == "my notes" and plot.read_bytes() == b"my picture"
    r = run("integrate", BLOWUP, "--t-end", "1/10", "--save", str(save), "--plot", str(plot),
            "--force")
    assert r.exit_code == 0, r.output
    assert json.loads(save.read_text())["parameters"] == ["x"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json", "t.png"]  # no temporaries


def test_output_into_a_missing_or_unwritable_place_is_refused_before_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kltools.cli._load", _no_work)
    missing = tmp_path / "no-dir" / "t.png"
    _one_line_exit_2(run("integrate", BLOWUP, "--t-end", "1", "--plot", str(missing)),
                     f"--plot: cannot write {missing}", "does not exist")
    _one_line_exit_2(run("integrate", BLOWUP, "--t-end", "1", "--save",
                         "/proc/kltools-t.json"), "--save: cannot write /proc/kltools-t.json")
    same = tmp_path / "same"
    _one_line_exit_2(run("integrate", BLOWUP, "--t-end", "1", "--save", str(same), "--plot",
                         str(same)), "name the same file")
    _one_line_exit_2(run("sweep", BLOWUP, "--n", "1", "--integrate", "--out",
                         str(tmp_path / "r.jsonl"), "--plot", str(missing)),
                     f"--plot: cannot write {missing}")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_saving_is_one_line_with_the_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from kltools.integrate.trajectory import Trajectory

    def full(self: object, path: object) -> None:
        Path(str(path)).write_text("{\"partial\": ")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Trajectory, "save", full)
    save = tmp_path / "t.json"
    _one_line_exit_2(run("integrate", BLOWUP, "--t-end", "1/10", "--save", str(save)),
                     f"--save: cannot write {save}: No space left on device")
    assert list(tmp_path.iterdir()) == []  # no half-written file left


# -- budgets and outcomes -------------------------------------------------------------------------

def test_integrate_shows_its_budget_and_ends_on_it(tmp_path: Path) -> None:
    spec = tmp_path / "stiff.toml"
    spec.write_text(STIFF_SPEC)
    r = run("integrate", str(spec), "--t-end", "1e8", "--max-steps", "40")
    assert r.exit_code == 0, r.output
    assert "outcome     max_steps:" in r.stdout
    assert "note        the step budget ran out before T: raise --max-steps" in r.stdout
    assert "budget      600 s wall clock, 40 steps per integration" in r.stdout
    data = json.loads(run("integrate", str(spec), "--t-end", "1e8", "--max-steps", "40",
                          "--json").stdout)
    assert data["budget"] == {"wall_time": 600.0, "max_steps": 40}
    assert data["outcome"] == "max_steps" and data["n_steps"] <= 40


def test_a_check_whose_wall_clock_budget_runs_out_is_inconclusive(tmp_path: Path) -> None:
    spec = tmp_path / "stiff.toml"
    spec.write_text(STIFF_SPEC)
    r = run("check", str(spec), "--property", "no-blowup", "--t-end", "1e8", "--examples", "50",
            "--wall-time", "1", "--json")
    assert r.exit_code == 3, r.output
    v = json.loads(r.stdout)
    assert v["verdict"] == "inconclusive" and v["budget"]["wall_time"] == 1.0
    assert "wall-clock budget of 1 s was spent after" in v["evidence"]["reason"]
    done = sum(v["evidence"]["examples"].values())
    assert 1 <= done < 50 and v["examples"] == done


@pytest.mark.parametrize("command", ["integrate", "check", "sweep"])
def test_ctrl_c_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          command: str) -> None:
    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    target = {"integrate": "kltools.integrate.flow.integrate",
              "check": "kltools.checks.command.check", "sweep": "kltools.sweep.sweep"}[command]
    monkeypatch.setattr(target, interrupted)
    args = {"integrate": ["--t-end", "1"], "check": ["--property", "no-blowup"],
            "sweep": ["--n", "1", "--integrate", "--out", str(tmp_path / "r.jsonl")]}[command]
    r = run(command, BLOWUP, *args)
    assert r.exit_code == 130, r.output
    assert r.stderr.splitlines()[-1] == "kltools: interrupted"


def test_sigint_of_a_real_run_exits_130(tmp_path: Path) -> None:
    spec = tmp_path / "slow.toml"
    spec.write_text(SLOW_SPEC)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "kltools.cli", "integrate", str(spec),
                             "--t-end", "1e30", "--dps", "300", "--json"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_progress(proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.rstrip().endswith("kltools: interrupted") and out == ""


def _wait_for_progress(proc: subprocess.Popen[str]) -> None:
    """Block until the run prints its progress bar (it is integrating), within a budget."""
    import selectors

    assert proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if sel.select(timeout=1) and "integrate t = " in os.read(proc.stderr.fileno(),
                                                                 4096).decode():
            return
    raise AssertionError("the run never started integrating")


def test_exponent_at_end_runs_its_flow_within_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    import kltools.analysis.at_end
    from kltools.budget import current

    seen: list[object] = []

    def at_end(problem: object, **_k: object) -> dict[str, object]:
        seen.append(current())
        return {"exponent": "1/2"}

    monkeypatch.setattr(kltools.analysis.at_end, "exponent_at_end", at_end)
    r = run("exponent", BLOWUP, "--at-end", "--t-end", "10", "--json")
    assert r.exit_code == 0, r.output
    b = seen[0]
    assert b is not None and (b.wall_time, b.max_steps) == (600.0, 200_000)  # type: ignore[attr-defined]
