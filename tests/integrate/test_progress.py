"""Progress position over any horizon (integrate/progress.py)."""

from __future__ import annotations

from kltools.integrate.progress import HorizonScale


def test_horizon_scale_is_linear_then_logarithmic() -> None:
    assert HorizonScale(100).position(25) == 0.25
    s = HorizonScale(1e40)
    assert s.logarithmic and s.position(1e40) == 1.0
    assert 0.49 < s.position(1e20) < 0.51
    assert s.position(float("nan")) == 0.0 and HorizonScale(float("inf")).position(1) == 0.0
