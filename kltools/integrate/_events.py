"""First sign change of a polynomial on [0, 1]: exclusion, Descartes bisection, Newton.

The integrator hands over the event polynomial ``G(τ) = sum_k g_k h^k τ^k`` of one step (``τ`` is
the step fraction). :func:`first_crossing` returns the smallest ``τ`` in ``(0, 1]`` at which ``G``
changes sign, to working precision, or ``None``:

1. exclusion: ``|G_0| > sum_{k>=1} |G_k|`` means ``G`` has no root on ``[0, 1]`` (the usual case,
   O(K) work);
2. isolation: Vincent–Collins–Akritas bisection. The number of sign variations of the coefficients
   of ``(1 + y)^K P(1 / (1 + y))`` bounds the number of roots of ``P`` in ``(0, 1)`` and has the
   same parity (Descartes' rule of signs). Left halves are searched first, so the first interval
   found holding an odd number of roots holds the first sign change. Two roots closer than
   ``2^-MAX_DEPTH`` (relative to the step) with no net sign change are a tangency, not a crossing;
3. refinement: safeguarded Newton on ``G`` inside the isolating interval, to a few ulps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kltools.numbers import horner

__all__ = ["MAX_DEPTH", "deflate", "first_crossing"]

Number = Any
MAX_DEPTH = 64


def deflate(coeffs: Sequence[Number], zero_tol: Number, max_order: int = 3) -> list[Number]:
    """``G(τ) / τ^m`` after dropping the ``m <= max_order`` leading coefficients that are at most
    ``zero_tol`` in size: removes the root at ``τ = 0`` of a trajectory starting on the surface,
    keeping the sign ``G`` takes just after the start. Returns ``[]`` when ``G`` is negligible
    throughout (the trajectory stays on the surface)."""
    c = list(coeffs)
    m = 0
    while m < max_order and m < len(c) and abs(c[m]) <= zero_tol:
        m += 1
    rest = c[m:]
    if not rest or all(abs(v) <= zero_tol for v in rest):
        return []
    return rest


def _variations(c: Sequence[Number]) -> int:
    count = 0
    last = 0
    for v in c:
        if v:
            s = 1 if v > 0 else -1
            if last and s != last:
                count += 1
            last = s
    return count


def _shift_one(c: Sequence[Number]) -> list[Number]:
    """Coefficients of ``P(y + 1)`` (Taylor shift by synthetic division, O(K^2))."""
    a = list(c)
    n = len(a)
    for i in range(n - 1):
        for j in range(n - 2, i - 1, -1):
            a[j] = a[j] + a[j + 1]
    return a


def _descartes(c: Sequence[Number]) -> int:
    """Upper bound (with the right parity) on the roots of ``P`` in ``(0, 1)``."""
    return _variations(_shift_one(list(reversed(c))))


def _isolate(c: list[Number], lo: Number, hi: Number, depth: int
             ) -> tuple[Number, Number] | None:
    v = _descartes(c)
    if v == 0:
        return None
    if v == 1:
        return lo, hi
    if depth >= MAX_DEPTH:
        # Unresolved cluster: a sign change iff the end values differ in sign.
        a, b = c[0], sum(c)
        return (lo, hi) if a * b < 0 else None
    mid = (lo + hi) / 2
    left = [ck / (1 << k) for k, ck in enumerate(c)]  # P(y / 2)
    got = _isolate(left, lo, mid, depth + 1)
    if got is not None:
        return got
    right = _shift_one(left)  # P((1 + y) / 2)
    m = 0
    while m < len(right) and not right[m]:
        m += 1
    if m == len(right):  # P vanishes identically: no crossing to report
        return None
    if m:  # exact root of multiplicity m at the midpoint: a crossing iff m is odd
        if m % 2:
            return mid, mid
        right = right[m:]
    return _isolate(right, mid, hi, depth + 1)


def _sign(v: Number) -> int:
    return (v > 0) - (v < 0)


def _refine(g: Sequence[Number], lo: Number, hi: Number, max_iter: int = 400) -> Number:
    """The sign change of ``g`` inside ``[lo, hi]`` (which holds exactly one, possibly with
    even-order zeros at the ends) by Newton steps kept inside a shrinking bracket."""
    if lo == hi:
        return lo
    # Orientation: the sign g takes on the right of the crossing.
    s_right = _sign(horner(g, hi))
    if not s_right:
        s_right = -_sign(horner(g, lo))
    if not s_right:  # zeros at both ends: find an interior sign by sampling
        n = 64
        signs = [_sign(horner(g, lo + (hi - lo) * i / n)) for i in range(1, n)]
        nz = [v for v in signs if v]
        if not nz:
            return (lo + hi) / 2
        s_right = -nz[0]
    dg = [k * g[k] for k in range(1, len(g))] or [g[0] * 0]
    x = (lo + hi) / 2
    for _ in range(max_iter):
        gx = horner(g, x)
        sx = _sign(gx)
        if not sx:
            return x
        if sx == s_right:
            hi = x
        else:
            lo = x
        d = horner(dg, x)
        nx = x - gx / d if d else lo
        if not lo < nx < hi:
            nx = (lo + hi) / 2
        if nx == x or hi - lo <= abs(x) * _ulp_rel(x) * 4:
            return nx
        x = nx
    return x


def _ulp_rel(x: Number) -> Number:
    # 2^-prec in the number's own precision: (1 + e) == 1 test is avoided for speed.
    prec = getattr(x, "precision", None)
    if prec is None:
        prec = x.context.prec
    return x * 0 + 2.0 ** -(prec - 1)


def first_crossing(g: Sequence[Number]) -> Number | None:
    """Smallest ``τ`` in ``(0, 1]`` where ``G(τ) = sum g[k] τ^k`` changes sign, or ``None``.

    ``g`` must not vanish at ``τ = 0`` (deflate first with :func:`deflate`).
    """
    if not g:
        return None
    g0 = g[0]
    if abs(g0) > sum(abs(v) for v in g[1:]):
        return None
    if not g0:
        raise ValueError("the event polynomial vanishes at the start of the step; deflate it")
    got = _isolate(list(g), g0 * 0, g0 * 0 + 1, 0)
    if got is None:
        return None if horner(g, g0 * 0 + 1) else g0 * 0 + 1
    return _refine(g, *got)
