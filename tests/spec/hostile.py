"""Hypothesis strategies of hostile input: expressions, names and whole specs.

Payloads try to run code (write a marker file, call ``os.system``), break out of a generated
module (triple quotes, comments, newlines), smuggle names (Unicode confusables, names of Python
built-ins and of the generated module's own variables) or exhaust resources (huge literals,
power towers, deep nesting). ``MARK`` in a payload is replaced by the path of a marker file that
must never be created.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

MARK = "@MARK@"

# Code a spec might try to have executed. None of it may run, whatever it is embedded in.
PAYLOADS = [
    f"__import__('os').system('touch {MARK}')",
    f"open('{MARK}', 'w')",
    f"exec(\"open('{MARK}', 'w')\")",
    f"eval(\"open('{MARK}', 'w')\")",
    "x.__class__.__bases__[0].__subclasses__()",
    f"(lambda: open('{MARK}', 'w'))()",
    f"[open('{MARK}', 'w') for _ in (1,)]",
    f"x if open('{MARK}', 'w') else 1",
    f"f\"{{open('{MARK}', 'w')}}\"",
    "globals()['__builtins__']",
    "getattr(x, 'real')",
    "x[0]",
    "(x := 3)",
    "breakpoint()",
    "print(x)",
    "__builtins__",
    "x.real",
    "*x",
    "yield x",
    "await x",
    "x < 1",
    "x and 1",
    "x ^ 2",
    "x @ x",
    "x % 2",
    "x // 2",
    "~x",
    "not x",
    "1j * x",
    "'x' * 3",
    "None",
    "True * x",
    "...",
]

# Text that tries to escape a docstring, a string literal or a line of generated code.
BREAKOUTS = [
    f'x # """; open(\'{MARK}\', \'w\'); """\n',
    f"x # '''; open('{MARK}', 'w'); '''\n",
    f"(x\n)); open('{MARK}', 'w'); ((x",
    f"x\\\n + 1; open('{MARK}', 'w')",
    f"x\r\nopen('{MARK}', 'w')",
    "x\x00",
    "x # \\",
    f"x; open('{MARK}', 'w')",
    f'"""\nopen(\'{MARK}\', \'w\')\n"""',
    "x\u2028+1",
    "\ufeffx",
]

# Exhaustion attempts: each must be refused from its size alone.
HUGE = [
    "((2**1000)**1000)**1000",
    "9**9**9",
    "1e99999999",
    "1e12345678901234567890123456789012345678901234567890",
    "9" * 5000,
    "exp(exp(exp(1000)))",
    "exp(" * 200 + "x" + ")" * 200,
    "(" * 300 + "x" + ")" * 300,
    "-" * 5000 + "x",
    "(x + 1)**1001",
    "(x*x + 1)**999",
    "2**-1000000",
    "x**(1/1001)",
]

SAFE_FUNCS = ["relu", "abs", "exp", "log", "sigmoid", "tanh", "softplus", "sqrt"]

# Declared names: ordinary, Python built-ins, names the generated module uses itself,
# Unicode names (NFKC-distinct and NFKC-equal to another).
NAMES = ["x", "y", "a", "w1", "os", "sys", "open", "exec", "loss", "gradient", "theta", "ctx",
         "p0", "s0", "b0", "Fraction", "MPContext", "PARAMETERS", "switches", "ｘ", "ﬁ",
         "θ", "β2", "µ", "Å"]


@st.composite
def safe_expressions(draw: Any, names: list[str], depth: int = 3) -> str:
    """Valid-looking expressions over ``names`` (small: their derivations are fast)."""
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from([*names, "1", "2", "0.5", "1/3", "3"]))
    kind = draw(st.sampled_from(["op", "op", "call", "pow"]))
    a = draw(safe_expressions(names, depth - 1))
    if kind == "call":
        return f"{draw(st.sampled_from(SAFE_FUNCS))}({a})"
    if kind == "pow":
        return f"({a})**{draw(st.sampled_from(['2', '3', '-1', '1/2']))}"
    b = draw(safe_expressions(names, depth - 1))
    return f"({a} {draw(st.sampled_from(['+', '-', '*', '/']))} {b})"


@st.composite
def hostile_expressions(draw: Any, names: list[str]) -> tuple[str, bool]:
    """An expression with a payload, a break-out or an exhaustion attempt somewhere in it, and
    whether it must be refused: a code payload or an exhaustion attempt kept whole (alone, as a
    term, as an argument) always must; glued to other text it may become something else, and
    a break-out may be a mere comment, which is inert."""
    base = draw(safe_expressions(names, 2))
    evil = draw(st.sampled_from(PAYLOADS + BREAKOUTS + HUGE))
    how = draw(st.sampled_from(["alone", "plus", "arg", "prefix", "suffix"]))
    whole = how in ("alone", "plus", "arg") and evil not in BREAKOUTS
    if how == "alone":
        return evil, whole
    if how == "plus":
        return f"{base} + {evil}", whole
    if how == "arg":
        return f"{draw(st.sampled_from(SAFE_FUNCS))}({evil})", whole
    if how == "prefix":
        return evil + base, whole
    return base + evil, whole


@st.composite
def hostile_objective_specs(draw: Any) -> tuple[dict[str, Any], bool]:
    """A TOML document (as a dict) of an objective with hostile names and expression, and
    whether kltools must refuse it (see :func:`hostile_expressions`)."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    # Mostly hostile; one in four valid, so that generated modules are imported too.
    expr, must_refuse = (draw(hostile_expressions(names)) if draw(st.integers(0, 3)) else
                         (draw(safe_expressions(names)), False))
    doc: dict[str, Any] = {"objective": {"expr": expr, "vars": names}}
    if draw(st.booleans()):
        doc["name"] = draw(st.sampled_from(BREAKOUTS + PAYLOADS))
    return doc, must_refuse


class BudgetExceededError(Exception):
    """A case used more CPU time than its budget (a hang guard, not a timing assertion)."""


@contextlib.contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`BudgetExceededError` in the block once the process has used ``seconds`` of
    CPU time in it (``ITIMER_PROF``: user + system time, unaffected by a loaded machine)."""

    def over(signum: int, frame: object) -> None:
        raise BudgetExceededError(f"over the CPU budget of {seconds} s")

    old = signal.signal(signal.SIGPROF, over)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def with_mark(value: Any, mark: str) -> Any:
    """``value`` (a spec document) with every ``MARK`` replaced by the marker path."""
    if isinstance(value, str):
        return value.replace(MARK, mark)
    if isinstance(value, list):
        return [with_mark(v, mark) for v in value]
    if isinstance(value, dict):
        return {k: with_mark(v, mark) for k, v in value.items()}
    return value


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}
