"""Safe parsing of user-written expressions and exact numbers.

Expressions are parsed with :mod:`ast` and rebuilt node by node from a whitelist: numbers (kept
exact: ``0.1`` is ``1/10``), the declared variable names, ``+ - * / **`` (integer or rational
powers), and the functions below. Nothing is passed to ``eval``; attribute access, subscripts,
calls of anything else, keyword arguments, lambdas and comprehensions are refused with a
:class:`~kltools.errors.SpecError` that names the field and the offending piece.

Functions: ``relu(z)``, ``leaky_relu(z, a)``, ``abs(z)``, ``Max(a, b, ...)``, ``Min(a, b, ...)``,
``exp``, ``log``, ``sigmoid``, ``tanh``, ``softplus``, ``sqrt``. Kinks are represented by SymPy's
``Max``/``Min``/``Abs``; the derivation replaces each by an explicit switch (never by SymPy's
``Heaviside(0) = 1/2``).
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import sympy as sp

from kltools.errors import SpecError
from kltools.spec import limits
from kltools.spec._bounds import (
    check_literals,
    decimal_bits,
    measure,
    number_phrase,
    operands,
)
from kltools.spec._syntax import Source, parse_tree
from kltools.spec.functions import sigmoid, softplus

__all__ = ["FUNCTIONS", "MAX_EXPONENT", "normalize_name", "parse_expression", "parse_number",
           "real_symbol"]

MAX_EXPONENT = limits.LIMITS["exponent"].default
"""Default largest numerator or denominator of a power ``a**(p/q)`` (limit ``exponent`` of
:mod:`kltools.spec.limits`; ``9**9**9`` would otherwise hang while SymPy computes the number)."""


def normalize_name(name: str) -> str:
    """The NFKC form of ``name``: what Python's parser reads an identifier as.

    ``ast.parse`` normalises identifiers (PEP 3131), so a fullwidth ``ｘ`` *is* ``x`` and the
    ligature ``ﬁ`` *is* ``fi`` in an expression; kltools compares names in this form, refuses
    two declared names with one form, and reports names as the user wrote them.

    >>> normalize_name("ｘ"), normalize_name("ﬁ")
    ('x', 'fi')
    """
    return unicodedata.normalize("NFKC", name)


def _by_normal_form(names: Mapping[str, sp.Symbol], path: str) -> dict[str, sp.Symbol]:
    out: dict[str, sp.Symbol] = {}
    written: dict[str, str] = {}
    for name, sym in names.items():
        key = normalize_name(name)
        if key in out:
            raise SpecError(f"the names {written[key]!r} and {name!r} are the same name to "
                            f"Python (both read as {key!r}, Unicode NFKC); rename one", path)
        out[key] = sym
        written[key] = name
    return out


def real_symbol(name: str) -> sp.Symbol:
    """The SymPy symbol kltools uses for a parameter or variable: real, nothing else assumed."""
    return sp.Symbol(name, real=True)


def _relu(z: sp.Expr) -> sp.Expr:
    return sp.Max(z, 0)


def _leaky_relu(z: sp.Expr, a: sp.Expr) -> sp.Expr:
    if not a.is_Rational:
        raise ValueError("the slope a of leaky_relu(z, a) must be a number")
    # a z + (1 - a) max(z, 0): one kink at z = 0 whatever the slope, even a > 1.
    return a * z + (1 - a) * sp.Max(z, 0)


FUNCTIONS: Mapping[str, tuple[Callable[..., sp.Expr], int | None]] = {
    "relu": (_relu, 1),
    "leaky_relu": (_leaky_relu, 2),
    "abs": (sp.Abs, 1),
    "Abs": (sp.Abs, 1),
    "Max": (sp.Max, None),
    "Min": (sp.Min, None),
    "max": (sp.Max, None),
    "min": (sp.Min, None),
    "exp": (sp.exp, 1),
    "log": (sp.log, 1),
    "sigmoid": (sigmoid, 1),
    "tanh": (sp.tanh, 1),
    "softplus": (softplus, 1),
    "sqrt": (sp.sqrt, 1),
}


def parse_number(value: object, path: str) -> sp.Rational:
    """An exact rational from a TOML/Python number or a string such as ``"0.1"``, ``"-3/4"``.

    Floats are converted through their shortest decimal representation (``0.1`` becomes
    ``1/10``, not the binary value), because a user who writes 0.1 in a spec means one tenth.
    Numbers over the ``number_bits`` limit (:mod:`kltools.spec.limits`) are refused before they
    are built (``"1e99999999"`` would be an exact 10^99999999; an integer string over 4300 digits
    trips Python's int-string limit).
    """
    if isinstance(value, bool):
        raise SpecError(f"expected a number, got the boolean {value!r}", path)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SpecError(f"expected a finite number, got {value!r}", path)
        return sp.Rational(repr(value))
    if isinstance(value, int | Fraction | sp.Rational):
        q = Fraction(int(value.p), int(value.q)) if isinstance(value, sp.Rational) else (
            Fraction(value))
        bits = q.numerator.bit_length() + q.denominator.bit_length()
        limits.check("number_bits", bits, path, f"a number of {bits} bits")
        return value if isinstance(value, sp.Rational) else sp.Rational(q.numerator,
                                                                        q.denominator)
    if isinstance(value, str):
        return _parse_number_text(value, path)
    raise SpecError(f"expected a number (or a string such as '0.1'), got {type(value).__name__}",
                    path)


def _parse_number_text(value: str, path: str) -> sp.Rational:
    text = value.strip()
    parts = text.split("/") if "/" in text else [text]
    for part in parts:
        bits = decimal_bits(part) if _DECIMAL.fullmatch(part.strip()) else 0.0
        if bits > limits.get("number_bits") or len(part) > 4 * limits.get("number_bits"):
            raise SpecError(limits.over("number_bits", max(bits, len(part)),
                                        number_phrase(part.strip(), bits)), path)
    try:
        if len(parts) > 2:
            raise ValueError
        q = Fraction(parts[0])
        if len(parts) == 2:
            q = Fraction(Fraction(parts[0].strip()), Fraction(parts[1].strip()))
    except ZeroDivisionError:
        raise SpecError(f"{value!r} divides by zero; write a finite number", path) from None
    except ValueError:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise SpecError(
            f"{shown!r} is not a number; write an integer, a decimal ('0.1') or a fraction "
            "('1/3')", path) from None
    return sp.Rational(q.numerator, q.denominator)


_DECIMAL = re.compile(r"[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d[\d_]*)?")


_REFUSED = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "subscripts (a[i]) are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "and/or are not allowed",
    ast.IfExp: "conditional expressions are not allowed (use relu, abs, Max or Min)",
    ast.NamedExpr: "assignment (:=) is not allowed",
}


def _bad_value(e: sp.Expr) -> bool:
    """Whether ``e`` contains an infinity, NaN or the imaginary unit (log(0), 0**-1, sqrt(-1))."""
    return bool(e.has(sp.zoo, sp.oo, sp.nan, sp.I)) or (e.is_number and e.is_real is False)


class _Rebuilder:
    """SymPy from a syntax tree already measured by :func:`kltools.spec._bounds.measure`, so
    every constant it computes is within the limits and its recursion depth is bounded."""

    def __init__(self, names: Mapping[str, sp.Symbol], path: str, source: Source,
                 fix: str) -> None:
        self.names = names
        self.path = path
        self.source = source
        self.fix = fix

    def fail(self, node: ast.AST, what: str) -> SpecError:
        piece = self.source.segment(node) or type(node).__name__
        if len(piece) > 80:
            piece = piece[:77] + "..."
        return SpecError(f"{what} in {piece!r}", self.path)

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise self.fail(node, "only numbers are allowed as constants")
            text = (self.source.segment(node) or repr(node.value)).replace("_", "")
            return sp.Rational(text) if isinstance(node.value, float) else sp.Integer(node.value)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = self.build(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        for kind, what in _REFUSED.items():
            if isinstance(node, kind):
                raise self.fail(node, what)
        raise self.fail(node, f"{type(node).__name__} is not allowed in an expression")

    def name(self, node: ast.Name) -> sp.Expr:
        if node.id in self.names:
            return self.names[node.id]
        known = ", ".join(sorted(str(v) for v in self.names.values())) or "none declared"
        hint = " (it is a function: call it)" if node.id in FUNCTIONS else ""
        # As written: node.id is the NFKC form, which may not be what the user typed.
        written = self.source.segment(node) or node.id
        raise SpecError(f"unknown symbol {written!r}{hint}; the variables are: {known}; "
                        f"{self.fix}", self.path)

    def binop(self, node: ast.BinOp) -> sp.Expr:
        op = node.op
        if isinstance(op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            # A chain a + b - c ... is one n-ary node: no recursion per term, no quadratic
            # re-flattening by SymPy.
            parts = []
            for inverse, child in operands(node):
                v = self.build(child)
                if isinstance(op, ast.Mult | ast.Div) and inverse and v == 0:
                    raise self.fail(node, "division by zero")
                parts.append((-v if isinstance(op, ast.Add | ast.Sub) else sp.Pow(v, -1))
                             if inverse else v)
            return sp.Add(*parts) if isinstance(op, ast.Add | ast.Sub) else sp.Mul(*parts)
        if isinstance(op, ast.Pow):
            a, b = self.build(node.left), self.build(node.right)
            if not b.is_Rational:
                raise self.fail(node, "powers must be numbers (write exp(b*log(a)))")
            return self.finite(node, a**b)
        hint = "; use ** for powers" if isinstance(op, ast.BitXor) else ""
        raise self.fail(node, f"operator {type(op).__name__} is not allowed{hint}")

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.fail(
                node, "only these functions may be called: " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise self.fail(node, "keyword arguments are not allowed")
        fn, arity = FUNCTIONS[node.func.id]
        if (arity is not None and len(node.args) != arity) or (arity is None
                                                                and len(node.args) < 2):
            want = arity if arity is not None else "at least 2"
            raise self.fail(node, f"{node.func.id} takes {want} argument(s), got "
                                  f"{len(node.args)}")
        args = [self.build(a) for a in node.args]
        try:
            value = fn(*args)
        except ValueError as exc:
            raise self.fail(node, str(exc)) from None
        return self.finite(node, value)

    def finite(self, node: ast.AST, e: sp.Expr) -> sp.Expr:
        if _bad_value(e):
            raise self.fail(node, f"the value {e} is not a finite real number (division by zero, "
                                  "log of 0 or of a negative number, or an even root of a "
                                  "negative number)")
        return e


def parse_expression(text: str, variables: Sequence[sp.Symbol] | Mapping[str, sp.Symbol],
                     path: str = "expr", *, fix: str = "add it to vars") -> sp.Expr:
    """Parse ``text`` into an exact SymPy expression over ``variables`` (see module docstring).

    ``fix`` is the advice appended to an unknown-symbol error.

    >>> x = real_symbol("x")
    >>> parse_expression("0.1*x**2 + relu(x - 1/2)", [x])
    x**2/10 + Max(0, x - 1/2)
    """
    if not isinstance(text, str):
        raise SpecError(f"expected an expression as a string, got {type(text).__name__}", path)
    names = _by_normal_form(dict(variables) if isinstance(variables, Mapping)
                            else {str(v): v for v in variables}, path)
    clash = sorted(set(names) & set(FUNCTIONS))
    if clash:
        raise SpecError(f"variable name(s) {clash} clash with function names; rename them", path)
    clash = sorted(n for n in names if keyword.iskeyword(n))
    if clash:
        raise SpecError(f"variable name(s) {clash} are Python keywords; rename them", path)
    text = text.strip()
    if not text:
        raise SpecError("the expression is empty", path)
    limits.check("expr_chars", len(text), path,
                 f"an expression of {len(text)} characters")
    check_literals(text, path)
    try:
        tree = parse_tree(text)
    except SyntaxError as exc:
        raise SpecError(f"syntax error at column {exc.offset}: {exc.msg}", path) from None
    except (RecursionError, MemoryError):
        raise SpecError(limits.over("expr_depth", math.inf, "an expression nested too deeply "
                                    "for Python's parser"), path) from None
    source = Source(text)
    measure(tree, source, path)  # refuses, before SymPy, what would be too big or too deep
    try:
        return _Rebuilder(names, path, source, fix).build(tree)
    except RecursionError:  # only when expr_depth was raised past what Python can recurse
        raise SpecError(limits.over("expr_depth", limits.get("expr_depth"),
                                    "an expression this deeply nested"), path) from None
