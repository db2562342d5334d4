"""Straight-line Python code from a :class:`~kltools.compiled.program.Program`, per number type.

One printer, four backends (SymPy's lambdify shape, our own ops):

* ``mpmath``: mpmath numbers of a *local* context (``mpmath.ctx_mp.MPContext``) at the requested
  precision: nothing global is changed, and the context's precision governs every operation;
* ``interval``: mpmath interval arithmetic (``MPIntervalContext``), for enclosures;
* ``gmpy2``: ``gmpy2.mpfr`` under a local ``gmpy2`` context (fastest at high precision);
* ``float``: Python floats (math), for quick looks and gradient-descent sweeps.

The generated function ``f(inputs, switches)`` returns the list of outputs. Sources are cached by
the program's SHA-256 digest and the backend, so a program is compiled once per process.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import lru_cache

import gmpy2
from mpmath.ctx_iv import MPIntervalContext
from mpmath.ctx_mp import MPContext

from kltools.compiled.program import Program
from kltools.errors import IntegrationError
from kltools.numbers import bits_for_dps

__all__ = ["BACKENDS", "compile_program", "interval_context", "mp_context", "source"]

BACKENDS = ("mpmath", "interval", "gmpy2", "float")


@lru_cache(maxsize=64)
def mp_context(dps: int) -> MPContext:
    """A private mpmath context working at ``dps`` decimal digits."""
    ctx = MPContext()
    ctx.dps = dps
    return ctx


@lru_cache(maxsize=64)
def interval_context(dps: int) -> MPIntervalContext:
    """A private mpmath interval context at ``dps`` digits (outward-rounded endpoints)."""
    ctx = MPIntervalContext()
    ctx.dps = dps
    return ctx


_TEMPLATES = {
    "add": "{a} + {b}",
    "sub": "{a} - {b}",
    "mul": "{a} * {b}",
    "div": "{a} / {b}",
    "neg": "-{a}",
    "cmul": "{c} * {a}",
    "cadd": "{c} + {a}",
    "sqr": "{a} * {a}",
    "powi": "{a} ** {n}",
    "pow": "{a} ** {c}",
    "exp": "_exp({a})",
    "log": "_log({a})",
    "tanh": "_tanh({a})",
    "sigmoid": "_sigmoid({a})",
    "softplus": "_softplus({a})",
    "atan": "_atan({a})",
}


def source(program: Program, name: str = "f") -> tuple[str, list[Fraction]]:
    """Python source of ``name(inputs, switches)`` and the list of constants it reads as
    ``_k[i]`` (converted to the backend's number type once per precision)."""
    consts: list[Fraction] = list(program.constants)
    cindex = {q: i for i, q in enumerate(consts)}

    def const(q: Fraction) -> str:
        if q not in cindex:
            cindex[q] = len(consts)
            consts.append(q)
        return f"_k[{cindex[q]}]"

    n, p = program.n_inputs, program.n_switches
    lines = [f"def {name}(x, s, _k):"]
    for count, start, arg in ((n, 0, "x"), (p, n, "s")):
        if count:
            names = ", ".join(f"v{start + i}" for i in range(count))
            lines.append(f"    {names}{',' if count == 1 else ''} = {arg}")
    base = n + p
    for i in range(len(program.constants)):
        lines.append(f"    v{base + i} = _k[{i}]")
    slot = program.first_instr_slot
    for op, a, b, c in program.instrs:
        expr = _TEMPLATES[op].format(
            a=f"v{a}", b=f"v{b}",
            c=const(c) if c is not None else "",
            n=int(c) if op == "powi" and c is not None else "")
        lines.append(f"    v{slot} = {expr}")
        slot += 1
    lines.append("    return [" + ", ".join(f"v{o}" for o in program.outputs) + "]")
    return "\n".join(lines) + "\n", consts


def _namespace(backend: str, dps: int) -> tuple[dict[str, object], Callable[[Fraction], object]]:
    if backend == "mpmath":
        ctx = mp_context(dps)
        return ({"_exp": ctx.exp, "_log": ctx.log, "_tanh": ctx.tanh, "_atan": ctx.atan,
                 "_sigmoid": lambda a: 1 / (1 + ctx.exp(-a)),
                 "_softplus": lambda a: ctx.log1p(ctx.exp(a)) if a < 0
                 else a + ctx.log1p(ctx.exp(-a))},
                lambda q: ctx.mpf(q.numerator) / q.denominator)
    if backend == "interval":
        ctx = interval_context(dps)
        return ({"_exp": ctx.exp, "_log": ctx.log, "_tanh": _iv_tanh(ctx), "_atan": _iv_atan(ctx),
                 "_sigmoid": lambda a: 1 / (1 + ctx.exp(-a)),
                 "_softplus": lambda a: ctx.log(1 + ctx.exp(a))},
                lambda q: ctx.mpf(q.numerator) / q.denominator)
    if backend == "gmpy2":
        return ({"_exp": gmpy2.exp, "_log": gmpy2.log, "_tanh": gmpy2.tanh, "_atan": gmpy2.atan,
                 "_sigmoid": lambda a: 1 / (1 + gmpy2.exp(-a)),
                 "_softplus": lambda a: gmpy2.log1p(gmpy2.exp(a)) if a < 0
                 else a + gmpy2.log1p(gmpy2.exp(-a))},
                lambda q: gmpy2.mpfr(q.numerator) / q.denominator)
    if backend == "float":
        def sig(a: float) -> float:
            if a >= 0:
                return 1.0 / (1.0 + math.exp(-a))
            e = math.exp(a)
            return e / (1.0 + e)
        return ({"_exp": math.exp, "_log": math.log, "_tanh": math.tanh, "_sigmoid": sig,
                 "_atan": math.atan,
                 "_softplus": lambda a: max(a, 0.0) + math.log1p(math.exp(-abs(a)))},
                lambda q: q.numerator / q.denominator)
    raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")


def _iv_atan(ctx: MPIntervalContext) -> Callable[[object], object]:
    # atan is increasing: [atan lo, atan hi], each endpoint enclosed by the interval atan2.
    def atan(a: object) -> object:
        one = ctx.mpf(1)
        return ctx.mpf([ctx.atan2(ctx.mpf(a.a), one).a, ctx.atan2(ctx.mpf(a.b), one).b])
    return atan


def _iv_tanh(ctx: MPIntervalContext) -> Callable[[object], object]:
    # tanh is increasing: the image of [lo, hi] is [tanh lo, tanh hi]; each endpoint is computed
    # as an interval so that its rounding is enclosed too.
    def tanh(a: object) -> object:
        lo = ctx.mpf(a.a)
        hi = ctx.mpf(a.b)
        t_lo = 1 - 2 / (ctx.exp(2 * lo) + 1)
        t_hi = 1 - 2 / (ctx.exp(2 * hi) + 1)
        return ctx.mpf([t_lo.a, t_hi.b])
    return tanh


@lru_cache(maxsize=256)
def _compiled(digest: str, program: Program) -> tuple[Callable[..., list[object]], list[Fraction]]:
    src, consts = source(program)
    scope: dict[str, object] = {}
    exec(compile(src, f"<kltools program {digest[:12]}>", "exec"), scope)
    return scope["f"], consts  # type: ignore[return-value]


def compile_program(program: Program, backend: str = "mpmath", dps: int = 30
                    ) -> Callable[[Sequence[object], Sequence[object]], list[object]]:
    """A fast evaluator ``f(inputs, switches) -> outputs`` of ``program``.

    Inputs should already be numbers of the backend (use :func:`convert`); Python ints, Fractions
    and floats are accepted and converted exactly (floats by their binary value).
    """
    fn, consts = _compiled(program.digest(), program)
    ns, conv = _namespace(backend, dps)
    if backend == "gmpy2":
        with gmpy2.context(precision=bits_for_dps(dps)):
            k = [conv(q) for q in consts]
    else:
        k = [conv(q) for q in consts]
    fn_globals = dict(fn.__globals__)
    fn_globals.update(ns)
    import types
    bound = types.FunctionType(fn.__code__, fn_globals, "f")
    tag = (backend, dps)

    if backend == "gmpy2":
        gctx = gmpy2.context(precision=bits_for_dps(dps))

        def run(x: Sequence[object], s: Sequence[object] = ()) -> list[object]:
            with gmpy2.context(gctx):
                return bound(x, s, k)
    else:
        def run(x: Sequence[object], s: Sequence[object] = ()) -> list[object]:
            try:
                return bound(x, s, k)
            except ZeroDivisionError:
                # The model's own formula divides by zero here (e.g. a norm of weights that
                # vanish in an arc-cosine kernel): a fact about the model at this point.
                raise IntegrationError(
                    "the model's formula divides by zero at this point (a quantity it divides "
                    "by vanishes there); start elsewhere or use a formula regular there"
                ) from None
    run.tag = tag  # type: ignore[attr-defined]
    return run
