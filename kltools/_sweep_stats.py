"""What a sweep's results say: fractions with exact binomial intervals, quantiles, a plot.

Fractions (``holds``, each outcome) carry the two-sided 95 % Clopper–Pearson interval: the p with
P(X ≥ k; N, p) = 2.5 % and the p with P(X ≤ k; N, p) = 2.5 %, X ~ Bin(N, p), found by bisection
on the exact binomial CDF (conservative: coverage ≥ 95 % for every p). The rate of runs with a
simultaneous kink crossing (the codimension-2 event that should have probability 0) gets the
one-sided 95 % upper bound, the p with P(X ≤ k; N, p) = 5 %; for k = 0 that is 1 − 0.05^{1/N}
< 3/N, the rule of three.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["binomial_cdf", "clopper_pearson", "quantiles", "summarize", "summary_text",
           "upper_bound"]

_Q = (("min", 0.0), ("q05", 0.05), ("q25", 0.25), ("median", 0.5), ("q75", 0.75),
      ("q95", 0.95), ("max", 1.0))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Bin(n, p), summed in log space (no overflow for large n).

    >>> round(binomial_cdf(1, 2, 0.5), 12)
    0.75
    """
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)
    lg = math.lgamma(n + 1)
    return min(1.0, math.fsum(math.exp(lg - math.lgamma(j + 1) - math.lgamma(n - j + 1)
                                       + j * lp + (n - j) * lq) for j in range(k + 1)))


def _solve(f: Any, target: float) -> float:
    """The p in [0, 1] with f(p) = target for a decreasing f, by bisection to double precision."""
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided exact interval for a binomial proportion, k successes in n trials.

    >>> lo, hi = clopper_pearson(0, 10)
    >>> lo, round(hi, 6), round(1 - 0.025 ** (1 / 10), 6)
    (0.0, 0.308497, 0.308497)
    """
    a = (1 - confidence) / 2
    # P(X >= k; n, p) = P(Y <= n - k; n, 1 - p): the lower end through the upper-tail CDF.
    lo = 0.0 if k == 0 else 1 - _solve(lambda q: binomial_cdf(n - k, n, q), a)
    hi = 1.0 if k == n else _solve(lambda p: binomial_cdf(k, n, p), a)
    return lo, hi


def upper_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact upper bound on p after k events in n trials.

    >>> round(upper_bound(0, 100), 6), round(1 - 0.05 ** (1 / 100), 6)
    (0.029513, 0.029513)
    """
    if k >= n:
        return 1.0
    return _solve(lambda p: binomial_cdf(k, n, p), 1 - confidence)


def quantiles(values: Sequence[float]) -> dict[str, float] | None:
    """Min, 5/25/50/75/95 % quantiles (linear interpolation), max, mean and count."""
    import numpy as np

    xs = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if xs.size == 0:
        return None
    out = {name: float(np.quantile(xs, q)) for name, q in _Q}
    out["mean"] = float(xs.mean())
    out["n"] = int(xs.size)
    return out


def _fraction(k: int, n: int) -> dict[str, Any]:
    lo, hi = clopper_pearson(k, n)
    return {"count": k, "fraction": k / n, "ci95": [lo, hi]}


