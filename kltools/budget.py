"""Run budgets: a wall-clock deadline and a step cap for every integration inside a block.

A command promises to end with an outcome, however stiff the flow or long the horizon. Inside
``with budget(wall_time=W, max_steps=S):`` every integration (however deep: a property's flows, a
``verify`` re-run) runs with ``max_steps = min(its own, S)`` and
``wall_time = min(its own, max(time left before the deadline, MIN_SLICE))``, and so ends with its
wall-clock or step outcome when the budget is spent. The block's deadline is ``W`` seconds after
it is entered; nested blocks keep the tighter deadline and cap. A spent budget still grants each
integration :data:`MIN_SLICE` seconds, so that it records at least its first step; callers that
loop over many integrations check :meth:`Budget.spent` to stop.

The budget lives in a :class:`contextvars.ContextVar`: scoped to the block and to the thread or
task that entered it, never a global setting.

>>> with budget(wall_time=60, max_steps=1000) as b:
...     capped(200_000, None)[0], b.spent()
(1000, False)
>>> capped(200_000, 5.0)  # outside any block: unchanged
(200000, 5.0)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = ["MIN_SLICE", "Budget", "budget", "capped", "current"]

#: Seconds an integration gets even when the budget is spent (its first step, its start point).
MIN_SLICE = 1.0


@dataclass(frozen=True)
class Budget:
    """A wall-clock deadline (``time.monotonic()`` seconds) and a per-integration step cap;
    ``None`` means no limit of that kind."""

    wall_time: float | None
    max_steps: int | None
    deadline: float | None

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once passed), or ``None``."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def spent(self) -> bool:
        """Whether the deadline has passed."""
        left = self.remaining()
        return left is not None and left <= 0

    def to_json(self) -> dict[str, Any]:
        return {"wall_time": self.wall_time, "max_steps": self.max_steps}

    def describe(self) -> str:
        """E.g. ``600 s wall clock, 200000 steps per integration``."""
        wall = "no wall-clock limit" if self.wall_time is None else \
            f"{self.wall_time:g} s wall clock"
        steps = "no step limit" if self.max_steps is None else \
            f"{self.max_steps} steps per integration"
        return f"{wall}, {steps}"


_CURRENT: ContextVar[Budget | None] = ContextVar("kltools_budget", default=None)


def current() -> Budget | None:
    """The budget in force here, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def budget(wall_time: float | None = None, max_steps: int | None = None) -> Iterator[Budget]:
    """Enter a budget of ``wall_time`` seconds from now and ``max_steps`` steps per integration
    (either ``None``: no limit of that kind), within any budget already in force."""
    if wall_time is not None and not wall_time > 0:
        raise ValueError(f"wall_time must be positive seconds, got {wall_time!r}")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    outer = _CURRENT.get()
    deadline = None if wall_time is None else time.monotonic() + wall_time
    if outer is not None:
        if outer.deadline is not None:
            deadline = outer.deadline if deadline is None else min(deadline, outer.deadline)
        if outer.max_steps is not None:
            max_steps = outer.max_steps if max_steps is None else min(max_steps,
                                                                       outer.max_steps)
    b = Budget(wall_time, max_steps, deadline)
    token = _CURRENT.set(b)
    try:
        yield b
    finally:
        _CURRENT.reset(token)


def capped(max_steps: int, wall_time: float | None) -> tuple[int, float | None]:
    """An integration's own ``(max_steps, wall_time)`` limited by the budget in force."""
    b = _CURRENT.get()
    if b is None:
        return max_steps, wall_time
    if b.max_steps is not None:
        max_steps = min(max_steps, b.max_steps)
    left = b.remaining()
    if left is not None:
        left = max(left, MIN_SLICE)
        wall_time = left if wall_time is None else min(wall_time, left)
    return max_steps, wall_time
