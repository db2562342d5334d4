"""Flow systems from the program cache: same trajectories, no SymPy on a hit, invalidation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from kltools.compiled.cache import ProgramCache, program_to_json
from kltools.errors import SpecError
from kltools.integrate.cached import (
    FAST_READ_BYTES,
    flow_system,
    limits_in_force,
    load_flow_system,
    read_spec,
)
from kltools.integrate.flow import FlowSystem, integrate
from kltools.spec import load_problem
from kltools.symbolic.derivation import derive
from kltools.symbolic.kinks import KinkConvention

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _doc(name: str) -> tuple[dict, str]:
    spec = read_spec(EXAMPLES / name)
    assert spec is not None
    return spec


def test_a_hit_does_not_derive_and_gives_the_same_trajectory(tmp_path: Path) -> None:
    cache = ProgramCache(tmp_path, version="test")
    doc, name = _doc("relu_two_layer.toml")
    cold = flow_system(doc, name, cache=cache)
    assert "system" in cold.__dict__  # derived on the miss
    warm = flow_system(doc, name, cache=cache)
    assert "system" not in warm.__dict__  # read back, nothing symbolic built
    assert warm.program == cold.program == cold.system.program
    plain = integrate(load_problem(EXAMPLES / "relu_two_layer.toml"), None, 5, dps=30)
    for system in (cold, warm):
        traj = integrate(system, None, 5, dps=30)
        assert traj.theta == plain.theta  # bit for bit: same programs, same path
        assert [(e.t, e.kind, e.labels) for e in traj.events] == \
               [(e.t, e.kind, e.labels) for e in plain.events]
        assert traj.info["reproduce"]["theta0"] == plain.info["reproduce"]["theta0"]
    assert "system" not in warm.__dict__  # the whole run stayed on cached data


def test_a_changed_spec_or_version_misses(tmp_path: Path) -> None:
    doc, name = _doc("problem_c.toml")
    flow_system(doc, name, cache=ProgramCache(tmp_path, version="1"))
    changed = json.loads(json.dumps(doc))
    changed["init"]["theta"][0] = "0.7"
    other = flow_system(changed, name, cache=ProgramCache(tmp_path, version="1"))
    assert "system" in other.__dict__
    assert other.d.problem.initial_point()[0] == Fraction(7, 10)
    bumped = flow_system(doc, name, cache=ProgramCache(tmp_path, version="2"))
    assert "system" in bumped.__dict__
    again = flow_system(doc, name, cache=ProgramCache(tmp_path, version="1"))
    assert "system" not in again.__dict__
    assert len(ProgramCache(tmp_path).entries()) == 3


def test_a_corrupt_entry_is_rebuilt_without_error(tmp_path: Path) -> None:
    cache = ProgramCache(tmp_path, version="v")
    doc, name = _doc("problem_c.toml")
    first = flow_system(doc, name, cache=cache)
    path = tmp_path / first.key / "flow.json"
    path.write_bytes(path.read_bytes()[:200])
    rebuilt = flow_system(doc, name, cache=cache)
    assert "system" in rebuilt.__dict__ and rebuilt.program == first.program
    assert cache.load(first.key, "flow") is not None  # rewritten whole
    # Well-formed JSON of the wrong shape (e.g. an older layout) is rebuilt too.
    cache.store(first.key, "flow", {"n": 6})
    assert flow_system(doc, name, cache=cache).program == first.program


def test_a_lowered_limit_refuses_a_spec_that_is_cached(tmp_path: Path) -> None:
    from kltools.spec import limits

    cache = ProgramCache(tmp_path, version="v")
    doc, name = _doc("relu_two_layer.toml")
    flow_system(doc, name, cache=cache)  # stored under the default limits
    with limits.override(work=10), pytest.raises(SpecError, match="limit work = 10"):
        flow_system(doc, name, cache=cache)
    with limits.override(work=10**6):  # changed limits: an entry of their own
        assert "system" in flow_system(doc, name, cache=cache).__dict__
    assert "system" not in flow_system(doc, name, cache=cache).__dict__  # defaults: a hit


def test_limits_in_force_names_only_changed_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from kltools.spec import limits

    assert limits_in_force() == ""
    monkeypatch.setenv("KLTOOLS_MAX_WIDTH", str(limits.LIMITS["width"].default))
    assert limits_in_force() == ""  # set, but to the default: the same entries
    monkeypatch.setenv("KLTOOLS_MAX_WIDTH", "8")
    assert json.loads(limits_in_force()) == {"width": 8}


def test_the_spec_file_limit_holds_on_a_warm_cache(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLTOOLS_CACHE_DIR", str(tmp_path))
    spec = EXAMPLES / "problem_c.toml"
    load_flow_system(spec)
    assert "system" not in load_flow_system(spec).__dict__  # warm
    monkeypatch.setenv("KLTOOLS_MAX_SPEC_BYTES", "10")
    with pytest.raises(SpecError, match="limit spec_bytes = 10"):
        load_flow_system(spec)
    # Files read without the full loader are far below the limit's default.
    from kltools.spec import limits

    assert limits.LIMITS["spec_bytes"].default >= FAST_READ_BYTES * 8


def test_a_large_spec_file_goes_through_the_loader(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLTOOLS_CACHE_DIR", str(tmp_path / "cache"))
    big = tmp_path / "big.toml"
    text = (EXAMPLES / "problem_c.toml").read_text(encoding="utf-8")
    big.write_text("#" * FAST_READ_BYTES + "\n" + text, encoding="utf-8")
    assert read_spec(big) is None
    system = load_flow_system(big)
    assert system.d.problem.name == "big"
    assert system.program == load_flow_system(EXAMPLES / "problem_c.toml").program


def test_no_cache_neither_reads_nor_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("KLTOOLS_CACHE_DIR", str(tmp_path))
    doc, name = _doc("problem_c.toml")
    system = flow_system(doc, name, use_cache=False)
    assert "system" in system.__dict__
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("theta", [
    ["0.3", "-0.05", "0.4", "0.2", "-0.6", "0.5", "0.8", "-0.3", "0.25"],
    ["1", "-2", "0", "0", "1", "2", "3", "-1", "1/3"],   # surfaces exactly 0 (zero weights)
    ["1/2", "1", "-1", "-1/2", "1/7", "2", "3", "-1", "1"],  # 2·(1/2) − 1 = 0 on sample 3
])
def test_exact_patterns_agree_with_the_symbolic_ones(tmp_path: Path, theta: list[str]) -> None:
    doc, name = _doc("relu_two_layer.toml")
    flow_system(doc, name, cache=ProgramCache(tmp_path, version="v"))
    warm = flow_system(doc, name, cache=ProgramCache(tmp_path, version="v"))
    ref = FlowSystem(derive(load_problem(EXAMPLES / "relu_two_layer.toml")))
    for conv in (KinkConvention.RIGHT, KinkConvention.LEFT):
        chi = warm.pattern(theta, conv, 30)
        assert chi == ref.pattern(theta, conv, 30)
        assert warm.zero_surfaces(theta, chi) == ref.zero_surfaces(theta, chi)
    assert "system" not in warm.__dict__


def test_the_exact_pattern_sees_a_kink_that_rounding_would_miss(tmp_path: Path) -> None:
    # s = x - 1/3: at x = 1/3 exactly the surface is 0 (a float evaluation gives ±5e-17).
    doc = {"objective": {"expr": "relu(x - 1/3)**2 + y**2", "vars": ["x", "y"]},
           "init": {"theta": ["1/3", "1"]}}
    flow_system(doc, "k", cache=ProgramCache(tmp_path, version="v"))
    warm = flow_system(doc, "k", cache=ProgramCache(tmp_path, version="v"))
    assert warm.zero_surfaces(["1/3", "1"], [1]) == list(warm.layout.surfaces)
    assert warm.zero_surfaces(["1/3000000000000000001", "1"], [1]) == []
    from kltools.errors import DerivationError

    with pytest.raises(DerivationError, match="kink"):
        warm.pattern(["1/3", "1"], KinkConvention.ERROR, 30)


def test_sliding_programs_are_cached_per_surface(tmp_path: Path) -> None:
    doc = {"objective": {"expr": "abs(x) + y**2/2", "vars": ["x", "y"]},
           "init": {"theta": ["1/2", "1"]}}
    cache = ProgramCache(tmp_path, version="v")
    cold = flow_system(doc, "s", cache=cache)
    traj = integrate(cold, None, 2, dps=30)
    assert [e.kind for e in traj.events] == ["sliding"]
    stored = cache.load(cold.key, "sliding-0")
    assert stored == program_to_json(cold.system.sliding_program(0))
    warm = flow_system(doc, "s", cache=cache)
    again = integrate(warm, None, 2, dps=30)
    assert again.theta == traj.theta
    assert "system" not in warm.__dict__


_WARM_RUN = """
import sys
from kltools.cli import main
try:
    main(["integrate", sys.argv[1], "--t-end", "0.5", "--dps", sys.argv[2]])
