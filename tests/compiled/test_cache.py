"""The program cache: exact round trips, keys, atomic writes, corruption, clearing."""

from __future__ import annotations

import json
import multiprocessing
from fractions import Fraction
from pathlib import Path

import pytest

from kltools.compiled.cache import (
    ProgramCache,
    program_from_json,
    program_to_json,
    spec_digest,
)
from kltools.integrate.flow import FlowSystem
from kltools.spec import load_problem
from kltools.symbolic.derivation import derive

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("spec", ["problem_c.toml", "relu_two_layer.toml",
                                  "linear_classifier_logistic.toml"])
def test_program_json_round_trip_is_exact(spec: str) -> None:
    system = FlowSystem(derive(load_problem(EXAMPLES / spec)))
    prog = system.program
    back = program_from_json(json.loads(json.dumps(program_to_json(prog))))
    assert back == prog
    assert back.digest() == prog.digest()
    # Exact constants survive (a float detour would change 1/3 or 1/10).
    assert all(isinstance(c, Fraction) for c in back.constants)


def test_digest_ignores_key_order_but_not_values() -> None:
    a = {"objective": {"expr": "x**2", "vars": ["x"]}, "init": {"theta": ["1"]}}
    b = {"init": {"theta": ["1"]}, "objective": {"vars": ["x"], "expr": "x**2"}}
    c = {"objective": {"expr": "x**2", "vars": ["x"]}, "init": {"theta": ["2"]}}
    assert spec_digest(a) == spec_digest(b)
    assert spec_digest(a) != spec_digest(c)


def test_store_load_and_version_keys(tmp_path: Path) -> None:
    one = ProgramCache(tmp_path, version="1.0")
    two = ProgramCache(tmp_path, version="1.1")
    digest = spec_digest({"a": 1})
    assert one.key(digest) != two.key(digest)
    assert one.load(one.key(digest), "flow") is None
    assert one.store(one.key(digest), "flow", {"x": [1, "1/3"]})
    assert one.load(one.key(digest), "flow") == {"x": [1, "1/3"]}
    assert two.load(two.key(digest), "flow") is None  # another version: a miss


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "wrong-entry"])
def test_a_damaged_file_is_a_miss(tmp_path: Path, damage: str) -> None:
    cache = ProgramCache(tmp_path, version="v")
    key = cache.key("d")
    cache.store(key, "flow", {"numbers": list(range(100))})
    path = tmp_path / key / "flow.json"
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) - 7])
    elif damage == "flip":  # still valid JSON, but not what was written
        path.write_bytes(raw.replace(b"99", b"98"))
    elif damage == "garbage":
        path.write_bytes(b"\x00\xff not json")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.rename(tmp_path / key / "other.json")
        path = tmp_path / key / "other.json"
        assert cache.load(key, "other") is None  # the header names the entry "flow"
        return
    assert cache.load(key, "flow") is None


def _writer(root: str, key: str, worker: int, rounds: int) -> None:
    cache = ProgramCache(root, version="v")
    for r in range(rounds):
        cache.store(key, "flow", {"worker": worker, "round": r, "pad": [worker] * 20000})


def test_concurrent_writers_leave_one_complete_file(tmp_path: Path) -> None:
    cache = ProgramCache(tmp_path, version="v")
    key = cache.key("shared")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), key, w, 30)) for w in range(3)]
    for p in procs:
        p.start()
    seen = []
    while any(p.is_alive() for p in procs):
        doc = cache.load(key, "flow")
        if doc is not None:  # never a mixture: the padding is all of one writer
            assert doc["pad"] == [doc["worker"]] * 20000
            seen.append(doc["worker"])
    for p in procs:
        p.join()
        assert p.exitcode == 0
    final = cache.load(key, "flow")
    assert final is not None and final["round"] == 29
    assert not [p for p in (tmp_path / key).iterdir() if p.name != "flow.json"]  # no temp left


def test_clear_removes_entries_and_nothing_else(tmp_path: Path) -> None:
    cache = ProgramCache(tmp_path, version="v")
    for name in ("a", "b"):
        cache.store(cache.key(name), "flow", {"n": name})
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    assert len(cache.entries()) == 2
    assert cache.clear() == 2
    assert cache.entries() == []
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"
    assert cache.load(cache.key("a"), "flow") is None


def test_an_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ProgramCache(blocker, version="v")
    assert cache.store(cache.key("x"), "flow", {"a": 1}) is False
    assert cache.load(cache.key("x"), "flow") is None