def summarize(header: dict[str, Any], lines: Sequence[dict[str, Any]], n: int
              ) -> dict[str, Any]:
    """The summary of the results with index < ``n`` (JSON-ready).

    Parameters
    ----------
    header
        The results file's header.
    lines
        Result lines or their slim records (any order); only indices < ``n`` count.
    n
        The number of initialisations asked for.
    """
    rows = sorted((r for r in lines if r["index"] < n), key=lambda r: r["index"])
    done = len(rows)
    out: dict[str, Any] = {
        "name": header.get("name"), "spec_sha256": header.get("spec_sha256"),
        "mode": header.get("mode"), "property": header.get("property"),
        "options": header.get("options"), "n": n, "done": done, "missing": n - done,
    }
    if not done:
        return out
    outcomes = Counter(r.get("outcome") or "none" for r in rows)
    out["outcomes"] = {k: _fraction(v, done) for k, v in sorted(outcomes.items())}
    if header.get("mode") == "property":
        verdicts = Counter(r.get("verdict") for r in rows)
        out["verdicts"] = {s: verdicts.get(s, 0) for s in ("holds", "refuted", "inconclusive")}
        out["holds"] = _fraction(verdicts.get("holds", 0), done)
        out["refuted_examples"] = [
            {"index": r["index"], "init": r.get("init"), "detail": r.get("detail")}
            for r in rows if r.get("verdict") == "refuted"][:5]
    figs = [r.get("figures") or {} for r in rows]
    out["rate"] = quantiles([f.get("rate") for f in figs])
    out["exponent"] = quantiles([f.get("exponent") for f in figs])
    out["digits"] = quantiles([f.get("digits") for f in figs])
    out["errors"] = [{"index": r["index"], "error": r["error"]} for r in rows
                     if r.get("error")][:5]
    out["n_errors"] = sum(1 for r in rows if r.get("error"))
    if header.get("kink_surfaces"):
        with_sim = sum(1 for f in figs if (f.get("events") or {}).get("simultaneous", 0) > 0)
        total = sum((f.get("events") or {}).get("simultaneous", 0) for f in figs)
        runs_with_events = sum(1 for f in figs if f.get("events"))
        sim: dict[str, Any] = {"runs": runs_with_events, "runs_with_simultaneous": with_sim,
                               "simultaneous_events": total,
                               "crossings": sum((f.get("events") or {}).get("crossing", 0)
                                                for f in figs),
                               "upper95": upper_bound(with_sim, runs_with_events)
                               if runs_with_events else None}
        if with_sim == 0 and runs_with_events:
            sim["rule_of_three"] = 3 / runs_with_events
        out["simultaneous"] = sim
    walls = [f.get("wall_time") for f in figs if f.get("wall_time") is not None]
    cpus = [f.get("cpu_time") for f in figs if f.get("cpu_time") is not None]
    out["run_seconds"] = {"total": round(math.fsum(walls), 3),
                          "median": quantiles(walls)["median"] if walls else None,
                          "cpu_total": round(math.fsum(cpus), 3)}
    return out


def _fmt_q(q: dict[str, float] | None) -> str:
    if q is None:
        return "none"
    return (f"median {q['median']:.6g}  [q05 {q['q05']:.6g}, q95 {q['q95']:.6g}]  "
            f"min {q['min']:.6g}  max {q['max']:.6g}  (n = {q['n']})")


def _fmt_f(f: dict[str, Any], n: int) -> str:
    lo, hi = f["ci95"]
    return f"{f['count']}/{n} = {f['fraction']:.4g}  (95% CI {lo:.4g} .. {hi:.4g})"


def summary_text(s: dict[str, Any]) -> str:
    """The summary as lines a person reads."""
    what = f"property {s['property']}" if s["mode"] == "property" else "integrate"
    lines = [f"sweep {s.get('name') or ''}: {what}, {s['done']} of {s['n']} initialisations "
             f"done" + (f" ({s['missing']} missing)" if s["missing"] else "")]
    if not s["done"]:
        return "\n".join(lines)
    n = s["done"]
    if "holds" in s:
        lines.append(f"holds       {_fmt_f(s['holds'], n)}")
        lines.append("verdicts    " + ", ".join(f"{v} {k}" for k, v in s["verdicts"].items()))
    lines.append("outcomes    " + "; ".join(f"{k} {_fmt_f(v, n)}"
                                             for k, v in s["outcomes"].items()))
    lines.append(f"rate        {_fmt_q(s['rate'])}")
    if s.get("exponent"):
        lines.append(f"exponent    {_fmt_q(s['exponent'])}")
    lines.append(f"digits      {_fmt_q(s['digits'])}")
    sim = s.get("simultaneous")
    if sim and sim["runs"]:
        bound = (f"P(simultaneous) < {sim['upper95']:.3g} at 95%" +
                 (f" (rule of three: 3/N = {sim['rule_of_three']:.3g})"
                  if "rule_of_three" in sim else ""))
        lines.append(f"codim 2     {sim['runs_with_simultaneous']} of {sim['runs']} runs with a "
                     f"simultaneous kink crossing ({sim['crossings']} single crossings); "
                     f"{bound}")
    for r in s.get("refuted_examples", []):
        lines.append(f"refuted     #{r['index']}: {r['detail'] or ''}  init {r['init']}")
    if s.get("n_errors"):
        lines.append(f"errors      {s['n_errors']} runs, e.g. #{s['errors'][0]['index']}: "
                     f"{s['errors'][0]['error']}")
    rs = s["run_seconds"]
    lines.append(f"run time    {rs['total']:.1f} s in all ({rs['cpu_total']:.1f} s CPU), median "
                 f"{rs['median']:.3g} s per run")
    return "\n".join(lines)


