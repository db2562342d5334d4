"""The named outputs of a flow program: the one place that knows their positions.

A flow program computes, in this order, the vector field ``F_1..F_P`` (the state comes first, as
the Taylor integrator requires), the loss ``L``, the kink surfaces ``s_1..s_m``, then optional
outputs: the precision monitor, and on a Filippov sliding mode the weight ``α`` and ``1 − α``.
Everything else reads positions from :class:`FlowLayout`, never by arithmetic of its own.

>>> lay = FlowLayout(n=3, m=2)
>>> lay.loss, lay.surfaces, lay.monitor, lay.alpha, lay.one_minus_alpha
(3, (4, 5), 6, 7, 8)
>>> lay.surface_of(5), lay.surface_of(6)
(1, None)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FlowLayout"]


@dataclass(frozen=True)
class FlowLayout:
    """Output positions of a flow program with ``n`` parameters and ``m`` kink surfaces."""

    n: int
    m: int

    @property
    def field(self) -> range:
        """The vector field ``F`` (the state's derivative)."""
        return range(self.n)

    @property
    def loss(self) -> int:
        return self.n

    @property
    def surfaces(self) -> tuple[int, ...]:
        return tuple(range(self.n + 1, self.n + 1 + self.m))

    @property
    def monitor(self) -> int:
        """The precision monitor ``c‖F‖² − 1``."""
        return self.n + 1 + self.m

    @property
    def alpha(self) -> int:
        """On a sliding program: ``α`` (the mode ends when it reaches 0)."""
        return self.monitor + 1

    @property
    def one_minus_alpha(self) -> int:
        """On a sliding program: ``1 − α`` (the mode ends when it reaches 0, i.e. α = 1)."""
        return self.monitor + 2

    def surface_of(self, output: int) -> int | None:
        """The surface index ``k`` of a surface output, None for any other output."""
        k = output - self.n - 1
        return k if 0 <= k < self.m else None
