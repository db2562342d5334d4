"""Plots people would rather look at than read (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_trajectory"]


def _floats(xs: list[Any]) -> list[float]:
    return [float(x) for x in xs]


def plot_trajectory(traj: Any, path: str | Path, title: str = "") -> Path:
    """Loss and ‖∇L‖ against time on a log scale, kink events marked on the time axis.

    The time axis is logarithmic when the run spans several decades (margin losses reach t = 1e8).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = _floats(traj.times)
    loss = _floats(traj.losses)
    grad = _floats(traj.grad_norms)
    fig, ax = plt.subplots(figsize=(7.5, 4.5), constrained_layout=True)
    positive = [v for v in loss if v > 0]
    if positive and len(positive) == len(loss):
        ax.semilogy(t, loss, label="L(θ(t))", color="C0")
    else:
        ax.plot(t, loss, label="L(θ(t))", color="C0")
    if any(g > 0 for g in grad):
        ax.semilogy(t, [max(g, 1e-300) for g in grad], label="‖∇L(θ(t))‖", color="C1")
    if t and t[-1] > 1e3 and t[1:] and min(x for x in t if x > 0) < 1:
        ax.set_xscale("symlog", linthresh=1.0)
    kinds = {"crossing": "C2", "sliding": "C3", "sliding-exit": "C4", "simultaneous": "C5"}
    seen = set()
    for e in traj.events:
        ax.axvline(float(e.t), color=kinds.get(e.kind, "k"), lw=0.8, ls="--",
                   label=f"event: {e.kind}" if e.kind not in seen else None)
        seen.add(e.kind)
    if getattr(traj, "blowup_time", None) is not None:
        ax.axvline(float(traj.blowup_time), color="red", lw=1.2,
                   label=f"blow-up t* ≈ {float(traj.blowup_time):.6g}")
    ax.set_xlabel("t")
    ax.set_ylabel("value (log scale)")
    ax.set_title(title or f"gradient flow ({traj.method}, {traj.dps} digits): "
                 f"{traj.outcome.value}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
