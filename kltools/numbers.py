"""Numbers across layers: precision in bits and digits, exact conversions, magnitudes, digits.

The bottom layer every other module may import. Three rules it serves:

* **Exact between layers.** A number crosses a layer boundary exactly: as a ``Fraction`` (or a
  SymPy ``Rational``), or as a binary float of known precision (gmpy2 ``mpfr``, mpmath ``mpf``)
  whose exact value :func:`to_fraction` recovers. Decimal strings appear only at the JSON /
  report edge (:func:`format_number`), never as an intermediate (``mpf(str(v))`` rounds twice).
* **Precision is per call.** :func:`mp_context` gives a private mpmath context; gmpy2 precision
  is set with ``gmpy2.context(precision=bits_for_dps(dps))``. Nothing global is changed.
* **Magnitudes far outside the double range** (residuals of 1e-500 at 600 digits) are read with
  :func:`log2abs` / :func:`log10abs` from the number's exponent, never through ``float(v)``.

>>> bits_for_dps(30)
107
>>> log10abs(Fraction(1, 1000))
-3.0
>>> round(agreement_digits([Fraction(1, 3)], [Fraction(1, 3) + Fraction(1, 10**12)]), 2)
11.52
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

__all__ = [
    "BITS_PER_DIGIT",
    "agreement_digits",
    "bits_for_dps",
    "dps_for_bits",
    "format_number",
    "horner",
    "is_finite_number",
    "log2abs",
    "log10abs",
    "mp_context",
    "pow2",
    "to_float",
    "to_fraction",
    "to_mpf",
    "to_mpfr",
]

Number = Any  # gmpy2.mpfr, mpmath.mpf, Fraction, int, float, SymPy Rational

BITS_PER_DIGIT = math.log2(10)
"""log₂ 10 = 3.3219…: binary digits per decimal digit."""

GUARD_BITS = 8


def bits_for_dps(dps: int, guard: int = GUARD_BITS) -> int:
    """Binary precision carrying ``dps`` decimal digits, plus ``guard`` guard bits."""
    return int(dps * BITS_PER_DIGIT) + guard


def dps_for_bits(bits: int) -> int:
    """Decimal digits that ``bits`` binary digits carry in full (rounded down)."""
    return int(bits / BITS_PER_DIGIT)


@lru_cache(maxsize=64)
def mp_context(dps: int) -> Any:
    """A private mpmath context working at ``dps`` decimal digits (never the global ``mp``)."""
    from mpmath.ctx_mp import MPContext

    ctx = MPContext()
    ctx.dps = dps
    return ctx


# ---------------------------------------------------------------------------------------------
# Exact conversions


def _exact_ratio(v: object) -> tuple[int, int] | None:
    """``(numerator, denominator)`` of the exact value of ``v``; None for inf / nan."""
    if isinstance(v, bool):
        raise TypeError("a bool is not a number")
    if isinstance(v, int):
        return v, 1
    if isinstance(v, Fraction):
        return v.numerator, v.denominator
    if callable(getattr(v, "as_mantissa_exp", None)):  # gmpy2 mpfr (its `_mpf_` view differs)
        if not v.is_finite():
            return None
        n, d = v.as_integer_ratio()
        return int(n), int(d)
    mpf_tuple = getattr(v, "_mpf_", None)
    if isinstance(mpf_tuple, tuple):  # mpmath mpf: (sign, mantissa, exponent, bitcount)
        sign, man, exp, _ = mpf_tuple
        if not man:
            return None if exp else (0, 1)  # zero, or inf / nan (zero mantissa, non-zero exp)
        man = -int(man) if sign else int(man)
        return (man << exp, 1) if exp >= 0 else (man, 1 << -exp)
    p, q = getattr(v, "p", None), getattr(v, "q", None)  # SymPy Rational / Integer
    if isinstance(p, int) and isinstance(q, int):
        return p, q
    ratio = getattr(v, "as_integer_ratio", None)  # float, gmpy2 mpfr / mpq / mpz
    if ratio is not None:
        try:
            n, d = ratio()
        except (OverflowError, ValueError):  # inf, nan
            return None
        return int(n), int(d)
    return None


def to_fraction(v: object) -> Fraction:
    """The exact value of ``v`` as a ``Fraction``.

    Accepts ints, Fractions, SymPy rationals, binary floats (``float``, gmpy2 ``mpfr``, mpmath
    ``mpf``: their exact binary value) and decimal strings such as ``"0.1"`` or ``"-3/4"`` (one
    tenth, not its binary neighbour). Raises ``ValueError`` for inf, nan and non-numbers.

    >>> to_fraction("0.1"), to_fraction(0.5), to_fraction("-3/4")
    (Fraction(1, 10), Fraction(1, 2), Fraction(-3, 4))
    """
    if isinstance(v, str):
        try:
            return Fraction(v.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{v!r} is not a finite number") from None
    parts = _exact_ratio(v)
    if parts is None:
        raise ValueError(f"{v!r} is not a finite real number")
    return Fraction(*parts)


def is_finite_number(v: object) -> bool:
    """Whether ``v`` is a finite real of a supported type (no inf / nan)."""
    try:
        return _exact_ratio(v) is not None
    except TypeError:
        return False


def to_mpf(v: object, ctx: Any) -> Any:
    """``v`` rounded once to the precision of the mpmath context ``ctx`` (exact input: one
    rounding; a binary float of higher precision: one rounding; no decimal detour)."""
    if isinstance(v, str):
        q = to_fraction(v)
        return ctx.mpf(q.numerator) / q.denominator
    parts = _exact_ratio(v)
    if parts is None:
        raise ValueError(f"{v!r} is not a finite real number")
    n, d = parts
    if d == 1:
        return ctx.mpf(n)
    if d & (d - 1) == 0:  # a dyadic rational: exact scaling, then one rounding
        return ctx.ldexp(ctx.mpf(n), -(d.bit_length() - 1))
    return ctx.mpf(n) / d


def to_mpfr(v: object, bits: int | None = None) -> Any:
    """``v`` as a gmpy2 ``mpfr`` rounded once to ``bits`` (default: the current gmpy2 context's
    precision)."""
    import gmpy2

    if bits is not None:
        with gmpy2.context(precision=bits):
            return to_mpfr(v)
    if isinstance(v, gmpy2.mpfr):
        return gmpy2.mpfr(v)
    q = to_fraction(v)
    return gmpy2.mpfr(gmpy2.mpq(q.numerator, q.denominator)) if q.denominator != 1 \
        else gmpy2.mpfr(q.numerator)


def to_float(v: object) -> float:
    """The nearest double of ``v`` (±inf beyond the double range, 0.0 below it)."""
    if isinstance(v, float):
        return v
    if isinstance(v, int):
        try:
            return float(v)
        except OverflowError:
            return math.inf if v > 0 else -math.inf
    if isinstance(v, str):
        v = to_fraction(v)
    try:
        return float(v)  # mpf, mpfr, Fraction, Rational: correctly rounded
    except OverflowError:
        return math.inf if to_fraction(v) > 0 else -math.inf


# ---------------------------------------------------------------------------------------------
# Magnitudes


def log2abs(v: Number) -> float:
    """``log₂|v|`` as a float for any supported number, far outside the double range
    (``-inf`` for zero, ``inf`` for inf / nan)."""
    as_me = getattr(v, "as_mantissa_exp", None)  # gmpy2 mpfr
    if as_me is not None and callable(as_me):
        if not v:
            return -math.inf
        if not v.is_finite():
            return math.inf
        man, exp = as_me()
        man = abs(int(man))
    else:
        mpf_tuple = getattr(v, "_mpf_", None)
        if isinstance(mpf_tuple, tuple):
            _, man, exp, _ = mpf_tuple
            if not man:
                return -math.inf if not exp else math.inf
            man = int(man)
        else:
            if isinstance(v, float) and not math.isfinite(v):
                return math.inf
            q = abs(to_fraction(v))
            if not q:
                return -math.inf
            return _log2_int(q.numerator) - _log2_int(q.denominator)
    return exp + _log2_int(man)


def _log2_int(m: int) -> float:
    shift = max(m.bit_length() - 53, 0)
    return shift + math.log2(m >> shift)


def log10abs(v: Number) -> float:
    """``log₁₀|v|`` as a float (see :func:`log2abs`)."""
    return log2abs(v) / BITS_PER_DIGIT


def pow2(e: float, one: Number) -> Number:
    """``2^e`` in the number type of ``one`` (which must equal 1); ``e`` may exceed the float
    range."""
    ie = math.floor(e)
    m = one * (2.0 ** (e - ie))
    return m * (1 << ie) if ie >= 0 else m / (1 << -ie)


def horner(coeffs: Sequence[Number], s: Number) -> Number:
    """``Σ_k coeffs[k] s^k`` by Horner's rule."""
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * s + c
    return acc


