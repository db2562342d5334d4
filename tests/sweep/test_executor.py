"""Where runs execute: the dask scheduler connection."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.sweep.helpers import RELU


def test_an_unreachable_scheduler_fails_fast_with_one_message(tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "r.jsonl"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kltools.cli", "sweep", str(RELU), "--n", "2",
                           "--integrate", "--out", str(out), "--scheduler",
                           f"tcp://127.0.0.1:{port}"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "KLTOOLS_DEBUG": ""})
    elapsed = time.monotonic() - start
    assert proc.returncode == 2, proc.stderr
    assert elapsed < 10
    msg = proc.stderr.strip().splitlines()
    assert len(msg) == 1 and "cannot reach a dask scheduler" in msg[0] and str(port) in msg[0]
    assert proc.stdout == "" and not out.exists()
