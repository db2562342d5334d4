"""Straight-line programs: the common input of every evaluator and of the Taylor jets.

A :class:`Program` computes ``m`` outputs from ``n`` *inputs* (the state, usually the parameters
θ) and ``p`` *switches* (values that are constant between two events, e.g. the activation pattern
χ of a piecewise model) by a sequence of elementary instructions. Every slot is written once.

Slots are numbered: ``0 .. n-1`` inputs, ``n .. n+p-1`` switches, then one slot per constant in
:attr:`Program.constants`, then one slot per instruction, in order.

Instructions are tuples ``(op, a, b, c)``:

============  ======================================  ==========================================
op            value                                   notes
============  ======================================  ==========================================
``add``       ``s[a] + s[b]``
``sub``       ``s[a] - s[b]``
``mul``       ``s[a] * s[b]``
``div``       ``s[a] / s[b]``                         needs ``s[b] != 0``
``neg``       ``-s[a]``
``cmul``      ``c * s[a]``                            ``c`` a ``Fraction``
``cadd``      ``c + s[a]``                            ``c`` a ``Fraction``
``sqr``       ``s[a] ** 2``
``powi``      ``s[a] ** c``                           ``c`` an integer >= 3 (by repeated products)
``pow``       ``s[a] ** c``                           ``c`` a non-integer ``Fraction``; ``s[a] > 0``
``exp``       ``exp(s[a])``
``log``       ``log(s[a])``                           ``s[a] > 0``
``tanh``      ``tanh(s[a])``
``sigmoid``   ``1 / (1 + exp(-s[a]))``
``softplus``  ``log(1 + exp(s[a]))``
``atan``      ``atan(s[a])``                          ``s[b] = 1 + s[a]²`` (for the jets)
============  ======================================  ==========================================

Unused fields are ``-1`` (slots) or ``None`` (constant). Programs are built from SymPy expressions
by :func:`program_from_sympy`, which runs SymPy's common-subexpression elimination first and sorts
nothing it does not have to: the instruction order is a deterministic function of the expressions,
so generated code (and any cache keyed on it) is reproducible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from kltools.errors import DerivationError

if TYPE_CHECKING:
    import sympy as sp

# SymPy is imported where programs are built from expressions, not at import time: running a
# cached program (see kltools.compiled.cache) must not pay SymPy's import.

__all__ = ["OPS", "Instr", "Program", "program_from_sympy"]

OPS = frozenset(
    {"add", "sub", "mul", "div", "neg", "cmul", "cadd", "sqr", "powi", "pow", "exp", "log",
     "tanh", "sigmoid", "softplus", "atan"}
)

Instr = tuple[str, int, int, Fraction | None]


@dataclass(frozen=True)
class Program:
    """A straight-line program over inputs, switches and exact constants (see module docstring)."""

    n_inputs: int
    n_switches: int
    constants: tuple[Fraction, ...]
    instrs: tuple[Instr, ...]
    outputs: tuple[int, ...]
    input_names: tuple[str, ...] = ()
    switch_names: tuple[str, ...] = ()

    @property
    def first_instr_slot(self) -> int:
        """Slot written by the first instruction."""
        return self.n_inputs + self.n_switches + len(self.constants)

    @property
    def n_slots(self) -> int:
        return self.first_instr_slot + len(self.instrs)

    def digest(self) -> str:
        """A SHA-256 digest of the program's content: a stable cache key across processes."""
        h = hashlib.sha256()
        h.update(repr((self.n_inputs, self.n_switches, self.constants, self.instrs,
                       self.outputs)).encode())
        return h.hexdigest()

    def evaluate(self, inputs: Sequence[object], switches: Sequence[object] = (),
                 convert: object = None) -> list[object]:
        """Evaluate by interpretation (slow; for tests and one-off values).

        ``convert`` turns a ``Fraction`` into the number type of ``inputs`` (default: ``float``
        for float inputs, else the type of the first input called on ``numerator/denominator``).
        Transcendental functions are looked up from :mod:`mpmath` when inputs are mpmath numbers,
        otherwise from :mod:`math`.
        """
        import math

        import mpmath

        if len(inputs) != self.n_inputs or len(switches) != self.n_switches:
            raise ValueError(
                f"program takes {self.n_inputs} inputs and {self.n_switches} switches, "
                f"got {len(inputs)} and {len(switches)}"
            )
        mp = any(isinstance(v, mpmath.mpf | mpmath.mpc) for v in inputs)
        lib = mpmath if mp else math
        if convert is None:
            def convert(q: Fraction) -> object:
                return mpmath.mpf(q.numerator) / q.denominator if mp else float(q)
        s: list[object] = list(inputs) + list(switches) + [convert(q) for q in self.constants]
        for op, a, b, c in self.instrs:
            x = s[a]
            if op == "add":
                v = x + s[b]
            elif op == "sub":
                v = x - s[b]
            elif op == "mul":
                v = x * s[b]
            elif op == "div":
                v = x / s[b]
            elif op == "neg":
                v = -x
            elif op == "cmul":
                v = convert(c) * x
            elif op == "cadd":
                v = convert(c) + x
            elif op == "sqr":
                v = x * x
            elif op == "powi":
                v = x ** int(c)
            elif op == "pow":
                v = x ** convert(c)
            elif op == "exp":
                v = lib.exp(x)
            elif op == "log":
                v = lib.log(x)
            elif op == "tanh":
                v = lib.tanh(x)
            elif op == "sigmoid":
                v = 1 / (1 + lib.exp(-x))
            elif op == "softplus":
                v = lib.log1p(lib.exp(x)) if not mp else mpmath.log(1 + mpmath.exp(x))
            elif op == "atan":
                v = lib.atan(x)
            else:  # pragma: no cover - Program construction rejects unknown ops
                raise AssertionError(op)
            s.append(v)
        return [s[i] for i in self.outputs]


