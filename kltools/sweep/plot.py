"""The picture of a sweep: verdicts or outcomes with 95 % intervals, histograms of rates and
exponents (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kltools.sweep.stats import clopper_pearson

__all__ = ["plot_summary"]


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
        colours = {"ok": "C2", "blowup": "C3", "sliding": "C1", "max_steps": "C7", "error": "C4",
                   "time_limit": "C7", "stalled": "C5", "stiff": "C5", "max_events": "C7"}
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
