"""Finite-time blow-up detection from Taylor coefficients (Domb–Sykes ratio fits).

For a singularity ``(1 - t/ρ)^γ`` (``γ`` not a non-negative integer; ``γ = 0`` read as a
logarithm) the normalised Taylor coefficients at distance ``ρ`` satisfy exactly

.. math:: \\frac{a_k}{a_{k-1}} = \\frac{1}{ρ}\\Bigl(1 - \\frac{γ + 1}{k}\\Bigr),

so the ratios are linear in ``1/k``. Fitting that line through the ratios at orders ``(K, K-1)``
gives ``1/ρ``; fitting it through ``(K-1, K-2)`` gives a second value. When both agree, the
nearest singularity is real, on the positive side, at ``t* = t + ρ``. (A complex-conjugate pair
makes the ratios oscillate and the two fits disagree; a singularity behind the current time gives
``1/ρ < 0``.) For pure power singularities such as ``x' = 4x^3`` the fit is exact at every
step; otherwise its relative error is independent of the distance, so the error in ``t*`` shrinks
like the distance itself as the integration approaches ``t*``.

:class:`BlowupTracker` keeps the estimates of consecutive steps. The number of trustworthy
digits of ``t*`` is read from the agreement of the last estimates,
``-log10(max_i |t*_i - t*| / |t*|)``, capped at the working precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kltools.numbers import log2abs

__all__ = ["BlowupTracker", "inverse_radius"]

Number = Any
_LOG10_2 = math.log10(2.0)


def _fit(r_hi: Number, r_lo: Number, k: int) -> Number:
    """Intercept ``A`` of ``r = A + B/k`` through ``(k, r_hi)`` and ``(k-1, r_lo)``."""
    # r_hi = A + B/k, r_lo = A + B/(k-1)  =>  A = k r_hi - (k-1) r_lo
    return k * r_hi - (k - 1) * r_lo


def inverse_radius(a: Sequence[Number], order: int) -> tuple[Number, Number] | None:
    """Two Domb–Sykes fits ``(A_K, A_{K-1})`` of ``1/ρ`` from ``a_{K-3..K}`` (``order = K``)."""
    a3, a2, a1, a0 = a
    if not (a3 and a2 and a1):
        return None
    r0, r1, r2 = a0 / a1, a1 / a2, a2 / a3
    return _fit(r0, r1, order), _fit(r1, r2, order - 1)


@dataclass
class BlowupTracker:
    """Collects ``t*`` estimates over consecutive steps and decides when to report a blow-up.

    Parameters
    ----------
    digits_cap
        Digits that can be claimed at most (the requested precision).
    window
        Number of consecutive agreeing estimates needed.
    agree
        Relative agreement of the two fits of one step that counts as a clean real singularity.
    """

    digits_cap: int
    window: int = 6
    agree: float = 1e-3
    history: list[tuple[Number, Number]] = field(default_factory=list)  # (t, t*)
    first_distance: Number | None = None

    def update(self, t: Number, window: Sequence[Number], order: int, scale: Number) -> bool:
        """Add the estimate of the step starting at ``t``; True when it is clean.

        ``window`` holds ``a_{m-3}, .., a_m`` (``m = order``) of the dominant state component,
        normalised coefficients in the time unit ``scale`` (``x(t + scale τ)`` in ``τ``).
        """
        fits = inverse_radius(window, order)
        if fits is None:
            self.reset()
            return False
        a_hi, a_lo = fits
        if not a_hi > 0 or abs(a_hi - a_lo) > self.agree * abs(a_hi):
            self.reset()
            return False
        t_star = t + scale / a_hi
        self.history.append((t, t_star))
        if self.first_distance is None:
            self.first_distance = t_star - t
        del self.history[: -4 * self.window]
        return True

    def reset(self) -> None:
        self.history.clear()
        self.first_distance = None

    @property
    def t_star(self) -> Number | None:
        return self.history[-1][1] if self.history else None

    def digits(self) -> float:
        """Decimal digits on which the last ``window`` estimates of ``t*`` agree."""
        if len(self.history) < self.window:
            return 0.0
        last = self.history[-1][1]
        spread = max(abs(ts - last) for _, ts in self.history[-self.window:])
        if not spread:
            return float(self.digits_cap)
        d = (log2abs(last) - log2abs(spread)) * _LOG10_2
        return max(0.0, min(float(self.digits_cap), d))

    def verdict(self, t_end: Number, close_digits: float, watch_events: bool
                ) -> tuple[Number, float] | None:
        """``(t*, digits)`` when a blow-up before ``t_end`` is established, else None.

        Established means: ``window`` consecutive clean estimates, ``t* < t_end``, and either the
        digits are at their cap and the distance to ``t*`` has shrunk a thousandfold since the
        first clean estimate (and, when events are watched, is below ``10^-8 max(1, |t*|)``, so
        no crossing can hide before ``t*``), or the remaining distance is below
        ``10^-close_digits max(1, |t*|)``.
        """
        if len(self.history) < self.window:
            return None
        t, t_star = self.history[-1]
        if not t_star < t_end:
            return None
        dist = t_star - t
        scale = max(abs(t_star), t_star * 0 + 1)
        rel = (log2abs(scale) - log2abs(dist)) * _LOG10_2 if dist > 0 else math.inf
        digits = self.digits()
        if rel >= close_digits:
            return t_star, digits
        shrunk = self.first_distance is not None and dist <= self.first_distance / 1000
        if digits >= self.digits_cap and shrunk and (not watch_events or rel >= 8):
            return t_star, digits
        return None
