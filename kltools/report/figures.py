"""The figures of the proof report (matplotlib, Agg backend, PNG).

Each function takes plain float sequences (the proof computed them at high precision and
converts them only here) and writes one labelled figure: axes with quantities and units,
a legend naming every curve, log scales where rates are compared.

* :func:`plot_rate` — a gap (L − L*, ‖θ − θ*‖, ...) on a log scale against time, with the
  predicted rate drawn as a line through the first point;
* :func:`plot_power_law` — the same on log-log axes, with the fitted and predicted t^(−p) lines;
* :func:`plot_lojasiewicz` — log‖∇L‖ against log(L − L*) with the fitted exponent line;
* :func:`plot_angle` — the angle to the limit direction against log t, with the fitted c/log t;
* :func:`plot_events` — the loss of a piecewise flow with its kink events on a timeline;
* :func:`plot_margins` — normalised and smoothed margins against time (log time axis);
* :func:`plot_curves` — the general case the others are built on; :func:`plot_panels` stacks
  several such axes sharing the x axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Curve", "Panel", "plot_angle", "plot_curves", "plot_events", "plot_lojasiewicz",
           "plot_margins", "plot_panels", "plot_power_law", "plot_rate"]

_FIGSIZE = (7.2, 4.4)


@dataclass
class Curve:
    """One curve: points, legend label and style (``line``, ``dots`` or ``dashed``)."""

    x: Sequence[float]
    y: Sequence[float]
    label: str
    style: str = "line"
    color: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Panel:
    """One pair of axes of :func:`plot_panels`."""

    curves: Sequence[Curve]
    ylabel: str
    ylog: bool = False
    legend: str = "best"
    hlines: Sequence[tuple[float, str]] = ()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _draw(ax: Any, c: Curve) -> None:
    widths = {"dots": {}, "dashed": {"lw": 1.4}, "dotted": {"lw": 1.6}, "line": {"lw": 1.6}}
    fmt = {"dots": "o", "dashed": "--", "dotted": ":", "line": "-"}.get(c.style, "-")
    kw: dict[str, Any] = {"label": c.label, **widths.get(c.style, {}), **c.kwargs}
    if c.style == "dots":
        kw.setdefault("ms", 3.5)
    if c.color:
        kw["color"] = c.color
    ax.plot(c.x, c.y, fmt, **kw)


def _wrap(title: str) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(title, 86))


def _finish(fig: Any, ax: Any, path: str | Path, title: str, legend: str = "best") -> Path:
    plt = _pyplot()
    ax.set_title(_wrap(title), fontsize=10)
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    ax.legend(loc=legend, fontsize=8, framealpha=0.9)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_curves(path: str | Path, curves: Sequence[Curve], *, xlabel: str, ylabel: str,
                title: str, xlog: bool = False, ylog: bool = False,
                vlines: Sequence[tuple[float, str]] = (), legend: str = "best") -> Path:
    """Any number of curves on one pair of axes; ``vlines`` are (x, label) markers."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=_FIGSIZE, constrained_layout=True)
    for c in curves:
        _draw(ax, c)
    for i, (x, label) in enumerate(vlines):
        ax.axvline(x, color=f"C{(i + 5) % 10}", lw=1.0, ls="-.", label=label)
    if xlog:
        ax.set_xscale("log")
    if ylog:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _finish(fig, ax, path, title, legend)


