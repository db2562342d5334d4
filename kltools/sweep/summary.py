"""The summary of a sweep's results: counts and fractions with their 95 % intervals, quantiles
of the rates, exponents and digits, the simultaneous-crossing bound, and its text form."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from kltools.sweep.stats import clopper_pearson, quantiles, upper_bound

__all__ = ["summarize", "summary_text"]


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
    b = s.get("budget")
    if b:
        wall = "no wall-clock limit" if b.get("wall_time") is None else \
            f"{b['wall_time']:g} s wall clock per run"
        steps = "no step limit" if b.get("max_steps") is None else \
            f"{b['max_steps']} steps per integration"
        lines.append(f"budget      {wall}, {steps} (--wall-time, --max-steps)")
    return "\n".join(lines)
