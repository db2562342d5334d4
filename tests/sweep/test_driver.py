"""`kltools sweep`: resumable, identical on every executor, honest summaries, clear errors."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest

from kltools.sweep import clopper_pearson, load_results, sweep
from tests.sweep.helpers import RELU, run_cli, same_results


def test_blowup_fraction_equals_the_closed_form_threshold(blowup_spec: Path,
                                                          tmp_path: Path) -> None:
    # x' = 4x^3 - a x with a = 1/500: v = 1/x^2 solves v' = 2a v - 8, so the flow blows up at
    # t* = ln((4/a) / (4/a - 1/x0^2)) / (2a), before T exactly when x0^2 > a / (4 (1 - e^{-2aT})).
    n, t_end = 14, 10
    res = sweep(blowup_spec, n, out=tmp_path / "r.jsonl", prop="no-blowup", t_end=t_end,
                workers=0)
    mp = mpmath.MPContext()
    mp.dps = 40
    a = mp.mpf(1) / 500
    threshold2 = a / (4 * (1 - mp.exp(-2 * a * t_end)))
    _, lines = load_results(res.path)
    x0s = [mp.mpf(Fraction(r["init"][0]).numerator) / Fraction(r["init"][0]).denominator
           for r in lines]
    expected = [x0 ** 2 > threshold2 for x0 in x0s]
    assert 0 < sum(expected) < n  # both kinds occur among these seeds
    assert [r["verdict"] == "refuted" for r in lines] == expected
    assert [r["outcome"] == "blowup" for r in lines] == expected
    assert [r["verdict"] for r in lines] == [r["verdict"] for r in res.lines]
    for r, x0 in zip(lines, x0s, strict=True):
        if r["outcome"] == "blowup":
            t_star = mp.log((4 / a) / (4 / a - 1 / x0 ** 2)) / (2 * a)
            assert abs(mp.mpf(r["figures"]["blowup_time"]) / t_star - 1) < 1e-20
    s = res.summary
    k = n - sum(expected)
    assert s["holds"]["count"] == k and s["holds"]["fraction"] == k / n
    assert s["holds"]["ci95"] == list(clopper_pearson(k, n))
    assert s["verdicts"] == {"holds": k, "refuted": n - k, "inconclusive": 0}
    assert res.exit_code == 1  # counter-examples were found
    assert "simultaneous" not in s  # a smooth objective has no kinks


def test_resume_after_truncation_runs_only_the_missing(tmp_path: Path) -> None:
    full, cut = tmp_path / "full.jsonl", tmp_path / "cut.jsonl"
    ref = sweep(RELU, 6, out=full, integrate=True, t_end=2, workers=0)
    assert (ref.ran, ref.skipped) == (6, 0)
    # An interrupted sweep: the header, 3 finished lines (in completion order 5, 0, 3) and half
    # of a fourth line cut by the kill.
    text = full.read_text().splitlines(keepends=True)
    cut.write_text(text[0] + text[6] + text[1] + text[4] + text[2][: len(text[2]) // 2])
    again = sweep(RELU, 6, out=cut, integrate=True, t_end=2, workers=0)
    assert (again.ran, again.skipped) == (3, 3)
    _, lines = load_results(cut)
    raw = cut.read_text().splitlines()
    assert len(raw) == 7 and all(json.loads(r) for r in raw)  # the partial line was dropped
    assert sorted(r["index"] for r in lines) == list(range(6))
    same_results(full, cut)
    done = sweep(RELU, 6, out=cut, integrate=True, t_end=2, workers=0)
    assert (done.ran, done.skipped) == (0, 6) and done.summary == again.summary
    more = sweep(RELU, 8, out=cut, integrate=True, t_end=2, workers=0)  # extends the sweep
    assert (more.ran, more.skipped) == (2, 6) and more.summary["done"] == 8


def test_a_killed_sweep_loses_only_the_run_in_flight(tmp_path: Path) -> None:
    n, out, ref = 10, tmp_path / "killed.jsonl", tmp_path / "ref.jsonl"
    cmd = [sys.executable, "-m", "kltools.cli", "sweep", str(RELU), "--n", str(n),
           "--integrate", "--t-end", "2", "--workers", "0", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and len(out.read_text().splitlines()) >= 4:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {r["index"] for r in load_results(out)[1]}
    assert 3 <= len(before) < n  # killed part-way, with every finished run on disk
    res = sweep(RELU, n, out=out, integrate=True, t_end=2, workers=0)
    assert (res.ran, res.skipped) == (n - len(before), len(before))
    sweep(RELU, n, out=ref, integrate=True, t_end=2, workers=0)
    same_results(ref, out)


def test_same_results_in_process_in_a_pool_and_on_a_dask_cluster(tmp_path: Path) -> None:
    import distributed  # a test dependency: a missing one must fail, not skip
    a, b, c = (tmp_path / f"{k}.jsonl" for k in ("inproc", "pool", "dask"))
    kw = {"prop": "codim2", "t_end": 2}
    ra = sweep(RELU, 6, out=a, workers=0, **kw)
    sweep(RELU, 6, out=b, workers=2, **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        rc = sweep(RELU, 6, out=c, scheduler=cluster.scheduler_address, **kw)
    assert rc.executor.startswith("dask tcp://127.0.0.1:")
    same_results(a, b)
    same_results(a, c)
    # ReLU kink surfaces are crossed one at a time: 0 simultaneous, bounded by the rule of three.
    sim = ra.summary["simultaneous"]
    assert sim["runs_with_simultaneous"] == 0 and sim["runs"] == 6
    assert sim["upper95"] == pytest.approx(1 - 0.05 ** (1 / 6)) and sim["rule_of_three"] == 0.5
    assert ra.summary["verdicts"]["holds"] == 6 and ra.exit_code == 0


@pytest.mark.slow
def test_same_results_on_a_multiprocess_dask_cluster(tmp_path: Path) -> None:
    import distributed  # a test dependency: a missing one must fail, not skip
    a, c = tmp_path / "a.jsonl", tmp_path / "c.jsonl"
    sweep(RELU, 4, out=a, workers=0, integrate=True, t_end=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        sweep(RELU, 4, out=c, scheduler=cluster.scheduler_address, integrate=True, t_end=2)
    same_results(a, c)


@pytest.mark.parametrize(("args", "message"), [
    (["--n", "0", "--integrate"], "--n must be a positive integer"),
    (["--n", "2", "--property", "no-such"], "unknown property 'no-such'"),
    (["--n", "2"], "exactly one of --property NAME and --integrate"),
    (["--n", "2", "--integrate", "--property", "energy"], "exactly one of"),
    (["--n", "2", "--integrate", "--t-end", "-1"], "'--t-end': '-1' must be positive"),
    (["--n", "2", "--integrate", "--dps", "5"], "10..10000"),
    (["--n", "2", "--integrate", "--workers", "-1"], "--workers must be >= 0"),
    (["--n", "2", "--property", "energy", "--exponent", "1/2"], "goes with --property"),
])
def test_bad_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "r.jsonl"
    r = run_cli("sweep", str(RELU), *args, "--out", str(out))
    assert r.exit_code == 2 and message in r.stderr
    assert not out.exists()


def test_a_property_that_does_not_apply_is_refused_before_any_run(
        tmp_path: Path, blowup_spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kltools.integrate.flow
    import kltools.sweep.driver

    def no_run(*_a: object, **_k: object) -> None:
        raise AssertionError("a run started before the property was found not to apply")

    # Neither an executor nor a single integration may start: the refusal comes first.
    monkeypatch.setattr(kltools.sweep.driver, "open_executor", no_run)
    monkeypatch.setattr(kltools.integrate.flow, "integrate", no_run)
    out = tmp_path / "r.jsonl"
    for prop, why in (("codim2", "has none"), ("conservation", "raw objective")):
        r = run_cli("sweep", str(blowup_spec), "--n", "1000", "--property", prop,
                    "--out", str(out))
        assert r.exit_code == 2 and why in r.stderr, r.output
        assert len(r.stderr.splitlines()) == 1 and not out.exists()


def test_cli_json_summary_and_plot(tmp_path: Path, blowup_spec: Path) -> None:
    out, png = tmp_path / "r.jsonl", tmp_path / "h.png"
    r = run_cli("sweep", str(blowup_spec), "--n", "5", "--integrate", "--workers", "0",
                "--out", str(out), "--json", "--plot", str(png))
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["done"] == 5 and s["ran"] == 5 and s["mode"] == "integrate"
    assert sum(v["count"] for v in s["outcomes"].values()) == 5
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = json.loads(out.read_text().splitlines()[0])
    assert header["options"] == {"t_end": "10", "dps": 30, "seed": 0, "scale": "1/5"}
    assert {"kltools", "mpmath", "numpy"} <= set(header["versions"])
    line = json.loads(out.read_text().splitlines()[1])
    assert {"index", "seed", "init", "outcome", "verdict", "figures"} <= set(line)
    assert {"rate", "exponent", "loss", "digits", "events", "wall_time"} <= set(line["figures"])
    assert math.isfinite(float(Fraction(line["init"][0])))


def test_the_plot_of_a_resumed_sweep_is_not_overwritten_without_force(
        tmp_path: Path, blowup_spec: Path) -> None:
    out, png = tmp_path / "r.jsonl", tmp_path / "h.png"
    args = ["sweep", str(blowup_spec), "--n", "2", "--integrate", "--workers", "0", "--out",
            str(out), "--plot", str(png)]
    assert run_cli(*args).exit_code == 0
    first, results = png.read_bytes(), out.read_text()
    r = run_cli(*args)
    assert r.exit_code == 2 and r.stderr.splitlines() == [
        f"kltools: error: --plot: {png} exists; pass --force to overwrite it, or choose "
        "another name"]
    assert png.read_bytes() == first and out.read_text() == results  # refused before any work
    r = run_cli(*args, "--force")
    assert r.exit_code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.png", "quartic.toml", "r.jsonl"]


def test_a_run_that_stops_on_an_intersection_of_kinks_counts_as_simultaneous(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kltools.integrate.flow as flow
    from kltools.integrate.trajectory import EventKind, FlowEvent, Outcome, TrajectoryBuilder

    def stops(*_a: object, **_k: object) -> object:
        # What the integrator returns when the flow slides into an intersection of two kinks:
        # a value, with the simultaneous event logged.
        out = TrajectoryBuilder(parameters=("a", "b"), dps=30, method="taylor")
        out.sample(0, [1, 2], 3, 1)
        out.sample(Fraction(1, 2), [1, 1], 2, 1)
        out.events.append(FlowEvent(Fraction(1, 2), EventKind.SIMULTANEOUS, (0, 1), ("s0", "s1")))
        return out.build(outcome=Outcome.KINK_INTERSECTION)

    monkeypatch.setattr(flow, "integrate", stops)
    res = sweep(RELU, 3, out=tmp_path / "r.jsonl", integrate=True, t_end=1, workers=0)
    _, lines = load_results(res.path)
    assert all(r["outcome"] == "kink_intersection" and "error" not in r for r in lines)
    sim = res.summary["simultaneous"]
    assert sim["runs_with_simultaneous"] == 3 and sim["upper95"] == 1.0
    assert res.summary["n_errors"] == 0
    assert res.summary["outcomes"]["kink_intersection"]["count"] == 3


STIFF_SPEC = '[objective]\nexpr = "x**2 + y**4"\nvars = ["x", "y"]\n[init]\nseed = 1\n'


def test_a_run_that_spends_its_budget_is_recorded_with_that_outcome(tmp_path: Path) -> None:
    spec, out = tmp_path / "stiff.toml", tmp_path / "r.jsonl"
    spec.write_text(STIFF_SPEC)
    # t = 1e8 of a stiff flow needs far more than 30 steps: every run stops on its step budget.
    r = run_cli("sweep", str(spec), "--n", "3", "--integrate", "--t-end", "1e8", "--workers",
                "0", "--max-steps", "30", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "outcomes    max_steps 3/3" in r.stdout
    assert "budget      600 s wall clock per run, 30 steps per integration" in r.stdout
    header, lines = load_results(out)
    assert header["budget"] == {"wall_time": 600.0, "max_steps": 30}
    assert all(ln["outcome"] == "max_steps" and ln["figures"]["steps"] <= 30 for ln in lines)
    # The budget is not part of the sweep's identity: a larger one extends the same file.
    more = sweep(spec, 4, out=out, integrate=True, t_end="1e8", workers=0, max_steps=40)
    assert (more.ran, more.skipped) == (1, 3) and more.summary["budget"]["max_steps"] == 40
    assert load_results(out)[1][3]["figures"]["steps"] > 30