def plot_panels(path: str | Path, panels: Sequence[Panel], *, xlabel: str, title: str,
                xlog: bool = False) -> Path:
    """Panels stacked vertically, sharing the x axis (e.g. a solution above its error)."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.2, 2.6 + 2.3 * len(panels)),
                             sharex=True, constrained_layout=True)
    axes = list(axes) if len(panels) > 1 else [axes]
    for ax, panel in zip(axes, panels, strict=True):
        for c in panel.curves:
            _draw(ax, c)
        for i, (y, label) in enumerate(panel.hlines):
            ax.axhline(y, color=f"C{(i + 5) % 10}", lw=1.0, ls="-.", label=label)
        if panel.ylog:
            ax.set_yscale("log")
        if xlog:
            ax.set_xscale("log")
        ax.set_ylabel(panel.ylabel)
        ax.grid(True, which="major", alpha=0.35)
        ax.grid(True, which="minor", alpha=0.12)
        ax.legend(loc=panel.legend, fontsize=8, framealpha=0.9)
    axes[0].set_title(_wrap(title), fontsize=10)
    axes[-1].set_xlabel(xlabel)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_rate(path: str | Path, t: Sequence[float], gap: Sequence[float], *,
              rate: float | None, rate_label: str, ylabel: str = "L(θ(t)) − L*",
              title: str, fitted: float | None = None,
              extra: Sequence[Curve] = ()) -> Path:
    """``gap`` against t on a log scale, with the predicted decay gap(t₀)·e^{−rate (t − t₀)}
    (and the fitted one) as lines: a measured curve at or below the predicted line is a rate at
    least the predicted one."""
    import math

    curves = [Curve(t, gap, "computed flow (high precision)", "dots", "C0")]
    t0, g0 = t[0], gap[0]
    if rate is not None:
        curves.append(Curve(t, [g0 * math.exp(-rate * (s - t0)) for s in t], rate_label,
                            "dashed", "C3"))
    if fitted is not None:
        curves.append(Curve(t, [g0 * math.exp(-fitted * (s - t0)) for s in t],
                            f"fitted rate {fitted:.6g}", "dotted", "C2"))
    curves.extend(extra)
    return plot_curves(path, curves, xlabel="t (flow time)", ylabel=f"{ylabel} (log scale)",
                       title=title, ylog=True)


def plot_power_law(path: str | Path, t: Sequence[float], gap: Sequence[float], *,
                   predicted: float, fitted: float, title: str,
                   ylabel: str = "L(θ(t)) − L*") -> Path:
    """``gap`` against t on log-log axes with the lines c·t^(−predicted) and c·t^(−fitted)
    through the last point."""
    tl, gl = t[-1], gap[-1]
    curves = [Curve(t, gap, "computed flow (high precision)", "dots", "C0"),
              Curve(t, [gl * (s / tl) ** (-predicted) for s in t],
                    f"predicted t^(−{predicted:g}) from the exponent", "dashed", "C3"),
              Curve(t, [gl * (s / tl) ** (-fitted) for s in t],
                    f"fitted t^(−{fitted:.6g})", "dotted", "C2")]
    return plot_curves(path, curves, xlabel="t (flow time, log scale)",
                       ylabel=f"{ylabel} (log scale)", title=title, xlog=True, ylog=True)


def plot_lojasiewicz(path: str | Path, log_gap: Sequence[float], log_grad: Sequence[float], *,
                     alpha: float, intercept: float, title: str,
                     reference: tuple[float, str] | None = None) -> Path:
    """The log-log Łojasiewicz plot: log10‖∇L‖ against log10(L − L*) along the flow, with the
    fitted line log10‖∇L‖ = α·log10(L − L*) + c (slope α: the exponent seen by the flow) and an
    optional reference slope (e.g. the proved exponent)."""
    lo, hi = min(log_gap), max(log_gap)
    curves = [Curve(log_gap, log_grad, "samples along the flow", "dots", "C0"),
              Curve([lo, hi], [alpha * lo + intercept, alpha * hi + intercept],
                    f"fit: slope α = {alpha:.4f}", "dashed", "C3")]
    if reference is not None:
        a, label = reference
        x1 = log_gap[-1]
        y1 = log_grad[-1]
        curves.append(Curve([lo, hi], [y1 + a * (lo - x1), y1 + a * (hi - x1)], label,
                            "dotted", "C2"))
    return plot_curves(path, curves, xlabel="log10(L(θ(t)) − L*)",
                       ylabel="log10 ‖∇L(θ(t))‖", title=title, legend="upper left")


def plot_angle(path: str | Path, log_t: Sequence[float], angle: Sequence[float], *,
               c: float, b: float, title: str,
               predicted: tuple[float, float] | None = None) -> Path:
    """Angle (radians) between θ(t) and the limit direction against log t (log scale on the
    angle), with the fit angle ≈ c/(log t + b) and, when known, the predicted constants."""
    curves = [Curve(log_t, angle, "angle to the limit direction", "dots", "C0"),
              Curve(log_t, [c / (s + b) for s in log_t],
                    f"fit c/(log t + b): c = {c:.6g}, b = {b:.4g}", "dashed", "C3")]
    if predicted is not None:
        pc, pb = predicted
        curves.append(Curve(log_t, [pc / (s + pb) for s in log_t],
                            f"predicted c = {pc:.6g}, b = {pb:.4g} (exact SVM + KKT)", "dotted",
                            "C2"))
    return plot_curves(path, curves, xlabel="log t (natural log of flow time)",
                       ylabel="angle to limit direction (rad, log scale)", title=title,
                       ylog=True)


def plot_events(path: str | Path, t: Sequence[float], loss: Sequence[float],
                events: Sequence[tuple[float, str, str]], *, title: str) -> Path:
    """Loss of a piecewise flow (log scale, top) above its event timeline (bottom): one row per
    kink surface that the flow meets, a marker per event coloured by kind, and a bar over each
    time interval the flow slides on a surface. ``events`` are (t, kind, surface label)."""
    plt = _pyplot()
    fig, (ax, ev) = plt.subplots(2, 1, figsize=(8.6, 5.6), sharex=True,
                                 gridspec_kw={"height_ratios": [2.2, 1.3]},
                                 constrained_layout=True)
    ax.semilogy(t, loss, "-", color="C0", lw=1.6, label="L(θ(t))")
    for e_t, _, _ in events:
        ax.axvline(e_t, color="0.6", lw=0.7, ls=":")
    ax.set_ylabel("loss (log scale)")
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title(_wrap(title), fontsize=10)
    rows = sorted({label for _, _, label in events})
    y_of = {label: i for i, label in enumerate(rows)}
    colours = {"crossing": "C2", "sliding": "C3", "sliding-exit": "C4", "simultaneous": "C1"}
    # Sliding modes as bars from entry to exit (or to the end of the run).
    entered: dict[str, float] = {}
    spans = []
    for e_t, kind, label in events:
        if kind == "sliding":
            entered[label] = e_t
        elif kind == "sliding-exit" and label in entered:
            spans.append((label, entered.pop(label), e_t))
    spans += [(label, t0, t[-1]) for label, t0 in entered.items()]
    for i, (label, t0, t1) in enumerate(spans):
        ev.hlines(y_of[label], t0, t1, colors="C3", lw=7, alpha=0.25,
                  label="on the surface (Filippov sliding)" if i == 0 else None)
    shown: set[str] = set()
    for e_t, kind, label in events:
        ev.plot([e_t], [y_of[label]], "o" if kind == "crossing" else "s", ms=6,
                color=colours.get(kind, "k"), label=kind if kind not in shown else None)
        shown.add(kind)
    ev.set_yticks(range(len(rows)))
    ev.set_yticklabels(rows, fontsize=7)
    ev.set_ylim(-0.7, len(rows) - 0.3)
    ev.set_xlabel("t (flow time)")
    ev.set_ylabel("kink surface")
    ev.grid(True, axis="x", alpha=0.35)
    if shown:
        ev.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="event",
                  title_fontsize=8)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_margins(path: str | Path, t: Sequence[float], margin: Sequence[float],
                 smoothed: Sequence[float], *, title: str,
                 limit: tuple[float, str] | None = None) -> Path:
    """Normalised margin min_i y_i f(θ; x_i)/‖θ‖^k and smoothed margin −log L/‖θ‖^k against t
    (log time axis), with the limit margin as a horizontal line when known."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=_FIGSIZE, constrained_layout=True)
    ax.plot(t, margin, "-", color="C0", lw=1.6, label="normalised margin min yᵢf(θ;xᵢ)/‖θ‖ᵏ")
    ax.plot(t, smoothed, "--", color="C1", lw=1.6, label="smoothed margin −log L(θ)/‖θ‖ᵏ")
    if limit is not None:
        ax.axhline(limit[0], color="C3", lw=1.0, ls=":", label=limit[1])
    ax.set_xscale("log")
    ax.set_xlabel("t (flow time, log scale)")
    ax.set_ylabel("margin")
    return _finish(fig, ax, path, title, "lower right")
