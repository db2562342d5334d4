"""kltools.numbers: exact conversions across number types, magnitudes beyond doubles, digits."""

import math
from fractions import Fraction

import gmpy2
import mpmath
import pytest
import sympy as sp

from kltools.numbers import (
    agreement_digits,
    bits_for_dps,
    dps_for_bits,
    format_number,
    is_finite_number,
    log2abs,
    log10abs,
    mp_context,
    to_float,
    to_fraction,
    to_mpf,
    to_mpfr,
)


@pytest.mark.parametrize("value, exact", [
    (0, Fraction(0)), (-7, Fraction(-7)), ("0.1", Fraction(1, 10)), ("-3/4", Fraction(-3, 4)),
    (0.5, Fraction(1, 2)), (0.1, Fraction(3602879701896397, 36028797018963968)),
    (sp.Rational(2, 3), Fraction(2, 3)), (Fraction(5, 7), Fraction(5, 7)),
    (gmpy2.mpfr(0), Fraction(0)), (gmpy2.mpfr("1.5"), Fraction(3, 2)),
    (mpmath.mpf(0), Fraction(0)), (mpmath.mpf(-0.25), Fraction(-1, 4)),
    (sp.Float(0.5), Fraction(1, 2)),
])
def test_to_fraction_is_the_exact_value(value: object, exact: Fraction) -> None:
    assert to_fraction(value) == exact


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), gmpy2.mpfr("inf"),
                                 gmpy2.mpfr("nan"), mpmath.mpf("inf"), mpmath.mpf("nan"),
                                 "abc", "1/0"])
def test_non_finite_values_are_refused(bad: object) -> None:
    assert not is_finite_number(bad) or isinstance(bad, str)
    with pytest.raises(ValueError):
        to_fraction(bad)


def test_to_mpf_rounds_once_without_a_decimal_detour() -> None:
    ctx = mp_context(50)
    third = to_mpf(Fraction(1, 3), ctx)
    assert abs(third * 3 - 1) < ctx.mpf(10) ** -49
    # A 300-bit mpfr keeps its bits when the target context is wider than a decimal string of it.
    with gmpy2.context(precision=300):
        x = gmpy2.mpfr(1) / 3
    wide = to_mpf(x, mp_context(200))
    assert to_fraction(wide) == to_fraction(x)
    assert to_fraction(to_mpfr(Fraction(1, 4), 64)) == Fraction(1, 4)


def test_magnitudes_far_outside_the_double_range() -> None:
    ctx = mp_context(30)
    assert log10abs(ctx.mpf(10) ** -5000) == pytest.approx(-5000, abs=1e-9)
    with gmpy2.context(precision=200):
        assert log2abs(gmpy2.mpfr(2) ** 40000) == pytest.approx(40000)
    assert log2abs(0) == -math.inf
    assert log10abs(Fraction(1, 10**400)) == pytest.approx(-400)
    assert to_float(Fraction(10**400)) == math.inf
    assert to_float(Fraction(-(10**400))) == -math.inf


def test_digits_and_bits() -> None:
    assert bits_for_dps(30) == 107
    assert dps_for_bits(bits_for_dps(60, guard=0)) in (59, 60)
    assert agreement_digits([Fraction(1)], [Fraction(1)]) == math.inf
    assert agreement_digits(Fraction(1, 2) + Fraction(1, 10**20), Fraction(1, 2)) == \
        pytest.approx(20 - math.log10(2))
    assert agreement_digits(1, 0) == 0.0


def test_format_number_at_the_edge() -> None:
    assert format_number(Fraction(1, 3)) == "1/3"
    assert format_number(Fraction(1, 3), 5) == "0.33333"
    assert format_number(mp_context(20).mpf(2) / 3).startswith("0.666666666666666666")
    assert format_number(None) == "None"
