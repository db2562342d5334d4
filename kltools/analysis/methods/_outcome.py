"""The value every exponent method returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["MethodOutcome"]


@dataclass(frozen=True)
class MethodOutcome:
    """The answer of one method.

    Attributes
    ----------
    method
        The method's name (``morse``, ``univariate``, ...).
    exponent
        The exact exponent (a SymPy Rational) when the method's hypotheses hold, else None.
    reason
        Why the hypotheses hold (a short proof summary) or why they fail.
    interval
        An enclosure (lo, hi) of the exponent when the method produced one without an exact
        value (the power rule applied to a numerical estimate), else None.
    details
        Method-specific data (weights, faces, witnesses, ...), JSON-friendly.
    """

    method: str
    exponent: sp.Rational | None
    reason: str
    interval: tuple[float, float] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def applies(self) -> bool:
        return self.exponent is not None

    @staticmethod
    def declined(method: str, reason: str, **details: Any) -> MethodOutcome:
        return MethodOutcome(method, None, reason, None, dict(details))
