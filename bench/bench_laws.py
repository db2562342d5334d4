"""Benchmark: counting conservation laws (issue 8, "Performance").

For each network: the time of the count (``conservation_laws(problem, 0, prove=False)``:
factorisation φ, gradient fields, brackets and exact ranks at 3 random integer points) and of
count + polynomial laws of degree ≤ 2 (``degree=2``, still without the symbolic proofs on the
flow, which depend on the data). Each time is the median of 3 runs in one process after one
warm-up run (imports and the first flint call not timed). The expected count is the paper's
r(r+1)/2 for two-layer linear nets with r ≤ n + m, N·r − N(N−1)/2 with N = n + m < r (derived in
:mod:`kltools.symbolic.laws`), and one law per hidden neuron for two-layer ReLU nets.

Usage::

    python bench/bench_laws.py             # writes the section of BENCHMARKS.md
    python bench/bench_laws.py --no-write  # print only
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCHMARKS = ROOT / "BENCHMARKS.md"
HEADING = "## Conservation laws (issue 8)"
REPEATS = 3


def _problem(layers: list[int], act: str) -> object:
    from kltools.spec import problem_from_dict

    d, o = layers[0], layers[-1]
    return problem_from_dict({"network": {"layers": layers, "activation": act},
                              "data": {"x": [["1"] * d], "y": [["1"] * o] if o > 1 else ["1"]}})


def _expected(layers: list[int], act: str) -> int | None:
    if len(layers) != 3:
        return None
    m, r, n = layers
    if act == "relu":
        return r
    big = n + m
    return r * (r + 1) // 2 if r <= big else big * r - big * (big - 1) // 2


def _time(fn: object, repeats: int = REPEATS) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def cases() -> list[tuple[list[int], str]]:
    out: list[tuple[list[int], str]] = [([w, w, w], "linear") for w in range(1, 7)]
    out += [([2, r, 2], "linear") for r in (3, 4, 5, 6)]
    out += [([2, h, 1], "relu") for h in range(1, 11)]
    out += [([3, 10, 2], "relu"), ([3, 3, 3, 3], "linear"), ([3, 4, 4, 1], "relu")]
    return out


EXTRA = [([8, 8, 8], "linear"), ([4, 20, 3], "relu"), ([4, 4, 4, 4, 4], "linear")]
"""Beyond the target sizes, timed once each (not part of the one-minute table)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    from kltools.symbolic.laws import conservation_laws

    conservation_laws(_problem([2, 2, 1], "relu"), 2, prove=False)  # warm-up
    def row(layers: list[int], act: str, repeats: int) -> str:
        p = _problem(layers, act)
        t_count, r0 = _time(lambda: conservation_laws(p, 0, prove=False), repeats)
        t_laws, r2 = _time(lambda: conservation_laws(p, 2, prove=False), repeats)
        exp = _expected(layers, act)
        ok = "–" if exp is None else ("yes" if exp == r0.count else f"NO ({exp})")
        line = (f"| {layers} {act} | {len(r0.parameters)} | {r0.components} | "
                f"{' → '.join(map(str, r0.lie.ranks_by_depth))} | {r0.lie_dimension} | "
                f"{r0.count} | {ok} | {t_count:.3f} | {t_laws:.3f} | {len(r2.laws)} / "
                f"{r2.independent} | {'yes' if r2.certified else 'no'} |")
        print(line, flush=True)
        return line

    start = time.perf_counter()
    rows = [row(layers, act, REPEATS) for layers, act in cases()]
    total = time.perf_counter() - start
    rows.append("| *beyond the target, one run each* | | | | | | | | | | |")
    rows += [row(layers, act, 1) for layers, act in EXTRA]
    import flint
    import sympy

    out = [
        HEADING, "",
        f"Command: `python bench/bench_laws.py` (from the repository root). Run {date.today()}, "
        f"Python {platform.python_version()}, SymPy {sympy.__version__}, python-flint "
        f"{flint.__version__}, {os.cpu_count()} CPUs ({platform.machine()}).", "",
        "Count = `conservation_laws(p, 0, prove=False)` (φ, gradient fields, brackets, exact "
        "ranks at 3 random integer points); + laws = the same with `degree=2` (polynomial laws "
        "and their functional independence; the symbolic proofs on the spec's flow are not "
        "included). Median of 3 in-process runs. *Expected*: r(r+1)/2 (two-layer linear, "
        "r ≤ n + m), N·r − N(N−1)/2 (N = n + m < r), one per neuron (two-layer ReLU); "
        "*certified*: the proved, independent quadratic laws reach D − rank.", "",
        "| network | D | φ components | rank by bracket depth | dim Lie | count | expected | "
        "count (s) | + laws deg ≤ 2 (s) | laws / independent | certified |",
        "|---|---:|---:|---|---:|---:|---|---:|---:|---|---|",
        *rows, "",
        f"Whole table down to the separator (both timings, 3 repeats each, everything "
        f"included): **{total:.1f} s** (target: under a minute).", "",
    ]
    text = "\n".join(out)
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"wrote section {HEADING!r} of {BENCHMARKS}")


def write_section(text: str) -> None:
    """Replace (or append) our section of BENCHMARKS.md, leaving every other section alone."""
    current = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    lines = current.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == HEADING), None)
    if start is None:
        new = current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        new = "\n".join([*lines[:start], *text.rstrip("\n").splitlines(), *lines[end:]])
        new = new.rstrip("\n") + "\n"
    BENCHMARKS.write_text(new)


if __name__ == "__main__":
    main()