def plot_summary(s: dict[str, Any], lines: Sequence[dict[str, Any]], path: str | Path
                 ) -> Path:
    """A PNG: counts per verdict (or outcome) with 95 % intervals, histograms of the rates and
    of the exponents (or of the correct digits when no exponent was estimated)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = [r for r in lines if r["index"] < s["n"]]
    figs = [r.get("figures") or {} for r in rows]
    n = max(1, s["done"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), constrained_layout=True)
    if s["mode"] == "property":
        cats = {k: {"count": v, **{"ci95": list(clopper_pearson(v, n))}}
                for k, v in (s.get("verdicts") or {}).items()}
        colours = {"holds": "C2", "refuted": "C3", "inconclusive": "C7"}
        title = "verdicts"
    else:
        cats = s.get("outcomes") or {}
        colours = {"ok": "C2", "blowup": "C3", "sliding": "C1", "max_steps": "C7", "error": "C4"}
        title = "outcomes"
    ax = axes[0]
    names = list(cats)
    fr = [cats[k]["count"] / n for k in names]
    err = [[f - cats[k]["ci95"][0] for k, f in zip(names, fr, strict=True)],
           [cats[k]["ci95"][1] - f for k, f in zip(names, fr, strict=True)]]
    ax.bar([f"{k}\n{cats[k]['count']}" for k in names], fr, yerr=err, capsize=6,
           color=[colours.get(k, "C0") for k in names])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"fraction of {s['done']} runs (95% Clopper–Pearson)")
    ax.set_title(title)
    if s.get("exponent"):
        third = ("exponent", "estimated Łojasiewicz exponent (tail fit)")
    elif any(f.get("blowup_time") for f in figs):
        third = ("blowup_time", "blow-up time t* (blown-up runs)")
    else:
        third = ("digits", "correct digits of θ(T)")
    for ax, (key, label) in ((axes[1], ("rate", "rate λ: ‖θ'(t)‖ ~ e^(−λt) on [T/2, T]")),
                             (axes[2], third)):
        vals = [float(f[key]) for f in figs if f.get(key) is not None]
        if vals:
            ax.hist(vals, bins=min(40, max(5, len(vals) // 4)), color="C0", edgecolor="white")
            ax.set_ylabel("runs")
            ax.xaxis.set_major_locator(MaxNLocator(5))
        else:
            ax.text(0.5, 0.5, f"no {key} values", ha="center", va="center",
                    transform=ax.transAxes)
        ax.set_xlabel(label)
        ax.set_title(f"{len(vals)} of {s['done']} runs")
    what = f"property {s['property']}" if s["mode"] == "property" else "integrate"
    opts = s.get("options") or {}
    fig.suptitle(f"sweep {s.get('name') or ''}: {what}, N = {s['done']}, t_end = "
                 f"{opts.get('t_end')}, {opts.get('dps')} digits, seed {opts.get('seed')}")
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
