"""Kinks as explicit switches.

Every non-differentiable place of a model is turned into a *switch* χ ∈ {0, 1} together with its
*kink surface* s(θ) (a :class:`Switch`): χ = 1 where s > 0, χ = 0 where s < 0. Between events the
switches are constants and the model is smooth (a polynomial for piecewise-polynomial models).

On the surface itself (s = 0) the value of χ is the caller's explicit choice, a
:class:`KinkConvention`:

* ``ERROR``: refuse (the default: the flow is not defined by the model alone there);
* ``RIGHT``: χ = 1 (the piece of s ≥ 0, e.g. relu'(0) = 1);
* ``LEFT``: χ = 0 (the piece of s ≤ 0, e.g. relu'(0) = 0);
* ``FILIPPOV``: for flows, the side the flow actually moves into (or a sliding mode when both
  sides push into the surface), decided by the integrator from the vector fields on both sides;
  :func:`switch_values` alone, which sees no vector field, gives χ = 1 for it.

Filippov / minimal-norm Clarke elements, which need the vector field on both sides, are chosen by
the integrator (:mod:`kltools.integrate`), never here. SymPy's ``Heaviside(0) = 1/2`` is never
used: a kink is always rewritten before anything is differentiated.

Rewriting rules for objectives (applied innermost first):
``Max(a, b) = b + χ(a − b)`` with s = a − b; ``Min(a, b) = b + χ(a − b)`` with s = b − a;
``Abs(e) = (2χ − 1)e`` with s = e.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kltools.errors import DerivationError

if TYPE_CHECKING:  # imported in switchify: KinkConvention is needed without SymPy
    import sympy as sp

__all__ = ["KinkConvention", "Switch", "switch_values", "switchify"]


class KinkConvention(enum.Enum):
    """The value a switch takes when its surface is exactly zero."""

    ERROR = "error"
    RIGHT = "right"
    LEFT = "left"
    FILIPPOV = "filippov"


@dataclass(frozen=True)
class Switch:
    """A switch χ and its kink surface.

    Attributes
    ----------
    symbol
        The switch symbol χ (a SymPy symbol named ``chi_...``).
    surface
        s, an expression in parameters, earlier switches and derivation block symbols; the kink
        is {s = 0}, χ = [s > 0] off it.
    label
        Human-readable origin, e.g. ``h1_2 at sample 3: z = 0``.
    """

    symbol: sp.Symbol
    surface: sp.Expr
    label: str


def switchify(expr: sp.Expr, prefix: str = "chi") -> tuple[sp.Expr, list[Switch]]:
    """Rewrite every ``Max``, ``Min`` and ``Abs`` in ``expr`` with switches (module docstring).

    >>> from kltools.spec.expr import parse_expression, real_symbol
    >>> x = real_symbol("x")
    >>> e, sw = switchify(parse_expression("relu(x - 1)**2", [x]))
    >>> e, sw[0].surface
    (chi1**2*(x - 1)**2, x - 1)
    """
    import sympy as sp

    switches: list[Switch] = []

    def new(surface: sp.Expr, label: str) -> sp.Symbol:
        chi = sp.Symbol(f"{prefix}{len(switches) + 1}", real=True)
        switches.append(Switch(chi, surface, label))
        return chi

    def walk(e: sp.Basic) -> sp.Basic:
        if not e.args:
            return e
        args = [walk(a) for a in e.args]
        if isinstance(e, sp.Max | sp.Min):
            # Constants last, so relu(e) = Max(e, 0) gets the surface e (not -e) and χ = 1 on the
            # active side, as for network units.
            args.sort(key=lambda a: a.is_number)
            acc = args[0]
            for b in args[1:]:
                surface = acc - b if isinstance(e, sp.Max) else b - acc
                chi = new(surface, f"{type(e).__name__}({acc}, {b})")
                acc = b + chi * (acc - b)
            return acc
        if isinstance(e, sp.Abs):
            chi = new(args[0], f"Abs({args[0]})")
            return (2 * chi - 1) * args[0]
        if isinstance(e, sp.Heaviside | sp.sign | sp.Piecewise):
            raise DerivationError(
                f"{type(e).__name__} has a convention at 0 kltools does not inherit; write the "
                "objective with relu, abs, Max or Min")
        return e.func(*args)

    return walk(expr), switches


def switch_values(surface_values: Sequence[object], convention: KinkConvention,
                  labels: Sequence[str] = ()) -> list[int]:
    """χ from the sign of each surface value, with ``convention`` on zeros."""
    out = []
    for i, s in enumerate(surface_values):
        if s > 0:
            out.append(1)
        elif s < 0:
            out.append(0)
        elif convention in (KinkConvention.RIGHT, KinkConvention.FILIPPOV):
            out.append(1)
        elif convention is KinkConvention.LEFT:
            out.append(0)
        else:
            where = labels[i] if i < len(labels) else f"switch {i + 1}"
            raise DerivationError(
                f"the point lies on a kink ({where}) where the model is not differentiable; "
                "choose a kink convention (right, left, filippov) or move the point")
    return out