def _negative(c: sp.Expr) -> bool:
    """``c < 0`` for a numeric coefficient or exponent, read off a Rational directly: asking
    SymPy's assumption system (``is_negative``) builds a fact base per fresh number and dominated
    compile time on large programs."""
    if c.is_Rational:
        return bool(c.p < 0)
    return bool(c.is_negative)


class _Builder:
    """Turns SymPy expressions into instructions, sharing identical subexpressions."""

    def __init__(self, inputs: Sequence[sp.Symbol], switches: Sequence[sp.Symbol]) -> None:
        import sympy as sp

        from kltools.spec.functions import sigmoid, softplus

        self._unary: dict[type, str] = {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh",
                                        sigmoid: "sigmoid", softplus: "softplus"}
        self.slot: dict[sp.Basic, int] = {}
        for i, s in enumerate(list(inputs) + list(switches)):
            if s in self.slot:
                raise DerivationError(f"symbol {s} is listed twice among inputs and switches")
            self.slot[s] = i
        self.base = len(inputs) + len(switches)
        self.consts: list[Fraction] = []
        self.const_slot: dict[Fraction, int] = {}
        self.instrs: list[Instr] = []
        self.instr_key: dict[Instr, int] = {}

    # Constants get slots in a second numbering, fixed up in `finish`, so that every constant
    # precedes every instruction whatever order they are met in.
    def constant(self, q: Fraction) -> int:
        if q not in self.const_slot:
            self.const_slot[q] = -(len(self.consts) + 2)
            self.consts.append(q)
        return self.const_slot[q]

    def emit(self, op: str, a: int, b: int = -1, c: Fraction | None = None) -> int:
        key = (op, a, b, c)
        if op in ("add", "mul") and a > b:
            key = (op, b, a, c)
        if key not in self.instr_key:
            self.instrs.append(key)
            self.instr_key[key] = len(self.instrs) - 1
        return self.instr_key[key] + 10**9  # instruction slots are tagged until `finish`

    def expr(self, e: sp.Basic) -> int:
        if e in self.slot:
            return self.slot[e]
        out = self._expr(e)
        self.slot[e] = out
        return out

    def _expr(self, e: sp.Basic) -> int:
        import sympy as sp

        if e.is_Rational:
            return self.constant(Fraction(int(e.p), int(e.q)))
        if e is sp.pi:  # π = 4·atan(1), computed at the working precision of the backend
            return self.emit("cmul", self._atan(sp.Integer(1)), -1, Fraction(4))
        if isinstance(e, sp.atan):
            return self._atan(e.args[0])
        if e.is_Symbol:
            raise DerivationError(
                f"symbol {e} is neither an input nor a switch of the program; declare it"
            )
        if isinstance(e, sp.Add):
            coeff, rest = e.as_coeff_add()
            terms = [self._signed(t) for t in rest]
            # Start from a positive term when there is one, so `a - b` is one `sub`.
            terms.sort(key=lambda st: st[0])
            sign, acc = terms[0]
            if sign < 0:
                acc = self.emit("neg", acc)
            for sgn, t in terms[1:]:
                acc = self.emit("add" if sgn > 0 else "sub", acc, t)
            if coeff != 0:
                acc = self.emit("cadd", acc, -1, Fraction(int(coeff.p), int(coeff.q)))
            return acc
        if isinstance(e, sp.Mul):
            coeff, rest = e.as_coeff_mul()
            num = [f for f in rest if not (f.is_Pow and _negative(f.exp))]
            den = [f.base ** (-f.exp) for f in rest if f.is_Pow and _negative(f.exp)]
            acc = self._product(num) if num else None
            if den:
                d = self._product(den)
                acc = self.emit("div", acc if acc is not None else self.constant(Fraction(1)), d)
            assert acc is not None
            if coeff == -1:
                acc = self.emit("neg", acc)
            elif coeff != 1:
                acc = self.emit("cmul", acc, -1, Fraction(int(coeff.p), int(coeff.q)))
            return acc
        if isinstance(e, sp.Pow):
            base, ex = e.args
            if ex.is_Integer:
                n = int(ex)
                if n < 0:
                    return self.emit("div", self.constant(Fraction(1)), self.expr(base ** (-n)))
                if n == 2:
                    return self.emit("sqr", self.expr(base))
                return self.emit("powi", self.expr(base), -1, Fraction(n))
            if ex.is_Rational:
                return self.emit("pow", self.expr(base), -1, Fraction(int(ex.p), int(ex.q)))
            if base == sp.E:
                return self.emit("exp", self.expr(ex))
            raise DerivationError(f"non-rational power {e} is not supported; write exp(log(a)*b)")
        for fn, op in self._unary.items():
            if isinstance(e, fn):
                return self.emit(op, self.expr(e.args[0]))
        raise DerivationError(
            f"cannot compile {e!s} (a {type(e).__name__}): kltools compiles + - * / integer and "
            "rational powers, exp, log, tanh, sigmoid, softplus, atan, pi; kinks must be "
            "switches"
        )

    def _atan(self, a: sp.Expr) -> int:
        # The jets need 1 + a² (from c' = a'/(1 + a²)): it is the second operand.
        return self.emit("atan", self.expr(a), self.expr(1 + a**2))

    def _signed(self, t: sp.Expr) -> tuple[int, int]:
        coeff, _ = t.as_coeff_Mul()
        if _negative(coeff):
            return -1, self.expr(-t)
        return 1, self.expr(t)

    def _product(self, factors: Sequence[sp.Expr]) -> int:
        slots = [self.expr(f) for f in factors]
        acc = slots[0]
        for s in slots[1:]:
            acc = self.emit("mul", acc, s)
        return acc

    def finish(self, outputs: Sequence[int], input_names: tuple[str, ...],
               switch_names: tuple[str, ...]) -> Program:
        first = self.base + len(self.consts)

        def fix(s: int) -> int:
            if s == -1:
                return -1
            if s >= 10**9:
                return first + s - 10**9
            if s <= -2:
                return self.base + (-s - 2)
            return s

        instrs = tuple((op, fix(a), fix(b), c) for op, a, b, c in self.instrs)
        return Program(
            n_inputs=len(input_names), n_switches=len(switch_names),
            constants=tuple(self.consts), instrs=instrs,
            outputs=tuple(fix(o) for o in outputs),
            input_names=input_names, switch_names=switch_names,
        )


