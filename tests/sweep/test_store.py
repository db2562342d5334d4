"""The results file: refused when it is another sweep's or not a sweep file; one writer."""

from __future__ import annotations

from pathlib import Path

from kltools.sweep import load_results, sweep
from kltools.sweep.store import ResultFile
from tests.sweep.helpers import RELU, run_cli


def test_an_out_of_another_spec_or_options_is_refused(tmp_path: Path,
                                                     blowup_spec: Path) -> None:
    out = tmp_path / "r.jsonl"
    assert run_cli("sweep", str(RELU), "--n", "2", "--integrate", "--t-end", "1",
                   "--workers", "0", "--out", str(out)).exit_code == 0
    before = out.read_text()
    r = run_cli("sweep", str(blowup_spec), "--n", "2", "--integrate", "--t-end", "1",
                "--workers", "0", "--out", str(out))
    assert r.exit_code == 2
    assert "different sweep" in r.stderr and "spec relu_two_layer" in r.stderr
    r = run_cli("sweep", str(RELU), "--n", "2", "--integrate", "--t-end", "2", "--workers", "0",
                "--out", str(out))
    assert r.exit_code == 2 and "t_end '1' vs '2'" in r.stderr
    r = run_cli("sweep", str(RELU), "--n", "2", "--property", "codim2", "--t-end", "1",
                "--workers", "0", "--out", str(out))
    assert r.exit_code == 2 and "mode" in r.stderr
    assert out.read_text() == before  # nothing mixed in
    other = tmp_path / "notes.txt"
    other.write_text("my notes\n")
    r = run_cli("sweep", str(RELU), "--n", "1", "--integrate", "--out", str(other))
    assert r.exit_code == 2 and "not a kltools sweep file" in r.stderr
    assert other.read_text() == "my notes\n"


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    sweep(RELU, 1, out=out, integrate=True, t_end=1, workers=0)
    held = ResultFile.open(out, load_results(out)[0])
    try:
        r = run_cli("sweep", str(RELU), "--n", "2", "--integrate", "--t-end", "1",
                    "--workers", "0", "--out", str(out))
        assert r.exit_code == 2 and "another kltools sweep is writing" in r.stderr
    finally:
        held.close()