except SystemExit as exc:
    assert not exc.code, exc.code
print("SYMPY" if "sympy" in sys.modules else "NO-SYMPY", file=sys.stderr)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("spec_name", "dps"), [("relu_two_layer.toml", "30"),
                                                 ("problem_c.toml", "60")])
def test_a_warm_cli_run_does_not_import_sympy(tmp_path: Path, spec_name: str, dps: str
                                              ) -> None:
    env = {**os.environ, "KLTOOLS_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT)}
    spec = str(EXAMPLES / spec_name)
    runs = [subprocess.run([sys.executable, "-c", _WARM_RUN, spec, dps], env=env, text=True,
                           capture_output=True, timeout=300) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    assert runs[0].stderr.strip().endswith("NO-SYMPY") is False  # the cold run derives
    assert runs[1].stderr.strip().endswith("NO-SYMPY")
    assert _numbers(runs[0].stdout) == _numbers(runs[1].stdout)  # same numbers either way
    nocache = subprocess.run([sys.executable, "-m", "kltools.cli", "integrate", spec,
                              "--t-end", "0.5", "--dps", dps, "--no-cache"], env=env, text=True,
                             capture_output=True, timeout=300)
    assert _numbers(nocache.stdout) == _numbers(runs[1].stdout)
    assert not list((tmp_path / "cache").iterdir())[1:]  # --no-cache wrote no second entry


def _numbers(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if not line.startswith("steps")]


def test_cli_cache_clear_and_dir(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kltools.cli import main

    env = {"KLTOOLS_CACHE_DIR": str(tmp_path)}
    runner = CliRunner()
    doc, name = _doc("problem_c.toml")
    flow_system(doc, name, cache=ProgramCache(tmp_path, version="a"))
    flow_system(doc, name, cache=ProgramCache(tmp_path, version="b"))
    assert runner.invoke(main, ["cache", "dir"], env=env).output.strip() == str(tmp_path)
    result = runner.invoke(main, ["cache", "clear"], env=env)
    assert result.exit_code == 0
    assert result.output.startswith("removed 2 cache entries")
    assert ProgramCache(tmp_path).entries() == []
    assert runner.invoke(main, ["cache", "clear"], env=env).output.startswith("removed 0 ")


@pytest.mark.parametrize(("mode", "prop", "options"), [
    ("integrate", None, {"t_end": "1", "dps": 30}),
    ("property", "codim2", {"t_end": "1", "dps": 30}),
])
def test_sweep_workers_load_programs_instead_of_deriving(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, prop: str | None,
        options: dict) -> None:
    from kltools.sweep import worker
    from kltools.sweep.store import canonical_json

    monkeypatch.setenv("KLTOOLS_CACHE_DIR", str(tmp_path))
    doc, name = _doc("relu_two_layer.toml")
    flow_system(doc, name)  # what the sweep's parent process does before starting workers
    monkeypatch.setattr(worker, "_CACHE", worker._Cache())  # a fresh worker
    task = worker.Task(canonical_json(doc), name, mode, prop, options, "1", 0, 3)
    line = worker.run_task(task)
    engine = worker._engine(task)
    system = engine if mode == "integrate" else engine.system
    assert "system" not in system.__dict__  # no derivation in the worker
    assert line["outcome"] in ("ok", "sliding")
    if prop:
        assert line["verdict"] == "holds"


def test_without_a_cache_entry_the_worker_derives(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The control of the test above: the same worker on an empty cache does derive.
    from kltools.sweep import worker
    from kltools.sweep.store import canonical_json

    monkeypatch.setenv("KLTOOLS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(worker, "_CACHE", worker._Cache())
    doc, name = _doc("relu_two_layer.toml")
    task = worker.Task(canonical_json(doc), name, "integrate", None,
                       {"t_end": "1", "dps": 30}, "1", 0, 3)
    assert "system" in worker._engine(task).__dict__
