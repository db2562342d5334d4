"""Resource limits: the largest inputs kltools accepts, checked before any allocation.

Every limit has a name, a default sized for a 2-core, 24 GiB machine (where one derivation costs
about 0.7 ms per unit of *work*, see ``work`` below), and is raised for one run by an environment
variable ``KLTOOLS_MAX_<NAME>`` or, on the command line, ``kltools --limit NAME=VALUE ...``; from
Python, ``with limits.override(width=10_000): ...``. A spec over a limit is refused with a
:class:`~kltools.errors.SpecError` that names the field, the limit and how to raise it, before
anything proportional to the offending size is built (lists are measured before their entries
are converted, widths before a graph is made, expressions before SymPy sees them).

=================  =========  ====================================================================
name               default    what it bounds
=================  =========  ====================================================================
``spec_bytes``     16000000   size of a spec file
``width``          4096       units in one layer (a width of ``network.layers``, the number of
                              mean-field particles, the entries of one sample)
``layers``         100        layers of a network (entries of ``network.layers``, the depth of
                              a diagonal network, nodes on a path of a graph network)
``pieces``         100        pieces of one piecewise activation
``parameters``     20000      trainable parameters (also nodes and edges of a graph network)
``samples``        10000      samples in ``[data]``
``work``           200000     samples × (weights + units): the size of the derivation's forward
                              program; about 0.7 ms of symbolic work each, so about two minutes
``expr_chars``     1000000    characters of one expression
``expr_nodes``     200000     syntax-tree nodes of one expression
``expr_depth``     100        nesting depth of an expression (sums and products of many terms
                              count as one level: a 10 000-term sum has depth 2)
``degree``         1000       total degree of an expression as a polynomial in its variables
                              and function calls, e.g. ``(x*y + 1)**600`` has degree 1200
``exponent``       1000       numerator and denominator of a power ``a**(p/q)``
``number_bits``    10000      bits of an exact constant (numerator plus denominator, about
                              3000 decimal digits), including constants an expression computes
                              (``(2**1000)**1000``) and the magnitude of transcendental ones
                              (``exp(exp(1000))``); also the largest number in data or init
=================  =========  ====================================================================
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType

from kltools.errors import SpecError

__all__ = ["LIMITS", "Limit", "check", "exported", "get", "over", "override",
           "parse_assignment"]


@dataclass(frozen=True)
class Limit:
    """One limit: its name, default value and what it counts (for messages)."""

    name: str
    default: int
    counts: str

    @property
    def env(self) -> str:
        """The environment variable that overrides it."""
        return f"KLTOOLS_MAX_{self.name.upper()}"


LIMITS: Mapping[str, Limit] = {lim.name: lim for lim in (
    Limit("spec_bytes", 16_000_000, "bytes in a spec file"),
    Limit("width", 4096, "units in one layer"),
    Limit("layers", 100, "layers"),
    Limit("pieces", 100, "pieces in one activation"),
    Limit("parameters", 20_000, "parameters"),
    Limit("samples", 10_000, "samples"),
    Limit("work", 200_000, "samples × (weights + units)"),
    Limit("expr_chars", 1_000_000, "characters in an expression"),
    Limit("expr_nodes", 200_000, "syntax-tree nodes in an expression"),
    Limit("expr_depth", 100, "levels of nesting"),
    Limit("degree", 1000, "in total degree"),
    Limit("exponent", 1000, "in an exponent's numerator or denominator"),
    Limit("number_bits", 10_000, "bits in an exact constant"),
)}

_OVERRIDES: ContextVar[Mapping[str, int]] = ContextVar(
    "kltools_limits", default=MappingProxyType({}))


def _positive(text: str, where: str) -> int:
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value < 1 or len(text) > 30:
        raise SpecError(f"{where} must be a positive integer, got {text!r}")
    return value


def get(name: str) -> int:
    """The value of limit ``name`` now: an override, else ``KLTOOLS_MAX_<NAME>``, else the
    default."""
    lim = LIMITS[name]
    over = _OVERRIDES.get()
    if name in over:
        return over[name]
    text = os.environ.get(lim.env)
    if text is None or not text.strip():
        return lim.default
    return _positive(text, f"the environment variable {lim.env}")


@contextlib.contextmanager
def override(**values: int) -> Iterator[None]:
    """Raise (or lower) limits inside a ``with`` block: ``override(width=10_000)``."""
    unknown = sorted(set(values) - set(LIMITS))
    if unknown:
        raise SpecError(f"unknown limit(s) {', '.join(unknown)}; the limits are "
                        f"{', '.join(LIMITS)}")
    token = _OVERRIDES.set({**_OVERRIDES.get(), **values})
    try:
        yield
    finally:
        _OVERRIDES.reset(token)


@contextlib.contextmanager
def exported(**values: int) -> Iterator[None]:
    """:func:`override`, and the same values in ``KLTOOLS_MAX_<NAME>`` for the block, so that
    worker processes started inside it (``kltools sweep --workers``) apply them too; the
    environment is restored on exit. This is what ``kltools --limit`` uses."""
    with override(**values):
        saved = {LIMITS[k].env: os.environ.get(LIMITS[k].env) for k in values}
        os.environ.update({LIMITS[k].env: str(v) for k, v in values.items()})
        try:
            yield
        finally:
            for env, old in saved.items():
                if old is None:
                    os.environ.pop(env, None)
                else:
                    os.environ[env] = old


def parse_assignment(text: str) -> tuple[str, int]:
    """``"width=10000"`` as ``("width", 10000)`` (the CLI's ``--limit``), checked."""
    name, sep, value = text.partition("=")
    name = name.strip().lower().replace("-", "_")
    if not sep or name not in LIMITS:
        raise SpecError(f"--limit {text!r}: write NAME=VALUE with NAME one of "
                        f"{', '.join(LIMITS)}")
    return name, _positive(value, f"--limit {name}")


def check(name: str, value: float, path: str = "", what: str = "") -> None:
    """Refuse ``value`` if it exceeds limit ``name``: a :class:`SpecError` at ``path`` saying
    what was asked, the limit and how to raise it."""
    limit = get(name)
    if value <= limit:
        return
    raise SpecError(over(name, value, what), path)


def over(name: str, value: float, what: str = "") -> str:
    """The message for ``value`` over limit ``name`` (``what`` describes the value)."""
    lim = LIMITS[name]
    if math.isinf(value):
        return (f"{what or name} is far too large (limit {name} = {get(name)} {lim.counts}): "
                "no machine can hold it; rewrite the spec")
    need = str(math.ceil(value))
    asked = what or f"{need} {lim.counts}"
    return (f"{asked} is too large (limit {name} = {get(name)} {lim.counts}), refused before "
            f"any work on it; if the machine can take it, raise the limit: {lim.env}={need} or "
            f"kltools --limit {name}={need}")
