"""Integration at size: tanh net [3, h, 1] (P = 4h), 5 samples, dps 30, t = 10, against heyoka.

Contenders, one after the other in one process for each P (each P in a fresh process, so JIT and
code caches of one size do not help the next):

* **kltools native**: ``integrate(system, ...)`` with the programs already compiled (the program
  cache holds them; the derivation is timed separately, once per spec and kltools version);
* **kltools + heyoka backend**: the same call with ``backend="heyoka"`` (translation of kltools'
  program to heyoka expressions, LLVM build and JIT, integration, kltools' per-step records);
* **heyoka real**: heyoka.py directly, as a heyoka user writes it: L built from heyoka
  expressions, ∇L by ``heyoka.diff_tensors``, ``taylor_adaptive(fp_type=real, prec=110,
  compact_mode=True, tol=1e-30)``, ``propagate_until(10)``; build + JIT and integration timed
  apart.

Digits: each final state against a reference computed by heyoka on its own at 50 digits
(200 bits, tolerance 1e-50), min over the parameters of −log10(relative error); the reference is
independent of kltools' programs (heyoka differentiates L itself).

Run from the repository root::

    python bench/bench_size.py                 # P = 8, 32, 128, 512
    python bench/bench_size.py --sizes 8,32    # a subset
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def spec(h: int) -> dict[str, Any]:
    """The tanh net [3, h, 1] without biases on 5 fixed rational samples, seeded init."""
    xs = [[str(Fraction(i + 1, 5)), str(Fraction((-1) ** i * i, 4)), str(Fraction(1, i + 2))]
          for i in range(5)]
    ys = [str(Fraction(i - 2, 3)) for i in range(5)]
    return {"network": {"layers": [3, h, 1], "activation": "tanh", "bias": False},
            "loss": {"kind": "square"}, "data": {"x": xs, "y": ys},
            "init": {"seed": 7, "scale": "0.5"}}


def timed(fn: Any) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def heyoka_direct(problem: Any, theta0: list[Fraction], t_end: int, bits: int,
                  tol: str = "1e-30") -> dict[str, Any]:
    """heyoka.py on its own: the flow of L built from heyoka expressions."""
    import heyoka as hy

    data = problem.data
    names = list(problem.parameters)
    vs = hy.make_vars(*names)
    by = dict(zip(names, vs, strict=True))
    # kltools names the weights of an [3, h, 1] MLP W1_j_i (unit j, input i) and W2_1_j.
    h = sum(n.startswith("W2_") for n in names)
    w1 = [[by[f"W1_{j}_{i}"] for i in range(1, 4)] for j in range(1, h + 1)]
    w2 = [by[f"W2_1_{j}"] for j in range(1, h + 1)]
    def num(v: Any) -> Any:  # an exact rational rounded once to `bits`
        q = Fraction(int(v.p), int(v.q)) if hasattr(v, "p") else Fraction(v)
        return hy.expression(hy.real(str(q.numerator), bits) / q.denominator)

    terms = []
    for x, (y,) in zip(data.x, data.y, strict=True):
        hidden = [hy.tanh(hy.sum([num(xi) * w for xi, w in zip(x, row, strict=True)]))
                  for row in w1]
        f = hy.sum([a * b for a, b in zip(w2, hidden, strict=True)])
        r = f - num(y)
        terms.append(r * r)
    # kltools' square loss: (1/(2n)) Σ r_i².
    loss = hy.sum(terms) * num(Fraction(1, 2 * len(terms)))
    w, c = time.perf_counter(), time.process_time()
    dt = hy.diff_tensors([loss], diff_args=list(vs), diff_order=1)
    grad = dt.jacobian[0]
    sys_ = [(v, -g) for v, g in zip(vs, grad, strict=True)]
    x0 = [hy.real(str(q.numerator), bits) / q.denominator for q in theta0]
    ta = hy.taylor_adaptive(sys_, x0, fp_type=hy.real, prec=bits, compact_mode=True,
                            tol=hy.real(tol, bits))
    build_w, build_c = time.perf_counter() - w, time.process_time() - c
    w, c = time.perf_counter(), time.process_time()
    res = ta.propagate_until(hy.real(t_end, bits))
    run_w, run_c = time.perf_counter() - w, time.process_time() - c
    return {"build_wall": build_w, "build_cpu": build_c, "run_wall": run_w, "run_cpu": run_c,
            "steps": int(res[3]) if len(res) > 3 else None, "order": int(ta.order),
            "state": [str(v) for v in ta.state]}


def one(p: int, t_end: int, dps: int) -> dict[str, Any]:
    """All contenders at one size (run in a child process)."""
    import tempfile

    from kltools.compiled.cache import ProgramCache
    from kltools.integrate.cached import flow_system
    from kltools.integrate.flow import integrate
    from kltools.numbers import agreement_digits

    h = p // 4
    doc = spec(h)
    cache = ProgramCache(tempfile.mkdtemp(prefix="kltools-bench-size-"))
    dw, dc, system = timed(lambda: flow_system(doc, f"tanh{p}", cache=cache))
    warm = flow_system(doc, f"tanh{p}", cache=cache)
    problem = system.d.problem
    theta0 = list(problem.initial_point())
    out: dict[str, Any] = {"P": p, "derive_wall": dw, "derive_cpu": dc,
                           "instructions": len(system.program.instrs)}
    import gmpy2

    full = warm.system.d.problem  # the symbolic problem (names, data) for the direct runs
    # Reference: heyoka on its own (∇L by its own differentiation, not kltools' program) at
    # 20 more digits; at small P it agrees with kltools native at 50 digits (see the tests).
    hi = heyoka_direct(full, [Fraction(q) for q in theta0], t_end, 200, f"1e-{dps + 20}")
    with gmpy2.context(precision=200):
        ref = [gmpy2.mpfr(s, 200) for s in hi["state"]]
    w, c, nat = timed(lambda: integrate(warm, theta0, t_end, dps=dps,
                                        adaptive_precision=False))
    out["native"] = {"wall": w, "cpu": c, "steps": nat.n_steps,
                     "digits": agreement_digits(nat.theta, ref)}
    w, c, hyb = timed(lambda: integrate(warm, theta0, t_end, dps=dps, backend="heyoka"))
    out["backend"] = {"wall": w, "cpu": c, "steps": hyb.n_steps,
                      "build": hyb.info.get("heyoka_build_seconds"),
                      "digits": agreement_digits(hyb.theta, ref)}
    direct = heyoka_direct(full, [Fraction(q) for q in theta0], t_end, 110)
    with gmpy2.context(precision=200):
        state = [gmpy2.mpfr(s, 200) for s in direct.pop("state")]
    direct["digits"] = agreement_digits(state, ref)
    out["heyoka"] = direct
    return out


def problem_c(dps: int = 60, repeats: int = 3) -> dict[str, Any]:
    """Problem (c) at ``dps`` digits to t = 5: kltools native (cached programs) against heyoka
    real at the same precision and tolerance 10^-dps, integration only (best of ``repeats``)."""
    import heyoka as hy

    from kltools.integrate.cached import load_flow_system
    from kltools.integrate.flow import integrate
    from kltools.numbers import agreement_digits, bits_for_dps

    system = load_flow_system(ROOT / "examples" / "problem_c.toml")
    theta0 = list(system.d.problem.initial_point())
    ref = integrate(system, theta0, 5, dps=dps + 30, adaptive_precision=False).theta
    native, trajs = [], []
    for _ in range(repeats):
        c = time.process_time()
        trajs.append(integrate(system, theta0, 5, dps=dps, adaptive_precision=False))
        native.append(time.process_time() - c)
    back, btrajs = [], []
    for _ in range(repeats):
        c = time.process_time()
        btrajs.append(integrate(system, theta0, 5, dps=dps, backend="heyoka"))
        back.append(time.process_time() - c)
    bits = bits_for_dps(dps)
    w1, w2, c1, c2, v1, v2 = hy.make_vars("w1", "w2", "c1", "c2", "v1", "v2")

    def num(q: Fraction) -> Any:
        return hy.expression(hy.real(str(q.numerator), bits) / q.denominator)

    terms = []
    for x, y in ((Fraction(-1), Fraction(1)), (Fraction(1, 2), Fraction(0)),
                 (Fraction(2), Fraction(3))):
        r = v1 * (w1 * num(x) + c1) ** 2 + v2 * (w2 * num(x) + c2) ** 2 - num(y)
        terms.append(r * r)
    loss = hy.sum(terms) * num(Fraction(1, 2))
    vs = [w1, w2, c1, c2, v1, v2]
    c = time.process_time()
    grad = hy.diff_tensors([loss], diff_args=vs, diff_order=1).jacobian[0]
    x0 = [hy.real(str(Fraction(q).numerator), bits) / Fraction(q).denominator for q in theta0]
    ta = hy.taylor_adaptive([(v, -g) for v, g in zip(vs, grad, strict=True)], x0,
                            fp_type=hy.real, prec=bits, compact_mode=True,
                            tol=hy.real(f"1e-{dps}", bits))
    build = time.process_time() - c
    runs = []
    for _ in range(repeats):
        ta.time = hy.real(0, bits)
        ta.state[:] = x0
        c = time.process_time()
        ta.propagate_until(hy.real(5, bits))
        runs.append(time.process_time() - c)
    import gmpy2

    with gmpy2.context(precision=bits):
        hstate = [gmpy2.mpfr(str(v), bits) for v in ta.state]
    return {"native": min(native), "native_digits": agreement_digits(trajs[0].theta, ref),
            "native_steps": trajs[0].n_steps, "heyoka": min(runs),
            "backend": min(back),
            "backend_build": btrajs[back.index(min(back))].info["heyoka_build_cpu"],
            "backend_digits": agreement_digits(btrajs[0].theta, ref), "heyoka_build": build,
            "heyoka_digits": agreement_digits(hstate, ref), "heyoka_order": int(ta.order)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="8,32,128,512")
    ap.add_argument("--t-end", type=int, default=10)
    ap.add_argument("--dps", type=int, default=30)
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--problem-c", action="store_true",
                    help="only problem (c) at 60 digits against heyoka")
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.t_end, args.dps)))
        return
    if args.problem_c:
        r = problem_c()
        print("| problem (c), 60 digits | kltools native (s) | kltools --backend heyoka, "
              "all / of which build + JIT (s) | heyoka integrate (s) | heyoka build + JIT (s) | "
              "native / heyoka integrate | backend without build / heyoka integrate | "
              "digits native / backend / heyoka |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        print(f"| t = 5 | {r['native']:.3f} ({r['native_steps']} steps) | {r['backend']:.3f} / "
              f"{r['backend_build']:.3f} | {r['heyoka']:.3f} (order {r['heyoka_order']})"
              f" | {r['heyoka_build']:.2f} | {r['native'] / r['heyoka']:.2f}x | "
              f"{(r['backend'] - r['backend_build']) / r['heyoka']:.2f}x | "
              f"{r['native_digits']:.1f} / {r['backend_digits']:.1f} / "
              f"{r['heyoka_digits']:.1f} |")
        print(f"\nCPU seconds, best of 3; 1-min load average {os.getloadavg()[0]:.1f}.")
        return
    rows = []
    load = os.getloadavg()
    for p in (int(s) for s in args.sizes.split(",")):
        r = subprocess.run([sys.executable, __file__, "--one", str(p), "--t-end",
                            str(args.t_end), "--dps", str(args.dps)], capture_output=True,
                           text=True, check=True)
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(f"P = {p} done", file=sys.stderr)
    print(table(rows, load, os.getloadavg()))


def table(rows: list[dict[str, Any]], before: Any, after: Any) -> str:
    out = ["| P | derive (s, once) | kltools native (s) | kltools + heyoka backend (s) | "
           "heyoka build + JIT (s) | heyoka integrate (s) | heyoka total (s) | "
           "native / heyoka total | backend / heyoka total | digits native / backend / "
           "heyoka |",
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        hy = r["heyoka"]
        total = hy["build_cpu"] + hy["run_cpu"]
        out.append(
            f"| {r['P']} | {r['derive_cpu']:.2f} | {r['native']['cpu']:.2f} | "
            f"{r['backend']['cpu']:.2f} | {hy['build_cpu']:.2f} | {hy['run_cpu']:.2f} | "
            f"{total:.2f} | {r['native']['cpu'] / total:.1f}x | "
            f"{r['backend']['cpu'] / total:.2f}x | {r['native']['digits']:.1f} / "
            f"{r['backend']['digits']:.1f} / {hy['digits']:.1f} |")
    if len(rows) >= 2:
        for key in ("native", "backend"):
            xs = [math.log(r["P"]) for r in rows]
            ys = [math.log(r[key]["cpu"]) for r in rows]
            n = len(xs)
            mx, my = sum(xs) / n, sum(ys) / n
            slope = sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / \
                sum((a - mx) ** 2 for a in xs)
            out.append(f"\nLog-log slope of CPU time in P, {key}: **{slope:.2f}**")
    out.append(f"\nCPU seconds of the process (`time.process_time`); 1-min load average "
               f"{before[0]:.1f} before, {after[0]:.1f} after (2 cores, shared).")
    return "\n".join(out)


if __name__ == "__main__":
    main()
