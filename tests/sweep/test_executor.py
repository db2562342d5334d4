"""Where runs execute: scheduler addresses checked before anything runs, a bounded handshake,
and local workers that never outlive their sweep.

Every server here listens on 127.0.0.1. The sweeps run in subprocesses with a generous
``timeout``: that is a budget that turns a hang into a failure, not a timing assertion.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from kltools.errors import SpecError
from kltools.sweep.executor import check_address
from tests.sweep.helpers import RELU, ROOT, run_cli


def _serve(reply: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback TCP server that hands each connection to ``reply``; yields its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conns.append(conn)
            reply(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for c in conns:
            c.close()
        srv.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts every connection and never sends a byte."""
    yield from _serve(lambda conn: None)


@pytest.fixture
def garbage_port() -> Iterator[int]:
    """Answers every connection with an HTTP reply and binary noise, as a wrong port would."""

    def reply(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(b"HTTP/1.1 200 OK\r\nServer: not-dask\r\n\r\n" + b"\xff" * 64)

    yield from _serve(reply)


def _sweep_process(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("KLTOOLS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "kltools.cli", "sweep", str(RELU), "--n", "2",
                           "--integrate", "--out", str(out), *extra], capture_output=True,
                          text=True, timeout=180, env=env, cwd=ROOT)


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kltools: error: --scheduler: ")
    assert proc.stdout == ""
    return lines[0]


def test_a_silent_scheduler_is_given_up_after_the_connect_timeout(tmp_path: Path,
                                                                  silent_port: int) -> None:
    # The server accepts and never answers: dask's Client would wait on the handshake forever.
    out = tmp_path / "r.jsonl"
    proc = _sweep_process(out, "--scheduler", f"tcp://127.0.0.1:{silent_port}",
                          "--connect-timeout", "1")
    line = _one_error_line(proc)
    assert f"cannot reach a dask scheduler at tcp://127.0.0.1:{silent_port} within 1 s" in line
    assert "--connect-timeout" in line  # the message says how to wait longer
    assert not out.exists()


def test_a_garbage_speaking_server_gives_one_line(tmp_path: Path, garbage_port: int) -> None:
    out = tmp_path / "r.jsonl"
    proc = _sweep_process(out, "--scheduler", f"tcp://127.0.0.1:{garbage_port}",
                          "--connect-timeout", "5")
    line = _one_error_line(proc)
    assert "does not answer like a dask scheduler" in line
    for noise in ("MemoryError", "Exception ignored", "Traceback", "EiB"):
        assert noise not in proc.stderr
    assert not out.exists()


def test_an_unreachable_scheduler_exits_2_with_one_message(tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "r.jsonl"
    r = run_cli("sweep", str(RELU), "--n", "2", "--integrate", "--out", str(out),
                "--scheduler", f"127.0.0.1:{port}", "--connect-timeout", "1")
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach a dask scheduler" in lines[0]
    assert f"tcp://127.0.0.1:{port}" in lines[0]  # a bare HOST:PORT means tcp
    assert not out.exists()


@pytest.mark.parametrize("address", ["localhost", "not a url", "http://127.0.0.1:8786",
                                     "tcp://127.0.0.1:99999", "tcp://127.0.0.1:port",
                                     "tcp://127.0.0.1:8786/x", ""])
def test_a_scheduler_that_is_not_an_address_is_refused_before_loading_anything(
        tmp_path: Path, address: str) -> None:
    out = tmp_path / "r.jsonl"
    missing_spec = tmp_path / "no-such-spec.toml"  # never read: the address fails first
    r = run_cli("sweep", str(missing_spec), "--n", "1", "--integrate", "--out", str(out),
                "--scheduler", address)
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        f"kltools: error: --scheduler: {address!r} is not a dask scheduler address; give "
        "tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786)"]
    assert not out.exists()


def test_addresses_dask_accepts_pass() -> None:
    assert check_address("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert check_address(" 127.0.0.1:8786 ") == "tcp://127.0.0.1:8786"
    assert check_address("tls://[::1]:8786") == "tls://[::1]:8786"
    assert check_address("tcp://scheduler-0.cluster.local:1") == \
        "tcp://scheduler-0.cluster.local:1"
    with pytest.raises(SpecError):
        check_address(8786)


@pytest.mark.parametrize("value", ["0", "0.5", "-1", "nan", "inf", "1e9", "soon"])
def test_the_connect_timeout_is_bounded(tmp_path: Path, value: str) -> None:
    r = run_cli("sweep", str(RELU), "--n", "1", "--integrate", "--out", str(tmp_path / "r"),
                "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", value)
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "'--connect-timeout'" in lines[0]
    assert not (tmp_path / "r").exists()


# -- no process outlives its sweep --------------------------------------------------------------

SLOW_SPEC = '[objective]\nexpr = "x**4 + y**4"\nvars = ["x", "y"]\n[init]\nseed = 1\n'


def _busy_workers(proc: psutil.Process, n: int) -> list[psutil.Process]:
    """The sweep's descendants once ``n`` workers are computing (budget: 120 s)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        kids = proc.children(recursive=True)
        workers = [k for k in kids if "--multiprocessing-fork" in " ".join(k.cmdline())]
        # More CPU than the imports and the derivation take: inside a run.
        with contextlib.suppress(psutil.Error):
            if len(workers) == n and all(w.cpu_times().user > 3 for w in workers):
                return kids
        time.sleep(0.2)
    raise AssertionError(f"the sweep never had {n} busy workers")


def _gone(p: psutil.Process) -> bool:
    try:
        return not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGKILL, -signal.SIGKILL),
                                           (signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_no_worker_or_resource_tracker_survives_a_signalled_sweep(
        tmp_path: Path, sig: signal.Signals, code: int) -> None:
    spec, out = tmp_path / "slow.toml", tmp_path / "r.jsonl"
    spec.write_text(SLOW_SPEC)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # Runs to t = 1e30 at 300 digits: each worker computes for minutes unless stopped.
    proc = subprocess.Popen([sys.executable, "-m", "kltools.cli", "sweep", str(spec), "--n",
                             "8", "--integrate", "--t-end", "1e30", "--dps", "300",
                             "--workers", "2", "--out",
                             str(out)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        kids = _busy_workers(psutil.Process(proc.pid), 2)
        assert len(kids) == 3  # two workers and multiprocessing's resource tracker
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == code, err
        if sig != signal.SIGKILL:
            assert err.rstrip().splitlines()[-1] in ("kltools: terminated",
                                                     "kltools: interrupted")
        # Polled with a generous budget: the workers notice a killed parent within a second.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(_gone(k) for k in kids):
            time.sleep(0.2)
        assert [k.pid for k in kids if not _gone(k)] == []
    finally:
        proc.kill()
        proc.wait()
    # The results file is intact: its header, and only complete lines.
    assert json.loads(out.read_text().splitlines()[0])["format"] == "kltools-sweep/1"
