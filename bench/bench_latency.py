"""CLI latency: whole processes on problem (c) at 60 digits, cold and warm program cache.

Contenders, each a fresh process started by this script, one after the other, ``--repeats``
rounds interleaved (so a change of machine load hits every contender alike):

* **odefun script**: a minimal Python script that imports mpmath (gmpy2 backend), defines the
  gradient of problem (c) by hand (no SymPy) and integrates with ``mpmath.odefun`` at 60 digits
  to t = 5, printing the final state: the cheapest whole-process use of the peer;
* **kltools, no cache**: ``kltools integrate examples/problem_c.toml --t-end 5 --dps 60
  --no-cache`` (SymPy import, derivation and compilation every time);
* **kltools, warm cache**: the same without ``--no-cache`` after one priming run;
* **start-up, warm**: ``--t-end 1e-12`` (one Taylor step): the time before work starts, plus
  printing.

Times: wall clock of the child (median) and its CPU seconds (user + system from
``resource.getrusage(RUSAGE_CHILDREN)``, minimum), since the machine is shared. The warm run is
also checked not to import SymPy (``-X importtime``). The final states of odefun and kltools are
compared (digits of agreement).

Run from the repository root::

    python bench/bench_latency.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "problem_c.toml"

ODEFUN = r"""
import mpmath
from mpmath import mp, mpf
mp.dps = 60
DATA = [(mpf(-1), mpf(1)), (mpf(1) / 2, mpf(0)), (mpf(2), mpf(3))]

def flow(t, th):
    w1, w2, c1, c2, v1, v2 = th
    g = [mpf(0)] * 6
    for x, y in DATA:
        a1, a2 = w1 * x + c1, w2 * x + c2
        r = v1 * a1 ** 2 + v2 * a2 ** 2 - y
        g[0] += r * v1 * 2 * a1 * x
        g[1] += r * v2 * 2 * a2 * x
        g[2] += r * v1 * 2 * a1
        g[3] += r * v2 * 2 * a2
        g[4] += r * a1 ** 2
        g[5] += r * a2 ** 2
    return [-v for v in g]

x0 = [mpf(s) for s in ("0.6", "-0.4", "0.2", "0.5", "0.3", "-0.2")]
sol = mpmath.odefun(flow, 0, x0)
print(" ".join(mpmath.nstr(v, 62) for v in sol(5)))
"""


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def kltools(*args: str) -> list[str]:
    return [sys.executable, "-m", "kltools.cli", "integrate", str(SPEC), "--dps", "60", *args]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="kltools-bench-latency-")
    env = {**os.environ, "KLTOOLS_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
    contenders = {
        "mpmath.odefun script (hand-written gradient)": [sys.executable, "-c", ODEFUN],
        "kltools integrate --no-cache": kltools("--t-end", "5", "--no-cache"),
        "kltools integrate, warm cache": kltools("--t-end", "5"),
        "start-up, warm cache (--t-end 1e-12)": kltools("--t-end", "1e-12"),
    }
    run(kltools("--t-end", "5"), env)  # prime the cache
    load = os.getloadavg()
    walls: dict[str, list[float]] = {k: [] for k in contenders}
    cpus: dict[str, list[float]] = {k: [] for k in contenders}
    outs: dict[str, str] = {}
    for _ in range(args.repeats):
        for name, cmd in contenders.items():
            w, c, out = run(cmd, env)
            walls[name].append(w)
            cpus[name].append(c)
            outs[name] = out
    imports = subprocess.run([sys.executable, "-X", "importtime", *kltools("--t-end", "5")[1:]],
                             env=env, capture_output=True, text=True, check=True).stderr
    sympy_warm = any(line.rstrip().endswith(" sympy") for line in imports.splitlines())
    print(table(walls, cpus, outs, sympy_warm, load, os.getloadavg()))


def _digits(odefun_out: str, kltools_out: str) -> float:
    import mpmath

    with mpmath.workdps(80):
        a = [mpmath.mpf(s) for s in odefun_out.split()]
        b = [mpmath.mpf(line.split("=")[1]) for line in kltools_out.splitlines()
             if line.startswith("  ") and "=" in line]
        err = max(abs(x - y) / abs(y) for x, y in zip(a, b, strict=True))
        return float(-mpmath.log10(err)) if err else 80.0


def table(walls: dict, cpus: dict, outs: dict, sympy_warm: bool, before: tuple,
          after: tuple) -> str:
    names = list(walls)
    ref_w = statistics.median(walls[names[0]])
    ref_c = min(cpus[names[0]])
    rows = ["| contender | wall, median (s) | CPU, min (s) | odefun / this, wall | "
            "odefun / this, CPU |", "| --- | ---: | ---: | ---: | ---: |"]
    for n in names:
        w, c = statistics.median(walls[n]), min(cpus[n])
        rows.append(f"| {n} | {w:.2f} | {c:.2f} | {ref_w / w:.1f}x | {ref_c / c:.1f}x |")
    agree = _digits(outs[names[0]], outs[names[2]])
    rows.append("")
    rows.append(f"Warm run imports SymPy: **{'yes' if sympy_warm else 'no'}**. Final states of "
                f"odefun and kltools (warm) agree to {agree:.1f} digits. 1-min load average "
                f"{before[0]:.1f} before, {after[0]:.1f} after (2 cores, shared).")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
