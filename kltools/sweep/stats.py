"""Statistics of a sweep: exact binomial intervals and bounds, quantiles.

Fractions (``holds``, each outcome) carry the two-sided 95 % Clopper–Pearson interval: the p with
P(X ≥ k; N, p) = 2.5 % and the p with P(X ≤ k; N, p) = 2.5 %, X ~ Bin(N, p), found by bisection
on the exact binomial CDF (conservative: coverage ≥ 95 % for every p). The rate of runs with a
simultaneous kink crossing (the codimension-2 event that should have probability 0) gets the
one-sided 95 % upper bound, the p with P(X ≤ k; N, p) = 5 %; for k = 0 that is 1 − 0.05^{1/N}
< 3/N, the rule of three.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["binomial_cdf", "clopper_pearson", "quantiles", "upper_bound"]

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
