"""Max-pooling nodes as a chain of switches.

max(t_1, …, t_m) is built left to right: m_1 = t_1, m_j = m_{j−1} + χ_j (t_j − m_{j−1}) with the
switch χ_j = [t_j − m_{j−1} ≥ 0] on the surface t_j = m_{j−1}. Each surface is a tie between two
candidates, and it is a kink like any other: the integrator locates it, and crosses it or slides
on it (Filippov) as the fields on both sides dictate. The value is continuous across each tie, so
a constant term (a tie that cannot move) is decided once, as for constant pre-activations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from kltools.symbolic.kinks import Switch

__all__ = ["max_pool"]


def max_pool(terms: Sequence[sp.Expr], block: Callable[[str, sp.Expr], sp.Expr],
             switches: list[Switch], name: str, label: str) -> sp.Expr:
    """max over ``terms``, appending one :class:`Switch` per comparison to ``switches``
    (named ``chi_<name>_m<j>``); intermediate maxima are blocks ``m_<name>_<j>``."""
    m = terms[0]
    for j, t in enumerate(terms[1:], start=2):
        gap = t - m
        if gap.is_number:
            chi: sp.Expr = sp.Integer(1 if gap >= 0 else 0)
        else:
            chi = sp.Symbol(f"chi_{name}_m{j}", real=True)
            switches.append(Switch(chi, gap, f"{label}: tie of input {j} with the max so far"))
        m = block(f"m_{name}_{j}", m + chi * gap)
    return m
