"""The inequality along data: fitting it on a trajectory's tail, and refuting a claimed exponent.

Tail fit. Along a trajectory converging to a critical point with value L*, the samples
(|L − L*|, ‖∇L‖) lie, for large t, near a power law ‖∇L‖ ≈ c|L − L*|^a, where a ≤ θ (the
trajectory's own exponent; θ is the worst over all directions). :func:`fit_tail` fits a by least
squares on log ‖∇L‖ against log |L − L*| over the tail, reports the local slopes between
consecutive decades of |L − L*| (their range is the honest uncertainty), and the smallest constant
C with |L − L*|^a ≤ C‖∇L‖ on every tail sample. The points are returned for a log-log plot
(drawn by :mod:`kltools.report`).

Refutation. A claim "the inequality holds at p with exponent α" is refuted by a sequence of points
x_k → p along which |f(x_k) − f(p)|^α / ‖∇f(x_k)‖ → ∞. :func:`refute_exponent` takes the points
of smallest gradient on the level sets {f − f(p) = ±ε_k} (the worst arcs), rounds them to exact
rationals, and evaluates the ratio there exactly (polynomials: exact rational g and ‖∇g‖², the
power taken at 50 digits). The claim is refuted when, over the second half of the sequence, the
ratio increases at every step with a consistently negative local rate in powers of ε (the rate is
α − θ̂) and by a factor of at least ``growth``: the ratio follows a power law that diverges. This
is numerical evidence along a finite sequence (with exactly evaluated ratios), not a proof; a
proof is an exact exponent θ > α from :func:`~kltools.analysis.exponent.lojasiewicz_exponent`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from kltools.analysis.constants import ratio_at
from kltools.analysis.estimate import level_minima
from kltools.analysis.germ import FunctionInput, make_germ

__all__ = ["Refutation", "TailFit", "fit_tail", "refute_exponent"]


@dataclass(frozen=True)
class TailFit:
    """The inequality fitted on a trajectory's tail (module docstring)."""

    alpha: float
    constant: float
    local_slopes: tuple[float, ...]
    slope_range: tuple[float, float]
    n: int
    log_log: tuple[tuple[float, float], ...]

    def to_json(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "constant": self.constant,
                "local_slopes": list(self.local_slopes), "slope_range": list(self.slope_range),
                "n": self.n}


def fit_tail(gaps: Sequence[float], grad_norms: Sequence[float], *, tail: float = 0.5
             ) -> TailFit:
    """Fit ‖∇L‖ ≈ c|L − L*|^a on the last ``tail`` fraction of the samples.

    ``gaps`` are |L(θ(t)) − L*| and ``grad_norms`` ‖∇L(θ(t))‖, in time order; samples with a zero
    gap or gradient (converged to rounding) are dropped.

    >>> t = np.linspace(1, 200, 400)
    >>> x = 1 / np.sqrt(2 * t)                      # the flow of x**4/4 ... from x = 1
    >>> fit = fit_tail(x**4 / 4, x**3)
    >>> round(fit.alpha, 6), round(fit.constant, 6)
    (0.75, 0.353553)
    """
    g = np.asarray(gaps, dtype=float)
    d = np.asarray(grad_norms, dtype=float)
    if g.shape != d.shape or g.ndim != 1:
        raise ValueError("gaps and grad_norms must be 1-d sequences of the same length")
    keep = (g > 0) & (d > 0) & np.isfinite(g) & np.isfinite(d)
    g, d = g[keep], d[keep]
    start = int(len(g) * (1 - tail))
    g, d = g[start:], d[start:]
    if len(g) < 3:
        raise ValueError("need at least 3 positive samples in the tail to fit the inequality")
    lx, ly = np.log(g), np.log(d)
    a, _ = np.polyfit(lx, ly, 1)
    C = float(np.max(g ** a / d))
    # Local slopes between samples about one decade of |L − L*| apart.
    slopes = []
    i = 0
    while i < len(lx) - 1:
        j = i + 1
        while j < len(lx) - 1 and abs(lx[j] - lx[i]) < math.log(10):
            j += 1
        if lx[j] != lx[i]:
            slopes.append(float((ly[j] - ly[i]) / (lx[j] - lx[i])))
        i = j
    rng = (min(slopes), max(slopes)) if slopes else (float(a), float(a))
    return TailFit(float(a), C, tuple(slopes), rng, len(g),
                   tuple(zip(map(float, lx), map(float, ly), strict=True)))


