"""Numerical estimate of the exponent, with an interval justified by the local slopes.

Method. For a germ g (g(0) = 0, ∇g(0) = 0) and levels ε_k = ε_0·10^{−kΔ}, compute

    m(ε) = min { |∇g(h)| : g(h) = ±ε, |h| ≤ r },

the smallest gradient on the two level sets inside the ball of radius r. If the inequality
|g|^α ≤ C|∇g| holds on the ball with the optimal exponent θ, and the worst arcs through 0 lie in
it, then m(ε) = c·ε^θ(1 + o(1)) (m is semialgebraic for polynomial g, so it has a Puiseux
expansion m(ε) = c ε^θ (1 + a ε^γ + …), γ > 0). The *local slopes*

    s_k = log(m(ε_k)/m(ε_{k+1})) / log(ε_k/ε_{k+1})

therefore converge to θ, and geometrically in k: s_k − θ = O(10^{−kΔγ}). The constants c cancel in
s_k, unlike in log m / log ε.

Minimisation. Candidates on each level set come from two sources. (1) Search: the best points of
a large sample cloud of the ball (log-uniform coordinates of very different sizes, random
directions, uniform points; points of the right sign from higher levels are brought down along
their rays), polished by SLSQP in logarithmic coordinates h_i = ±e^{z_i} (scales such as ε^{1/2}
and ε^{1/4} are then equally well conditioned; coordinates that are 0 stay 0, so minima on an axis
are found). (2) Tracking: every local minimiser found is followed to the next level by
continuation of the Lagrange system ∇²g·∇g = λ∇g, g = ±ε in mpmath (tangent predictor in
logarithmic form, Newton corrector, step halving), at 30 + |log₁₀ ε_min| digits. Tracking is what
keeps thin valleys such as x ≈ −y² in (x + y²)² + y⁵, where float64 cannot even represent the
minimiser below ε ≈ 10^{-25}. Polynomials are searched in float64 after the exact translation to
the point; every reported |∇g| is evaluated in mpmath.

Interval (what it claims and why). Let W be the last ``window`` slopes and η = 10^{-3} a noise
floor (each m(ε) is a local minimum located to about 10^{-8} relative accuracy).
* If the last differences are below η (the slopes have settled), the interval is
  [min W' − η, max W' + η] over the last four slopes W'.
* If they decrease geometrically with ratio ρ < 0.8, the remaining change is bounded by the
  geometric tail |d_last|·ρ/(1 − ρ); the interval spans the last slope and the extrapolated limit,
  widened by that tail and η.
* Otherwise the estimate is marked unconverged and the interval is the range of W widened by η.
* m(ε) cannot increase as ε decreases; a negative slope past the first third of the levels means
  a branch of small gradients was lost by the search, so the estimate is marked unconverged and
  the interval also covers the slopes before the loss.
The interval is intersected with [0, min(1, bound)] for a proved upper bound (D'Acunto–Kurdyka).
This is a numerical enclosure under the stated asymptotic model, not a proof; exact methods prove.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from scipy.optimize import minimize

from kltools.analysis.germ import Germ
from kltools.compiled.pointwise import compile_program
from kltools.compiled.program import program_from_sympy
from kltools.numbers import mp_context, to_mpf

__all__ = ["LevelPoint", "NumericEstimate", "estimate_exponent", "level_minima"]

_TINY = 1e-300
_NOISE = 1e-3
"""Noise floor of a local slope: each m(ε) is a local minimum located to ~10^{-8} relative (the
optimiser's tolerance), which moves a slope over two decades by far less; 10^{-3} is kept as a
conservative margin."""


@dataclass(frozen=True)
class LevelPoint:
    """The smallest gradient found on the level set {g = sign·level} ∩ B_r."""

    level: float
    sign: int
    grad_norm: float
    point: tuple[float, ...]
    digits: tuple[str, ...] = ()
    """The point's coordinates as decimal strings at the working precision (floats can lose a
    minimiser that sits in a thin valley, e.g. x ≈ −y² to 20 digits)."""


@dataclass(frozen=True)
class NumericEstimate:
    """A numerical exponent estimate (see module docstring for the interval's meaning)."""

    estimate: float
    interval: tuple[float, float]
    converged: bool
    slopes: tuple[float, ...]
    levels: tuple[LevelPoint, ...]
    radius: float
    seed: int
    justification: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> float:
        return self.interval[1] - self.interval[0]

    def to_json(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "interval": list(self.interval),
                "converged": self.converged, "slopes": list(self.slopes),
                "radius": self.radius, "seed": self.seed, "justification": self.justification,
                "levels": [[p.level, p.sign, p.grad_norm] for p in self.levels],
                "settings": self.settings}


# -- evaluation ------------------------------------------------------------------------------
class _FloatPoly:
    """Float64 evaluation of a polynomial germ (exact coefficients converted once): vectorised
    g, ∇g for the sample cloud; g, ∇g, ∇²g at one point for the optimiser; and the conditioning
    Σ|terms| / |value| that says how many digits the float value kept."""

    def __init__(self, germ: Germ) -> None:
        poly = germ.poly
        assert poly is not None
        self.n = len(poly.gens)
        self.E = np.array(poly.monoms(), dtype=float)
        self.c = np.array([float(c) for c in poly.coeffs()])
        self.dE = []
        for i in range(self.n):
            Ei = self.E.copy()
            ci = self.c * Ei[:, i]
            Ei[:, i] = np.maximum(Ei[:, i] - 1, 0)
            self.dE.append((Ei, ci))
        v = germ.variables
        g = germ.expr
        grads = [sp.diff(g, s) for s in v]
        hess = [sp.diff(gi, s) for gi in grads for s in v]
        self._point = sp.lambdify(v, [g, *grads, *hess], "math", cse=True)

    @staticmethod
    def _mono(pts: np.ndarray, exps: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            P = np.where(exps[None, :, :] == 0, 1.0, pts[:, None, :] ** exps[None, :, :])
        return np.prod(P, axis=2)

    def value_grad(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = self._mono(pts, self.E) @ self.c
        return g, np.stack([self._mono(pts, E) @ c for E, c in self.dE], axis=1)

    def point(self, h: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        try:
            out = self._point(*(float(t) for t in h))
        except (OverflowError, ZeroDivisionError):
            return math.nan, np.full(self.n, math.nan), np.full((self.n, self.n), math.nan)
        n = self.n
        return (float(out[0]), np.array(out[1:1 + n], dtype=float),
                np.array(out[1 + n:], dtype=float).reshape(n, n))

    def condition(self, h: np.ndarray) -> float:
        H = h[None, :]
        with np.errstate(all="ignore"):
            m = self._mono(H, self.E)[0]
            k = float(np.abs(m) @ np.abs(self.c)) / max(abs(float(m @ self.c)), _TINY)
            num = sum(float(np.abs(self._mono(H, E)[0]) @ np.abs(c)) for E, c in self.dE)
            den = sum(abs(float(self._mono(H, E)[0] @ c)) for E, c in self.dE)
        return max(k, num / max(den, _TINY))


class _MpEval:
    """g, ∇g, ∇²g and the third derivatives in mpmath at ``dps`` digits (a private context).

    Polynomial germs are evaluated from their exact translated coefficients; other germs as
    f(p + h) − f(p) with p exact to ``dps`` digits. Float wrappers serve the optimiser."""

    def __init__(self, germ: Germ, dps: int) -> None:
        self.n = germ.n
        self.dps = dps
        v = germ.variables
        poly = germ.poly is not None
        f = germ.expr if poly else germ.source
        grads = [sp.diff(f, s) for s in v]
        hess = [sp.diff(gi, s) for gi in grads for s in v]
        third = [sp.diff(hh, t) for hh in hess for t in v]
        self.run = compile_program(program_from_sympy([f, *grads, *hess], v), "mpmath", dps)
        self.run3 = compile_program(program_from_sympy(third, v), "mpmath", dps)
        mp = self.mp = mp_context(dps)
        if poly:
            self.p = [mp.mpf(0)] * self.n
            self.fp = mp.mpf(0)
        else:
            # Exact rationals round once; irrational coordinates via sp.N at dps + 10 digits.
            self.p = [to_mpf(c if c.is_Rational else sp.N(c, dps + 10), mp)
                      for c in germ.point]
            self.fp = to_mpf(sp.N(germ.value, dps + 10), mp)

    def all(self, h: Sequence[Any]) -> tuple[Any, list[Any], list[list[Any]]]:
        out = self.run([self.p[i] + h[i] for i in range(self.n)], [])
        n = self.n
        return (out[0] - self.fp, list(out[1:1 + n]),
                [list(out[1 + n + i * n:1 + n + (i + 1) * n]) for i in range(n)])

    def third(self, h: Sequence[Any]) -> list[Any]:
        return self.run3([self.p[i] + h[i] for i in range(self.n)], [])

    def to_mp(self, h: np.ndarray) -> list[Any]:
        return [self.mp.mpf(float(t)) for t in h]

    def point(self, h: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        g, gr, hs = self.all(self.to_mp(h))
        return (float(g), np.array([float(t) for t in gr]),
                np.array([[float(t) for t in row] for row in hs]))

    def value_grad(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = np.empty(len(pts))
        G = np.empty((len(pts), self.n))
        for k, h in enumerate(pts):
            g[k], G[k], _ = self.point(h)
        return g, G

    def grad_norm(self, h: Sequence[Any]) -> Any:
        _, gr, _ = self.all(h)
        return self.mp.sqrt(sum(t * t for t in gr))


# -- one level: float search, then mpmath Newton on the Lagrange system ----------------------
class _LogChart:
    """Log coordinates on the orthant of h0: h = sign(h0)·e^z on the nonzero entries, 0 elsewhere
    (z clipped to [−700, 50] so that float64 never overflows)."""

    def __init__(self, h0: np.ndarray) -> None:
        self.mask = h0 != 0
        self.sign = np.sign(h0[self.mask])
        self.n = len(h0)

    @classmethod
    def of(cls, h0: np.ndarray) -> _LogChart | None:
        return cls(h0) if (h0 != 0).any() else None

    def point(self, z: np.ndarray) -> np.ndarray:
        h = np.zeros(self.n)
        h[self.mask] = self.sign * np.exp(np.clip(z, -700, 50))
        return h

    def start(self, h0: np.ndarray) -> np.ndarray:
        return np.log(np.abs(h0[self.mask]))


def _polish(ev: _FloatPoly | _MpEval, sign: int, eps: float, radius: float, h0: np.ndarray
            ) -> np.ndarray | None:
    """Minimise |∇g| on {g = sign·eps} ∩ B_r from h0 in log coordinates (float64, SLSQP)."""
    chart = _LogChart.of(h0)
    if chart is None:
        return None
    mask = chart.mask
    log_eps = math.log(eps)
    log_r2 = 2 * math.log(radius)
    cache: dict[bytes, tuple[np.ndarray, float, np.ndarray, np.ndarray]] = {}

    def at(z: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        key = z.tobytes()
        if key not in cache:
            h = chart.point(z)
            cache.clear()
            cache[key] = (h, *ev.point(h))
        return cache[key]

    def obj(z: np.ndarray) -> tuple[float, np.ndarray]:
        h, _, gr, hs = at(z)
        nn = float(gr @ gr) + _TINY
        return 0.5 * math.log(nn), ((hs @ gr) * h / nn)[mask]

    def con(z: np.ndarray) -> float:
        _, g, _, _ = at(z)
        return math.log(max(sign * g, _TINY)) - log_eps

    def con_jac(z: np.ndarray) -> np.ndarray:
        h, g, gr, _ = at(z)
        return (gr * h / (g if sign * g > _TINY else sign * _TINY))[mask]

    def ball(z: np.ndarray) -> float:
        h = at(z)[0]
        return log_r2 - math.log(float(h @ h) + _TINY)

    def ball_jac(z: np.ndarray) -> np.ndarray:
        h = at(z)[0]
        return (-2 * h * h / (float(h @ h) + _TINY))[mask]

    z0 = chart.start(h0)
    try:
        with np.errstate(all="ignore"):
            res = minimize(obj, z0, jac=True, method="SLSQP",
                           constraints=[{"type": "eq", "fun": con, "jac": con_jac},
                                        {"type": "ineq", "fun": ball, "jac": ball_jac}],
                           options={"maxiter": 100, "ftol": 1e-12})
    except (ValueError, OverflowError, FloatingPointError, np.linalg.LinAlgError):
        return None
    z = res.x
    if not np.all(np.isfinite(z)) or abs(con(z)) > 1e-7 or ball(z) < -1e-9:
        return None
    return at(z)[0].copy()


class _Lagrange:
    """Newton and continuation, in mpmath, for the critical points of ½|∇g|² on the level sets:
    F(h, λ; s) = (∇²g·∇g − λ∇g, g − sign·e^s) = 0."""

    def __init__(self, ev: _MpEval, sign: int) -> None:
        self.ev = ev
        self.mp = ev.mp
        self.sign = sign
        self.n = ev.n

    def system(self, x: list[Any], s: Any) -> tuple[list[Any], Any]:
        mp, n = self.mp, self.n
        h, lam = x[:n], x[n]
        g, gr, hs = self.ev.all(h)
        T = self.ev.third(h)
        Hg = [sum(hs[i][k] * gr[k] for k in range(n)) for i in range(n)]
        F = [Hg[i] - lam * gr[i] for i in range(n)] + [g - self.sign * mp.exp(s)]
        J = mp.matrix(n + 1, n + 1)
        for i in range(n):
            for j in range(n):
                J[i, j] = (sum(hs[i][k] * hs[k][j] for k in range(n))
                           + sum(gr[k] * T[(k * n + i) * n + j] for k in range(n))
                           - lam * hs[i][j])
            J[i, n] = -gr[i]
            J[n, i] = gr[i]
        return F, J

    def solve(self, jac: Any, rhs: list[Any], x: list[Any]) -> list[Any] | None:
        mp, n = self.mp, self.n
        hmax = max([abs(t) for t in x[:n]] + [mp.mpf(10) ** (-mp.dps)])
        scale = [max(abs(t), hmax * mp.mpf(10) ** -8) for t in x[:n]]
        scale.append(max(abs(x[n]), mp.mpf(10) ** (-mp.dps)))
        A = mp.matrix(n + 1, n + 1)
        b = mp.matrix(n + 1, 1)
        for i in range(n + 1):
            row = [jac[i, j] * scale[j] for j in range(n + 1)]
            r = max(abs(t) for t in row) or mp.mpf(1)
            for j in range(n + 1):
                A[i, j] = row[j] / r
            b[i] = rhs[i] / r
        if any(not mp.isfinite(A[i, j]) for i in range(n + 1) for j in range(n + 1)) or any(
                not mp.isfinite(b[i]) for i in range(n + 1)):
            return None
        # A coordinate whose row and column vanish (e.g. z = 0 in g = … + z⁴, where ∂g/∂z and
        # ∂²g/∂z² both vanish) does not move: drop it from the system.
        tiny = mp.mpf(10) ** (-(mp.dps // 2))
        live = [i for i in range(n + 1)
                if max(abs(A[i, j]) for j in range(n + 1)) > tiny
                or max(abs(A[j, i]) for j in range(n + 1)) > tiny]
        if len(live) < n + 1:
            if any(abs(b[i]) > tiny for i in range(n + 1) if i not in live):
                return None
            A = mp.matrix([[A[i, j] for j in live] for i in live])
            b = mp.matrix([b[i] for i in live])
        try:
            y = mp.lu_solve(A, b)
        except (ZeroDivisionError, TypeError, ValueError):  # singular (a continuum of minima)
            return None
        full = [mp.mpf(0)] * (n + 1)
        for k, i in enumerate(live):
            full[i] = y[k]
        return [full[i] * scale[i] for i in range(n + 1)]

    def correct(self, x: list[Any], s: Any) -> list[Any] | None:
        mp, n = self.mp, self.n
        tol = mp.mpf(10) ** (-(mp.dps // 2))
        for _ in range(15):
            F, J = self.system(x, s)
            dx = self.solve(J, [-t for t in F], x)
            if dx is None:
                return None
            x = [x[i] + dx[i] for i in range(n + 1)]
            hmax = max(abs(t) for t in x[:n])
            if hmax == 0:
                return None
            if max(abs(dx[i]) for i in range(n)) <= tol * hmax:
                g = self.ev.all(x[:n])[0]
                level = mp.exp(s)
                return x if abs(g - self.sign * level) <= tol * level else None
        return None

    def start(self, h: list[Any], s: Any) -> list[Any] | None:
        n = self.n
        _, gr, hs = self.ev.all(h)
        nn = sum(t * t for t in gr)
        if nn == 0:
            return None
        lam = sum(gr[i] * hs[i][k] * gr[k] for i in range(n) for k in range(n)) / nn
        return self.correct([*h, lam], s)

    def predict(self, x: list[Any], t: list[Any], step: Any) -> list[Any]:
        """Tangent predictor in logarithmic form, x_i·exp(step·ẋ_i/x_i): exact for power laws
        x_i ∝ ε^{e_i}, and it keeps cancellations such as x ≈ −y² (e_x = 2e_y) intact."""
        mp = self.mp
        out = []
        for xi, ti in zip(x, t, strict=True):
            if xi == 0:
                out.append(step * ti)
                continue
            rate = step * ti / xi
            out.append(xi * mp.exp(rate) if abs(rate) < 50 else xi + step * ti)
        return out

    def track(self, x: list[Any], s0: Any, s1: Any, radius: float) -> list[Any] | None:
        """Tangent-predictor / Newton-corrector continuation from level e^{s0} down to e^{s1}."""
        mp, n = self.mp, self.n
        s = s0
        ds = (s1 - s0) / 4
        while s > s1:
            step = max(ds, s1 - s)
            _, J = self.system(x, s)
            rhs = [mp.mpf(0)] * n + [self.sign * mp.exp(s)]
            t = self.solve(J, rhs, x)
            y = None if t is None else self.correct(self.predict(x, t, step), s + step)
            if y is None or mp.sqrt(sum(v * v for v in y[:n])) > radius:
                ds /= 2
                if abs(ds) < abs(s1 - s0) / 256:
                    return None
                continue
            x, s = y, s + step
            ds = max(2 * ds, (s1 - s0) / 2)
        return x


def _retry(lag: _Lagrange, search: _FloatPoly | _MpEval, x: list[Any], s0: Any, s1: Any,
           sign: int, eps: float, radius: float) -> list[Any] | None:
    """After a failed continuation: predict the branch at the new level in logarithmic form from
    the tangent at the old one, polish there in float64 and correct in mpmath."""
    n = lag.n
    _, J = lag.system(x, s0)
    t = lag.solve(J, [lag.mp.mpf(0)] * n + [sign * lag.mp.exp(s0)], x)
    if t is None:
        return None
    guess = np.array([float(v) for v in lag.predict(x, t, s1 - s0)[:n]])
    if not np.all(np.isfinite(guess)) or not np.any(guess != 0):
        return None
    h = _polish(search, sign, eps, radius, guess)
    if h is None:
        return None
    y = lag.start(lag.ev.to_mp(h), s1)
    if y is None or lag.mp.sqrt(sum(v * v for v in y[:n])) > radius:
        return None
    return y


def _cloud(rng: np.random.Generator, samples: int, n: int, lo: float, radius: float
           ) -> np.ndarray:
    """Sample points of the ball: a third with log-uniform coordinates on [10^lo, r] (very
    different scales per coordinate, some set to 0), a third with a random direction and a
    log-uniform radius, a third uniform in the ball (the outer region, where thin sign regions
    such as cusps are wide enough to be hit)."""
    k = samples // 3
    U = rng.uniform(lo, math.log10(radius), size=(k, n))
    A = rng.choice([-1.0, 1.0], size=(k, n)) * 10.0 ** U
    A[rng.random((k, n)) < 0.2] = 0.0
    D = rng.standard_normal((k, n))
    D /= np.linalg.norm(D, axis=1)[:, None]
    B = D * 10.0 ** rng.uniform(lo / 2, math.log10(radius), size=(k, 1))
    D = rng.standard_normal((samples - 2 * k, n))
    D /= np.linalg.norm(D, axis=1)[:, None]
    C = D * radius * rng.random((samples - 2 * k, 1)) ** (1 / n)
    cloud = np.concatenate([A, B, C])
    cloud = cloud[np.any(cloud != 0, axis=1)]
    return cloud[np.linalg.norm(cloud, axis=1) <= radius]


def _ray_to_level(ev: _FloatPoly | _MpEval, h: np.ndarray, target: float) -> np.ndarray | None:
    """A point λh (0 < λ < 1) with g(λh) = target, by bisection in log λ (g(0) = 0 and
    g(h)/target > 1, so the segment crosses the level)."""
    lo, hi = -60.0, 0.0  # log10 λ
    for _ in range(80):
        mid = (lo + hi) / 2
        g, _ = ev.value_grad((10.0 ** mid * h)[None, :])
        if g[0] / target >= 1:
            hi = mid
        else:
            lo = mid
    out = 10.0 ** hi * h
    g, _ = ev.value_grad(out[None, :])
    return out if abs(g[0] / target - 1) < 1e-6 else None


@dataclass
class _LevelSearch:
    """What every level of :func:`level_minima` shares: the evaluators and the sample cloud."""

    n: int
    poly: bool
    probe: Any
    search: Any
    mpev: _MpEval
    cloud: np.ndarray
    gv: np.ndarray
    gn: np.ndarray
    lg: np.ndarray
    rng: np.random.Generator
    radius: float
    step: float

    def continued(self, lag: _Lagrange, tracked: list[list[Any]], eps: float, sign: int
                  ) -> list[tuple[Any, list[Any], list[Any] | None]]:
        """The branches of the previous level, followed down to the level ε."""
        mp = self.mpev.mp
        s_mp = mp.log(mp.mpf(eps))
        s_prev = mp.log(mp.mpf(eps) * mp.mpf(10) ** self.step)
        out = []
        for x in tracked:
            y = lag.track(x, s_prev, s_mp, self.radius)
            if y is None:  # retry: one logarithmic predictor step, then search and Newton
                y = _retry(lag, self.search, x, s_prev, s_mp, sign, eps, self.radius)
            if y is not None:
                out.append((self.mpev.grad_norm(y[:self.n]), y[:self.n], y))
        return out

    def seeds(self, sign: int, eps: float, first: bool) -> list[np.ndarray]:
        """Float starting points near the level: the sample points of smallest |∇g| there, two
        random ones, and (when few are near and no branch is tracked) points of higher levels
        brought down along their rays (g(0) = 0, so each ray crosses the level)."""
        le = math.log10(eps)
        ok = np.where((np.sign(self.gv) == sign) & (np.abs(self.lg - le) <= self.step / 2))[0]
        seeds: list[np.ndarray] = []
        if len(ok):
            order = ok[np.argsort(self.gn[ok])]
            seeds += [self.cloud[i] for i in order[:4]]
            seeds += [self.cloud[i]
                      for i in self.rng.choice(ok, size=min(2, len(ok)), replace=False)]
        if len(ok) < 3 and first:
            above = np.where((np.sign(self.gv) == sign) & (self.lg > le))[0]
            for i in above[np.argsort(self.lg[above])][:4]:
                h = _ray_to_level(self.search, self.cloud[i], sign * eps)
                if h is not None:
                    seeds.append(h)
        return seeds

    def from_cloud(self, lag: _Lagrange, sign: int, eps: float, first: bool
                   ) -> list[tuple[Any, list[Any], list[Any] | None]]:
        """Points on the level found from the sample cloud (float), corrected in mpmath."""
        mp = self.mpev.mp
        s_mp = mp.log(mp.mpf(eps))
        out = []
        for h0 in self.seeds(sign, eps, first):
            h = _polish(self.search, sign, eps, self.radius, h0)
            if h is None:
                continue
            hm = self.mpev.to_mp(h)
            y = lag.start(hm, s_mp)
            if y is not None and mp.sqrt(sum(v * v for v in y[:self.n])) <= self.radius:
                out.append((self.mpev.grad_norm(y[:self.n]), y[:self.n], y))
            elif not self.poly or self.probe.condition(h) < 1e6:  # trust the float point itself
                g = self.mpev.all(hm)[0]
                if sign * g > 0 and abs(g / eps - sign) < 1e-6:
                    out.append((self.mpev.grad_norm(hm), hm, None))
        return out


def _distinct_branches(cands: Sequence[tuple[Any, list[Any], list[Any] | None]], n: int,
                       branches: int) -> list[list[Any]]:
    """Up to ``branches`` Lagrange points of distinct candidates (relative distance > 1e-6),
    best first: the branches followed to the next level."""
    tracked: list[list[Any]] = []
    for _, _, y in cands:
        if y is None or any(all(abs(y[i] - z[i]) <= 1e-6 * (abs(z[i]) + abs(y[i]))
                                for i in range(n)) for z in tracked):
            continue
        tracked.append(y)
        if len(tracked) == branches:
            break
    return tracked


def _level_search(germ: Germ, radius: float, start: float | None, step: float, levels: int,
                  samples: int, seed: int) -> tuple[_LevelSearch, float]:
    """The shared search state and ε_0 (default: 10^{-3} times the typical |g| on the sphere of
    radius r)."""
    n = germ.n
    rng = np.random.default_rng(seed)
    poly = germ.poly is not None
    probe = _FloatPoly(germ) if poly else _MpEval(germ, 40)
    sphere = rng.standard_normal((256, n))
    sphere *= radius / np.linalg.norm(sphere, axis=1)[:, None]
    gs, _ = probe.value_grad(sphere)
    typical = float(np.median(np.abs(gs[np.abs(gs) > 0]))) if np.any(gs != 0) else 1.0
    eps0 = start if start is not None else 1e-3 * typical
    eps_min = eps0 * 10.0 ** (-step * (levels - 1))
    digits = int(-math.log10(eps_min)) + 1
    dps = 30 + digits if poly else 30 + 2 * digits
    search = probe if poly else _MpEval(germ, min(dps, 30 + digits))
    cloud = _cloud(rng, samples if poly else min(samples, 1500), n,
                   math.log10(eps_min) - 2, radius)
    gv, Gv = search.value_grad(cloud)
    with np.errstate(divide="ignore"):
        lg = np.log10(np.abs(gv))
    state = _LevelSearch(n, poly, probe, search, _MpEval(germ, dps), cloud, gv,
                         np.linalg.norm(Gv, axis=1), lg, rng, radius, step)
    return state, eps0


def level_minima(germ: Germ, *, radius: float = 0.5, start: float | None = None,
                 step: float = 2.0, levels: int = 19, samples: int = 20000, seed: int = 0,
                 branches: int = 3) -> list[LevelPoint]:
    """For each level ε_k = ε_0·10^{−k·step} and sign, the smallest |∇g| found on
    {g = ±ε_k} ∩ B_r (module docstring). ``start`` is ε_0 (default: 10^{-3} times the typical
    |g| on the sphere of radius r)."""
    search, eps0 = _level_search(germ, radius, start, step, levels, samples, seed)
    mp = search.mpev.mp
    out: list[LevelPoint] = []
    for sign in (1, -1):
        lag = _Lagrange(search.mpev, sign)
        tracked: list[list[Any]] = []  # (h, λ) at the previous level
        for k in range(levels):
            eps = eps0 * 10.0 ** (-step * k)
            cands = search.continued(lag, tracked, eps, sign)
            cands += search.from_cloud(lag, sign, eps, first=not tracked)
            if not cands:
                tracked = []
                continue
            cands.sort(key=lambda c: c[0])
            best = cands[0]
            out.append(LevelPoint(eps, sign, float(best[0]), tuple(float(t) for t in best[1]),
                                  tuple(mp.nstr(t, mp.dps, strip_zeros=False)
                                        for t in best[1])))
            tracked = _distinct_branches(cands, germ.n, branches)
    return out


# -- slopes and interval ---------------------------------------------------------------------
def _slopes(points: Sequence[LevelPoint]) -> list[tuple[float, float]]:
    """(log10 ε, slope) for consecutive levels of m(ε) = min over both signs."""
    best: dict[float, float] = {}
    for p in points:
        if p.grad_norm > 0:
            best[p.level] = min(best.get(p.level, math.inf), p.grad_norm)
    lv = sorted(best, reverse=True)
    out = []
    for a, b in itertools.pairwise(lv):
        s = (math.log(best[a]) - math.log(best[b])) / (math.log(a) - math.log(b))
        out.append((math.log10(b), s))
    return out


def _interval(slopes: list[float], window: int, upper: float
              ) -> tuple[float, tuple[float, float], bool, str]:
    W = slopes[-window:]
    if len(W) < 4:
        return (W[-1] if W else math.nan, (0.0, upper), False,
                "too few levels with a minimiser to judge convergence")
    # m(ε) can only decrease as ε decreases: a negative slope past the first levels means a
    # branch of small gradients was lost there (the later values are too large), so the slopes
    # before the loss are kept in the interval and the estimate is marked unconverged.
    lost = [k for k, v in enumerate(slopes) if v < 0 and k >= len(slopes) // 3]
    if lost:
        j = lost[-1]
        before = slopes[max(0, j - 3):j] or [slopes[j]]
        lo = max(min(min(W), min(before)) - 1e-3, 0.0)
        hi = min(max(max(W), max(before)) + 1e-3, upper)
        return (float(np.median(W[-3:])), (lo, max(lo, hi)), False,
                f"a branch of small gradients was lost at level {j + 1} (m(ε) increased): the "
                "interval spans the slopes before and after the loss")
    d = np.diff(W)
    eta = _NOISE
    tail = W[-4:]
    centre = float(np.median(W[-3:]))
    if np.all(np.abs(d[-3:]) <= eta):
        lo, hi = min(tail) - eta, max(tail) + eta
        why = (f"the last local slopes agree within the noise floor {eta:.1e}: interval = their "
               "range widened by it")
        conv = True
    else:
        big = np.abs(d[-4:])
        ratios = big[1:] / np.where(big[:-1] > 0, big[:-1], np.inf)
        rho = float(np.max(ratios)) if len(ratios) else 1.0
        if rho < 0.8 and np.all(np.sign(d[-3:]) == np.sign(d[-1])):
            tail_bound = abs(float(d[-1])) * rho / (1 - rho)
            limit = W[-1] + float(d[-1]) * rho / (1 - rho)
            lo = min(W[-1], limit) - tail_bound - eta
            hi = max(W[-1], limit) + tail_bound + eta
            centre = limit
            why = (f"local slopes converge geometrically (ratio ≤ {rho:.2f}): interval = last "
                   "slope to the extrapolated limit, widened by the geometric tail and the noise "
                   "floor")
            conv = True
        else:
            lo, hi = min(W) - eta, max(W) + eta
            why = "local slopes have not settled: interval = their range over the window"
            conv = False
    lo, hi = max(lo, 0.0), min(hi, upper)
    if lo > hi:  # pragma: no cover - only when the bound contradicts the data
        lo = hi
    return centre, (lo, hi), conv, why


def estimate_exponent(germ: Germ, *, radius: float = 0.5, step: float = 2.0, levels: int = 19,
                      samples: int = 20000, seed: int = 0, window: int = 8,
                      upper: float | sp.Rational = 1) -> NumericEstimate:
    """Estimate θ with an interval from the local slopes of m(ε) (module docstring).

    ``upper`` is a proved upper bound used to clip the interval (e.g. D'Acunto–Kurdyka).

    >>> from kltools.analysis.germ import make_germ
    >>> est = estimate_exponent(make_germ("x**3 + x*y**3", variables="x,y"))
    >>> est.interval[0] <= 7/9 <= est.interval[1], est.width <= 0.05
    (True, True)
    """
    pts = level_minima(germ, radius=radius, step=step, levels=levels, samples=samples,
                       seed=seed)
    sl = _slopes(pts)
    slopes = [s for _, s in sl]
    centre, interval, conv, why = _interval(slopes, window, float(upper))
    return NumericEstimate(centre, interval, conv, tuple(slopes), tuple(pts), radius, seed, why,
                           {"step": step, "levels": levels, "samples": samples,
                            "window": window})
