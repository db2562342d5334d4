"""Size bounds of an expression's syntax tree, computed before SymPy builds anything.

A walk over the Python syntax tree (iterative: no recursion however deep the tree) gives each
node a :class:`Size`, from its operands' sizes, and refuses the expression as soon as a node is
over a limit of :mod:`kltools.spec.limits`:

* ``expr_depth``: nesting depth, where a chain ``a + b - c + ...`` (or ``a * b / c ...``) is one
  level with many operands, so long flat sums are cheap and accepted;
* ``degree``: total degree as a polynomial in the variables and in the calls of smooth
  functions (each call is one new atom): deg(a·b) = deg a + deg b, deg(a^k) = |k|·deg a;
* ``number_bits``: bits of the exact coefficients if the expression were expanded. The node's
  value is N/D with N a polynomial with integer coefficients and D a common denominator (an exact
  integer, an lcm for sums and a product for products); ``num`` bounds log₂ of N's ℓ¹ norm, which
  is sub-additive and sub-multiplicative (‖pq‖₁ ≤ ‖p‖₁‖q‖₁), and num + log₂ D must stay under
  the limit. Constants with no rational value (``exp(3)``) carry ``mag``, a bound on |log₂|v||,
  propagated through exp (|c|·log₂e), log, powers and arithmetic: ``exp(exp(1000))`` is over.
* ``exponent``: ``a**(p/q)`` needs an exact rational exponent with |p|, q within the limit.

Rational constants are evaluated exactly along the way (the bound is checked first, so this is
cheap); that is how an exponent such as ``2**3`` or ``1/2`` is known.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from kltools.errors import SpecError
from kltools.spec import limits
from kltools.spec._syntax import Source

__all__ = ["Size", "check_literals", "decimal_bits", "measure", "number_phrase", "operands"]

_LOG2E = math.log2(math.e)
_KINKS = {"relu", "abs", "Abs", "Max", "Min", "max", "min"}
_SMOOTH = {"exp", "log", "sigmoid", "tanh", "softplus", "sqrt"}
_NUMBER = re.compile(r"(?<![\w.])(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d[\d_]*)?")


@dataclass(frozen=True)
class Size:
    """Bounds for one node (module docstring). ``mag`` is None for non-constants."""

    depth: int
    degree: int
    num: float
    den: int
    value: Fraction | None = None
    mag: float | None = None

    @property
    def bits(self) -> float:
        return self.num + math.log2(self.den)


def decimal_bits(text: str) -> float:
    """An upper bound of the bits of the exact rational a decimal literal denotes (numerator
    plus denominator): (mantissa digits + |exponent|)·log₂10 + 1; ``inf`` for a 10-digit exponent.

    >>> decimal_bits("1e99999999") > 3e8, decimal_bits("0.25") < 20
    (True, True)
    """
    t = text.strip().lower().replace("_", "").lstrip("+-")
    mantissa, _, exponent = t.partition("e")
    digits = len(mantissa.replace(".", "").lstrip("0"))  # the numerator's digits
    frac = len(mantissa.partition(".")[2])  # the denominator's (a power of ten)
    exp_digits = exponent.lstrip("+-").lstrip("0")
    if len(exp_digits) > 9:
        return math.inf
    e = int(exponent) if exponent.lstrip("+-") else 0
    return (digits + frac + abs(e)) * math.log2(10) + 1


def number_phrase(text: str, bits: float) -> str:
    """``the number 1e999999 (about 3321929 bits)``, shortened, for messages."""
    shown = text if len(text) <= 24 else text[:20] + "..."
    size = "an exponent of 10 or more digits" if math.isinf(bits) else f"about {bits:.0f} bits"
    return f"the number {shown} ({size})"


def check_literals(text: str, path: str) -> None:
    """Refuse a numeric literal over ``number_bits`` before Python's parser builds it (an integer
    over 4300 digits is a parser error; ``1e99999999`` would be an exact 10^99999999)."""
    for m in _NUMBER.finditer(text):
        bits = decimal_bits(m.group(0))
        if bits > limits.get("number_bits"):
            raise SpecError(limits.over("number_bits", bits, number_phrase(m.group(0), bits)),
                            path)


def operands(node: ast.AST) -> list[tuple[bool, ast.AST]]:
    """The operands of ``node``, with nested ``+ -`` (``* /``) flattened into one n-ary node:
    ``(inverse, operand)`` pairs where ``inverse`` marks a subtracted (divided) operand
    (``a - (b - c)`` is a − b + c, ``a / (b / c)`` is a·c/b)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        group = (ast.Add, ast.Sub) if isinstance(node.op, ast.Add | ast.Sub) else (ast.Mult,
                                                                                    ast.Div)
        out: list[tuple[bool, ast.AST]] = []
        stack: list[tuple[bool, ast.AST]] = [(False, node)]
        while stack:
            inverse, cur = stack.pop()
            if isinstance(cur, ast.BinOp) and isinstance(cur.op, group):
                flip = isinstance(cur.op, ast.Sub | ast.Div)
                # Right first on the stack, so the left operand comes out first.
                stack.append((inverse != flip, cur.right))
                stack.append((inverse, cur.left))
            else:
                out.append((inverse, cur))
        return out
    if isinstance(node, ast.BinOp):
        return [(False, node.left), (False, node.right)]
    if isinstance(node, ast.UnaryOp):
        return [(False, node.operand)]
    if isinstance(node, ast.Call):
        return [(False, a) for a in node.args]
    if isinstance(node, ast.Expression):
        return [(False, node.body)]
    return []


