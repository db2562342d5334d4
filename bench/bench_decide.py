"""Benchmark: how often the asymptotic checks decide, and decide right, on textbook cases.

Run from the repository root::

    python bench/bench_decide.py [--only NAME ...]

Each case is one spec, one property, one claimed exponent and the truth (closed forms: the
Łojasiewicz exponent of x^(2k) is 1 − 1/(2k); quasi-homogeneous sums take the slowest term;
Morse and Morse–Bott minima converge linearly at 2λ; a degenerate minimum converges like
t^(−1/(2θ−1)); a linear classifier on separable data with the exponential loss converges in
direction to the max-margin separator). Every case runs on the property's defaults (the check
chooses the horizon) from the spec's own initialisation. Prints one line per case (verdict,
truth, seconds) and the fraction decided, the fraction decided right, and the time per case.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kltools.checks.properties import check_property
from kltools.spec import load_problem

ROOT = Path(__file__).resolve().parents[1]


def _objective(expr: str, names: str, init: str) -> object:
    vars_ = ", ".join(f'"{v}"' for v in names.split(","))
    theta = ", ".join(f'"{v}"' for v in init.split(","))
    return load_problem(f'[objective]\nexpr = "{expr}"\nvars = [{vars_}]\n'
                        f'[init]\ntheta = [{theta}]\n')


def _classifier() -> object:
    text = (ROOT / "examples" / "linear_classifier_logistic.toml").read_text()
    return load_problem(text.replace('kind = "logistic"', 'kind = "exponential"'))


# (name, builder, property, options, truth)
CASES = [
    ("x^2 a=1/2", lambda: _objective("x**2", "x", "0.5"), "lojasiewicz",
     {"exponent": "1/2"}, "holds"),
    ("x^4 a=3/4", lambda: _objective("x**4", "x", "0.5"), "lojasiewicz",
     {"exponent": "3/4"}, "holds"),
    ("x^4 a=1/2", lambda: _objective("x**4", "x", "0.5"), "lojasiewicz",
     {"exponent": "1/2"}, "refuted"),
    ("x^6 a=5/6", lambda: _objective("x**6", "x", "0.5"), "lojasiewicz",
     {"exponent": "5/6"}, "holds"),
    ("x^6 a=3/4", lambda: _objective("x**6", "x", "0.5"), "lojasiewicz",
     {"exponent": "3/4"}, "refuted"),
    ("x^8 a=7/8", lambda: _objective("x**8", "x", "0.5"), "lojasiewicz",
     {"exponent": "7/8"}, "holds"),
    ("x^8 a=5/6", lambda: _objective("x**8", "x", "0.5"), "lojasiewicz",
     {"exponent": "5/6"}, "refuted"),
    ("x^2+y^4 a=3/4", lambda: _objective("x**2 + y**4", "x,y", "0.5,0.5"), "lojasiewicz",
     {"exponent": "3/4"}, "holds"),
    ("x^2+y^4 a=1/2", lambda: _objective("x**2 + y**4", "x,y", "0.5,0.5"), "lojasiewicz",
     {"exponent": "1/2"}, "refuted"),
    ("x^4+y^6 a=5/6", lambda: _objective("x**4 + y**6", "x,y", "0.5,0.5"), "lojasiewicz",
     {"exponent": "5/6"}, "holds"),
    ("x^4+y^6 a=3/4", lambda: _objective("x**4 + y**6", "x,y", "0.5,0.5"), "lojasiewicz",
     {"exponent": "3/4"}, "refuted"),
    ("valley a=5/6", lambda: _objective("(x - y**2)**2 + y**6", "x,y", "0.5,0.6"),
     "lojasiewicz", {"exponent": "5/6"}, "holds"),
    ("valley a=3/4", lambda: _objective("(x - y**2)**2 + y**6", "x,y", "0.5,0.6"),
     "lojasiewicz", {"exponent": "3/4"}, "refuted"),
    ("x^2+y^2 linear", lambda: _objective("x**2 + y**2/10", "x,y", "0.5,0.5"),
     "linear-convergence", {}, "holds"),
    ("(ab-1)^2 linear", lambda: _objective("(a*b - 1)**2/2", "a,b", "0.5,1.5"),
     "linear-convergence", {}, "holds"),
    ("chain (abc)^2 linear", lambda: _objective("(a*b*c)**2/2", "a,b,c", "0.7,0.6,0.8"),
     "linear-convergence", {}, "holds"),
    ("(xy)^2 slow transient", lambda: _objective("(x*y)**2/2", "x,y", "0.505,0.5"),
     "linear-convergence", {}, "holds"),
    ("x^4 linear", lambda: _objective("x**4", "x", "0.5"), "linear-convergence", {},
     "refuted"),
    ("x^6 linear", lambda: _objective("x**6", "x", "0.5"), "linear-convergence", {},
     "refuted"),
    ("separable, exp loss", _classifier, "directional-convergence", {}, "holds"),
    ("separable, logistic loss",
     lambda: load_problem(ROOT / "examples" / "linear_classifier_logistic.toml"),
     "directional-convergence", {}, "holds"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="case names to run")
    args = ap.parse_args()
    rows = []
    for name, build, prop, opts, truth in CASES:
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        v = check_property(prop, build(), **opts)
        dt = time.perf_counter() - t0
        rows.append((name, v.status.value, truth, dt))
        print(f"{name:<24} {prop:<24} {v.status.value:<13} truth {truth:<8} {dt:7.1f} s"
              + (f"  ({v.reason})" if v.status.value == "inconclusive" else ""), flush=True)
    n = len(rows)
    decided = sum(1 for r in rows if r[1] != "inconclusive")
    right = sum(1 for r in rows if r[1] == r[2])
    total = sum(r[3] for r in rows)
    print(f"cases {n}; decided {decided}/{n}; decided right {right}/{decided}; "
          f"time per case {total / max(n, 1):.1f} s (max {max(r[3] for r in rows):.1f} s)")


if __name__ == "__main__":
    main()
