"""Direction changes over log time (analysis/margins.py)."""

from __future__ import annotations

import math

from kltools.analysis.margins import MarginReport


def test_log_time_split_starts_at_a_small_positive_time_when_t0_is_zero() -> None:
    # Classified from t0 = 0; the direction turns by 0.1 rad per decade of t from 1e-2 to 1e4.
    times = [0.0] + [10.0**k for k in range(-2, 5)]
    angles = [0.0] + [0.1 * (k + 2) for k in range(-2, 5)]
    rep = MarginReport(t0=0, times=times,
                       directions=[[math.cos(a), math.sin(a)] for a in angles])
    first, second = rep._direction_moves()
    # log t from log(max(t0, 1e4 · 1e-6)): the middle is t = 10 and each half turns by 0.3.
    # (log of t = 0 put the middle at the first positive sample: an empty first half.)
    assert math.isclose(first, 0.3, rel_tol=1e-12)
    assert math.isclose(second, 0.3, rel_tol=1e-12)