def _logsum(xs: list[float]) -> float:
    top = max(xs)
    if top == -math.inf or top == math.inf:
        return top
    return top + math.log2(sum(2.0 ** (x - top) for x in xs))


def _value_mag(v: Fraction) -> float:
    return float(max(abs(v.numerator).bit_length(), v.denominator.bit_length()))


class _Measure:
    def __init__(self, source: Source, path: str) -> None:
        self.source = source
        self.path = path
        self.limits = {k: limits.get(k) for k in ("expr_depth", "degree", "number_bits",
                                                  "exponent")}

    def fail(self, node: ast.AST, name: str, value: float, what: str) -> SpecError:
        piece = self.source.segment(node) or type(node).__name__
        if len(piece) > 60:
            piece = piece[:57] + "..."
        return SpecError(limits.over(name, value, what.format(piece=repr(piece))), self.path)

    def checked(self, node: ast.AST, s: Size) -> Size:
        lim = self.limits
        if s.depth > lim["expr_depth"]:
            raise self.fail(node, "expr_depth", s.depth,
                            f"the nesting depth {s.depth} of {{piece}}")
        if s.degree > lim["degree"]:
            raise self.fail(node, "degree", s.degree,
                            f"the degree (up to {s.degree}) of {{piece}}")
        if s.bits > lim["number_bits"]:
            raise self.fail(node, "number_bits", s.bits,
                            f"the size of the exact constants of {{piece}} (up to {s.bits:.0f} "
                            "bits)")
        if s.mag is not None and s.mag > lim["number_bits"]:
            raise self.fail(node, "number_bits", s.mag,
                            f"the constant {{piece}} (magnitude up to 2^{s.mag:.4g})")
        return s

    def leaf(self, node: ast.AST) -> Size:
        if isinstance(node, ast.Name):
            return Size(1, 1, 0.0, 1)
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            if isinstance(node.value, int):
                v = Fraction(node.value)
            elif isinstance(node.value, float):
                text = (self.source.segment(node) or repr(node.value)).replace("_", "")
                bits = decimal_bits(text)
                if bits > self.limits["number_bits"]:
                    raise self.fail(node, "number_bits", bits, number_phrase(text, bits))
                v = Fraction(text)
            else:
                return Size(1, 0, 0.0, 1)
            return Size(1, 0, math.log2(abs(v.numerator)) if v.numerator else 0.0,
                        v.denominator, v, _value_mag(v))
        return Size(1, 0, 0.0, 1)  # refused by the parser proper, with its own message

    def combine(self, node: ast.AST, kids: list[tuple[bool, Size]]) -> Size:
        depth = 1 + max((k.depth for _, k in kids), default=0)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            return self.total(node, depth, kids)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
            return self.product(node, depth, kids)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self.power(node, depth, kids[0][1], kids[1][1])
        if isinstance(node, ast.UnaryOp):
            (_, k), = kids
            neg = isinstance(node.op, ast.USub)
            return Size(depth, k.degree, k.num, k.den,
                        -k.value if neg and k.value is not None else k.value, k.mag)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node, node.func.id, depth, [k for _, k in kids])
        if isinstance(node, ast.Expression):
            return kids[0][1]
        return Size(depth, 0, 0.0, 1)

    def total(self, node: ast.AST, depth: int, kids: list[tuple[bool, Size]]) -> Size:
        den = 1
        for _, k in kids:
            den = den // math.gcd(den, k.den) * k.den
            if den.bit_length() > self.limits["number_bits"] + 1:
                raise self.fail(node, "number_bits", den.bit_length(),
                                f"the common denominator of {{piece}} ({den.bit_length()} bits)")
        num = _logsum([k.num + math.log2(den) - math.log2(k.den) for _, k in kids])
        value: Fraction | None = None
        if all(k.value is not None for _, k in kids):
            value = sum(((-k.value if neg else k.value) for neg, k in kids),  # type: ignore
                        Fraction(0))
        mag = _mags(kids, lambda ms: max(ms) + math.log2(len(ms)))
        return self.checked(node, Size(depth, max(k.degree for _, k in kids), num, den, value,
                                       _value_mag(value) if value else mag))

    def product(self, node: ast.AST, depth: int, kids: list[tuple[bool, Size]]) -> Size:
        num, den, degree = 0.0, 1, 0
        value: Fraction | None = Fraction(1)
        for inverse, k in kids:
            if inverse and k.value is not None and k.value != 0:
                num += math.log2(k.value.denominator)
                den *= abs(k.value.numerator)
                value = value / k.value if value is not None else None
            else:
                num, den, degree = num + k.num, den * k.den, degree + k.degree
                value = (value * k.value if value is not None and k.value is not None
                         and not inverse else None)
            self.checked(node, Size(depth, degree, num, den))
        mag = _mags(kids, sum)
        return Size(depth, degree, num, den, value, _value_mag(value) if value else mag)

    def power(self, node: ast.BinOp, depth: int, base: Size, k: Size) -> Size:
        if k.value is None:
            piece = self.source.segment(node.right) or "the exponent"
            raise SpecError(f"powers must be numbers: the exponent {piece!r} must be a rational "
                            "number such as 2, -1 or 3/2 (write exp(b*log(a)) for a general "
                            "power)", self.path)
        p, q = abs(k.value.numerator), k.value.denominator
        if max(p, q) > self.limits["exponent"]:
            raise self.fail(node, "exponent", max(p, q), f"the exponent {k.value} in {{piece}}")
        s = Size(depth, base.degree * p, base.num * p, 1, None,
                 None if base.mag is None else base.mag * float(k.value.__abs__()))
        self.checked(node, Size(depth, s.degree, s.num + math.log2(base.den) * p, 1))
        value = None
        if base.value is not None and q == 1 and (base.value != 0 or k.value > 0):
            value = base.value ** int(k.value)
        den = value.denominator if value is not None else base.den ** p
        return self.checked(node, Size(depth, s.degree, s.num, den, value,
                                       _value_mag(value) if value else s.mag))

    def call(self, node: ast.Call, name: str, depth: int, kids: list[Size]) -> Size:
        if not kids:
            return Size(depth, 0, 0.0, 1)
        const = all(k.mag is not None for k in kids)
        if name in _KINKS or name == "leaky_relu":
            # Polynomial in its arguments once the kink is a switch: size of a sum.
            s = self.total(node, depth, [(False, k) for k in kids])
            return Size(depth, s.degree, s.num + 1, s.den, None, s.mag if const else None)
        if name not in _SMOOTH:
            return Size(depth, 0, 0.0, 1)
        if not const:
            return self.checked(node, Size(depth, 1, 0.0, 1))
        a, ma = kids[0], kids[0].mag or 0.0
        size_a = (_float(abs(a.value)) if a.value is not None
                  else 2.0 ** ma if ma < 1000 else math.inf)  # a bound on |a|
        if name == "sqrt":
            mag = ma / 2 + 1
        elif name == "log":
            mag = max(math.log2(ma + 1) + 1, ma + 2)
        elif name == "tanh":
            mag = ma + 1
        else:  # exp, sigmoid, softplus: as small or large as exp(±|a|)
            mag = size_a * _LOG2E + 1
        return self.checked(node, Size(depth, 0, 0.0, 1, None, mag))


