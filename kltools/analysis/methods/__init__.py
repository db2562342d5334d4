"""Exact exponent methods, one module per theorem; each checks its own hypotheses.

Every method takes a :class:`~kltools.analysis.germ.Germ` and returns a :class:`MethodOutcome`:
an exact exponent only when every hypothesis of its theorem has been *proved* for the germ,
otherwise ``exponent = None`` and the reason the hypothesis failed (or could not be decided).
"""

from kltools.analysis.methods._outcome import MethodOutcome

__all__ = ["MethodOutcome"]
