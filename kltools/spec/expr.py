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
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import sympy as sp

from kltools.errors import SpecError
from kltools.spec.functions import sigmoid, softplus

__all__ = ["FUNCTIONS", "MAX_EXPONENT", "parse_expression", "parse_number", "real_symbol"]

MAX_EXPONENT = 1000
"""Largest numerator or denominator allowed in a power ``a**(p/q)``: bigger ones are refused
(``9**9**9`` would otherwise hang while SymPy computes the number)."""


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
    """
    if isinstance(value, bool):
        raise SpecError(f"expected a number, got the boolean {value!r}", path)
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SpecError(f"expected a finite number, got {value!r}", path)
        return sp.Rational(repr(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, sp.Rational):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if "/" in text:
                num, den = text.split("/")
                q = Fraction(Fraction(num.strip()), Fraction(den.strip()))
            else:
                q = Fraction(text)
        except ZeroDivisionError:
            raise SpecError(f"{value!r} divides by zero; write a finite number", path) from None
        except ValueError:
            raise SpecError(
                f"{value!r} is not a number; write an integer, a decimal ('0.1') or a fraction "
                "('1/3')", path) from None
        return sp.Rational(q.numerator, q.denominator)
    raise SpecError(f"expected a number (or a string such as '0.1'), got {type(value).__name__}",
                    path)


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
    def __init__(self, names: Mapping[str, sp.Symbol], path: str, source: str,
                 fix: str) -> None:
        self.names = names
        self.path = path
        self.source = source
        self.fix = fix

    def fail(self, node: ast.AST, what: str) -> SpecError:
        piece = ast.get_source_segment(self.source, node) or type(node).__name__
        return SpecError(f"{what} in {piece!r}", self.path)

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise self.fail(node, "only numbers are allowed as constants")
            text = ast.get_source_segment(self.source, node) or repr(node.value)
            return sp.Rational(text) if isinstance(node.value, float) else sp.Integer(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            known = ", ".join(sorted(self.names)) or "none declared"
            hint = " (it is a function: call it)" if node.id in FUNCTIONS else ""
            raise SpecError(
                f"unknown symbol {node.id!r}{hint}; the variables are: {known}; {self.fix}",
                self.path)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = self.build(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = self.build(node.left), self.build(node.right)
            op = node.op
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, ast.Mult):
                return a * b
            if isinstance(op, ast.Div):
                if b == 0:
                    raise self.fail(node, "division by zero")
                return a / b
            if isinstance(op, ast.Pow):
                if not b.is_Rational:
                    raise self.fail(node, "powers must be numbers (write exp(b*log(a)))")
                if abs(b.p) > MAX_EXPONENT or b.q > MAX_EXPONENT:
                    raise self.fail(node, f"the exponent {b} is too large (at most "
                                          f"{MAX_EXPONENT} in numerator and denominator)")
                return self.finite(node, a**b)
            if isinstance(op, ast.BitXor):
                raise self.fail(node, "^ is not a power here: use ** for powers (x**4)")
            raise self.fail(node, f"operator {type(op).__name__} is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise self.fail(
                    node, "only these functions may be called: " + ", ".join(sorted(FUNCTIONS)))
            if node.keywords:
                raise self.fail(node, "keyword arguments are not allowed")
            fn, arity = FUNCTIONS[node.func.id]
            args = [self.build(a) for a in node.args]
            if (arity is not None and len(args) != arity) or (arity is None and len(args) < 2):
                want = arity if arity is not None else "at least 2"
                raise self.fail(node, f"{node.func.id} takes {want} argument(s), got {len(args)}")
            try:
                value = fn(*args)
            except ValueError as exc:
                raise self.fail(node, str(exc)) from None
            return self.finite(node, value)
        for kind, what in _REFUSED.items():
            if isinstance(node, kind):
                raise self.fail(node, what)
        raise self.fail(node, f"{type(node).__name__} is not allowed in an expression")

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
    names = (dict(variables) if isinstance(variables, Mapping)
             else {str(v): v for v in variables})
    clash = sorted(set(names) & set(FUNCTIONS))
    if clash:
        raise SpecError(f"variable name(s) {clash} clash with function names; rename them", path)
    clash = sorted(n for n in names if keyword.iskeyword(n))
    if clash:
        raise SpecError(f"variable name(s) {clash} are Python keywords; rename them", path)
    if not text.strip():
        raise SpecError("the expression is empty", path)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"syntax error at column {exc.offset}: {exc.msg}", path) from None
    except (RecursionError, MemoryError):
        raise SpecError("the expression is nested too deeply to parse", path) from None
    try:
        return _Rebuilder(names, path, text.strip(), fix).build(tree)
    except RecursionError:
        raise SpecError("the expression is nested too deeply to parse", path) from None
