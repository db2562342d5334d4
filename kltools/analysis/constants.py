"""The constant of the Łojasiewicz inequality for a given exponent, on a ball of stated radius.

For an exponent α and a radius r, the best constant is

    C*(α, r) = sup { |f(x) − f(p)|^α / ‖∇f(x)‖ : 0 < ‖x − p‖ ≤ r, f(x) ≠ f(p) },

finite iff the inequality |f − f(p)|^α ≤ C‖∇f‖ holds on the ball (for α ≥ θ and r small enough
that no other critical point with a different value lies in the ball).

Estimate. The supremum is searched by sampling the ball (log-uniform per coordinate, random
directions, uniform), local maximisation of α·log|g| − log‖∇g‖ (SLSQP in logarithmic coordinates,
ball constraint), and the points of smallest gradient on the level sets {g = ±ε} near p (where the
ratio concentrates as ε → 0). The reported constant is the largest ratio *attained* at a point
(evaluated in exact rational arithmetic for polynomials, so it is a proved lower bound on C*);
that it is the supremum is an estimate, not a proof. When α is below the numerical exponent
interval the ratio grows without bound along the level-set minimisers, and C* = ∞ is reported
with that evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp
from scipy.optimize import minimize

from kltools.analysis.estimate import _cloud, _FloatPoly, _LogChart, _MpEval, level_minima
from kltools.analysis.germ import FunctionInput, Germ, make_germ
from kltools.numbers import mp_context

__all__ = ["ConstantEstimate", "best_constant", "ratio_at"]


@dataclass(frozen=True)
class ConstantEstimate:
    """Estimated best constant C*(α, r); see the module docstring for what is proved."""

    alpha: sp.Rational
    radius: float
    constant: float
    finite: bool
    point: tuple[float, ...]
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"alpha": str(self.alpha), "radius": self.radius,
                "constant": self.constant if self.finite else None, "finite": self.finite,
                "point": list(self.point), "reason": self.reason}


def ratio_at(germ: Germ, alpha: sp.Rational, h: Sequence[float | Fraction], dps: int = 50
             ) -> float:
    """|g(h)|^α / ‖∇g(h)‖ at the displacement h (exact rationals for polynomial germs)."""
    if germ.poly is not None:
        env = {v: sp.Rational(Fraction(t).numerator, Fraction(t).denominator)
               for v, t in zip(germ.variables, h, strict=True)}
        g = abs(germ.expr.xreplace(env))
        gn2 = sum(d.xreplace(env) ** 2 for d in germ.gradient)
        if gn2 == 0:
            return math.inf if g != 0 else 0.0
        if g == 0:
            return 0.0
        # g and ‖∇g‖² are exact rationals; the power is taken at ``dps`` digits.
        mp = mp_context(dps)
        gm = mp.mpf(int(g.p)) / int(g.q)
        nm = mp.mpf(int(gn2.p)) / int(gn2.q)
        return float(gm ** (mp.mpf(int(alpha.p)) / int(alpha.q)) / mp.sqrt(nm))
    ev = _MpEval(germ, dps)
    g, gr, _ = ev.all(ev.to_mp(np.array([float(t) for t in h])))
    gn = ev.mp.sqrt(sum(t * t for t in gr))
    if gn == 0:
        return math.inf if g != 0 else 0.0
    return float(abs(g) ** (ev.mp.mpf(alpha.p) / alpha.q) / gn)


def _maximise(ev: _FloatPoly | _MpEval, alpha: float, radius: float, h0: np.ndarray
              ) -> np.ndarray | None:
    chart = _LogChart.of(h0)
    if chart is None:
        return None
    mask, H = chart.mask, chart.point

    def obj(z: np.ndarray) -> tuple[float, np.ndarray]:
        h = H(z)
        g, gr, hs = ev.point(h)
        nn = float(gr @ gr) + 1e-300
        val = -(alpha * math.log(abs(g) + 1e-300) - 0.5 * math.log(nn))
        jac = -(alpha * gr * h / (g if g != 0 else 1e-300) - (hs @ gr) * h / nn)
        return val, jac[mask]

    def ball(z: np.ndarray) -> float:
        h = H(z)
        return 2 * math.log(radius) - math.log(float(h @ h) + 1e-300)

    try:
        with np.errstate(all="ignore"):
            res = minimize(obj, chart.start(h0), jac=True, method="SLSQP",
                           constraints=[{"type": "ineq", "fun": ball}],
                           options={"maxiter": 100, "ftol": 1e-12})
    except (ValueError, OverflowError, FloatingPointError):
        return None
    h = H(res.x)
    return h if np.all(np.isfinite(h)) and float(np.linalg.norm(h)) <= radius * (1 + 1e-9) \
        else None


def best_constant(f: FunctionInput, alpha: object, at: Sequence[object] | str | None = None, *,
                  variables: Sequence[str | sp.Symbol] | str | None = None,
                  radius: float = 0.5, samples: int = 6000, seed: int = 0) -> ConstantEstimate:
    """Estimate the best constant C*(α, r) on the ball of radius ``radius`` around ``at``.

    >>> c = best_constant("x**4", "3/4", variables="x")
    >>> round(c.constant, 12), c.finite
    (0.25, True)
    >>> best_constant("x**4", "1/2", variables="x").finite
    False
    """
    germ = make_germ(f, at, variables=variables)
    a = sp.Rational(str(alpha)) if not isinstance(alpha, sp.Rational) else alpha
    if not 0 < a < 1:
        raise ValueError("the exponent must lie in (0, 1)")
    rng = np.random.default_rng(seed)
    ev: _FloatPoly | _MpEval = _FloatPoly(germ) if germ.poly is not None else _MpEval(germ, 40)
    levels = level_minima(germ, radius=radius, levels=12, seed=seed,
                          samples=min(samples, 6000))
    # Growth along the level-set minimisers: slope of log ratio against log ε is α − θ.
    by_level: dict[float, float] = {}
    for p in levels:
        if p.grad_norm > 0:
            r = p.level ** float(a) / p.grad_norm
            by_level[p.level] = max(by_level.get(p.level, 0.0), r)
    lv = sorted(by_level, reverse=True)
    if len(lv) >= 4:
        x = np.log([lv[-4], lv[-1]])
        y = np.log([by_level[lv[-4]], by_level[lv[-1]]])
        slope = float((y[1] - y[0]) / (x[1] - x[0]))
        if slope < -1e-2 and by_level[lv[-1]] > 10 * by_level[lv[0]]:
            worst = max(levels, key=lambda p: p.level ** float(a) / max(p.grad_norm, 1e-300))
            return ConstantEstimate(a, radius, math.inf, False, worst.point,
                                    f"the ratio grows like ε^({slope:.3f}) along the points of "
                                    "smallest gradient on the level sets: α is below the "
                                    "exponent, no constant works")
    cloud = _cloud(rng, samples, germ.n, -12.0, radius)
    g, G = ev.value_grad(cloud)
    with np.errstate(all="ignore"):
        ratios = np.abs(g) ** float(a) / np.linalg.norm(G, axis=1)
    ratios[~np.isfinite(ratios)] = -1.0
    seeds = [cloud[i] for i in np.argsort(-ratios)[:8]]
    seeds += [np.array(p.point) for p in levels]
    best, best_h = -1.0, np.zeros(germ.n)
    for h0 in seeds:
        for h in (h0, _maximise(ev, float(a), radius, h0)):
            if h is None or not np.any(h != 0):
                continue
            r = ratio_at(germ, a, [Fraction(float(t)) for t in h])
            if math.isinf(r):
                return ConstantEstimate(a, radius, math.inf, False, tuple(map(float, h)),
                                        "another critical point with a different value lies "
                                        "in the ball (∇f = 0, f ≠ f(p)): take a smaller radius")
            if r > best:
                best, best_h = r, h
    return ConstantEstimate(a, radius, best, True, tuple(float(t) for t in best_h),
                            "largest ratio attained at a sampled or locally maximised point "
                            "(a proved lower bound on C*; the supremum itself is estimated)")
