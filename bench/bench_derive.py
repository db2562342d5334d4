"""Benchmark: symbolic gradient derivation, naive SymPy versus kltools (issue 2, "Performance").

Model: two-layer net, 2 inputs, activation z**2, no bias, 8 samples of exact rational data, hidden
width h, so P = 3h parameters (W1: h x 2, W2: 1 x h); square loss L = (1/n) Σ ½ (f(x_i) − y_i)².

* naive peer: build L from SymPy symbols, then ``sympy.diff(L, p)`` for every parameter and
  ``sympy.lambdify(params, grad, modules="mpmath")``; the timed part is diff + lambdify.
* kltools: ``problem_from_dict`` (not timed, like building L), then the timed part is
  ``derive(problem)`` + ``Evaluator(d)`` + the first ``ev.gradient(theta, dps=30)`` (which compiles
  the straight-line program and generates the mpmath code).

Every measurement runs in a fresh interpreter (imports done before the clock starts), so no
SymPy cache or compiled-program cache is shared between runs or between the two contenders.
Where both exist, the two gradients are compared at a random rational point at dps 30.

Usage::

    python bench/bench_derive.py            # P = 24 .. 1998, writes BENCHMARKS.md
    python bench/bench_derive.py --quick    # P <= 96 only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from fractions import Fraction
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"
HEADING = "## Symbolic derivation (issue 2)"

N_SAMPLES = 8
NAIVE_WIDTHS = (8, 16, 32)
KLTOOLS_WIDTHS = (8, 16, 32, 64, 128, 256, 512, 666)
QUICK_MAX_P = 96
SMALL_REPEATS = 3  # median of this many fresh-process runs for kltools
CHECK_DPS = 30
SEED = 2024


# -- shared inputs (identical in every worker) ---------------------------------------------------
def _rational(r: Random) -> Fraction:
    return Fraction(r.choice([-1, 1]) * r.randint(1, 9), r.randint(1, 9))


def data(seed: int = SEED) -> tuple[list[list[Fraction]], list[Fraction]]:
    """8 samples: x in Q^2, y in Q, small rationals from a fixed seed."""
    r = Random(seed)
    xs = [[_rational(r), _rational(r)] for _ in range(N_SAMPLES)]
    ys = [_rational(r) for _ in range(N_SAMPLES)]
    return xs, ys


def check_point(n_params: int, seed: int = SEED) -> list[Fraction]:
    """A random rational point θ (entries of size ~1/2, so z**2 nets stay well scaled)."""
    r = Random(seed * 7919 + n_params)
    return [Fraction(r.choice([-1, 1]) * r.randint(1, 99), r.randint(100, 199))
            for _ in range(n_params)]


def param_names(h: int) -> list[str]:
    """kltools' canonical order: W1_i_j (row-major), then W2_1_j."""
    return ([f"W1_{i}_{j}" for i in range(1, h + 1) for j in (1, 2)]
            + [f"W2_1_{j}" for j in range(1, h + 1)])


# -- workers (run in a fresh interpreter) ---------------------------------------------------------
def worker_naive(h: int) -> dict[str, object]:
    import mpmath
    import sympy as sp

    xs, ys = data()
    names = param_names(h)
    params = sp.symbols(names)
    w1 = [[params[2 * i], params[2 * i + 1]] for i in range(h)]
    w2 = params[2 * h:]
    t0 = time.perf_counter()
    terms = []
    for x, y in zip(xs, ys, strict=True):
        xq = [sp.Rational(v.numerator, v.denominator) for v in x]
        f = sp.Add(*[w2[i] * (w1[i][0] * xq[0] + w1[i][1] * xq[1]) ** 2 for i in range(h)])
        terms.append(sp.Rational(1, 2) * (f - sp.Rational(y.numerator, y.denominator)) ** 2)
    loss = sp.Rational(1, N_SAMPLES) * sp.Add(*terms)
    t1 = time.perf_counter()
    grad = [sp.diff(loss, p) for p in params]
    fn = sp.lambdify(params, grad, modules="mpmath")
    t2 = time.perf_counter()
    mpmath.mp.dps = CHECK_DPS
    theta = [mpmath.mpf(q.numerator) / q.denominator for q in check_point(len(params))]
    g = fn(*theta)
    return {"build": t1 - t0, "time": t2 - t1, "grad": [mpmath.nstr(v, 40) for v in g]}