def agreement_digits(a: Sequence[Number] | Number, b: Sequence[Number] | Number) -> float:
    """Significant decimal digits on which ``a`` and ``b`` agree, in the max-norm relative to
    ``b``: ``−log₁₀(‖a − b‖∞ / ‖b‖∞)``, computed exactly (``inf`` when equal, 0 when ``b = 0``
    and ``a ≠ b``, never negative).

    >>> round(agreement_digits(Fraction(1001, 1000), Fraction(1)), 6)
    3.0
    """
    xs = list(a) if isinstance(a, Sequence) and not isinstance(a, str) else [a]
    ys = list(b) if isinstance(b, Sequence) and not isinstance(b, str) else [b]
    if len(xs) != len(ys):
        raise ValueError(f"cannot compare {len(xs)} numbers with {len(ys)}")
    diff = max((abs(to_fraction(x) - to_fraction(y)) for x, y in zip(xs, ys, strict=True)),
               default=Fraction(0))
    if not diff:
        return math.inf
    scale = max(abs(to_fraction(y)) for y in ys)
    if not scale:
        return 0.0
    return max(0.0, -log10abs(diff / scale))


# ---------------------------------------------------------------------------------------------
# The JSON / report edge


def format_number(v: Number, digits: int | None = None) -> str:
    """``v`` as a decimal string: ``digits`` significant digits, or all the digits its
    precision carries (exact rationals: ``p/q``). For JSON, reports and the terminal only.

    >>> format_number(Fraction(1, 3), 5)
    '0.33333'
    >>> format_number(Fraction(1, 3))
    '1/3'
    """
    import mpmath

    if isinstance(v, str):
        return v
    if v is None:
        return "None"
    if isinstance(v, bool):
        return str(v)
    prec = getattr(v, "precision", None)  # gmpy2 mpfr
    if prec is None:
        ctx = getattr(v, "context", None)
        prec = getattr(ctx, "prec", None) if ctx is not None else None
    if digits is None:
        if prec is None:
            if isinstance(v, float):
                return repr(v)
            q = to_fraction(v)
            return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"
        digits = dps_for_bits(int(prec)) + 1
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    if not is_finite_number(v):
        return str(v)
    ctx = mp_context(max(digits, 15) + 5)
    return mpmath.nstr(to_mpf(v, ctx), digits, strip_zeros=False, min_fixed=-4, max_fixed=8)
