"""The results file: refused when it is another sweep's or not a sweep file; one writer."""

from __future__ import annotations

import json
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


def test_a_file_that_is_not_a_sweep_file_is_left_byte_identical(tmp_path: Path) -> None:
    # The reproducer of the data-loss report: `printf 'a\nb' > f.txt` was truncated to "a\n"
    # before being refused.
    for name, content in (("f.txt", b"a\nb"), ("one-line.txt", b"no newline at all"),
                          ("binary.bin", bytes(range(256)) * 4), ("blank.txt", b"\n\n"),
                          ("json.txt", b'{"format": "something-else"}\n{"index": 0}\n')):
        f = tmp_path / name
        f.write_bytes(content)
        inode = f.stat().st_ino
        r = run_cli("sweep", str(RELU), "--n", "1", "--integrate", "--out", str(f))
        assert r.exit_code == 2, r.output
        assert r.stderr.splitlines() == [f"kltools: error: --out: {f} is not a kltools sweep "
                                         "file (its first line is not a sweep header); choose "
                                         "another --out"]
        assert f.read_bytes() == content and f.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "binary.bin", "blank.txt", "f.txt", "json.txt", "one-line.txt"]


def _sweep_file(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    out = tmp_path / "r.jsonl"
    sweep(RELU, n, out=out, integrate=True, t_end="1/2", workers=0)
    return out, out.read_text().splitlines(keepends=True)


def test_a_duplicated_result_is_removed_on_resume(tmp_path: Path) -> None:
    out, lines = _sweep_file(tmp_path, 4)
    # A copy-paste (or a sweep killed between two writes of a rerun) repeated results 1 and 2.
    out.write_text("".join([*lines, lines[2], lines[3], lines[2]]))
    inode = out.stat().st_ino
    res = sweep(RELU, 4, out=out, integrate=True, t_end="1/2", workers=0)
    assert (res.ran, res.skipped, res.summary["done"]) == (0, 4, 4)
    assert out.read_text().splitlines(keepends=True) == lines  # 4 results for 4 seeds
    assert out.stat().st_ino != inode  # repaired by writing a copy and renaming it
    more = sweep(RELU, 5, out=out, integrate=True, t_end="1/2", workers=0)
    assert (more.ran, more.skipped) == (1, 4)
    raw = out.read_text().splitlines()
    assert len(raw) == 6 and sorted(json.loads(x)["index"] for x in raw[1:]) == [0, 1, 2, 3, 4]


def test_an_incomplete_last_line_is_dropped_by_a_rename(tmp_path: Path) -> None:
    out, lines = _sweep_file(tmp_path, 3)
    cut = "".join(lines[:3]) + lines[3][: len(lines[3]) // 2]
    out.write_text(cut)
    inode = out.stat().st_ino
    res = sweep(RELU, 3, out=out, integrate=True, t_end="1/2", workers=0)
    assert (res.ran, res.skipped) == (1, 2)
    assert out.stat().st_ino != inode
    assert out.read_text().startswith("".join(lines[:3])) and len(out.read_text().splitlines()) == 4


def test_a_result_of_another_seed_is_refused_and_kept(tmp_path: Path) -> None:
    out, lines = _sweep_file(tmp_path, 2)
    stray = json.loads(lines[1])
    stray["seed"] = {"entropy": 7, "spawn_key": [stray["index"]]}
    content = "".join(lines) + json.dumps(stray) + "\n"
    out.write_text(content)
    r = run_cli("sweep", str(RELU), "--n", "2", "--integrate", "--t-end", "1/2", "--workers",
                "0", "--out", str(out))
    assert r.exit_code == 2 and "line 4: the result of seed" in r.stderr
    assert out.read_text() == content


def test_an_empty_file_becomes_the_sweep_file(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.touch()
    res = sweep(RELU, 1, out=out, integrate=True, t_end="1/2", workers=0)
    assert res.ran == 1 and json.loads(out.read_text().splitlines()[0])["format"] == \
        "kltools-sweep/1"
