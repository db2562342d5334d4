"""One Taylor step: its jets in the step's time unit, and the step-size rules.

Two rules bound the step ``τ`` (in the jet's time unit), and the smaller wins:

* **Jorba–Zou** (coefficient decay): ``τ = min_{m ∈ {K-1, K}} (δ / ‖x_m‖)^{1/m} · safety`` with
  ``δ = ε · max(1, ‖x‖∞)``, over the state and the controlled carried outputs;
* **singularity guards** (:mod:`kltools.compiled.singularities`): for every analytic operation
  the argument's range over the step, bounded termwise by ``|a_k| τ^k <= 2^-k Δ``, stays inside
  the disc where the operation's series converges. This is what sees a pole the coefficients
  cannot see yet (a softplus at ``-500`` whose value is ``e^-500``). Only orders
  ``k <= GUARD_ORDERS`` and ``k = K`` are read: higher orders of the argument are the state's,
  already bounded by the first rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kltools.compiled.singularities import log2_allowed_range
from kltools.numbers import horner, log2abs

__all__ = ["GUARD_ORDERS", "StepControl", "StepJet"]

Number = Any
GUARD_ORDERS = 12


@dataclass
class StepJet:
    """One step's jets in the time unit ``unit``: backend numbers (``shift is None``) or
    fixed-point integers ``m 2^-shift``. ``extra`` are the carried outputs, ``guards`` the
    arguments of the guarded operations."""

    state: list[list[Any]]
    extra: list[list[Any]]
    guards: list[list[Any]]
    unit: Number
    shift: int | None

    def log2(self, c: list[Any], k: int) -> float:
        v = c[k]
        if self.shift is None:
            return log2abs(v)
        if not v:
            return -math.inf
        m = abs(int(v))  # log2 of an integer from its top 53 bits (no Fraction detour)
        drop = max(m.bit_length() - 53, 0)
        return drop + math.log2(m >> drop) - self.shift

    def value(self, c: list[Any], k: int) -> Number:
        v = c[k]
        if self.shift is None:
            return v
        return _scale2(self.unit * 0 + int(v), -self.shift)

    def evaluate(self, c: list[Any], tau: Number) -> Number:
        """``Σ_k c_k τ^k`` as a backend number (exact integer sum when ``τ == 1``)."""
        if self.shift is None:
            return horner(c, tau)
        if tau == 1:
            return _scale2(self.unit * 0 + int(sum(c)), -self.shift)
        return self._fixed_horner(c, tau)

    def derivative(self, c: list[Any], tau: Number) -> Number:
        """``d/dt Σ_k c_k ((t - t0)/unit)^k`` at ``τ``: ``Σ_k k c_k τ^(k-1) / unit``."""
        d = [k * c[k] for k in range(1, len(c))] or [c[0] * 0]
        if self.shift is None:
            return horner(d, tau) / self.unit
        return self._fixed_horner(d, tau) / self.unit

    def _fixed_horner(self, c: list[Any], tau: Number) -> Number:
        f = self.shift
        assert f is not None
        tf = int((tau * (1 << f)).__round__()) if hasattr(tau, "__round__") else int(tau * 2**f)
        acc = c[-1]
        for v in reversed(c[:-1]):
            acc = (acc * tf >> f) + v
        return _scale2(self.unit * 0 + int(acc), -f)


def _scale2(v: Number, e: int) -> Number:
    """``v 2^e`` for a backend number ``v``."""
    return v * (1 << e) if e >= 0 else v / (1 << -e)


@dataclass(frozen=True)
class StepControl:
    """The step-size rules of one run (module docstring)."""

    order: int
    log2_tol: float
    controlled: tuple[int, ...]
    guard_kinds: tuple[str, ...]

    @property
    def log2_safety(self) -> float:
        return -0.7 / (self.order - 1) / math.log(2)

    def log2_tau(self, jet: StepJet, log2_scale: float) -> float:
        """``log2`` of the Jorba–Zou step in the jet's unit (``inf``: no bound; ``nan``: a
        coefficient is infinite or undefined)."""
        log2_delta = self.log2_tol + log2_scale
        out = math.inf
        series = (*jet.state, *(jet.extra[i] for i in self.controlled))
        for m in (self.order - 1, self.order):
            lm = max(jet.log2(c, m) for c in series)
            if jet.shift is not None:
                # Below one fixed-point unit a coefficient is unknown, not zero: growth of the
                # step is then limited to (δ 2^shift)^(1/m) per step.
                lm = max(lm, -jet.shift)
            if math.isnan(lm) or lm == math.inf:
                return math.nan
            if lm > -math.inf:
                out = min(out, (log2_delta - lm) / m)
        return out + self.log2_safety if out < math.inf else out

    def guard_log2_tau(self, jet: StepJet, log2_scale: float) -> float:
        """``log2`` of the largest step the singularity guards allow (``inf``: none binds)."""
        out = math.inf
        log2_delta = self.log2_tol + log2_scale
        orders = [k for k in range(1, min(GUARD_ORDERS, self.order) + 1)] + [self.order]
        for kind, c in zip(self.guard_kinds, jet.guards, strict=True):
            a0 = jet.value(c, 0)
            l0 = log2abs(a0)
            if math.isnan(l0) or l0 == math.inf:
                return math.nan
            af = float(a0) if l0 < 1000 else math.copysign(math.inf, a0)
            allowed = log2_allowed_range(kind, l0, af, self.order, log2_delta)
            for k in orders:
                lk = jet.log2(c, k)
                if lk > -math.inf:
                    out = min(out, (allowed - k - lk) / k)
        return out


def defect_bound(jet: StepJet, tau: Number, fields: Sequence[Sequence[Number]],
                 fractions: Sequence[Number]) -> Number:
    """``max_i |p_i'(θτ) − F_i(p(θτ))|`` over the given fractions ``θ``: the residual of the
    step polynomial in the ODE (``fields[j]`` is ``F`` at ``p(θ_j τ)``)."""
    worst = tau * 0
    for theta, f in zip(fractions, fields, strict=True):
        for c, fi in zip(jet.state, f, strict=True):
            worst = max(worst, abs(jet.derivative(c, theta * tau) - fi))
    return worst
