"""Where a run is, as a fraction of its horizon: linear time up to 1e6, log time beyond.

A horizon of 1e40 cannot be shown on a linear bar (the first 1e30 time units would be an
invisible sliver while the run spends most steps there), and float totals of that size break
progress libraries that count in integers. :class:`HorizonScale` maps ``t`` in ``[0, T]`` to a
position in ``[0, 1]``: ``t / T`` when ``T <= 1e6``, else ``log1p(t) / log1p(T)``.

>>> HorizonScale(10).position(5)
0.5
>>> round(HorizonScale(1e40).position(1e20), 3)
0.5
>>> HorizonScale(1e40).position(2e40)
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["LOG_SCALE_FROM", "HorizonScale"]

LOG_SCALE_FROM = 1e6


@dataclass(frozen=True)
class HorizonScale:
    """Progress position of a run to horizon ``total`` (module docstring)."""

    total: float

    @property
    def logarithmic(self) -> bool:
        return not self.total <= LOG_SCALE_FROM

    def position(self, t: float) -> float:
        """Fraction of the run done at time ``t`` (clamped to ``[0, 1]``; 0 for nan)."""
        if not self.total > 0 or math.isnan(t):
            return 0.0
        if math.isinf(self.total):
            return 0.0
        if self.logarithmic:
            frac = math.log1p(max(t, 0.0)) / math.log1p(self.total)
        else:
            frac = t / self.total
        return min(1.0, max(0.0, frac))
