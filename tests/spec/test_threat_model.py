"""Tests enforcing docs/threat-model.md, line by line.

1. No code execution: a hostile expression or name never runs, neither when kltools reads the
   spec nor when the module of ``derive --format python`` is imported and called (in a separate
   process, all generated modules in one batch, marker files checked).
2. No file written: reading and deriving a spec writes nothing anywhere.
3. Bounded resources: oversized specs are refused by the documented limits, inside a process
   with a memory and CPU budget (resource limits; over budget = killed = test failure).
4. Every refusal is exit 2 with one line on stderr, no traceback.
5. Names are compared as Python reads them (NFKC) and reported as written.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from kltools.cli import main
from tests.spec.hostile import (
    HUGE,
    MARK,
    cpu_budget,
    hostile_objective_specs,
    snapshot,
    with_mark,
)

ROOT = Path(__file__).resolve().parents[2]
N_CASES = 220
CASE_BUDGET = 30.0  # CPU seconds per case: a hang guard, far above the ~0.1 s a case takes

_IMPORT_ALL = r"""
import importlib.util, json, sys
out = {}
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("generated", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        out[path] = f"import failed: {type(exc).__name__}: {exc}"
        continue
    try:
        loss, grad = module.loss_and_gradient(["2/3"] * len(module.PARAMETERS),
                                              convention="right", dps=20)
        out[path] = "ok"
    except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
        out[path] = f"called: {type(exc).__name__}"  # a math domain error at that point: fine
print(json.dumps(out))
"""


def _budgeted_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLTOOLS_")}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def _limit_resources() -> None:  # runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (300, 300))


def run_budgeted(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """A child process with 4 GiB of address space and 300 s of CPU: over that it is killed."""
    return subprocess.run([sys.executable, "-B", *args], cwd=cwd, env=_budgeted_env(home),
                          capture_output=True, text=True, preexec_fn=_limit_resources,
                          timeout=900)


def assert_one_line_refusal(result: object) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)  # type: ignore[attr-defined]
    lines = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("kltools: error: "), lines
    assert "Traceback" not in result.output  # type: ignore[attr-defined]


def test_hostile_specs_never_run_code_nor_touch_files(tmp_path: Path) -> None:
    markers, specs, modules_dir, cwd, home = (tmp_path / d for d in
                                              ("markers", "specs", "modules", "cwd", "home"))
    for d in (markers, specs, modules_dir, cwd, home):
        d.mkdir()
    mark = markers / "code-ran"
    modules: list[Path] = []
    refused: list[str] = []
    strict: list[int] = []  # cases that must be refused (a code payload or a huge value)
    runner = CliRunner()

    @settings(max_examples=N_CASES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(hostile_objective_specs())
    def case(hostile: tuple[dict, bool]) -> None:
        doc, must_refuse = hostile
        i = len(modules) + len(refused)
        path = specs / f"case{i}.toml"
        path.write_text(tomli_w.dumps(with_mark(doc, str(mark))), encoding="utf-8")
        where = Path(tempfile.mkdtemp(dir=cwd))  # fresh even when Hypothesis replays a case
        with cpu_budget(CASE_BUDGET), contextlib.chdir(where):
            result = runner.invoke(main, ["derive", str(path), "--format", "python"])
        assert not os.listdir(where)  # line 2: derive wrote nothing
        if must_refuse:
            assert result.exit_code == 2, (doc, result.output)
            strict.append(i)
        if result.exit_code == 0:
            module = modules_dir / f"m{i}.py"
            module.write_text(result.stdout, encoding="utf-8")
            modules.append(module)
        else:
            assert_one_line_refusal(result)  # line 4
            refused.append(result.stderr)

    case()
    assert len(modules) + len(refused) >= 200
    assert len(modules) >= 20 and len(refused) >= 100  # both outcomes exercised
    assert len(strict) >= 80
    assert not mark.exists()  # line 1, while reading and deriving
    before = snapshot(tmp_path)
    run = run_budgeted(["-c", _IMPORT_ALL, *map(str, modules)], cwd, home)
    assert run.returncode == 0, run.stderr[-2000:]  # within the budget, no crash
    results = json.loads(run.stdout)
    assert not [p for p, r in results.items() if r.startswith("import failed")], results
    assert sum(r == "ok" for r in results.values()) >= len(modules) // 2
    assert not mark.exists() and not os.listdir(markers)  # line 1: importing ran nothing
    assert snapshot(tmp_path) == before  # line 2: no file touched by the generated modules


def test_the_hostile_suite_would_see_an_injection(tmp_path: Path) -> None:
    # Control: the same marker check does see code that runs (a module that writes the mark).
    mark = tmp_path / "code-ran"
    module = tmp_path / "evil.py"
    module.write_text(f"open({str(mark)!r}, 'w').close()\nPARAMETERS = ()\n"
                      "def loss_and_gradient(theta, **kw):\n    return 0, []\n", encoding="utf-8")
    run = run_budgeted(["-c", _IMPORT_ALL, str(module)], tmp_path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert mark.exists()


_REFUSE_ALL = r"""
import json, sys
from click.testing import CliRunner
from kltools.cli import main
out = []
for path in sys.argv[1:]:
    r = CliRunner().invoke(main, ["derive", path])
    out.append([path, r.exit_code, r.stderr])
print(json.dumps(out))
"""

_OVERSIZED = {
    "width": '[network]\nlayers = [2, 1000000000, 1]\n[data]\nx = [["1", "2"]]\ny = ["1"]\n',
    "parameters": '[network]\nlayers = [1000, 1000, 1]\n[data]\nx = [["1"]]\ny = ["1"]\n',
    "particles": ('[network]\nkind = "mean-field"\nparticles = 10000000\n[data]\nx = [["1"]]\n'
                  'y = ["1"]\n'),
    "depth": '[network]\nkind = "diagonal"\ndepth = 1000000\n[data]\nx = [["1"]]\ny = ["1"]\n',
    "number": '[network]\nlayers = [1, 1]\n[data]\nx = [["1e99999999"]]\ny = ["1"]\n',
}


def test_oversized_specs_are_refused_within_a_memory_and_cpu_budget(tmp_path: Path) -> None:
    paths = []
    for name, text in _OVERSIZED.items():
        (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
        paths.append(tmp_path / f"{name}.toml")
    for i, expr in enumerate(HUGE):
        if MARK in expr:
            continue
        doc = {"objective": {"expr": expr, "vars": ["x"]}}
        (tmp_path / f"expr{i}.toml").write_text(tomli_w.dumps(doc), encoding="utf-8")
        paths.append(tmp_path / f"expr{i}.toml")
    run = run_budgeted(["-c", _REFUSE_ALL, *map(str, paths)], tmp_path, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]  # not killed: inside the budget
    for path, code, stderr in json.loads(run.stdout):
        assert code == 2, (path, stderr)
        assert len(stderr.splitlines()) == 1, (path, stderr)
        # The documented limits, or Python's own parser limit on nested parentheses.
        assert "limit" in stderr or "too many nested parentheses" in stderr, (path, stderr)


def test_names_are_compared_as_python_reads_them(tmp_path: Path) -> None:
    spec = tmp_path / "alias.toml"
    spec.write_text(tomli_w.dumps({"objective": {"expr": "ｘ**2 + x", "vars": ["x", "ｘ"]}}),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["derive", str(spec)])
    assert_one_line_refusal(result)
    assert "'ｘ'" in result.stderr and "NFKC" in result.stderr


@pytest.mark.parametrize("payload", ["__import__('os').system('true')", "open('f', 'w')",
                                     "x.__class__", "(lambda: 1)()"])
def test_the_parser_refuses_code_by_name(payload: str, tmp_path: Path) -> None:
    spec = tmp_path / "code.toml"
    spec.write_text(tomli_w.dumps({"objective": {"expr": payload, "vars": ["x"]}}),
                    encoding="utf-8")
    assert_one_line_refusal(CliRunner().invoke(main, ["derive", str(spec)]))