@dataclass(frozen=True)
class Refutation:
    """The evidence for or against "|f − f(p)|^α ≤ C‖∇f‖ near p" (module docstring)."""

    alpha: sp.Rational
    refuted: bool
    points: tuple[tuple[str, ...], ...]
    distances: tuple[float, ...]
    ratios: tuple[float, ...]
    rate: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"alpha": str(self.alpha), "refuted": self.refuted,
                "points": [list(p) for p in self.points], "distances": list(self.distances),
                "ratios": list(self.ratios), "rate": self.rate, "reason": self.reason}


def refute_exponent(f: FunctionInput, alpha: object, at: Sequence[object] | str | None = None,
                    *, variables: Sequence[str | sp.Symbol] | str | None = None,
                    growth: float = 3.0, radius: float = 0.5, seed: int = 0,
                    levels: int = 19) -> Refutation:
    """Look for a witness sequence refuting the exponent ``alpha`` at the critical point ``at``.

    >>> r = refute_exponent("x**4", "1/2", variables="x")
    >>> r.refuted, r.ratios[-1] > 1e4 * r.ratios[0]
    (True, True)
    >>> refute_exponent("x**4", "3/4", variables="x").refuted
    False
    """
    germ = make_germ(f, at, variables=variables)
    a = sp.Rational(str(alpha)) if not isinstance(alpha, sp.Rational) else alpha
    pts = level_minima(germ, radius=radius, levels=levels, seed=seed, samples=6000)
    # One point per level: the one with the largest ratio (smallest gradient for its level).
    per_level: dict[float, Any] = {}
    for p in pts:
        r = p.level ** float(a) / max(p.grad_norm, 1e-300)
        if p.level not in per_level or r > per_level[p.level][0]:
            per_level[p.level] = (r, p)
    seq = [per_level[k][1] for k in sorted(per_level, reverse=True)]
    exact_pts, dists, ratios = [], [], []
    for p in seq:
        h = [Fraction(t) for t in (p.digits or p.point)]
        exact_pts.append(tuple(str(sp.Rational(q.numerator, q.denominator) + c)
                               for q, c in zip(h, germ.point, strict=True)))
        dists.append(float(math.sqrt(sum(float(q) ** 2 for q in h))))
        ratios.append(ratio_at(germ, a, h))
    if len(ratios) < 3:
        return Refutation(a, False, tuple(exact_pts), tuple(dists), tuple(ratios), math.nan,
                          "too few level sets reached near the point")
    eps = [p.level for p in seq]
    rate = float(np.polyfit(np.log(eps[-4:]), np.log(ratios[-4:]), 1)[0])
    half = len(ratios) // 2
    tail, tail_eps = ratios[half:], eps[half:]
    local = [math.log(b / a_) / math.log(eb / ea) for a_, b, ea, eb in
             zip(tail, tail[1:], tail_eps, tail_eps[1:], strict=False)]
    # Refuted: the ratio increases at every step of the tail, at a consistently negative rate in
    # powers of ε (a power law ε^rate → ∞), by at least the factor ``growth`` overall.
    refuted = (all(r < -1e-3 for r in local) and rate < 0
               and ratios[-1] >= growth * ratios[half])
    reason = (f"|f − f(p)|^{a}/|∇f| grows from {ratios[0]:.3g} to {ratios[-1]:.3g} along points "
              f"approaching p (distance {dists[0]:.2g} → {dists[-1]:.2g}), like ε^({rate:.3f})"
              if refuted else
              f"no unbounded growth found: ratios stay within [{min(ratios):.3g}, "
              f"{max(ratios):.3g}] along the worst level-set points (rate {rate:.3f})")
    return Refutation(a, refuted, tuple(exact_pts), tuple(dists), tuple(ratios), rate, reason)
