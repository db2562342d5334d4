"""Integrators of gradient flows (Taylor method at arbitrary precision)."""

from kltools.integrate.taylor import EventHit as EventHit
from kltools.integrate.taylor import Outcome as Outcome
from kltools.integrate.taylor import Segment as Segment
from kltools.integrate.taylor import Solution as Solution
from kltools.integrate.taylor import taylor_solve as taylor_solve

__all__ = ["EventHit", "Outcome", "Segment", "Solution", "taylor_solve"]