def _float(v: Fraction) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf


def _mags(kids: list[tuple[bool, Size]], how: Callable[[list[float]], float]) -> float | None:
    ms = [k.mag for _, k in kids]
    if any(m is None for m in ms):
        return None
    return how([m for m in ms if m is not None])


def measure(tree: ast.AST, source: Source, path: str) -> Size:
    """The size of ``tree`` (module docstring), refusing it when a node is over a limit."""
    m = _Measure(source, path)
    sizes: dict[int, Size] = {}
    kids_of: dict[int, list[tuple[bool, ast.AST]]] = {}
    stack: list[ast.AST] = [tree]
    max_nodes = limits.get("expr_nodes")
    while stack:
        node = stack.pop()
        kids = kids_of.get(id(node))
        if kids is None:
            kids = kids_of[id(node)] = operands(node)
            if len(kids_of) > max_nodes:
                raise SpecError(limits.over("expr_nodes", len(kids_of),
                                            "an expression of this many terms"), path)
            if kids:
                stack.append(node)
                stack.extend(child for _, child in kids)
                continue
        size = m.combine(node, [(inv, sizes[id(c)]) for inv, c in kids]) if kids else (
            m.leaf(node))
        sizes[id(node)] = m.checked(node, size)
    return sizes[id(tree)]
