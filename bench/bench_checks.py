"""Benchmark: the `lojasiewicz` property over 100 initialisations of a two-layer ReLU net.

Run from the repository root::

    python bench/bench_checks.py [--examples 100] [--dps 30]

Model: examples/relu_two_layer.toml (2 inputs, 3 hidden ReLU units, no bias: 9 parameters,
3 samples) with a seeded init of scale 1/2. Each example integrates the flow to t = 30 (fixed) at
30 digits (kink events located, precision raised as the residuals shrink), finds L* (Newton from
the end, or Aitken extrapolation on a sliding tail), and fits the inequality on the tail.
Prints the wall time and the verdict counts.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from kltools.checks.runner import check
from kltools.spec import load_problem

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100)
    ap.add_argument("--dps", type=int, default=30)
    args = ap.parse_args()
    text = (ROOT / "examples" / "relu_two_layer.toml").read_text()
    # Random initialisations at scale 1/2 (coordinates uniform on a 1/1000 grid in [-3/2, 3/2]):
    # the spec's explicit init is replaced by a seeded one.
    text = text[: text.index("[init]")] + '[init]\nseed = 0\nscale = "0.5"\n'
    problem = load_problem(text)
    load0 = os.getloadavg()[0]
    start = time.perf_counter()
    v = check(problem, "lojasiewicz", examples=args.examples, seed=0, dps=args.dps, t_end="30")
    wall = time.perf_counter() - start
    print("| property | parameters | examples | dps | wall time (s) | per example (s) | verdict "
          "| counts | load before/after |")
    print("|---|---:|---:|---:|---:|---:|---|---|---|")
    print(f"| lojasiewicz | {problem.n_parameters} | {args.examples} | {args.dps} | {wall:.1f} | "
          f"{wall / args.examples:.2f} | {v.status.value} | {v.tally} | "
          f"{load0:.1f} / {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
