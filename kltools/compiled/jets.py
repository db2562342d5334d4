"""Taylor jets of an autonomous ODE by automatic-differentiation recurrences.

For a :class:`~kltools.compiled.program.Program` whose first ``n`` outputs are a vector field ``F``
on its ``n`` inputs, :func:`compile_jets` generates straight-line Python code that returns the
*normalised* Taylor coefficients of the solution of

.. math:: x' = F(x), \\qquad x(t_0) = x_0, \\qquad
          x(t_0 + h\\tau) = \\sum_{k=0}^{K} X_k \\tau^k + O(\\tau^{K+1}),

i.e. ``X_k = h^k x^{(k)}(t_0) / k!`` (``h = 1`` gives the plain normalised coefficients), and the
coefficients of every further program output ``g_j(x(t_0 + h\\tau))`` (event functions, the loss)
to the same order. Switches are constants of the flow (the activation pattern between events).

Coefficients are produced order by order by the standard recurrences (Moore 1966; Jorba & Zou
2005, sec. 3), each exact up to rounding at the working precision:

=============  ===========================================================================
op             coefficient ``c_k`` (``k >= 1``) of ``c = op(a, b)``; ``d_j = j a_j``
=============  ===========================================================================
``mul``        ``sum_{j=0..k} a_j b_{k-j}`` (Cauchy product)
``sqr``        the same, folded: ``2 sum_{j<k/2} a_j a_{k-j} + [k even] a_{k/2}^2``
``powi``       repeated ``sqr``/``mul`` (binary powering), so a base vanishing at ``t_0`` is fine
``div``        ``(a_k - sum_{j=1..k} b_j c_{k-j}) / b_0``
``pow`` (α)    ``sum_{j=1..k} ((α+1) j - k) a_j c_{k-j} / (k a_0)``  (from ``a c' = α a' c``)
``exp``        ``sum_{j=1..k} d_j c_{k-j} / k``  (from ``c' = a' c``)
``log``        ``(a_k - sum_{j=1..k-1} a_j (k-j) c_{k-j} / k) / a_0``  (from ``a c' = a'``)
``tanh``       ``sum_{j=1..k} d_j u_{k-j} / k`` with ``u = 1 - c^2``
``sigmoid``    ``sum_{j=1..k} d_j u_{k-j} / k`` with ``u = c - c^2``
``softplus``   ``sum_{j=1..k} d_j σ_{k-j} / k`` with ``σ`` the jet of ``sigmoid(a)``
``atan``       ``(a_k - sum_{j=1..k-1} q_j (k-j) c_{k-j} / k) / q_0``, ``q = b = 1 + a^2``
               (from ``q c' = a'``)
=============  ===========================================================================

Values that depend only on switches and constants are constant in time; the generator treats them
as scalars (a product with one of them costs one multiplication per order, not a convolution).
Each convolution is one C-level call, ``gmpy2.fsum(map(mul, a[:k+1], b[k::-1]))``, an exactly
summed dot product (cheaper per term than a Python loop of gmpy2 multiplications and additions).

Precision is an argument of every call: the gmpy2 backend runs under a private
:class:`gmpy2.context`, the mpmath fallback under a private :class:`mpmath.ctx_mp.MPContext`;
nothing global is left changed. Generated sources are cached by ``Program.digest()``, the state
dimension and the backend.

Examples
--------
>>> import sympy as sp
>>> from kltools.compiled.program import program_from_sympy
>>> x = sp.Symbol("x")
>>> prog = program_from_sympy([x**2], [x])        # x' = x^2, x(0) = 1: x(t) = 1/(1 - t)
>>> jet = taylor_jet(prog, [1], order=4, dps=20)
>>> [int(c) for c in jet.state[0]]
[1, 1, 1, 1, 1]
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

from kltools.compiled.program import Program
from kltools.numbers import bits_for_dps

try:  # gmpy2 is a hard dependency; the fallback keeps the design honest and testable
    import gmpy2
except ImportError:  # pragma: no cover - exercised only without gmpy2
    gmpy2 = None

__all__ = [
    "BACKENDS",
    "Jet",
    "JetKernel",
    "bits_for_dps",
    "compile_jets",
    "default_backend",
    "number_lib",
    "taylor_jet",
]

Backend = Literal["gmpy2", "mpmath"]
BACKENDS: tuple[str, ...] = ("gmpy2", "mpmath")
Number = Any  # gmpy2.mpfr or mpmath.mpf of a private context


def default_backend() -> Backend:
    """``"gmpy2"`` when gmpy2 imports, else the plain mpmath fallback."""
    return "gmpy2" if gmpy2 is not None else "mpmath"




# ---------------------------------------------------------------------------------------------
# Number backends: the functions generated code calls, bound to one precision.


@dataclass(frozen=True)
class _Lib:
    """What a kernel needs from a number type at one precision."""

    backend: str
    prec: int
    fsum: Callable[[Any], Number]
    exp: Callable[[Number], Number]
    log: Callable[[Number], Number]
    tanh: Callable[[Number], Number]
    log1p: Callable[[Number], Number]
    atan: Callable[[Number], Number]
    convert: Callable[[object], Number]
    enter: Callable[[], Any] = field(repr=False)  # a context manager fixing the precision

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.fsum, self.exp, self.log, self.tanh, self.log1p, self.convert(0),
                self.convert(1), self.atan)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@lru_cache(maxsize=64)
def _lib(backend: str, prec: int) -> _Lib:
    if backend == "gmpy2":
        if gmpy2 is None:  # pragma: no cover
            raise ImportError("gmpy2 is not installed; use backend='mpmath'")
        ctx = gmpy2.context(precision=prec)

        def enter() -> Any:
            return gmpy2.context(ctx)  # a fresh copy: contexts must not be shared re-entrantly

        def convert(v: object) -> Number:
            return _to_mpfr(v)

        return _Lib("gmpy2", prec, gmpy2.fsum, gmpy2.exp, gmpy2.log, gmpy2.tanh, gmpy2.log1p,
                    gmpy2.atan, convert, enter)
    if backend == "mpmath":
        from mpmath.ctx_mp import MPContext

        mctx = MPContext()
        mctx.prec = prec

        def convert_mp(v: object) -> Number:
            return _to_mpf(mctx, v)

        return _Lib("mpmath", prec, mctx.fsum, mctx.exp, mctx.log, mctx.tanh, mctx.log1p,
                    mctx.atan, convert_mp, _Null)
    raise ValueError(f"unknown jet backend {backend!r}; use one of {', '.join(BACKENDS)}")


def number_lib(backend: str, prec: int) -> _Lib:
    """The number functions of ``backend`` at ``prec`` bits (``enter()`` fixes the precision,
    ``convert(v)`` rounds any supported real once)."""
    return _lib(backend, prec)


def _exact_parts(v: object) -> tuple[int, int] | str | None:
    """``(numerator, denominator)`` of an exactly representable value, a decimal string, or None."""
    if isinstance(v, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(v, int):
        return v, 1
    if isinstance(v, Fraction):
        return v.numerator, v.denominator
    if isinstance(v, str):
        return v
    mpf_tuple = getattr(v, "_mpf_", None)
    if mpf_tuple is not None:  # mpmath mpf: (sign, mantissa, exponent, bitcount)
        sign, man, exp, _ = mpf_tuple
        if not man and exp:  # inf / nan are encoded with a zero mantissa and a nonzero exponent
            return None
        man = -int(man) if sign else int(man)
        return (man << exp, 1) if exp >= 0 else (man, 1 << -exp)
    p, q = getattr(v, "p", None), getattr(v, "q", None)  # SymPy Rational
    if isinstance(p, int) and isinstance(q, int):
        return p, q
    ratio = getattr(v, "as_integer_ratio", None)
    if ratio is not None:
        try:
            n, d = ratio()
        except (OverflowError, ValueError):  # inf, nan
            return None
        return int(n), int(d)
    return None


def _to_mpfr(v: object) -> Number:
    if gmpy2 is not None and isinstance(v, type(gmpy2.mpfr(0))):
        return gmpy2.mpfr(v)  # rounds to the current context's precision
    parts = _exact_parts(v)
    if parts is None:
        raise ValueError(f"{v!r} is not a finite real number")
    if isinstance(parts, str):
        return gmpy2.mpfr(parts)
    n, d = parts
    return gmpy2.mpfr(gmpy2.mpq(n, d)) if d != 1 else gmpy2.mpfr(n)


def _to_mpf(ctx: Any, v: object) -> Number:
    parts = _exact_parts(v)
    if parts is None:
        raise ValueError(f"{v!r} is not a finite real number")
    if isinstance(parts, str):
        return ctx.mpf(parts)
    n, d = parts
    return ctx.mpf(n) / d if d != 1 else ctx.mpf(n)


# ---------------------------------------------------------------------------------------------
# Code generation


class _Gen:
    """Emits the kernel source of one program (see :func:`_source`).

    ``fixed=False``: every coefficient is a number of the backend (mpfr / mpf).
    ``fixed=True``: order 0 is evaluated in mpfr, then every varying coefficient is an ``mpz``
    ``m`` standing for ``m 2^-F`` (one unit ``2^-F`` for the whole jet, chosen per call from the
    order-0 magnitudes); products are exact integer dot products shifted back by ``F``.
    """

    def __init__(self, program: Program, n_state: int, extra: Sequence[int],
                 fixed: bool = False) -> None:
        self.p = program
        self.n = n_state
        self.fixed = fixed
        self.extra = tuple(extra)
        self.live = _live_slots(program, list(program.outputs[:n_state]) +
                                [program.outputs[j] for j in self.extra])
        self.zs: list[str] = []      # order-0 values (backend numbers), in dependency order
        self.pre: list[str] = []     # coefficient lists and per-call constants
        self.body: list[str] = []    # one order k >= 1, inside the loop
        self.var: dict[int, bool] = {}   # slot -> varies in time
        self.var_slots: list[int] = []
        self.next_tmp = program.n_slots
        self.aux: dict[tuple[str, int], str] = {}
        self.consts: list[Fraction] = list(program.constants)
        self.const_index = {q: i for i, q in enumerate(self.consts)}
        self.deriv_fill: list[tuple[int, str]] = []
        self.divisors: list[str] = []  # order-0 values that coefficients are divided by

    # "a{s}": coefficient list of a varying slot; "z{s}": order-0 value (backend number);
    # "i{s}": a constant slot as a fixed-point integer (fixed mode only).
    def z(self, s: int) -> str:
        return f"z{s}"

    def a(self, s: int) -> str:
        return f"a{s}"

    def const(self, q: Fraction) -> str:
        if q not in self.const_index:
            self.const_index[q] = len(self.consts)
            self.consts.append(q)
        return f"_c[{self.const_index[q]}]"

    def new_slot(self) -> int:
        self.next_tmp += 1
        return self.next_tmp - 1

    def fx(self, value: str) -> str:
        """Order-0 expression as a coefficient (fixed point in fixed mode)."""
        return f"_fx({value})" if self.fixed else value

    def scalar(self, s: int) -> str:
        """A constant slot as a multiplier of coefficients (declared once)."""
        if not self.fixed:
            return self.z(s)
        key = ("i", s)
        if key not in self.aux:
            self.aux[key] = f"i{s}"
            self.pre.append(f"i{s} = _fx({self.z(s)})")
        return self.aux[key]

    def times(self, coeff: str, factor: str) -> str:
        """``coeff * factor`` where ``factor`` is a scalar in coefficient representation."""
        return f"{coeff} * {factor} >> _F" if self.fixed else f"{coeff} * {factor}"

    def dot(self, left: str, right: str) -> str:
        """Sum of products of two coefficient slices, in coefficient representation."""
        if self.fixed:
            return f"(_sum(_map(_mul, {left}, {right})) >> _F)"
        return f"_fsum(_map(_mul, {left}, {right}))"

    def over_k(self, expr: str) -> str:
        return f"{expr} // k" if self.fixed else f"{expr} / k"

    def declare_var(self, s: int, init: str | None = None) -> None:
        self.var[s] = True
        self.var_slots.append(s)
        self.pre.append(f"{self.a(s)} = [{self.fx(init or self.z(s))}] + _pad")

    def deriv(self, s: int) -> str:
        """The list ``d_j = j a_j`` of a varying slot, created on first use."""
        key = ("d", s)
        if key not in self.aux:
            name = f"d{s}"
            self.aux[key] = name
            self.pre.append(f"{name} = [_zero] + _pad")
            # Filled in right after a_k is known; users come later in the same order.
            self.deriv_fill.append((s, name))
        return self.aux[key]

    # -- the program --------------------------------------------------------------------------

    def generate(self) -> str:
        p = self.p
        n, nsw = p.n_inputs, p.n_switches
        if n:
            self.zs.append(", ".join(self.z(i) for i in range(n)) + (", " if n == 1 else "")
                           + " = _x")
        if nsw:
            self.zs.append(", ".join(self.z(n + i) for i in range(nsw))
                           + (", " if nsw == 1 else "") + " = _w")
        for i in range(n):
            self.declare_var(i)
        for i in range(nsw):
            self.var[n + i] = False
        base = n + nsw
        for i in range(len(p.constants)):
            self.var[base + i] = False
            self.zs.append(f"{self.z(base + i)} = _c[{i}]")
        for i in range(n):
            self.body.append(f"#D{i}")
        slot = p.first_instr_slot
        for op, a, b, c in p.instrs:
            if slot in self.live:
                self.instr(slot, op, a, b, c)
            slot += 1
        # The state update of order k from F_{k-1} opens the loop body.
        outs = p.outputs
        hk = "_hi" if self.fixed else "_hk"
        self.body[:0] = [f"a{i}[k] = {self._state_update(outs[i], hk)}" for i in range(self.n)]
        ret_state = ", ".join(self.a(i) for i in range(self.n))
        extras = []
        for o in (outs[j] for j in self.extra):
            extras.append(self.a(o) if self.var[o] else f"[{self.fx(self.z(o))}] + _zpad")
        lines = ["def _jet(_x, _w, _K, _h, _c, _lib, _P=0):",
                 "    _fsum, _exp, _log, _tanh, _log1p, _zero, _one, _atan = _lib",
                 "    _map = map",
                 "    _mul = _opmul",
                 "    _pad = [None] * _K"]
        lines += ["    " + s for s in self.zs]
        if self.fixed:
            zv = "".join(f"{self.z(s)}, " for s in self.var_slots)
            dv = "".join(f"{d}, " for d in self.divisors)
            lines += [f"    _F = _unit(_P, _x, _h, ({zv}), ({dv}))",
                      "    _fx = _fixer(_F)",
                      "    _zero = 0",
                      "    _sum = _fxsum",
                      "    _hi = _fx(_h)"]
        lines.append("    _zpad = [_zero] * _K")
        lines += ["    " + s for s in self.pre]
        lines.append("    for k in range(1, _K + 1):")
        if not self.fixed:
            lines.append("        _hk = _h / k")
        lines += ["        k1 = k + 1", "        m2 = k1 >> 1", "        ev = not k & 1",
                  "        hf = k >> 1"]
        lines += ["        " + s for s in self.body]
        ret = f"[{ret_state}], [{', '.join(extras)}]"
        lines.append(f"    return _F, {ret}" if self.fixed else f"    return {ret}")
        return "\n".join(lines) + "\n"

    def _state_update(self, o: int, hk: str) -> str:
        """``x_k = h F_{k-1} / k`` from output slot ``o``."""
        prev = f"{self.a(o)}[k - 1]" if self.var[o] else f"({self.scalar(o)} if k == 1 else 0)"
        if self.fixed:
            return f"({prev} * _hi >> _F) // k"
        if not self.var[o]:
            prev = f"({self.z(o)} if k == 1 else _zero)"
        return f"{prev} * {hk}"

    # -- one instruction ----------------------------------------------------------------------

    def instr(self, s: int, op: str, a: int, b: int, c: Fraction | None) -> None:
        if op == "powi":
            self.powi(s, a, int(c))  # type: ignore[arg-type]
            return
        va = self.var[a]
        vb = self.var.get(b, False) if b >= 0 else False
        za, zb = self.z(a), (self.z(b) if b >= 0 else "")
        cq = self.const(c) if c is not None else ""
        self.zs.append(f"{self.z(s)} = {_point(op, za, zb, cq)}")
        if not (va or vb):
            self.var[s] = False
            return
        self.declare_var(s)
        A, B, C = self.a(a), (self.a(b) if b >= 0 else ""), self.a(s)
        body = self.body
        if op in ("add", "sub"):
            sign = "+" if op == "add" else "-"
            if va and vb:
                body.append(f"{C}[k] = {A}[k] {sign} {B}[k]")
            elif va:
                body.append(f"{C}[k] = {A}[k]")
            else:
                body.append(f"{C}[k] = {'' if op == 'add' else '-'}{B}[k]")
        elif op == "mul":
            if va and vb:
                if a == b:
                    self._sqr_line(C, A)
                else:
                    # map() stops at the shorter argument: no slice of the left operand.
                    body.append(f"{C}[k] = {self.dot(A, f'{B}[k::-1]')}")
            elif va:
                body.append(f"{C}[k] = {self.times(f'{A}[k]', self.scalar(b))}")
            else:
                body.append(f"{C}[k] = {self.times(f'{B}[k]', self.scalar(a))}")
        elif op == "div":
            self.divisors.append(zb)
            self.zs.append(f"r{s} = _one / {zb}")
            r = self.recip(s)
            if vb:
                num = f"{A}[k]" if va else "0"
                conv = self.dot(f"{B}[1:k1]", f"{C}[k - 1::-1]")
                body.append(f"{C}[k] = {self.times(f'({num} - {conv})', r)}")
            else:
                body.append(f"{C}[k] = {self.times(f'{A}[k]', r)}")
        elif op == "neg":
            body.append(f"{C}[k] = -{A}[k]")
        elif op == "cmul":
            body.append(f"{C}[k] = {self._cmul(f'{A}[k]', c, cq)}")  # type: ignore[arg-type]
        elif op == "cadd":
            body.append(f"{C}[k] = {A}[k]")
        elif op == "sqr":
            self._sqr_line(C, A)
        elif op == "pow":
            self._pow(s, a, cq)
        elif op == "exp":
            D = self.deriv(a)
            body.append(f"{C}[k] = {self.over_k(self.dot(f'{D}[1:k1]', f'{C}[k - 1::-1]'))}")
        elif op in ("log", "atan"):
            # log: a c' = a'; atan: q c' = a' with q = 1 + a² in operand b (never constant
            # when a varies).
            Q, zq = (A, za) if op == "log" else (B, zb)
            DC = self.deriv(s)
            self.divisors.append(zq)
            self.zs.append(f"r{s} = _one / {zq}")
            conv = self.over_k(self.dot(f"{Q}[1:k]", f"{DC}[k - 1:0:-1]"))
            body.append(f"{C}[k] = {self.times(f'({A}[k] - {conv})', self.recip(s))}")
        elif op in ("tanh", "sigmoid"):
            self._logistic(s, a, op)
        elif op == "softplus":
            sig = self._sigmoid_of(a)
            D = self.deriv(a)
            body.append(f"{C}[k] = {self.over_k(self.dot(f'{D}[1:k1]', f'{sig}[k - 1::-1]'))}")
        else:  # pragma: no cover - Program rejects unknown ops
            raise AssertionError(op)
        body.append(f"#D{s}")

    def recip(self, s: int) -> str:
        """``r{s}`` (declared as an order-0 value) as a multiplier of coefficients."""
        if not self.fixed:
            return f"r{s}"
        self.pre.append(f"ri{s} = _fx(r{s})")
        return f"ri{s}"

    def _cmul(self, coeff: str, c: Fraction, cq: str) -> str:
        if self.fixed:
            # Integers and dyadic rationals are applied exactly; others as fixed-point numbers.
            num, den = c.numerator, c.denominator
            if den == 1:
                return f"{coeff} * {num}"
            if den & (den - 1) == 0:
                return f"{coeff} * {num} >> {den.bit_length() - 1}"
            key = ("q", hash(c))
            if key not in self.aux:
                self.aux[key] = f"q{len(self.aux)}"
                self.pre.append(f"{self.aux[key]} = _fx({cq})")
            return f"{coeff} * {self.aux[key]} >> _F"
        return f"{coeff} * {cq}"

    def _sqr_body(self, a_name: str) -> list[str]:
        """Lines leaving the k-th coefficient of ``a^2`` in ``_t``."""
        tail = " >> _F" if self.fixed else ""
        summ = "_sum" if self.fixed else "_fsum"
        return [f"_t = {summ}(_map(_mul, {a_name}[:m2], {a_name}[k:k - m2:-1]))",
                f"_t = (_t + _t + {a_name}[hf] * {a_name}[hf] if ev else _t + _t){tail}"]

    def _sqr_line(self, c_name: str, a_name: str) -> None:
        self.body += self._sqr_body(a_name)
        self.body.append(f"{c_name}[k] = _t")

    def _pow(self, s: int, a: int, cq: str) -> None:
        """c = a^α: c_k = ((α+1) sum d_j c_{k-j} - k sum a_j c_{k-j}) / (k a_0)."""
        D, A, C = self.deriv(a), self.a(a), self.a(s)
        self.zs.append(f"q{s} = {cq} + _one")
        self.divisors.append(self.z(a))
        self.zs.append(f"r{s} = _one / {self.z(a)}")
        if self.fixed:
            self.pre.append(f"qi{s} = _fx(q{s})")
            ri = self.recip(s)
            self.body.append(f"_t = (qi{s} * _sum(_map(_mul, {D}[1:k1], {C}[k - 1::-1])) >> _F)"
                             f" - k * _sum(_map(_mul, {A}[1:k1], {C}[k - 1::-1]))")
            self.body.append(f"{C}[k] = _t * {ri} // k >> (_F + _F)")
        else:
            self.body.append(f"{C}[k] = (q{s} * _fsum(_map(_mul, {D}[1:k1], {C}[k - 1::-1])) - k"
                             f" * _fsum(_map(_mul, {A}[1:k1], {C}[k - 1::-1]))) * r{s} / k")

    def _logistic(self, s: int, a: int, op: str) -> None:
        """tanh: u = 1 - c^2; sigmoid: u = c - c^2; c_k = sum d_j u_{k-j} / k."""
        D = self.deriv(a)
        C, U = self.a(s), f"u{s}"
        zc = self.z(s)
        u0 = f"_one - {zc} * {zc}" if op == "tanh" else f"{zc} - {zc} * {zc}"
        self.pre.append(f"{U} = [{self.fx(u0)}] + _pad")
        self.aux[(op, a)] = C
        self.body.append(f"{C}[k] = {self.over_k(self.dot(f'{D}[1:k1]', f'{U}[k - 1::-1]'))}")
        self.body += self._sqr_body(C)
        self.body.append(f"{U}[k] = -_t" if op == "tanh" else f"{U}[k] = {C}[k] - _t")

    def _sigmoid_of(self, a: int) -> str:
        """The coefficient list of sigmoid(a), reusing a program slot or adding a hidden one."""
        key = ("sigmoid", a)
        if key in self.aux:
            return self.aux[key]
        s = self.new_slot()
        self.zs.append(f"{self.z(s)} = _one / (_one + _exp(-{self.z(a)}))")
        self.declare_var(s)
        self._logistic(s, a, "sigmoid")
        return self.aux[key]

    def powi(self, s: int, a: int, n: int) -> None:
        """a**n by binary powering on hidden slots; the last product writes slot ``s``."""
        if n < 2:  # pragma: no cover - Program emits powi only for n >= 3
            raise AssertionError(n)
        # Left-to-right binary method: acc = a; for each further bit: acc = acc^2 (* a).
        steps: list[tuple[str, int, int]] = []
        acc = a
        for bit in bin(n)[3:]:
            steps.append(("sqr", acc, -1))
            acc = -1 - len(steps)  # symbolic id of a hidden slot, resolved below
            if bit == "1":
                steps.append(("mul", acc, a))
                acc = -1 - len(steps)
        hidden = [self.new_slot() for _ in steps[:-1]] + [s]

        def res(x: int) -> int:
            return hidden[-x - 2] if x < 0 else x

        for (op, x, y), out in zip(steps, hidden, strict=True):
            self.instr(out, op, res(x), res(y) if y != -1 else -1, None)

    def finish(self) -> str:
        src = self.generate()
        fill = dict(self.deriv_fill)
        out = []
        for line in src.split("\n"):
            stripped = line.lstrip()
            if stripped.startswith("#D"):
                s = int(stripped[2:])
                if s in fill:
                    indent = line[: len(line) - len(stripped)]
                    out.append(f"{indent}{fill[s]}[k] = k * a{s}[k]")
                continue
            out.append(line)
        return "\n".join(out)


def _unit(prec: int, x: Sequence[Number], h: Number, zs: Sequence[Number],
          divisors: Sequence[Number]) -> int:
    """Exponent ``F`` of the fixed-point unit ``2^-F`` of one jet.

    The unit is ``2^-(prec + 16)`` relative to ``max(1, ||x||_∞)`` (absolute error control, as
    the integrator's), lowered by the bits that can amplify an absolute error of one unit:
    the time scale ``h > 1`` (the state update multiplies ``F`` by ``h``; e.g. a margin loss,
    where ``F ~ 1/t`` and ``h ~ t``), order-0 values above the scale (products with them), and
    divisors below it (``div``, ``log``, ``pow`` divide by an order-0 value). Capped at
    ``prec`` extra bits.
    """
    get_exp = gmpy2.get_exp
    top = max(max((get_exp(v) for v in x if v), default=1), 1)
    extra = max(get_exp(h), 0) if h else 0
    extra += max(max((get_exp(v) for v in zs if v), default=top) - top, 0)
    extra += max(top - min((get_exp(v) for v in divisors if v), default=top), 0)
    return prec + 16 + min(extra, prec) - top


def _fixer(f: int) -> Callable[[Number], Any]:
    mpz, mul_2exp = gmpy2.mpz, gmpy2.mul_2exp

    def fx(v: Number) -> Any:
        return mpz(mul_2exp(v, f))

    return fx


def _live_slots(program: Program, roots: Sequence[int]) -> set[int]:
    """Slots the given output slots depend on (dead-code elimination)."""
    first = program.first_instr_slot
    live = set(roots)
    for s in range(program.n_slots - 1, first - 1, -1):
        if s in live:
            _, a, b, _ = program.instrs[s - first]
            live.add(a)
            if b >= 0:
                live.add(b)
    return live


def _source(program: Program, n_state: int, extra: Sequence[int], fixed: bool = False
            ) -> tuple[str, tuple[Fraction, ...]]:
    gen = _Gen(program, n_state, extra, fixed)
    src = gen.finish()
    return src, tuple(gen.consts)


# ---------------------------------------------------------------------------------------------
# Public objects


@dataclass(frozen=True)
class Jet:
    """Normalised Taylor coefficients at one expansion point.

    Attributes
    ----------
    state
        ``state[i][k] = h^k x_i^{(k)}(t_0) / k!`` for ``k = 0..order``.
    extra
        ``extra[j][k]``, the same for the ``j``-th selected extra output along the solution.
    h
        The time scale the coefficients are normalised with (``1`` for plain coefficients).
    prec
        Binary precision of every number.
    """

    state: list[list[Number]]
    extra: list[list[Number]]
    h: Number
    prec: int

    @property
    def order(self) -> int:
        return len(self.state[0]) - 1 if self.state else 0


class JetKernel:
    """The compiled jet function of one program (obtain it from :func:`compile_jets`).

    Parameters
    ----------
    program
        Outputs ``0..n_state-1`` are the vector field; later outputs may be extra series.
    n_state
        State dimension; must equal ``program.n_inputs``.
    backend
        ``"gmpy2"`` (fast) or ``"mpmath"`` (fallback).
    extra
        Absolute output indices (``>= n_state``) whose series are computed, in this order.
        Instructions that neither the vector field nor these outputs need are dropped.
    """

    def __init__(self, program: Program, n_state: int, backend: str,
                 extra: Sequence[int], fixed: bool = False) -> None:
        if n_state != program.n_inputs:
            raise ValueError(
                f"the state has {n_state} components but the program has {program.n_inputs} "
                "inputs; the vector field must be a function of the whole state"
            )
        if len(program.outputs) < n_state:
            raise ValueError(
                f"the program has {len(program.outputs)} outputs, fewer than the state "
                f"dimension {n_state}: outputs 0..n-1 must be the vector field"
            )
        for j in extra:
            if not n_state <= j < len(program.outputs):
                raise ValueError(
                    f"extra output index {j} is not one of the program's extra outputs "
                    f"{n_state}..{len(program.outputs) - 1} (indices count all outputs)"
                )
        if backend not in BACKENDS:
            raise ValueError(f"unknown jet backend {backend!r}; use one of {', '.join(BACKENDS)}")
        if fixed and backend != "gmpy2":
            raise ValueError("the fixed-point jet kernel needs gmpy2")
        self.program = program
        self.n_state = n_state
        self.extra = tuple(extra)
        self.backend = backend
        self.fixed = fixed
        self.source, self._fractions = _source(program, n_state, self.extra, fixed)
        scope: dict[str, Any] = {"_opmul": operator.mul, "_unit": _unit, "_fixer": _fixer,
                                 "_fxsum": sum}
        code = compile(self.source, f"<kltools jets {program.digest()[:12]}>", "exec")
        exec(code, scope)  # our own generated source
        self._fn: Callable[..., tuple[list[list[Number]], list[list[Number]]]] = scope["_jet"]
        self._consts: dict[int, tuple[tuple[Number, ...], tuple[Any, ...]]] = {}

    def lib(self, prec: int) -> _Lib:
        """Number functions at ``prec`` bits (cached)."""
        return _lib(self.backend, prec)

    def constants(self, prec: int) -> tuple[tuple[Number, ...], tuple[Any, ...]]:
        """The program's constants and the library tuple at ``prec`` bits (cached)."""
        got = self._consts.get(prec)
        if got is None:
            lib = self.lib(prec)
            with lib.enter():
                got = tuple(lib.convert(q) for q in self._fractions), lib.as_tuple()
            self._consts[prec] = got
        return got

    def raw(self, x0: Sequence[Number], switches: Sequence[Number], order: int, h: Number,
            prec: int) -> tuple[list[list[Number]], list[list[Number]]]:
        """Coefficients without conversion or precision set-up.

        Must run inside ``self.lib(prec).enter()`` with ``x0``, ``switches`` and ``h`` already
        numbers of the backend at that precision (the integrator's inner loop uses this).
        """
        consts, lib = self.constants(prec)
        return self._fn(x0, switches, order, h, consts, lib, prec)

    def __call__(self, x0: Sequence[object], switches: Sequence[object] = (), order: int = 20,
                 *, prec: int, h: object = 1) -> Jet:
        """Taylor coefficients to ``order`` at ``prec`` bits (inputs converted exactly, then
        rounded once)."""
        if len(x0) != self.n_state:
            raise ValueError(f"x0 has {len(x0)} components, the state has {self.n_state}")
        if len(switches) != self.program.n_switches:
            raise ValueError(f"{len(switches)} switch values given, the program has "
                             f"{self.program.n_switches}")
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        lib = self.lib(prec)
        with lib.enter():
            x = [lib.convert(v) for v in x0]
            w = [lib.convert(v) for v in switches]
            hh = lib.convert(h)
            got = self.raw(x, w, order, hh, prec)
            if self.fixed:  # back to the backend's numbers
                f, state, extra = got
                mpfr, mul_2exp = gmpy2.mpfr, gmpy2.mul_2exp
                state, extra = ([[mul_2exp(mpfr(v), -f) for v in c] for c in part]
                                for part in (state, extra))
            else:
                state, extra = got
        return Jet(state, extra, hh, prec)


@lru_cache(maxsize=128)
def _kernel(digest: str, program: Program, n_state: int, backend: str,
            extra: tuple[int, ...], fixed: bool) -> JetKernel:
    return JetKernel(program, n_state, backend, extra, fixed)


def compile_jets(program: Program, n_state: int | None = None, backend: str | None = None,
                 extra: Sequence[int] | None = None, *, fixed: bool = False) -> JetKernel:
    """The (cached) jet kernel of ``program``; see the module docstring for the maths.

    ``extra`` selects the extra outputs by absolute output index (default: all of them).
    ``fixed=True`` (gmpy2 only) gives the fixed-point kernel: ``raw`` then returns
    ``(F, state, extra)`` with integer coefficients in units of ``2^-F``; it is meant for
    time-scaled jets (``h`` near the step), whose coefficients stay within ``max(1, ||x||)``.
    """
    n = program.n_inputs if n_state is None else n_state
    sel = tuple(range(n, len(program.outputs))) if extra is None else tuple(extra)
    return _kernel(program.digest(), program, n, backend or default_backend(), sel, fixed)


def taylor_jet(program: Program, x0: Sequence[object], switches: Sequence[object] = (),
               order: int = 20, *, dps: int | None = None, prec: int | None = None,
               h: object = 1, n_state: int | None = None, backend: str | None = None,
               extra: Sequence[int] | None = None, fixed: bool = False) -> Jet:
    """Normalised Taylor coefficients of ``x' = F(x)`` and of the extra outputs at ``x0``.

    Parameters
    ----------
    program
        Straight-line program; outputs ``0..n-1`` are ``F``, later outputs are extra series.
    x0, switches
        The expansion point and the switch values (ints, Fractions, decimal strings, floats by
        their binary value, mpmath or gmpy2 numbers).
    order
        Highest coefficient ``K``.
    dps, prec
        Working precision in decimal digits or bits (``prec`` wins if both are given).
    h
        Time scale: coefficients of ``x(t_0 + h τ)`` in ``τ``.
    extra
        Absolute indices of the extra outputs to expand (default: all).

    Returns
    -------
    Jet
        Each coefficient carries the rounding of at most ``k + 1`` summed products per
        recurrence level, i.e. a relative error of a few units of ``2^-prec`` times the growth
        of the partial products; no truncation is involved.
    """
    if prec is None:
        if dps is None:
            raise ValueError("give the working precision as dps= (decimal digits) or prec= (bits)")
        prec = bits_for_dps(dps)
    kernel = compile_jets(program, n_state, backend, extra, fixed=fixed)
    return kernel(x0, switches, order, prec=prec, h=h)


def _point(op: str, za: str, zb: str, cq: str) -> str:
    """The order-0 value of instruction ``op`` on operands ``za``, ``zb`` (constant ``cq``):
    softplus in its overflow-free form."""
    return {
        "add": f"{za} + {zb}", "sub": f"{za} - {zb}", "mul": f"{za} * {zb}",
        "div": f"{za} / {zb}", "neg": f"-{za}", "cmul": f"{cq} * {za}",
        "cadd": f"{cq} + {za}", "sqr": f"{za} * {za}",
        "pow": f"{za} ** {cq}", "exp": f"_exp({za})", "log": f"_log({za})",
        "tanh": f"_tanh({za})", "sigmoid": f"_one / (_one + _exp(-{za}))",
        "softplus": f"(_log1p(_exp({za})) if {za} < 0 else {za} + _log1p(_exp(-{za})))",
        "atan": f"_atan({za})",
    }[op]
