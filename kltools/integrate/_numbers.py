"""Small number helpers shared by the integrator's private modules (backend-agnostic)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["horner", "log2abs", "pow2"]

Number = Any


def log2abs(v: Number) -> float:
    """``log2 |v|`` as a float for a gmpy2 ``mpfr`` or an mpmath ``mpf`` (``-inf`` for zero).

    Works far outside the double range (MPFR and mpmath exponents are unbounded in practice).
    """
    as_me = getattr(v, "as_mantissa_exp", None)  # gmpy2 (which also has an `_mpf_` view)
    if as_me is not None:
        if not v:
            return -math.inf
        if not v.is_finite():
            return math.inf
        man, exp = as_me()
        man = abs(man)
        bc = man.bit_length()
    else:
        _, man, exp, bc = v._mpf_
        if not man:
            return -math.inf if not exp else math.inf  # zero, or inf / nan
    shift = max(int(bc) - 53, 0)
    return float(exp + shift) + math.log2(float(int(man) >> shift))


def pow2(e: float, one: Number) -> Number:
    """``2^e`` in the number type of ``one`` (which must equal 1); ``e`` may exceed the float
    range."""
    ie = math.floor(e)
    m = one * (2.0 ** (e - ie))
    return m * (1 << ie) if ie >= 0 else m / (1 << -ie)


def horner(coeffs: Sequence[Number], s: Number) -> Number:
    """``sum_k coeffs[k] s^k`` by Horner's rule."""
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * s + c
    return acc