def worker_kltools(h: int) -> dict[str, object]:
    import mpmath

    from kltools.compiled.evaluator import Evaluator
    from kltools.spec import problem_from_dict
    from kltools.symbolic.derivation import derive

    xs, ys = data()
    t0 = time.perf_counter()
    problem = problem_from_dict({
        "network": {"layers": [2, h, 1], "activation": "z**2", "bias": False},
        "data": {"x": [[str(v) for v in x] for x in xs], "y": [str(y) for y in ys]},
    })
    assert list(problem.parameters) == param_names(h), "parameter order changed"
    theta = check_point(len(problem.parameters))
    t1 = time.perf_counter()
    d = derive(problem)
    t2 = time.perf_counter()
    ev = Evaluator(d)
    prog = ev.gradient_program  # what the first gradient call would build anyway
    t3 = time.perf_counter()
    g = ev.gradient(theta, dps=CHECK_DPS)
    t4 = time.perf_counter()
    return {"build": t1 - t0, "time": t4 - t1, "derive": t2 - t1, "program": t3 - t2,
            "codegen_call": t4 - t3, "blocks": len(d.blocks), "instrs": len(prog.instrs),
            "grad": [mpmath.nstr(v, 40) for v in g]}


def run_worker(kind: str, h: int) -> dict[str, object]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, __file__, "--worker", kind, str(h)], env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(f"{kind} worker h={h} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- comparison and report ------------------------------------------------------------------------
def agreement_digits(a: list[str], b: list[str]) -> float:
    """Correct digits of ``b`` relative to ``a``: −log10(max |a − b| / max |a|)."""
    import mpmath

    ctx = mpmath.mp.clone()
    ctx.dps = 60
    va, vb = [ctx.mpf(v) for v in a], [ctx.mpf(v) for v in b]
    scale = max(abs(v) for v in va) or ctx.mpf(1)
    err = max(abs(x - y) for x, y in zip(va, vb, strict=True))
    return math.inf if err == 0 else float(-ctx.log10(err / scale))


def loglog_slope(points: list[tuple[int, float]]) -> float:
    xs = [math.log(p) for p, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
            / sum((x - mx) ** 2 for x in xs))


def write_section(text: str) -> None:
    """Replace (or append) our section of BENCHMARKS.md, leaving every other section alone."""
    current = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == HEADING), None)
    if start is None:
        new = current.rstrip("\n") + "\n\n" + text
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    BENCHMARKS.write_text(new)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"only P <= {QUICK_MAX_P}")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "H"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, h = args.worker[0], int(args.worker[1])
        res = worker_naive(h) if kind == "naive" else worker_kltools(h)
        print(json.dumps(res))
        return

    load_before = os.getloadavg()[0]
    widths = [h for h in KLTOOLS_WIDTHS if not args.quick or 3 * h <= QUICK_MAX_P]
    rows = []
    for h in widths:
        P = 3 * h
        naive = run_worker("naive", h) if h in NAIVE_WIDTHS else None
        runs = [run_worker("kltools", h) for _ in range(SMALL_REPEATS)]
        med = sorted(runs, key=lambda r: r["time"])[len(runs) // 2]
        digits = agreement_digits(naive["grad"], med["grad"]) if naive else None
        row = {"P": P, "h": h, "naive": naive["time"] if naive else None,
               "kltools": med["time"], "runs": [r["time"] for r in runs], "digits": digits,
               "derive": med["derive"], "program": med["program"],
               "codegen_call": med["codegen_call"], "blocks": med["blocks"],
               "instrs": med["instrs"]}
        rows.append(row)
        naive_s = f"{row['naive']:8.3f}s" if naive else "       –"
        print(f"P={P:5d}  naive={naive_s}  kltools={row['kltools']:7.3f}s "
              f"(runs {', '.join(f'{t:.3f}' for t in row['runs'])})"
              + (f"  agree={digits:.1f} digits" if digits is not None else ""), flush=True)
        if digits is not None and digits < 25:
            sys.exit(f"gradients disagree at P={P}: only {digits:.1f} digits")

    fit = [(r["P"], r["kltools"]) for r in rows if r["P"] >= 96]
    fit_note = "P ≥ 96"
    if len(fit) < 2:
        fit, fit_note = [(r["P"], r["kltools"]) for r in rows], "all P (quick run)"
    slope = loglog_slope(fit)
    naive_pts = [(r["P"], r["naive"]) for r in rows if r["naive"] is not None]
    naive_slope = loglog_slope(naive_pts) if len(naive_pts) >= 2 else float("nan")
    at96 = next((r for r in rows if r["P"] == 96), None)

    cmd = "python bench/bench_derive.py" + (" --quick" if args.quick else "")
    out = [HEADING, "",
           f"Command: `{cmd}` (from the repository root). "
           f"Run {date.today().isoformat()}, Python {platform.python_version()}, "
           f"SymPy {_version('sympy')}, mpmath {_version('mpmath')}, "
           f"{os.cpu_count()} CPUs ({platform.machine()}); 1-min load average "
           f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run (other jobs "
           "share the machine; both contenders run in the same session).", "",
           "Model: two-layer net, 2 inputs, activation `z**2`, no bias, 8 samples of exact "
           "rational data, P = 3h. *Naive*: `sympy.diff(L, p)` for every p, then "
           "`lambdify(params, grad, modules=\"mpmath\")`. *kltools*: `derive(problem)` + "
           "`Evaluator(d)` + the first `ev.gradient(theta, dps=30)` (program compilation and "
           "code generation included). Each measurement in a fresh interpreter, imports and "
           f"building L / the spec not timed; kltools is the median of {SMALL_REPEATS} runs, "
           "naive one run.", "",
           "| P | naive (s) | kltools (s) | speed-up | kltools: derive / program / codegen+call "
           "(s) | CSE blocks | instructions | gradients agree (digits, dps 30) |",
           "|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        naive = f"{r['naive']:.2f}" if r["naive"] is not None else "–"
        speed = f"{r['naive'] / r['kltools']:.0f}x" if r["naive"] is not None else "–"
        digits = ("–" if r["digits"] is None
                  else "exact" if math.isinf(r["digits"]) else f"{r['digits']:.1f}")
        out.append(f"| {r['P']} | {naive} | {r['kltools']:.3f} | {speed} | "
                   f"{r['derive']:.3f} / {r['program']:.3f} / {r['codegen_call']:.3f} | "
                   f"{r['blocks']} | {r['instrs']} | {digits} |")
    out += ["", f"Log-log slope of kltools' time vs P ({fit_note}): **{slope:.2f}** "
            f"(1 = linear). Naive slope over P = 24..96: {naive_slope:.2f}."]
    if at96:
        ok = at96["naive"] / at96["kltools"] >= 20
        out.append(f"Speed-up at P = 96: **{at96['naive'] / at96['kltools']:.0f}x** "
                   f"(target ≥ 20x: {'met' if ok else 'NOT met'}).")
    text = "\n".join(out) + "\n"
    print()
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"wrote section {HEADING!r} of {BENCHMARKS}")


def _version(mod: str) -> str:
    from importlib.metadata import version
    return version(mod)


if __name__ == "__main__":
    main()
