"""What the limit of a flow predicts about its tail, and the tail laws a trajectory shows.

At a limit θ* with Łojasiewicz exponent θ (|L − L*|^θ ≤ C‖∇L‖ near θ*, optimal), the gradient
flow θ' = −s∇L has (Łojasiewicz 1963; for the rates, Attouch–Bolte, "On the convergence of the
proximal algorithm for nonsmooth functions involving analytic features", Math. Program. 2009):

* θ = 1/2 (e.g. a Morse or Morse–Bott minimum): L − L* ~ e^{−2sλt}, λ the smallest positive
  Hessian eigenvalue at θ*, so the rate of log(L − L*) tends to 2sλ;
* θ > 1/2: L − L* ~ t^{−1/(2θ−1)} and ‖∇L‖ ~ |L − L*|^θ along the tail.

:func:`limit_facts` finds θ* (Newton from the end), proves what it can about it (an exact
rational critical point when the coordinates are recognised and ∇L vanishes there exactly, with
its exponent by the exact methods of :func:`~kltools.analysis.exponent.lojasiewicz_exponent`;
else a Krawczyk box, which proves a non-degenerate point and hence θ = 1/2) and gives the
Hessian spectrum there. :func:`power_law` and :func:`rate_law` fit the observed tail on windows
of equal length (in decades of L − L*, or in t) so that a caller can tell a settled law from a
transient: the law is *established* when the last windows agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

from kltools.analysis.alongflow import tail_fit
from kltools.numbers import format_number, log10abs, mp_context, to_float, to_fraction, to_mpf

__all__ = ["LimitFacts", "TailLaw", "limit_facts", "power_law", "rate_law", "stalled_near_zero"]


@dataclass(frozen=True)
class LimitFacts:
    """What is known about the limit of one flow.

    Attributes
    ----------
    point
        The limit (exact strings when ``exact``, else decimals of the Newton limit).
    loss
        L at the limit (an mpf at the run's working precision).
    exact
        ∇L = 0 proved by exact arithmetic at the rational point ``point``.
    certified
        A critical point is proved to exist there (``exact``, or a Krawczyk box).
    exponent
        The Łojasiewicz exponent when proved (exact methods, or 1/2 at a Krawczyk-certified
        non-degenerate point), else None.
    interval
        (lo, hi) enclosing the exponent: (θ, θ) when proved, a numerical interval otherwise
        (None when nothing is known).
    method
        How the exponent was obtained.
    eigenvalues
        Hessian eigenvalues at the limit (floats, ascending).
    flow_scale
        s in θ' = −s∇L.
    isolated
        The limit is proved an isolated critical point: non-degenerate (Krawczyk), or a
        polynomial objective whose gradient ideal is zero-dimensional (Gröbner basis), so there
        are finitely many critical points. A critical point on a curve of critical points
        (e.g. the origin of (xy)²) need not be the flow's limit even when the flow passes
        close to it, so only an isolated one is trusted to predict the tail.
    """

    point: tuple[str, ...]
    loss: Any
    exact: bool
    certified: bool
    exponent: Fraction | None
    interval: tuple[float, float] | None
    method: str
    eigenvalues: tuple[float, ...]
    flow_scale: float
    isolated: bool = False

    @property
    def linear_rate(self) -> float | None:
        """2sλ with λ the smallest eigenvalue above 10⁻⁸·max|eig| (None if there is none)."""
        top = max((abs(e) for e in self.eigenvalues), default=0.0)
        pos = [e for e in self.eigenvalues if e > 1e-8 * top]
        return 2 * self.flow_scale * min(pos) if pos and top > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {"point": list(self.point), "exact": self.exact, "certified": self.certified,
                "exponent": None if self.exponent is None else str(self.exponent),
                "interval": None if self.interval is None else
                [f"{self.interval[0]:.4f}", f"{self.interval[1]:.4f}"],
                "method": self.method, "isolated": self.isolated,
                "hessian eigenvalues": [float(f"{e:.6g}") for e in self.eigenvalues]}


def _recognise(theta: Sequence[Any], end: Sequence[Any], dps: int) -> list[Fraction] | None:
    """Small-denominator rationals q near the Newton limit ``theta``: within 10^(−dps/3), or
    (a degenerate zero, where Newton converges only linearly) within 1/100 of the distance
    Newton travelled from the flow's ``end``. None when a coordinate has no such q. The caller
    proves ∇L(q) = 0 exactly before trusting q."""
    travel = max(abs(to_fraction(a) - to_fraction(b)) for a, b in zip(theta, end, strict=True))
    tol = max(Fraction(1, 10 ** max(6, dps // 3)), travel / 100)
    out = []
    for v in theta:
        x = to_fraction(v)
        q = x.limit_denominator(1000)
        if abs(q - x) > tol:
            return None
        out.append(q)
    return out


def _eigenvalues(newton: Any, theta: Sequence[Any], chi: Sequence[int], dps: int
                 ) -> tuple[float, ...]:
    from kltools.compiled.pointwise import compile_program

    ctx = mp_context(dps)
    hv = compile_program(newton.hessian_program, "mpmath", dps)(list(theta), list(chi))
    n = len(theta)
    H = ctx.matrix([[hv[i * n + j] for j in range(n)] for i in range(n)])
    return tuple(sorted(to_float(e) for e in ctx.eigsy(H)[0]))


def stalled_near_zero(lp: Any, grad_end: Any) -> bool:
    """A Newton run that did not converge but ended where ‖∇L‖ is 10⁶ times smaller than at the
    start (``grad_end``): at a degenerate zero the pseudo-inverse drops the flat direction once
    its curvature falls below the cut-off and Newton stalls close to the zero."""
    return bool(lp.grad_norm * 1_000_000 <= grad_end)


def _finitely_many_critical_points(problem: Any) -> bool:
    """Whether ∇L = 0 has finitely many complex solutions (a zero-dimensional ideal, decided by a
    Gröbner basis over ℚ); only for polynomial objectives, False otherwise."""
    import sympy as sp

    obj = getattr(problem, "objective", None)
    if obj is None or not obj.expr.is_polynomial(*obj.variables):
        return False
    grads = [sp.expand(sp.diff(obj.expr, v)) for v in obj.variables]
    if all(g == 0 for g in grads):
        return False
    return bool(sp.groebner(grads, *obj.variables, order="grevlex").is_zero_dimensional)


def limit_facts(problem: Any, system: Any, theta_end: Sequence[Any], chi: Sequence[int],
                dps: int, motion: Any = None, cache: dict[Any, Any] | None = None
                ) -> LimitFacts | None:
    """The limit of a flow ending at ``theta_end`` and what is proved about it (module
    docstring); None when Newton from the end does not converge.

    ``motion`` is how far the flow moved over the last half of its run. A Newton limit farther
    than 10·motion from the end is another critical point (on a singular Hessian the
    pseudo-inverse step can jump along the critical set, or to a worse point): then the facts
    are those of the end itself, uncertified. ``cache`` (point → exponent result) spares
    recomputing the exponent at the same exact point for later ends of the same flow."""
    from kltools.analysis.critical import certify_critical_point
    from kltools.analysis.exponent import lojasiewicz_exponent
    from kltools.analysis.limit import NewtonLimit
    from kltools.errors import DerivationError

    newton = NewtonLimit(system.ev)
    lp = newton(list(theta_end), chi, dps=dps)
    grad_end = newton(list(theta_end), chi, dps=dps, max_iter=0).grad_norm
    if not lp.converged and not stalled_near_zero(lp, grad_end):
        return None
    s = to_float(system.d.flow_scale)
    travel = max(abs(to_fraction(a) - to_fraction(b)) for a, b in zip(lp.theta, theta_end,
                                                                       strict=True))
    if motion is not None and travel > 10 * to_fraction(motion):
        eig = _eigenvalues(newton, list(theta_end), chi, dps)
        return LimitFacts(tuple(format_number(v, 12) for v in theta_end), None, False, False,
                          None, None, "none (Newton left the flow's neighbourhood: the end "
                          "point's Hessian is used)", eig, s)
    eig = _eigenvalues(newton, lp.theta, chi, dps)
    exact = _recognise(lp.theta, theta_end, dps)
    if exact is not None:
        key = tuple(exact)
        if cache is not None and key in cache:
            r = cache[key]
        else:
            try:
                r = lojasiewicz_exponent(problem, [str(q) for q in exact])
            except DerivationError:
                r = None
            if cache is not None:
                cache[key] = r
        if r is not None:
            lo, hi = (float(r.interval[0]), float(r.interval[1]))
            ex = to_fraction(r.exponent) if r.exponent is not None else None
            return LimitFacts(tuple(str(q) for q in exact), lp.loss, True, True, ex, (lo, hi),
                              r.method, eig, s, _finitely_many_critical_points(problem))
    point = [format_number(v, dps) for v in lp.theta]
    try:
        cp = certify_critical_point(problem, point, dps=dps, refine=False)
    except DerivationError:
        cp = None
    if cp is not None and cp.certified and cp.nondegenerate:
        return LimitFacts(tuple(cp.point), lp.loss, False, True, Fraction(1, 2), (0.5, 0.5),
                          "morse (Krawczyk-certified non-degenerate limit)", eig, s, True)
    return LimitFacts(tuple(format_number(v, 12) for v in lp.theta), lp.loss, False, False, None,
                      None, "none (degenerate or uncertified limit)", eig, s)


@dataclass(frozen=True)
class TailLaw:
    """A law fitted on consecutive windows of the tail: ``values`` per window (last = latest),
    ``span`` the extent of the tail used (decades of L − L*, or time), ``settled`` when the last
    two windows agree within the tolerance given to the fit."""

    values: tuple[float, ...]
    span: float
    settled: bool

    @property
    def last(self) -> float:
        return self.values[-1]


def _windows(x: Sequence[float], y: Sequence[float], width: float, count: int
             ) -> list[float]:
    """Slopes of y against x on the last ``count`` windows of length ``width`` in x (x
    increasing)."""
    out = []
    end = x[-1]
    for k in range(count, 0, -1):
        hi, lo = end - (k - 1) * width, end - k * width
        xs = [a for a in x if lo <= a <= hi]
        ys = [b for a, b in zip(x, y, strict=True) if lo <= a <= hi]
        if len(xs) < 3:
            return []
        out.append(tail_fit(xs, ys)[0])
    return out


def power_law(gaps: Sequence[Any], grads: Sequence[Any], *, floor: float, tol: float,
              windows: int = 3, width: float = 1.0) -> TailLaw | None:
    """α in ‖∇L‖ ≈ c|L − L*|^α, fitted on the last ``windows`` windows of ``width`` decades of
    L − L* above ``floor`` (the last two must agree within ``tol`` for the law to be settled;
    ``span`` is every decade above the floor). None when a window has fewer than 3 points."""
    pts = [(-log10abs(g), log10abs(d)) for g, d in zip(gaps, grads, strict=True)
           if g > 0 and d > 0]
    pts = [(a, b) for a, b in pts if a < -floor]
    if len(pts) < 3 * windows:
        return None
    x = [a for a, _ in pts]
    y = [-b for _, b in pts]
    span = x[-1] - x[0]
    # A fast exponential tail can fall a decade or more between samples: widen the windows to
    # hold four sample spacings (the law is then fitted on more decades, never fewer points).
    gaps_x = sorted(b - a for a, b in pairwise(x[-max(4, len(x) // 3):]))  # near the end
    spacing = gaps_x[len(gaps_x) // 2] if gaps_x else 0.0
    slopes = _windows(x, y, min(max(width, 4 * spacing), span / windows), windows)
    if len(slopes) < windows:
        return None
    # y = −log‖∇L‖, x = −log|L − L*|: slope = α.
    return TailLaw(tuple(slopes), span, abs(slopes[-1] - slopes[-2]) <= tol)


def rate_law(times: Sequence[Any], gaps: Sequence[Any], *, floor: float, rtol: float,
             windows: int = 3) -> TailLaw | None:
    """The rate r in L − L* ≈ c·e^{−rt} per window of the tail in t (above ``floor`` decades);
    settled when the last two windows agree to relative ``rtol``."""
    pts = [(to_float(t), log10abs(g)) for t, g in zip(times, gaps, strict=True) if g > 0]
    pts = [(a, b) for a, b in pts if b > floor and math.isfinite(b)]
    if len(pts) < 3 * windows:
        return None
    x = [a for a, _ in pts]
    y = [-b * math.log(10) for _, b in pts]
    slopes = _windows(x, y, (x[-1] - x[0]) / (2 * windows), windows)
    if len(slopes) < windows:
        return None
    settled = slopes[-1] > 0 and abs(slopes[-1] - slopes[-2]) <= rtol * abs(slopes[-1])
    return TailLaw(tuple(slopes), (pts[0][1] - pts[-1][1]), settled)


def gaps_of(losses: Sequence[Any], l_star: Any, dps: int) -> list[Any]:
    """L − L* at every sample (mpf at ``dps`` digits)."""
    ctx = mp_context(dps + 10)
    ls = to_mpf(l_star, ctx)
    return [to_mpf(v, ctx) - ls for v in losses]
