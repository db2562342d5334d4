"""Running proofs side by side: the same runs in the same order as one after another, a crash
recorded as a value, and ``Config.map`` sharing a loop among forked workers with progress."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest

from kltools.proving import ClaimResult, Config, Proof, Recorder, run_proofs


def _square(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def _script(name: str, cost: float, fail: bool = False) -> Any:
    def run(config: Config) -> list[ClaimResult]:
        if fail:
            raise ArithmeticError("no digits left")
        rec = Recorder(config)
        with rec.claim(f"{name}: squares", "verified") as r:
            out = config.map(_square, list(range(7)), "squares", "numbers")
            r.verdict = "verified" if [v for v, _ in out] == [i * i for i in range(7)] \
                else "refuted"
            r.evidence = {"pids": {p for _, p in out}, "me": os.getpid()}
        return rec.results

    return SimpleNamespace(PROOF=Proof(name, f"title {name}", "s", (), ()), run=run, COST=cost)


@pytest.mark.parametrize("workers", [1, 2])
def test_runs_come_back_in_the_order_asked(workers: int) -> None:
    scripts = [_script("cheap", 1), _script("crash", 0, fail=True), _script("dear", 50)]
    lines: list[str] = []
    steps: list[tuple[str, int, int, str]] = []
    config = Config(workers=workers, log=lines.append,
                    progress=lambda *a: steps.append(a))
    runs = run_proofs(scripts, config, workers=workers)
    assert [run.proof.name for run in runs] == ["cheap", "crash", "dear"]
    assert runs[1].error == "ArithmeticError: no digits left" and not runs[1].as_expected
    for run in (runs[0], runs[2]):
        assert run.as_expected and run.results[0].verdict == "verified"
        # with two workers the squares were computed in other processes than the proof's
        ev = run.results[0].evidence
        assert (ev["pids"] == {ev["me"]}) == (workers == 1)
    if workers == 1:  # forked workers log to their own copy of the callbacks
        assert "cheap: title cheap" in lines and "crash: title crash" in lines
        assert ("cheap: squares", 7, 7, "numbers") in steps
        assert [s[1] for s in steps if s[0] == "cheap: squares"] == list(range(1, 8))


def test_map_reports_progress_in_the_parent_with_two_workers() -> None:
    steps: list[tuple[str, int, int, str]] = []
    config = Config(workers=2, progress=lambda *a: steps.append(a))
    out = config.map(_square, list(range(9)), "codim-2", "starts")
    assert [v for v, _ in out] == [i * i for i in range(9)]
    assert os.getpid() not in {p for _, p in out}
    assert [s[1] for s in steps] == list(range(1, 10))
    assert steps[-1] == ("codim-2", 9, 9, "starts")


TOY = '''
from kltools.proving import Config, Proof, Recorder

PROOF = Proof("toy", "a toy with a loop", "none", (), ())


def square(x):
    return x * x


def run(config: Config):
    rec = Recorder(config)
    with rec.claim("squares are squares", "verified") as r:
        out = config.map(square, [1, 2, 3], "squares", "numbers")
        r.verdict = "verified" if out == [1, 4, 9] else "refuted"
        r.summary = f"{out}"
    return rec.results
'''


def test_prove_prints_progress_within_a_claim_on_stderr(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from kltools.cli import main

    (tmp_path / "toy.py").write_text(TOY, encoding="utf-8")
    res = CliRunner().invoke(main, ["prove", str(tmp_path / "toy.py"), "--workers", "1",
                                    "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    err = res.stderr.splitlines()
    assert "toy: squares: 1/3 numbers" in err and "toy: squares: 3/3 numbers" in err
    assert "toy: -> verified (expected verified" in res.stderr
    assert "squares: " not in res.stdout  # progress stays off stdout
    assert "✓ verified" in res.stdout and "[1, 4, 9]" in res.stdout
