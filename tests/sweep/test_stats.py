"""Exact binomial intervals and bounds against their closed forms."""

from __future__ import annotations

import pytest

from kltools.sweep import clopper_pearson, upper_bound


def test_binomial_bounds_match_their_closed_forms() -> None:
    for n in (1, 7, 100, 3000):
        assert upper_bound(0, n) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-9)
        assert upper_bound(0, n) < 3 / n  # the rule of three is conservative
        assert clopper_pearson(n, n)[0] == pytest.approx(0.025 ** (1 / n), rel=1e-9)
    lo, hi = clopper_pearson(5, 10)
    assert (lo, hi) == pytest.approx((0.187086, 0.812914), abs=1e-6)