def program_from_sympy(
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    switches: Sequence[sp.Symbol] = (),
    *,
    cse: bool = True,
    blocks: Sequence[tuple[sp.Symbol, sp.Expr]] = (),
) -> Program:
    """Compile SymPy expressions into a :class:`Program`.

    Parameters
    ----------
    exprs
        The outputs, expressions in ``inputs``, ``switches``, rational constants and the block
        symbols.
    inputs, switches
        The symbols that become program inputs and switches, in order.
    cse
        Run :func:`sympy.cse` over the outputs first (the block order SymPy returns is kept: it is a
        deterministic function of the expressions).
    blocks
        Assignments ``(symbol, expression)`` already in dependency order (e.g. from a reverse-mode
        derivation); each symbol may be used by later blocks and by ``exprs``.
    """
    import sympy as sp

    b = _Builder(inputs, switches)
    blocks = list(blocks)
    exprs = list(exprs)
    if cse:
        extra, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_k"), order="none")
        blocks += extra
        exprs = reduced
    for sym, e in blocks:
        b.slot[sym] = b.expr(e)
    outs = []
    for e in exprs:
        s = b.expr(sp.sympify(e))
        outs.append(s)
    return b.finish(outs, tuple(str(s) for s in inputs), tuple(str(s) for s in switches))
